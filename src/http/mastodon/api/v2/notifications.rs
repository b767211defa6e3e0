//! `/api/v2/notifications` (docs.joinmastodon.org/methods/grouped_notifications/): notifications
//! grouped as `service::grouped_notifications` describes (apps switch to them at
//! `api_versions.mastodon` 2); and the notification policy, `/api/v2/notifications/policy`.

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
    #[serde(default, deserialize_with = "lenient::bool")]
    include_filtered: bool,
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
    let filter = crate::service::notifications::filter(
        p.types,
        p.exclude_types,
        p.account_id,
        p.include_filtered,
    );
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

#[derive(Deserialize)]
pub struct PolicyParams {
    for_not_following: Option<String>,
    for_not_followers: Option<String>,
    for_new_accounts: Option<String>,
    for_private_mentions: Option<String>,
    for_limited_accounts: Option<String>,
}

/// `GET /api/v2/notifications/policy` (`read:notifications`) → `NotificationPolicy`.
pub async fn policy(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<crate::api_types::status::NotificationPolicy>> {
    let cu = auth.require_user("read:notifications")?;
    Ok(Json(
        crate::service::notification_requests::policy(&state, cu.account.id).await?,
    ))
}

/// `PATCH`/`PUT /api/v2/notifications/policy` (`write:notifications`): `for_not_following`,
/// `for_not_followers`, `for_new_accounts`, `for_private_mentions`, `for_limited_accounts`, each
/// `accept`, `filter` or `drop` (422 otherwise) → `NotificationPolicy`.
pub async fn update_policy(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<PolicyParams>,
) -> AppResult<Json<crate::api_types::status::NotificationPolicy>> {
    let cu = auth.require_user("write:notifications")?;
    let changes = crate::service::notification_requests::PolicyChanges {
        for_not_following: p.for_not_following,
        for_not_followers: p.for_not_followers,
        for_new_accounts: p.for_new_accounts,
        for_private_mentions: p.for_private_mentions,
        for_limited_accounts: p.for_limited_accounts,
    };
    Ok(Json(
        crate::service::notification_requests::update_policy(&state, cu.account.id, changes)
            .await?,
    ))
}
