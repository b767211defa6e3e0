//! `/oauth/authorize`, `/oauth/token`, `/oauth/revoke` (docs.joinmastodon.org/methods/oauth/,
//! RFC 6749, RFC 7636, RFC 7009).
//!
//! The authorize endpoint is a real sign-in form followed by a consent page. Its forms post back to
//! `/oauth/authorize` with an `action` (`sign_in`, `approve`, `deny`, `sign_out`) and the original
//! parameters as hidden fields, guarded by a double-submit CSRF cookie.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use crate::api_types::oauth::Token;
use crate::error::{AppError, AppResult};
use crate::http::cookies;
use crate::http::extract::{ClientIp, Params};
use crate::service::accounts::{AccountRow, UserRow};
use crate::service::oauth::{self as svc, AuthorizationRequest, AuthorizeParams, OOB_REDIRECT};
use crate::service::secrets;
use crate::service::sessions::{self, SESSION_MAX_AGE};
use crate::state::AppState;

pub(crate) use crate::service::sessions::SignInRefused;
use crate::web::{AuthorizePage, MessagePage, OobCodePage, SignInPage};

pub(crate) fn html(status: StatusCode, page: impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => AppError::Internal(e.into()).into_response(),
    }
}

pub(crate) fn message(state: &AppState, status: StatusCode, heading: &str, msg: &str) -> Response {
    html(
        status,
        MessagePage {
            instance_title: &state.config.instance.title,
            heading,
            message: msg,
            ok: status.is_success(),
        },
    )
}

/// The CSRF token for this browser, and the `Set-Cookie` to send when it is new.
pub(crate) fn csrf_token(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    match cookies::get(headers, cookies::CSRF) {
        Some(t) => (t, None),
        None => {
            let t = secrets::random_token();
            let set = cookies::set(&state.config, cookies::CSRF, &t, SESSION_MAX_AGE);
            (t, Some(set))
        }
    }
}

/// Checks a login and password and opens a browser session (`service::sessions::start`).
/// Returns the account and the session's `Set-Cookie`.
pub(crate) async fn start_session(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    login: &str,
    password: &str,
) -> Result<(AccountRow, String), SignInRefused> {
    let (account, token) = sessions::start(state, ip, user_agent(headers), login, password).await?;
    Ok((account, session_cookie(state, &token)))
}

/// The second step of a sign-in with two-factor (`service::sessions::finish_second_factor`).
/// Returns the account and the session's `Set-Cookie`.
pub(crate) async fn finish_second_factor(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    challenge: &str,
    code: &str,
) -> Result<(AccountRow, String), SignInRefused> {
    let (account, token) =
        sessions::finish_second_factor(state, ip, user_agent(headers), challenge, code).await?;
    Ok((account, session_cookie(state, &token)))
}

/// Opens a browser session for a user who has passed every factor. Returns the account and the
/// session's `Set-Cookie`.
pub(crate) async fn open_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &UserRow,
    account: AccountRow,
) -> Result<(AccountRow, String), SignInRefused> {
    let (account, token) = sessions::open(state, user_agent(headers), user, account).await?;
    Ok((account, session_cookie(state, &token)))
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(USER_AGENT).and_then(|v| v.to_str().ok())
}

fn session_cookie(state: &AppState, token: &str) -> String {
    cookies::set(&state.config, cookies::SESSION, token, SESSION_MAX_AGE)
}

/// The user of the browser session, if signed in and allowed to act.
pub(crate) async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
) -> AppResult<Option<(UserRow, AccountRow)>> {
    match cookies::get(headers, cookies::SESSION) {
        Some(token) => sessions::user_of(state, &token).await,
        None => Ok(None),
    }
}

pub(crate) fn with_cookies(mut resp: Response, set_cookies: &[String]) -> Response {
    for c in set_cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}

#[allow(clippy::too_many_arguments)]
fn sign_in_page(
    state: &AppState,
    req: &AuthorizationRequest,
    params: &AuthorizeParams,
    csrf: &str,
    status: StatusCode,
    error: Option<String>,
    login: &str,
    challenge: Option<&str>,
) -> Response {
    html(
        status,
        SignInPage {
            instance_title: &state.config.instance.title,
            app_name: &req.app.name,
            csrf,
            params,
            error,
            login,
            challenge,
        },
    )
}

