//! Servers each user hides for themselves (migration 0029).

use chrono::Utc;
use sqlx::AssertSqlSafe;

use crate::storage::db::{Db, Tx};
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

/// SQL: account `a` is on a server viewer `v` blocked (both SQL expressions). The first test does
/// not depend on the row, so the database runs it once per statement: for the many viewers who
/// block no server, no row costs a lookup (timelines call this for every row they consider).
pub fn blocked_sql(a: &str, v: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM user_domain_blocks udb0 WHERE udb0.account_id = {v}) \
         AND EXISTS (SELECT 1 FROM user_domain_blocks udb JOIN accounts uda ON uda.domain = udb.domain \
         WHERE udb.account_id = {v} AND uda.id = {a}))"
    )
}

/// Adds a block; false when it was there.
pub async fn insert(tx: &mut Tx, account_id: i64, domain: &str) -> sqlx::Result<bool> {
    let n = on_db!(tx, c => sqlx::query(
        "INSERT INTO user_domain_blocks (id, account_id, domain, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, domain) DO NOTHING")
        .bind(crate::storage::ids::new_id()).bind(account_id).bind(domain).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn delete(db: &Db, account_id: i64, domain: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM user_domain_blocks WHERE account_id = $1 AND domain = $2")
        .bind(account_id).bind(domain).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// One page of an account's blocked domains, `(row ID, domain)`, newest first.
pub async fn page_of(db: &Db, account_id: i64, page: &Page) -> sqlx::Result<Vec<(i64, String)>> {
    let mut args = Args::default();
    let a = args.add(account_id);
    let (cond, tail) = page.sql("id", &mut args);
    let sql = format!(
        "SELECT id, domain FROM user_domain_blocks WHERE account_id = {a} AND {cond} {tail}"
    );
    let rows = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// Those of `targets` whose server `viewer` blocked.
pub async fn blocked_among(db: &Db, viewer: i64, targets: &[i64]) -> sqlx::Result<Vec<i64>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let v = args.add(viewer);
    let list = args.ids(targets);
    let sql = format!(
        "SELECT a.id FROM accounts a JOIN user_domain_blocks b ON b.domain = a.domain \
         WHERE b.account_id = {v} AND a.id IN ({list})"
    );
    on_db!(db, c => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Accounts on `domain` that follow `account_id`, or ask to (`requests`), with their `Follow`'s
/// ID when it came from their server.
pub async fn followers_on(
    tx: &mut Tx,
    account_id: i64,
    domain: &str,
    requests: bool,
) -> sqlx::Result<Vec<(i64, Option<String>)>> {
    let table = if requests {
        "follow_requests"
    } else {
        "follows"
    };
    let sql = format!(
        "SELECT f.account_id, f.uri FROM {table} f JOIN accounts a ON a.id = f.account_id \
         WHERE f.target_account_id = $1 AND a.domain = $2"
    );
    on_db!(tx, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(account_id).bind(domain).fetch_all(c).await)
}
