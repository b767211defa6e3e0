//! Rooms for members on servers without them (docs/FEDERATION.md, "Rooms", "Servers without
//! rooms"): a server whose NodeInfo does not list `rooms` (Mastodon, GoToSocial, …) would drop a
//! room's `Invite` and `Announce`s, so its people get the room as ordinary direct messages from
//! the room's owner, one thread per room and person: the invitation (a reply joins), each message
//! ("ROOM · AUTHOR:" and the text), and the end of their membership. A reply to any of them comes
//! back into the room as the person's message; a reply saying `/leave` leaves.

use chrono::Utc;
use serde_json::{Value, json};

use super::inbound::at_host;
use crate::error::{AppError, AppResult};
use crate::service::activitypub::context::FedData;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::ids;
use crate::storage::rooms::{self as store, MessageRow, RoomRow};
use crate::text::escape;

/// What a member replies to leave.
const LEAVE: &str = "/leave";

/// Whether `account` is on a server that takes part in rooms (its NodeInfo says `rooms`); local
/// accounts are.
pub(crate) async fn takes_rooms(state: &AppState, account: &AccountRow) -> bool {
    match account.domain.as_deref() {
        None => true,
        Some(domain) => {
            crate::service::instance::features::of_server(state, domain, &account.uri)
                .await
                .rooms
        }
    }
}

/// Whether `uri` may name a direct message sent in a room's name from here.
pub(crate) fn is_fallback_uri(state: &AppState, uri: &str) -> bool {
    uri.strip_prefix(&format!("{}/rooms/", state.config.base_url()))
        .is_some_and(|rest| rest.contains("/fallback/"))
}

