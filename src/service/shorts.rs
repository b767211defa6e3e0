//! Shorts: statuses that are one vertical (or square) video of at most three minutes, with their
//! own feeds and view counts (Rookery's extension; docs/API.md, Shorts). A short is still a status:
//! caption, hashtags, mentions, visibility, replies, favourites and boosts work as for any post.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::api_types::status::Status;
use crate::error::{AppError, AppResult};
use crate::federation::protocol::note::Note;
use crate::service::oauth::CurrentUser;
use crate::state::AppState;
use crate::storage::media::MediaRow;
use crate::storage::sql::Page;
use crate::storage::statuses::{self as store, PublicFilter, ShortStats, StatusRow};

/// Longest short, in seconds.
pub const MAX_SECONDS: f64 = 180.0;
/// How far back `for_you` looks, and how many shorts it ranks at most.
pub const FOR_YOU_WINDOW: chrono::Duration = chrono::Duration::days(14);
pub const FOR_YOU_CANDIDATES: i64 = 5000;
/// How long a `for_you` ranking is reused before it is computed again (new local shorts drop it
/// at once).
pub const FOR_YOU_TTL: Duration = Duration::from_secs(30);
/// How fast `for_you` forgets: the power of a short's age in hours (see [`score`]).
pub const GRAVITY: f64 = 1.2;
/// At most this many shorts in a row from one author in `for_you`.
pub const MAX_IN_A_ROW: usize = 2;

/// Checks a short's attachments. Errors: 422 unless there is exactly one processed video, portrait
/// or square, of at most 180 s.
pub fn validate(media: &[MediaRow]) -> AppResult<()> {
    let [m] = media else {
        return Err(AppError::unprocessable(format!(
            "Validation failed: a short has exactly one video (got {} attachments)",
            media.len()
        )));
    };
    if m.r#type != "video" {
        return Err(AppError::unprocessable(format!(
            "Validation failed: a short is a video, not {}",
            if m.r#type == "image" {
                "an image"
            } else {
                m.r#type.as_str()
            }
        )));
    }
    if m.state != "ready" {
        return Err(AppError::unprocessable(
            "Validation failed: the video is still processing",
        ));
    }
    let (w, h, seconds) = m.video_facts();
    if w > h {
        return Err(AppError::unprocessable(format!(
            "Validation failed: a short is vertical or square (this video is {w}×{h})"
        )));
    }
    if seconds > MAX_SECONDS + 0.5 {
        return Err(AppError::unprocessable(format!(
            "Validation failed: a short is at most {MAX_SECONDS} seconds (this one is {seconds:.0})"
        )));
    }
    Ok(())
}

/// Seconds of an ISO 8601 duration as PeerTube sends it (`PT1M30S`, `PT42S`).
pub fn iso_duration_seconds(d: &str) -> Option<f64> {
    let rest = d.strip_prefix("PT").or_else(|| d.strip_prefix("P0DT"))?;
    let (mut total, mut num) = (0.0, String::new());
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'H' | 'M' | 'S' => {
                let n: f64 = num.parse().ok()?;
                total += n * match c {
                    'H' => 3600.0,
                    'M' => 60.0,
                    _ => 1.0,
                };
                num.clear();
            }
            _ => return None,
        }
    }
    num.is_empty().then_some(total)
}

/// Whether a remote Note (or a PeerTube `Video` made into one) is a short: exactly one MP4 video
/// attachment, portrait or square when its size is given, and for PeerTube at most 180 s.
pub fn is_short_note(note: &Note) -> bool {
    let [a] = note.attachment.as_slice() else {
        return false;
    };
    let is_video = a
        .media_type
        .as_deref()
        .is_some_and(|t| t.starts_with("video/"))
        || a.kind == "Video";
    let vertical = match (a.width, a.height) {
        (Some(w), Some(h)) => h >= w,
        // Loops always sends vertical video and may leave the size out.
        _ => note.kind != "Video",
    };
    let short_enough = match note.duration.as_deref() {
        Some(d) => iso_duration_seconds(d).is_some_and(|s| s <= MAX_SECONDS),
        None => note.kind != "Video",
    };
    is_video && vertical && short_enough
}

