//! The full-screen story viewer `GET /@USER/stories` and `POST /@USER/stories/:id/seen`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::http::oauth::{csrf_token, html, message, session_user};
use crate::service::oauth::CurrentUser;
use crate::state::AppState;
use crate::web::StoriesPage;

use super::*;

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
    let account = match crate::service::accounts::by_acct(&state, acct).await {
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
pub(super) async fn page_request_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<CurrentUser, AppError> {
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !crate::http::cookies::csrf_matches(headers, given) {
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
