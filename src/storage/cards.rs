//! Preview cards (`preview_cards`) and which status shows which (`statuses.card_id`).

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::db::Db;
use crate::storage::sql::Args;
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CardRow {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub description: String,
    pub image_url: Option<String>,
    pub width: i64,
    pub height: i64,
    pub provider_name: String,
    pub author_name: String,
    pub fetched_at: DateTime<Utc>,
}

const COLUMNS: &str = "c.id, c.url, c.title, c.description, c.image_url, c.width, c.height, \
    c.provider_name, c.author_name, c.fetched_at";

pub async fn find_by_url(db: &Db, url: &str) -> sqlx::Result<Option<CardRow>> {
    let sql = format!("SELECT {COLUMNS} FROM preview_cards c WHERE c.url = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(url).fetch_optional(c).await)
}

pub async fn find_many(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<CardRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.ids(ids);
    let sql = format!("SELECT {COLUMNS} FROM preview_cards c WHERE c.id IN ({list})");
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Stores a card for its URL (replacing an older one) and returns its ID.
pub async fn upsert(db: &Db, card: &CardRow) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "INSERT INTO preview_cards (id, url, title, description, image_url, width, height, \
         provider_name, author_name, fetched_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (url) DO UPDATE SET title = $3, description = $4, image_url = $5, width = $6, \
         height = $7, provider_name = $8, author_name = $9, fetched_at = $10 RETURNING id")
        .bind(card.id).bind(&card.url).bind(&card.title).bind(&card.description)
        .bind(&card.image_url).bind(card.width).bind(card.height).bind(&card.provider_name)
        .bind(&card.author_name).bind(card.fetched_at).fetch_one(c).await)
    .inspect(|id| crate::storage::changes::changed_key(crate::storage::changes::Kind::Cards, *id))
}

/// Gives a status its card.
pub async fn attach(db: &Db, status_id: i64, card_id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE statuses SET card_id = $2 WHERE id = $1")
        .bind(status_id).bind(card_id).execute(c).await.map(|r| r.rows_affected()))?;
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Statuses, status_id);
    Ok(())
}

/// Cards of public posts since `since_id` (time-ordered), by distinct accounts then uses:
/// `(card, uses, accounts)`.
pub async fn trending(
    db: &Db,
    since_id: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<(i64, i64, i64)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT s.card_id, count(*) AS uses, count(DISTINCT s.account_id) AS accounts FROM statuses s \
         WHERE s.card_id IS NOT NULL AND s.id >= $1 AND s.visibility = 'public' AND s.reblog_of_id IS NULL \
         GROUP BY s.card_id ORDER BY accounts DESC, uses DESC, s.card_id DESC LIMIT $2 OFFSET $3")
        .bind(since_id).bind(limit).bind(offset).fetch_all(c).await)
}

/// `(status id, account id)` of public posts with card `card_id` since `since_id`, for history.
pub async fn uses(db: &Db, card_id: i64, since_id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT s.id, s.account_id FROM statuses s WHERE s.card_id = $1 AND s.id >= $2 \
         AND s.visibility = 'public' AND s.reblog_of_id IS NULL")
        .bind(card_id).bind(since_id).fetch_all(c).await)
}
