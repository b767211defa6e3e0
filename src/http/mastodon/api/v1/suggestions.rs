//! `/api/v1/suggestions` (docs.joinmastodon.org/methods/suggestions/).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::Account;
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::featured::{self as svc};
use crate::state::AppState;

/// `GET /api/v1/suggestions` → `[Account]` (the v2 list without sources).
pub async fn index(
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

#[derive(Deserialize)]
pub struct SuggestionParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub(crate) limit: Option<i64>,
}
