//! `/lists` and `/lists/:id`: the signed-in user's lists, their members and feeds.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use crate::service::{Page, render};
use crate::state::AppState;
use crate::web::app::*;
use crate::web::view::AccountView;

use super::app::*;
use super::*;

/// `GET /lists`: the signed-in user's lists (created and deleted by the page's script through
/// `/api/v1/lists`).
pub async fn lists_screen(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let user = match signed_in(&state, &headers, "/lists").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let lists = crate::service::lists::index(&state, user.account.id, None).await?;
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "lists").await?;
        Ok(render_screen(ListsPage { shell, lists }, cookie))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}

/// `GET /lists/:id`: one of the user's lists — its members (added and removed through
/// `/api/v1/lists/:id/accounts`) and its feed, with the viewer's `home` filters, as
/// `GET /api/v1/timelines/list/:id`. Anyone else's list is 404.
pub async fn list_screen(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let here = format!("/lists/{}", urlencoding::encode(&id));
    let user = match signed_in(&state, &headers, &here).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let me = user.account.id;
        let list = crate::service::lists::own(&state, me, &id).await?;
        let rows = crate::service::lists::timeline(&state, me, &id, &q.page()).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let found = render::statuses(&state, Some(me), rows).await?;
        let found = crate::service::filters::statuses(&state, Some(me), "home", found).await?;
        let (statuses, more) = feed(&found, &ids, Some(&user), &format!("{here}?"));
        if q.fragment() {
            return Ok(render_screen(FeedFragment { statuses, more }, None));
        }
        let members = crate::service::lists::members(
            &state,
            me,
            &id,
            &Page {
                limit: 0,
                ..Default::default()
            },
        )
        .await?;
        let members = render::accounts(&state, &members)
            .await?
            .iter()
            .map(AccountView::new)
            .collect();
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "lists").await?;
        Ok(render_screen(
            ListPage {
                shell,
                id: list.id.to_string(),
                title: list.title,
                members,
                statuses,
                more,
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}
