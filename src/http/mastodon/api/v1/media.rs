//! `POST /api/v2/media`, `POST /api/v1/media`, `GET/PUT /api/v1/media/:id`
//! (docs.joinmastodon.org/methods/media/), and `GET /media_proxy/:id/:variant` for remote media.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params};
use crate::service::media::{self as svc, Upload};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct UploadParams {
    description: Option<String>,
    focus: Option<String>,
}

/// How long `POST /api/v1/media` waits for a video to finish processing before answering with
/// the attachment still processing.
const V1_WAIT: Duration = Duration::from_secs(300);

pub(crate) fn upload_of(
    p: UploadParams,
    files: Vec<crate::http::extract::params::UploadedFile>,
) -> AppResult<Upload> {
    let file = files
        .into_iter()
        .find(|f| f.field == "file")
        .ok_or_else(|| AppError::unprocessable("Validation failed: File can't be blank"))?;
    Ok(Upload {
        bytes: file.bytes,
        content_type: file.content_type,
        file_name: file.file_name,
        description: p.description,
        focus: p.focus,
    })
}

/// `POST /api/v1/media` (`write:media`, deprecated by Mastodon but still used): waits for
/// processing to finish (up to 5 minutes).
pub async fn create_v1(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, files }: Params<UploadParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("write:media")?;
    let row = svc::upload(&state, cu.account.id, upload_of(p, files)?).await?;
    let row = svc::wait_processed(&state, row.id, V1_WAIT).await?;
    finished(&state, row)
}

/// The answer for an attachment: 200 when ready, 206 while processing, 422 when it failed.
fn finished(state: &AppState, row: crate::service::media::MediaRow) -> AppResult<Response> {
    match row.state.as_str() {
        "failed" => {
            Err(AppError::unprocessable(row.error.unwrap_or_else(|| {
                "The file could not be processed".into()
            })))
        }
        "processing" => {
            Ok((StatusCode::PARTIAL_CONTENT, Json(svc::entity(state, &row))).into_response())
        }
        _ => Ok(Json(svc::entity(state, &row)).into_response()),
    }
}

/// `GET /api/v1/media/:id` (`write:media`): 206 while processing (with the `progress` extension
/// field), 200 when ready, 422 when processing failed.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let cu = auth.require_user("write:media")?;
    let row = svc::find_own(&state, cu.account.id, &id).await?;
    finished(&state, row)
}

/// `PUT /api/v1/media/:id` (`write:media`): description and focus.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<UploadParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("write:media")?;
    let row = svc::update(&state, cu.account.id, &id, p.description, p.focus).await?;
    Ok(Json(svc::entity(&state, &row)).into_response())
}

/// `DELETE /api/v1/media/:id` (`write:media`, Mastodon 4.4) → `{}`: an upload nothing uses.
/// Errors: 404, 422 while a status, scheduled status, profile or story holds it.
pub async fn destroy(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let cu = auth.require_user("write:media")?;
    crate::service::media::delete_unused(&state, cu.account.id, &id).await?;
    Ok(Json(serde_json::json!({})))
}
