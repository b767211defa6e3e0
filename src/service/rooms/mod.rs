//! Rooms (issue 29; docs/API.md, "Rooms"): named group chats with an owner, admins and members.
//! Admins invite (by handle), remove, promote, demote and mute members for a while, and delete any
//! message; members accept or decline invitations, post, read, mute the room and leave; the owner
//! hands the room over or deletes it. A member sees messages from the moment they joined. Live
//! events go to the members' `direct` streams: `rookery.room.message`,
//! `rookery.room.message.delete`, `rookery.room.update` (the room or its members changed: refetch)
//! and `rookery.room.removed` (the caller is no longer in the room).
//!
//! A room is hosted by one server and may have members on others (`remote`; docs/FEDERATION.md,
//! "Rooms"): invitations, settings, roles and mutes are made on the host; on a member's server
//! the room is a copy, and posting, reading, leaving, and (for admins) removing members and
//! deleting messages work on it as on the host.

use chrono::Utc;
use serde_json::json;
use sqlx::types::Json;

use crate::api_types::room::{Room, RoomMember, RoomMessage};
use crate::error::{AppError, AppResult};
use crate::realtime::{Event, StreamKey};
use crate::service::activitypub::context::FedData;
use crate::service::oauth::CurrentUser;
use crate::service::render;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::ids;
use crate::storage::rooms::{self as store, MemberRow, MessageRow, RoomRow};
use crate::storage::sql::Page;

mod members;
mod remote;
pub use members::*;
pub use remote::{concerns, fetch_group, receive, signer};

pub use crate::service::instance::features::ROOMS_FEATURE;
/// Longest handle an invitation names, in characters.
pub const MAX_HANDLE: usize = 320;
/// Longest room name, in characters.
pub const MAX_NAME: usize = 100;
/// Longest topic, in characters.
pub const MAX_TOPIC: usize = 500;
/// Most members and invitees a room holds.
pub const MAX_MEMBERS: usize = 500;
/// Longest search within a room, in characters (its first 8 words count).
pub const MAX_QUERY: usize = 200;
/// Longest mute of a member an admin may set, in seconds (one year).
pub const MAX_SILENCE_SECS: i64 = 365 * 24 * 3600;

/// Name, topic and image of a create or update; `None` keeps the current value.
#[derive(Default)]
pub struct RoomFields {
    pub name: Option<String>,
    pub topic: Option<String>,
    /// An image the caller uploaded (`POST /api/v2/media`); `Some("")` removes the image.
    pub avatar_media_id: Option<String>,
}

async fn apply(state: &AppState, me: i64, row: &mut RoomRow, f: RoomFields) -> AppResult<()> {
    if let Some(n) = f.name {
        row.name = crate::text::clean_line(&n);
    }
    if row.name.is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: Name can't be blank",
        ));
    }
    if row.name.chars().count() > MAX_NAME {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Name is too long (maximum is {MAX_NAME} characters)"
        )));
    }
    if let Some(t) = f.topic {
        row.topic = t.trim().to_string();
    }
    if row.topic.chars().count() > MAX_TOPIC {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Topic is too long (maximum is {MAX_TOPIC} characters)"
        )));
    }
    match f.avatar_media_id.as_deref().map(str::trim) {
        None => {}
        Some("") => row.avatar_media_id = None,
        Some(id) => {
            let media = crate::service::media::find_own(state, me, id)
                .await
                .map_err(|_| {
                    AppError::unprocessable("Validation failed: Avatar is not one of your uploads")
                })?;
            if media.r#type != "image" {
                return Err(AppError::unprocessable(
                    "Validation failed: Avatar must be an image",
                ));
            }
            row.avatar_media_id = Some(media.id);
        }
    }
    Ok(())
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse::<i64>().map_err(|_| AppError::NotFound)
}

/// The room `id` and the caller's membership; 404 unless the caller is in it or invited (a room
/// is never shown to anyone else).
async fn membership(state: &AppState, me: i64, id: &str) -> AppResult<(RoomRow, MemberRow)> {
    let id = parse_id(id)?;
    let member = store::member(&state.db, id, me)
        .await?
        .ok_or(AppError::NotFound)?;
    let room = store::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((room, member))
}

