//! Follows (with follow requests for locked accounts), blocks and mutes, and the `Relationship`
//! entity that describes them. Source: docs.joinmastodon.org/methods/accounts/.

use chrono::{Duration, Utc};

use crate::api_types::Relationship;
use crate::error::{AppError, AppResult};
use crate::service::notifications::{self, Pending};
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::relationships::{self as store, FollowTable};
use crate::storage::statuses;

/// Recent statuses merged into a new follower's home feed.
const MERGE_ON_FOLLOW: i64 = 40;

/// Relationships between `viewer` and each of `targets`, in order.
pub async fn relationships(
    state: &AppState,
    viewer: i64,
    targets: &[i64],
) -> AppResult<Vec<Relationship>> {
    let facts = store::facts(&state.db, viewer, targets).await?;
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
            domain_blocking: false,
            endorsed: false,
            note: String::new(),
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
/// Errors: 404 unknown account; 403 for oneself or when either side blocks the other.
pub async fn follow(
    state: &AppState,
    me: i64,
    id: &str,
    reblogs: Option<bool>,
    notify: Option<bool>,
) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    if store::blocked_either_way(&state.db, me, t.id).await? {
        return Err(AppError::forbidden("This action is not allowed"));
    }
    let existing = store::find_follow(&state.db, FollowTable::Follows, me, t.id).await?;
    let reblogs = reblogs
        .or(existing.as_ref().map(|f| f.show_reblogs))
        .unwrap_or(true);
    let notify = notify
        .or(existing.as_ref().map(|f| f.notify))
        .unwrap_or(false);
    let mut tx = state.db.begin().await?;
    let mut pending: Vec<Pending> = Vec::new();
    if existing.is_some() || !t.locked {
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
            statuses::merge_into_feed(&mut tx, me, t.id, true, MERGE_ON_FOLLOW).await?;
            pending.extend(notifications::create(state, &mut tx, t.id, me, "follow", None).await?);
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
            pending.extend(
                notifications::create(state, &mut tx, t.id, me, "follow_request", None).await?,
            );
        }
    }
    tx.commit().await?;
    notifications::publish(state, &pending).await;
    relationship(state, me, t.id).await
}

/// Unfollows (or withdraws a follow request); the account's posts leave the home feed.
pub async fn unfollow(state: &AppState, me: i64, id: &str) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    let mut tx = state.db.begin().await?;
    if store::delete_follow(&mut tx, FollowTable::Follows, me, t.id).await? {
        statuses::unmerge_from_feed(&mut tx, me, t.id).await?;
    }
    if store::delete_follow(&mut tx, FollowTable::Requests, me, t.id).await? {
        crate::storage::notifications::remove(&mut tx, t.id, me, "follow_request", None).await?;
    }
    tx.commit().await?;
    relationship(state, me, t.id).await
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
    tx.commit().await?;
    relationship(state, me, t.id).await
}

/// Blocks an account: follows and requests both ways end, and each disappears from the other's
/// home feed, timelines and notifications.
pub async fn block(state: &AppState, me: i64, id: &str) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    let mut tx = state.db.begin().await?;
    store::insert_block(&mut tx, me, t.id).await?;
    for (a, b) in [(me, t.id), (t.id, me)] {
        if store::delete_follow(&mut tx, FollowTable::Follows, a, b).await? {
            statuses::unmerge_from_feed(&mut tx, a, b).await?;
        }
        store::delete_follow(&mut tx, FollowTable::Requests, a, b).await?;
    }
    tx.commit().await?;
    relationship(state, me, t.id).await
}

pub async fn unblock(state: &AppState, me: i64, id: &str) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    store::delete_block(&state.db, me, t.id).await?;
    relationship(state, me, t.id).await
}

/// Mutes an account, hiding its posts from timelines and (by default) its notifications;
/// `duration` in seconds, 0 or absent for indefinitely.
pub async fn mute(
    state: &AppState,
    me: i64,
    id: &str,
    notifications: Option<bool>,
    duration: Option<i64>,
) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    let expires = duration
        .filter(|d| *d > 0)
        .map(|d| Utc::now() + Duration::seconds(d));
    store::upsert_mute(&state.db, me, t.id, notifications.unwrap_or(true), expires).await?;
    relationship(state, me, t.id).await
}

pub async fn unmute(state: &AppState, me: i64, id: &str) -> AppResult<Relationship> {
    let t = target(state, me, id).await?;
    store::delete_mute(&state.db, me, t.id).await?;
    relationship(state, me, t.id).await
}
