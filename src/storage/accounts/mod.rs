//! Accounts (local and remote, one table) and the local users behind local accounts.
//!
//! One file per concern: `users` (local users), `remote` (remote accounts and known servers),
//! `moderation` (silence, suspend, the admin list), `stats` (counts). This file: the account row,
//! its columns, profiles, and finding accounts.

mod moderation;
mod remote;
mod stats;
mod users;

pub use moderation::*;
pub use remote::*;
pub use stats::*;
pub use users::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::{Db, Tx};

/// A profile metadata field: `value` is sanitised HTML.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ProfileField {
    pub name: String,
    pub value: String,
    pub verified_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    /// `None` for local accounts.
    pub domain: Option<String>,
    pub display_name: String,
    /// Sanitised HTML.
    pub note: String,
    pub fields: Json<Vec<ProfileField>>,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    /// Its public posts may be found by anyone's full-text search.
    pub indexable: bool,
    pub uri: String,
    pub url: Option<String>,
    pub inbox_url: Option<String>,
    pub shared_inbox_url: Option<String>,
    pub public_key_pem: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The `media_attachments` rows of the avatar and header, when set.
    pub avatar_media_id: Option<i64>,
    pub header_media_id: Option<i64>,
    /// When a moderator limited the account (its posts reach only its followers).
    pub silenced_at: Option<DateTime<Utc>>,
    /// When a moderator suspended the account (its content is gone; it cannot act).
    pub suspended_at: Option<DateTime<Utc>>,
    /// The account this one moved to (`movedTo`, `Account.moved`), when it has.
    pub moved_to_account_id: Option<i64>,
}

impl AccountRow {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }
}

const ACCOUNT_COLUMNS: &str = "id, username, domain, display_name, note, fields, locked, bot, \
    discoverable, indexable, uri, url, inbox_url, shared_inbox_url, public_key_pem, created_at, updated_at, \
    avatar_media_id, header_media_id, silenced_at, suspended_at, moved_to_account_id";
/// `ACCOUNT_COLUMNS` prefixed with the alias `a.`, for joins.
pub fn qualified_account_columns() -> String {
    ACCOUNT_COLUMNS
        .split(", ")
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn find_account(db: &Db, id: i64) -> sqlx::Result<Option<AccountRow>> {
    let db = db.reader().await;
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// Case-insensitive lookup of a local account by username.
pub async fn find_local_account_by_username(
    db: &Db,
    username: &str,
) -> sqlx::Result<Option<AccountRow>> {
    let db = db.reader().await;
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE lower(username) = lower($1) AND domain IS NULL"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(username).fetch_optional(c).await)
}

/// Case-insensitive lookup by `username` and `domain` (`None` = local).
pub async fn find_account_by_acct(
    db: &Db,
    username: &str,
    domain: Option<&str>,
) -> sqlx::Result<Option<AccountRow>> {
    let db = db.reader().await;
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts \
         WHERE lower(username) = lower($1) AND coalesce(lower(domain), '') = lower($2)"
    );
    let domain = domain.unwrap_or("");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(username).bind(domain).fetch_optional(c).await)
}

/// Accounts whose ID is in `ids`, in no particular order.
pub async fn find_accounts(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<AccountRow>> {
    let db = db.reader().await;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // A bounded IN list keeps the SQL portable; callers cap `ids` (relationships takes at most 40).
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id IN ({})",
        placeholders.join(", ")
    );
    on_db!(db, c => {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })
}

/// Local, discoverable-or-not accounts whose username or display name contains `q`
/// (case-insensitive), best matches (username prefix) first.
pub async fn search_local(
    db: &Db,
    q: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<AccountRow>> {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let contains = format!("%{}%", escaped.to_lowercase());
    let prefix = format!("{}%", escaped.to_lowercase());
    let sql = format!(
        "SELECT {cols} FROM accounts a JOIN users u ON u.account_id = a.id \
         WHERE a.domain IS NULL AND u.disabled = $5 AND u.approved = $6 \
         AND (lower(a.username) LIKE $1 ESCAPE '\\' OR lower(a.display_name) LIKE $1 ESCAPE '\\') \
         ORDER BY CASE WHEN lower(a.username) LIKE $2 ESCAPE '\\' THEN 0 ELSE 1 END, a.username \
         LIMIT $3 OFFSET $4",
        cols = qualified_account_columns()
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(&contains).bind(&prefix).bind(limit).bind(offset).bind(false).bind(true)
        .fetch_all(c).await)
}

/// The profile columns `update_credentials` may change; `None` leaves a column as it is.
#[derive(Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub fields: Option<Vec<ProfileField>>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub indexable: Option<bool>,
}

pub async fn update_profile(tx: &mut Tx, id: i64, u: &ProfileUpdate) -> sqlx::Result<()> {
    tx.changes_key(crate::storage::changes::Kind::Accounts, id);
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    on_db!(tx, c => sqlx::query(
        "UPDATE accounts SET display_name = coalesce($2, display_name), note = coalesce($3, note), \
         fields = coalesce($4, fields), locked = coalesce($5, locked), bot = coalesce($6, bot), \
         discoverable = coalesce($7, discoverable), updated_at = $8, \
         indexable = coalesce($9, indexable) WHERE id = $1",
    )
    .bind(id)
    .bind(u.display_name.as_deref())
    .bind(u.note.as_deref())
    .bind(u.fields.as_ref().map(|f| Json(f.clone())))
    .bind(u.locked)
    .bind(u.bot)
    .bind(u.discoverable)
    .bind(Utc::now())
    .bind(u.indexable)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// An account row with its counters (`account_stats`, absent counters are zero).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountWithStats {
    #[sqlx(flatten)]
    pub account: AccountRow,
    pub statuses_count: Option<i64>,
    pub following_count: Option<i64>,
    pub followers_count: Option<i64>,
    pub last_status_at: Option<DateTime<Utc>>,
}

/// Accounts whose ID is in `ids`, with their counters, in one query.
pub async fn find_accounts_with_stats(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<AccountWithStats>> {
    let db = db.reader().await;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {cols}, st.statuses_count, st.following_count, st.followers_count, st.last_status_at \
         FROM accounts a LEFT JOIN account_stats st ON st.account_id = a.id WHERE a.id IN ({})",
        placeholders.join(", "),
        cols = qualified_account_columns()
    );
    on_db!(db, c => {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })
}

/// Stores a generated key pair unless the account already has one (two racing generators keep the
/// first). Returns whether this pair was stored.
pub async fn set_keys_if_missing(
    db: &Db,
    id: i64,
    public_pem: &str,
    private_pem: &str,
) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "UPDATE accounts SET public_key_pem = $2, private_key_pem = $3 WHERE id = $1 AND public_key_pem IS NULL")
        .bind(id).bind(public_pem).bind(private_pem).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 {
        crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
        crate::storage::changes::changed_key(crate::storage::changes::Kind::Accounts, id);
    }
    Ok(n == 1)
}

/// The private key of a local account, for signing.
pub async fn private_key(db: &Db, id: i64) -> sqlx::Result<Option<String>> {
    on_db!(db, c => sqlx::query_scalar("SELECT private_key_pem FROM accounts WHERE id = $1")
        .bind(id).fetch_one(c).await)
}

/// The ActivityStreams type of an account's actor (`Person`, `Service`, `Application` …; local
/// accounts are `Person`).
pub async fn actor_type(db: &Db, id: i64) -> sqlx::Result<Option<String>> {
    on_db!(db, c => sqlx::query_scalar("SELECT actor_type FROM accounts WHERE id = $1")
        .bind(id).fetch_optional(c).await)
}
