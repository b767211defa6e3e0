//! What a user does to a status: favourite, boost, bookmark, pin, mute its thread.

use crate::api_types::status::Status;
use crate::error::{AppError, AppResult};
use crate::service::notifications::{self};
use crate::service::oauth::CurrentUser;
use crate::service::render;
use crate::state::AppState;
use crate::storage::statuses::{self as store, Counter, NewStatus, StatusRow};
use crate::storage::{accounts, ids};

pub use crate::storage::statuses::ActionTable;

use super::*;

/// Favourites a status (idempotent) and notifies its author.
pub async fn favourite(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    on: bool,
) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    let target = row.reblog_of_id.unwrap_or(row.id);
    let row = if target != row.id {
        store::find(&state.db, target)
            .await?
            .ok_or(AppError::NotFound)?
    } else {
        row
    };
    let author = accounts::find_account(&state.db, row.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !author.is_local() {
        crate::service::activitypub::keys::public_key_pem(state, &user.account).await?;
    }
    let mut tx = state.db.begin().await?;
    let mut pending = Vec::new();
    let mut sent = false;
    if on {
        if store::add_action(&mut tx, "favourites", me, row.id).await? {
            if let Some(inbox) = author.inbox_url.clone().filter(|_| !author.is_local()) {
                let like = crate::federation::objects::like(&user.account.uri, row.id, &row.uri);
                crate::service::delivery::enqueue(&mut tx, &like, me, &[inbox], None).await?;
                sent = true;
            }
            store::adjust_counter(&mut tx, row.id, Counter::Favourites, 1).await?;
            pending.extend(
                notifications::create(&mut tx, row.account_id, me, "favourite", Some(row.id))
                    .await?,
            );
        }
    } else if store::remove_action(&mut tx, "favourites", me, row.id).await? {
        store::adjust_counter(&mut tx, row.id, Counter::Favourites, -1).await?;
        if let Some(inbox) = author.inbox_url.clone().filter(|_| !author.is_local()) {
            let like = crate::federation::objects::like(&user.account.uri, row.id, &row.uri);
            let undo = crate::federation::objects::undo(&user.account.uri, like);
            crate::service::delivery::enqueue(&mut tx, &undo, me, &[inbox], None).await?;
            sent = true;
        }
    }
    tx.commit().await?;
    if sent {
        state.delivery_wakeup.notify_one();
    }
    notifications::publish(state, &pending).await;
    let fresh = store::find(&state.db, row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    render::status(state, Some(me), fresh).await
}

/// Boosts a public or unlisted status (idempotent: boosting twice returns the same boost), with
/// visibility `public`, `unlisted` or `private`; returns the boost wrapping the original.
///
/// Errors: 404 when not visible; 422 for private or direct statuses of others.
pub async fn reblog(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    visibility: Option<&str>,
) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    let orig = match row.reblog_of_id {
        Some(o) => store::find(&state.db, o).await?.ok_or(AppError::NotFound)?,
        None => row,
    };
    let allowed = matches!(orig.visibility.as_str(), "public" | "unlisted")
        || (orig.visibility == "private" && orig.account_id == me);
    if !allowed {
        return Err(AppError::unprocessable(
            "Validation failed: This status cannot be boosted",
        ));
    }
    if let Some(existing) = store::find_reblog(&state.db, me, orig.id).await? {
        return render::status(state, Some(me), existing).await;
    }
    let vis = visibility.unwrap_or("public");
    if !matches!(vis, "public" | "unlisted" | "private") {
        return Err(AppError::unprocessable(
            "Validation failed: Visibility must be public, unlisted or private",
        ));
    }
    // Boosting one's own followers-only post keeps it followers-only.
    let vis = if orig.visibility == "private" {
        "private"
    } else {
        vis
    };
    let id = ids::new_id();
    let uri = format!("{}/statuses/{id}/activity", user.account.uri);
    let new = NewStatus {
        id,
        uri: &uri,
        url: None,
        account_id: me,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        reblog_of_id: Some(orig.id),
        conversation_id: orig.conversation_id,
        text: "",
        content: "",
        spoiler_text: "",
        visibility: vis,
        sensitive: false,
        language: None,
        local: true,
        application_id: None,
        created_at: ids::time_of(id),
        in_reply_to_story_id: None,
        short: false,
        quote_approval_policy: 0,
    };
    let announce =
        boost_audience(state, &user.account, &orig)
            .await?
            .map(|(inboxes, author_uri)| Outgoing {
                activity: crate::federation::objects::announce(
                    &uri,
                    vis,
                    new.created_at,
                    &user.account,
                    &orig.uri,
                    &author_uri,
                ),
                inboxes,
            });
    let mut tx = state.db.begin().await?;
    store::insert(&mut tx, &new).await?;
    store::adjust_counter(&mut tx, orig.id, Counter::Reblogs, 1).await?;
    let feed = store::fan_out(&mut tx, id, me, true, true, &[], None).await?;
    let pending =
        notifications::create(&mut tx, orig.account_id, me, "reblog", Some(orig.id)).await?;
    if let Some(out) = &announce {
        crate::service::delivery::enqueue(&mut tx, &out.activity, me, &out.inboxes, None).await?;
    }
    tx.commit().await?;
    if announce.is_some() {
        state.delivery_wakeup.notify_one();
    }
    let boost = store::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    publish_status(state, &boost, &feed, "update", &[]).await;
    notifications::publish(state, &pending.into_iter().collect::<Vec<_>>()).await;
    render::status(state, Some(me), boost).await
}

