//! The durable job queue (DESIGN.md §1, §6) for work other than deliveries: media processing and
//! cleanup. A job is a row in `jobs`, enqueued in the same transaction as the change it follows.
//! Workers claim due jobs of their kind for [`LEASE`] and extend the claim every [`HEARTBEAT`] while
//! they work, so a crashed worker's job becomes due again within a minute; on PostgreSQL several
//! nodes share the queue with `FOR UPDATE SKIP LOCKED`. Handlers must be idempotent: a job may run
//! twice when a worker dies after finishing but before deleting it.

pub mod singleton;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use tokio::sync::{Notify, Semaphore};

use crate::on_db;
use crate::storage::db::{Db, Tx};
use crate::storage::ids;

/// How long a claim holds without a heartbeat.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// How often a running job renews its claim.
pub const HEARTBEAT: Duration = Duration::from_secs(20);
/// How often an idle worker looks for due jobs when nothing wakes it.
const POLL: Duration = Duration::from_secs(2);

/// What a finished job waits for before it is deleted; see [`before_finish`].
pub type BeforeFinish =
    Box<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

static BEFORE_FINISH: OnceLock<BeforeFinish> = OnceLock::new();

/// Sets, once per process, what every job that is done waits for before its row is deleted: with
/// several nodes, that its streaming events went to the other nodes (`realtime::cluster::flushed`,
/// set by `server`, since this layer does not name `realtime`).
pub fn before_finish(flush: BeforeFinish) {
    let _ = BEFORE_FINISH.set(flush);
}

/// This process's name in claims and leases: its PID and a random part, unique across nodes.
pub fn node_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("{}-{:08x}", std::process::id(), rand::random::<u32>()))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: Json<Value>,
    /// Attempts started before this one.
    pub attempts: i64,
}

/// Queues a job of `kind` to run at once.
pub async fn enqueue(tx: &mut Tx, kind: &str, payload: &Value) -> sqlx::Result<i64> {
    let id = ids::new_id();
    let now = Utc::now();
    on_db!(tx, c => sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at, created_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(id).bind(kind).bind(Json(payload)).bind(now).execute(c).await.map(|_| ()))?;
    Ok(id)
}

/// Claims up to `limit` due jobs of `kind`, oldest first, counting the attempt.
pub async fn claim_due(db: &Db, kind: &str, limit: i64) -> sqlx::Result<Vec<Job>> {
    let now = Utc::now();
    let lock = match db {
        Db::Postgres(..) => "FOR UPDATE SKIP LOCKED",
        Db::Sqlite(..) => "",
    };
    let sql = format!(
        "UPDATE jobs SET leased_until = $1, attempts = attempts + 1, claimed_by = $5 WHERE id IN (SELECT id FROM jobs \
         WHERE kind = $2 AND run_at <= $3 AND (leased_until IS NULL OR leased_until <= $3) \
         ORDER BY run_at, id LIMIT $4 {lock}) RETURNING id, kind, payload, attempts - 1 AS attempts"
    );
    let mut tx = db.begin().await?;
    let rows = on_db!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(now + LEASE).bind(kind).bind(now).bind(limit).bind(node_id()).fetch_all(c).await)?;
    tx.commit().await?;
    Ok(rows)
}

/// Keeps the claim on a running job.
pub async fn renew(db: &Db, id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE jobs SET leased_until = $1 WHERE id = $2")
        .bind(Utc::now() + LEASE).bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The job is done (or given up): it leaves the queue.
pub async fn finish(db: &Db, id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The attempt failed; the job runs again at `at`.
pub async fn retry_at(db: &Db, id: i64, at: DateTime<Utc>, error: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE jobs SET run_at = $1, leased_until = NULL, last_error = $2 WHERE id = $3")
        .bind(at).bind(error).bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Drops every claim (a single node at start-up: claims can only be left from its previous run).
pub async fn release_all_claims(db: &Db) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE jobs SET leased_until = NULL WHERE leased_until IS NOT NULL")
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Drops the claims this process holds, on jobs and deliveries (at shutdown: another node takes
/// them at once instead of after their lease lapses). Handlers are idempotent, so a job cut off
/// midway may run again.
pub async fn release_own_claims(db: &Db) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE jobs SET leased_until = NULL, claimed_by = NULL WHERE claimed_by = $1")
        .bind(node_id()).execute(c).await.map(|_| ()))?;
    crate::storage::deliveries::release_claims_of(db, node_id()).await
}

/// Jobs queued (running or waiting) by kind, for `/metrics`.
pub async fn count_by_kind(db: &Db) -> sqlx::Result<Vec<(String, i64)>> {
    on_db!(db, c => sqlx::query_as("SELECT kind, COUNT(*) FROM jobs GROUP BY kind")
        .fetch_all(c).await)
}

/// Jobs of `kind` still queued (running or waiting), for tests and the admin's view.
pub async fn count(db: &Db, kind: &str) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = $1")
        .bind(kind).fetch_one(c).await)
}

