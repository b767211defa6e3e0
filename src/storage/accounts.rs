//! Accounts (local and remote, one table) and the local users behind local accounts.

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
}

impl AccountRow {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }
}

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

const ACCOUNT_COLUMNS: &str = "id, username, domain, display_name, note, fields, locked, bot, \
    discoverable, uri, url, inbox_url, shared_inbox_url, public_key_pem, created_at, updated_at, \
    avatar_media_id, header_media_id, silenced_at, suspended_at";
const USER_COLUMNS: &str = "id, account_id, email, password_hash, role, confirmed_at, approved, \
    disabled, locale, sign_up_reason, settings, created_at, updated_at";

/// `ACCOUNT_COLUMNS` prefixed with the alias `a.`, for joins.
pub fn qualified_account_columns() -> String {
    ACCOUNT_COLUMNS
        .split(", ")
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

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

pub async fn find_account(db: &Db, id: i64) -> sqlx::Result<Option<AccountRow>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// Case-insensitive lookup of a local account by username.
pub async fn find_local_account_by_username(
    db: &Db,
    username: &str,
) -> sqlx::Result<Option<AccountRow>> {
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
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts \
         WHERE lower(username) = lower($1) AND coalesce(lower(domain), '') = lower($2)"
    );
    let domain = domain.unwrap_or("");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(username).bind(domain).fetch_optional(c).await)
}

/// Accounts whose ID is in `ids`, in no particular order.
pub async fn find_accounts(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<AccountRow>> {
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
}

pub async fn update_profile(tx: &mut Tx, id: i64, u: &ProfileUpdate) -> sqlx::Result<()> {
    tx.changes_key(crate::storage::changes::Kind::Accounts, id);
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    on_db!(tx, c => sqlx::query(
        "UPDATE accounts SET display_name = coalesce($2, display_name), note = coalesce($3, note), \
         fields = coalesce($4, fields), locked = coalesce($5, locked), bot = coalesce($6, bot), \
         discoverable = coalesce($7, discoverable), updated_at = $8 WHERE id = $1",
    )
    .bind(id)
    .bind(u.display_name.as_deref())
    .bind(u.note.as_deref())
    .bind(u.fields.as_ref().map(|f| Json(f.clone())))
    .bind(u.locked)
    .bind(u.bot)
    .bind(u.discoverable)
    .bind(Utc::now())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
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

/// Local users who can sign in (approved, not disabled), for instance statistics.
pub async fn count_active_local_users(db: &Db) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE approved = $1 AND disabled = $2")
        .bind(true).bind(false).fetch_one(c).await)
}

/// Number of distinct remote domains we know accounts on.
pub async fn count_known_domains(db: &Db) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(DISTINCT lower(domain)) FROM accounts WHERE domain IS NOT NULL")
        .fetch_one(c).await)
}

/// The distinct remote domains we know accounts on, sorted.
pub async fn known_domains(db: &Db) -> sqlx::Result<Vec<String>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT DISTINCT lower(domain) FROM accounts WHERE domain IS NOT NULL ORDER BY 1")
        .fetch_all(c).await)
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

/// Records a successful sign-in (HTML form or token grant).
pub async fn touch_sign_in(db: &Db, user_id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE users SET last_sign_in_at = $2 WHERE id = $1")
        .bind(user_id).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Users who can sign in and did so since `since`.
pub async fn count_users_active_since(db: &Db, since: DateTime<Utc>) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE approved = $1 AND disabled = $2 AND last_sign_in_at >= $3")
        .bind(true).bind(false).bind(since).fetch_one(c).await)
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

/// A remote actor as fetched, ready to store.
pub struct RemoteAccount<'a> {
    pub uri: &'a str,
    pub username: &'a str,
    /// Host, with `:port` when the actor's URL has one.
    pub domain: &'a str,
    pub display_name: &'a str,
    /// Sanitised HTML.
    pub note: &'a str,
    pub fields: Vec<ProfileField>,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub url: Option<&'a str>,
    pub inbox_url: &'a str,
    pub shared_inbox_url: Option<&'a str>,
    pub public_key_pem: &'a str,
    pub actor_type: &'a str,
    pub published: Option<DateTime<Utc>>,
}

