//! `/api/v1/scheduled_statuses` (docs.joinmastodon.org/methods/scheduled_statuses/).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;

use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, paged};
use crate::service::scheduled::{self, ScheduledStatus};
use crate::state::AppState;

/// `GET /api/v1/scheduled_statuses` (`read:statuses`): paged, newest first.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:statuses")?;
    let page = p.page();
    let items = scheduled::list(&state, cu, &page).await?;
    let ids: Vec<i64> = items.iter().filter_map(|s| s.id.parse().ok()).collect();
    Ok(paged(&state.config.base_url(), &uri, items, &ids))
}

/// `GET /api/v1/scheduled_statuses/:id` (`read:statuses`).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<ScheduledStatus>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(scheduled::show(&state, cu, &id).await?))
}

#[derive(Deserialize)]
pub struct Reschedule {
    scheduled_at: Option<String>,
}

/// `PUT /api/v1/scheduled_statuses/:id` (`write:statuses`): a new `scheduled_at`.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<Reschedule>,
) -> AppResult<Json<ScheduledStatus>> {
    let cu = auth.require_user("write:statuses")?;
    Ok(Json(
        scheduled::reschedule(&state, cu, &id, p.scheduled_at.as_deref()).await?,
    ))
}

/// `DELETE /api/v1/scheduled_statuses/:id` (`write:statuses`): answers `{}`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let cu = auth.require_user("write:statuses")?;
    scheduled::cancel(&state, cu, &id).await?;
    Ok(Json(serde_json::json!({})))
}
