//! `Block` of a local account by a remote one.

use crate::federation::protocol::activities::Block;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::relationships;

/// Ends follows both ways and records the block, as Mastodon does.
pub(super) async fn receive(
    data: &FedData,
    actor: &AccountRow,
    block: &Block,
) -> anyhow::Result<bool> {
    relationships::receive_block(data, actor, &block.object, true).await?;
    Ok(false)
}
