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

use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::federation::origin::authority;
use crate::service::activitypub::actors::ApAccount;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::ids;
use crate::storage::rooms::{self as store, MemberRow, MessageRow, RoomRow};

mod fallback;
mod inbound;
pub use inbound::{concerns, receive};

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

/// The `Group` document of `room` (hosted here): name, topic (`summary`), image (`icon`), owner
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
    let icon = match room.avatar_media_id {
        Some(id) => crate::storage::media::find(&state.db, id)
            .await?
            .and_then(|m| crate::service::media::entity(state, &m).url)
            .map(|url| json!({ "type": "Image", "url": url })),
        None => None,
    };
    Ok(json!({
        "icon": icon,
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
        // A server without rooms gets its people's share as direct messages (`fallback`).
        if skip != Some(domain.as_str())
            && crate::service::instance::features::of_server(state, &domain, &inbox)
                .await
                .rooms
        {
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
    if !fallback::takes_rooms(state, invitee).await {
        return fallback::send_invitation(state, room, invitee).await;
    }
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
    if !joined {
        fallback::send_farewell(state, room, &member, false).await?;
    }
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
    let members = store::members(&state.db, room.id).await?;
    let ids: Vec<i64> = members.iter().map(|m| m.account_id).collect();
    for member in accounts::find_accounts(&state.db, &ids).await? {
        fallback::send_farewell(state, room, &member, true).await?;
    }
    from_room(state, room, activity, &[], None).await
}

/// The `Note` of a room message, tagging the members it names (`mentioned`).
fn note(
    room: &RoomRow,
    m: &MessageRow,
    author: &AccountRow,
    reply_uri: Option<String>,
    mentioned: &[AccountRow],
) -> Value {
    let tags: Vec<Value> = mentioned
        .iter()
        .map(|a| {
            let name = match a.domain.as_deref() {
                Some(d) => format!("@{}@{d}", a.username),
                None => format!("@{}", a.username),
            };
            json!({ "type": "Mention", "href": a.uri, "name": name })
        })
        .collect();
    json!({
        "tag": tags,
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
    // Most rooms have nobody elsewhere: nothing to build.
    if room.local && store::remote_inboxes(&state.db, room.id).await?.is_empty() {
        return Ok(());
    }
    let author = account(state, m.account_id).await?;
    let create = json!({
        "id": format!("{}/activity", m.uri),
        "type": "Create",
        "actor": author.uri,
        "object": note(
            room,
            m,
            &author,
            reply_uri(state, m).await?,
            &accounts::find_accounts(&state.db, &m.mentions.0).await?,
        ),
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
        from_room(state, room, activity, &[], skip).await?;
        fallback::relay_message(state, room, m).await
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
        member_sends(state, room, by, "Delete", json!(uri), json!({})).await
    }
}

// What a local member of a room hosted elsewhere sends to the host.

/// A local member's `kind` of `object` about `room`, addressed to the room (`audience`, `to`), with
/// the fields of `extra` (a JSON object) added.
fn member_activity(
    me: &AccountRow,
    room: &RoomRow,
    kind: &str,
    object: Value,
    extra: Value,
) -> Value {
    let mut activity = json!({
        "id": activity_id(&me.uri),
        "type": kind,
        "actor": me.uri,
        "object": object,
        "audience": room.uri,
        "to": [room.uri],
    });
    if let (Value::Object(a), Value::Object(extra)) = (&mut activity, extra) {
        a.extend(extra);
    }
    activity
}

/// Sends [`member_activity`] of local member `me` to the host of `room`.
async fn member_sends(
    state: &AppState,
    room: &RoomRow,
    me: i64,
    kind: &str,
    object: Value,
    extra: Value,
) -> AppResult<()> {
    let me = account(state, me).await?;
    let activity = member_activity(&me, room, kind, object, extra);
    to_host(state, room, me.id, activity).await
}

/// Local member `me` accepted (`Accept`) or declined (`Reject`) the invitation to `room`.
pub async fn send_answer(state: &AppState, room: &RoomRow, me: i64, accept: bool) -> AppResult<()> {
    let uri = account(state, me).await?.uri;
    let invite = json!({ "type": "Invite", "actor": room.uri, "object": room.uri, "target": uri });
    let kind = if accept { "Accept" } else { "Reject" };
    member_sends(state, room, me, kind, invite, json!({})).await
}

/// Local member `me` left `room`.
pub async fn send_leave(state: &AppState, room: &RoomRow, me: i64) -> AppResult<()> {
    member_sends(state, room, me, "Leave", json!(room.uri), json!({})).await
}

/// Local admin `me` invites `invitee` to `room` (hosted elsewhere): an `Invite` to the host,
/// which makes the invitation.
pub async fn send_invite_request(
    state: &AppState,
    room: &RoomRow,
    me: i64,
    invitee: &AccountRow,
) -> AppResult<()> {
    let extra = json!({ "target": invitee.uri });
    member_sends(state, room, me, "Invite", json!(room.uri), extra).await
}

/// Local admin `me` mutes `target` in `room` (hosted elsewhere) until `until`: a `Block` of the
/// member with the room as `target` and `endTime` (as Lemmy bans from a community); `None` lifts
/// it (`Undo` of that `Block`).
pub async fn send_silence(
    state: &AppState,
    room: &RoomRow,
    me: i64,
    target: i64,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> AppResult<()> {
    let me = account(state, me).await?;
    let target = account(state, target).await?;
    let extra = json!({ "target": room.uri, "endTime": until });
    let block = member_activity(&me, room, "Block", json!(target.uri), extra);
    let activity = match until {
        Some(_) => block,
        None => member_activity(&me, room, "Undo", block, json!({})),
    };
    to_host(state, room, me.id, activity).await
}

/// Local admin `me` changed `room`'s (hosted elsewhere) name or topic: an `Update` of the Group
/// with them, to the host.
pub async fn send_settings(state: &AppState, room: &RoomRow, me: i64) -> AppResult<()> {
    let group = json!({
        "id": room.uri,
        "type": "Group",
        "name": room.name,
        "summary": crate::text::escape(&room.topic),
    });
    member_sends(state, room, me, "Update", group, json!({})).await
}

/// Local admin `me` made `target` an admin (`Add` to the room's `moderators`) or a member again
/// (`Remove` from them) in `room` (hosted elsewhere).
pub async fn send_role(
    state: &AppState,
    room: &RoomRow,
    me: i64,
    target: i64,
    admin: bool,
) -> AppResult<()> {
    let target = account(state, target).await?.uri;
    let extra = json!({ "target": format!("{}/moderators", room.uri) });
    let kind = if admin { "Add" } else { "Remove" };
    member_sends(state, room, me, kind, json!(target), extra).await
}

/// Local admin `me` removed `target` from `room`.
pub async fn send_remove(state: &AppState, room: &RoomRow, me: i64, target: i64) -> AppResult<()> {
    let target = account(state, target).await?.uri;
    let extra = json!({ "target": format!("{}/members", room.uri) });
    member_sends(state, room, me, "Remove", json!(target), extra).await
}