/// `POST /api/v1/statuses/:id/view` {watched_seconds}: records that the caller watched a short it
/// may see; each viewer counts once a day in `views_count` (and once in the ranking's completed
/// views when `watched_seconds` reaches the end). Returns the status.
///
/// Errors: 404 for a status the caller cannot see; 422 for one that is not a short, or a negative
/// or non-finite `watched_seconds`.
pub async fn view(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    watched_seconds: f64,
) -> AppResult<StatusRow> {
    let row = crate::service::statuses::visible(state, Some(user.account.id), id).await?;
    if !row.short {
        return Err(AppError::unprocessable(
            "Validation failed: only shorts count views",
        ));
    }
    if !watched_seconds.is_finite() || watched_seconds < 0.0 {
        return Err(AppError::unprocessable(
            "Validation failed: watched_seconds must be a number of seconds",
        ));
    }
    let media = crate::storage::media::of_statuses(&state.db, &[row.id]).await?;
    let length = media.first().map_or(0.0, |m| m.video_facts().2);
    // Players report a little short of the end; a second of slack counts as watched through.
    let completed = length > 0.0 && watched_seconds >= (length - 1.0).max(length * 0.9);
    let day = Utc::now().format("%Y-%m-%d").to_string();
    let mut tx = state.db.begin().await?;
    store::record_view(
        &mut tx,
        row.id,
        user.account.id,
        &day,
        watched_seconds,
        completed,
    )
    .await?;
    tx.commit().await?;
    store::find(&state.db, row.id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The shorts feeds of `GET /api/v1/timelines/shorts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// Shorts of accounts the viewer follows, and its own.
    Following,
    /// Public shorts from this server.
    Local,
    /// Public shorts from everywhere.
    Federated,
    /// Public shorts ranked by engagement (see [`rank`]).
    ForYou,
}

impl Feed {
    /// Errors: 422 for an unknown name.
    pub fn parse(name: Option<&str>) -> AppResult<Feed> {
        match name.unwrap_or("for_you") {
            "following" => Ok(Feed::Following),
            "local" => Ok(Feed::Local),
            "federated" | "public" => Ok(Feed::Federated),
            "for_you" => Ok(Feed::ForYou),
            other => Err(AppError::unprocessable(format!(
                "Validation failed: feed must be following, local, federated or for_you (not {other:?})"
            ))),
        }
    }
}

/// A chronological shorts feed (everything but `for_you`), newest first. Errors: 401 for
/// `following` without a user.
pub async fn chronological(
    state: &AppState,
    viewer: Option<i64>,
    feed: Feed,
    tag: Option<&str>,
    page: &Page,
) -> AppResult<Vec<StatusRow>> {
    let v = viewer.unwrap_or(store::ANONYMOUS);
    let rows = match feed {
        Feed::Following => {
            if viewer.is_none() {
                return Err(AppError::Unauthorized(
                    "The following feed needs a signed-in user".into(),
                ));
            }
            store::following_shorts(&state.db, v, page).await?
        }
        Feed::Local | Feed::Federated | Feed::ForYou => {
            let filter = PublicFilter {
                local: (feed == Feed::Local).then_some(true),
                only_media: false,
                only_shorts: true,
                card_id: None,
            };
            store::public(&state.db, v, filter, tag, page).await?
        }
    };
    Ok(rows)
}

/// A computed `for_you` ranking: status and author IDs, best first, and the shorts rendered so far
/// for nobody in particular (with their thread), shared by every viewer until the ranking is
/// computed again.
#[derive(Clone, Debug)]
pub struct Ranking {
    at: Instant,
    order: Arc<Vec<(i64, i64)>>,
    rendered: Arc<std::sync::Mutex<HashMap<i64, (Status, i64)>>>,
}

/// `for_you` score of a short at `now`: engagement over a power of its age (Hacker News's
/// gravity, gentler): `(1 + favourites + 2·boosts + 1.5·replies + 0.5·completed views) /
/// (hours + 2)^1.2`. A day-old short with 40 favourites outranks a fresh one without; a week-old one
/// does not.
pub fn score(s: &ShortStats, now: chrono::DateTime<Utc>) -> f64 {
    let engagement = 1.0
        + s.favourites_count as f64
        + 2.0 * s.reblogs_count as f64
        + 1.5 * s.replies_count as f64
        + 0.5 * s.completed_views_count as f64;
    let hours = (now - s.created_at).num_seconds().max(0) as f64 / 3600.0;
    engagement / (hours + 2.0).powf(GRAVITY)
}

/// Orders shorts by [`score`], then reorders so no author has more than [`MAX_IN_A_ROW`] in a row
/// (a deferred short takes the first place where it fits; leftovers go at the end).
pub fn rank(mut shorts: Vec<ShortStats>, now: chrono::DateTime<Utc>) -> Vec<(i64, i64)> {
    let mut scored: Vec<(f64, ShortStats)> =
        shorts.drain(..).map(|s| (score(&s, now), s)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.id.cmp(&a.1.id)));
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(scored.len());
    let mut deferred: Vec<(i64, i64)> = Vec::new();
    let run_of = |out: &[(i64, i64)], author: i64| {
        out.iter().rev().take_while(|(_, a)| *a == author).count()
    };
    for (_, s) in scored {
        // Place deferred shorts as soon as they fit, best first.
        let mut i = 0;
        while i < deferred.len() {
            if run_of(&out, deferred[i].1) < MAX_IN_A_ROW {
                out.push(deferred.remove(i));
            } else {
                i += 1;
            }
        }
        let item = (s.id, s.account_id);
        if run_of(&out, item.1) < MAX_IN_A_ROW {
            out.push(item);
        } else {
            deferred.push(item);
        }
    }
    out.extend(deferred);
    out
}

/// The current `for_you` ranking, computed again when older than [`FOR_YOU_TTL`] or dropped.
async fn ranking(state: &AppState) -> AppResult<Ranking> {
    let mut cached = state.for_you.lock().await;
    if let Some(r) = cached.as_ref()
        && r.at.elapsed() < FOR_YOU_TTL
    {
        return Ok(r.clone());
    }
    let now = Utc::now();
    let after = crate::storage::ids::min_id_at(now - FOR_YOU_WINDOW);
    let shorts = store::recent_public_shorts(&state.db, after, FOR_YOU_CANDIDATES).await?;
    let r = Ranking {
        at: Instant::now(),
        order: Arc::new(rank(shorts, now)),
        rendered: Arc::default(),
    };
    *cached = Some(r.clone());
    Ok(r)
}

/// Drops the cached `for_you` ranking (a new short was posted here).
pub async fn invalidate(state: &AppState) {
    *state.for_you.lock().await = None;
}

/// `for_you`, from `offset` in the ranking: up to `limit` shorts the viewer may see (blocked,
/// muted and limited authors left out), rendered for the viewer. Returns them and the offset of
/// the next page.
///
/// Shorts are rendered once per ranking for nobody in particular and then given each viewer's
/// flags (one query), so a page costs two small queries however many people read it; counts are
/// as fresh as the ranking (at most [`FOR_YOU_TTL`] old).
pub async fn for_you(
    state: &AppState,
    viewer: Option<i64>,
    offset: usize,
    limit: usize,
) -> AppResult<(Vec<Status>, usize)> {
    let ranking = ranking(state).await?;
    let order = &ranking.order;
    let v = viewer.unwrap_or(store::ANONYMOUS);
    let mut ids = Vec::with_capacity(limit);
    let mut next = offset.min(order.len());
    // Filtering can drop some; read a little more until the page is full or the ranking ends.
    while ids.len() < limit && next < order.len() {
        let end = (next + (limit - ids.len()) + 4).min(order.len());
        let candidates: Vec<i64> = order[next..end].iter().map(|(id, _)| *id).collect();
        let visible = store::visible_in_feed(&state.db, v, &candidates).await?;
        for id in candidates {
            if ids.len() == limit {
                break;
            }
            next += 1;
            if visible.contains(&id) {
                ids.push(id);
            }
        }
    }
    let missing: Vec<i64> = {
        let done = ranking.rendered.lock().expect("rendered shorts");
        ids.iter()
            .filter(|id| !done.contains_key(id))
            .copied()
            .collect()
    };
    if !missing.is_empty() {
        let rows = store::find_many(&state.db, &missing).await?;
        let threads: HashMap<i64, i64> = rows.iter().map(|r| (r.id, r.conversation_id)).collect();
        let rendered = crate::service::render::statuses(state, None, rows).await?;
        let mut done = ranking.rendered.lock().expect("rendered shorts");
        for st in rendered {
            let id: i64 = st.id.parse().unwrap_or_default();
            let thread = threads.get(&id).copied().unwrap_or(id);
            done.insert(id, (st, thread));
        }
    }
    let page: Vec<(Status, i64)> = {
        let done = ranking.rendered.lock().expect("rendered shorts");
        ids.iter().filter_map(|id| done.get(id).cloned()).collect()
    };
    let out = match viewer {
        Some(me) => {
            let vs = store::viewer_state(&state.db, me, &ids).await?;
            page.into_iter()
                .map(|(st, thread)| crate::service::render::for_viewer(st, me, thread, &vs))
                .collect()
        }
        None => page.into_iter().map(|(st, _)| st).collect(),
    };
    Ok((out, next))
}

#[cfg(test)]
mod tests {
    use super::iso_duration_seconds;

    #[test]
    fn peertube_durations() {
        assert_eq!(iso_duration_seconds("PT42S"), Some(42.0));
        assert_eq!(iso_duration_seconds("PT1M30S"), Some(90.0));
        assert_eq!(iso_duration_seconds("PT1H2M3.5S"), Some(3723.5));
        assert_eq!(iso_duration_seconds("P0DT3M"), Some(180.0));
        assert_eq!(iso_duration_seconds("42"), None);
        assert_eq!(iso_duration_seconds("PT4X"), None);
        assert_eq!(iso_duration_seconds("PT5"), None);
    }
}