fn consent_page(
    state: &AppState,
    req: &AuthorizationRequest,
    params: &AuthorizeParams,
    csrf: &str,
    account: &AccountRow,
) -> Response {
    html(
        StatusCode::OK,
        AuthorizePage {
            instance_title: &state.config.instance.title,
            app_name: &req.app.name,
            csrf,
            params,
            username: &account.username,
            scopes: req.scopes.iter().collect(),
        },
    )
}

/// `GET /oauth/authorize` (and `/oauth/authorize/`): the sign-in form, or the consent page when the
/// browser is already signed in (unless `force_login=true`).
pub async fn authorize_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params { value: params, .. }: Params<AuthorizeParams>,
) -> Response {
    let req = match svc::validate_authorization(&state.db, &params).await {
        Ok(r) => r,
        Err(AppError::BadRequest(msg)) => {
            return message(
                &state,
                StatusCode::BAD_REQUEST,
                "This authorization request is invalid",
                &msg,
            );
        }
        Err(e) => return e.into_response(),
    };
    let (csrf, new_cookie) = csrf_token(&state, &headers);
    let set: Vec<String> = new_cookie.into_iter().collect();
    let force_login = params
        .force_login
        .as_deref()
        .is_some_and(|v| matches!(v, "true" | "1"));
    let signed_in = if force_login {
        None
    } else {
        match session_user(&state, &headers).await {
            Ok(u) => u,
            Err(e) => return e.into_response(),
        }
    };
    let resp = match signed_in {
        Some((_, account)) => consent_page(&state, &req, &params, &csrf, &account),
        None => sign_in_page(&state, &req, &params, &csrf, StatusCode::OK, None, "", None),
    };
    with_cookies(resp, &set)
}

#[derive(Deserialize)]
pub struct AuthorizeForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    action: String,
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// The second step of a two-factor sign-in.
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    otp_attempt: String,
}

