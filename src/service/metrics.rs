//! Prometheus metrics (docs/DEPLOY.md, "Monitoring"), through the `metrics` facade and
//! `metrics-exporter-prometheus`: requests and their latency by route, delivery outcomes, and,
//! read at each scrape, jobs waiting by kind, deliveries pending and database pool use.
//!
//! The recorder is process-wide and installed only when `metrics.token` is set; without it every
//! `record_*` call is a no-op and the request layer is not installed at all.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Request latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's Prometheus recorder, installed on first call; `None` when another recorder
/// was installed first (logged).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("rookery_http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .and_then(|b| b.install_recorder());
            match built {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics are off: no Prometheus recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// Whether this instance exposes metrics (`metrics.token` is set).
pub fn enabled(state: &AppState) -> bool {
    !state.config.metrics.token.is_empty()
}

/// Whether `token` is the configured scrape token (compared in constant time).
pub fn token_matches(state: &AppState, token: &str) -> bool {
    enabled(state)
        && crate::service::secrets::constant_time_eq(
            token.as_bytes(),
            state.config.metrics.token.as_bytes(),
        )
}

/// One answered request: `route` is the matched route pattern (`/api/v1/statuses/{id}`), never
/// the raw path, so label values stay few.
pub fn record_request(method: &str, route: &str, status: u16, seconds: f64) {
    let (method, route) = (method.to_string(), route.to_string());
    metrics::counter!("rookery_http_requests_total", "method" => method.clone(),
        "route" => route.clone(), "status" => status.to_string())
    .increment(1);
    metrics::histogram!("rookery_http_request_duration_seconds", "method" => method,
        "route" => route)
    .record(seconds);
}

/// One delivery attempt's outcome: `delivered`, `retry`, `refused` or `given_up`.
pub fn record_delivery(outcome: &'static str) {
    metrics::counter!("rookery_deliveries_total", "outcome" => outcome).increment(1);
}

/// The text exposition format, with the gauges read from the database now.
///
/// Errors: 404 when metrics are off; database errors.
pub async fn render(state: &AppState) -> AppResult<String> {
    let handle = install().ok_or(AppError::NotFound)?;
    for (kind, n) in crate::jobs::count_by_kind(&state.db).await? {
        metrics::gauge!("rookery_jobs_queued", "kind" => kind).set(n as f64);
    }
    let pending = crate::storage::deliveries::pending_count(&state.db).await?;
    metrics::gauge!("rookery_deliveries_pending").set(pending as f64);
    let (open, idle, max) = state.db.pool_usage();
    metrics::gauge!("rookery_db_pool_connections", "state" => "open").set(open as f64);
    metrics::gauge!("rookery_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("rookery_db_pool_connections", "state" => "max").set(max as f64);
    if let Some(replicas) = state.db.replicas() {
        for r in replicas.states() {
            let lag = if r.lag_ms == u64::MAX {
                f64::INFINITY
            } else {
                r.lag_ms as f64
            };
            metrics::gauge!("rookery_db_replica_lag_ms", "replica" => r.label.clone()).set(lag);
            metrics::gauge!("rookery_db_replica_usable", "replica" => r.label.clone())
                .set(if r.usable { 1.0 } else { 0.0 });
            metrics::counter!("rookery_db_scoped_reads_total", "to" => r.label).absolute(r.reads);
        }
        metrics::counter!("rookery_db_scoped_reads_total", "to" => "primary")
            .absolute(replicas.primary_reads());
    }
    handle.run_upkeep();
    Ok(handle.render())
}
