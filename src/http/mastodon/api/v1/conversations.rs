//! `/api/v1/conversations` (docs.joinmastodon.org/methods/conversations/), with Rookery's
//! extensions `GET /api/v1/conversations/:id/messages` and `POST /api/v1/conversations/:id/typing` (docs/API.md, Conversations). Receipts are in
//! `statuses`, presence in `presence`, preferences in `messaging`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Value, json};

use crate::api_types::conversation::Conversation;
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, paged};
use crate::service::conversations::{self as svc};
use crate::state::AppState;

/// `GET /api/v1/conversations` (`read:statuses`) → `[Conversation]`, latest message first, paged
/// by the last message's ID (`max_id`, `since_id`, `min_id`, `limit`, `Link` header).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:statuses")?;
    let (items, ids) = svc::list(&state, cu.account.id, &p.page()).await?;
    Ok(paged(&state.config.base_url(), &uri, items, &ids))
}

/// `GET /api/v1/conversations/:id/messages` (extension, `read:statuses`) → `[Status]`: the
/// conversation's messages the caller wrote or received, newest first, paged by status ID
/// (`max_id`, `since_id`, `min_id`, `limit`, `Link` header); 404 when it is not the caller's.
pub async fn messages(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:statuses")?;
    let (items, ids) = svc::messages(&state, cu.account.id, &id, &p.page()).await?;
    Ok(paged(&state.config.base_url(), &uri, items, &ids))
}

/// `POST /api/v1/conversations/:id/read` (`write:conversations`) → `Conversation`; 404 when it is
/// not the caller's.
pub async fn read(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Conversation>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(svc::read(&state, cu, &id).await?))
}

/// `POST /api/v1/conversations/:id/unread` (`write:conversations`) → `Conversation` marked unread
/// for the caller; 404 when it is not the caller's.
pub async fn unread(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Conversation>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(svc::unread(&state, cu, &id).await?))
}

/// `DELETE /api/v1/conversations/:id` (`write:conversations`) → `{}`; 404 when it is not the
/// caller's.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:conversations")?;
    svc::delete(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}

/// `POST /api/v1/conversations/:id/typing` (extension, `write:conversations`) → `{}`: the other
/// local participants get a `rookery.typing` event. WebSocket clients can send
/// `{"type": "typing", "conversation_id": "…"}` instead.
pub async fn typing(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:conversations")?;
    svc::typing(&state, cu, &id).await?;
    Ok(Json(json!({})))
}