/// Servers to tell about a local boost (the booster's remote followers and the boosted author's
/// server) and the boosted author's actor URI; `None` when no other server needs to know.
pub(super) async fn boost_audience(
    state: &AppState,
    booster: &crate::storage::accounts::AccountRow,
    orig: &StatusRow,
) -> AppResult<Option<(Vec<String>, String)>> {
    let author = accounts::find_account(&state.db, orig.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut inboxes =
        crate::storage::relationships::remote_follower_inboxes(&state.db, booster.id).await?;
    if !author.is_local()
        && let Some(i) = author
            .shared_inbox_url
            .clone()
            .or_else(|| author.inbox_url.clone())
    {
        inboxes.push(i);
    }
    inboxes.sort();
    inboxes.dedup();
    if inboxes.is_empty() {
        return Ok(None);
    }
    crate::service::activitypub::keys::public_key_pem(state, booster).await?;
    Ok(Some((inboxes, author.uri)))
}

/// Removes the user's boost of a status (if any); returns the original.
pub async fn unreblog(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    let orig_id = row.reblog_of_id.unwrap_or(row.id);
    if let Some(boost) = store::find_reblog(&state.db, me, orig_id).await? {
        let holders = store::feed_holders(&state.db, boost.id).await?;
        let orig = store::find(&state.db, orig_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let undo =
            boost_audience(state, &user.account, &orig)
                .await?
                .map(|(inboxes, author_uri)| Outgoing {
                    activity: crate::federation::objects::undo(
                        &user.account.uri,
                        crate::federation::objects::announce(
                            &boost.uri,
                            &boost.visibility,
                            boost.created_at,
                            &user.account,
                            &orig.uri,
                            &author_uri,
                        ),
                    ),
                    inboxes,
                });
        let mut tx = state.db.begin().await?;
        store::adjust_counter(&mut tx, orig_id, Counter::Reblogs, -1).await?;
        store::delete(&mut tx, boost.id).await?;
        if let Some(out) = &undo {
            crate::service::delivery::enqueue(&mut tx, &out.activity, me, &out.inboxes, None)
                .await?;
        }
        tx.commit().await?;
        if undo.is_some() {
            state.delivery_wakeup.notify_one();
        }
        publish_delete(state, &boost, &holders);
    }
    let orig = store::find(&state.db, orig_id)
        .await?
        .ok_or(AppError::NotFound)?;
    render::status(state, Some(me), orig).await
}

/// Bookmarks or un-bookmarks a visible status (idempotent).
pub async fn bookmark(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    on: bool,
) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    let target = row.reblog_of_id.unwrap_or(row.id);
    let mut tx = state.db.begin().await?;
    if on {
        store::add_action(&mut tx, "bookmarks", me, target).await?;
    } else {
        store::remove_action(&mut tx, "bookmarks", me, target).await?;
    }
    tx.commit().await?;
    let fresh = store::find(&state.db, target)
        .await?
        .ok_or(AppError::NotFound)?;
    render::status(state, Some(me), fresh).await
}

/// Pins or unpins one of the user's own public, unlisted or private posts (at most 5 pins).
///
/// Errors: 422 for someone else's status, a boost, a direct message, or a sixth pin.
pub async fn pin(state: &AppState, user: &CurrentUser, id: &str, on: bool) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    if on {
        if row.account_id != me || row.reblog_of_id.is_some() || row.visibility == "direct" {
            return Err(AppError::unprocessable(
                "Validation failed: Only your own posts can be pinned, and not direct ones",
            ));
        }
        if store::pin_count(&state.db, me).await? >= PINS_MAX {
            return Err(AppError::unprocessable(
                "Validation failed: You have already pinned the maximum number of posts",
            ));
        }
    }
    let mut tx = state.db.begin().await?;
    if on {
        store::add_action(&mut tx, "status_pins", me, row.id).await?;
    } else {
        store::remove_action(&mut tx, "status_pins", me, row.id).await?;
    }
    tx.commit().await?;
    render::status(state, Some(me), row).await
}

/// Mutes or unmutes notifications from a status's thread.
pub async fn mute_thread(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    on: bool,
) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    store::mute_conversation(&state.db, me, row.conversation_id, on).await?;
    render::status(state, Some(me), row).await
}

/// Who favourited (`reblogs` false) or boosted (`reblogs` true) status `id`, when `viewer` may
/// see it: a page of accounts, with the pagination IDs of the rows (for the `Link` header).
///
/// Errors: 404 when the status is unknown or hidden from the viewer.
pub async fn actors(
    state: &AppState,
    viewer: Option<i64>,
    id: &str,
    reblogs: bool,
    page: &crate::service::Page,
) -> AppResult<(Vec<crate::api_types::Account>, Vec<i64>)> {
    let row = visible(state, viewer, id).await?;
    let rows = store::actors_of(&state.db, row.id, reblogs, page).await?;
    let ids: Vec<i64> = rows.iter().map(|(i, _)| *i).collect();
    let accounts =
        render::accounts_by_id(state, &rows.iter().map(|(_, a)| *a).collect::<Vec<_>>()).await?;
    Ok((accounts, ids))
}

/// A page of the statuses `me` favourited or bookmarked (`table`), most recent action first,
/// with the pagination IDs of the rows.
///
/// Errors: database errors.
pub async fn acted_on(
    state: &AppState,
    me: i64,
    table: ActionTable,
    page: &crate::service::Page,
) -> AppResult<(Vec<Status>, Vec<i64>)> {
    let rows = store::acted_on(&state.db, me, table, page).await?;
    let ids: Vec<i64> = rows.iter().map(|(i, _)| *i).collect();
    let statuses =
        render::statuses(state, Some(me), rows.into_iter().map(|(_, s)| s).collect()).await?;
    Ok((statuses, ids))
}
