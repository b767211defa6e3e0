//! Statuses: posting, editing, deleting, boosting, favouriting, bookmarking, pinning, muting a
//! thread, and reading threads. Every change inserts its rows, feed entries and notifications in
//! one transaction and streams after commit, whoever caused it.
//!
//! Source: docs.joinmastodon.org/methods/statuses/.
//!
//! One file per concern: `post` (posting through the client API: text, mentions, media),
//! `distribute` (the write that stores a new status and streams it), `outgoing` (the `Create` we send and its audience), `edit` (edits, history, source),
//! `delete` (by the author, or all of an account's), `actions` (favourite, boost, bookmark, pin,
//! thread mute), `thread` (context), `inbound` (what arriving Notes, likes, boosts, edits and deletes
//! change, called by `federation::inbound`). This file: visibility and ownership checks
//! the others share.

mod actions;
mod delete;
mod distribute;
mod edit;
mod inbound;
mod outgoing;
mod post;
mod thread;

pub use actions::*;
pub use delete::*;
pub use distribute::*;
pub use edit::*;
pub use inbound::*;
pub use outgoing::*;
pub use post::*;
pub use thread::*;

use crate::error::{AppError, AppResult};
use crate::service::oauth::CurrentUser;
use crate::state::AppState;
use crate::storage::statuses::{self as store, StatusRow};

pub const VISIBILITIES: &[&str] = &["public", "unlisted", "private", "direct"];

/// Longest content warning, in characters.
const SPOILER_MAX: usize = 500;
/// How many ancestors and descendants a thread shows.
const ANCESTORS_MAX: usize = 40;
const DESCENDANTS_MAX: i64 = 60;
/// Pins per account.
const PINS_MAX: i64 = 5;

/// The status if `viewer` (`None`: anonymous) may see it.
///
/// Errors: 404 when it does not exist or is not visible (never revealing which).
/// Most statuses `GET /api/v1/statuses?id[]=` takes at once (as Mastodon: 422 past it).
pub const MANY_MAX: usize = 20;

/// `GET /api/v1/statuses?id[]=…`: the statuses of `ids` that `viewer` may see, in the order
/// asked (unknown, malformed and hidden IDs are left out, as Mastodon does).
///
/// Errors: 422 for more than [`MANY_MAX`] IDs.
pub async fn visible_many(
    state: &AppState,
    viewer: Option<i64>,
    ids: &[String],
) -> AppResult<Vec<StatusRow>> {
    if ids.len() > MANY_MAX {
        return Err(AppError::unprocessable(format!(
            "Validation failed: at most {MANY_MAX} id[] at once"
        )));
    }
    let wanted: Vec<i64> = ids.iter().filter_map(|i| i.parse().ok()).collect();
    let mut rows = crate::storage::statuses::find_many_visible(
        &state.db,
        &wanted,
        viewer.unwrap_or(crate::storage::statuses::ANONYMOUS),
    )
    .await?;
    rows.sort_by_key(|r| wanted.iter().position(|w| *w == r.id));
    rows.dedup_by_key(|r| r.id);
    Ok(rows)
}

pub async fn visible(state: &AppState, viewer: Option<i64>, id: &str) -> AppResult<StatusRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    store::find_visible(&state.db, id, viewer.unwrap_or(store::ANONYMOUS))
        .await?
        .ok_or(AppError::NotFound)
}

fn ensure_owner(row: &StatusRow, user: &CurrentUser) -> AppResult<()> {
    if row.account_id != user.account.id {
        return Err(AppError::forbidden("This action is not allowed"));
    }
    Ok(())
}

/// Counts the statuses posted on this instance (boosts excluded), for instance statistics.
pub async fn local_count(state: &AppState) -> AppResult<i64> {
    Ok(store::count_local(&state.db).await?)
}

// --- Federation: incoming ------------------------------------------------------------------------
