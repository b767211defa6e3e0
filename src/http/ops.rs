//! What operators and load balancers call (docs/DEPLOY.md, "Several machines" and "Monitoring"):
//! `GET /ready`, `GET /metrics`, and the layers that give every request an ID and record its
//! metrics. `GET /health` (liveness, Mastodon's) is in `well_known`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The header carrying a request's ID, in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// `GET /ready` (readiness, for load balancers): `{"ready": true}` when the database answers and
/// carries this build's migrations, else 503 with the error shape naming what is wrong.
pub async fn ready(State(state): State<AppState>) -> AppResult<axum::Json<serde_json::Value>> {
    crate::service::instance::ready(&state).await?;
    Ok(axum::Json(serde_json::json!({ "ready": true })))
}

/// `GET /metrics`: Prometheus' text format, for `Authorization: Bearer METRICS_TOKEN`
/// (`metrics.token`). 404 while no token is configured; 401 without the right one.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if !crate::service::metrics::enabled(&state) {
        return Err(AppError::NotFound);
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !crate::service::metrics::token_matches(&state, given.trim()) {
        return Err(AppError::unauthorized(
            "The metrics token is missing or wrong",
        ));
    }
    let body = crate::service::metrics::render(&state).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

/// A request ID a client or proxy may set: 1 to 64 characters of letters, digits and `-_.:`.
fn usable_id(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Gives the request an ID — the `X-Request-Id` it came with when usable, else a new one — seen
/// by the request's log span and returned in the answer's `X-Request-Id`.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| usable_id(v))
        .map(String::from)
        .unwrap_or_else(|| format!("{:016x}", rand::random::<u64>()));
    let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    req.headers_mut().insert(REQUEST_ID, value.clone());
    let mut res = next.run(req).await;
    res.headers_mut().insert(REQUEST_ID, value);
    res
}

/// Records the request's route, status and latency (installed only when metrics are on).
pub async fn record_metrics(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let res = next.run(req).await;
    crate::service::metrics::record_request(
        method.as_str(),
        &route,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    res
}

/// Read replicas (`database.replica_urls`): `GET`/`HEAD` API requests read timelines, accounts and
/// statuses from a replica; any other request carrying a credential and answered with success
/// records, before it is answered, that its session may have written, so its next reads stay on the primary on every
/// node (installed only when replicas are configured).
pub async fn route_reads(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let credential = crate::http::extract::auth::bearer_token(&parts)
        .or_else(|| crate::http::cookies::get(&parts.headers, crate::http::cookies::SESSION));
    let method = parts.method.clone();
    let api = parts.uri.path().starts_with("/api/");
    let req = Request::from_parts(parts, body);
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        if api {
            return crate::service::reads::reading(&state, credential.as_deref(), next.run(req))
                .await;
        }
        return next.run(req).await;
    }
    let res = next.run(req).await;
    // Only an answered write fences: a refused one wrote nothing, and a made-up token must not
    // add rows.
    if let Some(c) = credential
        && method != axum::http::Method::OPTIONS
        && res.status().is_success()
    {
        crate::service::reads::fence(&state, &c).await;
    }
    res
}

/// Several nodes (`federation.shared_queue` on PostgreSQL): a request that may write is answered
/// only once the streaming events and whole-kind cache changes it caused have gone to the other
/// nodes (at most 2 s), so a node killed right after answering has lost none of them; changed
/// keys follow within `realtime::cluster::KEYS_GATHERED_FOR`, unwaited.
pub async fn flush_to_nodes(req: Request, next: Next) -> Response {
    let writes = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let res = next.run(req).await;
    if writes {
        crate::realtime::cluster::flushed(std::time::Duration::from_secs(2)).await;
    }
    res
}
