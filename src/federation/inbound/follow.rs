//! `Follow` of a local account, and `Accept` / `Reject` of a follow request or a `QuoteRequest`
//! we sent.

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

/// The answer to a follow or a quote request we sent: `accepted` for `Accept`, false for
/// `Reject`.
pub(super) async fn receive_answer(
    data: &FedData,
    actor: &AccountRow,
    answer: &Answer,
    accepted: bool,
) -> anyhow::Result<bool> {
    let doc = serde_json::to_value(answer)?;
    if crate::service::quotes::inbound::receive_answer(data, actor, &doc, accepted).await? {
        return Ok(false);
    }
    relationships::receive_answer(data, actor, answer, accepted).await?;
    Ok(false)
}
