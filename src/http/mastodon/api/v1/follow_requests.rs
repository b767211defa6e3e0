//! `/api/v1/follow_requests` (docs.joinmastodon.org/methods/follow_requests/).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use crate::api_types::Relationship;
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params};
use crate::http::mastodon::api::v1::own_list;
use crate::service::relationships::{self as svc, AccountList};
use crate::state::AppState;

/// `GET /api/v1/follow_requests` (`read:follows`).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:follows")?;
    own_list(&state, cu.account.id, AccountList::Requests, &uri, &p).await
}

/// `POST /api/v1/follow_requests/:id/authorize` (`write:follows`).
pub async fn authorize(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:follows")?;
    Ok(Json(
        svc::answer_request(&state, cu.account.id, &id, true).await?,
    ))
}

/// `POST /api/v1/follow_requests/:id/reject` (`write:follows`).
pub async fn reject(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:follows")?;
    Ok(Json(
        svc::answer_request(&state, cu.account.id, &id, false).await?,
    ))
}
