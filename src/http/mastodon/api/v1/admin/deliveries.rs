//! Rookery extensions for admins: `GET /api/v1/admin/deliveries` (the outgoing queue) and
//! `GET /api/v1/admin/instances` (delivery health per server). Admins only, `admin:read`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::state::AppState;
use crate::storage::{deliveries, instances};

fn admin(auth: &Auth) -> AppResult<()> {
    let cu = auth.require_user("admin:read")?;
    if cu.user.role != "admin" {
        return Err(AppError::forbidden("This action is not allowed"));
    }
    Ok(())
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    })
}

#[derive(Deserialize)]
pub struct DeliveryQuery {
    state: Option<String>,
    domain: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
}

/// `GET /api/v1/admin/deliveries?state=pending|delivered|failed&domain=&limit=` (default 100, at
/// most 500), newest first.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: q, .. }: Params<DeliveryQuery>,
) -> AppResult<Json<Vec<Value>>> {
    admin(&auth)?;
    if let Some(s) = q.state.as_deref()
        && !matches!(s, "pending" | "delivered" | "failed")
    {
        return Err(AppError::bad_request(
            "state must be pending, delivered or failed",
        ));
    }
    let rows = deliveries::list(
        &state.db,
        q.state.as_deref(),
        q.domain.as_deref(),
        q.limit.unwrap_or(100).clamp(1, 500),
    )
    .await?;
    Ok(Json(
        rows.iter()
            .map(|d| {
                json!({
                    "id": d.id.to_string(),
                    "activity_id": d.activity_id,
                    "actor_id": d.actor_id.to_string(),
                    "status_id": d.status_id.map(|s| s.to_string()),
                    "domain": d.domain,
                    "inbox": d.inbox_url,
                    "state": d.state,
                    "attempts": d.attempts,
                    "last_error": d.last_error,
                    "next_attempt_at": time(Some(d.next_attempt_at)),
                    "created_at": time(Some(d.created_at)),
                    "delivered_at": time(d.delivered_at),
                })
            })
            .collect(),
    ))
}

/// `GET /api/v1/admin/instances`: each server we delivered to, with consecutive failures and since
/// when it is unreachable (null: reachable).
pub async fn instances(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Value>>> {
    admin(&auth)?;
    let rows = instances::list(&state.db).await?;
    Ok(Json(
        rows.iter()
            .map(|i| {
                json!({
                    "domain": i.domain,
                    "failures": i.failures,
                    "unreachable_since": time(i.unreachable_since),
                    "last_success_at": time(i.last_success_at),
                    "last_failure_at": time(i.last_failure_at),
                })
            })
            .collect(),
    ))
}
