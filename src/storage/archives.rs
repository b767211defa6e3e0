//! Archives of accounts' data (migration 0035, `account_archives`), and the pages of an account's
//! data an archive reads.

use chrono::{DateTime, Utc};

use crate::on_db;
use crate::storage::db::Db;
use crate::storage::statuses::{COLUMNS, StatusRow};

/// An archive (`account_archives`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ArchiveRow {
    pub id: i64,
    pub account_id: i64,
    /// `scheduled`, `building`, `ready`, `failed` or `expired`.
    pub state: String,
    /// Its key in the media store, once built.
    pub file_key: Option<String>,
    /// Bytes.
    pub size: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

const ARCHIVE_COLUMNS: &str =
    "id, account_id, state, file_key, size, error, created_at, ready_at, expires_at";

pub async fn insert(tx: &mut crate::storage::Tx, a: &ArchiveRow) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO account_archives (id, account_id, state, created_at) VALUES ($1, $2, $3, $4)")
        .bind(a.id).bind(a.account_id).bind(&a.state).bind(a.created_at)
        .execute(&mut *c).await.map(|_| ()))
}

/// An archive by ID alone (for the job).
pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<ArchiveRow>> {
    let sql = format!("SELECT {ARCHIVE_COLUMNS} FROM account_archives WHERE id = $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// `account_id`'s archives, newest first (at most `limit`).
pub async fn of_account(db: &Db, account_id: i64, limit: i64) -> sqlx::Result<Vec<ArchiveRow>> {
    let sql = format!(
        "SELECT {ARCHIVE_COLUMNS} FROM account_archives WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
    );
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(account_id).bind(limit).fetch_all(c).await)
}

/// Records the archive's state; with `file`, its key and size (and `ready_at`/`expires_at`).
pub async fn set_state(
    db: &Db,
    id: i64,
    state: &str,
    file: Option<(&str, i64, DateTime<Utc>)>,
    error: Option<&str>,
) -> sqlx::Result<()> {
    let (key, size, expires) = match file {
        Some((k, s, e)) => (Some(k), Some(s), Some(e)),
        None => (None, None, None),
    };
    let ready = file.map(|_| Utc::now());
    on_db!(db, c => sqlx::query(
        "UPDATE account_archives SET state = $2, file_key = coalesce($3, file_key), size = coalesce($4, size), \
         ready_at = coalesce($5, ready_at), expires_at = coalesce($6, expires_at), error = $7 WHERE id = $1")
        .bind(id).bind(state).bind(key).bind(size).bind(ready).bind(expires).bind(error)
        .execute(c).await.map(|_| ()))
}

/// The next `limit` statuses of `account_id` after `after`, oldest first.
pub async fn statuses_after(
    db: &Db,
    account_id: i64,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<StatusRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM statuses s WHERE s.account_id = $1 AND s.id > $2 ORDER BY s.id LIMIT $3"
    );
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(account_id).bind(after).bind(limit).fetch_all(c).await)
}

/// How many statuses `account_id` has.
pub async fn status_count(db: &Db, account_id: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar("SELECT COUNT(*) FROM statuses WHERE account_id = $1")
        .bind(account_id).fetch_one(c).await)
}

/// `(id, status URI)` of the next `limit` favourites (`table` `favourites`) or bookmarks
/// (`bookmarks`) of `account_id` after `after`, oldest first.
pub async fn acted_after(
    db: &Db,
    table: &str,
    account_id: i64,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<(i64, String)>> {
    let table = if table == "favourites" {
        "favourites"
    } else {
        "bookmarks"
    };
    let sql = format!(
        "SELECT x.id, s.uri FROM {table} x JOIN statuses s ON s.id = x.status_id \
         WHERE x.account_id = $1 AND x.id > $2 ORDER BY x.id LIMIT $3"
    );
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(account_id).bind(after).bind(limit).fetch_all(c).await)
}
