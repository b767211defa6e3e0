//! Account pages reached from mail or the sign-in page: e-mail confirmation
//! (`/auth/confirmation`), password reset (`/auth/password`, `/auth/password/new`,
//! `/auth/password/edit`), sign-up (`/auth/sign_up`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::AppError;
use crate::http::extract::{ClientIp, Params};
use crate::http::oauth::{csrf_token, html, message};
use crate::state::AppState;

use super::*;

#[derive(Deserialize)]
pub struct ConfirmationQuery {
    #[serde(default)]
    confirmation_token: String,
}

/// `GET /auth/confirmation?confirmation_token=…`: the link of the confirmation mail. A page says
/// the address is confirmed, or (404) that the link is unknown, used or expired.
pub async fn confirm_email(
    State(state): State<AppState>,
    Query(q): Query<ConfirmationQuery>,
) -> Response {
    match crate::service::mail::confirm(&state, &q.confirmation_token).await {
        Ok(()) => crate::http::oauth::message(
            &state,
            StatusCode::OK,
            "Address confirmed",
            "Your e-mail address is confirmed. You can sign in from your app, or here on the web.",
        ),
        Err(AppError::NotFound) => crate::http::oauth::message(
            &state,
            StatusCode::NOT_FOUND,
            "This link does not work",
            "The confirmation link is unknown, was used already or has expired. Ask your app to send a new one.",
        ),
        // The only refusal: another account confirmed the same new address first.
        Err(AppError::Unprocessable { .. }) => crate::http::oauth::message(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "This address is taken",
            "Another account confirmed this e-mail address first. Your address stays as it was; choose another one in your account settings.",
        ),
        Err(e) => e.into_response(),
    }
}

/// `GET /auth/password/new`: the form asking for a reset link.
pub async fn password_new(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (csrf, new_cookie) = csrf_token(&state, &headers);
    let page = html(
        StatusCode::OK,
        crate::web::PasswordNewPage {
            instance_title: &state.config.instance.title,
            csrf: &csrf,
        },
    );
    with_new_cookie(page, new_cookie)
}

#[derive(Deserialize)]
pub struct PasswordRequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    authenticity_token: String,
}

/// `POST /auth/password`: mails a reset link when the address belongs to an account. The answer is
/// the same either way.
pub async fn password_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Params { value: f, .. }: Params<PasswordRequestForm>,
) -> Response {
    if let Some(refused) = stale_form(&state, &headers, &f.authenticity_token) {
        return refused;
    }
    match crate::service::recovery::request(&state, ip, &f.email).await {
        Ok(()) => message(
            &state,
            StatusCode::OK,
            "Check your mail",
            "If an account has this address, a link to choose a new password is on its way. It works for one hour.",
        ),
        Err(e) => throttled_page(&state, e),
    }
}

#[derive(Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    reset_password_token: String,
}

/// `GET /auth/password/edit?reset_password_token=…`: the new password form of a reset link.
pub async fn password_edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ResetQuery>,
) -> Response {
    let (csrf, new_cookie) = csrf_token(&state, &headers);
    let page = html(
        StatusCode::OK,
        crate::web::PasswordEditPage {
            instance_title: &state.config.instance.title,
            csrf: &csrf,
            token: &q.reset_password_token,
            error: None,
        },
    );
    with_new_cookie(page, new_cookie)
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    reset_password_token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
    #[serde(default)]
    authenticity_token: String,
}

/// `POST /auth/password/edit`: sets the new password (every other session is signed out); the
/// form again (422) for a bad password, a 404 page for an unknown, used or expired link.
pub async fn password_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params { value: f, .. }: Params<ResetForm>,
) -> Response {
    if let Some(refused) = stale_form(&state, &headers, &f.authenticity_token) {
        return refused;
    }
    let result = crate::service::recovery::reset(
        &state,
        &f.reset_password_token,
        &f.password,
        &f.password_confirmation,
    )
    .await;
    match result {
        Ok(()) => message(
            &state,
            StatusCode::OK,
            "Password changed",
            "Your password is changed and you are signed out everywhere. Sign in again from your apps.",
        ),
        Err(AppError::Unprocessable { message: why, .. }) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            crate::web::PasswordEditPage {
                instance_title: &state.config.instance.title,
                csrf: &f.authenticity_token,
                token: &f.reset_password_token,
                error: Some(why),
            },
        ),
        Err(AppError::NotFound) => message(
            &state,
            StatusCode::NOT_FOUND,
            "This link does not work",
            "The reset link is unknown, was used already or has expired. Ask for a new one.",
        ),
        Err(e) => e.into_response(),
    }
}

