//! `/api/v1/admin/instances` (Rookery extension, docs/API.md): servers we deliver to, with their state.

use axum::Json;
use axum::extract::State;

use crate::api_types::delivery::ServerHealth;
use crate::error::AppResult;
use crate::http::extract::Auth;
use crate::service::delivery;
use crate::state::AppState;

/// `GET /api/v1/admin/instances`: each server we delivered to, worst first → `[ServerHealth]`
/// (`state` reachable, failing or unreachable; since when).
pub async fn instances(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<ServerHealth>>> {
    super::admin(&auth, "admin:read")?;
    Ok(Json(delivery::servers(&state).await?))
}
