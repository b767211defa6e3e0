//! `/api/v2/suggestions` (docs.joinmastodon.org/methods/suggestions/#v2).

use axum::Json;
use axum::extract::State;

use crate::error::AppResult;
use crate::http::extract::{Auth, Params};
use crate::service::featured::{self as svc, Suggestion};
use crate::state::AppState;

/// `GET /api/v2/suggestions` (`read`, `limit` ≤ 80 (40)) → `[Suggestion]`.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<crate::http::mastodon::api::v1::suggestions::SuggestionParams>,
) -> AppResult<Json<Vec<Suggestion>>> {
    let cu = auth.require_user("read:accounts")?;
    let limit = p.limit.unwrap_or(40).clamp(1, 80);
    Ok(Json(svc::suggestions(&state, cu.account.id, limit).await?))
}
