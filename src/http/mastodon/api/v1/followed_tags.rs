//! `/api/v1/followed_tags` (docs.joinmastodon.org/methods/followed_tags/).

use axum::Json;
use axum::extract::State;

use crate::api_types::status::Tag;
use crate::error::AppResult;
use crate::http::extract::Auth;
use crate::service::tags;
use crate::state::AppState;

/// `GET /api/v1/followed_tags` (`read:follows`).
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Tag>>> {
    let cu = auth.require_user("read:follows")?;
    Ok(Json(tags::followed(&state, cu.account.id).await?))
}
