//! Stories, who saw them, and the expiry sweep. Every read of live stories takes `now` and skips
//! those past `expires_at`, so an expired story is never shown even when the sweep is late.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::{Db, Tx};
use crate::storage::sql::Args;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoryRow {
    pub id: i64,
    pub account_id: i64,
    /// ActivityPub id.
    pub uri: String,
    pub media_id: i64,
    /// Seconds shown.
    pub duration: i64,
    pub can_reply: bool,
    pub can_react: bool,
    /// Local stories: the bearer capability followers' servers fetch it with.
    pub bearer_token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const COLUMNS: &str = "s.id, s.account_id, s.uri, s.media_id, s.duration, s.can_reply, s.can_react, \
    s.bearer_token, s.created_at, s.expires_at";

pub async fn insert(tx: &mut Tx, s: &StoryRow) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO stories (id, account_id, uri, media_id, duration, can_reply, can_react, \
         bearer_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(s.id).bind(s.account_id).bind(&s.uri).bind(s.media_id).bind(s.duration)
        .bind(s.can_reply).bind(s.can_react).bind(&s.bearer_token).bind(s.created_at)
        .bind(s.expires_at)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

/// A story that has not expired at `now`.
pub async fn find_live(db: &Db, id: i64, now: DateTime<Utc>) -> sqlx::Result<Option<StoryRow>> {
    let sql = format!("SELECT {COLUMNS} FROM stories s WHERE s.id = $1 AND s.expires_at > $2");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).bind(now).fetch_optional(c).await)
}

/// A story by its ActivityPub id, expired or not.
pub async fn find_by_uri(db: &Db, uri: &str) -> sqlx::Result<Option<StoryRow>> {
    let sql = format!("SELECT {COLUMNS} FROM stories s WHERE s.uri = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(uri).fetch_optional(c).await)
}

/// Live stories of `account_id`, oldest first.
pub async fn of_account(
    db: &Db,
    account_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<StoryRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM stories s WHERE s.account_id = $1 AND s.expires_at > $2 ORDER BY s.id"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(account_id).bind(now).fetch_all(c).await)
}

/// Live stories of `viewer` and of the accounts `viewer` follows, by account then oldest first.
pub async fn tray(db: &Db, viewer: i64, now: DateTime<Utc>) -> sqlx::Result<Vec<StoryRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM stories s WHERE s.expires_at > $2 AND (s.account_id = $1 OR \
         s.account_id IN (SELECT target_account_id FROM follows WHERE account_id = $1)) \
         ORDER BY s.account_id, s.id"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(viewer).bind(now).fetch_all(c).await)
}

/// Which of `story_ids` `viewer` has seen.
pub async fn seen_among(db: &Db, viewer: i64, story_ids: &[i64]) -> sqlx::Result<Vec<i64>> {
    if story_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let v = args.add(viewer);
    let list = args.ids(story_ids);
    let sql =
        format!("SELECT story_id FROM story_views WHERE account_id = {v} AND story_id IN ({list})");
    on_db!(db, c => crate::bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Records that `account_id` saw `story_id`; true the first time.
pub async fn mark_seen(
    db: &Db,
    story_id: i64,
    account_id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "INSERT INTO story_views (story_id, account_id, viewed_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING")
        .bind(story_id).bind(account_id).bind(at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Who saw `story_id`, latest first: `(account_id, viewed_at)`.
pub async fn viewers(db: &Db, story_id: i64) -> sqlx::Result<Vec<(i64, DateTime<Utc>)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT account_id, viewed_at FROM story_views WHERE story_id = $1 ORDER BY viewed_at DESC")
        .bind(story_id).fetch_all(c).await)
}

pub async fn delete(tx: &mut Tx, id: i64) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("DELETE FROM stories WHERE id = $1").bind(id)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Stories expired at `now`, soonest first.
pub async fn expired(db: &Db, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<StoryRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM stories s WHERE s.expires_at <= $1 ORDER BY s.expires_at LIMIT $2"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(now).bind(limit).fetch_all(c).await)
}

/// True when a media row is shown by a story (so the upload cleanup leaves it alone).
pub async fn uses_media(db: &Db, media_id: i64) -> sqlx::Result<bool> {
    let n: i64 = on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM stories WHERE media_id = $1").bind(media_id).fetch_one(c).await)?;
    Ok(n > 0)
}
