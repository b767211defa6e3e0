//! Rooms across servers (issue 29; docs/FEDERATION.md, "Rooms"). A room lives on its host, where
//! it is a members-only `Group` actor; what its members do reaches everyone through it:
//! - on the host, a change made here goes out from the room to every remote member's server
//!   (`Invite`, `Add`, `Remove`, `Update`, `Delete`, and each message as an `Announce` of its
//!   `Create`, FEP-1b12), and what a remote member sends to the room's inbox (`Create`, `Delete`,
//!   `Accept`/`Reject` of an invitation, `Leave`, `Remove`) is checked against the room's members
//!   and roles, applied, and relayed the same way;
//! - on a member's server, the room is a copy (`rooms.local` false, with the host's inbox) kept
//!   for its local members: the room's activities update it, and what a local member does is
//!   applied to the copy at once and sent to the host.
//!
//! Invitations, room settings, roles and mutes are made on the host; a remote admin removes
//! members and deletes messages.

use activitypub_federation::fetch::object_id::ObjectId;
use chrono::Utc;
use serde_json::{Value, json};
use sqlx::types::Json;

use super::{MAX_MEMBERS, changed, invited, messages_entities, publish};
use crate::error::{AppError, AppResult};
use crate::federation::origin::authority;
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::FedData;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::ids;
use crate::storage::rooms::{self as store, MemberRow, MessageRow, RoomRow};

/// Most unknown member actors fetched while reading one room document; the rest wait for the
/// room's next `Update` or `Add` (logged).
const MAX_FETCHES: usize = 20;
/// Longest message content accepted from another server, in bytes of HTML.
const MAX_REMOTE_CONTENT: usize = 64 * 1024;

/// A fresh activity ID under `base` (a room or an actor URI).
fn activity_id(base: &str) -> String {
    format!("{base}/activities/{}", ids::new_id())
}

async fn key_pair(state: &AppState, room: i64) -> AppResult<(String, String)> {
    if let Some(k) = store::keys(&state.db, room).await? {
        return Ok(k);
    }
    let pair = tokio::task::spawn_blocking(
        activitypub_federation::http_signatures::generate_actor_keypair,
    )
    .await
    .map_err(anyhow::Error::from)?
    .map_err(|e| anyhow::anyhow!("generating a key pair: {e}"))?;
    store::set_keys_if_missing(&state.db, room, &pair.public_key, &pair.private_key).await?;
    store::keys(&state.db, room)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the room's key pair was not stored").into())
}

/// The room `room_id` hosted here as the actor that signs what it sends (its key pair made on
/// first use). `None` when the room is gone or hosted elsewhere.
pub async fn signer(state: &AppState, room_id: i64) -> AppResult<Option<ApAccount>> {
    let Some(room) = store::find(&state.db, room_id).await? else {
        return Ok(None);
    };
    if !room.local {
        return Ok(None);
    }
    let (public, private) = key_pair(state, room.id).await?;
    let inbox = format!("{}/inbox", room.uri);
    Ok(Some(ApAccount::group(
        &room.uri, &room.name, &inbox, &public, &private,
    )?))
}

/// The `Group` document of `room` (hosted here): name, topic (`summary`), owner
/// (`attributedTo`), admins (`moderators`) and joined members (`members`), inline.
pub async fn group(state: &AppState, room: &RoomRow) -> AppResult<Value> {
    let (public, _) = key_pair(state, room.id).await?;
    let members = store::members(&state.db, room.id).await?;
    let joined: Vec<&MemberRow> = members.iter().filter(|m| m.joined()).collect();
    let ids: Vec<i64> = joined.iter().map(|m| m.account_id).collect();
    let found = accounts::find_accounts(&state.db, &ids).await?;
    let uri_of = |id: i64| found.iter().find(|a| a.id == id).map(|a| a.uri.clone());
    let with_role = |role: &str| -> Vec<String> {
        joined
            .iter()
            .filter(|m| m.role == role)
            .filter_map(|m| uri_of(m.account_id))
            .collect()
    };
    let owner = with_role("owner").pop();
    let admins = with_role("admin");
    let all: Vec<String> = joined.iter().filter_map(|m| uri_of(m.account_id)).collect();
    Ok(json!({
        "id": room.uri,
        "type": "Group",
        "preferredUsername": format!("room_{}", room.id),
        "name": room.name,
        "summary": crate::text::escape(&room.topic),
        "inbox": format!("{}/inbox", room.uri),
        "attributedTo": owner,
        "members": {
            "id": format!("{}/members", room.uri),
            "type": "OrderedCollection",
            "totalItems": all.len(),
            "orderedItems": all,
        },
        "moderators": {
            "id": format!("{}/moderators", room.uri),
            "type": "OrderedCollection",
            "totalItems": admins.len(),
            "orderedItems": admins,
        },
        "publicKey": {
            "id": format!("{}#main-key", room.uri),
            "owner": room.uri,
            "publicKeyPem": public,
        },
        "manuallyApprovesFollowers": true,
        "discoverable": false,
        "indexable": false,
        "published": room.created_at,
        "updated": room.updated_at,
    }))
}

