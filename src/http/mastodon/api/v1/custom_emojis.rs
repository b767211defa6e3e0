//! `/api/v1/custom_emojis` (docs.joinmastodon.org/methods/custom_emojis/).

use axum::Json;
use axum::extract::State;

use crate::api_types::CustomEmoji;
use crate::error::AppResult;
use crate::state::AppState;

/// `GET /api/v1/custom_emojis`: this instance's own emojis.
pub async fn index(State(state): State<AppState>) -> AppResult<Json<Vec<CustomEmoji>>> {
    Ok(Json(crate::service::emojis::list_local(&state).await?))
}
