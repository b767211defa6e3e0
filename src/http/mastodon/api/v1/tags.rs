//! `/api/v1/tags/:name`, follow/unfollow, `/api/v1/followed_tags`
//! (docs.joinmastodon.org/methods/tags/, /methods/followed_tags/).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{Duration, Utc};

use crate::api_types::status::{Tag, TagHistory};
use crate::error::{AppError, AppResult};
use crate::http::extract::Auth;
use crate::state::AppState;
use crate::storage::ids;
use crate::storage::tags::{self as store, TagRow};

fn valid_name(name: &str) -> AppResult<&str> {
    let name = name.trim_start_matches('#');
    if name.is_empty()
        || name.chars().count() > 100
        || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return Err(AppError::NotFound);
    }
    Ok(name)
}

/// The Tag entity with seven days of history (today first) and, for a signed-in viewer, whether
/// they follow it.
async fn entity(state: &AppState, row: &TagRow, viewer: Option<i64>) -> AppResult<Tag> {
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(Utc::now(), |d| d.and_utc());
    let start = today - Duration::days(6);
    let uses = store::history(&state.db, row.id, ids::min_id_at(start)).await?;
    let history = (0..7)
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
        .collect();
    let following = match viewer {
        Some(v) => Some(store::is_followed(&state.db, v, row.id).await?),
        None => None,
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
    })
}

/// `GET /api/v1/tags/:name` (public).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Json<Tag>> {
    let name = valid_name(&name)?;
    let row = store::find_by_name(&state.db, name)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(
        entity(&state, &row, auth.user().map(|u| u.account.id)).await?,
    ))
}

async fn set_follow(state: AppState, auth: Auth, name: String, on: bool) -> AppResult<Json<Tag>> {
    let cu = auth.require_user("write:follows")?;
    let name = valid_name(&name)?;
    let row = if on {
        store::find_or_create(&state.db, name).await?
    } else {
        store::find_by_name(&state.db, name)
            .await?
            .ok_or(AppError::NotFound)?
    };
    store::set_followed(&state.db, cu.account.id, row.id, on).await?;
    Ok(Json(entity(&state, &row, Some(cu.account.id)).await?))
}

/// `POST /api/v1/tags/:name/follow` (`write:follows`): public posts with the tag join the home feed.
pub async fn follow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Json<Tag>> {
    set_follow(state, auth, name, true).await
}

/// `POST /api/v1/tags/:name/unfollow` (`write:follows`).
pub async fn unfollow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Json<Tag>> {
    set_follow(state, auth, name, false).await
}

/// `GET /api/v1/followed_tags` (`read:follows`).
pub async fn followed(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Tag>>> {
    let cu = auth.require_user("read:follows")?;
    let mut out = Vec::new();
    for row in store::followed(&state.db, cu.account.id).await? {
        out.push(entity(&state, &row, Some(cu.account.id)).await?);
    }
    Ok(Json(out))
}