async fn owner(state: &AppState, room: &RoomRow) -> AppResult<AccountRow> {
    let members = store::members(&state.db, room.id).await?;
    let owner = members
        .iter()
        .find(|m| m.role == "owner")
        .ok_or(AppError::NotFound)?;
    accounts::find_account(&state.db, owner.account_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Sends remote `to` a direct message from `room`'s owner: a mention of them, then `html` (safe
/// HTML), in reply to the last one they were sent from this room.
async fn send_note(state: &AppState, room: &RoomRow, to: &AccountRow, html: &str) -> AppResult<()> {
    let Some(domain) = to.domain.as_deref() else {
        return Ok(());
    };
    let Some(inbox) = to.inbox_url.clone().or_else(|| to.shared_inbox_url.clone()) else {
        return Err(AppError::unprocessable(format!(
            "@{} has no inbox to write to",
            to.username
        )));
    };
    let owner = owner(state, room).await?;
    let uri = format!("{}/fallback/{}", room.uri, ids::new_id());
    let previous = store::last_fallback_note(&state.db, room.id, to.id).await?;
    let now = Utc::now();
    let mention = format!(
        "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
        escape(to.url.as_deref().unwrap_or(&to.uri)),
        escape(&to.username)
    );
    let note = json!({
        "id": uri,
        "type": "Note",
        "attributedTo": owner.uri,
        "to": [to.uri],
        "cc": [],
        "content": format!("<p>{mention} {html}"),
        "tag": [{ "type": "Mention", "href": to.uri, "name": format!("@{}@{domain}", to.username) }],
        "inReplyTo": previous,
        "published": now,
        "sensitive": false,
    });
    let create = json!({
        "id": format!("{uri}/activity"),
        "type": "Create",
        "actor": owner.uri,
        "to": [to.uri],
        "cc": [],
        "published": now,
        "object": note,
    });
    store::add_fallback_note(&state.db, &uri, room.id, to.id, now).await?;
    crate::service::activitypub::keys::public_key_pem(state, &owner).await?;
    let mut tx = state.db.begin().await?;
    crate::service::delivery::enqueue(&mut tx, &create, owner.id, &[inbox], None).await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

/// The room's name and server, as the messages name it.
fn room_name(state: &AppState, room: &RoomRow) -> String {
    format!(
        "“{}” on {}",
        escape(&room.name),
        escape(&state.config.server.domain)
    )
}

/// `invitee` (on a server without rooms) is invited to `room`: told so, and how to join.
pub(crate) async fn send_invitation(
    state: &AppState,
    room: &RoomRow,
    invitee: &AccountRow,
) -> AppResult<()> {
    let by = match store::member(&state.db, room.id, invitee.id)
        .await?
        .and_then(|m| m.invited_by)
    {
        Some(id) => accounts::find_account(&state.db, id).await?,
        None => None,
    };
    let who = by
        .map(|a| escape(&a.username))
        .unwrap_or_else(|| "Someone".into());
    let html = format!(
        "{who} invited you to the room {}, a group chat your server shows as direct \
         messages.</p><p>Reply to this message to join: after that, each message in the room \
         comes to you like this one, and your replies go to the room. Reply {LEAVE} to leave.</p>",
        room_name(state, room)
    );
    send_note(state, room, invitee, &html).await
}

/// Message `m` of `room` (hosted here), to each joined member on a server without rooms but its
/// author.
pub(crate) async fn relay_message(
    state: &AppState,
    room: &RoomRow,
    m: &MessageRow,
) -> AppResult<()> {
    let members = store::members(&state.db, room.id).await?;
    let ids: Vec<i64> = members
        .iter()
        .filter(|x| x.joined() && x.account_id != m.account_id)
        .map(|x| x.account_id)
        .collect();
    let mut header = None;
    for to in accounts::find_accounts(&state.db, &ids).await? {
        if to.domain.is_none() || takes_rooms(state, &to).await {
            continue;
        }
        if header.is_none() {
            let author = accounts::find_account(&state.db, m.account_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let name = match author.domain.as_deref() {
                Some(d) => format!("{}@{d}", author.username),
                None => author.username.clone(),
            };
            header = Some(format!(
                "<b>{}</b> · {}:</p>{}",
                escape(&room.name),
                escape(&name),
                m.content
            ));
        }
        // One member who cannot be written to does not stop the message reaching the others.
        if let Err(e) = send_note(state, room, &to, header.as_deref().unwrap_or_default()).await {
            tracing::warn!(room = %room.uri, member = %to.uri, error = %e, "a room message was not sent");
        }
    }
    Ok(())
}

/// `member` (on a server without rooms) is no longer in `room`, or the room is being deleted.
pub(crate) async fn send_farewell(
    state: &AppState,
    room: &RoomRow,
    member: &AccountRow,
    deleted: bool,
) -> AppResult<()> {
    if member.domain.is_none() || takes_rooms(state, member).await {
        return Ok(());
    }
    let what = if deleted {
        "was deleted"
    } else {
        "no longer has you as a member"
    };
    let html = format!(
        "The room {} {what}: nothing more of it will come.</p>",
        room_name(state, room)
    );
    send_note(state, room, member, &html).await
}

/// The text of a reply, without the mentions it starts with.
fn reply_text(note: &Value) -> String {
    let html = note.get("content").and_then(Value::as_str).unwrap_or("");
    let text = crate::text::html_to_text(html);
    let mut rest = text.trim();
    while let Some(after) = rest.strip_prefix('@') {
        rest = after
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim_start();
    }
    rest.trim().to_string()
}

/// Whether `doc` (a `Create`) is a reply to a direct message sent in a room's name from here.
pub(crate) fn is_reply(state: &AppState, doc: &Value) -> bool {
    doc.get("object")
        .and_then(|o| o.get("inReplyTo"))
        .and_then(Value::as_str)
        .is_some_and(|u| is_fallback_uri(state, u))
}

/// `actor`'s reply (a `Create`) to a direct message sent to them in a room's name: the first,
/// from an invitee, joins; `/leave` leaves; anything else is their message in the room.
pub(crate) async fn receive_reply(
    data: &FedData,
    actor: &AccountRow,
    doc: &Value,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let note = doc.get("object").unwrap_or(&Value::Null);
    let parent = note
        .get("inReplyTo")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (room_id, account_id) = store::find_fallback_note(&state.db, parent)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no room message {parent} here"))?;
    anyhow::ensure!(
        account_id == actor.id,
        "{} answers a message sent to someone else",
        actor.uri
    );
    let room = store::find(&state.db, room_id)
        .await?
        .filter(|r| r.local)
        .ok_or_else(|| anyhow::anyhow!("the room is gone"))?;
    let member = store::member(&state.db, room.id, actor.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{} is not in room {}", actor.uri, room.uri))?;
    let text = reply_text(note);
    if !member.joined() {
        let accept = json!({ "object": { "type": "Invite" } });
        return at_host(data, &room, actor, "Accept", &accept).await;
    }
    if text.eq_ignore_ascii_case(LEAVE) {
        return at_host(data, &room, actor, "Leave", &json!({})).await;
    }
    anyhow::ensure!(!text.is_empty(), "an empty reply");
    let mut message = note.clone();
    message["inReplyTo"] = Value::Null;
    message["content"] = json!(format!("<p>{}</p>", escape(&text)));
    message["source"] = json!({ "content": text, "mediaType": "text/plain" });
    at_host(data, &room, actor, "Create", &json!({ "object": message })).await
}
