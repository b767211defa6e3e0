//! Single-use tokens mailed to users (`user_tokens`): e-mail confirmation and password reset.

use chrono::{DateTime, Utc};

use crate::on_db;
use crate::storage::db::{Db, Tx};

/// Stores the hash of a new token for `user_id`.
pub async fn insert(
    tx: &mut Tx,
    token_hash: &str,
    user_id: i64,
    purpose: &str,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash).bind(user_id).bind(purpose).bind(expires_at).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Uses a token: the user it belongs to when it exists for `purpose`, has not expired and was
/// not used before (it is marked used in the same statement, so two uses race to one winner).
pub async fn consume(tx: &mut Tx, token_hash: &str, purpose: &str) -> sqlx::Result<Option<i64>> {
    let now = Utc::now();
    on_db!(tx, c => sqlx::query_scalar(
        "UPDATE user_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3 RETURNING user_id")
        .bind(token_hash).bind(purpose).bind(now).fetch_optional(c).await)
}

/// The user of a live token (unused, unexpired) without using it up.
pub async fn find_valid(db: &Db, token_hash: &str, purpose: &str) -> sqlx::Result<Option<i64>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT user_id FROM user_tokens WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3")
        .bind(token_hash).bind(purpose).bind(Utc::now()).fetch_optional(c).await)
}

/// Confirms a user's address now: a waiting new address (`unconfirmed_email`) replaces the old.
pub async fn confirm_email(tx: &mut Tx, user_id: i64) -> sqlx::Result<()> {
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    on_db!(tx, c => sqlx::query(
        "UPDATE users SET email = COALESCE(unconfirmed_email, email), unconfirmed_email = NULL, \
         confirmed_at = COALESCE(confirmed_at, $2) WHERE id = $1")
        .bind(user_id).bind(Utc::now()).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A new address for a user: waiting for confirmation (`pending`) or in place at once.
pub async fn set_email(tx: &mut Tx, user_id: i64, email: &str, pending: bool) -> sqlx::Result<()> {
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    let sql = if pending {
        "UPDATE users SET unconfirmed_email = $2, updated_at = $3 WHERE id = $1"
    } else {
        "UPDATE users SET email = $2, unconfirmed_email = NULL, updated_at = $3 WHERE id = $1"
    };
    on_db!(tx, c => sqlx::query(sql).bind(user_id).bind(email).bind(Utc::now())
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// How many tokens of `purpose` were made for `user_id` since `since` (to limit resends).
pub async fn count_since(
    db: &Db,
    user_id: i64,
    purpose: &str,
    since: DateTime<Utc>,
) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM user_tokens WHERE user_id = $1 AND purpose = $2 AND created_at > $3")
        .bind(user_id).bind(purpose).bind(since).fetch_one(c).await)
}

/// Replaces a user's password hash.
pub async fn set_password(tx: &mut Tx, user_id: i64, password_hash: &str) -> sqlx::Result<()> {
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    on_db!(tx, c => sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id).bind(password_hash).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
