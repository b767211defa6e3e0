//! `Flag`: a report forwarded by another server's moderators.

use crate::federation::protocol::activities::Flag;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::moderation;

/// The moderation service keeps only the parts that name things here.
pub(super) async fn receive(
    data: &FedData,
    actor: &AccountRow,
    flag: Flag,
) -> anyhow::Result<bool> {
    moderation::receive_flag(data, actor, flag).await?;
    Ok(false)
}
