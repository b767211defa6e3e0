//! Creating notifications (inside the transaction of the action that causes them) and streaming
//! them once that transaction has committed.

use crate::api_types::status::Notification;
use crate::error::{AppError, AppResult};
use crate::realtime::{Event, StreamKey};
use crate::service::render;
use crate::state::AppState;
use crate::storage::notifications as store;
use crate::storage::{Tx, accounts};

pub use crate::storage::notifications::Filter;

/// Notification types Rookery creates (Mastodon's names).
pub const TYPES: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "update",
    "move",
    "story_reply",
    "story_reaction",
    "missed_call",
    "admin.sign_up",
    "admin.report",
];

/// Rookery's own notification types (docs/API.md, Stories and Calls): listed only when a client
/// names them in `types[]`, and not streamed as `notification` events, since Mastodon apps do not
/// know them.
pub const EXTENSION_TYPES: &[&str] = &["story_reply", "story_reaction", "missed_call"];

/// A notification stored in an open transaction, to be streamed after commit.
#[derive(Clone, Copy, Debug)]
pub struct Pending {
    pub id: i64,
    pub recipient: i64,
}

/// Stores a notification for `recipient` about `from`'s action, unless the recipient is remote, is
/// the actor, or blocks or mutes (with notifications hidden) the actor. Duplicates are ignored.
pub async fn create(
    tx: &mut Tx,
    recipient: i64,
    from: i64,
    kind: &str,
    status_id: Option<i64>,
) -> AppResult<Option<Pending>> {
    let about = store::About {
        status_id,
        ..Default::default()
    };
    create_about(tx, recipient, from, kind, about).await
}

/// [`create`] with a story (and a reaction's emoji) as well as a status.
pub async fn create_about(
    tx: &mut Tx,
    recipient: i64,
    from: i64,
    kind: &str,
    about: store::About<'_>,
) -> AppResult<Option<Pending>> {
    let one = store::NewNotification {
        account_id: recipient,
        from,
        kind,
        about,
    };
    Ok(create_many(tx, std::slice::from_ref(&one))
        .await?
        .pop()
        .flatten())
}

