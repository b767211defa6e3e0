//! `Like` of a status here, or (as Pixelfed and others react to stories) of a story.

use crate::federation::protocol::activities::Like;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::{statuses, stories};

/// A like of a story becomes a reaction to it; otherwise the status gains a favourite.
pub(super) async fn receive(
    data: &FedData,
    actor: &AccountRow,
    like: &Like,
) -> anyhow::Result<bool> {
    let object = serde_json::Value::String(like.object.to_string());
    if !stories::receive_reaction(data, actor, &object, None).await? {
        statuses::receive_like(data, actor, &like.object, true).await?;
    }
    Ok(false)
}
