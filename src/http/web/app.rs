//! What the web app's screens share (the screens are `home`, `explore`, `notifications`,
//! `profiles`, `lists`, `messages`, and the settings and shorts files): the list query, the shell,
//! the page of posts with its next-page link, and errors as pages. Each screen renders from the
//! same service calls and entities as the client API; the pages' scripts then call that API with
//! the session (see `http::extract::auth::session_principal`). A list answers `?fragment=1` with
//! only its entries and the next page's link, for the infinite scroll.

use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use crate::api_types::status::Status;
use crate::error::AppError;
use crate::http::oauth::{csrf_token, html, message};
use crate::service::oauth::CurrentUser;
use crate::service::{Page, notifications, render};
use crate::state::AppState;
use crate::web::app::*;
use crate::web::view::{AccountView, StatusView};

use super::*;

/// Posts per page of a list.
pub(super) const PER_PAGE: i64 = 20;

/// The query of a list screen: pagination (IDs as the API takes them; anything else is ignored),
/// the part to show, and whether only the entries are wanted.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub(super) max_id: Option<String>,
    pub(super) since_id: Option<String>,
    pub(super) fragment: Option<String>,
    pub(super) tab: Option<String>,
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) q: Option<String>,
}

impl ListQuery {
    /// The search text, trimmed.
    pub(super) fn text(&self) -> &str {
        self.q.as_deref().unwrap_or("").trim()
    }

    /// The pagination asked for, `PER_PAGE` entries.
    pub(super) fn page(&self) -> Page {
        Page {
            max_id: self.max_id.as_deref().and_then(|v| v.parse().ok()),
            since_id: self.since_id.as_deref().and_then(|v| v.parse().ok()),
            min_id: None,
            limit: PER_PAGE,
        }
    }

    /// `fragment=1`: only the entries and the next page's link (the infinite scroll).
    pub(super) fn fragment(&self) -> bool {
        self.fragment.as_deref().is_some_and(|f| f == "1")
    }
}

/// An error as a page (the API's errors are JSON; a person gets HTML).
pub(super) fn error_page(state: &AppState, e: AppError) -> Response {
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(error = %e, "page failed");
    }
    let (heading, text) = match status {
        StatusCode::NOT_FOUND => ("Not found", "There is nothing at this address.".to_string()),
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => ("Not allowed", e.to_string()),
        s if s.is_server_error() => ("Something went wrong", "Try again in a moment.".to_string()),
        _ => ("That did not work", e.to_string()),
    };
    message(state, status, heading, &text)
}

/// A screen, not to be stored by shared caches (it carries the visitor's CSRF token), with the
/// CSRF cookie made for it if one was.
pub(super) fn screen(page: Response, new_cookie: Option<String>) -> Response {
    let mut r = with_new_cookie(page, new_cookie);
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    r
}

/// The shell of a screen for `viewer` at `uri`, and the CSRF cookie to set if the browser had none.
pub(super) async fn shell(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    viewer: Option<&CurrentUser>,
    page: &'static str,
) -> Result<(Shell, Option<String>), AppError> {
    let (csrf, new_cookie) = csrf_token(state, headers);
    let (me, unread) = match viewer {
        Some(u) => (
            Some(AccountView::new(&render::account(state, &u.account).await?)),
            notifications::unread_count(state, u.account.id, 99).await?,
        ),
        None => (None, 0),
    };
    // Where sign-in comes back to: this page, or only its path when the query is outsized.
    let here = uri
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| p.len() <= 1000)
        .unwrap_or_else(|| uri.path());
    Ok((
        Shell {
            instance_title: state.config.instance.title.clone(),
            csrf,
            me,
            page,
            unread,
            here_encoded: urlencoding::encode(here).into_owned(),
            q: String::new(),
        },
        new_cookie,
    ))
}

/// The link to the page after the last of `ids` (`{base}max_id=ID`) when the page was full
/// (`limit` entries); `base` ends in `?` or `&`.
pub(super) fn next_page(ids: &[i64], limit: i64, base: &str) -> Option<String> {
    (ids.len() as i64 >= limit)
        .then(|| ids.last().map(|last| format!("{base}max_id={last}")))
        .flatten()
}

/// The views of `statuses` for `viewer`, and the link to the page after the last of `ids` when
/// this one was full (`base` is the screen's path with its query, ending in `?` or `&`).
pub(super) fn feed(
    statuses: &[Status],
    ids: &[i64],
    viewer: Option<&CurrentUser>,
    base: &str,
) -> (Vec<StatusView>, Option<String>) {
    let me = viewer.map(|u| u.account.id.to_string());
    let views = statuses
        .iter()
        .map(|s| StatusView::new(s, me.as_deref()))
        .collect();
    (views, next_page(ids, PER_PAGE, base))
}

/// A rendered screen as [`screen`] answers it.
pub(super) fn render_screen(page: impl askama::Template, new_cookie: Option<String>) -> Response {
    screen(html(StatusCode::OK, page), new_cookie)
}