/// `GET /rooms/:id` as ActivityPub: the room's `Group` document, for a fetch signed by an actor on
/// a server where a member or invitee of the room lives (that server's instance actor, typically).
/// Errors: 404 for anyone else, an unsigned fetch, or no such room hosted here.
pub async fn fetch_group(
    state: &AppState,
    id: &str,
    signer: Option<&AccountRow>,
) -> AppResult<Value> {
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let room = store::find(&state.db, id)
        .await?
        .filter(|r| r.local)
        .ok_or(AppError::NotFound)?;
    let host = signer
        .and_then(|s| url::Url::parse(&s.uri).ok())
        .and_then(|u| authority(&u))
        .ok_or(AppError::NotFound)?;
    let members = store::members(&state.db, room.id).await?;
    let ids: Vec<i64> = members.iter().map(|m| m.account_id).collect();
    let found = accounts::find_accounts(&state.db, &ids).await?;
    if !found
        .iter()
        .any(|a| a.domain.as_deref() == Some(host.as_str()))
    {
        return Err(AppError::NotFound);
    }
    group(state, &room).await
}

/// Queues `activity` from `room` (hosted here) to the servers of its remote members and of
/// `also`, except `skip` (a server that already has it).
async fn from_room(
    state: &AppState,
    room: &RoomRow,
    mut activity: Value,
    also: &[&AccountRow],
    skip: Option<&str>,
) -> AppResult<()> {
    let mut inboxes = Vec::new();
    let mut to = Vec::new();
    for (domain, inbox) in store::remote_inboxes(&state.db, room.id).await? {
        if skip != Some(domain.as_str()) {
            inboxes.push(inbox);
        }
    }
    for a in also {
        if a.domain.is_some()
            && let Some(inbox) = a.shared_inbox_url.clone().or_else(|| a.inbox_url.clone())
        {
            inboxes.push(inbox);
            to.push(a.uri.clone());
        }
    }
    if inboxes.is_empty() {
        return Ok(());
    }
    let members = store::members(&state.db, room.id).await?;
    let ids: Vec<i64> = members
        .iter()
        .filter(|m| m.joined())
        .map(|m| m.account_id)
        .collect();
    for a in accounts::find_accounts(&state.db, &ids).await? {
        if a.domain.is_some() && !to.contains(&a.uri) {
            to.push(a.uri);
        }
    }
    activity["to"] = json!(to);
    enqueue(state, room, &members, &activity, &inboxes).await
}

