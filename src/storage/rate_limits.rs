//! Rate-limit state shared by nodes (migration 0036, `rate_limits`): the generic cell rate
//! algorithm (GCRA) in one statement.

use crate::on_db;
use crate::storage::db::Db;

/// Takes one action for `key` at `now_ms` from a budget that refills one action per
/// `interval_ms` and allows a burst reaching `tolerance_ms` ahead. Returns `None` when allowed,
/// or how many milliseconds until the next action would be.
pub async fn take(
    db: &Db,
    key: &str,
    now_ms: i64,
    interval_ms: i64,
    tolerance_ms: i64,
) -> sqlx::Result<Option<i64>> {
    let taken: Option<i64> = on_db!(db, c => sqlx::query_scalar(
        "INSERT INTO rate_limits (key, tat_ms) VALUES ($1, $2 + $3) \
         ON CONFLICT (key) DO UPDATE SET tat_ms = \
           (CASE WHEN rate_limits.tat_ms > $2 THEN rate_limits.tat_ms ELSE $2 END) + $3 \
         WHERE (CASE WHEN rate_limits.tat_ms > $2 THEN rate_limits.tat_ms ELSE $2 END) - $2 <= $4 \
         RETURNING tat_ms")
        .bind(key).bind(now_ms).bind(interval_ms).bind(tolerance_ms)
        .fetch_optional(c).await)?;
    if taken.is_some() {
        return Ok(None);
    }
    let tat: Option<i64> = on_db!(db, c => sqlx::query_scalar(
        "SELECT tat_ms FROM rate_limits WHERE key = $1").bind(key).fetch_optional(c).await)?;
    Ok(Some(tat.map_or(interval_ms, |t| {
        (t - now_ms - tolerance_ms).max(1)
    })))
}

/// Drops keys whose budget has fully recovered.
pub async fn prune(db: &Db, now_ms: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM rate_limits WHERE tat_ms < $1")
        .bind(now_ms).execute(c).await.map(|_| ()))
}
