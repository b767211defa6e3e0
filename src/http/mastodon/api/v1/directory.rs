//! `GET /api/v1/directory` (docs.joinmastodon.org/methods/directory/).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::api_types::Account;
use crate::error::AppResult;
use crate::http::extract::{Params, lenient};
use crate::service::featured::{self as svc};
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
