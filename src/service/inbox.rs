//! Incoming activities, after `federation::signatures::receive_signed` verified the digest, the
//! HTTP signature (with the actor's key, fetching the actor when unknown) and our origin checks:
//! each is handed to the service that owns what it changes.

use activitypub_federation::fetch::object_id::ObjectId;

use crate::federation::activities::InboxActivity;
use crate::federation::actor::ApAccount;
use crate::federation::context::FedData;
use crate::service::{conversations, relationships, statuses, stories};

/// Acts on a verified activity, then records its receipt (`received_activities`) so that a
/// repeated delivery is acknowledged without being processed again. A new status's receipt is
/// written in the status's own transaction.
///
/// Errors: what the owning service refuses; the receipt is then not recorded, so the sender's
/// retry is processed afresh.
pub async fn receive(activity: InboxActivity, data: &FedData) -> anyhow::Result<()> {
    use activitypub_federation::traits::Activity;
    let id = activity.id().to_string();
    if !act(activity, data, &id).await?
        && let Err(e) = crate::storage::deliveries::record_receipt(&data.db, &id).await
    {
        tracing::warn!(error = ?e, "could not record a processed activity");
    }
    Ok(())
}

/// Dispatches `activity` (with ID `id`) to its service. Returns whether its receipt was recorded
/// along the way.
async fn act(activity: InboxActivity, data: &FedData, id: &str) -> anyhow::Result<bool> {
    let actor_id = activitypub_federation::traits::Activity::actor(&activity).clone();
    let actor = ObjectId::<ApAccount>::from(actor_id)
        .dereference(data)
        .await?
        .row;
    // A suspended account is heard from no more (its Delete of itself aside).
    if actor.suspended_at.is_some() && !matches!(activity, InboxActivity::Delete(_)) {
        tracing::debug!(actor = %actor.uri, "activity from a suspended account dropped");
        return Ok(false);
    }
    let done = match activity {
        InboxActivity::Flag(f) => crate::service::moderation::receive_flag(data, &actor, f).await,
        InboxActivity::Follow(f) => relationships::receive_follow(data, &actor, &f).await,
        InboxActivity::Accept(a) => relationships::receive_answer(data, &actor, &a, true).await,
        InboxActivity::Reject(a) => relationships::receive_answer(data, &actor, &a, false).await,
        InboxActivity::Undo(u) => match u.object.kind() {
            Some("Follow") | None => relationships::receive_undo_follow(data, &actor, &u).await,
            Some("Like") => match u.object.url_field("object") {
                Some(object) => statuses::receive_like(data, &actor, &object, false).await,
                None => Ok(()),
            },
            Some("Announce") => match u.object.id() {
                Some(id) => statuses::receive_undo_announce(data, &actor, &id).await,
                None => Ok(()),
            },
            Some("Block") => match u.object.url_field("object") {
                Some(object) => relationships::receive_block(data, &actor, &object, false).await,
                None => Ok(()),
            },
            Some(other) => {
                tracing::debug!(kind = other, "ignoring Undo of an unhandled activity type");
                Ok(())
            }
        },
        InboxActivity::Like(l) => {
            let object = serde_json::Value::String(l.object.to_string());
            if stories::receive_reaction(data, &actor, &object, None).await? {
                return Ok(false);
            }
            statuses::receive_like(data, &actor, &l.object, true).await
        }
        InboxActivity::Read(r) => conversations::receive_read(data, &actor, &r.object).await,
        InboxActivity::Add(a) => match a.object.get("type").and_then(|t| t.as_str()) {
            Some("Story") => stories::receive_add(data, &actor, &a.object).await,
            // Mastodon's featured-collection Adds (pins) are not followed here.
            _ => Ok(()),
        },
        InboxActivity::View(v) => stories::receive_view(data, &actor, &v.object).await,
        InboxActivity::EmojiReact(r) => {
            stories::receive_reaction(data, &actor, &r.object, r.content.as_deref())
                .await
                .map(|_| ())
        }
        InboxActivity::StoryReaction(r) => {
            let object = serde_json::json!(r.in_reply_to);
            stories::receive_reaction(data, &actor, &object, r.content.as_deref())
                .await
                .map(|_| ())
        }
        InboxActivity::StoryReply(r) => {
            // Pixelfed's reply is a bare activity; it becomes the direct Note it stands for.
            let note = serde_json::json!({
                "id": r.id,
                "type": "Note",
                "attributedTo": r.actor,
                "to": r.to,
                "content": r.content.clone().unwrap_or_default(),
                "inReplyTo": r.in_reply_to,
                "published": r.published,
            });
            let note: crate::federation::protocol::note::Note = serde_json::from_value(note)?;
            return statuses::receive_note(data, &actor, note, id).await;
        }
        InboxActivity::Announce(a) => statuses::receive_announce(data, &actor, a).await,
        InboxActivity::Block(b) => {
            relationships::receive_block(data, &actor, &b.object, true).await
        }
        InboxActivity::Update(u) => match u.object.get("type").and_then(|t| t.as_str()) {
            Some("Note") | Some("Question") | Some("Article") => {
                let note: crate::federation::protocol::note::Note =
                    serde_json::from_value(u.object)?;
                anyhow::ensure!(
                    note.attributed_to == u.actor,
                    "an edit must be by the Note's author"
                );
                statuses::receive_update_note(data, &actor, note).await
            }
            Some("Person") | Some("Service") | Some("Application") | Some("Group")
            | Some("Organization") => {
                let person: crate::federation::protocol::actor::Person =
                    serde_json::from_value(u.object)?;
                anyhow::ensure!(person.id == u.actor, "an actor can only update itself");
                use activitypub_federation::traits::Object;
                ApAccount::verify(&person, &u.actor, data).await?;
                ApAccount::from_json(person, data).await?;
                Ok(())
            }
            _ => Ok(()),
        },
        InboxActivity::Create(c) => {
            return statuses::receive_note(data, &actor, c.object, id).await;
        }
        InboxActivity::Delete(d) => match d.object.id() {
            // An actor deleting itself: the account and everything of it goes.
            Some(id) if id.as_str() == actor.uri => {
                let gone = crate::storage::accounts::delete_remote(&data.db, actor.id).await?;
                tracing::info!(actor = %actor.uri, statuses = gone.len(), "remote account deleted");
                Ok(())
            }
            Some(id) => {
                if stories::receive_delete(data, &actor, id.as_str()).await? {
                    return Ok(false);
                }
                statuses::receive_delete(data, &actor, &id).await
            }
            None => Ok(()),
        },
    };
    done.map(|()| false)
}
