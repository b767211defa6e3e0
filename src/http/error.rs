//! [`AppError`] as an HTTP answer: its status, the Mastodon error body
//! (docs.joinmastodon.org/entities/Error) and, for 429, Mastodon's rate-limit headers.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = ?cause, "internal error");
        }
        let status = self.status();
        let mut resp = (status, axum::Json(self.body())).into_response();
        if let AppError::TooManyRequests {
            retry_after_secs,
            limit,
        } = self
        {
            // Mastodon's headers: the budget, what is left of it, and when it is back.
            let reset = chrono::Utc::now() + chrono::Duration::seconds(retry_after_secs as i64);
            let reset = reset.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            for (name, value) in [
                (header::RETRY_AFTER.as_str(), retry_after_secs.to_string()),
                ("x-ratelimit-limit", limit.to_string()),
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-reset", reset),
            ] {
                if let (Ok(n), Ok(v)) = (
                    header::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    resp.headers_mut().insert(n, v);
                }
            }
        }
        resp
    }
}
