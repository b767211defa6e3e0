//! `GET /api/v1/directory` (docs.joinmastodon.org/methods/directory/) and the follow suggestions,
//! `GET /api/v1/suggestions`, `GET /api/v2/suggestions`, `DELETE /api/v1/suggestions/:account_id`
//! (/methods/suggestions/).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::Account;
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::featured::{self as svc, Suggestion};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DirectoryParams {
    #[serde(default, deserialize_with = "lenient::bool")]
    local: bool,
    order: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
}

/// `GET /api/v1/directory` (public; `local`, `order` = `active` (default) | `new`, `limit` ≤ 80
/// (40), `offset`) → `[Account]`: discoverable accounts; 400 for another order.
pub async fn directory(
    State(state): State<AppState>,
    Params { value: p, .. }: Params<DirectoryParams>,
) -> AppResult<Json<Vec<Account>>> {
    let limit = p.limit.unwrap_or(40).clamp(1, 80);
    let offset = p.offset.unwrap_or(0).max(0);
    let order = p.order.as_deref().unwrap_or("active");
    Ok(Json(
        svc::directory(&state, p.local, order, limit, offset).await?,
    ))
}

#[derive(Deserialize)]
pub struct SuggestionParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
}

/// `GET /api/v2/suggestions` (`read`, `limit` ≤ 80 (40)) → `[Suggestion]`.
pub async fn v2(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<SuggestionParams>,
) -> AppResult<Json<Vec<Suggestion>>> {
    let cu = auth.require_user("read:accounts")?;
    let limit = p.limit.unwrap_or(40).clamp(1, 80);
    Ok(Json(svc::suggestions(&state, cu.account.id, limit).await?))
}

/// `GET /api/v1/suggestions` → `[Account]` (the v2 list without sources).
pub async fn v1(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<SuggestionParams>,
) -> AppResult<Json<Vec<Account>>> {
    let cu = auth.require_user("read:accounts")?;
    let limit = p.limit.unwrap_or(40).clamp(1, 80);
    let list = svc::suggestions(&state, cu.account.id, limit).await?;
    Ok(Json(list.into_iter().map(|s| s.account).collect()))
}

/// `DELETE /api/v1/suggestions/:account_id` (`read:accounts`) → `{}`: not suggested again.
pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("read:accounts")?;
    svc::dismiss_suggestion(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}
