//! Rate-limit state shared by nodes (migration 0036, `rate_limits`): the generic cell rate
//! algorithm (GCRA), one row per budget holding its theoretical arrival time (`tat_ms`, Unix
//! milliseconds).

use crate::on_db;
use crate::storage::db::Db;

/// Takes one action for `key` at `now_ms` from a budget that refills one action per
/// `interval_ms` and allows a burst reaching `tolerance_ms` ahead, in one statement. Returns
/// `Ok(tat_ms)` (the budget's new theoretical arrival time) when allowed, or `Err(wait_ms)`: how
/// many milliseconds until the next action would be.
pub async fn take(
    db: &Db,
    key: &str,
    now_ms: i64,
    interval_ms: i64,
    tolerance_ms: i64,
) -> sqlx::Result<Result<i64, i64>> {
    let taken: Option<i64> = on_db!(db, c => sqlx::query_scalar(
        "INSERT INTO rate_limits (key, tat_ms) VALUES ($1, $2 + $3) \
         ON CONFLICT (key) DO UPDATE SET tat_ms = \
           (CASE WHEN rate_limits.tat_ms > $2 THEN rate_limits.tat_ms ELSE $2 END) + $3 \
         WHERE (CASE WHEN rate_limits.tat_ms > $2 THEN rate_limits.tat_ms ELSE $2 END) - $2 <= $4 \
         RETURNING tat_ms")
        .bind(key).bind(now_ms).bind(interval_ms).bind(tolerance_ms)
        .fetch_optional(c).await)?;
    if let Some(tat) = taken {
        return Ok(Ok(tat));
    }
    let tat: Option<i64> = on_db!(db, c => sqlx::query_scalar(
        "SELECT tat_ms FROM rate_limits WHERE key = $1").bind(key).fetch_optional(c).await)?;
    Ok(Err(tat.map_or(interval_ms, |t| {
        (t - now_ms - tolerance_ms).max(1)
    })))
}

/// Adds `n` actions for `key` at `now_ms` that a node already allowed (each `interval_ms` of the
/// budget), without checking the limit. Returns the budget's new theoretical arrival time.
pub async fn add(db: &Db, key: &str, now_ms: i64, interval_ms: i64, n: i64) -> sqlx::Result<i64> {
    let spent = interval_ms.saturating_mul(n);
    on_db!(db, c => sqlx::query_scalar(
        "INSERT INTO rate_limits (key, tat_ms) VALUES ($1, $2 + $3) \
         ON CONFLICT (key) DO UPDATE SET tat_ms = \
           (CASE WHEN rate_limits.tat_ms > $2 THEN rate_limits.tat_ms ELSE $2 END) + $3 \
         RETURNING tat_ms")
        .bind(key).bind(now_ms).bind(spent)
        .fetch_one(c).await)
}

/// Drops keys whose budget has fully recovered.
pub async fn prune(db: &Db, now_ms: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM rate_limits WHERE tat_ms < $1")
        .bind(now_ms).execute(c).await.map(|_| ()))
}
