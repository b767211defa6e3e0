//! `/api/v1/follow_requests`, `/api/v1/blocks`, `/api/v1/mutes`
//! (docs.joinmastodon.org/methods/follow_requests/, /methods/blocks/, /methods/mutes/).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use crate::api_types::Relationship;
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, paged};
use crate::service::{relationships as svc, render};
use crate::state::AppState;
use crate::storage::relationships::{self as store, AccountList};

/// A page of accounts from one of the signed-in user's lists.
pub async fn own_list(
    state: &AppState,
    me: i64,
    list: AccountList,
    uri: &Uri,
    p: &PageParams,
) -> AppResult<Response> {
    let rows = store::list_accounts(&state.db, list, me, &p.page_with(40, 80)).await?;
    let ids: Vec<i64> = rows.iter().map(|(i, _)| *i).collect();
    let accounts =
        render::accounts_by_id(state, &rows.iter().map(|(_, a)| *a).collect::<Vec<_>>()).await?;
    Ok(paged(&state.config.base_url(), uri, accounts, &ids))
}

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

/// `GET /api/v1/blocks` (`read:blocks`).
pub async fn blocks(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:blocks")?;
    own_list(&state, cu.account.id, AccountList::Blocks, &uri, &p).await
}

/// `GET /api/v1/mutes` (`read:mutes`).
pub async fn mutes(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:mutes")?;
    own_list(&state, cu.account.id, AccountList::Mutes, &uri, &p).await
}