/// Inserts or refreshes a remote account by its actor URI; returns its ID.
///
/// Errors: unique violation when another account already has this `username@domain`.
pub async fn upsert_remote(db: &Db, r: &RemoteAccount<'_>) -> sqlx::Result<i64> {
    let now = Utc::now();
    let created = r.published.unwrap_or(now);
    on_db!(db, c => sqlx::query_scalar(
        "INSERT INTO accounts (id, username, domain, display_name, note, fields, locked, bot, discoverable, \
         uri, url, inbox_url, shared_inbox_url, public_key_pem, actor_type, created_at, updated_at, fetched_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) \
         ON CONFLICT (uri) DO UPDATE SET username = $2, display_name = $4, note = $5, fields = $6, \
         locked = $7, bot = $8, discoverable = $9, url = $11, inbox_url = $12, shared_inbox_url = $13, \
         public_key_pem = $14, actor_type = $15, updated_at = $17, fetched_at = $17 \
         RETURNING id")
        .bind(crate::storage::ids::id_at(created)).bind(r.username).bind(r.domain).bind(r.display_name)
        .bind(r.note).bind(Json(r.fields.clone())).bind(r.locked).bind(r.bot).bind(r.discoverable)
        .bind(r.uri).bind(r.url).bind(r.inbox_url).bind(r.shared_inbox_url).bind(r.public_key_pem)
        .bind(r.actor_type).bind(created).bind(now)
        .fetch_one(c).await)
    .inspect(|id| crate::storage::changes::changed_key(crate::storage::changes::Kind::Accounts, *id))
}

/// The account with this actor URI, and when it was last fetched (remote accounts).
pub async fn find_by_uri(
    db: &Db,
    uri: &str,
) -> sqlx::Result<Option<(AccountRow, Option<DateTime<Utc>>)>> {
    #[derive(sqlx::FromRow)]
    struct WithFetched {
        #[sqlx(flatten)]
        account: AccountRow,
        fetched_at: Option<DateTime<Utc>>,
    }
    let sql = format!(
        "SELECT {}, a.fetched_at FROM accounts a WHERE a.uri = $1",
        qualified_account_columns()
    );
    let row: Option<WithFetched> = on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(uri).fetch_optional(c).await)?;
    Ok(row.map(|r| (r.account, r.fetched_at)))
}

/// Accounts whose actor URI is one of `uris`, in one query.
pub async fn find_by_uris(db: &Db, uris: &[String]) -> sqlx::Result<Vec<AccountRow>> {
    if uris.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=uris.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE uri IN ({})",
        placeholders.join(", ")
    );
    on_db!(db, c => {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
        for u in uris {
            q = q.bind(u.clone());
        }
        q.fetch_all(c).await
    })
}

