//! One error type for the whole HTTP surface, rendered in Mastodon's shape:
//! `{"error": "...", "error_description"?: "...", "details"?: {...}}` with `Content-Type:
//! application/json` (docs.joinmastodon.org/entities/Error). Internal causes are logged with
//! `tracing` and never shown to clients. The HTTP answer is built in `http::error`.

use http::StatusCode;
use serde_json::{Value, json};

/// Per-field validation failures, as Mastodon returns them from `POST /api/v1/accounts`:
/// `{"username": [{"error": "ERR_TAKEN", "description": "is already taken"}]}`.
pub type Details = serde_json::Map<String, Value>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request cannot be understood (malformed body, missing parameter).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated but not allowed (scope, role, account state).
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown, or not visible to the caller (never reveals that a private thing exists).
    #[error("Record not found")]
    NotFound,
    /// 410: it existed and is gone for good (a suspended account's actor).
    #[error("{0}")]
    Gone(String),
    /// 503: this node cannot serve now (`GET /ready`: the database does not answer, or its
    /// migrations are not this build's).
    #[error("{0}")]
    Unavailable(String),
    /// 413: the request body is larger than this endpoint accepts.
    #[error("The request body is too large")]
    PayloadTooLarge,
    /// 422: well-formed but invalid; `details` lists per-field errors where known.
    #[error("{message}")]
    Unprocessable {
        message: String,
        details: Option<Details>,
    },
    /// 429 with `Retry-After` (seconds).
    #[error("Too many requests")]
    TooManyRequests { retry_after_secs: u64, limit: u32 },
    /// RFC 6749 §5.2 error at the OAuth endpoints: `{"error": code, "error_description": text}`.
    #[error("{code}: {description}")]
    OAuth {
        status: StatusCode,
        code: &'static str,
        description: String,
    },
    /// 500: logged with its cause; the client sees only a generic message.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn unprocessable(message: impl Into<String>) -> AppError {
        AppError::Unprocessable {
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::BadRequest(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::Forbidden(message.into())
    }

    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::Unauthorized(message.into())
    }

    pub fn oauth(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        AppError::OAuth {
            status,
            code,
            description: description.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::OAuth { status, .. } => *status,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body clients see.
    pub fn body(&self) -> Value {
        match self {
            AppError::Unprocessable {
                message,
                details: Some(details),
            } => json!({ "error": message, "details": details }),
            AppError::OAuth {
                code, description, ..
            } => json!({ "error": code, "error_description": description }),
            AppError::Internal(_) => json!({ "error": "Internal server error" }),
            other => json!({ "error": other.to_string() }),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => AppError::NotFound,
            e if crate::storage::db::is_unique_violation(&e) => {
                AppError::unprocessable("Validation failed: the record already exists")
            }
            e => AppError::Internal(e.into()),
        }
    }
}
