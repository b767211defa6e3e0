//! Incoming activities, after `activitypub_federation` verified the digest, the HTTP signature
//! (with the actor's key, fetching the actor when unknown) and our origin checks: each is handed
//! to the service that owns what it changes.

use activitypub_federation::fetch::object_id::ObjectId;

use crate::federation::activities::InboxActivity;
use crate::federation::actor::ApAccount;
use crate::federation::context::FedData;
use crate::service::{relationships, statuses};

pub async fn receive(activity: InboxActivity, data: &FedData) -> anyhow::Result<()> {
    let actor_id = activitypub_federation::traits::Activity::actor(&activity).clone();
    let actor = ObjectId::<ApAccount>::from(actor_id)
        .dereference(data)
        .await?
        .row;
    match activity {
        InboxActivity::Follow(f) => relationships::receive_follow(data, &actor, &f).await,
        InboxActivity::Accept(a) => relationships::receive_answer(data, &actor, &a, true).await,
        InboxActivity::Reject(a) => relationships::receive_answer(data, &actor, &a, false).await,
        InboxActivity::Undo(u) => match u.object.kind() {
            Some("Follow") | None => relationships::receive_undo_follow(data, &actor, &u).await,
            Some(other) => {
                tracing::debug!(kind = other, "ignoring Undo of an unhandled activity type");
                Ok(())
            }
        },
        InboxActivity::Create(c) => statuses::receive_note(data, &actor, c.object).await,
        InboxActivity::Delete(d) => match d.object.id() {
            Some(id) => statuses::receive_delete(data, &actor, &id).await,
            None => Ok(()),
        },
    }
}
