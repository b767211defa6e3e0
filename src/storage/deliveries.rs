//! The durable outbox (`deliveries`) and the inbox's record of processed activities.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::db::{Db, Tx};
use crate::storage::ids;
use crate::storage::sql::Args;
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub activity_id: String,
    pub actor_id: i64,
    pub inbox_url: String,
    pub domain: String,
    pub payload: String,
    pub status_id: Option<i64>,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// A room hosted here that sends this (signed with the room's key; `actor_id` is its owner).
    pub room_id: Option<i64>,
}

const COLUMNS: &str = "id, activity_id, actor_id, inbox_url, domain, payload, status_id, state, \
    attempts, next_attempt_at, last_error, created_at, delivered_at, room_id";

/// Who signs a delivery: a local account, or a room hosted here (with its owner's account ID).
#[derive(Clone, Copy, Debug)]
pub struct Sender {
    pub actor_id: i64,
    pub room_id: Option<i64>,
}

/// Queues one activity for one inbox (ignored when that pair is already queued).
pub async fn enqueue(
    tx: &mut Tx,
    activity_id: &str,
    sender: Sender,
    inbox_url: &str,
    domain: &str,
    payload: &str,
    status_id: Option<i64>,
) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(tx, c => sqlx::query(
        "INSERT INTO deliveries (id, activity_id, actor_id, inbox_url, domain, payload, status_id, \
         next_attempt_at, created_at, room_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) \
         ON CONFLICT (activity_id, inbox_url) DO NOTHING")
        .bind(ids::new_id()).bind(activity_id).bind(sender.actor_id).bind(inbox_url).bind(domain)
        .bind(payload).bind(status_id).bind(now).bind(sender.room_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// How long a claim holds: longer than one worker pass (two rounds of attempts with a 10 s timeout),
/// short enough that a crashed node's deliveries are soon taken over.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(45);

/// Claims up to `limit` due pending deliveries for node `node`, oldest first, for [`LEASE`]. On PostgreSQL rows
/// locked by another node's claim are skipped (`FOR UPDATE SKIP LOCKED`), so several nodes share the
/// queue without sending anything twice; SQLite has one node and one writer.
pub async fn claim_due(db: &Db, limit: i64, node: &str) -> sqlx::Result<Vec<DeliveryRow>> {
    let now = Utc::now();
    let until = now + LEASE;
    let lock = match db {
        Db::Postgres(..) => "FOR UPDATE SKIP LOCKED",
        Db::Sqlite(..) => "",
    };
    let sql = format!(
        "UPDATE deliveries SET leased_until = $1, claimed_by = $4 WHERE id IN (SELECT id FROM deliveries \
         WHERE state = 'pending' AND next_attempt_at <= $2 AND (leased_until IS NULL OR leased_until <= $2) \
         ORDER BY id LIMIT $3 {lock}) RETURNING {COLUMNS}"
    );
    let mut tx = db.begin().await?;
    let mut rows: Vec<DeliveryRow> = on_db!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(until).bind(now).bind(limit).bind(node).fetch_all(c).await)?;
    tx.commit().await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Deliveries waiting to be sent (or retried).
pub async fn pending_count(db: &Db) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")
        .fetch_one(c).await)
}

/// Drops the claims node `node` holds (`jobs::release_own_claims`, at its shutdown).
pub async fn release_claims_of(db: &Db, node: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE deliveries SET leased_until = NULL, claimed_by = NULL WHERE claimed_by = $1")
        .bind(node).execute(c).await.map(|_| ()))
}

/// Drops every claim (at start-up of a single-node instance, whose claims can only be left over
/// from a previous run of this process).
pub async fn release_all_claims(db: &Db) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE deliveries SET leased_until = NULL WHERE leased_until IS NOT NULL")
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn mark_delivered(db: &Db, id: i64) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(db, c => sqlx::query(
        "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = $2, last_error = NULL, leased_until = NULL WHERE id = $1")
        .bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a failed attempt: retried at `next` or, with `next = None`, given up.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    let error: String = error.chars().take(500).collect();
    on_db!(db, c => match next {
        Some(at) => sqlx::query("UPDATE deliveries SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, leased_until = NULL WHERE id = $1")
            .bind(id).bind(&error).bind(at).execute(c).await.map(|r| r.rows_affected()),
        None => sqlx::query("UPDATE deliveries SET state = 'failed', attempts = attempts + 1, last_error = $2, leased_until = NULL WHERE id = $1")
            .bind(id).bind(&error).execute(c).await.map(|r| r.rows_affected()),
    })?;
    Ok(())
}

/// Deliveries of a status, for its author.
pub async fn of_status(db: &Db, status_id: i64) -> sqlx::Result<Vec<DeliveryRow>> {
    let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE status_id = $1 ORDER BY domain, id");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(status_id).fetch_all(c).await)
}

/// Records a processed incoming activity ID (in a transaction of its own, so on SQLite it waits
/// its turn among writers instead of retrying on a busy database).
pub async fn record_receipt(db: &Db, activity_id: &str) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    record_receipt_in(&mut tx, activity_id).await?;
    tx.commit().await
}

/// [`record_receipt`] inside the transaction of the change the activity made.
pub async fn record_receipt_in(tx: &mut Tx, activity_id: &str) -> sqlx::Result<()> {
    record_receipts_in(tx, &[activity_id]).await
}

/// [`record_receipt_in`] for several activities with one statement.
pub async fn record_receipts_in(tx: &mut Tx, activity_ids: &[&str]) -> sqlx::Result<()> {
    for chunk in activity_ids.chunks(crate::storage::sql::MAX_ROWS) {
        let mut args = Args::default();
        let now = args.add(Utc::now());
        let values: Vec<String> = chunk
            .iter()
            .map(|id| format!("({}, {now})", args.add(*id)))
            .collect();
        let sql = format!(
            "INSERT INTO received_activities (activity_id, received_at) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        on_db!(tx, c => bind_args!(sqlx::query(AssertSqlSafe(sql.as_str())), args).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// True when this activity ID was already processed.
pub async fn already_received(db: &Db, activity_id: &str) -> sqlx::Result<bool> {
    let n: i64 = on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM received_activities WHERE activity_id = $1")
        .bind(activity_id).fetch_one(c).await)?;
    Ok(n > 0)
}

/// Deliveries for admins: the latest first, optionally in one state or to one domain.
pub async fn list(
    db: &Db,
    state: Option<&str>,
    domain: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM deliveries WHERE ($1 = '' OR state = $1) AND ($2 = '' OR domain = $2) \
         ORDER BY id DESC LIMIT $3"
    );
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(state.unwrap_or("")).bind(domain.unwrap_or("")).bind(limit).fetch_all(c).await)
}

/// Postpones a pending delivery without counting an attempt (its server is unreachable).
pub async fn postpone(db: &Db, id: i64, until: DateTime<Utc>) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE deliveries SET next_attempt_at = $2, leased_until = NULL WHERE id = $1")
        .bind(id).bind(until).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
