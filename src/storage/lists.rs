//! Lists and their members (`lists`, `list_accounts`).

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::accounts::AccountRow;
use crate::storage::db::Db;
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub account_id: i64,
    pub title: String,
    /// `followed`, `list` or `none`.
    pub replies_policy: String,
    pub exclusive: bool,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "l.id, l.account_id, l.title, l.replies_policy, l.exclusive, l.created_at";

pub async fn insert(db: &Db, l: &ListRow) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO lists (id, account_id, title, replies_policy, exclusive, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(l.id).bind(l.account_id).bind(&l.title).bind(&l.replies_policy).bind(l.exclusive)
        .bind(l.created_at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Saves title, replies policy and exclusivity of a list.
pub async fn update(db: &Db, l: &ListRow) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE lists SET title = $2, replies_policy = $3, exclusive = $4 WHERE id = $1")
        .bind(l.id).bind(&l.title).bind(&l.replies_policy).bind(l.exclusive)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes one of `owner`'s lists; true when there was one.
pub async fn delete(db: &Db, owner: i64, id: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query("DELETE FROM lists WHERE id = $1 AND account_id = $2")
        .bind(id).bind(owner).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// One of `owner`'s lists.
pub async fn find(db: &Db, owner: i64, id: i64) -> sqlx::Result<Option<ListRow>> {
    let sql = format!("SELECT {COLUMNS} FROM lists l WHERE l.id = $1 AND l.account_id = $2");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).bind(owner).fetch_optional(c).await)
}

/// `owner`'s lists, oldest first; with `member`, only those holding that account.
pub async fn of_owner(db: &Db, owner: i64, member: Option<i64>) -> sqlx::Result<Vec<ListRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM lists l WHERE l.account_id = $1 AND ($2 = 0 OR EXISTS \
         (SELECT 1 FROM list_accounts la WHERE la.list_id = l.id AND la.account_id = $2)) ORDER BY l.id"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(owner).bind(member.unwrap_or(0)).fetch_all(c).await)
}

/// Adds accounts to a list (already there: kept once).
pub async fn add_accounts(db: &Db, list_id: i64, accounts: &[i64]) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    for a in accounts {
        on_db!(tx, c => sqlx::query(
            "INSERT INTO list_accounts (list_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(list_id).bind(a).execute(c).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await
}

pub async fn remove_accounts(db: &Db, list_id: i64, accounts: &[i64]) -> sqlx::Result<()> {
    if accounts.is_empty() {
        return Ok(());
    }
    let mut args = Args::default();
    let l = args.add(list_id);
    let ids = args.ids(accounts);
    let sql = format!("DELETE FROM list_accounts WHERE list_id = {l} AND account_id IN ({ids})");
    on_db!(db, c => bind_args!(sqlx::query(AssertSqlSafe(sql.as_str())), args)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A list's members, paginated by account ID (newest first); `limit = 0` pages nothing: all.
pub async fn members(db: &Db, list_id: i64, page: &Page) -> sqlx::Result<Vec<AccountRow>> {
    let mut args = Args::default();
    let l = args.add(list_id);
    let (cond, tail) = if page.limit == 0 {
        ("TRUE".to_string(), "ORDER BY a.id DESC".to_string())
    } else {
        page.sql("a.id", &mut args)
    };
    let sql = format!(
        "SELECT {cols} FROM accounts a JOIN list_accounts la ON la.account_id = a.id \
         WHERE la.list_id = {l} AND {cond} {tail}",
        cols = crate::storage::accounts::qualified_account_columns(),
    );
    let rows = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// Lists (ID and owner) whose timeline shows status `status_id`: its author is a member, the owner
/// may see it, and [`crate::storage::statuses::list_shows`] lets it through. For `list` streams.
pub async fn showing(db: &Db, status_id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    let sql = format!(
        "SELECT l.id, l.account_id FROM statuses s JOIN list_accounts la ON la.account_id = s.account_id \
         JOIN lists l ON l.id = la.list_id WHERE s.id = $1 AND {shows} AND {vis}",
        shows =
            crate::storage::statuses::list_shows("s", "l.account_id", "l.id", "l.replies_policy"),
        vis = crate::storage::statuses::visible_to("s", "l.account_id"),
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(status_id).fetch_all(c).await)
}
