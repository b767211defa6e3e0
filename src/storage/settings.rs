//! Instance-wide key/value settings made once and kept (`instance_settings`).

use crate::on_db;
use crate::storage::db::Db;

pub async fn get(db: &Db, key: &str) -> sqlx::Result<Option<String>> {
    on_db!(db, c => sqlx::query_scalar("SELECT value FROM instance_settings WHERE key = $1")
        .bind(key).fetch_optional(c).await)
}

/// Stores `value` unless the key already has one; returns the value in force (first writer wins).
pub async fn get_or_insert(db: &Db, key: &str, value: &str) -> sqlx::Result<String> {
    on_db!(db, c => sqlx::query("INSERT INTO instance_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key).bind(value).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(get(db, key).await?.unwrap_or_else(|| value.to_string()))
}
