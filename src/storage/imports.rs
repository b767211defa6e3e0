//! CSV imports (migration 0035): an import and its rows with their outcomes, and the reads the
//! CSV exports make.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use crate::on_db;
use crate::storage::db::{Db, Tx};

/// An import (`bulk_imports`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ImportRow {
    pub id: i64,
    pub account_id: i64,
    /// `following`, `blocking`, `muting`, `domain_blocking`, `bookmarks` or `lists`.
    #[sqlx(rename = "type")]
    pub kind: String,
    pub overwrite: bool,
    /// `scheduled`, `in_progress` or `finished`.
    pub state: String,
    pub original_filename: String,
    pub total_items: i64,
    pub processed_items: i64,
    pub imported_items: i64,
    pub failed_items: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, account_id, type, overwrite, state, original_filename, total_items, \
    processed_items, imported_items, failed_items, created_at, finished_at";

/// One row of a file, as read: the fields its type uses.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct RowData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acct: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_reblogs: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_notifications: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_name: Option<String>,
}

/// A row of an import (`bulk_import_rows`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ImportItem {
    pub line: i64,
    pub data: Json<RowData>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Stores a new import with its rows (`(line, data)`), in the caller's transaction.
pub async fn insert(tx: &mut Tx, import: &ImportRow, rows: &[(i64, RowData)]) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO bulk_imports (id, account_id, type, overwrite, state, original_filename, total_items, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(import.id).bind(import.account_id).bind(&import.kind).bind(import.overwrite)
        .bind(&import.state).bind(&import.original_filename).bind(import.total_items).bind(import.created_at)
        .execute(&mut *c).await.map(|_| ()))?;
    // Several rows per statement: 5,000 rows is 50 statements, not 5,000.
    for chunk in rows.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${}, ${})", i * 2 + 2, i * 2 + 3))
            .collect();
        let sql = format!(
            "INSERT INTO bulk_import_rows (bulk_import_id, line, data) VALUES {}",
            values.join(", ")
        );
        on_db!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(import.id);
            for (line, data) in chunk {
                q = q.bind(*line).bind(Json(data.clone()));
            }
            q.execute(&mut *c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// One import of `account_id`.
pub async fn find(db: &Db, account_id: i64, id: i64) -> sqlx::Result<Option<ImportRow>> {
    let sql = format!("SELECT {COLUMNS} FROM bulk_imports WHERE id = $1 AND account_id = $2");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).bind(account_id).fetch_optional(c).await)
}

/// An import by ID alone (for the job).
pub async fn find_by_id(db: &Db, id: i64) -> sqlx::Result<Option<ImportRow>> {
    let sql = format!("SELECT {COLUMNS} FROM bulk_imports WHERE id = $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// `account_id`'s imports, newest first (at most `limit`).
pub async fn of_account(db: &Db, account_id: i64, limit: i64) -> sqlx::Result<Vec<ImportRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bulk_imports WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
    );
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(account_id).bind(limit).fetch_all(c).await)
}

/// Imports of `account_id` not finished yet.
pub async fn unfinished_count(db: &Db, account_id: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM bulk_imports WHERE account_id = $1 AND state <> 'finished'")
        .bind(account_id).fetch_one(c).await)
}

/// Sets an import's state (and `finished_at` when it finishes).
pub async fn set_state(db: &Db, id: i64, state: &str) -> sqlx::Result<()> {
    let finished = (state == "finished").then(Utc::now);
    on_db!(db, c => sqlx::query("UPDATE bulk_imports SET state = $2, finished_at = $3 WHERE id = $1")
        .bind(id).bind(state).bind(finished).execute(c).await.map(|_| ()))
}

/// The next rows not processed yet, in file order.
pub async fn pending_rows(db: &Db, import_id: i64, limit: i64) -> sqlx::Result<Vec<ImportItem>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT line, data, state, error FROM bulk_import_rows WHERE bulk_import_id = $1 AND state IS NULL \
         ORDER BY line LIMIT $2")
        .bind(import_id).bind(limit).fetch_all(c).await)
}

/// Records a row's outcome (`error` `None`: imported, naming `target_id`) and counts it, in one
/// transaction, so counts and rows agree after a crash.
pub async fn record_row(
    db: &Db,
    import_id: i64,
    line: i64,
    target_id: Option<i64>,
    error: Option<&str>,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let state = if error.is_some() {
        "failed"
    } else {
        "imported"
    };
    let n = on_db!(tx, c => sqlx::query(
        "UPDATE bulk_import_rows SET state = $3, error = $4, target_id = $5 \
         WHERE bulk_import_id = $1 AND line = $2 AND state IS NULL")
        .bind(import_id).bind(line).bind(state).bind(error).bind(target_id)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    if n == 1 {
        let (ok, failed) = if error.is_some() { (0, 1) } else { (1, 0) };
        on_db!(tx, c => sqlx::query(
            "UPDATE bulk_imports SET processed_items = processed_items + 1, \
             imported_items = imported_items + $2, failed_items = failed_items + $3 WHERE id = $1")
            .bind(import_id).bind(ok as i64).bind(failed as i64).execute(&mut *c).await.map(|_| ()))?;
    }
    tx.commit().await
}

/// The failed rows of an import, in file order (at most `limit`).
pub async fn failed_rows(db: &Db, import_id: i64, limit: i64) -> sqlx::Result<Vec<ImportItem>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT line, data, state, error FROM bulk_import_rows WHERE bulk_import_id = $1 AND state = 'failed' \
         ORDER BY line LIMIT $2")
        .bind(import_id).bind(limit).fetch_all(c).await)
}

