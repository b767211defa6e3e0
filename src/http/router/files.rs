//! Files: uploaded media (`/media/…`), remote media through the proxy, the default avatar and
//! header, and the pages' embedded CSS and JavaScript.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::services::ServeDir;

use super::Routes;
use crate::error::AppError;

static AVATAR_PNG: &[u8] = include_bytes!("../../web/static/avatar.png");
static HEADER_PNG: &[u8] = include_bytes!("../../web/static/header.png");

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

/// Files served under `media_dir` and the built-in ones.
pub(super) fn routes(media_dir: String) -> Routes {
    Routes::new()
        .route(
            "/avatars/original/missing.png",
            get(|| async { png(AVATAR_PNG) }),
        )
        .route(
            "/headers/original/missing.png",
            get(|| async { png(HEADER_PNG) }),
        )
        .route(
            "/media_proxy/{id}/{variant}",
            get(crate::http::media_proxy::proxy),
        )
        .route("/emoji_proxy/{id}", get(crate::http::media_proxy::emoji))
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
        )
}
