//! `Follow` of a local account, and `Accept` / `Reject` of a follow request we sent.

use crate::federation::protocol::activities::{Answer, Follow};
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::relationships;

/// A follow of someone here: accepted at once, or a request for a locked account.
pub(super) async fn receive_follow(
    data: &FedData,
    actor: &AccountRow,
    follow: &Follow,
) -> anyhow::Result<bool> {
    relationships::receive_follow(data, actor, follow).await?;
    Ok(false)
}

/// The answer to a follow we sent: `accepted` for `Accept`, false for `Reject`.
pub(super) async fn receive_answer(
    data: &FedData,
    actor: &AccountRow,
    answer: &Answer,
    accepted: bool,
) -> anyhow::Result<bool> {
    relationships::receive_answer(data, actor, answer, accepted).await?;
    Ok(false)
}
