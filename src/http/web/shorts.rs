//! The shorts player pages (`/shorts`, an account's shorts) and their favourite and boost buttons.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::AppError;
use crate::http::oauth::{csrf_token, html, session_user};
use crate::service::oauth::CurrentUser;
use crate::state::AppState;

use super::app::{error_page, render_screen, shell};
use super::*;
use crate::web::app::NewShortPage;

/// Shorts shown per player page.
pub(super) const SHORTS_PER_PAGE: i64 = 20;

#[derive(Deserialize)]
pub struct ShortsQuery {
    feed: Option<String>,
}

/// The session's user, if any (a broken session is treated as signed out).
pub(super) async fn maybe_signed_in(state: &AppState, headers: &HeaderMap) -> Option<CurrentUser> {
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
        let page = crate::service::Page {
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
    let account = match crate::service::accounts::by_acct(&state, acct).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let viewer = maybe_signed_in(&state, &headers).await;
    let filter = crate::service::timelines::AccountFilter {
        only_shorts: true,
        exclude_reblogs: true,
        ..Default::default()
    };
    let page = crate::service::Page {
        limit: SHORTS_PER_PAGE,
        ..Default::default()
    };
    let v = viewer.as_ref().map(|u| u.account.id);
    let rows = match crate::service::timelines::account_rows(&state, v, account.id, &filter, &page)
        .await
    {
        Ok(r) => r,
        Err(e) => return e.into_response(),
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

pub(super) fn player(
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
                content: crate::text::sanitize_html(&s.content),
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

/// `GET /shorts/new`: the form that uploads a video and posts it as a short (`POST /api/v1/shorts`).
pub async fn new_short(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let user = match signed_in(&state, &headers, "/shorts/new").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "shorts").await?;
        Ok(render_screen(
            NewShortPage {
                shell,
                profile: format!("/@{}/shorts", user.account.username),
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}
