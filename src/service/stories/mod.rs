//! Stories: a photo or a video of at most a minute, shown to followers for 24 hours, then gone.
//! Rookery's extension of the Mastodon API (docs/API.md, Stories), federated in Pixelfed's shape
//! (docs/FEDERATION.md, Stories): an `Add` of a `Story` to followers carrying a bearer capability
//! to fetch it, `Delete` at expiry, `View` when seen; replies are direct Notes with `inReplyTo`
//! the story and reactions are `EmojiReact`s of it.
//!
//! One file per concern: `api` (the client API), `outgoing` (what we send and serve to other
//! servers), `sweep` (removal and expiry), `inbound` (what other servers send). This file: the
//! limits, who may see a story, and rendering.

mod api;
mod inbound;
mod outgoing;
mod sweep;

pub use api::*;
pub use inbound::*;
pub use outgoing::*;
pub use sweep::*;

use std::collections::HashMap;

use chrono::Utc;

use crate::api_types::story::Story;
use crate::error::{AppError, AppResult};
use crate::service::render;
use crate::state::AppState;
use crate::storage::media::{self, MediaRow};
use crate::storage::relationships::{self, FollowTable};
use crate::storage::stories::{self as store, StoryRow};

/// How long a story lives.
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(24);
/// Longest video a story may be, in seconds.
pub const MAX_VIDEO_SECONDS: f64 = 60.0;
/// Seconds a photo is shown when the author does not say.
pub const DEFAULT_PHOTO_SECONDS: i64 = 5;
/// Bounds of `duration`, in seconds.
pub const DURATION_RANGE: std::ops::RangeInclusive<i64> = 1..=300;
/// Longest reaction (an emoji, possibly a sequence of code points), in characters.
const EMOJI_MAX_CHARS: usize = 16;

/// Renders stories as `viewer` sees them (seen or not). Stories whose media is gone are skipped.
pub async fn render(
    state: &AppState,
    viewer: Option<i64>,
    rows: Vec<StoryRow>,
) -> AppResult<Vec<Story>> {
    let account_ids: Vec<i64> = rows.iter().map(|s| s.account_id).collect();
    let accounts = render::accounts_by_id(state, &account_ids).await?;
    let media_ids: Vec<i64> = rows.iter().map(|s| s.media_id).collect();
    let media: HashMap<i64, MediaRow> = media::find_many(&state.db, &media_ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let story_ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
    let seen = match viewer {
        Some(v) => store::seen_among(&state.db, v, &story_ids).await?,
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        let (Some(account), Some(m)) = (
            accounts.iter().find(|a| a.id == s.account_id.to_string()),
            media.get(&s.media_id),
        ) else {
            continue;
        };
        out.push(Story {
            id: s.id.to_string(),
            uri: s.uri.clone(),
            account: account.clone(),
            media_attachment: crate::service::media::entity(state, m),
            created_at: s.created_at,
            expires_at: s.expires_at,
            duration: s.duration,
            seen: seen.contains(&s.id),
            can_reply: s.can_reply,
            can_react: s.can_react,
        });
    }
    Ok(out)
}

async fn render_one(state: &AppState, viewer: Option<i64>, row: StoryRow) -> AppResult<Story> {
    render(state, viewer, vec![row])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// Whether `viewer` may see `author`'s stories: they are the author, or follow them.
async fn may_see(state: &AppState, viewer: i64, author: i64) -> AppResult<bool> {
    Ok(viewer == author
        || relationships::find_follow(&state.db, FollowTable::Follows, viewer, author)
            .await?
            .is_some())
}

/// A live story `viewer` may see. Errors: 404 otherwise (expired, unknown or not for them).
async fn visible(state: &AppState, viewer: i64, id: &str) -> AppResult<StoryRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = store::find_live(&state.db, id, Utc::now())
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_see(state, viewer, row.account_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(row)
}
