//! `/api/v1/custom_emojis` (docs.joinmastodon.org/methods/custom_emojis/).

use crate::api_types::CustomEmoji;
use crate::error::AppResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;

/// `GET /api/v1/custom_emojis`: this instance's own emojis.
pub async fn index(State(state): State<AppState>) -> AppResult<Json<Vec<CustomEmoji>>> {
    Ok(Json(crate::service::emojis::list_local(&state).await?))
}
