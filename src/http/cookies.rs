//! Reading and writing the two cookies of the sign-in pages: the browser session and the CSRF token
//! (double-submit: a random cookie echoed in every form).

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

use crate::config::{Config, Protocol};

pub const SESSION: &str = "rookery_session";
pub const CSRF: &str = "rookery_csrf";

/// The value of cookie `name` from the request's `Cookie` headers.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure over https. `max_age` in seconds; 0 deletes.
pub fn set(cfg: &Config, name: &str, value: &str, max_age: i64) -> String {
    let secure = if cfg.protocol() == Protocol::Https {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Whether `given` (a form field or the `X-CSRF-Token` header) matches the browser's CSRF cookie.
pub fn csrf_matches(headers: &HeaderMap, given: &str) -> bool {
    let cookie = get(headers, CSRF).unwrap_or_default();
    !cookie.is_empty()
        && crate::service::secrets::constant_time_eq(cookie.as_bytes(), given.as_bytes())
}
