//! Notification policies, requests and permissions (migration 0033), as Mastodon 4.3 filters
//! notifications (docs.joinmastodon.org/methods/notifications, "policy" and "requests").

use chrono::{DateTime, Duration, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::db::{Db, Tx};
use crate::storage::ids;
use crate::storage::notifications::NewNotification;
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

/// What a policy does with a notification it covers (Mastodon's values).
pub const ACTIONS: &[&str] = &["accept", "filter", "drop"];

/// Notification types a policy may filter or drop (Mastodon's `filterable` types, with Rookery's
/// story replies and reactions): what strangers can cause. Polls ending, edits, posts of accounts
/// one asked to hear from and staff notices always come through.
pub const FILTERABLE_TYPES: &[&str] = &[
    "mention",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "quote",
    "story_reply",
    "story_reaction",
];

/// A follow younger than this does not make its author a follower for `for_not_followers`, so
/// that following someone does not open their notifications at once (Mastodon's 3 days).
pub const FOLLOWER_AGE: Duration = Duration::days(3);

/// Accounts created within this are new for `for_new_accounts` (Mastodon's 30 days).
pub const NEW_ACCOUNT_AGE: Duration = Duration::days(30);

/// One account's policy: each field `accept`, `filter` or `drop`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyRow {
    /// Senders the recipient does not follow.
    pub for_not_following: String,
    /// Senders that do not follow the recipient (or have for less than [`FOLLOWER_AGE`]).
    pub for_not_followers: String,
    /// Senders created less than [`NEW_ACCOUNT_AGE`] ago.
    pub for_new_accounts: String,
    /// Direct mentions from accounts the recipient does not follow, unless replying to the
    /// recipient's post or story.
    pub for_private_mentions: String,
    /// Accounts limited by a moderator, or on a limited server, the recipient does not follow.
    pub for_limited_accounts: String,
}

impl Default for PolicyRow {
    /// Mastodon's defaults: private mentions and limited accounts filtered.
    fn default() -> Self {
        PolicyRow {
            for_not_following: "accept".into(),
            for_not_followers: "accept".into(),
            for_new_accounts: "accept".into(),
            for_private_mentions: "filter".into(),
            for_limited_accounts: "filter".into(),
        }
    }
}

/// `(follows older than this count, accounts newer than this are new)` at `now`, the `$4` and
/// `$5` of [`decision_sql`].
pub fn thresholds(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - FOLLOWER_AGE, now - NEW_ACCOUNT_AGE)
}

