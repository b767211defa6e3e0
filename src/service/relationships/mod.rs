//! Follows (with follow requests for locked accounts), blocks and mutes, and the `Relationship`
//! entity that describes them. Source: docs.joinmastodon.org/methods/accounts/.
//!
//! Files: this one (the client API and what we send) and `inbound` (Follow, Accept, Reject,
//! Undo and Block from other servers).

pub mod domains;
mod inbound;
mod moved;
pub use inbound::*;
pub use moved::*;

use crate::api_types::Relationship;
use crate::error::{AppError, AppResult};
use crate::federation::objects::follow as follow_activity;
use crate::service::notifications::{self, Pending};
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::relationships::{self as store, FollowTable};
use crate::storage::statuses;

pub use crate::storage::relationships::AccountList;

/// Recent statuses merged into a new follower's home feed.
const MERGE_ON_FOLLOW: i64 = 40;

/// Relationships between `viewer` and each of `targets`, in order.
pub async fn relationships(
    state: &AppState,
    viewer: i64,
    targets: &[i64],
) -> AppResult<Vec<Relationship>> {
    let facts = store::facts(&state.db, viewer, targets).await?;
    let notes = store::notes(&state.db, viewer, targets).await?;
    let domain_blocked =
        crate::storage::user_domain_blocks::blocked_among(&state.db, viewer, targets).await?;
    let note_of = |id: i64| {
        notes
            .iter()
            .find(|(t, _)| *t == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    Ok(facts
        .into_iter()
        .map(|(id, f)| Relationship {
            id: id.to_string(),
            following: f.following.is_some(),
            showing_reblogs: f.following.is_some_and(|(r, _)| r),
            notifying: f.following.is_some_and(|(_, n)| n),
            languages: None,
            followed_by: f.followed_by,
            blocking: f.blocking,
            blocked_by: f.blocked_by,
            muting: f.muting.is_some(),
            muting_notifications: f.muting.unwrap_or(false),
            requested: f.requested,
            requested_by: f.requested_by,
            domain_blocking: domain_blocked.contains(&id),
            endorsed: f.endorsed,
            note: note_of(id),
        })
        .collect())
}

pub async fn relationship(state: &AppState, viewer: i64, target: i64) -> AppResult<Relationship> {
    Ok(relationships(state, viewer, &[target]).await?.remove(0))
}

/// The target account, which must exist and not be the viewer.
async fn target(state: &AppState, viewer: i64, id: &str) -> AppResult<AccountRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = accounts::find_account(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.id == viewer {
        return Err(AppError::forbidden("You cannot do this to yourself"));
    }
    Ok(row)
}

/// Follows an account: at once (with recent posts merged into the home feed and a `follow`
/// notification), or as a follow request when the account is locked (`follow_request`). Following
/// again only updates `reblogs`/`notify`.
///
/// Errors: 404 unknown account; 403 for oneself, when either side blocks the other, or when the
/// account has moved (Mastodon's rule: follow where it went).
pub async fn follow(
    state: &AppState,
    me: i64,
    id: &str,
    reblogs: Option<bool>,
    notify: Option<bool>,
) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    follow_account(state, me, &t, reblogs, notify, false).await?;
    relationship(state, me, t.id).await
}

/// [`follow`] of a known account; `bypass_locked` follows a locked local account at once (a
/// follower carried over by a move the account asked for).
pub(crate) async fn follow_account(
    state: &AppState,
    me: i64,
    t: &AccountRow,
    reblogs: Option<bool>,
    notify: Option<bool>,
    bypass_locked: bool,
) -> AppResult<()> {
    if store::blocked_either_way(&state.db, me, t.id).await? {
        return Err(AppError::forbidden("This action is not allowed"));
    }
    if t.moved_to_account_id.is_some() {
        return Err(AppError::forbidden("This account has moved"));
    }
    let existing = store::find_follow(&state.db, FollowTable::Follows, me, t.id).await?;
    let reblogs = reblogs
        .or(existing.as_ref().map(|f| f.show_reblogs))
        .unwrap_or(true);
    let notify = notify
        .or(existing.as_ref().map(|f| f.notify))
        .unwrap_or(false);
    if !t.is_local() {
        return follow_remote(state, me, t, reblogs, notify).await;
    }
    let mut tx = state.db.begin().await?;
    let mut pending: Vec<Pending> = Vec::new();
    if existing.is_some() || !t.locked || bypass_locked {
        let new = store::upsert_follow(
            &mut tx,
            FollowTable::Follows,
            me,
            t.id,
            reblogs,
            notify,
            None,
        )
        .await?;
        if new {
            if store::delete_follow(&mut tx, FollowTable::Requests, me, t.id).await? {
                crate::storage::notifications::remove(&mut tx, t.id, me, "follow_request", None)
                    .await?;
            }
            statuses::merge_into_feed(&mut tx, me, t.id, true, MERGE_ON_FOLLOW).await?;
            pending.extend(notifications::create(&mut tx, t.id, me, "follow", None).await?);
        }
    } else {
        let new = store::upsert_follow(
            &mut tx,
            FollowTable::Requests,
            me,
            t.id,
            reblogs,
            notify,
            None,
        )
        .await?;
        if new {
            pending.extend(notifications::create(&mut tx, t.id, me, "follow_request", None).await?);
        }
    }
    tx.commit().await?;
    notifications::publish(state, &pending).await;
    Ok(())
}

/// Unfollows (or withdraws a follow request); the account's posts leave the home feed.
pub async fn unfollow(state: &AppState, me: i64, id: &str) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    unfollow_account(state, me, &t).await?;
    relationship(state, me, t.id).await
}

