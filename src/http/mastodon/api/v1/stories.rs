//! Stories (Rookery's extension; docs/API.md, Stories): `POST/GET /api/v1/stories`,
//! `GET/DELETE /api/v1/stories/:id`, `POST /api/v1/stories/:id/{seen,reply,react}`,
//! `GET /api/v1/stories/:id/viewers`; an account's are `GET /api/v1/accounts/:id/stories` in
//! `accounts`. Paths and parameters follow Pixelfed's story API where it has one.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::status::Status;
use crate::api_types::story::{Story, StoryTrayEntry, StoryViewer};
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::stories::{self as svc, NewStory};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CreateParams {
    media_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    duration: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    can_reply: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    can_react: Option<bool>,
}

/// `POST /api/v1/stories` (`write:statuses`) → `Story`. Errors: 422 (see
/// [`svc::create`]), 404 for media that is not the caller's.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<CreateParams>,
) -> AppResult<Json<Story>> {
    let cu = auth.require_user("write:statuses")?;
    let story = svc::create(
        &state,
        cu,
        NewStory {
            media_id: p.media_id,
            duration: p.duration,
            can_reply: p.can_reply,
            can_react: p.can_react,
        },
    )
    .await?;
    Ok(Json(story))
}

/// `GET /api/v1/stories` (`read:statuses`) → `[StoryTrayEntry]`, unseen first.
pub async fn tray(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<StoryTrayEntry>>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(svc::tray(&state, cu.account.id).await?))
}

/// `GET /api/v1/stories/:id` (`read:statuses`) → `Story`; 404 once expired or if not a follower.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Story>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(svc::show(&state, cu.account.id, &id).await?))
}

/// `DELETE /api/v1/stories/:id` (`write:statuses`) → `{}`; 404 unless it is the caller's.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:statuses")?;
    svc::delete(&state, cu, &id).await?;
    Ok(Json(json!({})))
}

/// `POST /api/v1/stories/:id/seen` (`write:statuses`) → `Story` (now `seen`).
pub async fn seen(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Story>> {
    let cu = auth.require_user("write:statuses")?;
    Ok(Json(svc::seen(&state, cu, &id).await?))
}

/// `GET /api/v1/stories/:id/viewers` (`read:statuses`) → `[StoryViewer]`; the author only.
pub async fn viewers(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<StoryViewer>>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(svc::viewers(&state, cu, &id).await?))
}

#[derive(Deserialize)]
pub struct ReplyParams {
    #[serde(default)]
    status: String,
}

/// `POST /api/v1/stories/:id/reply` (`write:statuses`) {status} → the direct `Status` sent.
pub async fn reply(
    data: crate::service::activitypub::context::FedData,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ReplyParams>,
) -> AppResult<Json<Status>> {
    let state: &AppState = &data;
    let cu = auth.require_user("write:statuses")?;
    let app = auth.0.as_ref().map(|p| p.application_id);
    let row = svc::reply(&data, cu, &id, &p.status, app).await?;
    Ok(Json(
        crate::service::render::status(state, Some(cu.account.id), row).await?,
    ))
}

#[derive(Deserialize)]
pub struct ReactParams {
    #[serde(default)]
    emoji: String,
}

/// `POST /api/v1/stories/:id/react` (`write:statuses`) {emoji} → `{}`.
pub async fn react(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ReactParams>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:statuses")?;
    svc::react(&state, cu, &id, &p.emoji).await?;
    Ok(Json(json!({})))
}
