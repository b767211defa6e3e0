//! Statuses waiting to be published (migration 0028), with the uploads they hold.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::storage::db::{Db, Tx};
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ScheduledRow {
    pub id: i64,
    pub account_id: i64,
    pub scheduled_at: DateTime<Utc>,
    /// The posting parameters (`service::scheduled::Params`).
    pub params: Json<Value>,
    pub application_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, account_id, scheduled_at, params, application_id, created_at";

/// Stores a scheduled status, published by job `job_id`, and marks `media_ids` as held by it.
pub async fn insert(
    tx: &mut Tx,
    row: &ScheduledRow,
    media_ids: &[i64],
    job_id: i64,
) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO scheduled_statuses (id, account_id, scheduled_at, params, application_id, job_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(row.id).bind(row.account_id).bind(row.scheduled_at).bind(&row.params)
        .bind(row.application_id).bind(job_id).bind(row.created_at).execute(c).await.map(|_| ()))?;
    for id in media_ids {
        on_db!(tx, c => sqlx::query(
            "UPDATE media_attachments SET scheduled_status_id = $1 WHERE id = $2 AND account_id = $3")
            .bind(row.id).bind(*id).bind(row.account_id).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<ScheduledRow>> {
    let sql = format!("SELECT {COLUMNS} FROM scheduled_statuses WHERE id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// One page of an account's scheduled statuses, newest ID first.
pub async fn page_of(db: &Db, account_id: i64, page: &Page) -> sqlx::Result<Vec<ScheduledRow>> {
    let mut args = Args::default();
    let a = args.add(account_id);
    let (cond, tail) = page.sql("id", &mut args);
    let sql = format!(
        "SELECT {COLUMNS} FROM scheduled_statuses WHERE account_id = {a} AND {cond} {tail}"
    );
    let rows = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// How many an account has waiting, and how many of those fall in `[from, to)`.
pub async fn counts(
    tx: &mut Tx,
    account_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    except: Option<i64>,
) -> sqlx::Result<(i64, i64)> {
    let except = except.unwrap_or(-1);
    on_db!(tx, c => sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN scheduled_at >= $2 AND scheduled_at < $3 THEN 1 ELSE 0 END), 0) \
         FROM scheduled_statuses WHERE account_id = $1 AND id <> $4")
        .bind(account_id).bind(from).bind(to).bind(except).fetch_one(c).await)
}

/// Moves a scheduled status to `at`, published by job `job_id`.
pub async fn set_time(tx: &mut Tx, id: i64, at: DateTime<Utc>, job_id: i64) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("UPDATE scheduled_statuses SET scheduled_at = $1, job_id = $2 WHERE id = $3")
        .bind(at).bind(job_id).bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The job that publishes a scheduled status.
pub async fn job_of(tx: &mut Tx, id: i64) -> sqlx::Result<Option<i64>> {
    on_db!(tx, c => sqlx::query_scalar("SELECT job_id FROM scheduled_statuses WHERE id = $1")
        .bind(id).fetch_optional(c).await)
    .map(Option::flatten)
}

/// Removes a scheduled status and its job; its uploads become unattached (and are pruned a day
/// later unless posted). False when it was gone already.
pub async fn delete(db: &Db, id: i64) -> sqlx::Result<bool> {
    on_db!(db, c => sqlx::query("DELETE FROM jobs WHERE id IN (SELECT job_id FROM scheduled_statuses WHERE id = $1)")
        .bind(id).execute(c).await.map(|_| ()))?;
    on_db!(db, c => sqlx::query("UPDATE media_attachments SET scheduled_status_id = NULL WHERE scheduled_status_id = $1")
        .bind(id).execute(c).await.map(|_| ()))?;
    let n = on_db!(db, c => sqlx::query("DELETE FROM scheduled_statuses WHERE id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}
