//! `/api/v1/notifications/*` and `/api/v1/markers`
//! (docs.joinmastodon.org/methods/notifications/, /methods/markers/).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api_types::status::Notification;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::render;
use crate::state::AppState;
use crate::storage::notifications::{self as store, Filter};

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    exclude_types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    account_id: Option<i64>,
}

/// `GET /api/v1/notifications` (`read:notifications`): `types[]`, `exclude_types[]`, `account_id`,
/// pagination (default 40, at most 80).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<ListParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:notifications")?;
    let me = cu.account.id;
    // Rookery's own types only for clients that ask for them: apps that decode the type strictly
    // would fail on the whole page otherwise.
    let mut exclude_types = p.exclude_types;
    if p.types.is_empty() {
        exclude_types.extend(
            crate::service::notifications::EXTENSION_TYPES
                .iter()
                .map(|t| t.to_string()),
        );
    }
    let filter = Filter {
        types: p.types,
        exclude_types,
        from_account: p.account_id,
    };
    let rows = store::list(&state.db, me, &filter, &p.page.page_with(40, 80)).await?;
    let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
    let out = render::notifications(&state, me, rows).await?;
    let out = crate::service::filters::notifications(&state, me, out).await?;
    Ok(paged(&state.config.base_url(), &uri, out, &ids))
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::NotFound)
}

/// `GET /api/v1/notifications/:id` (`read:notifications`).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Notification>> {
    let cu = auth.require_user("read:notifications")?;
    let row = store::find(&state.db, cu.account.id, parse_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    render::notifications(&state, cu.account.id, vec![row])
        .await?
        .pop()
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// `POST /api/v1/notifications/:id/dismiss` (`write:notifications`).
pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:notifications")?;
    if store::dismiss(&state.db, cu.account.id, Some(parse_id(&id)?)).await? == 0 {
        return Err(AppError::NotFound);
    }
    Ok(Json(json!({})))
}

/// `POST /api/v1/notifications/clear` (`write:notifications`).
pub async fn clear(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:notifications")?;
    store::dismiss(&state.db, cu.account.id, None).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub struct UnreadParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
}

/// `GET /api/v1/notifications/unread_count` (`read:notifications`): notifications after the
/// `notifications` marker, counted up to `limit` (default 100, at most 1000).
pub async fn unread_count(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<UnreadParams>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("read:notifications")?;
    let me = cu.account.id;
    let markers = store::markers(&state.db, me).await?;
    let after = markers
        .iter()
        .find(|m| m.timeline == "notifications")
        .map_or(0, |m| m.last_read_id);
    let cap = p.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        json!({ "count": store::count_after(&state.db, me, after, cap).await? }),
    ))
}

#[derive(Deserialize)]
pub struct MarkerQuery {
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    timeline: Vec<String>,
}

fn marker_json(m: &store::MarkerRow) -> Value {
    json!({
        "last_read_id": m.last_read_id.to_string(),
        "version": m.version,
        "updated_at": m.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

const TIMELINES: &[&str] = &["home", "notifications"];

/// `GET /api/v1/markers?timeline[]=home&timeline[]=notifications` (`read:statuses`).
pub async fn markers(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<MarkerQuery>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("read:statuses")?;
    let rows = store::markers(&state.db, cu.account.id).await?;
    let wanted: Vec<&str> = if p.timeline.is_empty() {
        TIMELINES.to_vec()
    } else {
        p.timeline.iter().map(String::as_str).collect()
    };
    let mut out = Map::new();
    for m in rows
        .iter()
        .filter(|m| wanted.contains(&m.timeline.as_str()))
    {
        out.insert(m.timeline.clone(), marker_json(m));
    }
    Ok(Json(Value::Object(out)))
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
pub async fn save_markers(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<SaveMarkers>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:statuses")?;
    let me = cu.account.id;
    let mut saved = Vec::new();
    for (name, pos) in [("home", p.home), ("notifications", p.notifications)] {
        let Some(pos) = pos else { continue };
        let id = match pos.last_read_id {
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            Some(Value::Number(n)) => n.as_i64(),
            _ => None,
        }
        .ok_or_else(|| AppError::unprocessable(format!("{name}[last_read_id] must be an ID")))?;
        store::set_marker(&state.db, me, name, id).await?;
        saved.push(name);
    }
    if saved.is_empty() {
        return Err(AppError::unprocessable(
            "Give home[last_read_id] or notifications[last_read_id]",
        ));
    }
    let rows = store::markers(&state.db, me).await?;
    let mut out = Map::new();
    for m in rows.iter().filter(|m| saved.contains(&m.timeline.as_str())) {
        out.insert(m.timeline.clone(), marker_json(m));
    }
    Ok(Json(Value::Object(out)))
}
