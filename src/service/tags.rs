//! Hashtags as the client API shows them (docs.joinmastodon.org/entities/Tag/), and trending
//! hashtags and statuses (docs.joinmastodon.org/methods/trends/).

use chrono::{Duration, Utc};

use crate::api_types::status::{Status, Tag, TagHistory};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::ids;
use crate::storage::tags::{self as store, TagRow};

/// The Tag entity with seven days of history (today first) and, for a signed-in viewer, whether
/// they follow it.
pub async fn entity(state: &AppState, row: &TagRow, viewer: Option<i64>) -> AppResult<Tag> {
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(Utc::now(), |d| d.and_utc());
    let start = today - Duration::days(6);
    let uses = store::history(&state.db, row.id, ids::min_id_at(start)).await?;
    let history = daily_history(&uses, today);
    let (following, featured) = match viewer {
        Some(v) => (
            Some(store::is_followed(&state.db, v, row.id).await?),
            Some(store::is_featured(&state.db, v, row.id).await?),
        ),
        None => (None, None),
    };
    Ok(Tag {
        name: row.display_name.clone(),
        url: format!(
            "{}/tags/{}",
            state.config.base_url(),
            urlencoding::encode(&row.name)
        ),
        history,
        following,
        featured,
    })
}

/// Seven days of use (today first) from `(status id, account id)` pairs: per day, how many posts
/// and how many distinct accounts. `today` is midnight UTC.
pub fn daily_history(uses: &[(i64, i64)], today: chrono::DateTime<Utc>) -> Vec<TagHistory> {
    (0..7)
        .map(|i| {
            let day = today - Duration::days(i);
            let (lo, hi) = (ids::min_id_at(day), ids::min_id_at(day + Duration::days(1)));
            let todays: Vec<&(i64, i64)> =
                uses.iter().filter(|(s, _)| *s >= lo && *s < hi).collect();
            let mut accts: Vec<i64> = todays.iter().map(|(_, a)| *a).collect();
            accts.sort_unstable();
            accts.dedup();
            TagHistory {
                day: day.timestamp().to_string(),
                uses: todays.len().to_string(),
                accounts: accts.len().to_string(),
            }
        })
        .collect()
}

/// How far back trends look.
const TREND_WINDOW: Duration = Duration::hours(48);

/// `GET /api/v1/trends/tags`: hashtags in public posts of the last 48 hours (local and remote),
/// ranked by how many distinct accounts used them, then by uses; each with its 7-day history.
pub async fn trending(
    state: &AppState,
    viewer: Option<i64>,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Tag>> {
    let since = ids::min_id_at(Utc::now() - TREND_WINDOW);
    let rows = store::trending(&state.db, since, limit, offset).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(entity(state, row, viewer).await?);
    }
    Ok(out)
}

/// `GET /api/v1/trends/statuses`: public posts of the last 48 hours (not replies, not boosts) that
/// people favourited or boosted, ranked by `(favourites + 2 × boosts + replies) / (hours + 2)^1.5`
/// so that newer engagement counts more; then `offset`/`limit`. The viewer's filters apply
/// (`public` context).
pub async fn trending_statuses(
    state: &AppState,
    viewer: Option<i64>,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Status>> {
    let now = Utc::now();
    let since = ids::min_id_at(now - TREND_WINDOW);
    let mut rows = crate::storage::statuses::engaged_since(
        &state.db,
        viewer.unwrap_or(crate::storage::statuses::ANONYMOUS),
        since,
        200,
    )
    .await?;
    let score = |s: &crate::storage::statuses::StatusRow| {
        let hours = (now - s.created_at).num_minutes().max(0) as f64 / 60.0;
        let engagement =
            s.favourites_count as f64 + 2.0 * s.reblogs_count as f64 + s.replies_count as f64;
        engagement / (hours + 2.0).powf(1.5)
    };
    rows.sort_by(|a, b| score(b).total_cmp(&score(a)).then(b.id.cmp(&a.id)));
    let page: Vec<_> = rows
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.max(0) as usize)
        .collect();
    let rendered = crate::service::render::statuses(state, viewer, page).await?;
    crate::service::filters::statuses(state, viewer, "public", rendered).await
}

/// Longest hashtag name `GET /api/v1/tags/:name` and following look up, in characters.
const NAME_MAX: usize = 100;

/// A hashtag name as typed (`#` allowed in front): letters, digits and `_`; `None` otherwise.
pub fn name_of(raw: &str) -> Option<&str> {
    let name = raw.trim_start_matches('#');
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(name)
}

/// [`name_of`] of at most [`NAME_MAX`] characters, or 404 as for an unknown tag (the API's tag
/// endpoints and the web app's `/tags/NAME`).
pub fn valid_name(name: &str) -> AppResult<&str> {
    name_of(name)
        .filter(|n| n.chars().count() <= NAME_MAX)
        .ok_or(AppError::NotFound)
}

/// `GET /api/v1/tags/:name`: the tag as `viewer` (`None`: anonymous) sees it.
///
/// Errors: 404 for an unknown or malformed name.
pub async fn show(state: &AppState, name: &str, viewer: Option<i64>) -> AppResult<Tag> {
    let row = store::find_by_name(&state.db, valid_name(name)?)
        .await?
        .ok_or(AppError::NotFound)?;
    entity(state, &row, viewer).await
}

/// `POST /api/v1/tags/:name/follow` (`on`) and `/unfollow`: public posts with the tag join (or
/// leave) `me`'s home feed. Following creates the tag when it is new.
///
/// Errors: 404 for a malformed name, or unfollowing an unknown tag.
pub async fn set_followed(state: &AppState, me: i64, name: &str, on: bool) -> AppResult<Tag> {
    let name = valid_name(name)?;
    let row = if on {
        store::find_or_create(&state.db, name).await?
    } else {
        store::find_by_name(&state.db, name)
            .await?
            .ok_or(AppError::NotFound)?
    };
    store::set_followed(&state.db, me, row.id, on).await?;
    entity(state, &row, Some(me)).await
}

/// `POST /api/v1/tags/:name/feature` (`on`) and `/unfeature` (Mastodon 4.4): the tag is (or stops
/// being) one of `me`'s featured hashtags (`service::featured::feature_tag`).
///
/// Errors: 404 for a malformed name, or unfeaturing an unknown tag; 422 past
/// `featured::MAX_FEATURED_TAGS`.
pub async fn set_featured(state: &AppState, me: i64, name: &str, on: bool) -> AppResult<Tag> {
    let name = valid_name(name)?;
    let row = if on {
        crate::service::featured::feature_tag(state, me, name).await?;
        store::find_by_name(&state.db, name)
            .await?
            .ok_or(AppError::NotFound)?
    } else {
        let row = store::find_by_name(&state.db, name)
            .await?
            .ok_or(AppError::NotFound)?;
        crate::storage::featured::remove_featured_tag_of(&state.db, me, row.id).await?;
        row
    };
    entity(state, &row, Some(me)).await
}

/// `GET /api/v1/followed_tags`: the tags `me` follows.
///
/// Errors: database errors.
pub async fn followed(state: &AppState, me: i64) -> AppResult<Vec<Tag>> {
    let mut out = Vec::new();
    for row in store::followed(&state.db, me).await? {
        out.push(entity(state, &row, Some(me)).await?);
    }
    Ok(out)
}