/// [`unfollow`] of a known account.
pub(crate) async fn unfollow_account(state: &AppState, me: i64, t: &AccountRow) -> AppResult<()> {
    let follow = store::find_follow(&state.db, FollowTable::Follows, me, t.id).await?;
    let request = store::find_follow(&state.db, FollowTable::Requests, me, t.id).await?;
    let me_row = if t.is_local() {
        None
    } else {
        Some(ensure_keys(state, me).await?)
    };
    let mut tx = state.db.begin().await?;
    if store::delete_follow(&mut tx, FollowTable::Follows, me, t.id).await? {
        statuses::unmerge_from_feed(&mut tx, me, t.id).await?;
    }
    if store::delete_follow(&mut tx, FollowTable::Requests, me, t.id).await? && t.is_local() {
        crate::storage::notifications::remove(&mut tx, t.id, me, "follow_request", None).await?;
    }
    if let Some(me_row) = &me_row {
        let uri = follow
            .as_ref()
            .or(request.as_ref())
            .and_then(|f| f.uri.clone());
        undo_remote_follow(&mut tx, me_row, &t, uri.as_deref()).await?;
    }
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

/// Makes an account stop following the user.
pub async fn remove_from_followers(state: &AppState, me: i64, id: &str) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    let mut tx = state.db.begin().await?;
    if store::delete_follow(&mut tx, FollowTable::Follows, t.id, me).await? {
        statuses::unmerge_from_feed(&mut tx, t.id, me).await?;
    }
    tx.commit().await?;
    relationship(state, me, t.id).await
}

/// Authorizes (`accept`) or rejects a pending follow request from `id`.
///
/// Errors: 404 when there is no such request.
pub async fn answer_request(
    state: &AppState,
    me: i64,
    id: &str,
    accept: bool,
) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    let req = store::find_follow(&state.db, FollowTable::Requests, t.id, me)
        .await?
        .ok_or(AppError::NotFound)?;
    let me_row = if t.is_local() {
        None
    } else {
        Some(ensure_keys(state, me).await?)
    };
    let mut tx = state.db.begin().await?;
    store::delete_follow(&mut tx, FollowTable::Requests, t.id, me).await?;
    crate::storage::notifications::remove(&mut tx, me, t.id, "follow_request", None).await?;
    if accept {
        store::upsert_follow(
            &mut tx,
            FollowTable::Follows,
            t.id,
            me,
            req.show_reblogs,
            req.notify,
            req.uri.as_deref(),
        )
        .await?;
        statuses::merge_into_feed(&mut tx, t.id, me, true, MERGE_ON_FOLLOW).await?;
    }
    if let Some(me_row) = &me_row
        && let Some(follow_uri) = req.uri.as_deref()
    {
        let kind = if accept { "Accept" } else { "Reject" };
        let answer = serde_json::json!({
            "id": format!("{}#{}/{}", me_row.uri, kind.to_lowercase(), crate::storage::ids::new_id()),
            "type": kind,
            "actor": me_row.uri,
            "object": follow_activity(follow_uri, &t.uri, &me_row.uri),
        });
        send_to(&mut tx, &answer, me, &t).await?;
    }
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    relationship(state, me, t.id).await
}

