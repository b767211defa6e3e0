//! `/api/v1/trends/tags` (also `/api/v1/trends`), `/api/v1/trends/statuses` and `/links`
//! (docs.joinmastodon.org/methods/trends/). Public; a signed-in reader gets `following` on tags,
//! their own flags and filters on statuses.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::api_types::status::{Status, Tag};
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::tags as svc;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TrendParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
}

fn reader(auth: &Auth) -> AppResult<Option<i64>> {
    auth.viewer_id("read:statuses")
}

/// `GET /api/v1/trends/tags` (`limit` up to 20, default 10; `offset`) → `[Tag]`.
pub async fn tags(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<TrendParams>,
) -> AppResult<Json<Vec<Tag>>> {
    let limit = p.limit.unwrap_or(10).clamp(1, 20);
    let offset = p.offset.unwrap_or(0).max(0);
    Ok(Json(
        svc::trending(&state, reader(&auth)?, limit, offset).await?,
    ))
}

/// `GET /api/v1/trends/statuses` (`limit` up to 40, default 20; `offset`) → `[Status]`.
pub async fn statuses(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<TrendParams>,
) -> AppResult<Json<Vec<Status>>> {
    let limit = p.limit.unwrap_or(20).clamp(1, 40);
    let offset = p.offset.unwrap_or(0).max(0);
    let viewer = reader(&auth)?;
    Ok(Json(
        svc::trending_statuses(&state, viewer, limit, offset).await?,
    ))
}

/// `GET /api/v1/trends/links` (`limit` up to 20, default 10; `offset`) → `[TrendsLink]`: preview
/// cards with their history.
pub async fn links(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<TrendParams>,
) -> AppResult<Json<Vec<serde_json::Value>>> {
    reader(&auth)?;
    let limit = p.limit.unwrap_or(10).clamp(1, 20);
    let offset = p.offset.unwrap_or(0).max(0);
    Ok(Json(
        crate::service::cards::trending(&state, limit, offset).await?,
    ))
}
