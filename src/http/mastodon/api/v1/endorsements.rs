//! `GET /api/v1/endorsements`, `POST /api/v1/accounts/:id/pin` and `/unpin`
//! (docs.joinmastodon.org/methods/endorsements/, /methods/accounts/#pin).

use axum::Json;
use axum::extract::{Path, State};

use crate::api_types::Account;
use crate::api_types::account::Relationship;
use crate::error::AppResult;
use crate::http::extract::Auth;
use crate::service::featured as svc;
use crate::state::AppState;

/// `GET /api/v1/endorsements` (`read:accounts`) → `[Account]`.
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Account>>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(svc::endorsements(&state, cu.account.id).await?))
}

/// `POST /api/v1/accounts/:id/pin` (`write:accounts`) → `Relationship`; 422 unless followed.
pub async fn pin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(svc::endorse(&state, cu.account.id, &id, true).await?))
}

/// `POST /api/v1/accounts/:id/unpin` (`write:accounts`) → `Relationship`.
pub async fn unpin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(svc::endorse(&state, cu.account.id, &id, false).await?))
}