/// [`create_about`] for several notifications, with one statement for all of them and one for
/// their Web Push subscriptions: what was stored for each, in the order given. A notification the
/// recipient's policy filtered is stored but not returned: it is neither streamed nor pushed
/// until its request is accepted (`service::notification_requests`).
pub async fn create_many(
    tx: &mut Tx,
    items: &[store::NewNotification<'_>],
) -> AppResult<Vec<Option<Pending>>> {
    let stored = store::insert_many(tx, items).await?;
    let pending: Vec<Option<Pending>> = items
        .iter()
        .zip(stored)
        .map(|(n, stored)| match stored {
            Some((id, false)) => Some(Pending {
                id,
                recipient: n.account_id,
            }),
            _ => None,
        })
        .collect();
    let made: Vec<(i64, i64)> = pending
        .iter()
        .flatten()
        .map(|p| (p.recipient, p.id))
        .collect();
    crate::service::push::queue_many(tx, &made).await?;
    Ok(pending)
}

/// Streams committed notifications to their recipients' `user` streams (not to those in
/// do-not-disturb).
pub async fn publish(state: &AppState, pending: &[Pending]) {
    if !pending.is_empty() {
        // Their Web Push deliveries were queued with them.
        state.push_wakeup.notify_one();
    }
    if !state.hub.has_listeners() {
        return;
    }
    for p in pending {
        if let Err(e) = publish_one(state, *p).await {
            tracing::warn!(error = ?e, "could not stream a notification");
        }
    }
}

async fn publish_one(state: &AppState, p: Pending) -> AppResult<()> {
    let Some(row) = store::find(&state.db, p.recipient, p.id).await? else {
        return Ok(());
    };
    if EXTENSION_TYPES.contains(&row.r#type.as_str()) {
        return Ok(());
    }
    // Do-not-disturb (docs/API.md, Conversations): kept, listed, not pushed to open apps.
    if accounts::find_user_by_account(&state.db, p.recipient)
        .await?
        .is_some_and(|u| u.settings.0.do_not_disturb)
    {
        return Ok(());
    }
    let from = row.from_account_id;
    let Some(n) = render::notifications(state, p.recipient, vec![row])
        .await?
        .pop()
    else {
        return Ok(());
    };
    state.hub.publish(Event {
        keys: vec![StreamKey::User(p.recipient)],
        event: "notification",
        payload: serde_json::to_string(&n).map_err(anyhow::Error::from)?,
        author_id: Some(from),
    });
    Ok(())
}

/// Inside an open transaction: `admin.sign_up` or `admin.report` (with the report) notifications
/// to each of `staff` (read with `accounts::staff_account_ids` before the transaction), from the
/// account that signed up or reported. Stream them with [`publish`] after commit.
pub async fn notify_staff_in(
    tx: &mut Tx,
    staff: &[i64],
    kind: &str,
    from: i64,
    report_id: Option<i64>,
) -> AppResult<Vec<Pending>> {
    let mut pending = Vec::new();
    for recipient in staff {
        let about = store::About {
            report_id,
            ..Default::default()
        };
        if let Some(p) = create_about(tx, *recipient, from, kind, about).await? {
            pending.push(p);
        }
    }
    Ok(pending)
}

/// [`notify_staff_in`] on its own, after the change it is about has committed (a sign-up, whose
/// account is made in its own transaction). A failure is logged, never the caller's: the change
/// stands either way.
pub async fn notify_staff(state: &AppState, kind: &str, from: i64) {
    let result = async {
        let staff = accounts::staff_account_ids(&state.db).await?;
        let mut tx = state.db.begin().await?;
        let pending = notify_staff_in(&mut tx, &staff, kind, from, None).await?;
        tx.commit().await?;
        Ok::<_, crate::error::AppError>(pending)
    }
    .await;
    match result {
        Ok(pending) => publish(state, &pending).await,
        Err(e) => tracing::warn!(error = %e, kind, "could not notify moderators"),
    }
}

/// Which notifications a client's list shows: `types` (all when empty) minus `exclude_types`,
/// optionally only those from `from_account`, and those the notification policy filtered only
/// with `include_filtered`. Rookery's own types ([`EXTENSION_TYPES`]) only
/// for clients that ask for them by `types`: apps that decode the type strictly would fail on
/// the whole page otherwise.
pub fn filter(
    types: Vec<String>,
    mut exclude_types: Vec<String>,
    from_account: Option<i64>,
    include_filtered: bool,
) -> Filter {
    if types.is_empty() {
        exclude_types.extend(EXTENSION_TYPES.iter().map(|t| t.to_string()));
    }
    Filter {
        types,
        exclude_types,
        from_account,
        include_filtered,
    }
}

/// `GET /api/v1/notifications`: a page of `me`'s notifications as `filter` selects them, with
/// `me`'s filters applied, and the pagination IDs of the rows (for the `Link` header).
///
/// Errors: database errors.
pub async fn page(
    state: &AppState,
    me: i64,
    filter: &Filter,
    page: &crate::service::Page,
) -> AppResult<(Vec<Notification>, Vec<i64>)> {
    let rows = store::list(&state.db, me, filter, page).await?;
    let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
    let out = render::notifications(state, me, rows).await?;
    let out = crate::service::filters::notifications(state, me, out).await?;
    Ok((out, ids))
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::NotFound)
}

/// `GET /api/v1/notifications/:id`. Errors: 404 when it is not one of `me`'s.
pub async fn show(state: &AppState, me: i64, id: &str) -> AppResult<Notification> {
    let row = store::find(&state.db, me, parse_id(id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    render::notifications(state, me, vec![row])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// Dismisses one of `me`'s notifications (`POST /api/v1/notifications/:id/dismiss`), or all of
/// them with `None` (`POST /api/v1/notifications/clear`).
///
/// Errors: 404 when the one named is not `me`'s.
pub async fn dismiss(state: &AppState, me: i64, id: Option<&str>) -> AppResult<()> {
    let id = id.map(parse_id).transpose()?;
    if store::dismiss(&state.db, me, id).await? == 0 && id.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// `GET /api/v1/notifications/unread_count`: `me`'s notifications after the `notifications`
/// marker, counted up to `cap`.
///
/// Errors: database errors.
pub async fn unread_count(state: &AppState, me: i64, cap: i64) -> AppResult<i64> {
    let after = store::markers(&state.db, me)
        .await?
        .iter()
        .find(|m| m.timeline == "notifications")
        .map_or(0, |m| m.last_read_id);
    Ok(store::count_after(&state.db, me, after, cap).await?)
}
