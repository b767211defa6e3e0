//! `/api/v1/notifications/*` (docs.joinmastodon.org/methods/notifications/).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::status::Notification;
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::notifications as svc;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    exclude_types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    account_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::bool")]
    include_filtered: bool,
}

/// `GET /api/v1/notifications` (`read:notifications`): `types[]`, `exclude_types[]`, `account_id`,
/// pagination (default 40, at most 80).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<ListParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:notifications")?;
    let filter = svc::filter(p.types, p.exclude_types, p.account_id, p.include_filtered);
    let (out, ids) = svc::page(&state, cu.account.id, &filter, &p.page.page_with(40, 80)).await?;
    Ok(paged(&state.config.base_url(), &uri, out, &ids))
}

/// `GET /api/v1/notifications/:id` (`read:notifications`).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Notification>> {
    let cu = auth.require_user("read:notifications")?;
    Ok(Json(svc::show(&state, cu.account.id, &id).await?))
}

/// `POST /api/v1/notifications/:id/dismiss` (`write:notifications`).
pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:notifications")?;
    svc::dismiss(&state, cu.account.id, Some(&id)).await?;
    Ok(Json(json!({})))
}

/// `POST /api/v1/notifications/clear` (`write:notifications`).
pub async fn clear(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:notifications")?;
    svc::dismiss(&state, cu.account.id, None).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub struct UnreadParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
}

/// `GET /api/v1/notifications/unread_count` (`read:notifications`): notifications after the
/// `notifications` marker, counted up to `limit` (default 100, at most 1000).
pub async fn unread_count(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<UnreadParams>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("read:notifications")?;
    let cap = p.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        json!({ "count": svc::unread_count(&state, cu.account.id, cap).await? }),
    ))
}
