//! Two-factor sign-in state of users (`users.otp_*`, `otp_recovery_codes`).

use chrono::Utc;

use crate::on_db;
use crate::storage::db::Db;

/// A user's TOTP state.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct OtpState {
    /// Base32 secret once enrolment is confirmed; two-factor sign-in is on while set.
    pub otp_secret: Option<String>,
    /// The secret being enrolled, until a first code confirms it.
    pub otp_pending_secret: Option<String>,
    /// The last 30-second step a code was accepted for.
    pub otp_last_step: i64,
}

pub async fn state(db: &Db, user_id: i64) -> sqlx::Result<OtpState> {
    let row: Option<OtpState> = on_db!(db, c => sqlx::query_as(
        "SELECT otp_secret, otp_pending_secret, otp_last_step FROM users WHERE id = $1")
        .bind(user_id).fetch_optional(c).await)?;
    Ok(row.unwrap_or_default())
}

/// Whether two-factor sign-in is on for the user.
pub async fn enabled(db: &Db, user_id: i64) -> sqlx::Result<bool> {
    Ok(state(db, user_id).await?.otp_secret.is_some())
}

pub async fn set_pending(db: &Db, user_id: i64, secret: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE users SET otp_pending_secret = $2 WHERE id = $1")
        .bind(user_id).bind(secret).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Turns two-factor sign-in on with the pending secret, replacing the recovery codes with these
/// hashes. `step` is the step of the code that confirmed it (not to be accepted again).
pub async fn enable(db: &Db, user_id: i64, step: i64, code_hashes: &[String]) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    on_db!(tx, c => sqlx::query(
        "UPDATE users SET otp_secret = otp_pending_secret, otp_pending_secret = NULL, \
         otp_last_step = $2 WHERE id = $1 AND otp_pending_secret IS NOT NULL")
        .bind(user_id).bind(step).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    replace_codes_in(&mut tx, user_id, code_hashes).await?;
    tx.commit().await
}

/// Turns two-factor sign-in off and forgets the secret and recovery codes.
pub async fn disable(db: &Db, user_id: i64) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    on_db!(tx, c => sqlx::query(
        "UPDATE users SET otp_secret = NULL, otp_pending_secret = NULL, otp_last_step = 0 WHERE id = $1")
        .bind(user_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    replace_codes_in(&mut tx, user_id, &[]).await?;
    tx.commit().await
}

/// New recovery codes (hashes) in place of the old ones.
pub async fn replace_codes(db: &Db, user_id: i64, code_hashes: &[String]) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    replace_codes_in(&mut tx, user_id, code_hashes).await?;
    tx.commit().await
}

async fn replace_codes_in(
    tx: &mut crate::storage::db::Tx,
    user_id: i64,
    code_hashes: &[String],
) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("DELETE FROM otp_recovery_codes WHERE user_id = $1")
        .bind(user_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    for h in code_hashes {
        on_db!(tx, c => sqlx::query("INSERT INTO otp_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id).bind(h).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Records that a code for `step` was accepted; false when that step (or a later one) already
/// was, so a code is never accepted twice.
pub async fn advance_step(db: &Db, user_id: i64, step: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "UPDATE users SET otp_last_step = $2 WHERE id = $1 AND otp_last_step < $2")
        .bind(user_id).bind(step).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Uses up an unused recovery code by its hash; false when there is none.
pub async fn use_recovery_code(db: &Db, user_id: i64, code_hash: &str) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "UPDATE otp_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL")
        .bind(user_id).bind(code_hash).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// How many recovery codes are left.
pub async fn codes_left(db: &Db, user_id: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM otp_recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id).fetch_one(c).await)
}
