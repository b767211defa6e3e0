//! `GET /api/v1/endorsements` (docs.joinmastodon.org/methods/endorsements/); endorsing is
//! `POST /api/v1/accounts/:id/pin` in `accounts`.

use axum::Json;
use axum::extract::State;

use crate::api_types::Account;
use crate::error::AppResult;
use crate::http::extract::Auth;
use crate::service::featured as svc;
use crate::state::AppState;

/// `GET /api/v1/endorsements` (`read:accounts`) → `[Account]`.
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Account>>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(svc::endorsements(&state, cu.account.id).await?))
}