/// What a handler decided about its job.
pub enum Outcome {
    /// Done, or nothing left to do.
    Done,
    /// Failed for a reason that may pass; try again after the back-off.
    Retry(String),
}

/// Runs jobs of `kind` forever, `concurrency` at a time, calling `handler` for each. A job whose
/// handler asks to retry runs again after 30 s × 4^attempts (30 s, 2 min, 8 min …); after
/// `max_attempts` it is dropped and `on_give_up` is called with the last error.
pub async fn run_worker<H, F, G, GF>(
    db: Db,
    kind: &'static str,
    concurrency: usize,
    max_attempts: i64,
    wakeup: Arc<Notify>,
    handler: H,
    on_give_up: G,
) where
    H: Fn(Job) -> F + Send + Sync + 'static,
    F: Future<Output = Outcome> + Send + 'static,
    G: Fn(Job, String) -> GF + Send + Sync + 'static,
    GF: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let handler = Arc::new(handler);
    let on_give_up = Arc::new(on_give_up);
    loop {
        let free = slots.available_permits() as i64;
        let jobs = if free > 0 {
            match claim_due(&db, kind, free).await {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(error = ?e, kind, "could not claim jobs");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let claimed = !jobs.is_empty();
        for job in jobs {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let (db, handler, on_give_up) = (db.clone(), handler.clone(), on_give_up.clone());
            let wakeup = wakeup.clone();
            tokio::spawn(async move {
                let id = job.id;
                let attempts = job.attempts + 1;
                let heartbeat_db = db.clone();
                let heartbeat = tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(HEARTBEAT).await;
                        if let Err(e) = renew(&heartbeat_db, id).await {
                            tracing::warn!(error = ?e, "could not renew a job's claim");
                        }
                    }
                });
                let outcome = handler(job.clone()).await;
                heartbeat.abort();
                let result = match outcome {
                    Outcome::Done => {
                        // What the job published reaches the other nodes before it counts as
                        // done: a node killed now leaves the job to run again, not lost events.
                        if let Some(flush) = BEFORE_FINISH.get() {
                            flush().await;
                        }
                        finish(&db, id).await
                    }
                    Outcome::Retry(error) if attempts >= max_attempts => {
                        tracing::warn!(kind, job = id, %error, "job given up");
                        on_give_up(job, error).await;
                        finish(&db, id).await
                    }
                    Outcome::Retry(error) => {
                        tracing::info!(kind, job = id, %error, attempts, "job will be retried");
                        let delay = 30i64.saturating_mul(4i64.saturating_pow(attempts as u32 - 1));
                        let at = Utc::now() + chrono::Duration::seconds(delay.min(6 * 3600));
                        retry_at(&db, id, at, &error).await
                    }
                };
                if let Err(e) = result {
                    tracing::error!(error = ?e, kind, job = id, "could not record a job's outcome");
                }
                drop(permit);
                wakeup.notify_one();
            });
        }
        if !claimed {
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// Queues a job of `kind` to run at `run_at` (not before).
pub async fn enqueue_at(
    tx: &mut Tx,
    kind: &str,
    payload: &Value,
    run_at: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let id = ids::new_id();
    on_db!(tx, c => sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id).bind(kind).bind(Json(payload)).bind(run_at).bind(Utc::now())
        .execute(c).await.map(|_| ()))?;
    Ok(id)
}

/// Moves a waiting job to `run_at`; false when it is gone or running (then queue another).
pub async fn move_to(tx: &mut Tx, id: i64, run_at: DateTime<Utc>) -> sqlx::Result<bool> {
    let n = on_db!(tx, c => sqlx::query(
        "UPDATE jobs SET run_at = $1 WHERE id = $2 AND (leased_until IS NULL OR leased_until <= $3)")
        .bind(run_at).bind(id).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Queues a job of `kind` already claimed by the caller for [`LEASE`] (as if claimed at once),
/// for a process that runs the job itself and renews the claim ([`renew`]); if it dies, the
/// claim lapses and a worker takes the job over.
pub async fn enqueue_claimed(tx: &mut Tx, kind: &str, payload: &Value) -> sqlx::Result<i64> {
    let id = ids::new_id();
    let now = Utc::now();
    on_db!(tx, c => sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at, created_at, leased_until, attempts, claimed_by) \
         VALUES ($1, $2, $3, $4, $4, $5, 1, $6)")
        .bind(id).bind(kind).bind(Json(payload)).bind(now).bind(now + LEASE).bind(node_id())
        .execute(c).await.map(|_| ()))?;
    Ok(id)
}
