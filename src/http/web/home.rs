//! `/` (Home when signed in, else Explore) and `/home`: the story tray, the compose box and the
//! home feed (`?fragment=1` for the infinite scroll and the new-posts bar).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use crate::error::AppError;
use crate::service::oauth::CurrentUser;
use crate::service::timelines;
use crate::state::AppState;
use crate::web::app::*;
use crate::web::view::AccountView;

use super::app::*;
use super::*;

/// `GET /`: Home for a signed-in visitor, else Explore (the instance's front page).
pub async fn root(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match maybe_signed_in(&state, &headers).await {
        Some(_) => see_other("/home"),
        None => see_other("/explore"),
    }
}

/// `GET /home`: the story tray, the compose box and the home feed (signed in; else to sign in).
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let user = match signed_in(&state, &headers, "/home").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    match home_screen(&state, &headers, &uri, &user, &q).await {
        Ok(r) => r,
        Err(e) => error_page(&state, e),
    }
}

async fn home_screen(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    user: &CurrentUser,
    q: &ListQuery,
) -> Result<Response, AppError> {
    let (statuses, ids) = timelines::home_statuses(state, user.account.id, &q.page()).await?;
    let (statuses, more) = feed(&statuses, &ids, Some(user), "/home?");
    if q.fragment() {
        // New posts above the newest shown have no "older" link: the page below has them.
        let more = more.filter(|_| q.since_id.is_none());
        return Ok(render_screen(FeedFragment { statuses, more }, None));
    }
    let tray = crate::service::stories::tray(state, user.account.id)
        .await?
        .iter()
        .map(|t| TrayEntry {
            account: AccountView::new(&t.account),
            seen: t.seen,
        })
        .collect();
    let since = ids.first().map(|i| i.to_string()).unwrap_or_default();
    let (shell, cookie) = shell(state, headers, uri, Some(user), "home").await?;
    Ok(render_screen(
        HomePage {
            shell,
            tray,
            statuses,
            more,
            since,
        },
        cookie,
    ))
}
