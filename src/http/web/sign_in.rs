//! `GET/POST /auth/sign_in`: the browser session's sign-in page.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::extract::{ClientIp, Params};
use crate::http::oauth::{
    SignInRefused, csrf_token, finish_second_factor, html, start_session, with_cookies,
};
use crate::state::AppState;
use crate::web::WebSignInPage;

use super::*;

/// A local path to go back to after signing in; anything else (other sites included) is `/`.
pub(super) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub(super) fn sign_in_page(
    state: &AppState,
    status: StatusCode,
    csrf: &str,
    next: &str,
    error: Option<String>,
    login: &str,
    challenge: Option<&str>,
) -> Response {
    html(
        status,
        WebSignInPage {
            instance_title: &state.config.instance.title,
            csrf,
            next,
            error,
            login,
            challenge,
        },
    )
}

/// `GET /auth/sign_in?next=PATH`: the sign-in form.
pub async fn sign_in_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let (csrf, new_cookie) = csrf_token(&state, &headers);
    let next = safe_next(q.next.as_deref());
    let page = sign_in_page(&state, StatusCode::OK, &csrf, &next, None, "", None);
    with_new_cookie(page, new_cookie)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    authenticity_token: String,
    next: Option<String>,
    /// The second step of a two-factor sign-in.
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    otp_attempt: String,
}

/// `POST /auth/sign_in`: opens a session and goes back to `next` (303); the form again with the
/// reason when refused (401 wrong credentials, 403 disabled account, 429 too many attempts).
pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Params { value: form, .. }: Params<SignInForm>,
) -> Response {
    if let Some(refused) = stale_form(&state, &headers, &form.authenticity_token) {
        return refused;
    }
    let next = safe_next(form.next.as_deref());
    let login = form.username.trim();
    let outcome = if form.challenge.is_empty() {
        start_session(&state, ip, &headers, login, &form.password).await
    } else {
        finish_second_factor(&state, ip, &headers, &form.challenge, &form.otp_attempt).await
    };
    match outcome {
        Ok((_, set)) => with_cookies(see_other(&next), &[set]),
        Err(SignInRefused::Page(status, msg, _)) => sign_in_page(
            &state,
            status,
            &form.authenticity_token,
            &next,
            Some(msg),
            login,
            None,
        ),
        Err(SignInRefused::SecondFactor {
            challenge,
            status,
            error,
        }) => sign_in_page(
            &state,
            status,
            &form.authenticity_token,
            &next,
            error,
            "",
            Some(&challenge),
        ),
        Err(SignInRefused::Error(e)) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {
    authenticity_token: String,
}

/// `POST /auth/sign_out`: ends the browser session (and the web app's API access with it) and
/// goes to the front page. A stale form gets the 403 page and the session stays.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignOutForm>,
) -> Response {
    if let Some(r) = stale_form(&state, &headers, &form.authenticity_token) {
        return r;
    }
    if let Some(t) = crate::http::cookies::get(&headers, crate::http::cookies::SESSION)
        && let Err(e) = crate::service::sessions::revoke(&state, &t).await
    {
        return e.into_response();
    }
    let clear = crate::http::cookies::set(&state.config, crate::http::cookies::SESSION, "", 0);
    with_cookies(see_other("/explore"), &[clear])
}
