//! `/api/v1/domain_blocks` (docs.joinmastodon.org/methods/domain_blocks/): a user's own blocks
//! of whole servers.

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, PageParams, Params, paged};
use crate::service::relationships::domains;
use crate::state::AppState;

/// `GET /api/v1/domain_blocks` (`read:blocks`): domain names, newest first, paged by `Link`.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:blocks")?;
    let page = p.page_with(100, 200);
    let (names, ids) = domains::list(&state, cu.account.id, &page).await?;
    Ok(paged(&state.config.base_url(), &uri, names, &ids))
}

#[derive(Deserialize)]
pub struct DomainParam {
    domain: Option<String>,
}

fn domain(p: DomainParam) -> AppResult<String> {
    p.domain
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| AppError::unprocessable("Validation failed: domain is missing"))
}

/// `POST /api/v1/domain_blocks` (`write:blocks`): `domain`. Answers `{}`.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<DomainParam>,
) -> AppResult<Json<serde_json::Value>> {
    let cu = auth.require_user("write:blocks")?;
    domains::block(&state, cu.account.id, &domain(p)?).await?;
    Ok(Json(serde_json::json!({})))
}

/// `DELETE /api/v1/domain_blocks` (`write:blocks`): `domain`. Answers `{}`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<DomainParam>,
) -> AppResult<Json<serde_json::Value>> {
    let cu = auth.require_user("write:blocks")?;
    domains::unblock(&state, cu.account.id, &domain(p)?).await?;
    Ok(Json(serde_json::json!({})))
}
