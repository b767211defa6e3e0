//! `/api/v2/instance` (docs.joinmastodon.org/methods/instance/#v2).

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::error::AppResult;
use crate::service::instance as svc;
use crate::service::instance::documents as instance;
use crate::state::AppState;

/// `GET /api/v2/instance` (also with a trailing slash).
pub async fn show(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let facts = svc::facts(&state).await?;
    let contact = crate::http::mastodon::api::v1::instance::contact(&state, &facts).await?;
    let vapid = crate::service::push::vapid(&state).await?;
    Ok(Json(instance::v2(
        &state.config,
        &facts.stats,
        contact,
        &vapid.public_key,
    )))
}
