//! Local users: sign-up rows, sign-in lookups, settings, roles, approval, and token owners.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::{Db, Tx};

use super::*;

/// Posting defaults and profile sources kept per user (`Account.source` in the API).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct UserSettings {
    /// Default visibility: public | unlisted | private | direct. `None` means public.
    pub privacy: Option<String>,
    pub sensitive: bool,
    /// ISO 639-1 default posting language.
    pub language: Option<String>,
    /// The plain-text note as typed, before it became HTML.
    pub note_source: String,
    /// Field values as typed.
    pub fields_source: Vec<(String, String)>,
    /// Messaging preferences (docs/API.md, Conversations), all off by default: typing and presence
    /// are shared unless hidden; do-not-disturb stops streamed notifications.
    pub hide_typing: bool,
    pub hide_presence: bool,
    pub do_not_disturb: bool,
    /// A short status shown beside presence and on the profile, if set.
    pub custom_status: Option<CustomStatusSetting>,
    /// Who may quote new posts by default: public | followers | nobody (`None`: public), as
    /// Mastodon 4.5's `source[quote_policy]`.
    pub quote_policy: Option<String>,
}

/// A custom status as stored: an emoji and a text (either may be empty, not both), until
/// `expires_at` when given.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct CustomStatusSetting {
    pub text: String,
    pub emoji: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub approved: bool,
    pub disabled: bool,
    pub locale: Option<String>,
    pub sign_up_reason: Option<String>,
    pub settings: Json<UserSettings>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What it takes to insert a local account and its user in one transaction.
pub struct NewLocalAccount<'a> {
    pub account_id: i64,
    pub user_id: i64,
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub approved: bool,
    pub confirmed: bool,
    pub locale: Option<&'a str>,
    pub sign_up_reason: Option<&'a str>,
    pub uri: &'a str,
    pub url: &'a str,
    pub inbox_url: &'a str,
    pub shared_inbox_url: &'a str,
}

pub(super) const USER_COLUMNS: &str = "id, account_id, email, password_hash, role, confirmed_at, approved, \
    disabled, locale, sign_up_reason, settings, created_at, updated_at";

/// Inserts the account and its user. Errors: unique violation when the username or email is taken
/// (case-insensitively).
pub async fn insert_local(tx: &mut Tx, new: &NewLocalAccount<'_>) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(tx, c => {
        sqlx::query(
            "INSERT INTO accounts (id, username, domain, uri, url, inbox_url, shared_inbox_url, \
             created_at, updated_at) VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $7)",
        )
        .bind(new.account_id)
        .bind(new.username)
        .bind(new.uri)
        .bind(new.url)
        .bind(new.inbox_url)
        .bind(new.shared_inbox_url)
        .bind(now)
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "INSERT INTO users (id, account_id, email, password_hash, role, confirmed_at, approved, \
             locale, sign_up_reason, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(new.user_id)
        .bind(new.account_id)
        .bind(new.email)
        .bind(new.password_hash)
        .bind(new.role)
        .bind(new.confirmed.then_some(now))
        .bind(new.approved)
        .bind(new.locale)
        .bind(new.sign_up_reason)
        .bind(Json(UserSettings::default()))
        .bind(now)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

pub async fn find_user(db: &Db, id: i64) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// The users of these accounts (remote accounts have none), in no particular order.
pub async fn find_users_by_accounts(db: &Db, account_ids: &[i64]) -> sqlx::Result<Vec<UserRow>> {
    if account_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = crate::storage::sql::Args::default();
    let list = args.ids(account_ids);
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE account_id IN ({list})");
    on_db!(db, c => crate::bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

pub async fn find_user_by_account(db: &Db, account_id: i64) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE account_id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(account_id).fetch_optional(c).await)
}

/// The user whose email or local username is `login` (case-insensitive), as Mastodon's password
/// grant accepts either.
pub async fn find_user_by_login(db: &Db, login: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1) \
         OR account_id = (SELECT id FROM accounts WHERE lower(username) = lower($1) AND domain IS NULL)"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(login).fetch_optional(c).await)
}

