//! Custom emojis (`custom_emojis` table).

use chrono::{DateTime, Utc};

use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::Db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EmojiRow {
    pub id: i64,
    pub shortcode: String,
    pub domain: Option<String>,
    pub image_path: String,
    pub content_type: String,
    pub category: Option<String>,
    pub visible_in_picker: bool,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, shortcode, domain, image_path, content_type, category, visible_in_picker, created_at";

pub struct NewEmoji<'a> {
    pub id: i64,
    pub shortcode: &'a str,
    pub image_path: &'a str,
    pub content_type: &'a str,
    pub category: Option<&'a str>,
}

/// Errors: unique violation when a local emoji already has this shortcode.
pub async fn insert_local(db: &Db, e: &NewEmoji<'_>) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO custom_emojis (id, shortcode, domain, image_path, content_type, category, \
         visible_in_picker, created_at) VALUES ($1, $2, NULL, $3, $4, $5, $6, $7)")
        .bind(e.id).bind(e.shortcode).bind(e.image_path).bind(e.content_type).bind(e.category)
        .bind(true).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// This instance's own emojis, by shortcode.
pub async fn list_local(db: &Db) -> sqlx::Result<Vec<EmojiRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM custom_emojis WHERE domain IS NULL ORDER BY shortcode");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).fetch_all(c).await)
}

/// Deletes a local emoji and returns its row (so the caller can remove the file).
pub async fn delete_local(db: &Db, shortcode: &str) -> sqlx::Result<Option<EmojiRow>> {
    let sql = format!(
        "DELETE FROM custom_emojis WHERE shortcode = $1 AND domain IS NULL RETURNING {COLUMNS}"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(shortcode).fetch_optional(c).await)
}