/// As [`membership`], for a joined member only (an invitee gets 404 too: it has not accepted).
async fn joined(state: &AppState, me: i64, id: &str) -> AppResult<(RoomRow, MemberRow)> {
    let (room, member) = membership(state, me, id).await?;
    if !member.joined() {
        return Err(AppError::NotFound);
    }
    Ok((room, member))
}

/// As [`joined`], for the owner or an admin. Errors: 403 for other members.
async fn moderating(state: &AppState, me: i64, id: &str) -> AppResult<(RoomRow, MemberRow)> {
    let (room, member) = joined(state, me, id).await?;
    if !member.moderates() {
        return Err(AppError::forbidden(
            "Only the room's owner and admins may do that",
        ));
    }
    Ok((room, member))
}

/// Renders `room` as `member` sees it.
async fn entity(state: &AppState, room: &RoomRow, member: &MemberRow) -> AppResult<Room> {
    let (last, unread, mentions) = if member.joined() {
        store::unread(
            &state.db,
            member.account_id,
            room.id,
            member.first_visible_id(),
            member.last_read_id,
        )
        .await?
    } else {
        (None, 0, 0)
    };
    let last_message = match last {
        Some(m) => messages_entities(state, &[m]).await?.pop(),
        None => None,
    };
    // A copy of a room hosted elsewhere shows the image of its Group actor (`icon`).
    let image = match room.avatar_media_id {
        Some(mid) => Some(mid),
        None if !room.local => accounts::find_by_uri(&state.db, &room.uri)
            .await?
            .and_then(|(a, _)| a.avatar_media_id),
        None => None,
    };
    let avatar = match image {
        Some(mid) => crate::storage::media::find(&state.db, mid)
            .await?
            .and_then(|m| crate::service::media::entity(state, &m).url),
        None => None,
    };
    let muted = member.muted;
    Ok(Room {
        id: room.id.to_string(),
        uri: room.uri.clone(),
        name: room.name.clone(),
        topic: room.topic.clone(),
        avatar,
        role: member.role.clone(),
        state: member.state.clone(),
        muted,
        silenced_until: member.silenced_until.filter(|t| *t > Utc::now()),
        members_count: store::members_count(&state.db, room.id).await?,
        unread_count: if muted { 0 } else { unread },
        unread_mentions: if muted { 0 } else { mentions },
        last_message,
        created_at: room.created_at,
    })
}