/// SQL selecting every column of the notification rows `n` (a CTE with `id`, `account_id`,
/// `from_account_id`, `type`, `status_id`, …) plus `filtered` and `dropped`, as the recipient's
/// policy decides (a condition that says `drop` wins over one that says `filter`). `follower_since`
/// and `new_since` are [`thresholds`]. A sender whose request the recipient accepted is never
/// filtered or dropped.
pub fn decision_sql(n: &str, follower_since: &str, new_since: &str) -> String {
    let d = PolicyRow::default();
    let types = FILTERABLE_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let limited = crate::storage::statuses::not_limited(
        &format!("{n}.from_account_id"),
        &format!("{n}.account_id"),
    );
    let conds = [
        ("c.not_following", "c.p_not_following"),
        ("c.not_follower", "c.p_not_followers"),
        ("c.new_account", "c.p_new_accounts"),
        (
            "c.not_following AND c.private_mention",
            "c.p_private_mentions",
        ),
        ("c.not_following AND c.limited", "c.p_limited_accounts"),
    ];
    let any = |action: &str| {
        let parts: Vec<String> = conds
            .iter()
            .map(|(cond, p)| format!("({cond} AND {p} = '{action}')"))
            .collect();
        format!("(c.filterable AND ({}))", parts.join(" OR "))
    };
    format!(
        "SELECT c.*, {dropped} AS dropped, (NOT {dropped}) AND {filtered} AS filtered FROM (\
         SELECT {n}.*, \
           ({n}.type IN ({types}) AND NOT EXISTS (SELECT 1 FROM notification_permissions np \
              WHERE np.account_id = {n}.account_id AND np.from_account_id = {n}.from_account_id)) AS filterable, \
           NOT EXISTS (SELECT 1 FROM follows pf WHERE pf.account_id = {n}.account_id \
              AND pf.target_account_id = {n}.from_account_id) AS not_following, \
           NOT EXISTS (SELECT 1 FROM follows pf WHERE pf.account_id = {n}.from_account_id \
              AND pf.target_account_id = {n}.account_id AND pf.created_at <= {follower_since}) AS not_follower, \
           EXISTS (SELECT 1 FROM accounts pa WHERE pa.id = {n}.from_account_id \
              AND pa.created_at > {new_since}) AS new_account, \
           EXISTS (SELECT 1 FROM statuses ps WHERE ps.id = {n}.status_id AND {n}.type = 'mention' \
              AND ps.visibility = 'direct' \
              AND coalesce(ps.in_reply_to_account_id, 0) <> {n}.account_id \
              AND NOT EXISTS (SELECT 1 FROM stories pst WHERE pst.id = ps.in_reply_to_story_id \
                 AND pst.account_id = {n}.account_id)) AS private_mention, \
           (NOT {limited}) AS limited, \
           coalesce(pp.for_not_following, '{}') AS p_not_following, \
           coalesce(pp.for_not_followers, '{}') AS p_not_followers, \
           coalesce(pp.for_new_accounts, '{}') AS p_new_accounts, \
           coalesce(pp.for_private_mentions, '{}') AS p_private_mentions, \
           coalesce(pp.for_limited_accounts, '{}') AS p_limited_accounts \
         FROM {n} LEFT JOIN notification_policies pp ON pp.account_id = {n}.account_id) AS c",
        d.for_not_following,
        d.for_not_followers,
        d.for_new_accounts,
        d.for_private_mentions,
        d.for_limited_accounts,
        dropped = any("drop"),
        filtered = any("filter"),
    )
}

