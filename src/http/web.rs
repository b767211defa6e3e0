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
    SignInRefused, csrf_token, html, message, session_user, start_session, with_cookies,
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

fn see_other(to: &str) -> Response {
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
) -> Response {
    html(
        status,
        WebSignInPage {
            instance_title: &state.config.instance.title,
            csrf,
            next,
            error,
            login,
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
    let page = sign_in_page(&state, StatusCode::OK, &csrf, &next, None, "");
    with_cookies(page, &new_cookie.into_iter().collect::<Vec<_>>())
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
    if !csrf_matches(&headers, &form.authenticity_token) {
        return message(
            &state,
            StatusCode::FORBIDDEN,
            "Your session expired",
            "The form was stale or came from another site. Go back and try again.",
        );
    }
    let next = safe_next(form.next.as_deref());
    let login = form.username.trim();
    match start_session(&state, ip, &headers, login, &form.password).await {
        Ok((_, set)) => with_cookies(see_other(&next), &[set]),
        Err(SignInRefused::Page(status, msg, _)) => sign_in_page(
            &state,
            status,
            &form.authenticity_token,
            &next,
            Some(msg),
            login,
        ),
        Err(SignInRefused::Error(e)) => e.into_response(),
    }
}

/// The signed-in user, or the redirect to the sign-in page that comes back to `here`.
async fn signed_in(
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
    with_cookies(page, &new_cookie.into_iter().collect::<Vec<_>>())
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
    with_cookies(page, &new_cookie.into_iter().collect::<Vec<_>>())
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
