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
    /// A remote emoji's ActivityPub `id`.
    pub uri: Option<String>,
    /// Hidden by the operator: not rendered, not listed.
    pub disabled: bool,
    /// Media-store key of a remote emoji's cached image.
    pub cached_key: Option<String>,
}

const COLUMNS: &str = "id, shortcode, domain, image_path, content_type, category, \
    visible_in_picker, created_at, uri, disabled, cached_key";

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

/// This instance's own emojis that are not disabled, by shortcode.
pub async fn list_local(db: &Db) -> sqlx::Result<Vec<EmojiRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM custom_emojis WHERE domain IS NULL AND NOT disabled ORDER BY shortcode"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).fetch_all(c).await)
}

/// Deletes a local emoji and returns its row (so the caller can remove the file).
pub async fn delete_local(db: &Db, shortcode: &str) -> sqlx::Result<Option<EmojiRow>> {
    let sql = format!(
        "DELETE FROM custom_emojis WHERE shortcode = $1 AND domain IS NULL RETURNING {COLUMNS}"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(shortcode).fetch_optional(c).await)
}

/// The enabled emojis of `domain` (`None`: this instance's) with these shortcodes.
pub async fn find_codes(
    db: &Db,
    domain: Option<&str>,
    codes: &[String],
) -> sqlx::Result<Vec<EmojiRow>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = crate::storage::sql::Args::default();
    let d = args.add(domain.unwrap_or(""));
    let list: Vec<String> = codes.iter().map(|c| args.add(c.as_str())).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM custom_emojis WHERE COALESCE(domain, '') = {d} AND NOT disabled \
         AND shortcode IN ({})",
        list.join(", ")
    );
    on_db!(db, c => crate::bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<EmojiRow>> {
    let sql = format!("SELECT {COLUMNS} FROM custom_emojis WHERE id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// The emoji `shortcode` of `domain` (`None`: local), disabled or not.
pub async fn find_one(
    db: &Db,
    shortcode: &str,
    domain: Option<&str>,
) -> sqlx::Result<Option<EmojiRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM custom_emojis WHERE shortcode = $1 AND COALESCE(domain, '') = $2"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(shortcode).bind(domain.unwrap_or(""))
        .fetch_optional(c).await)
}

/// Records a remote emoji as its server describes it (a new image URL drops the cached copy).
pub async fn upsert_remote(
    db: &Db,
    shortcode: &str,
    domain: &str,
    url: &str,
    content_type: &str,
    uri: Option<&str>,
) -> sqlx::Result<()> {
    let now = Utc::now();
    let n = on_db!(db, c => sqlx::query(
        "UPDATE custom_emojis SET image_path = $3, content_type = $4, uri = $5, updated_at = $6, \
         cached_key = CASE WHEN image_path = $3 THEN cached_key ELSE NULL END \
         WHERE shortcode = $1 AND domain = $2")
        .bind(shortcode).bind(domain).bind(url).bind(content_type).bind(uri).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n > 0 {
        return Ok(());
    }
    let inserted = on_db!(db, c => sqlx::query(
        "INSERT INTO custom_emojis (id, shortcode, domain, image_path, content_type, visible_in_picker, \
         created_at, uri, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)")
        .bind(crate::storage::ids::new_id()).bind(shortcode).bind(domain).bind(url).bind(content_type)
        .bind(false).bind(now).bind(uri).execute(c).await.map(|_| ()));
    match inserted {
        // Another delivery stored it meanwhile.
        Err(e) if crate::storage::db::is_unique_violation(&e) => Ok(()),
        other => other,
    }
}

/// Notes the cached copy of a remote emoji's image.
pub async fn set_cached(db: &Db, id: i64, key: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE custom_emojis SET cached_key = $1 WHERE id = $2")
        .bind(key).bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Hides or shows an emoji; false when there is none.
pub async fn set_disabled(db: &Db, id: i64, disabled: bool) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query("UPDATE custom_emojis SET disabled = $1 WHERE id = $2")
        .bind(disabled).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Remote emojis, newest first, at most `limit`.
pub async fn list_remote(db: &Db, limit: i64) -> sqlx::Result<Vec<EmojiRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM custom_emojis WHERE domain IS NOT NULL ORDER BY id DESC LIMIT $1"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(limit).fetch_all(c).await)
}
