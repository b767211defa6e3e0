//! The browser pages (routes in `http::router::web`), on the same session the OAuth sign-in page
//! opens. One file per URL group: `sign_in` (`/auth/sign_in`), `auth` (`/auth/confirmation`,
//! `/auth/password…`, `/auth/sign_up`), `settings` (`/auth/edit`, `/settings/…`), `stories`
//! (`/@USER/stories…`, also `/@USER@DOMAIN/stories` for followed remote accounts), `shorts`
//! (`/shorts`, `/@USER/shorts`, and the player's `/web/statuses/:id/:action`). This file: the
//! helpers they share (redirects, CSRF checks, the signed-in user or a redirect to sign in).

mod app;
mod auth;
mod explore;
mod home;
mod lists;
mod messages;
mod notifications;
mod profiles;
mod settings;
mod shorts;
mod sign_in;
mod stories;

pub use auth::*;
pub use explore::*;
pub use home::*;
pub use lists::*;
pub use messages::*;
pub use notifications::*;
pub use profiles::*;
pub use settings::*;
pub use shorts::*;
pub use sign_in::*;
pub use stories::*;

use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::cookies;
use crate::http::oauth::{message, session_user, with_cookies};
use crate::service::oauth::CurrentUser;
use crate::state::AppState;

pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// The 403 page for a form whose CSRF token (`given`) does not match the browser's cookie: stale,
/// or posted from another site. `None` when it matches.
pub(crate) fn stale_form(state: &AppState, headers: &HeaderMap, given: &str) -> Option<Response> {
    (!cookies::csrf_matches(headers, given)).then(|| {
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
