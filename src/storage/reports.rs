//! Reports about accounts (`reports`): made by local users or forwarded by other servers as `Flag`s.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::storage::db::{Db, Tx};
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReportRow {
    pub id: i64,
    /// The reporter: a local account, or the sending server's actor for a forwarded report.
    pub account_id: i64,
    pub target_account_id: i64,
    pub status_ids: Json<Vec<i64>>,
    pub rule_ids: Json<Vec<i64>>,
    pub comment: String,
    /// `spam`, `legal`, `violation` or `other`.
    pub category: String,
    pub forwarded: bool,
    /// The `Flag` activity's id, for reports from other servers.
    pub uri: Option<String>,
    pub assigned_account_id: Option<i64>,
    pub action_taken_at: Option<DateTime<Utc>>,
    pub action_taken_by_account_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, account_id, target_account_id, status_ids, rule_ids, comment, category, \
    forwarded, uri, assigned_account_id, action_taken_at, action_taken_by_account_id, created_at, \
    updated_at";

pub async fn insert(tx: &mut Tx, r: &ReportRow) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO reports (id, account_id, target_account_id, status_ids, rule_ids, comment, \
         category, forwarded, uri, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)")
        .bind(r.id).bind(r.account_id).bind(r.target_account_id).bind(&r.status_ids)
        .bind(&r.rule_ids).bind(&r.comment).bind(&r.category).bind(r.forwarded).bind(&r.uri)
        .bind(r.created_at).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<ReportRow>> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// A report forwarded from another server, by its `Flag` id.
pub async fn find_by_uri(db: &Db, uri: &str) -> sqlx::Result<Option<i64>> {
    on_db!(db, c => sqlx::query_scalar("SELECT id FROM reports WHERE uri = $1")
        .bind(uri).fetch_optional(c).await)
}

/// Which reports `GET /api/v1/admin/reports` lists.
#[derive(Clone, Debug, Default)]
pub struct ReportFilter {
    /// `false` (the default): open reports; `true`: resolved ones.
    pub resolved: bool,
    pub account_id: Option<i64>,
    pub target_account_id: Option<i64>,
}

/// Reports, newest first, paged by ID.
pub async fn list(db: &Db, f: &ReportFilter, page: &Page) -> sqlx::Result<Vec<ReportRow>> {
    let mut args = Args::default();
    let (cond, tail) = page.sql("id", &mut args);
    let mut conds = vec![cond];
    conds.push(if f.resolved {
        "action_taken_at IS NOT NULL".into()
    } else {
        "action_taken_at IS NULL".into()
    });
    if let Some(a) = f.account_id {
        conds.push(format!("account_id = {}", args.add(a)));
    }
    if let Some(t) = f.target_account_id {
        conds.push(format!("target_account_id = {}", args.add(t)));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM reports WHERE {} {tail}",
        conds.join(" AND ")
    );
    let rows = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// Marks a report resolved (by moderator `by`; `None` from the command line) or open again.
pub async fn set_resolved(db: &Db, id: i64, resolved: bool, by: Option<i64>) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(db, c => sqlx::query(
        "UPDATE reports SET action_taken_at = $2, action_taken_by_account_id = $3, updated_at = $4 \
         WHERE id = $1")
        .bind(id).bind(resolved.then_some(now)).bind(by.filter(|_| resolved)).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Resolves every open report about `target` (after an action on the account), by `by`.
pub async fn resolve_all_about(tx: &mut Tx, target: i64, by: Option<i64>) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(tx, c => sqlx::query(
        "UPDATE reports SET action_taken_at = $2, action_taken_by_account_id = $3, updated_at = $2 \
         WHERE target_account_id = $1 AND action_taken_at IS NULL")
        .bind(target).bind(now).bind(by)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Assigns a report to a moderator (`None`: unassigns it).
pub async fn assign(db: &Db, id: i64, to: Option<i64>) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE reports SET assigned_account_id = $2, updated_at = $3 WHERE id = $1")
        .bind(id).bind(to).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
