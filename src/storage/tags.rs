//! Hashtags: lookup, usage history, follows.

use chrono::{DateTime, Utc};

use crate::on_db;
use crate::storage::db::Db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TagRow {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

pub async fn find_by_name(db: &Db, name: &str) -> sqlx::Result<Option<TagRow>> {
    on_db!(db, c => sqlx::query_as("SELECT id, name, display_name, created_at FROM tags WHERE name = $1")
        .bind(name.to_lowercase()).fetch_optional(c).await)
}

/// Creates the tag if needed (following a tag nobody has used yet is allowed).
pub async fn find_or_create(db: &Db, name: &str) -> sqlx::Result<TagRow> {
    on_db!(db, c => sqlx::query("INSERT INTO tags (id, name, display_name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
        .bind(crate::storage::ids::new_id()).bind(name.to_lowercase()).bind(name).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    find_by_name(db, name)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// `(status id, account id)` of public statuses with the tag since `since_id` (a time-ordered
/// ID), for the per-day usage history.
pub async fn history(db: &Db, tag_id: i64, since_id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    // (status id, account id) pairs; bucketed by day in Rust so the SQL stays portable.
    on_db!(db, c => sqlx::query_as(
        "SELECT s.id, s.account_id FROM statuses_tags st JOIN statuses s ON s.id = st.status_id \
         WHERE st.tag_id = $1 AND st.status_id >= $2 AND s.visibility = 'public'")
        .bind(tag_id).bind(since_id).fetch_all(c).await)
}

pub async fn is_followed(db: &Db, account_id: i64, tag_id: i64) -> sqlx::Result<bool> {
    let n: i64 = on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM tag_follows WHERE account_id = $1 AND tag_id = $2")
        .bind(account_id).bind(tag_id).fetch_one(c).await)?;
    Ok(n > 0)
}

/// Whether `account_id` features the tag on its profile.
pub async fn is_featured(db: &Db, account_id: i64, tag_id: i64) -> sqlx::Result<bool> {
    let n: i64 = on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM featured_tags WHERE account_id = $1 AND tag_id = $2")
        .bind(account_id).bind(tag_id).fetch_one(c).await)?;
    Ok(n > 0)
}

pub async fn set_followed(db: &Db, account_id: i64, tag_id: i64, follow: bool) -> sqlx::Result<()> {
    on_db!(db, c => {
        if follow {
            sqlx::query("INSERT INTO tag_follows (account_id, tag_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(account_id).bind(tag_id).bind(Utc::now()).execute(c).await?;
        } else {
            sqlx::query("DELETE FROM tag_follows WHERE account_id = $1 AND tag_id = $2")
                .bind(account_id).bind(tag_id).execute(c).await?;
        }
    });
    Ok(())
}

/// Tags `account_id` follows, by name.
pub async fn followed(db: &Db, account_id: i64) -> sqlx::Result<Vec<TagRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT t.id, t.name, t.display_name, t.created_at FROM tag_follows tf JOIN tags t ON t.id = tf.tag_id \
         WHERE tf.account_id = $1 ORDER BY t.name")
        .bind(account_id).fetch_all(c).await)
}

/// Tags whose name starts with `prefix` (case-insensitive), most used first.
pub async fn search_prefix(
    db: &Db,
    prefix: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<TagRow>> {
    let escaped = prefix
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    on_db!(db, c => sqlx::query_as(
        "SELECT t.id, t.name, t.display_name, t.created_at FROM tags t WHERE t.name LIKE $1 ESCAPE '\\' \
         ORDER BY (SELECT count(*) FROM statuses_tags st WHERE st.tag_id = t.id) DESC, t.name LIMIT $2 OFFSET $3")
        .bind(format!("{escaped}%")).bind(limit).bind(offset).fetch_all(c).await)
}

/// Tags of public posts since `since_id` (a time-ordered ID), by distinct accounts then uses.
pub async fn trending(
    db: &Db,
    since_id: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<TagRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT t.id, t.name, t.display_name, t.created_at FROM tags t JOIN ( \
           SELECT st.tag_id, count(DISTINCT s.account_id) AS accounts, count(*) AS uses \
           FROM statuses_tags st JOIN statuses s ON s.id = st.status_id \
           WHERE st.status_id >= $1 AND s.visibility = 'public' GROUP BY st.tag_id) u ON u.tag_id = t.id \
         ORDER BY u.accounts DESC, u.uses DESC, t.name LIMIT $2 OFFSET $3")
        .bind(since_id).bind(limit).bind(offset).fetch_all(c).await)
}
