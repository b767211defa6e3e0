//! The route table, one file per area: `mastodon` (the client API), `oauth`, `well_known`
//! (discovery), `activitypub`, `web` (browser pages) and `files`. A route's handler is in the
//! file its path names (`/api/v1/blocks` → `http/mastodon/api/v1/blocks.rs`). This file puts the
//! areas together under the layers every response passes.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::MethodRouter;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::AppError;
use crate::http::layers;

mod activitypub;
mod files;
mod mastodon;
mod oauth;
mod web;
mod well_known;
use crate::state::AppState;

/// Largest request body accepted before media uploads exist, in bytes.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn method_not_allowed() -> impl IntoResponse {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({ "error": "Method not allowed" })),
    )
}

/// Routes that remember their paths, so that [`paths`] lists every route the router serves (the
/// route-table test checks each one's access rules).
struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Routes {
        self.paths.push(path);
        self.router = self.router.route(path, methods);
        self
    }

    fn merge(mut self, other: Routes) -> Routes {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }

    /// A file service under `path`, listed as `{path}/{*file}`.
    fn nest_files<S>(mut self, path: &'static str, listed: &'static str, service: S) -> Routes
    where
        S: tower::Service<axum::extract::Request, Error = std::convert::Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: IntoResponse,
        S::Future: Send + 'static,
    {
        self.paths.push(listed);
        self.router = self.router.nest_service(path, service);
        self
    }
}

/// Every route path the router serves, in axum's syntax (`/api/v1/statuses/{id}`); the methods of
/// each are found by asking (a method not served answers 405).
pub fn paths(state: &AppState) -> Vec<&'static str> {
    routes(state).paths
}

/// Builds the application router over `state`.
pub fn router(state: AppState) -> Router {
    let routes = routes(&state).router;
    finish(routes, state)
}

/// The router of a `worker` node (`rookery serve --role worker`): `/health`, `/ready` and
/// `/metrics` only, under the same layers.
pub fn ops_router(state: AppState) -> Router {
    let routes = Router::new()
        .route(
            "/health",
            axum::routing::get(crate::http::well_known::health),
        )
        .route("/ready", axum::routing::get(crate::http::ops::ready))
        .route("/metrics", axum::routing::get(crate::http::ops::metrics));
    finish(routes, state)
}

/// `routes` under the layers every response passes.
fn finish(routes: Router<AppState>, state: AppState) -> Router {
    let csp = page_policy(&state);
    let routes = if crate::service::reads::enabled(&state) {
        routes.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::ops::route_reads,
        ))
    } else {
        routes
    };
    let routes = if state.clustered() {
        routes.route_layer(axum::middleware::from_fn(crate::http::ops::flush_to_nodes))
    } else {
        routes
    };
    let routes = if crate::service::metrics::enabled(&state) {
        crate::service::metrics::install();
        routes.route_layer(axum::middleware::from_fn(crate::http::ops::record_metrics))
    } else {
        routes
    };
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The last line of defence: a panic answers 500 rather than dropping the connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(layers::panicked))
        .layer(axum::middleware::map_response(layers::json_rejections))
        .layer(axum::middleware::map_response(
            move |mut res: axum::response::Response| {
                let csp = csp.clone();
                async move {
                    layers::add_page_headers(&mut res, &csp);
                    res
                }
            },
        ))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(cors())
        .layer(
            TraceLayer::new_for_http()
                // The path only: query strings may carry `access_token`, which must not reach logs.
                .make_span_with(|req: &axum::http::Request<axum::body::Body>| {
                    let id = req
                        .headers()
                        .get(crate::http::ops::REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        // Outside the trace layer, so that the request's span has its ID.
        .layer(axum::middleware::from_fn(crate::http::ops::request_id))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ),
        )
        .with_state(state)
}

/// The pages' Content-Security-Policy, with the origin media are served from.
fn page_policy(state: &AppState) -> HeaderValue {
    let media_origin = url::Url::parse(&state.media.url("x"))
        .map(|u| u.origin().ascii_serialization())
        .ok();
    HeaderValue::from_str(&layers::content_security_policy(media_origin.as_deref()))
        .expect("the policy is ASCII")
}

/// Browser clients (Elk, Phanpy, Semaphore) call the API from other origins with bearer tokens;
/// no cookies cross origins, so any origin may call.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers(Any)
        .expose_headers([
            HeaderName::from_static("link"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("retry-after"),
        ])
        .max_age(Duration::from_secs(3600))
}

/// Every route, grouped by area.
fn routes(state: &AppState) -> Routes {
    let media_dir = state.config.media.dir.clone();
    // Uploads may be as large as the largest accepted file, plus the rest of the form.
    let upload_limit = axum::extract::DefaultBodyLimit::max(
        (state
            .config
            .media
            .video_max_bytes
            .max(state.config.media.image_max_bytes) as usize)
            .saturating_add(1 << 20),
    );
    mastodon::routes(upload_limit)
        .merge(oauth::routes())
        .merge(well_known::routes())
        .merge(activitypub::routes())
        .merge(web::routes())
        .merge(files::routes(media_dir))
}