/// IDs the imported rows of an import named (accounts or statuses).
pub async fn imported_targets(db: &Db, import_id: i64) -> sqlx::Result<Vec<i64>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT target_id FROM bulk_import_rows WHERE bulk_import_id = $1 AND state = 'imported' \
         AND target_id IS NOT NULL")
        .bind(import_id).fetch_all(c).await)
}

/// The data of every row of an import (for an overwrite's list of domains or list names).
pub async fn all_data(db: &Db, import_id: i64) -> sqlx::Result<Vec<RowData>> {
    let rows: Vec<Json<RowData>> = on_db!(db, c => sqlx::query_scalar(
        "SELECT data FROM bulk_import_rows WHERE bulk_import_id = $1 ORDER BY line")
        .bind(import_id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|j| j.0).collect())
}

// --- What exports read -------------------------------------------------------------------------

/// `(username, domain, show_reblogs, notify)` of the accounts `account_id` follows, newest
/// follow first.
pub async fn following(
    db: &Db,
    account_id: i64,
) -> sqlx::Result<Vec<(String, Option<String>, bool, bool)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT a.username, a.domain, f.show_reblogs, f.notify FROM follows f JOIN accounts a ON a.id = f.target_account_id \
         WHERE f.account_id = $1 ORDER BY f.id DESC")
        .bind(account_id).fetch_all(c).await)
}

/// `(username, domain)` of the accounts `account_id` blocks.
pub async fn blocking(db: &Db, account_id: i64) -> sqlx::Result<Vec<(String, Option<String>)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT a.username, a.domain FROM blocks b JOIN accounts a ON a.id = b.target_account_id \
         WHERE b.account_id = $1 ORDER BY b.id DESC")
        .bind(account_id).fetch_all(c).await)
}

/// `(username, domain, hide_notifications)` of the accounts `account_id` mutes.
pub async fn muting(db: &Db, account_id: i64) -> sqlx::Result<Vec<(String, Option<String>, bool)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT a.username, a.domain, m.hide_notifications FROM mutes m JOIN accounts a ON a.id = m.target_account_id \
         WHERE m.account_id = $1 ORDER BY m.id DESC")
        .bind(account_id).fetch_all(c).await)
}

/// The servers `account_id` blocks.
pub async fn blocked_domains(db: &Db, account_id: i64) -> sqlx::Result<Vec<String>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT domain FROM user_domain_blocks WHERE account_id = $1 ORDER BY id")
        .bind(account_id).fetch_all(c).await)
}

/// URIs of the statuses `account_id` bookmarked, newest bookmark first.
pub async fn bookmarked_uris(db: &Db, account_id: i64) -> sqlx::Result<Vec<String>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT s.uri FROM bookmarks b JOIN statuses s ON s.id = b.status_id \
         WHERE b.account_id = $1 ORDER BY b.id DESC")
        .bind(account_id).fetch_all(c).await)
}

/// `(list title, username, domain)` of `account_id`'s lists' members, list by list.
pub async fn list_members(
    db: &Db,
    account_id: i64,
) -> sqlx::Result<Vec<(String, String, Option<String>)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT l.title, a.username, a.domain FROM lists l JOIN list_accounts la ON la.list_id = l.id \
         JOIN accounts a ON a.id = la.account_id WHERE l.account_id = $1 ORDER BY l.id, a.id")
        .bind(account_id).fetch_all(c).await)
}

// --- What an overwrite removes -----------------------------------------------------------------

/// What an overwrite compares the file with.
#[derive(Clone, Copy, Debug)]
pub enum Held {
    /// Accounts followed.
    Follows,
    Blocks,
    Mutes,
    /// Statuses bookmarked.
    Bookmarks,
}

/// IDs of what `account_id` holds of `what` (accounts, or statuses for bookmarks).
pub async fn held_ids(db: &Db, account_id: i64, what: Held) -> sqlx::Result<Vec<i64>> {
    let sql = match what {
        Held::Follows => "SELECT target_account_id FROM follows WHERE account_id = $1",
        Held::Blocks => "SELECT target_account_id FROM blocks WHERE account_id = $1",
        Held::Mutes => "SELECT target_account_id FROM mutes WHERE account_id = $1",
        Held::Bookmarks => "SELECT status_id FROM bookmarks WHERE account_id = $1",
    };
    on_db!(db, c => sqlx::query_scalar(sql).bind(account_id).fetch_all(c).await)
}

/// Deletes `account_id`'s lists whose title is not in `keep`, and empties the others (a lists
/// overwrite, as Mastodon's).
pub async fn reset_lists(db: &Db, account_id: i64, keep: &[String]) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let lists: Vec<(i64, String)> = on_db!(tx, c => sqlx::query_as(
        "SELECT id, title FROM lists WHERE account_id = $1").bind(account_id).fetch_all(&mut *c).await)?;
    for (id, title) in lists {
        let sql = if keep.contains(&title) {
            "DELETE FROM list_accounts WHERE list_id = $1"
        } else {
            "DELETE FROM lists WHERE id = $1"
        };
        on_db!(tx, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(|_| ()))?;
    }
    tx.commit().await
}