pub async fn update_settings(tx: &mut Tx, user_id: i64, s: &UserSettings) -> sqlx::Result<()> {
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    on_db!(tx, c => sqlx::query("UPDATE users SET settings = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id).bind(Json(s.clone())).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Sets `role`; returns false when no such user exists.
pub async fn set_role(db: &Db, user_id: i64, role: &str) -> sqlx::Result<bool> {
    let r = on_db!(db, c => sqlx::query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id).bind(role).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
    Ok(r == 1)
}

/// Disables or re-enables sign-in; returns false when no such user exists.
pub async fn set_disabled(db: &Db, user_id: i64, disabled: bool) -> sqlx::Result<bool> {
    let r = on_db!(db, c => sqlx::query("UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id).bind(disabled).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
    Ok(r == 1)
}

/// Records a successful sign-in (HTML form or token grant).
pub async fn touch_sign_in(db: &Db, user_id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE users SET last_sign_in_at = $2 WHERE id = $1")
        .bind(user_id).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A user token's user and account, read with the token in one query (the hot path of every
/// authenticated request).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenUser {
    pub token_id: i64,
    pub token_application_id: i64,
    pub token_scopes: String,
    #[sqlx(flatten)]
    pub account: AccountRow,
    pub u_id: i64,
    pub u_email: String,
    pub u_password_hash: String,
    pub u_role: String,
    pub u_confirmed_at: Option<DateTime<Utc>>,
    pub u_approved: bool,
    pub u_disabled: bool,
    pub u_locale: Option<String>,
    pub u_sign_up_reason: Option<String>,
    pub u_settings: Json<UserSettings>,
    pub u_created_at: DateTime<Utc>,
    pub u_updated_at: DateTime<Utc>,
}

impl TokenUser {
    pub fn user(&self) -> UserRow {
        UserRow {
            id: self.u_id,
            account_id: self.account.id,
            email: self.u_email.clone(),
            password_hash: self.u_password_hash.clone(),
            role: self.u_role.clone(),
            confirmed_at: self.u_confirmed_at,
            approved: self.u_approved,
            disabled: self.u_disabled,
            locale: self.u_locale.clone(),
            sign_up_reason: self.u_sign_up_reason.clone(),
            settings: self.u_settings.clone(),
            created_at: self.u_created_at,
            updated_at: self.u_updated_at,
        }
    }
}

/// The live user token with this hash, with its user and account; `None` for unknown, revoked or
/// app-only tokens.
pub async fn find_token_user(db: &Db, token_hash: &str) -> sqlx::Result<Option<TokenUser>> {
    let sql = format!(
        "SELECT t.id AS token_id, t.application_id AS token_application_id, t.scopes AS token_scopes, {cols}, \
         u.id AS u_id, u.email AS u_email, u.password_hash AS u_password_hash, u.role AS u_role, \
         u.confirmed_at AS u_confirmed_at, u.approved AS u_approved, u.disabled AS u_disabled, \
         u.locale AS u_locale, u.sign_up_reason AS u_sign_up_reason, u.settings AS u_settings, \
         u.created_at AS u_created_at, u.updated_at AS u_updated_at \
         FROM oauth_access_tokens t JOIN users u ON u.id = t.user_id JOIN accounts a ON a.id = u.account_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        cols = qualified_account_columns()
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(token_hash).fetch_optional(c).await)
}

/// Approves a held sign-up.
pub async fn set_approved(tx: &mut Tx, user_id: i64) -> sqlx::Result<()> {
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    on_db!(tx, c => sqlx::query("UPDATE users SET approved = TRUE, updated_at = $2 WHERE id = $1")
        .bind(user_id).bind(Utc::now()).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes a local account that was never approved (a rejected sign-up), with its user.
pub async fn delete_unapproved(db: &Db, account_id: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "DELETE FROM accounts WHERE id = $1 AND domain IS NULL AND EXISTS \
         (SELECT 1 FROM users u WHERE u.account_id = $1 AND NOT u.approved)")
        .bind(account_id).execute(c).await.map(|r| r.rows_affected()))?;
    crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Accounts, account_id);
    Ok(n > 0)
}

/// The new address a user is waiting to confirm, if any.
pub async fn unconfirmed_email(db: &Db, user_id: i64) -> sqlx::Result<Option<String>> {
    let v: Option<Option<String>> = on_db!(db, c => sqlx::query_scalar(
        "SELECT unconfirmed_email FROM users WHERE id = $1")
        .bind(user_id).fetch_optional(c).await)?;
    Ok(v.flatten())
}

/// Accounts of local moderators and admins who may act (approved, not disabled, not suspended).
pub async fn staff_account_ids(db: &Db) -> sqlx::Result<Vec<i64>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT u.account_id FROM users u JOIN accounts a ON a.id = u.account_id \
         WHERE u.role IN ('moderator', 'admin') AND u.approved AND NOT u.disabled \
         AND a.suspended_at IS NULL ORDER BY u.account_id")
        .fetch_all(c).await)
}

/// Erases a login (the account row stays): its e-mail address, password, tokens and sessions.
pub async fn delete_user(db: &Db, user_id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
    Ok(())
}
