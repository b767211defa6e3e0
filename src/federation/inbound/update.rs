//! `Update` of a Note (an edit) or of an actor (a profile change).

use activitypub_federation::traits::Object;
use serde_json::Value;
use url::Url;

use crate::federation::origin::same_origin;
use crate::federation::protocol::activities::Update;
use crate::federation::protocol::actor::Person;
use crate::federation::protocol::note::Note;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::FedData;
use crate::service::statuses;

/// Only the actor's own server's objects can be updated.
pub(super) fn verify(update: &Update) -> anyhow::Result<()> {
    let id = update
        .object
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok())
        .ok_or_else(|| anyhow::anyhow!("Update without an object id"))?;
    anyhow::ensure!(
        same_origin(&id, &update.actor),
        "cannot update another server's object"
    );
    Ok(())
}

/// An edit must be by the Note's author; an actor can only update itself, and the new document
/// is checked as a fetched one is. Updates of other object types are ignored.
pub(super) async fn receive(
    data: &FedData,
    actor: &AccountRow,
    update: Update,
) -> anyhow::Result<bool> {
    match update.object.get("type").and_then(Value::as_str) {
        Some("Note") | Some("Question") | Some("Article") => {
            let note: Note = serde_json::from_value(update.object)?;
            anyhow::ensure!(
                note.attributed_to == update.actor,
                "an edit must be by the Note's author"
            );
            statuses::receive_update_note(data, actor, note).await?;
        }
        Some("Person") | Some("Service") | Some("Application") | Some("Group")
        | Some("Organization") => {
            let person: Person = serde_json::from_value(update.object)?;
            anyhow::ensure!(person.id == update.actor, "an actor can only update itself");
            ApAccount::verify(&person, &update.actor, data).await?;
            ApAccount::from_json(person, data).await?;
        }
        other => tracing::debug!(kind = ?other, "ignoring an Update of an unhandled object type"),
    }
    Ok(false)
}
