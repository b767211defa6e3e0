//! `Announce` (a boost) of a status, fetched when we have not seen it.

use crate::federation::protocol::activities::Announce;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::statuses;

/// The statuses service stores the boost when it concerns someone here.
pub(super) async fn receive(
    data: &FedData,
    actor: &AccountRow,
    announce: Announce,
) -> anyhow::Result<bool> {
    statuses::receive_announce(data, actor, announce).await?;
    Ok(false)
}
