//! Notification filtering as Mastodon 4.3 does it: the policy (`/api/v2/notifications/policy`,
//! and the deprecated v1 shape) and the requests that hold filtered notifications per sender
//! (`/api/v1/notifications/requests`; docs.joinmastodon.org/methods/notifications). Which
//! notifications a policy filters or drops is decided where they are stored
//! (`storage::notification_requests::decision_sql`).

use crate::api_types::status::{
    NotificationPolicy, NotificationPolicySummary, NotificationPolicyV1, NotificationRequest,
};
use crate::error::{AppError, AppResult};
use crate::service::{Page, render};
use crate::state::AppState;
use crate::storage::notification_requests::{self as store, ACTIONS, PolicyRow};
use crate::storage::statuses;

/// Requests a bulk accept or dismiss takes at once (`id[]`); more is a 422.
pub const MAX_BULK: usize = 100;

/// Changes to a policy, each `accept`, `filter` or `drop` when given.
#[derive(Clone, Debug, Default)]
pub struct PolicyChanges {
    pub for_not_following: Option<String>,
    pub for_not_followers: Option<String>,
    pub for_new_accounts: Option<String>,
    pub for_private_mentions: Option<String>,
    pub for_limited_accounts: Option<String>,
}

async fn summary(state: &AppState, me: i64) -> AppResult<NotificationPolicySummary> {
    let (requests, notifications) = store::summary(&state.db, me).await?;
    Ok(NotificationPolicySummary {
        pending_requests_count: requests,
        pending_notifications_count: notifications,
    })
}

fn entity(p: PolicyRow, summary: NotificationPolicySummary) -> NotificationPolicy {
    NotificationPolicy {
        for_not_following: p.for_not_following,
        for_not_followers: p.for_not_followers,
        for_new_accounts: p.for_new_accounts,
        for_private_mentions: p.for_private_mentions,
        for_limited_accounts: p.for_limited_accounts,
        summary,
    }
}

/// `GET /api/v2/notifications/policy`: `me`'s policy with its summary.
///
/// Errors: database errors.
pub async fn policy(state: &AppState, me: i64) -> AppResult<NotificationPolicy> {
    let p = store::policy(&state.db, me).await?;
    Ok(entity(p, summary(state, me).await?))
}

/// `PATCH /api/v2/notifications/policy`: sets the values given, keeps the others.
///
/// Errors: 422 for a value other than `accept`, `filter` or `drop` (nothing is changed then).
pub async fn update_policy(
    state: &AppState,
    me: i64,
    changes: PolicyChanges,
) -> AppResult<NotificationPolicy> {
    let mut p = store::policy(&state.db, me).await?;
    let fields = [
        (
            "for_not_following",
            changes.for_not_following,
            &mut p.for_not_following,
        ),
        (
            "for_not_followers",
            changes.for_not_followers,
            &mut p.for_not_followers,
        ),
        (
            "for_new_accounts",
            changes.for_new_accounts,
            &mut p.for_new_accounts,
        ),
        (
            "for_private_mentions",
            changes.for_private_mentions,
            &mut p.for_private_mentions,
        ),
        (
            "for_limited_accounts",
            changes.for_limited_accounts,
            &mut p.for_limited_accounts,
        ),
    ];
    for (name, value, slot) in fields {
        let Some(value) = value else { continue };
        if !ACTIONS.contains(&value.as_str()) {
            return Err(AppError::unprocessable(format!(
                "Validation failed: {name} must be one of accept, filter, drop"
            )));
        }
        *slot = value;
    }
    store::set_policy(&state.db, me, &p).await?;
    Ok(entity(p, summary(state, me).await?))
}

/// The v1 shape of a v2 policy.
pub fn v1(p: NotificationPolicy) -> NotificationPolicyV1 {
    NotificationPolicyV1 {
        filter_not_following: p.for_not_following != "accept",
        filter_not_followers: p.for_not_followers != "accept",
        filter_new_accounts: p.for_new_accounts != "accept",
        filter_private_mentions: p.for_private_mentions != "accept",
        summary: p.summary,
    }
}

/// A v1 `filter_*` boolean as a v2 value: true filters, false accepts.
pub fn from_v1(filter: Option<bool>) -> Option<String> {
    filter.map(|f| if f { "filter" } else { "accept" }.to_string())
}

async fn entities(
    state: &AppState,
    me: i64,
    rows: Vec<store::RequestRow>,
) -> AppResult<Vec<NotificationRequest>> {
    let account_ids: Vec<i64> = rows.iter().map(|r| r.from_account_id).collect();
    let accounts = render::accounts_by_id(state, &account_ids).await?;
    let status_ids: Vec<i64> = rows.iter().filter_map(|r| r.last_status_id).collect();
    let status_rows = statuses::find_many_visible(&state.db, &status_ids, me).await?;
    let statuses = render::statuses(state, Some(me), status_rows).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let account = accounts
                .iter()
                .find(|a| a.id == r.from_account_id.to_string())?
                .clone();
            let last_status = r.last_status_id.and_then(|id| {
                let id = id.to_string();
                statuses.iter().find(|s| s.id == id).cloned()
            });
            Some(NotificationRequest {
                id: r.id.to_string(),
                created_at: r.created_at,
                updated_at: r.updated_at,
                account,
                notifications_count: r.notifications_count.to_string(),
                last_status,
            })
        })
        .collect())
}

/// `GET /api/v1/notifications/requests`: a page of `me`'s requests, newest first, with the
/// pagination IDs of the rows (for the `Link` header).
///
/// Errors: database errors.
pub async fn list(
    state: &AppState,
    me: i64,
    page: &Page,
) -> AppResult<(Vec<NotificationRequest>, Vec<i64>)> {
    let rows = store::list(&state.db, me, page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    Ok((entities(state, me, rows).await?, ids))
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::NotFound)
}

/// `GET /api/v1/notifications/requests/:id`. Errors: 404 when it is not one of `me`'s.
pub async fn show(state: &AppState, me: i64, id: &str) -> AppResult<NotificationRequest> {
    let row = store::find(&state.db, me, parse_id(id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    entities(state, me, vec![row])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

fn bulk_ids(ids: &[String]) -> AppResult<Vec<i64>> {
    if ids.len() > MAX_BULK {
        return Err(AppError::unprocessable(format!(
            "At most {MAX_BULK} notification requests at once"
        )));
    }
    // An ID that is not a number names no request, as an unknown one does.
    Ok(ids.iter().filter_map(|i| i.parse().ok()).collect())
}

/// `POST /api/v1/notifications/requests/:id/accept` (one, 404 when it is not `me`'s) or
/// `/requests/accept` (`id[]`, at most [`MAX_BULK`]; others' and unknown IDs ignored): the
/// senders' filtered notifications join `me`'s list and they are never filtered again.
///
/// Errors: 404, 422 as said.
pub async fn accept(state: &AppState, me: i64, ids: &[String], one: bool) -> AppResult<()> {
    let ids = bulk_ids(ids)?;
    if store::accept(&state.db, me, &ids).await? == 0 && one {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// `POST /api/v1/notifications/requests/:id/dismiss` or `/requests/dismiss` (`id[]`), as
/// [`accept`]: the requests and the filtered notifications they hold are deleted; later ones from
/// the same senders are filtered into new requests.
///
/// Errors: 404, 422 as [`accept`].
pub async fn dismiss(state: &AppState, me: i64, ids: &[String], one: bool) -> AppResult<()> {
    let ids = bulk_ids(ids)?;
    if store::dismiss(&state.db, me, &ids).await? == 0 && one {
        return Err(AppError::NotFound);
    }
    Ok(())
}