/// Blocks an account: follows and requests both ways end, and each disappears from the other's
/// home feed, timelines and notifications.
pub async fn block(state: &AppState, me: i64, id: &str) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    let me_row = if t.is_local() {
        None
    } else {
        Some(ensure_keys(state, me).await?)
    };
    let mut tx = state.db.begin().await?;
    let new = store::insert_block(&mut tx, me, t.id).await?;
    for (a, b) in [(me, t.id), (t.id, me)] {
        if store::delete_follow(&mut tx, FollowTable::Follows, a, b).await? {
            statuses::unmerge_from_feed(&mut tx, a, b).await?;
        }
        store::delete_follow(&mut tx, FollowTable::Requests, a, b).await?;
    }
    if let Some(me_row) = me_row.as_ref().filter(|_| new) {
        let block = crate::federation::objects::block(&me_row.uri, t.id, &t.uri);
        send_to(&mut tx, &block, me, &t).await?;
    }
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    relationship(state, me, t.id).await
}

pub async fn unblock(state: &AppState, me: i64, id: &str) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    let was = store::delete_block(&state.db, me, t.id).await?;
    if was && !t.is_local() {
        let me_row = ensure_keys(state, me).await?;
        let undo = crate::federation::objects::undo(
            &me_row.uri,
            crate::federation::objects::block(&me_row.uri, t.id, &t.uri),
        );
        let mut tx = state.db.begin().await?;
        send_to(&mut tx, &undo, me, &t).await?;
        tx.commit().await?;
        state.delivery_wakeup.notify_one();
    }
    relationship(state, me, t.id).await
}

/// Mutes an account, hiding its posts from timelines and (by default) its notifications;
/// `duration` in seconds, 0 or absent for indefinitely.
///
/// Errors: 422 for a negative `duration` or one over `bounds::MAX_DURATION_SECONDS`.
pub async fn mute(
    state: &AppState,
    me: i64,
    id: &str,
    notifications: Option<bool>,
    duration: Option<i64>,
) -> AppResult<Relationship> {
    let expires = match duration {
        None | Some(0) => None,
        Some(d) if d < 0 => {
            return Err(AppError::unprocessable(
                "Validation failed: duration must be 0 (indefinitely) or a number of seconds",
            ));
        }
        Some(d) => Some(crate::service::bounds::expiry_after("duration", d)?),
    };
    let t = target(state, me, id).await?;
    store::upsert_mute(&state.db, me, t.id, notifications.unwrap_or(true), expires).await?;
    relationship(state, me, t.id).await
}

pub async fn unmute(state: &AppState, me: i64, id: &str) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    store::delete_mute(&state.db, me, t.id).await?;
    relationship(state, me, t.id).await
}

// --- Federation ---------------------------------------------------------------------------------

/// The inbox of a remote account (its own, not the shared one: follows are personal).
fn personal_inbox(a: &AccountRow) -> Option<String> {
    a.inbox_url.clone()
}

/// Queues `activity` from local `me` to a remote account's inbox.
pub(crate) async fn send_to(
    tx: &mut crate::storage::Tx,
    activity: &serde_json::Value,
    me: i64,
    to: &AccountRow,
) -> AppResult<()> {
    if let Some(inbox) = personal_inbox(to) {
        crate::service::delivery::enqueue(tx, activity, me, &[inbox], None).await?;
    }
    Ok(())
}

