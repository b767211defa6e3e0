//! Rookery extensions for admins: `GET /api/v1/admin/deliveries` (the outgoing queue) and
//! `GET /api/v1/admin/instances` (delivery health per server). Admins only, `admin:read`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::api_types::delivery::Delivery;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::service::delivery;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DeliveryQuery {
    state: Option<String>,
    domain: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
}

/// `GET /api/v1/admin/deliveries?state=pending|delivered|failed&domain=&limit=` (default 100, at
/// most 500), newest first → `[Delivery]` with the queue fields (docs/API.md).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: q, .. }: Params<DeliveryQuery>,
) -> AppResult<Json<Vec<Delivery>>> {
    super::admin(&auth, "admin:read")?;
    if let Some(s) = q.state.as_deref()
        && !matches!(s, "pending" | "delivered" | "failed")
    {
        return Err(AppError::bad_request(
            "state must be pending, delivered or failed",
        ));
    }
    Ok(Json(
        delivery::queue(
            &state,
            q.state.as_deref(),
            q.domain.as_deref(),
            q.limit.unwrap_or(100).clamp(1, 500),
        )
        .await?,
    ))
}
