//! Receiving room activities (see the parent module): at the host, what remote members send the
//! room; on a member's server, what the room sends its copy.

use activitypub_federation::fetch::object_id::ObjectId;
use chrono::Utc;
use serde_json::Value;
use sqlx::types::Json;

use super::super::members::outranks;
use super::super::{
    MAX_MEMBERS, MAX_NAME, MAX_SILENCE_SECS, MAX_TOPIC, changed, erase_message, invited,
    messages_entities, publish, tell_removed,
};
use super::{send_membership, send_message, send_message_delete, send_update};
use crate::error::AppResult;
use crate::federation::origin::authority;
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::FedData;
use crate::service::activitypub::str_at;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::ids;
use crate::storage::rooms::{self as store, MemberRow, MessageRow, RoomRow};

/// Longest message content accepted from another server, in bytes of HTML.
const MAX_REMOTE_CONTENT: usize = 64 * 1024;

/// Most unknown member actors fetched while reading one room document; the rest wait for the
/// room's next `Update` or `Add` (logged).
const MAX_FETCHES: usize = 20;

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
    if kind == "Invite" && object.get("type").and_then(Value::as_str) == Some("Group") {
        return Ok(true);
    }
    if kind == "Create" && super::fallback::is_reply(state, doc) {
        return Ok(true);
    }
    let named = [
        str_at(doc, "audience"),
        str_at(doc, "target"),
        str_at(doc, "object"),
        str_at(object, "audience"),
        str_at(object, "object"),
        str_at(object, "target"),
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
    let object = doc.get("object").unwrap_or(&Value::Null);
    if kind == "Invite" && object.get("type").and_then(Value::as_str) == Some("Group") {
        return receive_invite(data, actor, doc).await;
    }
    if kind == "Create" && super::fallback::is_reply(data, doc) {
        return super::fallback::receive_reply(data, actor, doc).await;
    }
    let ours = format!("{}/rooms/", data.config.base_url());
    let named = [
        str_at(doc, "audience"),
        str_at(object, "object"),
        str_at(doc, "object"),
        str_at(doc, "target").map(|t| {
            t.trim_end_matches("/members")
                .trim_end_matches("/moderators")
        }),
        str_at(object, "target"),
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
pub(super) async fn at_host(
    data: &FedData,
    room: &RoomRow,
    actor: &AccountRow,
    kind: &str,
    doc: &Value,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let member = store::member(&state.db, room.id, actor.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{} is not in room {}", actor.uri, room.uri))?;
    let object = doc.get("object").unwrap_or(&Value::Null);
    match kind {
        "Invite" => {
            anyhow::ensure!(member.moderates(), "only the owner and admins invite");
            let uri = str_at(doc, "target").ok_or_else(|| anyhow::anyhow!("no invitee"))?;
            let mut budget = MAX_FETCHES;
            let invitee = actor_account(data, uri, &mut budget)
                .await
                .ok_or_else(|| anyhow::anyhow!("no account {uri}"))?;
            anyhow::ensure!(invitee.suspended_at.is_none(), "{uri} is suspended here");
            anyhow::ensure!(
                !crate::storage::relationships::blocked_either_way(&state.db, actor.id, invitee.id)
                    .await?,
                "one of {} and {uri} blocks the other",
                actor.uri
            );
            anyhow::ensure!(
                store::members(&state.db, room.id).await?.len() < MAX_MEMBERS,
                "room {} is full",
                room.uri
            );
            if store::invite(&state.db, room.id, invitee.id, Some(actor.id), Utc::now()).await? {
                if invitee.is_local() {
                    invited(state, room, invitee.id).await?;
                } else {
                    super::send_invite(state, room, &invitee).await?;
                }
                changed(state, room.id).await?;
            }
        }
        "Block" | "Undo" => {
            let block = if kind == "Block" { doc } else { object };
            anyhow::ensure!(
                block.get("type").and_then(Value::as_str) == Some("Block"),
                "an Undo of something other than a mute"
            );
            let (target, _) = member_below(state, room, &member, actor, block, "mute").await?;
            let until = if kind == "Block" {
                let end = block
                    .get("endTime")
                    .and_then(Value::as_str)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc))
                    .ok_or_else(|| anyhow::anyhow!("a mute without an endTime"))?;
                let now = Utc::now();
                anyhow::ensure!(
                    end > now && end <= now + chrono::Duration::seconds(MAX_SILENCE_SECS + 60),
                    "a mute's endTime must be within a year"
                );
                Some(end)
            } else {
                None
            };
            store::silence(&state.db, room.id, target.id, until).await?;
            changed(state, room.id).await?;
        }
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
            erase_message(state, room, &m).await?;
            send_message_delete(state, room, &m.uri, actor.id).await?;
        }
        "Leave" => {
            anyhow::ensure!(member.role != "owner", "the owner cannot leave");
            store::remove(&state.db, room.id, actor.id).await?;
            changed(state, room.id).await?;
            send_membership(state, room, actor.id, false).await?;
        }
        "Add" | "Remove" if str_at(doc, "target").is_some_and(|t| t.ends_with("/moderators")) => {
            let (target, target_member) =
                member_below(state, room, &member, actor, doc, "change the role of").await?;
            anyhow::ensure!(target_member.joined(), "{} has not joined", target.uri);
            let role = if kind == "Add" { "admin" } else { "member" };
            store::set_role(&state.db, room.id, target.id, role).await?;
            changed(state, room.id).await?;
            send_update(state, room).await?;
        }
        "Update" => {
            anyhow::ensure!(
                member.moderates(),
                "only the owner and admins change a room"
            );
            anyhow::ensure!(
                str_at(doc, "object") == Some(room.uri.as_str()),
                "an Update of something other than the room"
            );
            let name =
                crate::text::clean_line(object.get("name").and_then(Value::as_str).unwrap_or(""));
            anyhow::ensure!(
                !name.is_empty() && name.chars().count() <= MAX_NAME,
                "a room name must have 1 to {MAX_NAME} characters"
            );
            let topic = crate::text::html_to_text(
                object.get("summary").and_then(Value::as_str).unwrap_or(""),
            )
            .trim()
            .to_string();
            anyhow::ensure!(
                topic.chars().count() <= MAX_TOPIC,
                "a topic has at most {MAX_TOPIC} characters"
            );
            let mut changed_room = room.clone();
            changed_room.name = name;
            changed_room.topic = topic;
            changed_room.updated_at = Utc::now();
            store::update(&state.db, &changed_room).await?;
            changed(state, room.id).await?;
            send_update(state, &changed_room).await?;
        }
        "Remove" => {
            let (target, _) = member_below(state, room, &member, actor, doc, "remove").await?;
            removed_here(state, room, target.id).await?;
            send_membership(state, room, target.id, false).await?;
        }
        other => anyhow::bail!("{other} is not something a member sends a room"),
    }
    Ok(())
}

