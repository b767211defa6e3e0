//! Periodic work that runs once per interval across every node sharing the database (issue 28):
//! the story expiry sweep and the media pruner. A row of `singletons` per task says which node
//! holds it and until when (a lease renewed while the work runs) and when it last finished. Each
//! node tries to take the task now and then; only one succeeds per interval, and a node that dies
//! midway loses the lease within [`LEASE`] so another takes over. Portable SQL: one upsert whose
//! `WHERE` decides, on SQLite and PostgreSQL alike.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;

use crate::on_db;
use crate::storage::db::Db;

/// How long a lease holds without renewal.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// How often a running task renews its lease.
const RENEW: Duration = Duration::from_secs(20);
/// How often an idle node looks whether a task is due, at most.
const LOOK_EVERY: Duration = Duration::from_secs(10);

/// Takes task `name` for `holder` if nobody holds it and it last finished at least `every` ago.
/// Returns whether `holder` now holds it.
pub async fn try_take(
    db: &Db,
    name: &str,
    every: chrono::Duration,
    holder: &str,
) -> sqlx::Result<bool> {
    let now = Utc::now();
    let taken: Option<String> = on_db!(db, c => sqlx::query_scalar(
        "INSERT INTO singletons (name, holder, leased_until) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = $2, leased_until = $3 \
         WHERE (singletons.leased_until IS NULL OR singletons.leased_until < $4) \
         AND (singletons.last_run_at IS NULL OR singletons.last_run_at <= $5) \
         RETURNING holder")
        .bind(name).bind(holder).bind(now + LEASE).bind(now).bind(now - every)
        .fetch_optional(c).await)?;
    Ok(taken.as_deref() == Some(holder))
}

/// Keeps `holder`'s lease on `name` while it works.
pub async fn renew(db: &Db, name: &str, holder: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE singletons SET leased_until = $3 WHERE name = $1 AND holder = $2")
        .bind(name).bind(holder).bind(Utc::now() + LEASE).execute(c).await.map(|_| ()))
}

/// `holder` finished `name`: the next run is due `every` from now, on whichever node.
pub async fn done(db: &Db, name: &str, holder: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE singletons SET leased_until = NULL, holder = NULL, last_run_at = $3 \
         WHERE name = $1 AND holder = $2")
        .bind(name).bind(holder).bind(Utc::now()).execute(c).await.map(|_| ()))
}

/// Runs `work` every `every` on exactly one node at a time, looking for its turn every
/// `every` (at most 10 s). On SQLite (one node) it simply runs every `every`.
pub fn spawn_periodic<F, Fut>(
    db: Db,
    name: &'static str,
    every: Duration,
    work: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        // One node per SQLite file: no lease to take, and no write on a pool connection every few
        // seconds (it would make the writer's open transactions fail to upgrade: SQLITE_BUSY).
        if matches!(db, Db::Sqlite(..)) {
            loop {
                work().await;
                tokio::time::sleep(every).await;
            }
        }
        let interval = chrono::Duration::from_std(every).unwrap_or(LEASE);
        let holder = super::node_id();
        loop {
            match try_take(&db, name, interval, holder).await {
                Ok(true) => {
                    let (renew_db, task) = (db.clone(), name);
                    let renewing = tokio::spawn(async move {
                        loop {
                            tokio::time::sleep(RENEW).await;
                            if let Err(e) = renew(&renew_db, task, holder).await {
                                tracing::warn!(error = %e, task, "could not renew a lease");
                            }
                        }
                    });
                    work().await;
                    renewing.abort();
                    if let Err(e) = done(&db, name, holder).await {
                        tracing::warn!(error = %e, task = name, "could not record a finished run");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, task = name, "could not look for a due task"),
            }
            tokio::time::sleep(every.min(LOOK_EVERY)).await;
        }
    })
}
