//! `/media_proxy/:id/:variant`: remote media fetched, checked and kept on first use (docs/API.md, Media).

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