/// Makes sure a local account has a key pair before it signs anything.
async fn ensure_keys(state: &AppState, id: i64) -> AppResult<AccountRow> {
    let me = accounts::find_account(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::service::activitypub::keys::public_key_pem(state, &me).await?;
    Ok(me)
}

/// Follows a remote account: a pending request until its server answers with `Accept`.
async fn follow_remote(
    state: &AppState,
    me: i64,
    t: &AccountRow,
    reblogs: bool,
    notify: bool,
) -> AppResult<()> {
    let me_row = ensure_keys(state, me).await?;
    if let Some(existing) = store::find_follow(&state.db, FollowTable::Follows, me, t.id).await? {
        let mut tx = state.db.begin().await?;
        store::upsert_follow(
            &mut tx,
            FollowTable::Follows,
            me,
            t.id,
            reblogs,
            notify,
            existing.uri.as_deref(),
        )
        .await?;
        tx.commit().await?;
        return Ok(());
    }
    let uri = format!(
        "{}/activities/follows/{}",
        state.config.base_url(),
        crate::storage::ids::new_id()
    );
    let mut tx = state.db.begin().await?;
    if store::upsert_follow(
        &mut tx,
        FollowTable::Requests,
        me,
        t.id,
        reblogs,
        notify,
        Some(&uri),
    )
    .await?
    {
        send_to(&mut tx, &follow_activity(&uri, &me_row.uri, &t.uri), me, t).await?;
    }
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

/// Tells a remote account's server that `me` stopped following (or asking to follow) it.
async fn undo_remote_follow(
    tx: &mut crate::storage::Tx,
    me_row: &AccountRow,
    t: &AccountRow,
    follow_uri: Option<&str>,
) -> AppResult<()> {
    let Some(follow_uri) = follow_uri else {
        return Ok(());
    };
    let undo = crate::federation::objects::undo(
        &me_row.uri,
        follow_activity(follow_uri, &me_row.uri, &t.uri),
    );
    send_to(tx, &undo, me_row.id, t).await
}

/// A page of accounts from one of `owner`'s lists (followers, following, follow requests,
/// blocks, mutes), rendered, with the pagination IDs of the rows (for the `Link` header).
///
/// Errors: database errors.
pub async fn list_accounts(
    state: &AppState,
    list: AccountList,
    owner: i64,
    page: &crate::service::Page,
) -> AppResult<(Vec<crate::api_types::Account>, Vec<i64>)> {
    let rows = store::list_accounts(&state.db, list, owner, page).await?;
    let ids: Vec<i64> = rows.iter().map(|(i, _)| *i).collect();
    let accounts = crate::service::render::accounts_by_id(
        state,
        &rows.iter().map(|(_, a)| *a).collect::<Vec<_>>(),
    )
    .await?;
    Ok((accounts, ids))
}

/// Longest note about an account, in characters (as Mastodon).
pub const NOTE_MAX_CHARS: usize = 2000;

/// `POST /api/v1/accounts/:id/note` (`comment`): sets (or, empty, removes) `me`'s private note
/// about the account, and returns the relationship with it.
///
/// Errors: 404 unknown account; 403 for oneself; 422 for a note over [`NOTE_MAX_CHARS`].
pub async fn set_note(
    state: &AppState,
    me: i64,
    id: &str,
    comment: &str,
) -> AppResult<Relationship> {
    let row = target(state, me, id).await?;
    if comment.chars().count() > NOTE_MAX_CHARS {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Comment is too long (maximum is {NOTE_MAX_CHARS} characters)"
        )));
    }
    store::set_note(&state.db, me, row.id, comment.trim()).await?;
    relationship(state, me, row.id).await
}

/// Most accounts one `GET /api/v1/accounts/familiar_followers` asks about, and most followers it
/// shows for each.
pub const FAMILIAR_MAX: usize = 40;

/// `GET /api/v1/accounts/familiar_followers?id[]=…`: for each account asked about (in order,
/// repeats once), the accounts `me` follows that follow it — `[{"id", "accounts": [Account]}]`.
///
/// Errors: 422 for more than [`FAMILIAR_MAX`] IDs.
pub async fn familiar_followers(
    state: &AppState,
    me: i64,
    ids: &[String],
) -> AppResult<Vec<serde_json::Value>> {
    if ids.len() > FAMILIAR_MAX {
        return Err(AppError::unprocessable(format!(
            "Validation failed: at most {FAMILIAR_MAX} id[] at once"
        )));
    }
    let mut out = Vec::new();
    let mut done: Vec<i64> = Vec::new();
    for id in ids.iter().filter_map(|i| i.parse::<i64>().ok()) {
        if done.contains(&id) {
            continue;
        }
        done.push(id);
        let followers = store::familiar_followers(&state.db, me, id, FAMILIAR_MAX as i64).await?;
        let accounts = crate::service::render::accounts_by_id(state, &followers).await?;
        out.push(serde_json::json!({"id": id.to_string(), "accounts": accounts}));
    }
    Ok(out)
}

/// True when `viewer` (`0`: anonymous) should not see `author`'s content on public streams:
/// either blocks the other, `viewer` mutes `author`, or `author` is on a silenced domain and
/// `viewer` does not follow them.
///
/// Errors: database errors.
pub async fn hides_author(state: &AppState, viewer: i64, author: i64) -> AppResult<bool> {
    Ok(store::hides_author(&state.db, viewer, author).await?)
}