async fn messages_entities(state: &AppState, rows: &[MessageRow]) -> AppResult<Vec<RoomMessage>> {
    let mut ids: Vec<i64> = rows.iter().map(|m| m.account_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let authors = accounts::find_accounts(&state.db, &ids).await?;
    let rendered = render::accounts(state, &authors).await?;
    Ok(rows
        .iter()
        .filter_map(|m| {
            let account = rendered.iter().find(|a| a.id == m.account_id.to_string())?;
            Some(RoomMessage {
                id: m.id.to_string(),
                room_id: m.room_id.to_string(),
                uri: m.uri.clone(),
                account: account.clone(),
                content: m.content.clone(),
                text: m.text.clone(),
                in_reply_to_id: m.in_reply_to_id.map(|i| i.to_string()),
                mentions: m.mentions.0.iter().map(|i| i.to_string()).collect(),
                created_at: m.created_at,
            })
        })
        .collect())
}

/// Sends `event` with `payload` to the `direct` streams of `accounts`.
fn publish(
    state: &AppState,
    accounts: Vec<i64>,
    event: &'static str,
    payload: String,
    author: Option<i64>,
) {
    if accounts.is_empty() {
        return;
    }
    state.hub.publish(Event {
        keys: accounts.into_iter().map(StreamKey::Direct).collect(),
        event,
        payload,
        author_id: author,
    });
}

/// Tells `accounts` they are no longer in room `room` (`rookery.room.removed`).
fn tell_removed(state: &AppState, room: i64, accounts: Vec<i64>) {
    publish(
        state,
        accounts,
        "rookery.room.removed",
        json!({ "room_id": room.to_string() }).to_string(),
        None,
    );
}

/// Deletes message `m` of `room` and tells the joined members (`rookery.room.message.delete`).
async fn erase_message(state: &AppState, room: &RoomRow, m: &MessageRow) -> AppResult<()> {
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

/// Tells every member and invitee of `room` that it changed (`rookery.room.update`).
async fn changed(state: &AppState, room: i64) -> AppResult<()> {
    let members = store::members(&state.db, room).await?;
    publish(
        state,
        members.iter().map(|m| m.account_id).collect(),
        "rookery.room.update",
        json!({ "room_id": room.to_string() }).to_string(),
        None,
    );
    Ok(())
}

/// The account named by `handle` (`user`, `@user`, `user@domain`): a local one, or one on another
/// server found by WebFinger. Errors: 422 when it is over [`MAX_HANDLE`] characters or names
/// nobody (or its server cannot be reached).
async fn invitee_account(data: &FedData, handle: &str) -> AppResult<AccountRow> {
    let handle = handle.trim().trim_start_matches('@');
    // A username and a domain name at their longest, and the `@` between.
    if handle.chars().count() > MAX_HANDLE {
        return Err(AppError::unprocessable(format!(
            "Validation failed: a handle is at most {MAX_HANDLE} characters"
        )));
    }
    let local = match handle.split_once('@') {
        Some((_, d)) => d.eq_ignore_ascii_case(&data.config.server.domain),
        None => true,
    };
    let found = if local {
        let user = handle.split('@').next().unwrap_or_default();
        accounts::find_local_account_by_username(&data.db, user).await?
    } else {
        crate::service::resolve::account(data, handle, true).await?
    };
    found
        .filter(|a| a.suspended_at.is_none())
        .ok_or_else(|| AppError::unprocessable(format!("No account @{handle} was found")))
}

/// Errors: 422 for a room hosted elsewhere, whose `what` is changed on its host.
fn hosted_here(room: &RoomRow, what: &str) -> AppResult<()> {
    if room.local {
        return Ok(());
    }
    let host = url::Url::parse(&room.uri)
        .ok()
        .and_then(|u| crate::federation::origin::authority(&u))
        .unwrap_or_default();
    Err(AppError::unprocessable(format!(
        "This room is hosted on {host}: its {what} are changed there"
    )))
}

/// Errors: 422 when `inviter` and `invitee` block each other (either way): nobody is brought into
/// a room with someone they blocked, or who blocked them.
async fn not_blocked(state: &AppState, inviter: i64, invitee: &AccountRow) -> AppResult<()> {
    if crate::storage::relationships::blocked_either_way(&state.db, inviter, invitee.id).await? {
        return Err(AppError::unprocessable(format!(
            "@{} cannot be invited: one of you blocks the other",
            invitee.username
        )));
    }
    Ok(())
}

/// `POST /api/v1/rooms`: a new room owned by the caller, with the handles in `invite` invited.
///
/// Errors: 422 for a blank or over-long name or topic, an avatar that is not the caller's image,
/// a handle that names no local account or one blocking (or blocked by) the caller, more than
/// [`MAX_MEMBERS`] invitations.
pub async fn create(
    data: &FedData,
    me: &CurrentUser,
    f: RoomFields,
    invite: &[String],
) -> AppResult<Room> {
    let state: &AppState = data;
    if invite.len() >= MAX_MEMBERS {
        return Err(AppError::unprocessable(format!(
            "A room holds at most {MAX_MEMBERS} members"
        )));
    }
    let now = Utc::now();
    let id = ids::new_id();
    let mut row = RoomRow {
        id,
        uri: format!("{}/rooms/{id}", state.config.base_url()),
        local: true,
        name: String::new(),
        topic: String::new(),
        avatar_media_id: None,
        created_at: now,
        updated_at: now,
        inbox_url: None,
    };
    apply(state, me.account.id, &mut row, f).await?;
    let mut invitees = Vec::new();
    for h in invite {
        let a = invitee_account(data, h).await?;
        not_blocked(state, me.account.id, &a).await?;
        if a.id != me.account.id && !invitees.iter().any(|x: &AccountRow| x.id == a.id) {
            invitees.push(a);
        }
    }
    store::create(&state.db, &row, me.account.id).await?;
    for a in &invitees {
        store::invite(&state.db, id, a.id, Some(me.account.id), now).await?;
        if a.is_local() {
            invited(state, &row, a.id).await?;
        } else {
            remote::send_invite(state, &row, a).await?;
        }
    }
    let member = store::member(&state.db, id, me.account.id)
        .await?
        .ok_or(AppError::NotFound)?;
    entity(state, &row, &member).await
}

/// Tells an invitee (`rookery.room.invitation`, the room as it sees it).
async fn invited(state: &AppState, room: &RoomRow, account: i64) -> AppResult<()> {
    if let Some(m) = store::member(&state.db, room.id, account).await? {
        let payload = serde_json::to_string(&entity(state, room, &m).await?)
            .map_err(|e| AppError::Internal(e.into()))?;
        publish(
            state,
            vec![account],
            "rookery.room.invitation",
            payload,
            None,
        );
    }
    Ok(())
}

/// `GET /api/v1/rooms`: the rooms the caller is in or invited to, the most recently active first.
pub async fn index(state: &AppState, me: i64) -> AppResult<Vec<Room>> {
    let mut out = Vec::new();
    for (room, member) in store::of_account(&state.db, me).await? {
        out.push(entity(state, &room, &member).await?);
    }
    Ok(out)
}

/// `GET /api/v1/rooms/:id`. Errors: 404 unless the caller is in the room or invited.
pub async fn show(state: &AppState, me: i64, id: &str) -> AppResult<Room> {
    let (room, member) = membership(state, me, id).await?;
    entity(state, &room, &member).await
}

/// `PATCH /api/v1/rooms/:id` (owner or admin). On a member's server the name and topic are
/// applied to the copy and sent to the host (an `Update`), which decides; the image is set on the
/// host. Errors: 404, 403, 422 as [`create`], and for an image on a member's server.
pub async fn update(state: &AppState, me: i64, id: &str, f: RoomFields) -> AppResult<Room> {
    let (mut room, member) = moderating(state, me, id).await?;
    if !room.local && f.avatar_media_id.is_some() {
        hosted_here(&room, "image")?;
    }
    apply(state, me, &mut room, f).await?;
    room.updated_at = Utc::now();
    store::update(&state.db, &room).await?;
    changed(state, room.id).await?;
    if room.local {
        remote::send_update(state, &room).await?;
    } else {
        remote::send_settings(state, &room, me).await?;
    }
    entity(state, &room, &member).await
}

/// `DELETE /api/v1/rooms/:id` (owner): the room, its members and messages go; everyone in it gets
/// `rookery.room.removed`. Errors: 404, 403 for anyone but the owner.
pub async fn delete(state: &AppState, me: i64, id: &str) -> AppResult<()> {
    let (room, member) = joined(state, me, id).await?;
    if member.role != "owner" {
        return Err(AppError::forbidden("Only the room's owner may delete it"));
    }
    hosted_here(&room, "existence and owner")?;
    let members = store::members(&state.db, room.id).await?;
    if store::remote_inboxes(&state.db, room.id).await?.is_empty() {
        store::delete(&state.db, room.id).await?;
    } else {
        // The room signs its own `Delete`: its row (and key) stays, emptied, for the deliveries.
        remote::send_room_delete(state, &room).await?;
        store::empty(&state.db, room.id).await?;
    }
    tell_removed(
        state,
        room.id,
        members.iter().map(|m| m.account_id).collect(),
    );
    Ok(())
}

/// `GET /api/v1/rooms/:id/members`: members and invitees, owner first. Errors: 404 unless joined.
pub async fn members(state: &AppState, me: i64, id: &str) -> AppResult<Vec<RoomMember>> {
    let (room, _) = joined(state, me, id).await?;
    let rows = store::members(&state.db, room.id).await?;
    let ids: Vec<i64> = rows.iter().map(|m| m.account_id).collect();
    let found = accounts::find_accounts(&state.db, &ids).await?;
    let rendered = render::accounts(state, &found).await?;
    Ok(rows
        .iter()
        .filter_map(|m| {
            let account = rendered.iter().find(|a| a.id == m.account_id.to_string())?;
            Some(RoomMember {
                account: account.clone(),
                role: m.role.clone(),
                state: m.state.clone(),
                joined_at: m.joined_at,
                silenced_until: m.silenced_until.filter(|t| *t > Utc::now()),
            })
        })
        .collect())
}

/// `POST /api/v1/rooms/:id/mute` and `…/unmute`: the caller's own mute of the room's unread
/// counts. Errors: 404 unless joined.
pub async fn mute(state: &AppState, me: i64, id: &str, muted: bool) -> AppResult<Room> {
    let (room, _) = joined(state, me, id).await?;
    store::set_muted(&state.db, room.id, me, muted).await?;
    let member = store::member(&state.db, room.id, me)
        .await?
        .ok_or(AppError::NotFound)?;
    entity(state, &room, &member).await
}

/// `POST /api/v1/rooms/:id/read` with `last_read_id` (default: the newest message): the caller
/// has read up to there. Errors: 404 unless joined.
pub async fn read(
    state: &AppState,
    me: i64,
    id: &str,
    last_read_id: Option<&str>,
) -> AppResult<Room> {
    let (room, member) = joined(state, me, id).await?;
    let upto = match last_read_id {
        // A message of the room, not any number: a read mark past the newest message would
        // count every later one as read.
        Some(s) => {
            let found = match s.parse::<i64>() {
                Ok(mid) => store::find_message(&state.db, room.id, mid).await?,
                Err(_) => None,
            };
            found.map(|m| m.id).ok_or_else(|| {
                AppError::unprocessable(
                    "Validation failed: last_read_id is not a message of this room",
                )
            })?
        }
        None => {
            let newest = store::messages(
                &state.db,
                room.id,
                member.first_visible_id(),
                None,
                &Page {
                    limit: 1,
                    ..Page::default()
                },
            )
            .await?;
            newest.first().map_or(0, |m| m.id)
        }
    };
    store::mark_read(&state.db, room.id, me, upto).await?;
    let member = store::member(&state.db, room.id, me)
        .await?
        .ok_or(AppError::NotFound)?;
    entity(state, &room, &member).await
}

/// `GET /api/v1/rooms/:id/messages`: newest first, paginated by ID, only from the caller's join;
/// `q` keeps those containing every word of it (its first 8). Errors: 404 unless joined; 422 for
/// `q` over [`MAX_QUERY`] characters.
pub async fn messages(
    state: &AppState,
    me: i64,
    id: &str,
    q: Option<&str>,
    page: &Page,
) -> AppResult<Vec<RoomMessage>> {
    let (room, member) = joined(state, me, id).await?;
    if q.is_some_and(|q| q.chars().count() > MAX_QUERY) {
        return Err(AppError::unprocessable(format!(
            "Validation failed: q is too long (maximum is {MAX_QUERY} characters)"
        )));
    }
    let rows = store::messages(&state.db, room.id, member.first_visible_id(), q, page).await?;
    messages_entities(state, &rows).await
}

/// `POST /api/v1/rooms/:id/messages` with `text` (and `in_reply_to_id`, a message of the room):
/// stored, then sent to every joined member's `direct` stream as `rookery.room.message`. `@user`
/// names a member (`mentions`).
///
/// Errors: 404 unless joined; 403 while muted by an admin; 422 for blank text, text over
/// `instance.max_characters`, or a reply to a message that is not in the room.
pub async fn post(
    state: &AppState,
    me: &CurrentUser,
    id: &str,
    text: &str,
    in_reply_to_id: Option<&str>,
) -> AppResult<RoomMessage> {
    let (room, member) = joined(state, me.account.id, id).await?;
    if member.silenced_until.is_some_and(|t| t > Utc::now()) {
        return Err(AppError::forbidden(
            "An admin muted you in this room for now",
        ));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: Text can't be blank",
        ));
    }
    let max = state.config.instance.max_characters as usize;
    if crate::text::status_length(text) > max {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Text character limit of {max} exceeded"
        )));
    }
    let in_reply_to_id = match in_reply_to_id.filter(|s| !s.is_empty()) {
        Some(r) => {
            let r = r.parse::<i64>().ok();
            match r {
                Some(r) if store::find_message(&state.db, room.id, r).await?.is_some() => Some(r),
                _ => {
                    return Err(AppError::unprocessable(
                        "Validation failed: in_reply_to_id is not a message of this room",
                    ));
                }
            }
        }
        None => None,
    };
    let members = store::members(&state.db, room.id).await?;
    let joined_ids: Vec<i64> = members
        .iter()
        .filter(|m| m.joined())
        .map(|m| m.account_id)
        .collect();
    let named = accounts::find_accounts(&state.db, &joined_ids).await?;
    let domain = &state.config.server.domain;
    // `@user` names a member here, else the one member elsewhere of that name; `@user@domain`
    // names the member of that server.
    let is_member = |m: &crate::text::MentionRef| {
        let named_here = |a: &&AccountRow| a.username.eq_ignore_ascii_case(&m.username);
        match m.domain.as_deref() {
            Some(d) if !d.eq_ignore_ascii_case(domain) => named.iter().find(|a| {
                named_here(a)
                    && a.domain
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(d))
            }),
            Some(_) => named.iter().find(|a| named_here(a) && a.domain.is_none()),
            None => named
                .iter()
                .find(|a| named_here(a) && a.domain.is_none())
                .or_else(|| {
                    let mut elsewhere = named.iter().filter(|a| named_here(a));
                    match (elsewhere.next(), elsewhere.next()) {
                        (Some(one), None) => Some(one),
                        _ => None,
                    }
                }),
        }
    };
    let (refs, _) = crate::text::extract(text);
    let mut mentions: Vec<i64> = refs
        .iter()
        .filter_map(|m| is_member(m).map(|a| a.id))
        .collect();
    mentions.sort_unstable();
    mentions.dedup();
    let content = crate::text::render_status(text, &state.config.base_url(), |m| {
        is_member(m).map(|a| a.url.clone().unwrap_or_else(|| a.uri.clone()))
    });
    let now = Utc::now();
    let mid = ids::new_id();
    let row = MessageRow {
        id: mid,
        room_id: room.id,
        account_id: me.account.id,
        uri: format!(
            "{}/rooms/{}/messages/{mid}",
            state.config.base_url(),
            room.id
        ),
        in_reply_to_id,
        text: text.to_string(),
        content,
        mentions: Json(mentions),
        created_at: now,
    };
    store::insert_message(&state.db, &row).await?;
    remote::send_message(state, &room, &row, None).await?;
    // Whoever writes has read the room up to there.
    store::mark_read(&state.db, room.id, me.account.id, mid).await?;
    let entity = messages_entities(state, std::slice::from_ref(&row))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let payload = serde_json::to_string(&entity).map_err(|e| AppError::Internal(e.into()))?;
    publish(
        state,
        joined_ids,
        "rookery.room.message",
        payload,
        Some(me.account.id),
    );
    Ok(entity)
}

/// `DELETE /api/v1/rooms/:id/messages/:message_id` (its author, or an owner or admin): gone for
/// everyone, who get `rookery.room.message.delete`. Errors: 404; 403 for someone else's message.
pub async fn delete_message(state: &AppState, me: i64, id: &str, message: &str) -> AppResult<()> {
    let (room, member) = joined(state, me, id).await?;
    let mid = parse_id(message)?;
    let row = store::find_message(&state.db, room.id, mid)
        .await?
        .filter(|m| m.id >= member.first_visible_id())
        .ok_or(AppError::NotFound)?;
    if row.account_id != me && !member.moderates() {
        return Err(AppError::forbidden(
            "Only its author and the room's admins may delete a message",
        ));
    }
    erase_message(state, &room, &row).await?;
    remote::send_message_delete(state, &room, &row.uri, me).await
}
