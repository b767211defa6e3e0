//! Grouped notifications, `/api/v2/notifications` (docs.joinmastodon.org/methods/grouped_notifications/):
//! favourites and boosts of one status, and follows, that arrive within the same 12-hour window
//! share a `group_key` and are listed as one group; everything else is a group of its own
//! (`ungrouped-ID`). The windows are fixed (hours since the epoch divided by 12), where Mastodon
//! lets an open group keep growing; a client treats keys as opaque either way.

use std::collections::HashMap;

use serde::Serialize;

use crate::api_types::Account;
use crate::api_types::status::{Notification, Status};
use crate::error::{AppError, AppResult};
use crate::service::render;
use crate::state::AppState;
use crate::storage::notifications::{self as store, Filter, NotificationRow};
use crate::storage::sql::Page;

/// Types that group when a client lists them in `grouped_types[]` (all of them by default).
pub const GROUPED_TYPES: &[&str] = &["favourite", "reblog", "follow"];

/// Width of a group's time window, in hours.
const WINDOW_HOURS: i64 = 12;

/// The group key of a notification, grouping only `grouped` types.
pub fn group_key(row: &NotificationRow, grouped: &[String]) -> String {
    let t = row.r#type.as_str();
    if !GROUPED_TYPES.contains(&t) || !grouped.iter().any(|g| g == t) {
        return format!("ungrouped-{}", row.id);
    }
    let window = row.created_at.timestamp() / 3600 / WINDOW_HOURS;
    match row.status_id {
        Some(s) if t != "follow" => format!("{t}-{s}-{window}"),
        _ => format!("{t}-{window}"),
    }
}

/// `NotificationGroup`.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationGroup {
    pub group_key: String,
    /// Notifications of the group on this page (or, for one group, all of them).
    pub notifications_count: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub most_recent_notification_id: String,
    pub page_min_id: String,
    pub page_max_id: String,
    pub latest_page_notification_at: String,
    /// Up to 8 accounts, most recent first.
    pub sample_account_ids: Vec<String>,
    pub status_id: Option<String>,
}

/// `GroupedNotificationsResults`.
#[derive(Clone, Debug, Serialize)]
pub struct GroupedNotifications {
    pub accounts: Vec<Account>,
    pub statuses: Vec<Status>,
    pub notification_groups: Vec<NotificationGroup>,
}

/// Groups rendered notifications (newest first) by key, in order of each group's newest.
async fn build(
    state: &AppState,
    me: i64,
    rows: Vec<NotificationRow>,
    grouped: &[String],
) -> AppResult<GroupedNotifications> {
    let keys: HashMap<i64, String> = rows.iter().map(|r| (r.id, group_key(r, grouped))).collect();
    let rendered = render::notifications(state, me, rows).await?;
    let rendered = crate::service::filters::notifications(state, me, rendered).await?;
    let mut order: Vec<String> = Vec::new();
    let mut members: HashMap<String, Vec<&Notification>> = HashMap::new();
    for n in &rendered {
        let id: i64 = n.id.parse().unwrap_or_default();
        let Some(key) = keys.get(&id) else { continue };
        if !members.contains_key(key) {
            order.push(key.clone());
        }
        members.entry(key.clone()).or_default().push(n);
    }
    let mut accounts: Vec<Account> = Vec::new();
    let mut statuses: Vec<Status> = Vec::new();
    let mut groups = Vec::with_capacity(order.len());
    for key in order {
        let list = &members[&key];
        let newest = list[0];
        let ids: Vec<i64> = list.iter().filter_map(|n| n.id.parse().ok()).collect();
        let mut sample: Vec<String> = Vec::new();
        for n in list {
            if !sample.contains(&n.account.id) && sample.len() < 8 {
                sample.push(n.account.id.clone());
            }
            if !accounts.iter().any(|a| a.id == n.account.id) {
                accounts.push(n.account.clone());
            }
            if let Some(s) = &n.status
                && !statuses.iter().any(|x| x.id == s.id)
            {
                statuses.push(s.clone());
            }
        }
        groups.push(NotificationGroup {
            group_key: key.clone(),
            notifications_count: list.len() as i64,
            kind: newest.r#type.clone(),
            most_recent_notification_id: newest.id.clone(),
            page_min_id: ids.iter().min().copied().unwrap_or_default().to_string(),
            page_max_id: ids.iter().max().copied().unwrap_or_default().to_string(),
            latest_page_notification_at: newest
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            sample_account_ids: sample,
            status_id: newest.status.as_ref().map(|s| s.id.clone()),
        });
    }
    Ok(GroupedNotifications {
        accounts,
        statuses,
        notification_groups: groups,
    })
}

