//! The route table. Every route of the client API, the OAuth pages and the discovery documents is
//! listed here, in URL order per area.

use std::time::Duration;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::AppError;
use crate::http::mastodon::api::{v1, v2};
use crate::http::{activitypub, layers, oauth, well_known};
use crate::state::AppState;

/// Largest request body accepted before media uploads exist, in bytes.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

static AVATAR_PNG: &[u8] = include_bytes!("../web/static/avatar.png");
static HEADER_PNG: &[u8] = include_bytes!("../web/static/header.png");

fn png(bytes: &'static [u8]) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "image/png"),
            (CACHE_CONTROL, "public, max-age=604800"),
        ],
        bytes,
    )
}

/// `GET /assets/{file}`: the pages' embedded CSS and JavaScript (`web::assets`), cached for good.
async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> axum::response::Response {
    match crate::web::assets::find(&file) {
        Some(a) => (
            [
                (CONTENT_TYPE, a.content_type),
                (CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.body,
        )
            .into_response(),
        None => AppError::NotFound.into_response(),
    }
}

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
    let csp = page_policy(&state);
    routes(&state)
        .router
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
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
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
    let api = Routes::new()
        .route(
            "/api/v1/media",
            post(v1::media::create_v1).layer(upload_limit),
        )
        .route(
            "/api/v1/media/{id}",
            get(v1::media::show).put(v1::media::update),
        )
        .route(
            "/api/v2/media",
            post(v1::media::create_v2).layer(upload_limit),
        )
        .route(
            "/api/v1/admin/domain_blocks",
            get(v1::admin::domain_blocks::index).post(v1::admin::domain_blocks::create),
        )
        .route(
            "/api/v1/admin/domain_blocks/{id}",
            get(v1::admin::domain_blocks::show)
                .put(v1::admin::domain_blocks::update)
                .delete(v1::admin::domain_blocks::delete),
        )
        .route("/api/v1/admin/accounts", get(v1::admin::accounts::index))
        .route("/api/v2/admin/accounts", get(v1::admin::accounts::index))
        .route(
            "/api/v1/admin/accounts/{id}",
            get(v1::admin::accounts::show),
        )
        .route(
            "/api/v1/admin/accounts/{id}/action",
            post(v1::admin::accounts::action),
        )
        .route(
            "/api/v1/admin/accounts/{id}/{what}",
            post(v1::admin::accounts::change),
        )
        .route("/api/v1/admin/reports", get(v1::admin::reports::index))
        .route("/api/v1/admin/reports/{id}", get(v1::admin::reports::show))
        .route(
            "/api/v1/admin/reports/{id}/{what}",
            post(v1::admin::reports::change),
        )
        .route("/api/v1/reports", post(v1::reports::create))
        .route(
            "/api/v1/admin/deliveries",
            get(v1::admin::deliveries::index),
        )
        .route(
            "/api/v1/admin/instances",
            get(v1::admin::deliveries::instances),
        )
        .route("/api/v1/apps", post(v1::apps::create))
        .route(
            "/api/v1/apps/verify_credentials",
            get(v1::apps::verify_credentials),
        )
        .route("/api/v1/accounts", post(v1::accounts::create))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(v1::accounts::verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            axum::routing::patch(v1::accounts::update_credentials).layer(upload_limit),
        )
        .route("/api/v1/accounts/lookup", get(v1::accounts::lookup))
        .route(
            "/api/v1/accounts/relationships",
            get(v1::accounts::relationships),
        )
        .route("/api/v1/accounts/search", get(v1::accounts::search))
        .route("/api/v1/accounts/{id}", get(v1::accounts::show))
        .route(
            "/api/v1/stories",
            get(v1::stories::tray).post(v1::stories::create),
        )
        .route(
            "/api/v1/stories/{id}",
            get(v1::stories::show).delete(v1::stories::delete),
        )
        .route("/api/v1/stories/{id}/seen", post(v1::stories::seen))
        .route("/api/v1/stories/{id}/viewers", get(v1::stories::viewers))
        .route("/api/v1/stories/{id}/reply", post(v1::stories::reply))
        .route("/api/v1/stories/{id}/react", post(v1::stories::react))
        .route(
            "/api/v1/accounts/{id}/stories",
            get(v1::stories::of_account),
        )
        .route(
            "/api/v1/accounts/{id}/statuses",
            get(v1::accounts::statuses),
        )
        .route(
            "/api/v1/accounts/{id}/followers",
            get(v1::accounts::followers),
        )
        .route(
            "/api/v1/accounts/{id}/following",
            get(v1::accounts::following),
        )
        .route("/api/v1/accounts/{id}/follow", post(v1::accounts::follow))
        .route(
            "/api/v1/accounts/{id}/unfollow",
            post(v1::accounts::unfollow),
        )
        .route(
            "/api/v1/accounts/{id}/remove_from_followers",
            post(v1::accounts::remove_from_followers),
        )
        .route("/api/v1/accounts/{id}/block", post(v1::accounts::block))
        .route("/api/v1/accounts/{id}/unblock", post(v1::accounts::unblock))
        .route("/api/v1/accounts/{id}/mute", post(v1::accounts::mute))
        .route("/api/v1/accounts/{id}/unmute", post(v1::accounts::unmute))
        .route("/api/v1/blocks", get(v1::follow_requests::blocks))
        .route("/api/v1/bookmarks", get(v1::statuses::bookmarks))
        .route("/api/v1/favourites", get(v1::statuses::favourites))
        .route("/api/v1/follow_requests", get(v1::follow_requests::index))
        .route(
            "/api/v1/follow_requests/{id}/authorize",
            post(v1::follow_requests::authorize),
        )
        .route(
            "/api/v1/follow_requests/{id}/reject",
            post(v1::follow_requests::reject),
        )
        .route("/api/v1/followed_tags", get(v1::tags::followed))
        .route(
            "/api/v1/markers",
            get(v1::notifications::markers).post(v1::notifications::save_markers),
        )
        .route("/api/v1/mutes", get(v1::follow_requests::mutes))
        .route("/api/v1/notifications", get(v1::notifications::index))
        .route(
            "/api/v1/notifications/clear",
            post(v1::notifications::clear),
        )
        .route(
            "/api/v1/notifications/unread_count",
            get(v1::notifications::unread_count),
        )
        .route("/api/v1/notifications/{id}", get(v1::notifications::show))
        .route(
            "/api/v1/notifications/{id}/dismiss",
            post(v1::notifications::dismiss),
        )
        .route("/api/v1/statuses", post(v1::statuses::create))
        .route(
            "/api/v1/statuses/{id}",
            get(v1::statuses::show)
                .delete(v1::statuses::delete)
                .put(v1::statuses::edit),
        )
        .route("/api/v1/statuses/{id}/context", get(v1::statuses::context))
        .route(
            "/api/v1/statuses/{id}/receipts",
            get(v1::conversations::receipts),
        )
        .route(
            "/api/v1/filters",
            get(v1::filters::index).post(v1::filters::create),
        )
        .route(
            "/api/v1/filters/{id}",
            get(v1::filters::show)
                .put(v1::filters::update)
                .delete(v1::filters::delete),
        )
        .route(
            "/api/v2/filters",
            get(v2::filters::index).post(v2::filters::create),
        )
        .route(
            "/api/v2/filters/{id}",
            get(v2::filters::show)
                .put(v2::filters::update)
                .delete(v2::filters::delete),
        )
        .route(
            "/api/v2/filters/{id}/keywords",
            get(v2::filters::keywords).post(v2::filters::add_keyword),
        )
        .route(
            "/api/v2/filters/{id}/statuses",
            get(v2::filters::statuses).post(v2::filters::add_status),
        )
        .route(
            "/api/v2/filters/keywords/{id}",
            get(v2::filters::keyword)
                .put(v2::filters::update_keyword)
                .delete(v2::filters::delete_keyword),
        )
        .route(
            "/api/v2/filters/statuses/{id}",
            get(v2::filters::status).delete(v2::filters::delete_status),
        )
        .route(
            "/api/v1/lists",
            get(v1::lists::index).post(v1::lists::create),
        )
        .route(
            "/api/v1/lists/{id}",
            get(v1::lists::show)
                .put(v1::lists::update)
                .delete(v1::lists::delete),
        )
        .route(
            "/api/v1/lists/{id}/accounts",
            get(v1::lists::accounts)
                .post(v1::lists::change_accounts)
                .delete(v1::lists::change_accounts),
        )
        .route("/api/v1/accounts/{id}/lists", get(v1::lists::of_account))
        .route("/api/v1/timelines/list/{id}", get(v1::lists::timeline))
        .route("/api/v1/conversations", get(v1::conversations::index))
        .route(
            "/api/v1/conversations/{id}",
            axum::routing::delete(v1::conversations::delete),
        )
        .route(
            "/api/v1/conversations/{id}/read",
            post(v1::conversations::read),
        )
        .route(
            "/api/v1/conversations/{id}/typing",
            post(v1::conversations::typing),
        )
        .route("/api/v1/presence", get(v1::conversations::presence))
        .route(
            "/api/v1/messaging/preferences",
            get(v1::conversations::preferences).put(v1::conversations::update_preferences),
        )
        .route(
            "/api/v1/statuses/{id}/deliveries",
            get(v1::statuses::deliveries),
        )
        .route("/api/v1/statuses/{id}/history", get(v1::statuses::history))
        .route("/api/v1/statuses/{id}/source", get(v1::statuses::source))
        .route(
            "/api/v1/statuses/{id}/favourite",
            post(v1::statuses::favourite),
        )
        .route(
            "/api/v1/statuses/{id}/unfavourite",
            post(v1::statuses::unfavourite),
        )
        .route("/api/v1/statuses/{id}/reblog", post(v1::statuses::reblog))
        .route(
            "/api/v1/statuses/{id}/unreblog",
            post(v1::statuses::unreblog),
        )
        .route(
            "/api/v1/statuses/{id}/bookmark",
            post(v1::statuses::bookmark),
        )
        .route(
            "/api/v1/statuses/{id}/unbookmark",
            post(v1::statuses::unbookmark),
        )
        .route("/api/v1/statuses/{id}/pin", post(v1::statuses::pin))
        .route("/api/v1/statuses/{id}/unpin", post(v1::statuses::unpin))
        .route("/api/v1/statuses/{id}/mute", post(v1::statuses::mute))
        .route("/api/v1/statuses/{id}/unmute", post(v1::statuses::unmute))
        .route(
            "/api/v1/statuses/{id}/favourited_by",
            get(v1::statuses::favourited_by),
        )
        .route(
            "/api/v1/statuses/{id}/reblogged_by",
            get(v1::statuses::reblogged_by),
        )
        .route("/api/v1/streaming", get(v1::streaming::root))
        .route("/api/v1/streaming/", get(v1::streaming::root))
        .route("/api/v1/streaming/health", get(v1::streaming::health))
        .route("/api/v1/streaming/{*stream}", get(v1::streaming::sse))
        .route("/api/v1/tags/{name}", get(v1::tags::show))
        .route("/api/v1/tags/{name}/follow", post(v1::tags::follow))
        .route("/api/v1/tags/{name}/unfollow", post(v1::tags::unfollow))
        .route("/api/v1/timelines/home", get(v1::timelines::home))
        .route("/api/v1/timelines/public", get(v1::timelines::public))
        .route("/api/v1/timelines/shorts", get(v1::shorts::timeline))
        .route("/api/v1/tags/{name}/shorts", get(v1::shorts::tag))
        .route("/api/v1/statuses/{id}/view", post(v1::shorts::view))
        .route("/api/v1/shorts", post(v1::statuses::create_short))
        .route("/api/v1/accounts/{id}/shorts", get(v1::accounts::shorts))
        .route("/api/v1/timelines/tag/{hashtag}", get(v1::timelines::tag))
        .route("/api/v1/custom_emojis", get(v1::instance::custom_emojis))
        .route("/api/v1/instance", get(v1::instance::show))
        .route("/api/v1/instance/", get(v1::instance::show))
        .route("/api/v1/instance/peers", get(v1::instance::peers))
        .route("/api/v1/instance/rules", get(v1::instance::rules))
        .route(
            "/api/v1/emails/confirmations",
            post(v1::emails::resend_confirmation),
        )
        .route("/api/v1/endorsements", get(v1::endorsements::index))
        .route("/api/v1/accounts/{id}/pin", post(v1::endorsements::pin))
        .route("/api/v1/accounts/{id}/unpin", post(v1::endorsements::unpin))
        .route(
            "/api/v1/featured_tags",
            get(v1::featured_tags::index).post(v1::featured_tags::create),
        )
        .route(
            "/api/v1/featured_tags/suggestions",
            get(v1::featured_tags::suggestions),
        )
        .route(
            "/api/v1/featured_tags/{id}",
            axum::routing::delete(v1::featured_tags::delete),
        )
        .route(
            "/api/v1/accounts/{id}/featured_tags",
            get(v1::featured_tags::of_account),
        )
        .route("/api/v1/directory", get(v1::directory::directory))
        .route("/api/v1/suggestions", get(v1::directory::v1))
        .route(
            "/api/v1/suggestions/{id}",
            axum::routing::delete(v1::directory::dismiss),
        )
        .route("/api/v2/suggestions", get(v1::directory::v2))
        .route("/api/v2/notifications", get(v2::notifications::index))
        .route(
            "/api/v2/notifications/unread_count",
            get(v2::notifications::unread_count),
        )
        .route("/api/v2/notifications/{key}", get(v2::notifications::show))
        .route(
            "/api/v2/notifications/{key}/accounts",
            get(v2::notifications::accounts),
        )
        .route(
            "/api/v2/notifications/{key}/dismiss",
            post(v2::notifications::dismiss),
        )
        .route(
            "/api/v1/push/subscription",
            get(v1::push::show)
                .post(v1::push::create)
                .put(v1::push::update)
                .delete(v1::push::delete),
        )
        .route("/api/v1/trends", get(v1::trends::tags))
        .route("/api/v1/trends/tags", get(v1::trends::tags))
        .route("/api/v1/trends/statuses", get(v1::trends::statuses))
        .route("/api/v1/trends/links", get(v1::trends::links))
        .route("/api/v1/announcements", get(v1::announcements::index))
        .route(
            "/api/v1/announcements/{id}/dismiss",
            post(v1::announcements::dismiss),
        )
        .route(
            "/api/v1/announcements/{id}/reactions/{name}",
            axum::routing::put(v1::announcements::reaction).delete(v1::announcements::reaction),
        )
        .route(
            "/api/v1/instance/translation_languages",
            get(v1::instance::translation_languages),
        )
        .route("/api/v1/instance/activity", get(v1::instance::activity))
        .route("/api/v1/preferences", get(v1::instance::preferences))
        .route("/api/v2/instance", get(v1::instance::show_v2))
        .route("/api/v2/search", get(v2::search::search))
        .route("/api/v2/instance/", get(v1::instance::show_v2));

    let oauth_routes = Routes::new()
        .route(
            "/oauth/authorize",
            get(oauth::authorize_get).post(oauth::authorize_post),
        )
        .route(
            "/oauth/authorize/",
            get(oauth::authorize_get).post(oauth::authorize_post),
        )
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke));

    let discovery = Routes::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(well_known::oauth_metadata),
        )
        .route("/.well-known/nodeinfo", get(well_known::nodeinfo_links))
        .route("/.well-known/host-meta", get(well_known::host_meta))
        .route(
            "/.well-known/host-meta.json",
            get(well_known::host_meta_json),
        )
        .route("/.well-known/webfinger", get(well_known::webfinger))
        .route("/nodeinfo/2.0", get(well_known::nodeinfo_20))
        .route("/nodeinfo/2.1", get(well_known::nodeinfo_21));

    let activitypub_routes = Routes::new()
        .route("/inbox", post(activitypub::inbox))
        .route("/actor", get(activitypub::instance_actor))
        .route("/actor/inbox", post(activitypub::inbox))
        .route("/users/{name}", get(activitypub::user))
        .route("/users/{name}/inbox", post(activitypub::inbox))
        .route("/users/{name}/outbox", get(activitypub::outbox))
        .route("/users/{name}/followers", get(activitypub::followers))
        .route("/users/{name}/following", get(activitypub::following))
        .route(
            "/users/{name}/collections/featured",
            get(activitypub::featured),
        )
        .route("/users/{name}/statuses/{id}", get(activitypub::status))
        .route("/stories/{name}/{id}", get(activitypub::story))
        .route("/auth/confirmation", get(super::web::confirm_email))
        .route(
            "/auth/edit",
            get(super::settings::account_edit).post(super::settings::account_update),
        )
        .route(
            "/settings/delete",
            get(super::settings::delete_show).post(super::settings::delete_account),
        )
        .route(
            "/settings/two_factor",
            get(super::settings::two_factor_show).post(super::settings::two_factor_update),
        )
        .route("/auth/password/new", get(super::web::password_new))
        .route(
            "/auth/sign_up",
            get(super::web::sign_up_form).post(super::web::sign_up),
        )
        .route("/auth/password", post(super::web::password_request))
        .route(
            "/auth/password/edit",
            get(super::web::password_edit).post(super::web::password_reset),
        )
        .route(
            "/auth/sign_in",
            get(super::web::sign_in_form).post(super::web::sign_in),
        )
        .route("/{at_name}/stories", get(super::web::stories_page))
        .route("/shorts", get(super::web::shorts_page))
        .route("/{at_name}/shorts", get(super::web::account_shorts_page))
        .route(
            "/web/statuses/{id}/{action}",
            post(super::web::status_action),
        )
        .route("/{at_name}/stories/{id}/seen", post(super::web::story_seen))
        .route(
            "/users/{name}/statuses/{id}/activity",
            get(activitypub::status_activity),
        )
        // `/@name` and `/@name/id`: one path segment that must start with `@` (checked by the
        // handlers); static routes above always win over these.
        .route("/{at_name}", get(activitypub::profile))
        .route("/{at_name}/{id}", get(activitypub::status_page));

    let files = Routes::new()
        .route(
            "/avatars/original/missing.png",
            get(|| async { png(AVATAR_PNG) }),
        )
        .route(
            "/headers/original/missing.png",
            get(|| async { png(HEADER_PNG) }),
        )
        .route("/media_proxy/{id}/{variant}", get(v1::media::proxy))
        .route("/assets/{file}", get(asset))
        // Uploaded files: byte ranges (video seeking), types from the extension, cached for a year
        // (a key's content never changes), and never interpreted as a page of this site.
        .nest_files(
            "/media",
            "/media/{*file}",
            tower::ServiceBuilder::new()
                .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ))
                .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                    HeaderName::from_static("content-security-policy"),
                    HeaderValue::from_static("default-src 'none'; sandbox"),
                ))
                .service(ServeDir::new(media_dir)),
        );

    Routes::new()
        .merge(api)
        .merge(oauth_routes)
        .merge(discovery)
        .merge(activitypub_routes)
        .merge(files)
}
