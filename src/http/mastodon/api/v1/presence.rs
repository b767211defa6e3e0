//! `/api/v1/presence` (Rookery extension, docs/API.md, Conversations): who of the people one talks
//! with is online, and `/api/v1/presence/status`, one's custom status.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::api_types::conversation::{CustomStatus, Presence};
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::conversations::{self as svc};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct PresenceParams {
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    id: Vec<String>,
}

/// `GET /api/v1/presence?id[]=…` (extension, `read:accounts`) → `[Presence]`, at most 40.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<PresenceParams>,
) -> AppResult<Json<Vec<Presence>>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(svc::presence(&state, cu.account.id, &p.id).await?))
}

#[derive(Deserialize)]
pub struct StatusParams {
    #[serde(default)]
    text: String,
    #[serde(default)]
    emoji: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    expires_in: Option<i64>,
}

/// `PUT /api/v1/presence/status` (extension, `write:accounts`) {text, emoji, expires_in} →
/// `CustomStatus` or `null` (both empty clears it). Errors: 422 (see
/// [`svc::set_custom_status`]).
pub async fn set_status(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<StatusParams>,
) -> AppResult<Json<Option<CustomStatus>>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(
        svc::set_custom_status(&state, cu, &p.text, &p.emoji, p.expires_in).await?,
    ))
}

/// `DELETE /api/v1/presence/status` (extension, `write:accounts`) → `{}`: clears the custom status.
pub async fn clear_status(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<serde_json::Value>> {
    let cu = auth.require_user("write:accounts")?;
    svc::set_custom_status(&state, cu, "", "", None).await?;
    Ok(Json(serde_json::json!({})))
}
