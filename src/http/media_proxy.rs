//! `/media_proxy/:id/:variant`: remote media fetched, checked and kept on first use (docs/API.md,
//! Media); `/emoji_proxy/:id`: custom emojis the same way.

use crate::error::AppResult;
use crate::service::media::{self as svc};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::Redirect;

/// `GET /media_proxy/:id/:variant` (public): a redirect to the cached copy of a remote file,
/// fetching it first if needed.
pub async fn proxy(
    State(state): State<AppState>,
    Path((id, variant)): Path<(String, String)>,
) -> AppResult<Redirect> {
    let url = svc::proxy(&state, &id, &variant).await?;
    Ok(Redirect::to(&url))
}

/// `GET /emoji_proxy/:id` (public): a redirect to a custom emoji's image as served from here
/// (a remote one fetched and kept on first use).
pub async fn emoji(State(state): State<AppState>, Path(id): Path<String>) -> AppResult<Redirect> {
    let url = crate::service::emojis::proxy(&state, &id).await?;
    Ok(Redirect::to(&url))
}
