//! Announcements with their per-user reads and reactions.

use chrono::{DateTime, Utc};

use crate::on_db;
use crate::storage::db::Db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AnnouncementRow {
    pub id: i64,
    pub text: String,
    /// HTML.
    pub content: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub all_day: bool,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "a.id, a.text, a.content, a.starts_at, a.ends_at, a.all_day, a.published_at, a.updated_at";

pub async fn insert(db: &Db, a: &AnnouncementRow) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO announcements (id, text, content, starts_at, ends_at, all_day, published_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(a.id).bind(&a.text).bind(&a.content).bind(a.starts_at).bind(a.ends_at).bind(a.all_day)
        .bind(a.published_at).bind(a.updated_at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// True when there was one.
pub async fn delete(db: &Db, id: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query("DELETE FROM announcements WHERE id = $1").bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Announcements that have not ended by `now`, oldest first; each with whether `reader` dismissed
/// it. With `with_dismissed = false`, dismissed ones are left out.
pub async fn current(
    db: &Db,
    reader: i64,
    now: DateTime<Utc>,
    with_dismissed: bool,
) -> sqlx::Result<Vec<(AnnouncementRow, bool)>> {
    let sql = format!(
        "SELECT {COLUMNS}, EXISTS (SELECT 1 FROM announcement_reads r \
           WHERE r.announcement_id = a.id AND r.account_id = $1) AS read \
         FROM announcements a WHERE (a.ends_at IS NULL OR a.ends_at > $2) ORDER BY a.id"
    );
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        a: AnnouncementRow,
        read: bool,
    }
    let rows: Vec<Row> = on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(reader).bind(now).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .filter(|r| with_dismissed || !r.read)
        .map(|r| (r.a, r.read))
        .collect())
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<AnnouncementRow>> {
    let sql = format!("SELECT {COLUMNS} FROM announcements a WHERE a.id = $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

pub async fn mark_read(db: &Db, id: i64, account: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO announcement_reads (announcement_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(id).bind(account).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Adds (`on`) or removes a reaction; true when that changed something.
pub async fn react(db: &Db, id: i64, account: i64, name: &str, on: bool) -> sqlx::Result<bool> {
    let n = on_db!(db, c => if on {
        sqlx::query(
            "INSERT INTO announcement_reactions (announcement_id, account_id, name, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(id).bind(account).bind(name).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected())
    } else {
        sqlx::query("DELETE FROM announcement_reactions WHERE announcement_id = $1 AND account_id = $2 AND name = $3")
            .bind(id).bind(account).bind(name).execute(c).await.map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// Reactions to these announcements: `(announcement, name, count, reacted by reader)`, in the order
/// each name was first used.
pub async fn reactions(
    db: &Db,
    ids: &[i64],
    reader: i64,
) -> sqlx::Result<Vec<(i64, String, i64, bool)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = crate::storage::sql::Args::default();
    let r = args.add(reader);
    let list = args.ids(ids);
    let sql = format!(
        "SELECT announcement_id, name, count(*) AS n, \
           max(CASE WHEN account_id = {r} THEN 1 ELSE 0 END) = 1 AS me \
         FROM announcement_reactions WHERE announcement_id IN ({list}) \
         GROUP BY announcement_id, name ORDER BY min(created_at)"
    );
    on_db!(db, c => crate::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}
