//! Presence across nodes (migration 0036, `presence`): which accounts have a streaming connection
//! on which node, until when.

use chrono::{DateTime, Utc};

use crate::on_db;
use crate::storage::db::Db;

/// Records (or renews) that `accounts` are connected on `node` until `until`.
pub async fn renew(
    db: &Db,
    node: &str,
    accounts: &[i64],
    until: DateTime<Utc>,
) -> sqlx::Result<()> {
    for chunk in accounts.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, $1, $2)", i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO presence (account_id, node, expires_at) VALUES {} \
             ON CONFLICT (account_id, node) DO UPDATE SET expires_at = excluded.expires_at",
            values.join(", ")
        );
        on_db!(db, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(node).bind(until);
            for a in chunk {
                q = q.bind(*a);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// `account` left `node`.
pub async fn remove(db: &Db, node: &str, account: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM presence WHERE account_id = $1 AND node = $2")
        .bind(account).bind(node).execute(c).await.map(|_| ()))
}

/// Whether `account` is connected on a node other than `node` (a row not expired).
pub async fn online_elsewhere(db: &Db, node: &str, account: i64) -> sqlx::Result<bool> {
    let n: i64 = on_db!(db, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM presence WHERE account_id = $1 AND node <> $2 AND expires_at > $3")
        .bind(account).bind(node).bind(Utc::now()).fetch_one(c).await)?;
    Ok(n > 0)
}

/// Drops expired rows (nodes that died).
pub async fn prune(db: &Db) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM presence WHERE expires_at < $1")
        .bind(Utc::now()).execute(c).await.map(|_| ()))
}

/// Drops every row of `node` (it shuts down).
pub async fn remove_node(db: &Db, node: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM presence WHERE node = $1")
        .bind(node).execute(c).await.map(|_| ()))
}