/// Deletes a remote account and, through the schema's cascades, its statuses, follows, favourites,
/// notifications and feed entries. Returns the IDs of its statuses (for streaming deletions) — read
/// before deleting.
pub async fn delete_remote(db: &Db, id: i64) -> sqlx::Result<Vec<i64>> {
    let mut tx = db.begin().await?;
    let statuses: Vec<i64> = on_db!(tx, c => sqlx::query_scalar("SELECT id FROM statuses WHERE account_id = $1")
        .bind(id).fetch_all(c).await)?;
    // End follows through the path that keeps the other side's counters right.
    let follows: Vec<(i64, i64)> = on_db!(tx, c => sqlx::query_as(
        "SELECT account_id, target_account_id FROM follows WHERE account_id = $1 OR target_account_id = $1")
        .bind(id).fetch_all(c).await)?;
    for (a, b) in follows {
        crate::storage::relationships::delete_follow(
            &mut tx,
            crate::storage::relationships::FollowTable::Follows,
            a,
            b,
        )
        .await?;
    }
    on_db!(tx, c => sqlx::query("DELETE FROM accounts WHERE id = $1 AND domain IS NOT NULL")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    tx.changes_key(crate::storage::changes::Kind::Accounts, id);
    tx.commit().await?;
    Ok(statuses)
}

/// The ActivityStreams type of an account's actor (`Person`, `Service`, `Application` …; local
/// accounts are `Person`).
pub async fn actor_type(db: &Db, id: i64) -> sqlx::Result<Option<String>> {
    on_db!(db, c => sqlx::query_scalar("SELECT actor_type FROM accounts WHERE id = $1")
        .bind(id).fetch_optional(c).await)
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

/// Limits (`Some`) or un-limits (`None`) an account.
pub async fn set_silenced(db: &Db, id: i64, at: Option<DateTime<Utc>>) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE accounts SET silenced_at = $2 WHERE id = $1")
        .bind(id).bind(at).execute(c).await.map(|r| r.rows_affected()))?;
    crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Accounts, id);
    Ok(())
}

