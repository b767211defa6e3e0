//! `/api/v1/notifications/requests/*` and the deprecated `/api/v1/notifications/policy`
//! (docs.joinmastodon.org/methods/notifications, Mastodon 4.3): filtered notifications held per
//! sender, as `service::notification_requests` describes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::status::{NotificationPolicyV1, NotificationRequest};
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::notification_requests::{self as svc, PolicyChanges};
use crate::state::AppState;

/// `GET /api/v1/notifications/requests` (`read:notifications`): pagination (default 40, at
/// most 80), `Link` header.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:notifications")?;
    let (out, ids) = svc::list(&state, cu.account.id, &p.page_with(40, 80)).await?;
    Ok(paged(&state.config.base_url(), &uri, out, &ids))
}

/// `GET /api/v1/notifications/requests/:id` (`read:notifications`). Errors: 404.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<NotificationRequest>> {
    let cu = auth.require_user("read:notifications")?;
    Ok(Json(svc::show(&state, cu.account.id, &id).await?))
}

/// `POST /api/v1/notifications/requests/:id/accept` (`write:notifications`) → `{}`. Errors: 404.
pub async fn accept(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:notifications")?;
    svc::accept(&state, cu.account.id, &[id], true).await?;
    Ok(Json(json!({})))
}

/// `POST /api/v1/notifications/requests/:id/dismiss` (`write:notifications`) → `{}`. Errors: 404.
pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:notifications")?;
    svc::dismiss(&state, cu.account.id, &[id], true).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub struct BulkParams {
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    id: Vec<String>,
}

/// `POST /api/v1/notifications/requests/accept` (`write:notifications`, `id[]`) → `{}`.
/// Errors: 422 past `svc::MAX_BULK` IDs.
pub async fn accept_many(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<BulkParams>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:notifications")?;
    svc::accept(&state, cu.account.id, &p.id, false).await?;
    Ok(Json(json!({})))
}

/// `POST /api/v1/notifications/requests/dismiss` (`write:notifications`, `id[]`) → `{}`.
/// Errors: 422 past `svc::MAX_BULK` IDs.
pub async fn dismiss_many(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<BulkParams>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:notifications")?;
    svc::dismiss(&state, cu.account.id, &p.id, false).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/notifications/requests/merged` (`read:notifications`) → `{"merged": true}`:
/// accepting a request moves its notifications in the same transaction, so there is never a
/// merge left running.
pub async fn merged(auth: Auth) -> AppResult<Json<Value>> {
    auth.require_user("read:notifications")?;
    Ok(Json(json!({ "merged": true })))
}

/// `GET /api/v1/notifications/policy` (`read:notifications`): the v1 shape.
pub async fn policy(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<NotificationPolicyV1>> {
    let cu = auth.require_user("read:notifications")?;
    Ok(Json(svc::v1(svc::policy(&state, cu.account.id).await?)))
}

#[derive(Deserialize)]
pub struct V1Params {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    filter_not_following: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    filter_not_followers: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    filter_new_accounts: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    filter_private_mentions: Option<bool>,
}

/// `PUT`/`PATCH /api/v1/notifications/policy` (`write:notifications`): `filter_not_following`,
/// `filter_not_followers`, `filter_new_accounts`, `filter_private_mentions` (true filters, false
/// accepts); the v1 shape back.
pub async fn update_policy(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<V1Params>,
) -> AppResult<Json<NotificationPolicyV1>> {
    let cu = auth.require_user("write:notifications")?;
    let changes = PolicyChanges {
        for_not_following: svc::from_v1(p.filter_not_following),
        for_not_followers: svc::from_v1(p.filter_not_followers),
        for_new_accounts: svc::from_v1(p.filter_new_accounts),
        for_private_mentions: svc::from_v1(p.filter_private_mentions),
        for_limited_accounts: None,
    };
    Ok(Json(svc::v1(
        svc::update_policy(&state, cu.account.id, changes).await?,
    )))
}
