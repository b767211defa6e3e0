//! Web Push subscriptions (`push_subscriptions`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::storage::db::{Db, Tx};
use crate::storage::sql::Args;
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub access_token_id: i64,
    pub account_id: i64,
    pub access_token: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub alerts: Json<BTreeMap<String, bool>>,
    pub policy: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, access_token_id, account_id, access_token, endpoint, p256dh, auth, \
    alerts, policy, created_at";

/// Stores the subscription of a token, replacing the token's earlier one.
pub async fn replace(db: &Db, s: &SubscriptionRow) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    on_db!(tx, c => sqlx::query("DELETE FROM push_subscriptions WHERE access_token_id = $1")
        .bind(s.access_token_id).execute(c).await.map(|r| r.rows_affected()))?;
    on_db!(tx, c => sqlx::query(
        "INSERT INTO push_subscriptions (id, access_token_id, account_id, access_token, endpoint, \
         p256dh, auth, alerts, policy, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(s.id).bind(s.access_token_id).bind(s.account_id).bind(&s.access_token)
        .bind(&s.endpoint).bind(&s.p256dh).bind(&s.auth).bind(&s.alerts).bind(&s.policy)
        .bind(s.created_at).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await
}

pub async fn of_token(db: &Db, token_id: i64) -> sqlx::Result<Option<SubscriptionRow>> {
    let sql = format!("SELECT {COLUMNS} FROM push_subscriptions WHERE access_token_id = $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(token_id).fetch_optional(c).await)
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<SubscriptionRow>> {
    let sql = format!("SELECT {COLUMNS} FROM push_subscriptions WHERE id = $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// Changes alerts and policy of a subscription.
pub async fn update(db: &Db, s: &SubscriptionRow) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE push_subscriptions SET alerts = $2, policy = $3 WHERE id = $1")
        .bind(s.id).bind(&s.alerts).bind(&s.policy).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM push_subscriptions WHERE id = $1").bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// `(subscription id, account id)` of the Web Push subscriptions of `accounts`, with one statement.
pub async fn ids_of_accounts(tx: &mut Tx, accounts: &[i64]) -> sqlx::Result<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for chunk in accounts.chunks(crate::storage::sql::MAX_ROWS) {
        let mut args = Args::default();
        let sql = format!(
            "SELECT id, account_id FROM push_subscriptions WHERE account_id IN ({})",
            args.ids(chunk)
        );
        let rows: Vec<(i64, i64)> = on_db!(tx, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args)
            .fetch_all(c).await)?;
        out.extend(rows);
    }
    Ok(out)
}

/// True while the token a subscription belongs to is neither revoked nor gone.
pub async fn token_live(db: &Db, token_id: i64) -> sqlx::Result<bool> {
    let n: i64 = on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM oauth_access_tokens WHERE id = $1 AND revoked_at IS NULL")
        .bind(token_id).fetch_one(c).await)?;
    Ok(n > 0)
}
