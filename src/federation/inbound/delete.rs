//! `Delete` of an actor (itself), a story, a quote's stamp or a Note.

use crate::federation::origin::same_origin;
use crate::federation::protocol::activities::Delete;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::{accounts, statuses, stories};

/// Only the actor's own server's objects can be deleted.
pub(super) fn verify(delete: &Delete) -> anyhow::Result<()> {
    let id = delete
        .object
        .id()
        .ok_or_else(|| anyhow::anyhow!("Delete without an object id"))?;
    anyhow::ensure!(
        same_origin(&id, &delete.actor),
        "cannot delete another server's object"
    );
    Ok(())
}

/// An actor deleting itself takes the account and everything of it; otherwise the object is a
/// story or a status of the actor's (anything else is ignored).
pub(super) async fn receive(
    data: &FedData,
    actor: &AccountRow,
    delete: &Delete,
) -> anyhow::Result<bool> {
    match delete.object.id() {
        Some(id) if id.as_str() == actor.uri => {
            accounts::delete_remote(data, actor).await?;
            Ok(false)
        }
        Some(id) => {
            if stories::receive_delete(data, actor, id.as_str()).await? {
                return Ok(false);
            }
            if crate::service::quotes::inbound::receive_stamp_delete(data, actor, id.as_str())
                .await?
            {
                return Ok(false);
            }
            statuses::receive_delete(data, actor, &id).await?;
            Ok(false)
        }
        None => Ok(false),
    }
}
