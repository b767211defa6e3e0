//! `Undo` of an earlier activity of the actor's: a Follow, Like, Announce or Block.

use crate::federation::origin::same_origin;
use crate::federation::protocol::activities::Answer;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::{relationships, statuses};

/// Only the actor's own server's activities can be taken back.
pub(super) fn verify(undo: &Answer) -> anyhow::Result<()> {
    let id = undo
        .object
        .id()
        .ok_or_else(|| anyhow::anyhow!("Undo without an object id"))?;
    anyhow::ensure!(
        same_origin(&id, &undo.actor),
        "cannot undo another server's activity"
    );
    Ok(())
}

/// Takes back what the undone activity did; an Undo given by ID only is read as an unfollow, as
/// Mastodon sends no other kind that way. Undo of other types is ignored.
pub(super) async fn receive(
    data: &FedData,
    actor: &AccountRow,
    undo: &Answer,
) -> anyhow::Result<bool> {
    match undo.object.kind() {
        Some("Follow") | None => relationships::receive_undo_follow(data, actor, undo).await?,
        Some("Like") => {
            if let Some(object) = undo.object.url_field("object") {
                statuses::receive_like(data, actor, &object, false).await?;
            }
        }
        Some("Announce") => {
            if let Some(id) = undo.object.id() {
                statuses::receive_undo_announce(data, actor, &id).await?;
            }
        }
        Some("Block") => {
            if let Some(object) = undo.object.url_field("object") {
                relationships::receive_block(data, actor, &object, false).await?;
            }
        }
        Some(other) => {
            tracing::debug!(kind = other, "ignoring Undo of an unhandled activity type");
        }
    }
    Ok(false)
}