/// Where to send the browser after approval or denial: `redirect_uri` with `pairs` (and `state`)
/// added to its query.
fn redirect_with(req: &AuthorizationRequest, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(&req.redirect_uri) else {
        return AppError::bad_request("The redirect URI is invalid").into_response();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(s) = req.state.as_deref().filter(|s| !s.is_empty()) {
            q.append_pair("state", s);
        }
    }
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

/// `POST /oauth/authorize`: the sign-in and consent forms.
pub async fn authorize_post(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Params { value: form, .. }: Params<AuthorizeForm>,
) -> Response {
    // Hidden fields echo empty strings for absent parameters.
    let mut params = form.params.clone();
    for f in [
        &mut params.state,
        &mut params.code_challenge,
        &mut params.code_challenge_method,
        &mut params.scope,
    ] {
        if f.as_deref() == Some("") {
            *f = None;
        }
    }
    let req = match svc::validate_authorization(&state.db, &params).await {
        Ok(r) => r,
        Err(AppError::BadRequest(msg)) => {
            return message(
                &state,
                StatusCode::BAD_REQUEST,
                "This authorization request is invalid",
                &msg,
            );
        }
        Err(e) => return e.into_response(),
    };
    let cookie_csrf = cookies::get(&headers, cookies::CSRF).unwrap_or_default();
    if cookie_csrf.is_empty()
        || !secrets::constant_time_eq(cookie_csrf.as_bytes(), form.authenticity_token.as_bytes())
    {
        return message(
            &state,
            StatusCode::FORBIDDEN,
            "Your session expired",
            "The form was stale or came from another site. Go back and try again.",
        );
    }
    let csrf = cookie_csrf;
    match form.action.as_str() {
        "sign_in" | "sign_in_otp" => {
            let login = form.username.trim();
            let outcome = if form.action == "sign_in" {
                start_session(&state, ip, &headers, login, &form.password).await
            } else {
                finish_second_factor(&state, ip, &headers, &form.challenge, &form.otp_attempt).await
            };
            match outcome {
                Ok((account, set)) => {
                    with_cookies(consent_page(&state, &req, &params, &csrf, &account), &[set])
                }
                Err(SignInRefused::SecondFactor {
                    challenge,
                    status,
                    error,
                }) => sign_in_page(
                    &state,
                    &req,
                    &params,
                    &csrf,
                    status,
                    error,
                    "",
                    Some(&challenge),
                ),
                Err(SignInRefused::Page(status, msg, retry)) => {
                    let mut r =
                        sign_in_page(&state, &req, &params, &csrf, status, Some(msg), login, None);
                    if let Some(v) = retry.and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
                    {
                        r.headers_mut().insert("retry-after", v);
                    }
                    r
                }
                Err(SignInRefused::Error(e)) => e.into_response(),
            }
        }
        "approve" | "deny" => {
            let signed_in = match session_user(&state, &headers).await {
                Ok(u) => u,
                Err(e) => return e.into_response(),
            };
            let Some((user, _)) = signed_in else {
                return sign_in_page(
                    &state,
                    &req,
                    &params,
                    &csrf,
                    StatusCode::UNAUTHORIZED,
                    Some("Please sign in first.".into()),
                    "",
                    None,
                );
            };
            if form.action == "deny" {
                if req.redirect_uri == OOB_REDIRECT {
                    return message(
                        &state,
                        StatusCode::OK,
                        "Authorization denied",
                        "You did not authorize the application.",
                    );
                }
                return redirect_with(
                    &req,
                    &[
                        ("error", "access_denied"),
                        (
                            "error_description",
                            "The resource owner denied the request.",
                        ),
                    ],
                );
            }
            let code = match svc::issue_code(&state.db, &req, user.id).await {
                Ok(c) => c,
                Err(e) => return e.into_response(),
            };
            tracing::info!(user_id = user.id, app = %req.app.name, "authorization code issued");
            if req.redirect_uri == OOB_REDIRECT {
                return html(
                    StatusCode::OK,
                    OobCodePage {
                        instance_title: &state.config.instance.title,
                        app_name: &req.app.name,
                        code: &code,
                    },
                );
            }
            redirect_with(&req, &[("code", &code)])
        }
        "sign_out" => {
            if let Some(t) = cookies::get(&headers, cookies::SESSION)
                && let Err(e) = sessions::revoke(&state, &t).await
            {
                return e.into_response();
            }
            let clear = cookies::set(&state.config, cookies::SESSION, "", 0);
            with_cookies(
                sign_in_page(&state, &req, &params, &csrf, StatusCode::OK, None, "", None),
                &[clear],
            )
        }
        _ => message(
            &state,
            StatusCode::BAD_REQUEST,
            "Unknown action",
            "The form sent an unknown action.",
        ),
    }
}

/// Client credentials from `Authorization: Basic base64(id:secret)` (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let h = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = h.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| urlencoding::decode(s).map(|c| c.into_owned()).ok();
    Some((dec(id)?, dec(secret)?))
}

/// `POST /oauth/token`: `authorization_code` (PKCE S256), `password`, `client_credentials`.
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Params { value: p, .. }: Params<svc::TokenParams>,
) -> AppResult<Response> {
    let issued = svc::token(&state, ip, p, basic_credentials(&headers)).await?;
    let mut resp = Json(Token::from(issued)).into_response();
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct RevokeParams {
    client_id: Option<String>,
    client_secret: Option<String>,
    #[serde(default)]
    token: String,
}

/// `POST /oauth/revoke`: revokes one of the client's tokens; unknown tokens also answer 200 `{}`.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params { value: p, .. }: Params<RevokeParams>,
) -> AppResult<Json<serde_json::Value>> {
    let (id, secret) = match basic_credentials(&headers) {
        Some((i, s)) => (Some(i), Some(s)),
        None => (p.client_id, p.client_secret),
    };
    let id = id.ok_or_else(|| {
        AppError::oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id is missing",
        )
    })?;
    svc::revoke(&state.db, &id, secret.as_deref(), &p.token).await?;
    Ok(Json(json!({})))
}
