//! `/api/v2/media` (docs.joinmastodon.org/methods/media/#v2).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::AppResult;
use crate::http::extract::{Auth, Params};
use crate::service::media::{self as svc};
use crate::state::AppState;

/// `POST /api/v2/media` (`write:media`): 200 with the attachment when processed at once (still
/// images), 202 with `url: null` while a video, audio file or animated GIF is transcoded.
pub async fn create_v2(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, files }: Params<crate::http::mastodon::api::v1::media::UploadParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("write:media")?;
    let row = svc::upload(
        &state,
        cu.account.id,
        crate::http::mastodon::api::v1::media::upload_of(p, files)?,
    )
    .await?;
    let status = if row.state == "processing" {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(svc::entity(&state, &row))).into_response())
}
