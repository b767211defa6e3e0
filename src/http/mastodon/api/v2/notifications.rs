//! `/api/v2/notifications` (docs.joinmastodon.org/methods/grouped_notifications/): notifications
//! grouped as `service::grouped_notifications` describes. Not advertised (`api_versions.mastodon`
//! stays 1), so apps keep the v1 list unless they call this themselves.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::Account;
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient};
use crate::service::grouped_notifications::{self as svc, GROUPED_TYPES, GroupedNotifications};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    exclude_types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_one_or_many")]
    grouped_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    account_id: Option<i64>,
}

fn grouped(p: &Option<Vec<String>>) -> Vec<String> {
    p.clone()
        .unwrap_or_else(|| GROUPED_TYPES.iter().map(|t| t.to_string()).collect())
}

/// `GET /api/v2/notifications` (`read:notifications`): `types[]`, `exclude_types[]`,
/// `grouped_types[]`, `account_id`, pagination by notification ID (groups: default 40, at most 80).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<ListParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:notifications")?;
    let filter = crate::service::notifications::filter(p.types, p.exclude_types, p.account_id);
    let page = p.page.page_with(40, 80);
    let (results, bounds) = svc::list(
        &state,
        cu.account.id,
        &filter,
        &page,
        &grouped(&p.grouped_types),
    )
    .await?;
    // The Link header pages by notification ID; the body is one object, not a list.
    let linked =
        crate::http::extract::paged(&state.config.base_url(), &uri, Vec::<Value>::new(), &bounds);
    let mut resp = Json(results).into_response();
    if let Some(link) = linked.headers().get(axum::http::header::LINK) {
        resp.headers_mut()
            .insert(axum::http::header::LINK, link.clone());
    }
    Ok(resp)
}

/// `GET /api/v2/notifications/:group_key` (`read:notifications`); 404 for an unknown group.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> AppResult<Json<GroupedNotifications>> {
    let cu = auth.require_user("read:notifications")?;
    Ok(Json(svc::show(&state, cu.account.id, &key).await?))
}

/// `GET /api/v2/notifications/:group_key/accounts` (`read:notifications`) → `[Account]`.
pub async fn accounts(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> AppResult<Json<Vec<Account>>> {
    let cu = auth.require_user("read:notifications")?;
    Ok(Json(svc::accounts(&state, cu.account.id, &key).await?))
}

/// `POST /api/v2/notifications/:group_key/dismiss` (`write:notifications`) → `{}`.
pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:notifications")?;
    svc::dismiss(&state, cu.account.id, &key).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub struct UnreadParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_one_or_many")]
    grouped_types: Option<Vec<String>>,
}

/// `GET /api/v2/notifications/unread_count` (`read:notifications`) → `{"count"}`: groups after
/// the `notifications` marker, up to `limit` (100, at most 1000).
pub async fn unread_count(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<UnreadParams>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("read:notifications")?;
    let cap = p.limit.unwrap_or(100).clamp(1, 1000);
    let count = svc::unread_count(&state, cu.account.id, cap, &grouped(&p.grouped_types)).await?;
    Ok(Json(json!({ "count": count })))
}
