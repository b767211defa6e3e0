//! `/api/v1/messaging/preferences` (Rookery extension, docs/API.md, Conversations): who may message the user, and read receipts.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::api_types::conversation::MessagingPreferences;
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::conversations::{self as svc, PreferencesUpdate};
use crate::state::AppState;

/// `GET /api/v1/messaging/preferences` (extension, `read:accounts`) → `MessagingPreferences`.
pub async fn preferences(auth: Auth) -> AppResult<Json<MessagingPreferences>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(svc::preferences(cu)))
}

#[derive(Deserialize)]
pub struct PreferencesParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    typing_indicators: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    presence: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    do_not_disturb: Option<bool>,
}

/// `PUT /api/v1/messaging/preferences` (extension, `write:accounts`) with any of
/// `typing_indicators`, `presence`, `do_not_disturb` → `MessagingPreferences`.
pub async fn update_preferences(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<PreferencesParams>,
) -> AppResult<Json<MessagingPreferences>> {
    let cu = auth.require_user("write:accounts")?;
    let u = PreferencesUpdate {
        typing_indicators: p.typing_indicators,
        presence: p.presence,
        do_not_disturb: p.do_not_disturb,
    };
    Ok(Json(svc::update_preferences(&state, cu, u).await?))
}
