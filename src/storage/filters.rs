//! Filters with their keywords and statuses (`filters`, `filter_keywords`, `filter_statuses`).

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::on_db;
use crate::storage::db::{Db, Tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FilterRow {
    pub id: i64,
    pub account_id: i64,
    pub title: String,
    /// `home`, `notifications`, `public`, `thread`, `account`.
    pub context: Json<Vec<String>>,
    /// `warn` or `hide`.
    pub filter_action: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KeywordRow {
    pub id: i64,
    pub filter_id: i64,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FilterStatusRow {
    pub id: i64,
    pub filter_id: i64,
    pub status_id: i64,
}

/// A filter with everything it matches.
#[derive(Clone, Debug)]
pub struct FullFilter {
    pub filter: FilterRow,
    pub keywords: Vec<KeywordRow>,
    pub statuses: Vec<FilterStatusRow>,
}

const FILTER_COLUMNS: &str =
    "id, account_id, title, context, filter_action, expires_at, created_at";

/// All of `account`'s filters (expired ones too), oldest first. Three queries.
pub async fn of_account(db: &Db, account: i64) -> sqlx::Result<Vec<FullFilter>> {
    let sql = format!("SELECT {FILTER_COLUMNS} FROM filters WHERE account_id = $1 ORDER BY id");
    let filters: Vec<FilterRow> = on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(account).fetch_all(c).await)?;
    if filters.is_empty() {
        return Ok(Vec::new());
    }
    let keywords: Vec<KeywordRow> = on_db!(db, c => sqlx::query_as(
        "SELECT k.id, k.filter_id, k.keyword, k.whole_word FROM filter_keywords k \
         JOIN filters f ON f.id = k.filter_id WHERE f.account_id = $1 ORDER BY k.id")
        .bind(account).fetch_all(c).await)?;
    let statuses: Vec<FilterStatusRow> = on_db!(db, c => sqlx::query_as(
        "SELECT s.id, s.filter_id, s.status_id FROM filter_statuses s \
         JOIN filters f ON f.id = s.filter_id WHERE f.account_id = $1 ORDER BY s.id")
        .bind(account).fetch_all(c).await)?;
    Ok(filters
        .into_iter()
        .map(|f| FullFilter {
            keywords: keywords
                .iter()
                .filter(|k| k.filter_id == f.id)
                .cloned()
                .collect(),
            statuses: statuses
                .iter()
                .filter(|s| s.filter_id == f.id)
                .cloned()
                .collect(),
            filter: f,
        })
        .collect())
}

/// Inserts or replaces a filter's own fields.
pub async fn upsert(tx: &mut Tx, f: &FilterRow) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO filters (id, account_id, title, context, filter_action, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET title = $3, context = $4, \
         filter_action = $5, expires_at = $6")
        .bind(f.id).bind(f.account_id).bind(&f.title).bind(&f.context).bind(&f.filter_action)
        .bind(f.expires_at).bind(f.created_at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: i64) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("DELETE FROM filters WHERE id = $1").bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Inserts or replaces a keyword.
pub async fn upsert_keyword(tx: &mut Tx, k: &KeywordRow) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO filter_keywords (id, filter_id, keyword, whole_word) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET keyword = $3, whole_word = $4")
        .bind(k.id).bind(k.filter_id).bind(&k.keyword).bind(k.whole_word)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_keyword(tx: &mut Tx, id: i64) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("DELETE FROM filter_keywords WHERE id = $1").bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Adds a status to a filter (already there: kept once).
pub async fn insert_status(tx: &mut Tx, s: &FilterStatusRow) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO filter_statuses (id, filter_id, status_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(s.id).bind(s.filter_id).bind(s.status_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_status(tx: &mut Tx, id: i64) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("DELETE FROM filter_statuses WHERE id = $1").bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
