//! Delivery health of remote servers (`instances`).

use chrono::{DateTime, Utc};

use crate::on_db;
use crate::storage::db::Db;

/// Consecutive failed deliveries after which a server counts as unreachable.
pub const FAILURES_UNTIL_UNREACHABLE: i64 = 8;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InstanceRow {
    pub domain: String,
    pub failures: i64,
    pub unreachable_since: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
}

/// Counts a failed delivery; the server becomes unreachable at the threshold. Returns whether it
/// is unreachable now.
pub async fn record_failure(db: &Db, domain: &str) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let row: InstanceRow = on_db!(tx, c => sqlx::query_as(
        "INSERT INTO instances (domain, failures, last_failure_at) VALUES ($1, 1, $2) \
         ON CONFLICT (domain) DO UPDATE SET failures = instances.failures + 1, last_failure_at = $2 \
         RETURNING domain, failures, unreachable_since, last_success_at, last_failure_at")
        .bind(domain).bind(now).fetch_one(c).await)?;
    let unreachable = row.unreachable_since.is_some() || row.failures >= FAILURES_UNTIL_UNREACHABLE;
    if unreachable && row.unreachable_since.is_none() {
        on_db!(tx, c => sqlx::query("UPDATE instances SET unreachable_since = $2 WHERE domain = $1")
            .bind(domain).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        tracing::warn!(domain, failures = row.failures, "server marked unreachable");
    }
    tx.commit().await?;
    Ok(unreachable)
}

/// The server answered or talked to us: it is reachable again. When it was unreachable, its
/// postponed deliveries become due now. Returns whether it had been unreachable.
pub async fn record_success(db: &Db, domain: &str) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let was: Option<Option<DateTime<Utc>>> = on_db!(tx, c => sqlx::query_scalar(
        "SELECT unreachable_since FROM instances WHERE domain = $1").bind(domain).fetch_optional(c).await)?;
    let was_unreachable = matches!(was, Some(Some(_)));
    on_db!(tx, c => sqlx::query(
        "INSERT INTO instances (domain, failures, last_success_at) VALUES ($1, 0, $2) \
         ON CONFLICT (domain) DO UPDATE SET failures = 0, unreachable_since = NULL, last_success_at = $2")
        .bind(domain).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    if was_unreachable {
        on_db!(tx, c => sqlx::query(
            "UPDATE deliveries SET next_attempt_at = $2 WHERE domain = $1 AND state = 'pending'")
            .bind(domain).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        tracing::info!(domain, "server reachable again");
    }
    tx.commit().await?;
    Ok(was_unreachable)
}

/// Every server currently marked unreachable.
pub async fn unreachable_domains(db: &Db) -> sqlx::Result<Vec<String>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT domain FROM instances WHERE unreachable_since IS NOT NULL").fetch_all(c).await)
}

/// Every server we delivered to, worst first.
pub async fn list(db: &Db) -> sqlx::Result<Vec<InstanceRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT domain, failures, unreachable_since, last_success_at, last_failure_at FROM instances \
         ORDER BY failures DESC, domain").fetch_all(c).await)
}

/// The health row of one server, if we ever delivered to it.
pub async fn find(db: &Db, domain: &str) -> sqlx::Result<Option<InstanceRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT domain, failures, unreachable_since, last_success_at, last_failure_at FROM instances WHERE domain = $1")
        .bind(domain).fetch_optional(c).await)
}

/// What `domain`'s NodeInfo said about `Read` receipts (`None` when never checked) and when it was
/// last checked.
pub async fn read_receipts(
    db: &Db,
    domain: &str,
) -> sqlx::Result<(Option<bool>, Option<DateTime<Utc>>)> {
    let row: Option<(Option<bool>, Option<DateTime<Utc>>)> = on_db!(db, c => sqlx::query_as(
        "SELECT read_receipts, nodeinfo_checked_at FROM instances WHERE domain = $1")
        .bind(domain).fetch_optional(c).await)?;
    Ok(row.unwrap_or((None, None)))
}

/// Records whether `domain` takes `Read` receipts, checked now.
pub async fn set_read_receipts(db: &Db, domain: &str, supported: bool) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(db, c => sqlx::query(
        "INSERT INTO instances (domain, failures, read_receipts, nodeinfo_checked_at) VALUES ($1, 0, $2, $3) \
         ON CONFLICT (domain) DO UPDATE SET read_receipts = $2, nodeinfo_checked_at = $3")
        .bind(domain).bind(supported).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
