//! Rooms: what changes who is in a room and with which role — invitations, joining and leaving,
//! removal, roles and hand-over, admins' mutes (docs/API.md, "Rooms").

use chrono::{Duration, Utc};
use serde_json::json;

use super::{MAX_MEMBERS, MAX_SILENCE_SECS, entity, parse_id};
use super::{changed, invited, local_account, membership, moderating, not_blocked, publish};
use crate::api_types::room::{Room, RoomMember};
use crate::error::{AppError, AppResult};
use crate::service::render;
use crate::state::AppState;
use crate::storage::accounts;
use crate::storage::rooms::{self as store, MemberRow};

/// `POST /api/v1/rooms/:id/invitations` (owner or admin): invites `handle`. Someone already in
/// the room or invited stays as they are.
///
/// Errors: 404, 403, 422 for a blank handle, one naming no local account or blocking (or blocked
/// by) the caller, or a full room.
pub async fn invite(state: &AppState, me: i64, id: &str, handle: &str) -> AppResult<Room> {
    let (room, member) = moderating(state, me, id).await?;
    if handle.trim().is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: acct can't be blank",
        ));
    }
    let account = local_account(state, handle).await?;
    not_blocked(state, me, &account).await?;
    if store::members(&state.db, room.id).await?.len() >= MAX_MEMBERS {
        return Err(AppError::unprocessable(format!(
            "A room holds at most {MAX_MEMBERS} members"
        )));
    }
    if store::invite(&state.db, room.id, account.id, me, Utc::now()).await? {
        invited(state, &room, account.id).await?;
        changed(state, room.id).await?;
    }
    entity(state, &room, &member).await
}

/// `POST /api/v1/rooms/:id/accept`: the invitee joins; its history starts now. Errors: 404 unless
/// invited; 422 when already a member.
pub async fn accept(state: &AppState, me: i64, id: &str) -> AppResult<Room> {
    let (room, _) = membership(state, me, id).await?;
    if !store::join(&state.db, room.id, me, Utc::now()).await? {
        return Err(AppError::unprocessable(
            "You are already a member of this room",
        ));
    }
    changed(state, room.id).await?;
    let member = store::member(&state.db, room.id, me)
        .await?
        .ok_or(AppError::NotFound)?;
    entity(state, &room, &member).await
}

/// `POST /api/v1/rooms/:id/decline` (an invitee) and `POST /api/v1/rooms/:id/leave` (a member):
/// the caller is out of the room. Errors: 404; 422 for the owner, who hands the room over or
/// deletes it instead.
pub async fn leave(state: &AppState, me: i64, id: &str) -> AppResult<()> {
    let (room, member) = membership(state, me, id).await?;
    if member.role == "owner" {
        return Err(AppError::unprocessable(
            "The owner cannot leave: hand the room over to another member or delete it",
        ));
    }
    store::remove(&state.db, room.id, me).await?;
    changed(state, room.id).await?;
    publish(
        state,
        vec![me],
        "rookery.room.removed",
        json!({ "room_id": room.id.to_string() }).to_string(),
        None,
    );
    Ok(())
}

/// The member `account` (a string ID) of `room`, joined or invited. Errors: 404.
async fn target(state: &AppState, room: i64, account: &str) -> AppResult<MemberRow> {
    let account = parse_id(account)?;
    store::member(&state.db, room, account)
        .await?
        .ok_or(AppError::NotFound)
}

/// Whether `actor` may act on `target`: the owner on anyone else, an admin on members and
/// invitees (not on the owner or other admins).
fn outranks(actor: &MemberRow, target: &MemberRow) -> bool {
    actor.account_id != target.account_id
        && (actor.role == "owner" || (actor.role == "admin" && target.role == "member"))
}

/// `DELETE /api/v1/rooms/:id/members/:account_id` (owner or admin): removes a member or withdraws
/// an invitation; they get `rookery.room.removed` and nothing of the room from then on.
///
/// Errors: 404; 403 for a member, or an admin acting on the owner or another admin.
pub async fn remove(state: &AppState, me: i64, id: &str, account: &str) -> AppResult<()> {
    let (room, actor) = moderating(state, me, id).await?;
    let target = target(state, room.id, account).await?;
    if !outranks(&actor, &target) {
        return Err(AppError::forbidden("You may not remove this member"));
    }
    store::remove(&state.db, room.id, target.account_id).await?;
    publish(
        state,
        vec![target.account_id],
        "rookery.room.removed",
        json!({ "room_id": room.id.to_string() }).to_string(),
        None,
    );
    changed(state, room.id).await
}

/// `POST /api/v1/rooms/:id/members/:account_id/role` with `role`: `admin` or `member` (owner or
/// admin, on a joined member below them; an admin may promote members and the owner may demote
/// admins), or `owner` (the owner only: hands the room over and becomes an admin).
///
/// Errors: 404; 403 as [`remove`]; 422 for another role or an invitee.
pub async fn set_role(
    state: &AppState,
    me: i64,
    id: &str,
    account: &str,
    role: &str,
) -> AppResult<RoomMember> {
    let (room, actor) = moderating(state, me, id).await?;
    let target = target(state, room.id, account).await?;
    if !target.joined() {
        return Err(AppError::unprocessable(
            "An invitee has no role until they join",
        ));
    }
    match role {
        "owner" => {
            if actor.role != "owner" || target.account_id == me {
                return Err(AppError::forbidden("Only the owner may hand the room over"));
            }
            store::transfer(&state.db, room.id, me, target.account_id).await?;
        }
        "admin" | "member" => {
            if !outranks(&actor, &target) {
                return Err(AppError::forbidden("You may not change this member's role"));
            }
            store::set_role(&state.db, room.id, target.account_id, role).await?;
        }
        other => {
            return Err(AppError::unprocessable(format!(
                "Validation failed: Role {other:?} is not one of owner, admin, member"
            )));
        }
    }
    changed(state, room.id).await?;
    one_member(state, room.id, target.account_id).await
}

async fn one_member(state: &AppState, room: i64, account: i64) -> AppResult<RoomMember> {
    let m = store::member(&state.db, room, account)
        .await?
        .ok_or(AppError::NotFound)?;
    let a = accounts::find_account(&state.db, account)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(RoomMember {
        account: render::account(state, &a).await?,
        role: m.role,
        state: m.state,
        joined_at: m.joined_at,
        silenced_until: m.silenced_until.filter(|t| *t > Utc::now()),
    })
}

/// `POST /api/v1/rooms/:id/members/:account_id/mute` with `duration` (seconds, 1 to a year;
/// default one hour) and `…/unmute` (`duration = None`): an admin stops a member posting for a
/// while. Errors: 404; 403 as [`remove`]; 422 for a duration out of range.
pub async fn silence(
    state: &AppState,
    me: i64,
    id: &str,
    account: &str,
    duration: Option<i64>,
) -> AppResult<RoomMember> {
    let (room, actor) = moderating(state, me, id).await?;
    let target = target(state, room.id, account).await?;
    if !outranks(&actor, &target) {
        return Err(AppError::forbidden("You may not mute this member"));
    }
    let until = match duration {
        None => None,
        Some(d) if (1..=MAX_SILENCE_SECS).contains(&d) => Some(Utc::now() + Duration::seconds(d)),
        Some(_) => {
            return Err(AppError::unprocessable(format!(
                "Validation failed: Duration must be between 1 and {MAX_SILENCE_SECS} seconds"
            )));
        }
    };
    store::silence(&state.db, room.id, target.account_id, until).await?;
    changed(state, room.id).await?;
    one_member(state, room.id, target.account_id).await
}
