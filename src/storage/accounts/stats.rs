//! Counts for the instance documents and the activity API.

use chrono::{DateTime, Utc};

use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::Db;

use super::*;

/// Local users who can sign in (approved, not disabled), for instance statistics.
pub async fn count_active_local_users(db: &Db) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE approved = $1 AND disabled = $2")
        .bind(true).bind(false).fetch_one(c).await)
}

/// The first admin's account, shown as the instance contact.
pub async fn first_admin_account(db: &Db) -> sqlx::Result<Option<AccountRow>> {
    let sql = format!(
        "SELECT {cols} FROM accounts a JOIN users u ON u.account_id = a.id \
         WHERE u.role = 'admin' AND u.disabled = $1 ORDER BY u.id LIMIT 1",
        cols = qualified_account_columns()
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(false).fetch_optional(c).await)
}

/// Users who can sign in and did so since `since`.
pub async fn count_users_active_since(db: &Db, since: DateTime<Utc>) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE approved = $1 AND disabled = $2 AND last_sign_in_at >= $3")
        .bind(true).bind(false).bind(since).fetch_one(c).await)
}

/// Between `start` and `end`: local statuses posted (not direct messages), users who signed in (an
/// access token or web session issued), and users who signed up.
pub async fn week_counts(
    db: &Db,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> sqlx::Result<(i64, i64, i64)> {
    on_db!(db, c => sqlx::query_as(
        "SELECT \
           (SELECT count(*) FROM statuses WHERE local AND visibility <> 'direct' \
              AND created_at >= $1 AND created_at < $2), \
           (SELECT count(DISTINCT user_id) FROM (SELECT user_id FROM oauth_access_tokens \
              WHERE user_id IS NOT NULL AND created_at >= $1 AND created_at < $2 \
              UNION SELECT user_id FROM web_sessions WHERE created_at >= $1 AND created_at < $2) AS l), \
           (SELECT count(*) FROM users WHERE created_at >= $1 AND created_at < $2)")
        .bind(start).bind(end).fetch_one(c).await)
}
