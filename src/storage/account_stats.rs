//! Account counters (`account_stats`): statuses, following and followers, and the time of the
//! latest status. Writers adjust them in the same transaction as the change they count.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::db::Tx;
use crate::storage::sql::Args;
use crate::{bind_args, on_db};

#[derive(Clone, Copy, Debug)]
pub enum Stat {
    Statuses,
    Following,
    Followers,
}

/// Adds `delta` to a counter (never below zero), creating the row when needed.
pub async fn adjust(tx: &mut Tx, account_id: i64, stat: Stat, delta: i64) -> sqlx::Result<()> {
    // Counters are part of the accounts cache (`service::render`).
    tx.changes_key(crate::storage::changes::Kind::Accounts, account_id);
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

/// Records new statuses, `(account_id, created_at)` each: counts them, and the latest one's time
/// becomes the account's `last_status_at`.
pub async fn statuses_posted(tx: &mut Tx, posted: &[(i64, DateTime<Utc>)]) -> sqlx::Result<()> {
    for &(account, _) in posted {
        tx.changes_key(crate::storage::changes::Kind::Accounts, account);
    }
    // One row per account: PostgreSQL refuses to update a row twice in one statement.
    let mut per_account: Vec<(i64, i64, DateTime<Utc>)> = Vec::new();
    for &(account, at) in posted {
        match per_account.iter_mut().find(|(a, ..)| *a == account) {
            Some((_, n, last)) => {
                *n += 1;
                *last = (*last).max(at);
            }
            None => per_account.push((account, 1, at)),
        }
    }
    if per_account.is_empty() {
        return Ok(());
    }
    // Rows locked in one order by every batch, so two PostgreSQL batches cannot deadlock here.
    per_account.sort_unstable_by_key(|&(a, ..)| a);
    let mut args = Args::default();
    let values: Vec<String> = per_account
        .iter()
        .map(|&(a, n, at)| format!("({}, {}, {})", args.add(a), args.add(n), args.add(at)))
        .collect();
    let sql = format!(
        "INSERT INTO account_stats (account_id, statuses_count, last_status_at) VALUES {} \
         ON CONFLICT (account_id) DO UPDATE SET \
         statuses_count = account_stats.statuses_count + excluded.statuses_count, \
         last_status_at = excluded.last_status_at",
        values.join(", ")
    );
    on_db!(tx, c => bind_args!(sqlx::query(AssertSqlSafe(sql.as_str())), args)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
