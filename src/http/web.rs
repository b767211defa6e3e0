//! Pages for people with a browser session (the same session the OAuth sign-in page opens):
//! `GET/POST /auth/sign_in`, and the full-screen story viewer `GET /@USER/stories` (also
//! `/@USER@DOMAIN/stories` for followed remote accounts) with `POST /@USER/stories/:id/seen`.

use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::AppError;
use crate::http::cookies;
use crate::http::extract::{ClientIp, Params};
use crate::http::oauth::{
    SignInRefused, csrf_token, finish_second_factor, html, message, session_user, start_session,
    with_cookies,
};
use crate::service::oauth::CurrentUser;
use crate::service::secrets;
use crate::state::AppState;
use crate::web::{StoriesPage, WebSignInPage};

/// A local path to go back to after signing in; anything else (other sites included) is `/`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn sign_in_page(
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

/// The 403 page for a form whose CSRF token (`given`) does not match the browser's cookie: stale,
/// or posted from another site. `None` when it matches.
pub(crate) fn stale_form(state: &AppState, headers: &HeaderMap, given: &str) -> Option<Response> {
    (!csrf_matches(headers, given)).then(|| {
        message(
            state,
            StatusCode::FORBIDDEN,
            "Your session expired",
            "The form was stale or came from another site. Go back and try again.",
        )
    })
}

/// A page, with the `Set-Cookie` of a CSRF cookie made for it, if one was.
pub(crate) fn with_new_cookie(page: Response, new_cookie: Option<String>) -> Response {
    with_cookies(page, &new_cookie.into_iter().collect::<Vec<_>>())
}

/// The CSRF cookie, when `given` (a form field or header) matches it.
fn csrf_matches(headers: &HeaderMap, given: &str) -> bool {
    let cookie = cookies::get(headers, cookies::CSRF).unwrap_or_default();
    !cookie.is_empty() && secrets::constant_time_eq(cookie.as_bytes(), given.as_bytes())
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

/// The signed-in user, or the redirect to the sign-in page that comes back to `here`.
pub(crate) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
) -> Result<CurrentUser, Response> {
    match session_user(state, headers).await {
        Ok(Some((user, account))) => Ok(CurrentUser { user, account }),
        Ok(None) => Err(see_other(&format!(
            "/auth/sign_in?next={}",
            urlencoding::encode(here)
        ))),
        Err(e) => Err(e.into_response()),
    }
}

