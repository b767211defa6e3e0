//! `POST /api/v1/emails/confirmations` (docs.joinmastodon.org/methods/emails/).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::error::AppResult;
use crate::http::extract::Auth;
use crate::state::AppState;

/// `POST /api/v1/emails/confirmations` (`write:accounts`, by the unconfirmed user's token) → `{}`:
/// mails a new confirmation link. 403 when the address is already confirmed; 429 after 5 in an hour.
pub async fn resend_confirmation(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user_awaiting_confirmation("write:accounts")?;
    crate::service::mail::resend(&state, cu).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/emails/check_confirmation` (`read:accounts`, Mastodon 4.4; the token of a user
/// still to confirm their address works too) → `true` once the address is confirmed, else
/// `false`.
pub async fn check_confirmation(auth: Auth) -> AppResult<Json<bool>> {
    let cu = auth.require_user_awaiting_confirmation("read:accounts")?;
    Ok(Json(cu.user.confirmed_at.is_some()))
}