pub(super) fn sign_up_page(
    state: &AppState,
    status: StatusCode,
    csrf: &str,
    error: Option<String>,
    form: Option<&SignUpForm>,
) -> Response {
    html(
        status,
        crate::web::SignUpPage {
            instance_title: &state.config.instance.title,
            csrf,
            approval: state.config.registrations.mode == crate::config::RegistrationsMode::Approval,
            error,
            username: form.map_or("", |f| f.username.as_str()),
            email: form.map_or("", |f| f.email.as_str()),
            reason: form.map_or("", |f| f.reason.as_str()),
        },
    )
}

/// A page for a throttled form (429 with `Retry-After` and the `X-RateLimit-*` headers).
pub(super) fn throttled_page(state: &AppState, e: AppError) -> Response {
    let AppError::TooManyRequests {
        retry_after_secs, ..
    } = &e
    else {
        return e.into_response();
    };
    let minutes = retry_after_secs.div_ceil(60);
    let mut page = message(
        state,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &format!("Please try again in {minutes} minute(s)."),
    );
    let headers = e.into_response().headers().clone();
    for (name, value) in headers
        .iter()
        .filter(|(n, _)| *n != axum::http::header::CONTENT_TYPE)
    {
        page.headers_mut().insert(name.clone(), value.clone());
    }
    page
}

pub(super) fn registrations_closed(state: &AppState) -> Option<Response> {
    (state.config.registrations.mode == crate::config::RegistrationsMode::Closed).then(|| {
        message(
            state,
            StatusCode::FORBIDDEN,
            "Sign-ups are closed",
            "This server does not take new accounts at the moment.",
        )
    })
}

/// `GET /auth/sign_up`: the sign-up form; a 403 page when registrations are closed.
pub async fn sign_up_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(closed) = registrations_closed(&state) {
        return closed;
    }
    let (csrf, new_cookie) = csrf_token(&state, &headers);
    let page = sign_up_page(&state, StatusCode::OK, &csrf, None, None);
    with_new_cookie(page, new_cookie)
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    reason: String,
    #[serde(default, deserialize_with = "crate::http::extract::lenient::bool")]
    agreement: bool,
    #[serde(default)]
    authenticity_token: String,
}

/// `POST /auth/sign_up`: creates the account (as `POST /api/v1/accounts` does) and says what comes
/// next — confirm the address, wait for approval, or sign in; the form again (422) with the
/// reasons when a field is refused.
pub async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Params { value: f, .. }: Params<SignUpForm>,
) -> Response {
    if let Some(closed) = registrations_closed(&state) {
        return closed;
    }
    if let Some(refused) = stale_form(&state, &headers, &f.authenticity_token) {
        return refused;
    }
    let result = crate::service::accounts::sign_up(
        &state,
        &crate::service::accounts::SignUp {
            ip,
            username: &f.username,
            email: &f.email,
            password: &f.password,
            agreement: f.agreement,
            locale: None,
            reason: Some(f.reason.as_str()),
        },
    )
    .await;
    match result {
        Ok((_, user)) => {
            let next = if user.confirmed_at.is_none() {
                "We sent a link to your e-mail address: open it to confirm the address, then sign in here or from your app."
            } else if !user.approved {
                "A moderator will look at your request; you can sign in once it is approved."
            } else {
                "Your account is ready: sign in here or from your app."
            };
            message(&state, StatusCode::OK, "Welcome", next)
        }
        Err(AppError::Unprocessable { message: why, .. }) => sign_up_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &f.authenticity_token,
            Some(why),
            Some(&f),
        ),
        Err(e) => throttled_page(&state, e),
    }
}
