//! Shorts: the feeds of vertical videos and their views.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::db::{Db, Tx};
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

use super::*;

/// Shorts by `viewer` and the accounts it follows that it may see, newest first (the `following`
/// shorts feed).
pub async fn following_shorts(db: &Db, viewer: i64, page: &Page) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let from_where = format!(
        "statuses s WHERE {IS_SHORT} AND s.reblog_of_id IS NULL \
         AND (s.account_id = {v} OR s.account_id IN \
             (SELECT target_account_id FROM follows WHERE account_id = {v})) \
         AND {vis} AND {f}",
        vis = visible_to("s", &v),
        f = not_filtered("s.account_id", &v, &now),
    );
    page_query(db, from_where, "s.id", args, page).await
}

/// What the `for_you` ranking reads of a public short.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ShortStats {
    pub id: i64,
    pub account_id: i64,
    pub favourites_count: i64,
    pub reblogs_count: i64,
    pub replies_count: i64,
    pub completed_views_count: i64,
    pub created_at: DateTime<Utc>,
}

/// Public shorts (not replies to others, not boosts) with IDs above `after_id`, newest first, at
/// most `limit`.
pub async fn recent_public_shorts(
    db: &Db,
    after_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<ShortStats>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT s.id, s.account_id, s.favourites_count, s.reblogs_count, s.replies_count, \
         s.completed_views_count, s.created_at FROM statuses s \
         WHERE s.short AND s.id > $1 AND s.visibility = 'public' AND s.reblog_of_id IS NULL \
         AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id) \
         ORDER BY s.id DESC LIMIT $2")
        .bind(after_id).bind(limit).fetch_all(c).await)
}

/// The IDs among `ids` that `viewer` may see in a public feed (authors not blocked, muted or
/// limited for it), in no particular order.
pub async fn visible_in_feed(db: &Db, viewer: i64, ids: &[i64]) -> sqlx::Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let list = args.ids(ids);
    let sql = format!(
        "SELECT s.id FROM statuses s WHERE s.id IN ({list}) AND {f} AND {l}",
        f = not_filtered("s.account_id", &v, &now),
        l = not_limited("s.account_id", &v),
    );
    on_db!(db, c => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Records that `viewer` watched short `status_id` for `watched_seconds` on `day` (UTC,
/// `YYYY-MM-DD`). The first view of the day counts in `views_count`; the first that reached the
/// end counts in `completed_views_count`. Returns true when a view was counted.
pub async fn record_view(
    tx: &mut Tx,
    status_id: i64,
    viewer: i64,
    day: &str,
    watched_seconds: f64,
    completed: bool,
) -> sqlx::Result<bool> {
    let new = on_db!(tx, c => sqlx::query(
        "INSERT INTO short_views (status_id, account_id, day, watched_seconds, completed) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
        .bind(status_id).bind(viewer).bind(day).bind(watched_seconds).bind(completed)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?
        == 1;
    // A later view the same day that reaches the end upgrades the day's view.
    let upgraded = !new
        && completed
        && on_db!(tx, c => sqlx::query(
            "UPDATE short_views SET completed = TRUE, watched_seconds = $4 \
             WHERE status_id = $1 AND account_id = $2 AND day = $3 AND NOT completed")
            .bind(status_id).bind(viewer).bind(day).bind(watched_seconds)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?
            == 1;
    if new || upgraded {
        on_db!(tx, c => sqlx::query(
            "UPDATE statuses SET views_count = views_count + $2, \
             completed_views_count = completed_views_count + $3 WHERE id = $1")
            .bind(status_id).bind(i64::from(new)).bind(i64::from(completed))
            .execute(&mut *c).await.map(|_| ()))?;
        tx.changes_key(crate::storage::changes::Kind::Statuses, status_id);
    }
    Ok(new)
}
