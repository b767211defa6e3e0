//! Account counters (`account_stats`): statuses, following and followers, and the time of the
//! latest status. Writers adjust them in the same transaction as the change they count.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::Tx;

#[derive(Clone, Copy, Debug)]
pub enum Stat {
    Statuses,
    Following,
    Followers,
}

/// Adds `delta` to a counter (never below zero), creating the row when needed.
pub async fn adjust(tx: &mut Tx, account_id: i64, stat: Stat, delta: i64) -> sqlx::Result<()> {
    let col = match stat {
        Stat::Statuses => "statuses_count",
        Stat::Following => "following_count",
        Stat::Followers => "followers_count",
    };
    let sql = format!(
        "INSERT INTO account_stats (account_id, {col}) VALUES ($1, CASE WHEN $2 > 0 THEN $2 ELSE 0 END) \
         ON CONFLICT (account_id) DO UPDATE SET {col} = CASE WHEN account_stats.{col} + $2 > 0 \
         THEN account_stats.{col} + $2 ELSE 0 END"
    );
    on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(account_id).bind(delta)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a new status: one more, and the latest at `at`.
pub async fn status_posted(tx: &mut Tx, account_id: i64, at: DateTime<Utc>) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO account_stats (account_id, statuses_count, last_status_at) VALUES ($1, 1, $2) \
         ON CONFLICT (account_id) DO UPDATE SET statuses_count = account_stats.statuses_count + 1, \
         last_status_at = $2")
        .bind(account_id).bind(at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
