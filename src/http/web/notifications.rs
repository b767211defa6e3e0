//! `/notifications`: the notifications, grouped as `/api/v2/notifications` groups them.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use crate::service::{Page, notifications};
use crate::state::AppState;
use crate::web::app::*;
use crate::web::view::{AccountView, NotificationView};

use super::app::*;
use super::*;

const NOTIFICATION_TABS: &[(&str, &str)] = &[
    ("", "All"),
    ("mention", "Mentions"),
    ("favourite", "Favourites"),
    ("reblog", "Boosts"),
    ("follow", "Follows"),
];

/// `GET /notifications?type=mention|favourite|reblog|follow`: the notifications, grouped as
/// `/api/v2/notifications` groups them (signed in).
pub async fn notifications_screen(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let user = match signed_in(&state, &headers, "/notifications").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let kind = NOTIFICATION_TABS
            .iter()
            .map(|(k, _)| *k)
            .find(|k| Some(*k) == q.kind.as_deref())
            .unwrap_or("");
        let mut types = vec![kind.to_string()];
        if kind == "follow" {
            types.push("follow_request".into());
        }
        let mut filter = notifications::filter(
            types.into_iter().filter(|t| !t.is_empty()).collect(),
            vec![],
            None,
            false,
        );
        // The web app knows Rookery's own types (story replies, missed calls).
        filter.exclude_types.clear();
        let page = Page {
            limit: 40,
            ..q.page()
        };
        let (list, ids) = notifications::page(&state, user.account.id, &filter, &page).await?;
        let me = user.account.id.to_string();
        let grouped = NotificationView::grouped(&list, Some(&me));
        let base = if kind.is_empty() {
            "/notifications?".to_string()
        } else {
            format!("/notifications?type={kind}&")
        };
        let more = next_page(&ids, page.limit, &base);
        // The requests head the first page of "All".
        const SHOWN: i64 = 20;
        let requests: Vec<RequestView> =
            if kind.is_empty() && page.max_id.is_none() && page.min_id.is_none() {
                crate::service::notification_requests::list(
                    &state,
                    user.account.id,
                    &Page {
                        limit: SHOWN,
                        ..Default::default()
                    },
                )
                .await?
                .0
                .iter()
                .map(|r| RequestView {
                    id: r.id.clone(),
                    account: AccountView::new(&r.account),
                    count: r.notifications_count.clone(),
                    excerpt: r
                        .last_status
                        .as_ref()
                        .map(|s| crate::text::sanitize_html(&s.content)),
                })
                .collect()
            } else {
                Vec::new()
            };
        // A full first page may hide more: say how many wait in all.
        let requests_total = if requests.len() as i64 == SHOWN {
            crate::service::notification_requests::policy(&state, user.account.id)
                .await?
                .summary
                .pending_requests_count
        } else {
            requests.len() as i64
        };
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "notifications").await?;
        Ok(render_screen(
            NotificationsPage {
                shell,
                kind: kind.to_string(),
                tabs: NOTIFICATION_TABS,
                newest: ids.first().map(|i| i.to_string()).unwrap_or_default(),
                notifications: grouped,
                more,
                requests,
                requests_total,
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}
