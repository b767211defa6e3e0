//! Delivery health of remote servers (`instances`).

use chrono::{DateTime, Utc};

use sqlx::AssertSqlSafe;

use crate::storage::db::Db;
use crate::storage::sql::Args;
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InstanceRow {
    pub domain: String,
    /// Failed attempts since the last success.
    pub failures: i64,
    /// When the current run of failures began (`None`: the last attempt succeeded).
    pub failing_since: Option<DateTime<Utc>>,
    pub unreachable_since: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// The HTTP signature scheme it takes on deliveries, once learnt: `rfc9421` or `cavage`.
    pub http_signatures: Option<String>,
}

const COLUMNS: &str = "domain, failures, failing_since, unreachable_since, last_success_at, \
    last_failure_at, http_signatures";

/// Counts a failed delivery. The server becomes unreachable once it has failed without a single
/// success for `unreachable_after` (however many attempts that took). Returns its row as it is now.
pub async fn record_failure(
    db: &Db,
    domain: &str,
    unreachable_after: chrono::Duration,
) -> sqlx::Result<InstanceRow> {
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let sql = format!(
        "INSERT INTO instances (domain, failures, failing_since, last_failure_at) VALUES ($1, 1, $2, $2) \
         ON CONFLICT (domain) DO UPDATE SET failures = instances.failures + 1, last_failure_at = $2, \
         failing_since = COALESCE(instances.failing_since, $2) RETURNING {COLUMNS}"
    );
    let mut row: InstanceRow = on_db!(tx, c => sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(domain).bind(now).fetch_one(c).await)?;
    let failing_for = now - row.failing_since.unwrap_or(now);
    if row.unreachable_since.is_none() && failing_for >= unreachable_after {
        on_db!(tx, c => sqlx::query("UPDATE instances SET unreachable_since = $2 WHERE domain = $1")
            .bind(domain).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        row.unreachable_since = Some(now);
        tracing::warn!(domain, failures = row.failures, since = %row.failing_since.unwrap_or(now), "server marked unreachable");
    }
    tx.commit().await?;
    Ok(row)
}

/// The server answered or talked to us: its run of failures ends, and with it any unreachable mark.
/// When it had been failing, its pending deliveries that wait on their back-off become due now.
/// Returns whether it had been failing.
pub async fn record_success(db: &Db, domain: &str) -> sqlx::Result<bool> {
    // Writes only, the first of them deciding whether the server had been failing: a read first
    // would make the transaction upgrade to a writer later, which SQLite refuses outright
    // ("database is locked") when another write committed in between.
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let ended: u64 = on_db!(tx, c => sqlx::query(
        "UPDATE instances SET failures = 0, failing_since = NULL, unreachable_since = NULL, \
         last_success_at = $2 WHERE domain = $1 AND (failures > 0 OR unreachable_since IS NOT NULL)")
        .bind(domain).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    let was_failing = ended > 0;
    if was_failing {
        on_db!(tx, c => sqlx::query(
            "UPDATE deliveries SET next_attempt_at = $2 WHERE domain = $1 AND state = 'pending' \
             AND next_attempt_at > $2")
            .bind(domain).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        tracing::info!(
            domain,
            "server answering again; its waiting deliveries go now"
        );
    } else {
        on_db!(tx, c => sqlx::query(
            "INSERT INTO instances (domain, failures, last_success_at) VALUES ($1, 0, $2) \
             ON CONFLICT (domain) DO UPDATE SET last_success_at = $2")
            .bind(domain).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(was_failing)
}

/// Every server whose last attempt failed, unreachable or not.
pub async fn failing_domains(db: &Db) -> sqlx::Result<Vec<String>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT domain FROM instances WHERE failures > 0 OR unreachable_since IS NOT NULL").fetch_all(c).await)
}

/// Every server we delivered to, worst first.
pub async fn list(db: &Db) -> sqlx::Result<Vec<InstanceRow>> {
    let sql = format!("SELECT {COLUMNS} FROM instances ORDER BY failures DESC, domain");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).fetch_all(c).await)
}

/// The health rows of these servers (those we ever delivered to).
pub async fn find_many(db: &Db, domains: &[String]) -> sqlx::Result<Vec<InstanceRow>> {
    if domains.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = domains
        .iter()
        .map(|d| args.add(d.clone()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE domain IN ({list})");
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// The health row of one server, if we ever delivered to it.
pub async fn find(db: &Db, domain: &str) -> sqlx::Result<Option<InstanceRow>> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE domain = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(domain).fetch_optional(c).await)
}

/// Remembers the HTTP signature scheme `domain` takes (`rfc9421` or `cavage`).
pub async fn set_signature_scheme(db: &Db, domain: &str, scheme: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO instances (domain, failures, http_signatures) VALUES ($1, 0, $2) \
         ON CONFLICT (domain) DO UPDATE SET http_signatures = $2")
        .bind(domain).bind(scheme).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// What `domain`'s NodeInfo said of Rookery's extensions — `Read` receipts and rooms (each `None`
/// when never checked) — and when it was last checked.
pub async fn features(
    db: &Db,
    domain: &str,
) -> sqlx::Result<(Option<bool>, Option<bool>, Option<DateTime<Utc>>)> {
    let row: Option<(Option<bool>, Option<bool>, Option<DateTime<Utc>>)> = on_db!(db, c => sqlx::query_as(
        "SELECT read_receipts, rooms, nodeinfo_checked_at FROM instances WHERE domain = $1")
        .bind(domain).fetch_optional(c).await)?;
    Ok(row.unwrap_or((None, None, None)))
}

/// Records what `domain` supports of Rookery's extensions, checked now.
pub async fn set_features(
    db: &Db,
    domain: &str,
    read_receipts: bool,
    rooms: bool,
) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(db, c => sqlx::query(
        "INSERT INTO instances (domain, failures, read_receipts, rooms, nodeinfo_checked_at)          VALUES ($1, 0, $2, $3, $4)          ON CONFLICT (domain) DO UPDATE SET read_receipts = $2, rooms = $3, nodeinfo_checked_at = $4")
        .bind(domain).bind(read_receipts).bind(rooms).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
