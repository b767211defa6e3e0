//! "Request your archive", a Rookery extension (docs/API.md, "Archive"): `/api/v1/archives`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::AppResult;
use crate::http::extract::Auth;
use crate::service::archives::{self as svc, Archive};
use crate::state::AppState;

/// `GET /api/v1/archives` (`read`) → `[Archive]`, newest first (the last 10).
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Archive>>> {
    let cu = auth.require_user("read")?;
    Ok(Json(svc::list(&state, cu.account.id).await?))
}

/// `POST /api/v1/archives` (`read`: the archive holds everything the account can read of its
/// own) → `Archive`, queued; 422 within 7 days of the last request.
pub async fn create(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Archive>> {
    let cu = auth.require_user_even_moved("read")?;
    Ok(Json(svc::request(&state, cu.account.id).await?))
}

/// `GET /api/v1/archives/:id/download` (`read`) → the zip (`application/zip`, as an attachment),
/// streamed; 404 unless it is the caller's and ready.
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let cu = auth.require_user("read")?;
    let (name, size, stream) = svc::download(&state, cu.account.id, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
