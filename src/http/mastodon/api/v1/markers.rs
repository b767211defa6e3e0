//! `/api/v1/markers` (docs.joinmastodon.org/methods/markers/).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::service::markers;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct MarkerQuery {
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    timeline: Vec<String>,
}

/// `GET /api/v1/markers?timeline[]=home&timeline[]=notifications` (`read:statuses`).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<MarkerQuery>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("read:statuses")?;
    let wanted: Vec<&str> = p.timeline.iter().map(String::as_str).collect();
    Ok(Json(Value::Object(
        markers::get(&state, cu.account.id, &wanted).await?,
    )))
}

#[derive(Deserialize)]
pub struct MarkerPosition {
    last_read_id: Option<Value>,
}

#[derive(Deserialize)]
pub struct SaveMarkers {
    home: Option<MarkerPosition>,
    notifications: Option<MarkerPosition>,
}

/// `POST /api/v1/markers` (`write:statuses`): `home[last_read_id]`, `notifications[last_read_id]`.
pub async fn save(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<SaveMarkers>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:statuses")?;
    let mut positions = Vec::new();
    for (name, pos) in [("home", p.home), ("notifications", p.notifications)] {
        let Some(pos) = pos else { continue };
        let id = match pos.last_read_id {
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            Some(Value::Number(n)) => n.as_i64(),
            _ => None,
        }
        .ok_or_else(|| AppError::unprocessable(format!("{name}[last_read_id] must be an ID")))?;
        positions.push((name, id));
    }
    Ok(Json(Value::Object(
        markers::save(&state, cu.account.id, &positions).await?,
    )))
}