/// Records the requests of notifications just stored filtered: one per (recipient, sender),
/// created or brought up to date, its `last_status_id` the notification's status when the sender
/// wrote it (a mention or a quote).
pub async fn record(tx: &mut Tx, filtered: &[&NewNotification<'_>]) -> sqlx::Result<()> {
    let now = Utc::now();
    for n in filtered {
        let last = match n.kind {
            "mention" | "quote" => n.about.status_id,
            _ => None,
        };
        on_db!(tx, c => sqlx::query(
            "INSERT INTO notification_requests (id, account_id, from_account_id, last_status_id, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (account_id, from_account_id) DO UPDATE SET \
             last_status_id = coalesce(excluded.last_status_id, notification_requests.last_status_id), \
             updated_at = excluded.updated_at")
            .bind(ids::new_id()).bind(n.account_id).bind(n.from).bind(last).bind(now)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// `account_id`'s policy, or the defaults.
pub async fn policy(db: &Db, account_id: i64) -> sqlx::Result<PolicyRow> {
    let row: Option<PolicyRow> = on_db!(db, c => sqlx::query_as(
        "SELECT for_not_following, for_not_followers, for_new_accounts, for_private_mentions, \
         for_limited_accounts FROM notification_policies WHERE account_id = $1")
        .bind(account_id).fetch_optional(c).await)?;
    Ok(row.unwrap_or_default())
}

/// Stores `account_id`'s policy (values checked by the caller against [`ACTIONS`]).
pub async fn set_policy(db: &Db, account_id: i64, p: &PolicyRow) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO notification_policies (account_id, for_not_following, for_not_followers, \
         for_new_accounts, for_private_mentions, for_limited_accounts, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id) DO UPDATE SET \
         for_not_following = $2, for_not_followers = $3, for_new_accounts = $4, \
         for_private_mentions = $5, for_limited_accounts = $6, updated_at = $7")
        .bind(account_id).bind(&p.for_not_following).bind(&p.for_not_followers)
        .bind(&p.for_new_accounts).bind(&p.for_private_mentions).bind(&p.for_limited_accounts)
        .bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// `(pending requests, filtered notifications)` of `account_id`, for the policy's `summary`.
pub async fn summary(db: &Db, account_id: i64) -> sqlx::Result<(i64, i64)> {
    let sql = format!(
        "SELECT (SELECT count(*) FROM notification_requests r WHERE r.account_id = $1 AND {HOLDS}), \
         (SELECT count(*) FROM notifications WHERE account_id = $1 AND filtered = TRUE)"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(account_id).fetch_one(c).await)
}

/// SQL: request `r` still holds a filtered notification (others, emptied by an undone favourite
/// or a deleted status, are not shown).
const HOLDS: &str = "EXISTS (SELECT 1 FROM notifications rh WHERE rh.account_id = r.account_id \
     AND rh.from_account_id = r.from_account_id AND rh.filtered = TRUE)";

/// A pending request, with how many filtered notifications it holds.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub from_account_id: i64,
    pub last_status_id: Option<i64>,
    pub notifications_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const REQUEST_COLUMNS: &str = "r.id, r.from_account_id, r.last_status_id, \
     (SELECT count(*) FROM notifications rn WHERE rn.account_id = r.account_id \
        AND rn.from_account_id = r.from_account_id AND rn.filtered = TRUE) AS notifications_count, \
     r.created_at, r.updated_at";

/// A page of `account_id`'s requests, newest first (by request ID).
pub async fn list(db: &Db, account_id: i64, page: &Page) -> sqlx::Result<Vec<RequestRow>> {
    let mut args = Args::default();
    let a = args.add(account_id);
    let (cond, tail) = page.sql("r.id", &mut args);
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM notification_requests r WHERE r.account_id = {a} AND {HOLDS} AND {cond} {tail}"
    );
    let rows: Vec<RequestRow> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// One of `account_id`'s requests.
pub async fn find(db: &Db, account_id: i64, id: i64) -> sqlx::Result<Option<RequestRow>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM notification_requests r WHERE r.account_id = $1 AND r.id = $2 AND {HOLDS}"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(account_id).bind(id).fetch_optional(c).await)
}

/// Deletes `account_id`'s requests among `ids` in `tx`; returns their senders.
async fn take(tx: &mut Tx, account_id: i64, ids: &[i64]) -> sqlx::Result<Vec<i64>> {
    let mut senders = Vec::new();
    for &id in ids {
        let from: Option<i64> = on_db!(tx, c => sqlx::query_scalar(
            "DELETE FROM notification_requests WHERE account_id = $1 AND id = $2 RETURNING from_account_id")
            .bind(account_id).bind(id).fetch_optional(c).await)?;
        senders.extend(from);
    }
    Ok(senders)
}

/// Accepts `account_id`'s requests among `ids` in one transaction: each sender is permitted from
/// then on, its filtered notifications join the list, the request goes. Returns how many of
/// `ids` were `account_id`'s.
pub async fn accept(db: &Db, account_id: i64, ids: &[i64]) -> sqlx::Result<usize> {
    let mut tx = db.begin().await?;
    let senders = take(&mut tx, account_id, ids).await?;
    for &from in &senders {
        on_db!(tx, c => sqlx::query(
            "INSERT INTO notification_permissions (account_id, from_account_id, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(account_id).bind(from).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
        on_db!(tx, c => sqlx::query(
            "UPDATE notifications SET filtered = FALSE WHERE account_id = $1 \
             AND from_account_id = $2 AND filtered = TRUE")
            .bind(account_id).bind(from).execute(c).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(senders.len())
}

/// Dismisses `account_id`'s requests among `ids` in one transaction: the request and the
/// filtered notifications it held go (the sender stays unpermitted, so later ones are filtered
/// into a new request). Returns how many of `ids` were `account_id`'s.
pub async fn dismiss(db: &Db, account_id: i64, ids: &[i64]) -> sqlx::Result<usize> {
    let mut tx = db.begin().await?;
    let senders = take(&mut tx, account_id, ids).await?;
    for &from in &senders {
        on_db!(tx, c => sqlx::query(
            "DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND filtered = TRUE")
            .bind(account_id).bind(from).execute(c).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(senders.len())
}