/// The member `block`'s `object` names, when `member` (the actor) moderates and outranks them;
/// `what` says the action in the refusal.
async fn member_below(
    state: &AppState,
    room: &RoomRow,
    member: &MemberRow,
    actor: &AccountRow,
    doc: &Value,
    what: &str,
) -> anyhow::Result<(AccountRow, MemberRow)> {
    let uri = str_at(doc, "object").ok_or_else(|| anyhow::anyhow!("no member named"))?;
    let (target, _) = accounts::find_by_uri(&state.db, uri)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account {uri}"))?;
    let target_member = store::member(&state.db, room.id, target.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{uri} is not in the room"))?;
    anyhow::ensure!(
        member.moderates() && outranks(member, &target_member),
        "{} may not {what} {uri}",
        actor.uri
    );
    Ok((target, target_member))
}

/// Removes `account` from `room` here, telling them (`rookery.room.removed`) and the others.
async fn removed_here(state: &AppState, room: &RoomRow, account: i64) -> AppResult<()> {
    store::remove(&state.db, room.id, account).await?;
    tell_removed(state, room.id, vec![account]);
    changed(state, room.id).await
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
            .take(MAX_NAME)
            .collect();
    let topic: String =
        crate::text::html_to_text(group.get("summary").and_then(Value::as_str).unwrap_or(""))
            .chars()
            .take(MAX_TOPIC)
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
    set_icon(data, room_actor, group).await?;
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

/// Keeps the room's image (`icon` of its Group document `group`) as its actor's avatar here,
/// by reference (fetched through the media proxy when first shown).
async fn set_icon(state: &AppState, room_actor: &AccountRow, group: &Value) -> AppResult<()> {
    let icon = group
        .get("icon")
        .and_then(|i| i.get("url").or(Some(i)))
        .and_then(|u| match u {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("href").and_then(Value::as_str),
            _ => None,
        })
        .filter(|u| u.len() <= 2048)
        .and_then(|u| url::Url::parse(u).ok());
    crate::service::media::refresh_remote_profile_images(state, room_actor, icon.as_ref(), None)
        .await
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
            set_icon(data, &actor, object).await?;
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
                tell_removed(
                    data,
                    room.id,
                    members.iter().map(|m| m.account_id).collect(),
                );
                return Ok(());
            }
            if let Some(m) = store::find_message_by_uri(&data.db, room.id, uri).await? {
                erase_message(data, &room, &m).await?;
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
