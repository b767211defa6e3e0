//! Layers every response passes through (`router` adds them): extractor rejections turned into the
//! JSON error shape, security headers on HTML pages, and a panic answered as a 500 instead of a
//! dropped connection.

use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Response};
use axum::response::IntoResponse;

use crate::error::AppError;

/// Longest plain-text rejection read back to be wrapped, in bytes (axum's are one sentence).
const REJECTION_MAX: usize = 16 * 1024;

/// A plain-text error from an extractor (axum's rejections: a path segment that is not UTF-8, a
/// malformed query, a WebSocket upgrade without its headers …) becomes `{"error": text}` with the
/// same status, so that every error a client sees has Mastodon's shape
/// (docs.joinmastodon.org/entities/Error). Other responses pass unchanged.
pub async fn json_rejections(res: Response<Body>) -> Response<Body> {
    let is_plain_error = (res.status().is_client_error() || res.status().is_server_error())
        && res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/plain"));
    if !is_plain_error {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, REJECTION_MAX)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let message = if text.is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string()
    } else {
        text
    };
    let mut out = (
        parts.status,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response();
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// The answer when a handler panics: a 500 in the JSON error shape. The panic itself is logged
/// once, by the hook `server::log_panics` installs.
pub fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let error = AppError::Internal(anyhow::anyhow!("a handler panicked"));
    (error.status(), axum::Json(error.body())).into_response()
}

/// The Content-Security-Policy of every HTML page: scripts and styles only from this server's
/// own files (no inline code), no plugins, no framing, forms and links as usual. Images and
/// video may come from this server, from `media_origin` (an S3 bucket's public address, when
/// media live there) and from other servers over https (remote media not cached yet is shown from
/// where it lives), and `blob:` ones (the previews of files picked for upload, made in the page).
pub fn content_security_policy(media_origin: Option<&str>) -> String {
    let extra = media_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:{extra}; \
         media-src 'self' blob: https:{extra}; connect-src 'self'; font-src 'self'; base-uri 'none'; \
         object-src 'none'; frame-ancestors 'none'"
    )
}

/// Adds the security headers of an HTML page to `res` when it is one: `csp`, no framing
/// (`frame-ancestors 'none'` and `X-Frame-Options: DENY` for older browsers), no referrer, and no
/// type sniffing. Other responses keep their own (media have a sandboxing policy of their own).
pub fn add_page_headers(res: &mut Response<Body>, csp: &HeaderValue) {
    let is_html = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if !is_html {
        return;
    }
    let headers = res.headers_mut();
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        csp.clone(),
    );
    headers.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
}