/// Marks an account suspended (`Some`) or lifts the mark (`None`). A suspended account's profile
/// is blanked: what it said is gone with its posts.
pub async fn set_suspended(tx: &mut Tx, id: i64, at: Option<DateTime<Utc>>) -> sqlx::Result<()> {
    tx.changes_key(crate::storage::changes::Kind::Accounts, id);
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    let sql = if at.is_some() {
        "UPDATE accounts SET suspended_at = $2, display_name = '', note = '', fields = '[]', \
         avatar_media_id = NULL, header_media_id = NULL WHERE id = $1"
    } else {
        "UPDATE accounts SET suspended_at = $2 WHERE id = $1"
    };
    on_db!(tx, c => sqlx::query(sql).bind(id).bind(at).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes away what an account did to others' things and to relationships, keeping counters right:
/// favourites it gave, follows and follow requests both ways, notifications it caused. Its own
/// statuses go through the status service (one by one, so boosts, threads and streams follow).
pub async fn purge_interactions(tx: &mut Tx, id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    on_db!(tx, c => sqlx::query(
        "UPDATE statuses SET favourites_count = favourites_count - 1 \
         WHERE id IN (SELECT status_id FROM favourites WHERE account_id = $1) AND favourites_count > 0")
        .bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    tx.changes(crate::storage::changes::Kind::Statuses);
    for sql in [
        "DELETE FROM favourites WHERE account_id = $1",
        "DELETE FROM follow_requests WHERE account_id = $1 OR target_account_id = $1",
        "DELETE FROM notifications WHERE from_account_id = $1",
        "DELETE FROM stories WHERE account_id = $1",
    ] {
        on_db!(tx, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    }
    let follows: Vec<(i64, i64)> = on_db!(tx, c => sqlx::query_as(
        "SELECT account_id, target_account_id FROM follows WHERE account_id = $1 OR target_account_id = $1")
        .bind(id).fetch_all(&mut *c).await)?;
    let mut ended = Vec::new();
    for (a, b) in follows {
        if crate::storage::relationships::delete_follow(
            tx,
            crate::storage::relationships::FollowTable::Follows,
            a,
            b,
        )
        .await?
        {
            ended.push((a, b));
        }
    }
    Ok(ended)
}

/// One inbox per known server (its shared inbox where it has one, else each known actor's own
/// inbox), for activities everyone who may hold a copy of an account must hear (a suspension's
/// `Delete`). Suspended servers and accounts are left out.
pub async fn all_known_inboxes(db: &Db) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String, Option<String>, Option<String>)> = on_db!(db, c => sqlx::query_as(
        "SELECT a.domain, a.shared_inbox_url, a.inbox_url FROM accounts a \
         WHERE a.domain IS NOT NULL AND a.suspended_at IS NULL \
         AND (a.inbox_url IS NOT NULL OR a.shared_inbox_url IS NOT NULL) \
         AND NOT EXISTS (SELECT 1 FROM domain_blocks b WHERE b.severity = 'suspend' \
             AND (lower(a.domain) = b.domain OR lower(a.domain) LIKE '%.' || b.domain))")
        .fetch_all(c).await)?;
    let shared: std::collections::HashMap<&str, &str> = rows
        .iter()
        .filter_map(|(d, s, _)| s.as_deref().map(|s| (d.as_str(), s)))
        .collect();
    let mut inboxes: Vec<String> = Vec::new();
    for (domain, _, inbox) in &rows {
        let target = match shared.get(domain.as_str()) {
            Some(s) => Some(*s),
            None => inbox.as_deref(),
        };
        if let Some(t) = target
            && !inboxes.iter().any(|i| i == t)
        {
            inboxes.push(t.to_string());
        }
    }
    Ok(inboxes)
}

/// Which accounts the admin API lists (`GET /api/v1/admin/accounts`, v1 and v2 filters).
#[derive(Clone, Debug, Default)]
pub struct AdminAccountFilter {
    /// `Some(true)`: local only; `Some(false)`: remote only.
    pub local: Option<bool>,
    /// `active`, `pending`, `disabled`, `silenced` or `suspended`.
    pub status: Option<String>,
    /// Moderators and admins only.
    pub staff: bool,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub by_domain: Option<String>,
    pub email: Option<String>,
}

/// Accounts for moderators, newest first, paged by ID.
pub async fn admin_list(
    db: &Db,
    f: &AdminAccountFilter,
    page: &crate::storage::sql::Page,
) -> sqlx::Result<Vec<AccountRow>> {
    let mut args = crate::storage::sql::Args::default();
    let (cond, tail) = page.sql("a.id", &mut args);
    // Servers' own actors (`Application`) are not accounts anyone moderates.
    let mut conds = vec![cond, "a.actor_type <> 'Application'".to_string()];
    match f.local {
        Some(true) => conds.push("a.domain IS NULL".into()),
        Some(false) => conds.push("a.domain IS NOT NULL".into()),
        None => {}
    }
    match f.status.as_deref() {
        Some("active") => conds.push(
            "a.suspended_at IS NULL AND (u.id IS NULL OR (u.approved AND NOT u.disabled))".into(),
        ),
        Some("pending") => conds.push("u.id IS NOT NULL AND NOT u.approved".into()),
        Some("disabled") => conds.push("u.id IS NOT NULL AND u.disabled".into()),
        Some("silenced") => conds.push("a.silenced_at IS NOT NULL".into()),
        Some("suspended") => conds.push("a.suspended_at IS NOT NULL".into()),
        _ => {}
    }
    if f.staff {
        conds.push("u.role IN ('moderator', 'admin')".into());
    }
    let like = |v: &str| format!("%{}%", v.to_lowercase().replace(['%', '_'], ""));
    if let Some(v) = f.username.as_deref().filter(|v| !v.is_empty()) {
        conds.push(format!("lower(a.username) LIKE {}", args.add(like(v))));
    }
    if let Some(v) = f.display_name.as_deref().filter(|v| !v.is_empty()) {
        conds.push(format!("lower(a.display_name) LIKE {}", args.add(like(v))));
    }
    if let Some(v) = f.by_domain.as_deref().filter(|v| !v.is_empty()) {
        conds.push(format!("lower(a.domain) = {}", args.add(v.to_lowercase())));
    }
    if let Some(v) = f.email.as_deref().filter(|v| !v.is_empty()) {
        conds.push(format!("lower(u.email) LIKE {}", args.add(like(v))));
    }
    let sql = format!(
        "SELECT {cols} FROM accounts a LEFT JOIN users u ON u.account_id = a.id WHERE {} {tail}",
        conds.join(" AND "),
        cols = qualified_account_columns(),
    );
    let rows = on_db!(db, c => crate::bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
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
