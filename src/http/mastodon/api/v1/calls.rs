//! `/api/v1/calls…` (Rookery extension; docs/API.md, "Calls"): one-to-one voice and video calls'
//! signalling. Reading needs `read:statuses`; everything else `write:conversations`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::call::{Call, CallCandidate};
use crate::config::IceServer;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::service::calls as svc;
use crate::state::AppState;

// Fields are optional so that a missing one is a 422 after the token is checked, not before.

#[derive(Deserialize)]
pub struct StartParams {
    account_id: Option<String>,
    /// `audio` or `video` (the default).
    media: Option<String>,
    /// The SDP offer.
    sdp: Option<String>,
}

#[derive(Deserialize)]
pub struct AnswerParams {
    /// The SDP answer.
    sdp: Option<String>,
}

#[derive(Deserialize)]
pub struct CandidateParams {
    candidate: Option<String>,
    sdp_mid: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    sdp_m_line_index: Option<i64>,
}

fn required(v: Option<String>, name: &str) -> AppResult<String> {
    v.ok_or_else(|| AppError::unprocessable(format!("{name} is missing")))
}

#[derive(Deserialize)]
pub struct ListParams {
    max_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
}

/// `GET /api/v1/calls` (`max_id`, `limit` up to 40) → `[Call]`, newest first.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<ListParams>,
) -> AppResult<Json<Vec<Call>>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(
        svc::list(&state, cu.account.id, p.max_id.as_deref(), p.limit).await?,
    ))
}

/// `POST /api/v1/calls` (`account_id`, `media`, `sdp`) → `Call`, ringing.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<StartParams>,
) -> AppResult<Json<Call>> {
    let cu = auth.require_user("write:conversations")?;
    let media = p.media.as_deref().unwrap_or("video");
    let (account_id, sdp) = (
        required(p.account_id, "account_id")?,
        required(p.sdp, "sdp")?,
    );
    Ok(Json(
        svc::start(&state, &cu.account, &account_id, media, &sdp).await?,
    ))
}

/// `GET /api/v1/calls/ice_servers` → `[{"urls", "username"?, "credential"?}]`.
pub async fn ice_servers(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<IceServer>>> {
    auth.require_user("read:statuses")?;
    Ok(Json(svc::ice_servers(&state)))
}

/// `GET /api/v1/calls/:id` → `Call`; 404 unless the caller is one of its two people.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Call>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(svc::show(&state, cu.account.id, &id).await?))
}

/// `POST /api/v1/calls/:id/accept` (`sdp`) → `Call`, active.
pub async fn accept(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<AnswerParams>,
) -> AppResult<Json<Call>> {
    let cu = auth.require_user("write:conversations")?;
    let sdp = p.sdp.unwrap_or_default();
    Ok(Json(svc::accept(&state, &cu.account, &id, &sdp).await?))
}

/// `POST /api/v1/calls/:id/decline` → `Call`, declined.
pub async fn decline(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Call>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(svc::decline(&state, &cu.account, &id).await?))
}

/// `POST /api/v1/calls/:id/hang_up` → `Call`, over.
pub async fn hang_up(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Call>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(svc::hang_up(&state, &cu.account, &id).await?))
}

/// `POST /api/v1/calls/:id/candidates` (`candidate`, `sdp_mid`, `sdp_m_line_index`) → `{}`.
pub async fn candidate(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<CandidateParams>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:conversations")?;
    let c = CallCandidate {
        candidate: p.candidate.unwrap_or_default(),
        sdp_mid: p.sdp_mid,
        // Out of `i32` range is out of the service's range too (422 there).
        sdp_m_line_index: p.sdp_m_line_index.map(|i| i32::try_from(i).unwrap_or(-1)),
    };
    svc::candidate(&state, &cu.account, &id, c).await?;
    Ok(Json(json!({})))
}