/// `GET /api/v2/notifications`: up to `page.limit` groups. Notifications are read in pages of up
/// to 4 × `limit` (at most 200), newest first, until enough groups are formed. Returns the results
/// and the IDs of the first and last notification read, for the `Link` header.
pub async fn list(
    state: &AppState,
    me: i64,
    filter: &Filter,
    page: &Page,
    grouped: &[String],
) -> AppResult<(GroupedNotifications, Vec<i64>)> {
    let read = Page {
        limit: (page.limit * 4).clamp(1, 200),
        ..*page
    };
    let rows = store::list(&state.db, me, filter, &read).await?;
    // Keep whole groups only up to `limit` of them.
    let mut seen: Vec<String> = Vec::new();
    let mut kept = Vec::new();
    for r in rows {
        let key = group_key(&r, grouped);
        if !seen.contains(&key) {
            if seen.len() as i64 >= page.limit {
                break;
            }
            seen.push(key);
        }
        kept.push(r);
    }
    let bounds: Vec<i64> = [kept.first().map(|r| r.id), kept.last().map(|r| r.id)]
        .into_iter()
        .flatten()
        .collect();
    Ok((build(state, me, kept, grouped).await?, bounds))
}

/// Every notification of group `key` (the most recent 200).
async fn members(state: &AppState, me: i64, key: &str) -> AppResult<Vec<NotificationRow>> {
    let all: Vec<String> = GROUPED_TYPES.iter().map(|t| t.to_string()).collect();
    if let Some(id) = key.strip_prefix("ungrouped-") {
        let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
        // Someone else's notification is not found, rather than an empty group.
        return Ok(vec![
            store::find(&state.db, me, id)
                .await?
                .ok_or(AppError::NotFound)?,
        ]);
    }
    let kind = key.split('-').next().unwrap_or_default();
    if !GROUPED_TYPES.contains(&kind) {
        return Err(AppError::NotFound);
    }
    let filter = Filter {
        types: vec![kind.to_string()],
        ..Filter::default()
    };
    let page = Page {
        limit: 200,
        ..Page::default()
    };
    let rows: Vec<NotificationRow> = store::list(&state.db, me, &filter, &page)
        .await?
        .into_iter()
        .filter(|r| group_key(r, &all) == key)
        .collect();
    if rows.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(rows)
}

/// `GET /api/v2/notifications/:group_key`. Errors: 404.
pub async fn show(state: &AppState, me: i64, key: &str) -> AppResult<GroupedNotifications> {
    let rows = members(state, me, key).await?;
    let all: Vec<String> = GROUPED_TYPES.iter().map(|t| t.to_string()).collect();
    build(state, me, rows, &all).await
}

/// `GET /api/v2/notifications/:group_key/accounts`: who acted, most recent first. Errors: 404.
pub async fn accounts(state: &AppState, me: i64, key: &str) -> AppResult<Vec<Account>> {
    Ok(show(state, me, key).await?.accounts)
}

/// `POST /api/v2/notifications/:group_key/dismiss`: the whole group goes. Errors: 404.
pub async fn dismiss(state: &AppState, me: i64, key: &str) -> AppResult<()> {
    for r in members(state, me, key).await? {
        store::dismiss(&state.db, me, Some(r.id)).await?;
    }
    Ok(())
}

/// `GET /api/v2/notifications/unread_count`: groups with notifications after the `notifications`
/// marker, counted up to `cap`.
pub async fn unread_count(
    state: &AppState,
    me: i64,
    cap: i64,
    grouped: &[String],
) -> AppResult<i64> {
    let after = store::markers(&state.db, me)
        .await?
        .iter()
        .find(|m| m.timeline == "notifications")
        .map_or(0, |m| m.last_read_id);
    let page = Page {
        min_id: Some(after),
        limit: 1000,
        ..Page::default()
    };
    let rows = store::list(&state.db, me, &Filter::default(), &page).await?;
    let mut keys: Vec<String> = rows.iter().map(|r| group_key(r, grouped)).collect();
    keys.sort();
    keys.dedup();
    Ok((keys.len() as i64).min(cap))
}