/// The account `USER` or `USER@DOMAIN` names. Errors: 404 when unknown or malformed.
async fn account_of(
    state: &AppState,
    acct: &str,
) -> Result<crate::storage::accounts::AccountRow, AppError> {
    let (username, domain) =
        crate::service::accounts::parse_acct(acct, &state.config.server.domain)
            .ok_or(AppError::NotFound)?;
    crate::storage::accounts::find_account_by_acct(&state.db, username, domain)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /@USER/stories`: the viewer of an account's live stories (tap the right two thirds or →
/// for the next, the left third or ← for the previous, hold or space to pause; videos play muted).
/// Signed-out visitors are sent to sign in; stories the viewer may not see answer 404.
pub async fn stories_page(
    State(state): State<AppState>,
    Path(at_name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(acct) = at_name.strip_prefix('@') else {
        return AppError::NotFound.into_response();
    };
    let here = format!("/@{acct}/stories");
    let viewer = match signed_in(&state, &headers, &here).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let account = match account_of(&state, acct).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let stories = match crate::service::stories::of_account(
        &state,
        viewer.account.id,
        &account.id.to_string(),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if stories.is_empty() {
        return message(
            &state,
            StatusCode::NOT_FOUND,
            "No stories right now",
            "There are no stories here for you to see. Stories last 24 hours.",
        );
    }
    let (csrf, new_cookie) = csrf_token(&state, &headers);
    let json = serde_json::to_string(&stories)
        .unwrap_or_else(|_| "[]".into())
        .replace('<', "\\u003c");
    let profile_url = account.url.clone().unwrap_or_else(|| account.uri.clone());
    let page = html(
        StatusCode::OK,
        StoriesPage {
            instance_title: &state.config.instance.title,
            username: &account.username,
            acct,
            profile_url: &profile_url,
            stories: vec![(); stories.len()],
            stories_json: json,
            csrf: &csrf,
            seen_base: &format!("/@{acct}/stories/"),
        },
    );
    with_new_cookie(page, new_cookie)
}

/// The user of a request a page's script makes: the session cookie plus the page's CSRF token in
/// `X-CSRF-Token`. Errors: 403 for a missing or wrong token, 401 when signed out.
async fn page_request_user(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, AppError> {
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !csrf_matches(headers, given) {
        return Err(AppError::Forbidden("Invalid CSRF token".into()));
    }
    let (user, account) = session_user(state, headers)
        .await?
        .ok_or_else(|| AppError::Unauthorized("Not signed in".into()))?;
    Ok(CurrentUser { user, account })
}

/// `POST /@USER/stories/:id/seen` from the viewer (session cookie and `X-CSRF-Token`): marks the
/// story seen. 204; 401 signed out, 403 bad token, 404 as `POST /api/v1/stories/:id/seen`.
pub async fn story_seen(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let viewer = match page_request_user(&state, &headers).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    match crate::service::stories::seen(&state, &viewer, &id).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Shorts shown per player page.
const SHORTS_PER_PAGE: i64 = 20;

#[derive(Deserialize)]
pub struct ShortsQuery {
    feed: Option<String>,
}

/// The session's user, if any (a broken session is treated as signed out).
async fn maybe_signed_in(state: &AppState, headers: &HeaderMap) -> Option<CurrentUser> {
    match session_user(state, headers).await {
        Ok(Some((user, account))) => Some(CurrentUser { user, account }),
        _ => None,
    }
}

/// `GET /shorts?feed=for_you|local|federated|following`: the full-screen shorts player. Anyone may
/// watch public shorts; signed-in people can like and boost, and their views are counted.
/// `following` needs a session (sends to sign in).
pub async fn shorts_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ShortsQuery>,
) -> Response {
    use crate::service::shorts::{self, Feed};
    let viewer = maybe_signed_in(&state, &headers).await;
    let feed = match Feed::parse(q.feed.as_deref().filter(|f| !f.is_empty())) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let here = format!("/shorts?feed={}", q.feed.as_deref().unwrap_or("for_you"));
    if feed == Feed::Following && viewer.is_none() {
        return see_other(&format!(
            "/auth/sign_in?next={}",
            urlencoding::encode(&here)
        ));
    }
    let v = viewer.as_ref().map(|u| u.account.id);
    let statuses = if feed == Feed::ForYou {
        shorts::for_you(&state, v, 0, SHORTS_PER_PAGE as usize)
            .await
            .map(|(statuses, _)| statuses)
    } else {
        let page = crate::storage::sql::Page {
            limit: SHORTS_PER_PAGE,
            ..Default::default()
        };
        match shorts::chronological(&state, v, feed, None, &page).await {
            Ok(rows) => crate::service::render::statuses(&state, v, rows).await,
            Err(e) => Err(e),
        }
    };
    let heading = match feed {
        Feed::ForYou => "For you",
        Feed::Following => "Following",
        Feed::Local => "Local shorts",
        Feed::Federated => "All shorts",
    };
    match statuses {
        Ok(statuses) => player(&state, &headers, viewer.is_some(), heading, statuses, &here),
        Err(e) => e.into_response(),
    }
}

/// `GET /@USER/shorts` (also `@USER@DOMAIN`): the account's shorts the visitor may see, newest
/// first, in the player.
pub async fn account_shorts_page(
    State(state): State<AppState>,
    Path(at_name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(acct) = at_name.strip_prefix('@') else {
        return AppError::NotFound.into_response();
    };
    let account = match account_of(&state, acct).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let viewer = maybe_signed_in(&state, &headers).await;
    let filter = crate::storage::statuses::AccountFilter {
        only_shorts: true,
        exclude_reblogs: true,
        ..Default::default()
    };
    let page = crate::storage::sql::Page {
        limit: SHORTS_PER_PAGE,
        ..Default::default()
    };
    let rows = match crate::storage::statuses::by_account(
        &state.db,
        viewer
            .as_ref()
            .map_or(crate::storage::statuses::ANONYMOUS, |u| u.account.id),
        account.id,
        &filter,
        &page,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return AppError::from(e).into_response(),
    };
    let heading = format!("Shorts of @{acct}");
    let here = format!("/@{acct}/shorts");
    match crate::service::render::statuses(&state, viewer.as_ref().map(|u| u.account.id), rows)
        .await
    {
        Ok(statuses) => player(
            &state,
            &headers,
            viewer.is_some(),
            &heading,
            statuses,
            &here,
        ),
        Err(e) => e.into_response(),
    }
}

fn player(
    state: &AppState,
    headers: &HeaderMap,
    signed_in: bool,
    heading: &str,
    statuses: Vec<crate::api_types::status::Status>,
    here: &str,
) -> Response {
    let shorts = statuses
        .into_iter()
        .filter_map(|s| {
            let m = s.media_attachments.first()?;
            Some(crate::web::ShortView {
                video: m.url.clone()?,
                poster: m.preview_url.clone().unwrap_or_default(),
                alt: m.description.clone().unwrap_or_default(),
                content: crate::service::text::sanitize_html(&s.content),
                acct: s.account.acct.clone(),
                profile_url: s.account.url.clone(),
                favourited: s.favourited.unwrap_or(false),
                reblogged: s.reblogged.unwrap_or(false),
                favourites_count: s.favourites_count,
                reblogs_count: s.reblogs_count,
                id: s.id,
            })
        })
        .collect();
    let (csrf, new_cookie) = csrf_token(state, headers);
    let page = html(
        StatusCode::OK,
        crate::web::ShortsPage {
            instance_title: &state.config.instance.title,
            heading,
            shorts,
            signed_in,
            csrf: &csrf,
            here_encoded: &urlencoding::encode(here),
        },
    );
    with_new_cookie(page, new_cookie)
}

/// `POST /web/statuses/:id/{favourite,unfavourite,reblog,unreblog,view}` from the player (session
/// cookie and `X-CSRF-Token`; `view` takes `{"watched_seconds"}`) → the `Status`. 401 signed out,
/// 403 bad token, 404 unknown action or status, 422 as the API's endpoints.
pub async fn status_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let user = match page_request_user(&state, &headers).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    use crate::service::statuses as svc;
    let result = match action.as_str() {
        "favourite" => svc::favourite(&state, &user, &id, true).await,
        "unfavourite" => svc::favourite(&state, &user, &id, false).await,
        "reblog" => svc::reblog(&state, &user, &id, None).await,
        "unreblog" => svc::unreblog(&state, &user, &id).await,
        "view" => {
            let watched = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("watched_seconds").and_then(|w| w.as_f64()))
                .unwrap_or(0.0);
            match crate::service::shorts::view(&state, &user, &id, watched).await {
                Ok(row) => crate::service::render::status(&state, Some(user.account.id), row).await,
                Err(e) => Err(e),
            }
        }
        _ => Err(AppError::NotFound),
    };
    match result {
        // A boost answers with the boost; the player shows the original's counts.
        Ok(mut s) => match s.reblog.take() {
            Some(original) => axum::Json(*original).into_response(),
            None => axum::Json(s).into_response(),
        },
        Err(e) => e.into_response(),
    }
}

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
            "Your e-mail address is confirmed. You can sign in from your app now.",
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

fn sign_up_page(
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
fn throttled_page(state: &AppState, e: AppError) -> Response {
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

fn registrations_closed(state: &AppState) -> Option<Response> {
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
                "We sent a link to your e-mail address: open it to confirm the address, then sign in from your app."
            } else if !user.approved {
                "A moderator will look at your request; you can sign in once it is approved."
            } else {
                "Your account is ready: sign in from your app."
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
