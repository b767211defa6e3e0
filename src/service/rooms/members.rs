//! Rooms: what changes who is in a room and with which role — invitations, joining and leaving,
//! removal, roles and hand-over, admins' mutes (docs/API.md, "Rooms").

use chrono::{Duration, Utc};

use super::{MAX_MEMBERS, MAX_SILENCE_SECS, entity, parse_id};
use super::{changed, hosted_here, invited, invitee_account, membership, moderating, not_blocked};
use super::{remote, tell_removed};
use crate::api_types::room::{Room, RoomMember};
use crate::error::{AppError, AppResult};
use crate::service::activitypub::context::FedData;
use crate::service::render;
use crate::state::AppState;
use crate::storage::accounts;
use crate::storage::rooms::{self as store, MemberRow};

/// `POST /api/v1/rooms/:id/invitations` (owner or admin): invites `handle`. Someone already in
/// the room or invited stays as they are.
///
/// A handle on another server is found by WebFinger and sent the room's `Invite`.
///
/// Errors: 404, 403, 422 for a blank handle, one naming nobody or blocking (or blocked by) the
/// caller, a full room, or a room hosted elsewhere (invitations are made on its host).
pub async fn invite(data: &FedData, me: i64, id: &str, handle: &str) -> AppResult<Room> {
    let state: &AppState = data;
    let (room, member) = moderating(state, me, id).await?;
    if handle.trim().is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: acct can't be blank",
        ));
    }
    let account = invitee_account(data, handle).await?;
    not_blocked(state, me, &account).await?;
    if !room.local {
        // The host invites; its `Invite` (or `Update`) tells this server.
        if store::member(&state.db, room.id, account.id)
            .await?
            .is_none()
        {
            remote::send_invite_request(state, &room, me, &account).await?;
        }
        return entity(state, &room, &member).await;
    }
    if store::members(&state.db, room.id).await?.len() >= MAX_MEMBERS {
        return Err(AppError::unprocessable(format!(
            "A room holds at most {MAX_MEMBERS} members"
        )));
    }
    if store::invite(&state.db, room.id, account.id, Some(me), Utc::now()).await? {
        if account.is_local() {
            invited(state, &room, account.id).await?;
        } else {
            remote::send_invite(state, &room, &account).await?;
        }
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
    if room.local {
        remote::send_membership(state, &room, me, true).await?;
    } else {
        remote::send_answer(state, &room, me, true).await?;
    }
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
    if room.local {
        remote::send_membership(state, &room, me, false).await?;
    } else if member.joined() {
        remote::send_leave(state, &room, me).await?;
    } else {
        remote::send_answer(state, &room, me, false).await?;
    }
    if !room.local && store::local_members_count(&state.db, room.id).await? == 0 {
        // Nobody here is in the room any more: the copy goes.
        store::delete(&state.db, room.id).await?;
    }
    tell_removed(state, room.id, vec![me]);
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
pub(super) fn outranks(actor: &MemberRow, target: &MemberRow) -> bool {
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
    if room.local {
        remote::send_membership(state, &room, target.account_id, false).await?;
    } else {
        remote::send_remove(state, &room, me, target.account_id).await?;
    }
    tell_removed(state, room.id, vec![target.account_id]);
    changed(state, room.id).await
}

/// `POST /api/v1/rooms/:id/members/:account_id/role` with `role`: `admin` or `member` (owner or
/// admin, on a joined member below them; an admin may promote members and the owner may demote
/// admins), or `owner` (the owner only: hands the room over and becomes an admin). On a member's
/// server `admin` and `member` are applied to the copy and sent to the host (`Add`/`Remove` on the
/// room's `moderators`); `owner` is the host's.
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
    if role == "owner" {
        hosted_here(&room, "owner")?;
    }
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
            // The owner acts for the room on its host: a room is handed only to someone there.
            if !accounts::find_account(&state.db, target.account_id)
                .await?
                .is_some_and(|a| a.is_local())
            {
                return Err(AppError::unprocessable(
                    "A room can be handed over only to a member on its own server",
                ));
            }
            store::transfer(&state.db, room.id, me, target.account_id).await?;
        }
        "admin" | "member" => {
            if !outranks(&actor, &target) {
                return Err(AppError::forbidden("You may not change this member's role"));
            }
            store::set_role(&state.db, room.id, target.account_id, role).await?;
            if !room.local {
                // Applied to the copy at once; the host's `Update` confirms it.
                remote::send_role(state, &room, me, target.account_id, role == "admin").await?;
                changed(state, room.id).await?;
                return one_member(state, room.id, target.account_id).await;
            }
        }
        other => {
            return Err(AppError::unprocessable(format!(
                "Validation failed: Role {other:?} is not one of owner, admin, member"
            )));
        }
    }
    changed(state, room.id).await?;
    remote::send_update(state, &room).await?;
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
/// while (on a member's server, applied to the copy and sent to the host as `Block` or `Undo`).
/// Errors: 404; 403 as [`remove`]; 422 for a duration out of range.
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
    if !room.local {
        // Applied to the copy at once, and on the host, which decides.
        remote::send_silence(state, &room, me, target.account_id, until).await?;
    }
    changed(state, room.id).await?;
    one_member(state, room.id, target.account_id).await
}

/// An account suspended here (or deleted by its owner, which suspends it): its messages go from
/// every room it is in, it leaves them (the others are told; remote members' servers get the
/// room's `Remove` and `Update`), and a room hosted here that it owned passes to its
/// longest-standing admin on this server, else its longest-standing member here; a room with
/// nobody else here is deleted. Its copies elsewhere drop its messages with the actor's `Delete`.
pub async fn account_gone(state: &AppState, account: i64) -> AppResult<()> {
    for (room, member) in store::of_account(&state.db, account).await? {
        let others = store::members(&state.db, room.id).await?;
        let ids: Vec<i64> = others.iter().map(|m| m.account_id).collect();
        let local: Vec<i64> = accounts::find_accounts(&state.db, &ids)
            .await?
            .into_iter()
            .filter(|a| a.is_local() && a.id != account && a.suspended_at.is_none())
            .map(|a| a.id)
            .collect();
        // Owner first, then admins, then by invitation: the first joined one here inherits.
        let heir = others
            .iter()
            .find(|m| m.joined() && local.contains(&m.account_id))
            .map(|m| m.account_id);
        if room.local && member.role == "owner" {
            let Some(heir) = heir else {
                if !store::remote_inboxes(&state.db, room.id).await?.is_empty() {
                    remote::send_room_delete(state, &room).await?;
                }
                store::delete(&state.db, room.id).await?;
                tell_removed(state, room.id, ids);
                continue;
            };
            store::transfer(&state.db, room.id, account, heir).await?;
        }
        store::delete_messages_of(&state.db, room.id, account).await?;
        store::remove(&state.db, room.id, account).await?;
        tell_removed(state, room.id, vec![account]);
        changed(state, room.id).await?;
        if room.local {
            remote::send_membership(state, &room, account, false).await?;
            remote::send_update(state, &room).await?;
        } else if store::local_members_count(&state.db, room.id).await? == 0 {
            store::delete(&state.db, room.id).await?;
        }
    }
    Ok(())
}