/// Queues `activity` from `room` (hosted here; `members` its members) to `inboxes`. The rows name
/// the owner's account (any member's, should the owner's account be gone): the room's key signs.
async fn enqueue(
    state: &AppState,
    room: &RoomRow,
    members: &[MemberRow],
    activity: &Value,
    inboxes: &[String],
) -> AppResult<()> {
    let Some(named) = members
        .iter()
        .find(|m| m.role == "owner")
        .or_else(|| members.first())
    else {
        return Ok(());
    };
    let mut tx = state.db.begin().await?;
    crate::service::delivery::enqueue_from_room(
        &mut tx,
        activity,
        room.id,
        named.account_id,
        inboxes,
    )
    .await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

/// Queues `activity` from local member `me` to the inbox of `room` (hosted elsewhere).
async fn to_host(state: &AppState, room: &RoomRow, me: i64, activity: Value) -> AppResult<()> {
    let Some(inbox) = room.inbox_url.clone() else {
        return Err(anyhow::anyhow!("room {} has no inbox", room.id).into());
    };
    let mut tx = state.db.begin().await?;
    crate::service::delivery::enqueue(&mut tx, &activity, me, &[inbox], None).await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

async fn account(state: &AppState, id: i64) -> AppResult<AccountRow> {
    accounts::find_account(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

// What the host sends, after a change made here.

/// `invitee` (on another server) is invited to `room`: an `Invite` with the room's document.
pub async fn send_invite(state: &AppState, room: &RoomRow, invitee: &AccountRow) -> AppResult<()> {
    // Addressed to the invitee alone, not to the members.
    let activity = json!({
        "id": activity_id(&room.uri),
        "type": "Invite",
        "actor": room.uri,
        "object": group(state, room).await?,
        "target": invitee.uri,
        "to": [invitee.uri],
    });
    let Some(inbox) = invitee
        .shared_inbox_url
        .clone()
        .or_else(|| invitee.inbox_url.clone())
    else {
        return Err(AppError::unprocessable(format!(
            "@{} has no inbox to invite to",
            invitee.username
        )));
    };
    let members = store::members(&state.db, room.id).await?;
    enqueue(state, room, &members, &activity, &[inbox]).await
}

/// After a change of who is in `room` (hosted here): `member` joined (`Add`) or left or was
/// removed (`Remove`, also sent to their server).
pub async fn send_membership(
    state: &AppState,
    room: &RoomRow,
    member: i64,
    joined: bool,
) -> AppResult<()> {
    let member = account(state, member).await?;
    let activity = json!({
        "id": activity_id(&room.uri),
        "type": if joined { "Add" } else { "Remove" },
        "actor": room.uri,
        "object": member.uri,
        "target": format!("{}/members", room.uri),
    });
    from_room(state, room, activity, &[&member], None).await
}

/// After `room` (hosted here) changed its name, topic or roles: an `Update` of its document.
pub async fn send_update(state: &AppState, room: &RoomRow) -> AppResult<()> {
    let activity = json!({
        "id": activity_id(&room.uri),
        "type": "Update",
        "actor": room.uri,
        "object": group(state, room).await?,
    });
    from_room(state, room, activity, &[], None).await
}

/// `room` (hosted here) is about to be deleted: a `Delete` of it to every remote member's server
/// (queued before the room goes: the room signs it).
pub async fn send_room_delete(state: &AppState, room: &RoomRow) -> AppResult<()> {
    let activity = json!({
        "id": activity_id(&room.uri),
        "type": "Delete",
        "actor": room.uri,
        "object": room.uri,
    });
    from_room(state, room, activity, &[], None).await
}

/// The `Note` of a room message.
fn note(room: &RoomRow, m: &MessageRow, author: &AccountRow, reply_uri: Option<String>) -> Value {
    json!({
        "id": m.uri,
        "type": "Note",
        "attributedTo": author.uri,
        "content": m.content,
        "source": { "content": m.text, "mediaType": "text/plain" },
        "inReplyTo": reply_uri,
        "published": m.created_at,
        "audience": room.uri,
        "context": room.uri,
        "to": [room.uri],
    })
}

async fn reply_uri(state: &AppState, m: &MessageRow) -> AppResult<Option<String>> {
    Ok(match m.in_reply_to_id {
        Some(r) => store::find_message(&state.db, m.room_id, r)
            .await?
            .map(|p| p.uri),
        None => None,
    })
}

/// A message posted in `room`: from the host, an `Announce` of its `Create` to every remote
/// member's server but `skip` (the author's, which has it); from a member's server, its `Create`
/// to the host.
pub async fn send_message(
    state: &AppState,
    room: &RoomRow,
    m: &MessageRow,
    skip: Option<&str>,
) -> AppResult<()> {
    let author = account(state, m.account_id).await?;
    let create = json!({
        "id": format!("{}/activity", m.uri),
        "type": "Create",
        "actor": author.uri,
        "object": note(room, m, &author, reply_uri(state, m).await?),
        "audience": room.uri,
        "to": [room.uri],
    });
    if room.local {
        let activity = json!({
            "id": activity_id(&room.uri),
            "type": "Announce",
            "actor": room.uri,
            "object": create,
        });
        from_room(state, room, activity, &[], skip).await
    } else {
        to_host(state, room, author.id, create).await
    }
}

/// A message deleted from `room` by local account `by`: from the host, a `Delete` by the room to
/// every remote member's server; from a member's server, the member's `Delete` to the host.
pub async fn send_message_delete(
    state: &AppState,
    room: &RoomRow,
    uri: &str,
    by: i64,
) -> AppResult<()> {
    if room.local {
        let activity = json!({
            "id": activity_id(&room.uri),
            "type": "Delete",
            "actor": room.uri,
            "object": uri,
            "audience": room.uri,
        });
        from_room(state, room, activity, &[], None).await
    } else {
        let me = account(state, by).await?;
        let activity = json!({
            "id": activity_id(&me.uri),
            "type": "Delete",
            "actor": me.uri,
            "object": uri,
            "audience": room.uri,
            "to": [room.uri],
        });
        to_host(state, room, me.id, activity).await
    }
}

// What a local member of a room hosted elsewhere sends to the host.

/// Local member `me` accepted (`Accept`) or declined (`Reject`) the invitation to `room`.
pub async fn send_answer(state: &AppState, room: &RoomRow, me: i64, accept: bool) -> AppResult<()> {
    let me = account(state, me).await?;
    let activity = json!({
        "id": activity_id(&me.uri),
        "type": if accept { "Accept" } else { "Reject" },
        "actor": me.uri,
        "object": { "type": "Invite", "actor": room.uri, "object": room.uri, "target": me.uri },
        "audience": room.uri,
        "to": [room.uri],
    });
    to_host(state, room, me.id, activity).await
}

/// Local member `me` left `room`.
pub async fn send_leave(state: &AppState, room: &RoomRow, me: i64) -> AppResult<()> {
    let me = account(state, me).await?;
    let activity = json!({
        "id": activity_id(&me.uri),
        "type": "Leave",
        "actor": me.uri,
        "object": room.uri,
        "to": [room.uri],
    });
    to_host(state, room, me.id, activity).await
}

/// Local admin `me` removed `target` from `room`.
pub async fn send_remove(state: &AppState, room: &RoomRow, me: i64, target: i64) -> AppResult<()> {
    let me = account(state, me).await?;
    let target = account(state, target).await?;
    let activity = json!({
        "id": activity_id(&me.uri),
        "type": "Remove",
        "actor": me.uri,
        "object": target.uri,
        "target": format!("{}/members", room.uri),
        "audience": room.uri,
        "to": [room.uri],
    });
    to_host(state, room, me.id, activity).await
}

// Receiving.

fn str_at<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    match v.get(field)? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// Whether an activity arriving at an inbox is about a room: anything naming a room hosted here
/// (`audience`, `target`, the object, or an answered invitation's object); an `Invite` to a
/// `Group`; or an `Add`, `Remove`, `Update`, `Delete` or `Announce` sent by a room hosted
/// elsewhere that this server has members in. (Mastodon's `Add` and `Remove` of pinned posts are
/// not.)
///
/// Errors: database failures.
pub async fn concerns(state: &AppState, kind: &str, doc: &Value) -> AppResult<bool> {
    let ours = format!("{}/rooms/", state.config.base_url());
    let object = doc.get("object").unwrap_or(&Value::Null);
    if kind == "Invite" {
        return Ok(object.get("type").and_then(Value::as_str) == Some("Group"));
    }
    let named = [
        str_at(doc, "audience"),
        str_at(doc, "target"),
        str_at(doc, "object"),
        str_at(object, "audience"),
        str_at(object, "object"),
    ];
    if named.iter().flatten().any(|u| u.starts_with(&ours)) {
        return Ok(true);
    }
    if matches!(kind, "Add" | "Remove" | "Update" | "Delete" | "Announce")
        && let Some(actor) = str_at(doc, "actor")
    {
        return Ok(store::find_by_uri(&state.db, actor)
            .await?
            .is_some_and(|r| !r.local));
    }
    Ok(false)
}

/// Acts on a verified room activity from `actor` (see [`concerns`]). What does not apply (an
/// actor who is not a member, a role too low, a room unknown here) is refused with the reason,
/// which the inbox logs.
pub async fn receive(
    data: &FedData,
    actor: &AccountRow,
    kind: &str,
    doc: &Value,
) -> anyhow::Result<()> {
    if let Some(room) = store::find_by_uri(&data.db, &actor.uri).await? {
        anyhow::ensure!(!room.local, "an activity in the name of a room hosted here");
        return from_host(data, room, kind, doc).await;
    }
    if kind == "Invite" {
        return receive_invite(data, actor, doc).await;
    }
    let object = doc.get("object").unwrap_or(&Value::Null);
    let ours = format!("{}/rooms/", data.config.base_url());
    let named = [
        str_at(doc, "audience"),
        str_at(object, "object"),
        str_at(doc, "object"),
        str_at(doc, "target").map(|t| t.trim_end_matches("/members")),
    ];
    let uri = named
        .iter()
        .flatten()
        .find(|u| u.starts_with(&ours))
        .ok_or_else(|| anyhow::anyhow!("no room of this server is named"))?;
    let room = store::find_by_uri(&data.db, uri)
        .await?
        .filter(|r| r.local)
        .ok_or_else(|| anyhow::anyhow!("no room {uri} here"))?;
    at_host(data, &room, actor, kind, doc).await
}

/// An activity of a remote member, at the room's host.
async fn at_host(
    state: &AppState,
    room: &RoomRow,
    actor: &AccountRow,
    kind: &str,
    doc: &Value,
) -> anyhow::Result<()> {
    let member = store::member(&state.db, room.id, actor.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{} is not in room {}", actor.uri, room.uri))?;
    let object = doc.get("object").unwrap_or(&Value::Null);
    match kind {
        "Accept" | "Reject" => {
            anyhow::ensure!(
                object.get("type").and_then(Value::as_str) == Some("Invite"),
                "an answer to something other than an invitation"
            );
            anyhow::ensure!(!member.joined(), "already a member");
            if kind == "Accept" {
                store::join(&state.db, room.id, actor.id, Utc::now()).await?;
                send_membership(state, room, actor.id, true).await?;
                // The newcomer's server may have had no member before: it learns everyone.
                send_update(state, room).await?;
            } else {
                store::remove(&state.db, room.id, actor.id).await?;
            }
            changed(state, room.id).await?;
        }
        "Create" => {
            anyhow::ensure!(member.joined(), "an invitee cannot post");
            if member.silenced_until.is_some_and(|t| t > Utc::now()) {
                // Refused so the sender's server sees the failure in its deliveries.
                anyhow::bail!("{} is muted in room {} for now", actor.uri, room.uri);
            }
            let m = store_message(state, room, actor, object).await?;
            if let Some(m) = m {
                let origin = url::Url::parse(&actor.uri).ok().and_then(|u| authority(&u));
                send_message(state, room, &m, origin.as_deref()).await?;
            }
        }
        "Delete" => {
            let uri = str_at(doc, "object").ok_or_else(|| anyhow::anyhow!("no object"))?;
            let m = store::find_message_by_uri(&state.db, room.id, uri)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no message {uri} in the room"))?;
            anyhow::ensure!(
                m.account_id == actor.id || member.moderates(),
                "only its author and admins delete a message"
            );
            delete_message_here(state, room, &m).await?;
            send_message_delete(state, room, &m.uri, actor.id).await?;
        }
        "Leave" => {
            anyhow::ensure!(member.role != "owner", "the owner cannot leave");
            store::remove(&state.db, room.id, actor.id).await?;
            changed(state, room.id).await?;
            send_membership(state, room, actor.id, false).await?;
        }
        "Remove" => {
            let uri = str_at(doc, "object").ok_or_else(|| anyhow::anyhow!("no object"))?;
            let (target, _) = accounts::find_by_uri(&state.db, uri)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no account {uri}"))?;
            let target_member = store::member(&state.db, room.id, target.id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("{uri} is not in the room"))?;
            anyhow::ensure!(
                member.moderates() && super::outranks(&member, &target_member),
                "{} may not remove {uri}",
                actor.uri
            );
            removed_here(state, room, target.id).await?;
            send_membership(state, room, target.id, false).await?;
        }
        other => anyhow::bail!("{other} is not something a member sends a room"),
    }
    Ok(())
}

/// Removes `account` from `room` here, telling them (`rookery.room.removed`) and the others.
async fn removed_here(state: &AppState, room: &RoomRow, account: i64) -> AppResult<()> {
    store::remove(&state.db, room.id, account).await?;
    publish(
        state,
        vec![account],
        "rookery.room.removed",
        json!({ "room_id": room.id.to_string() }).to_string(),
        None,
    );
    changed(state, room.id).await
}

/// Deletes message `m` here and tells the joined members.
async fn delete_message_here(state: &AppState, room: &RoomRow, m: &MessageRow) -> AppResult<()> {
    store::delete_message(&state.db, m.id).await?;
    let members = store::members(&state.db, room.id).await?;
    publish(
        state,
        members
            .iter()
            .filter(|x| x.joined())
            .map(|x| x.account_id)
            .collect(),
        "rookery.room.message.delete",
        json!({ "room_id": room.id.to_string(), "id": m.id.to_string() }).to_string(),
        None,
    );
    Ok(())
}

/// Stores the message `note` by `author` (a joined member) in `room` and tells the joined members
/// here. `None` when it was already stored (a relayed copy of one sent from here).
async fn store_message(
    state: &AppState,
    room: &RoomRow,
    author: &AccountRow,
    note: &Value,
) -> anyhow::Result<Option<MessageRow>> {
    let uri = str_at(note, "id").ok_or_else(|| anyhow::anyhow!("a message without an id"))?;
    let attributed = str_at(note, "attributedTo").unwrap_or_default();
    anyhow::ensure!(
        attributed == author.uri,
        "a message attributed to someone else"
    );
    let (Ok(u), Ok(a)) = (url::Url::parse(uri), url::Url::parse(&author.uri)) else {
        anyhow::bail!("a message id that is not a URL");
    };
    anyhow::ensure!(
        crate::federation::origin::same_origin(&u, &a),
        "a message id not on its author's server"
    );
    if store::find_message_by_uri(&state.db, room.id, uri)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let html = note.get("content").and_then(Value::as_str).unwrap_or("");
    anyhow::ensure!(html.len() <= MAX_REMOTE_CONTENT, "a message over 64 KiB");
    let content = crate::text::sanitize_html(html);
    // The author's own text when the Note carries it (`source`), else the content's.
    let source = note
        .get("source")
        .filter(|s| s.get("mediaType").and_then(Value::as_str) == Some("text/plain"))
        .and_then(|s| s.get("content"))
        .and_then(Value::as_str)
        .filter(|t| t.len() <= MAX_REMOTE_CONTENT);
    let text = match source {
        Some(t) => t.trim().to_string(),
        None => crate::text::html_to_text(&content).trim().to_string(),
    };
    anyhow::ensure!(!text.is_empty(), "an empty message");
    let in_reply_to_id = match str_at(note, "inReplyTo") {
        Some(r) => store::find_message_by_uri(&state.db, room.id, r)
            .await?
            .map(|p| p.id),
        None => None,
    };
    let members = store::members(&state.db, room.id).await?;
    let joined: Vec<i64> = members
        .iter()
        .filter(|m| m.joined())
        .map(|m| m.account_id)
        .collect();
    let named = accounts::find_accounts(&state.db, &joined).await?;
    let mut mentions: Vec<i64> = note
        .get("tag")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter(|t| t.get("type").and_then(Value::as_str) == Some("Mention"))
                .filter_map(|t| t.get("href").and_then(Value::as_str))
                .filter_map(|h| {
                    named
                        .iter()
                        .find(|a| a.uri == h || a.url.as_deref() == Some(h))
                })
                .map(|a| a.id)
                .collect()
        })
        .unwrap_or_default();
    // A mention written in the text of someone here names them too (a server that sends no tags).
    for a in named.iter().filter(|a| a.domain.is_none()) {
        if text.contains(&format!("@{}", a.username)) {
            mentions.push(a.id);
        }
    }
    mentions.sort_unstable();
    mentions.dedup();
    let row = MessageRow {
        id: ids::new_id(),
        room_id: room.id,
        account_id: author.id,
        uri: uri.to_string(),
        in_reply_to_id,
        text,
        content,
        mentions: Json(mentions),
        created_at: Utc::now(),
    };
    if !store::insert_message(&state.db, &row).await? {
        return Ok(None);
    }
    let entity = messages_entities(state, std::slice::from_ref(&row))
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the message's author is gone"))?;
    publish(
        state,
        joined,
        "rookery.room.message",
        serde_json::to_string(&entity)?,
        Some(author.id),
    );
    Ok(Some(row))
}

/// The account of actor `uri`, fetched and stored when unknown (at most `budget` fetches).
async fn actor_account(data: &FedData, uri: &str, budget: &mut usize) -> Option<AccountRow> {
    if let Ok(Some((a, _))) = accounts::find_by_uri(&data.db, uri).await {
        return Some(a);
    }
    if *budget == 0 {
        tracing::info!(
            actor = uri,
            "a room member not fetched: too many unknown at once"
        );
        return None;
    }
    *budget -= 1;
    let id = ObjectId::<ApAccount>::parse(uri).ok()?;
    match id.dereference(data).await {
        Ok(a) => Some(a.row),
        Err(e) => {
            tracing::info!(actor = uri, error = %e, "could not fetch a room member");
            None
        }
    }
}

/// The URIs of an inline collection's items (at most [`MAX_MEMBERS`]).
fn items(v: Option<&Value>) -> Vec<String> {
    let list = v
        .and_then(|c| c.get("orderedItems").or_else(|| c.get("items")))
        .and_then(Value::as_array);
    list.map(|l| {
        l.iter()
            .take(MAX_MEMBERS)
            .filter_map(|i| i.as_str().or_else(|| i.get("id").and_then(Value::as_str)))
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// Brings the copy of a room hosted elsewhere in line with its `Group` document: who is joined with
/// which role. Members of this server only change role here: they join and leave by their own
/// answers and the room's `Add` and `Remove` (a document sent before the host heard a local
/// member's answer would otherwise undo it).
async fn sync(data: &FedData, room_id: i64, group: &Value) -> anyhow::Result<()> {
    let owner = str_at(group, "attributedTo").map(str::to_string);
    let admins = items(group.get("moderators"));
    let listed = items(group.get("members"));
    let mut budget = MAX_FETCHES;
    let mut keep = Vec::new();
    for uri in &listed {
        let Some(a) = actor_account(data, uri, &mut budget).await else {
            continue;
        };
        let role = if owner.as_deref() == Some(uri.as_str()) {
            "owner"
        } else if admins.contains(uri) {
            "admin"
        } else {
            "member"
        };
        if !a.is_local() {
            store::set_joined(&data.db, room_id, a.id, role, Utc::now()).await?;
        } else if store::member(&data.db, room_id, a.id)
            .await?
            .is_some_and(|m| m.joined())
        {
            store::set_role(&data.db, room_id, a.id, role).await?;
        }
        keep.push(a.id);
    }
    // Remote members no longer listed left (their `Remove` may have been lost).
    let members = store::members(&data.db, room_id).await?;
    let ids: Vec<i64> = members.iter().map(|m| m.account_id).collect();
    let remote: Vec<i64> = accounts::find_accounts(&data.db, &ids)
        .await?
        .into_iter()
        .filter(|a| !a.is_local())
        .map(|a| a.id)
        .collect();
    for m in members {
        if remote.contains(&m.account_id) && !keep.contains(&m.account_id) {
            store::remove(&data.db, room_id, m.account_id).await?;
        }
    }
    Ok(())
}

/// The room fields of a `Group` document from `actor` (the room itself).
fn copy_of(actor: &AccountRow, group: &Value) -> anyhow::Result<RoomRow> {
    anyhow::ensure!(
        str_at(group, "id") == Some(actor.uri.as_str())
            && group.get("type").and_then(Value::as_str) == Some("Group"),
        "the room document is not the sender's Group"
    );
    let inbox = str_at(group, "inbox")
        .map(str::to_string)
        .or_else(|| actor.inbox_url.clone())
        .ok_or_else(|| anyhow::anyhow!("a room without an inbox"))?;
    let (Ok(i), Ok(a)) = (url::Url::parse(&inbox), url::Url::parse(&actor.uri)) else {
        anyhow::bail!("a room inbox that is not a URL");
    };
    anyhow::ensure!(
        crate::federation::origin::same_origin(&i, &a),
        "a room inbox not on its server"
    );
    let name: String =
        crate::text::clean_line(group.get("name").and_then(Value::as_str).unwrap_or(""))
            .chars()
            .take(super::MAX_NAME)
            .collect();
    let topic: String =
        crate::text::html_to_text(group.get("summary").and_then(Value::as_str).unwrap_or(""))
            .chars()
            .take(super::MAX_TOPIC)
            .collect();
    let now = Utc::now();
    Ok(RoomRow {
        id: ids::new_id(),
        uri: actor.uri.clone(),
        local: false,
        name: if name.is_empty() { "Room".into() } else { name },
        topic,
        avatar_media_id: None,
        created_at: now,
        updated_at: now,
        inbox_url: Some(inbox),
    })
}

/// An `Invite` from a room hosted elsewhere to an account here: the room's copy is made (or
/// refreshed) and the invitee told (`rookery.room.invitation`). An invitation to someone who
/// blocks the room's owner is dropped (logged).
async fn receive_invite(
    data: &FedData,
    room_actor: &AccountRow,
    doc: &Value,
) -> anyhow::Result<()> {
    let group = doc.get("object").unwrap_or(&Value::Null);
    let copy = copy_of(room_actor, group)?;
    let target =
        str_at(doc, "target").ok_or_else(|| anyhow::anyhow!("an Invite without a target"))?;
    let (invitee, _) = accounts::find_by_uri(&data.db, target)
        .await?
        .filter(|(a, _)| a.is_local())
        .ok_or_else(|| anyhow::anyhow!("no account {target} here"))?;
    let mut budget = MAX_FETCHES;
    let owner = match str_at(group, "attributedTo") {
        Some(o) => actor_account(data, o, &mut budget).await,
        None => None,
    };
    if let Some(o) = &owner
        && crate::storage::relationships::blocked_either_way(&data.db, invitee.id, o.id).await?
    {
        tracing::info!(room = %room_actor.uri, invitee = %invitee.uri, "an invitation from someone blocked (either way) dropped");
        return Ok(());
    }
    let room_id = store::upsert_remote(&data.db, &copy).await?;
    sync(data, room_id, group).await?;
    if store::invite(
        &data.db,
        room_id,
        invitee.id,
        owner.map(|o| o.id),
        Utc::now(),
    )
    .await?
    {
        let room = store::find(&data.db, room_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the room's copy is gone"))?;
        invited(data, &room, invitee.id).await?;
    }
    Ok(())
}

/// An activity from the host of `room` (a copy here).
async fn from_host(data: &FedData, room: RoomRow, kind: &str, doc: &Value) -> anyhow::Result<()> {
    let object = doc.get("object").unwrap_or(&Value::Null);
    let actor = accounts::find_by_uri(&data.db, &room.uri)
        .await?
        .map(|(a, _)| a)
        .ok_or_else(|| anyhow::anyhow!("the room's actor is unknown"))?;
    match kind {
        "Invite" => return receive_invite(data, &actor, doc).await,
        "Update" => {
            let copy = copy_of(&actor, object)?;
            store::upsert_remote(&data.db, &copy).await?;
            sync(data, room.id, object).await?;
            changed(data, room.id).await?;
        }
        "Add" | "Remove" => {
            let uri = str_at(doc, "object").ok_or_else(|| anyhow::anyhow!("no object"))?;
            let mut budget = MAX_FETCHES;
            let member = actor_account(data, uri, &mut budget)
                .await
                .ok_or_else(|| anyhow::anyhow!("member {uri} could not be fetched"))?;
            if kind == "Add" {
                let now_member = store::member(&data.db, room.id, member.id).await?;
                // Someone here joins only a room they were invited to.
                anyhow::ensure!(
                    !member.is_local() || now_member.is_some(),
                    "{uri} was not invited to the room"
                );
                let role = now_member
                    .filter(MemberRow::joined)
                    .map_or_else(|| "member".to_string(), |m| m.role);
                store::set_joined(&data.db, room.id, member.id, &role, Utc::now()).await?;
                changed(data, room.id).await?;
            } else {
                removed_here(data, &room, member.id).await?;
            }
        }
        "Delete" => {
            let uri = str_at(doc, "object").ok_or_else(|| anyhow::anyhow!("no object"))?;
            if uri == room.uri {
                let members = store::members(&data.db, room.id).await?;
                store::delete(&data.db, room.id).await?;
                publish(
                    data,
                    members.iter().map(|m| m.account_id).collect(),
                    "rookery.room.removed",
                    json!({ "room_id": room.id.to_string() }).to_string(),
                    None,
                );
                return Ok(());
            }
            if let Some(m) = store::find_message_by_uri(&data.db, room.id, uri).await? {
                delete_message_here(data, &room, &m).await?;
            }
        }
        "Announce" => {
            anyhow::ensure!(
                object.get("type").and_then(Value::as_str) == Some("Create"),
                "a room relays only messages"
            );
            let note = object.get("object").unwrap_or(&Value::Null);
            let author_uri = str_at(note, "attributedTo")
                .ok_or_else(|| anyhow::anyhow!("a message without an author"))?;
            let (author, _) = accounts::find_by_uri(&data.db, author_uri)
                .await?
                .ok_or_else(|| anyhow::anyhow!("author {author_uri} is not a member here"))?;
            let member = store::member(&data.db, room.id, author.id).await?;
            anyhow::ensure!(
                member.is_some_and(|m| m.joined()),
                "author {author_uri} is not a member"
            );
            store_message(data, &room, &author, note).await?;
        }
        other => anyhow::bail!("{other} is not something a room sends"),
    }
    if store::local_members_count(&data.db, room.id).await? == 0 {
        // Nobody here is in the room any more: the copy goes.
        store::delete(&data.db, room.id).await?;
    }
    Ok(())
}
