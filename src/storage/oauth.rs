//! OAuth applications, authorization codes, access tokens and browser sessions.
//!
//! Secrets (client secrets, codes, tokens, session cookies) are stored only as SHA-256 hex digests:
//! a leaked database does not leak credentials. The values are 256-bit random, so a plain hash is
//! enough (no salt or slow hash needed).

use chrono::{DateTime, Utc};

use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::Db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApplicationRow {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    /// One URI per line.
    pub redirect_uris: String,
    /// Space-separated.
    pub scopes: String,
    pub client_id: String,
    pub client_secret_hash: String,
    pub created_at: DateTime<Utc>,
}

impl ApplicationRow {
    pub fn redirect_uri_list(&self) -> impl Iterator<Item = &str> {
        self.redirect_uris
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
    }
}

pub struct NewApplication<'a> {
    pub id: i64,
    pub name: &'a str,
    pub website: Option<&'a str>,
    pub redirect_uris: &'a str,
    pub scopes: &'a str,
    pub client_id: &'a str,
    pub client_secret_hash: &'a str,
}

const APP_COLUMNS: &str =
    "id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at";

pub async fn insert_application(db: &Db, a: &NewApplication<'_>) -> sqlx::Result<ApplicationRow> {
    let sql = format!(
        "INSERT INTO oauth_applications (id, name, website, redirect_uris, scopes, client_id, \
         client_secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {APP_COLUMNS}"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(a.id).bind(a.name).bind(a.website).bind(a.redirect_uris).bind(a.scopes)
        .bind(a.client_id).bind(a.client_secret_hash).bind(Utc::now())
        .fetch_one(c).await)
}

pub async fn find_application_by_client_id(
    db: &Db,
    client_id: &str,
) -> sqlx::Result<Option<ApplicationRow>> {
    let sql = format!("SELECT {APP_COLUMNS} FROM oauth_applications WHERE client_id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(client_id).fetch_optional(c).await)
}

pub async fn find_application(db: &Db, id: i64) -> sqlx::Result<Option<ApplicationRow>> {
    let sql = format!("SELECT {APP_COLUMNS} FROM oauth_applications WHERE id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuthorizationCodeRow {
    pub application_id: i64,
    pub user_id: i64,
    pub redirect_uri: String,
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub expires_at: DateTime<Utc>,
}

pub struct NewAuthorizationCode<'a> {
    pub code_hash: &'a str,
    pub application_id: i64,
    pub user_id: i64,
    pub redirect_uri: &'a str,
    pub scopes: &'a str,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_authorization_code(db: &Db, n: &NewAuthorizationCode<'_>) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO oauth_authorization_codes (code_hash, application_id, user_id, redirect_uri, \
         scopes, code_challenge, code_challenge_method, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(n.code_hash).bind(n.application_id).bind(n.user_id).bind(n.redirect_uri)
        .bind(n.scopes).bind(n.code_challenge).bind(n.code_challenge_method).bind(n.expires_at)
        .bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Marks the code used and returns it, or `None` when it is unknown or was already used. The
/// single conditional UPDATE makes redemption atomic: two racing requests cannot both win.
pub async fn redeem_authorization_code(
    db: &Db,
    code_hash: &str,
) -> sqlx::Result<Option<AuthorizationCodeRow>> {
    on_db!(db, c => sqlx::query_as(
        "UPDATE oauth_authorization_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL \
         RETURNING application_id, user_id, redirect_uri, scopes, code_challenge, \
         code_challenge_method, expires_at")
        .bind(code_hash).bind(Utc::now()).fetch_optional(c).await)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccessTokenRow {
    pub id: i64,
    pub application_id: i64,
    pub user_id: Option<i64>,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
}

pub struct NewAccessToken<'a> {
    pub id: i64,
    pub token_hash: &'a str,
    pub application_id: i64,
    pub user_id: Option<i64>,
    pub scopes: &'a str,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_access_token(db: &Db, t: &NewAccessToken<'_>) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO oauth_access_tokens (id, token_hash, application_id, user_id, scopes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(t.id).bind(t.token_hash).bind(t.application_id).bind(t.user_id).bind(t.scopes)
        .bind(t.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The live (not revoked) token with this hash.
pub async fn find_live_token(db: &Db, token_hash: &str) -> sqlx::Result<Option<AccessTokenRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT id, application_id, user_id, scopes, created_at FROM oauth_access_tokens \
         WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(token_hash).fetch_optional(c).await)
}

/// Revokes the token with this hash if it belongs to `application_id`. Unknown tokens are not an
/// error (RFC 7009 §2.2): returns whether a live token was revoked.
pub async fn revoke_token(db: &Db, token_hash: &str, application_id: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "UPDATE oauth_access_tokens SET revoked_at = $3 \
         WHERE token_hash = $1 AND application_id = $2 AND revoked_at IS NULL")
        .bind(token_hash).bind(application_id).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
    Ok(n > 0)
}

/// An application holding live tokens of a user: the app, how many tokens, their distinct scope
/// sets (each space-separated, joined by `, `), and when the first was issued.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuthorizedApp {
    pub application_id: i64,
    pub name: String,
    pub website: Option<String>,
    pub tokens: i64,
    pub scopes: String,
    pub first_at: DateTime<Utc>,
}

/// The applications holding live tokens of `user_id`, except the one with `except_client_id`
/// (the web app's own, whose tokens are its sessions), oldest authorisation first.
pub async fn authorized_apps(
    db: &Db,
    user_id: i64,
    except_client_id: &str,
) -> sqlx::Result<Vec<AuthorizedApp>> {
    let rows: Vec<(i64, String, Option<String>, String, DateTime<Utc>)> = on_db!(db, c => sqlx::query_as(
        "SELECT a.id, a.name, a.website, t.scopes, t.created_at FROM oauth_access_tokens t \
         JOIN oauth_applications a ON a.id = t.application_id \
         WHERE t.user_id = $1 AND t.revoked_at IS NULL AND a.client_id <> $2 \
         ORDER BY t.created_at")
        .bind(user_id).bind(except_client_id).fetch_all(c).await)?;
    let mut out: Vec<AuthorizedApp> = Vec::new();
    for (id, name, website, scopes, at) in rows {
        match out.iter_mut().find(|a| a.application_id == id) {
            Some(a) => {
                a.tokens += 1;
                if !a.scopes.split(", ").any(|s| s == scopes) {
                    a.scopes.push_str(", ");
                    a.scopes.push_str(&scopes);
                }
            }
            None => out.push(AuthorizedApp {
                application_id: id,
                name,
                website,
                tokens: 1,
                scopes,
                first_at: at,
            }),
        }
    }
    Ok(out)
}

/// Revokes every live token `user_id` gave application `application_id`; returns how many.
pub async fn revoke_app_for_user(db: &Db, user_id: i64, application_id: i64) -> sqlx::Result<u64> {
    let n = on_db!(db, c => sqlx::query(
        "UPDATE oauth_access_tokens SET revoked_at = $3 \
         WHERE user_id = $1 AND application_id = $2 AND revoked_at IS NULL")
        .bind(user_id).bind(application_id).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
    Ok(n)
}

/// Revokes every token and browser session of a user (after a password change or disabling).
pub async fn revoke_all_for_user(db: &Db, user_id: i64) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(db, c => {
        sqlx::query("UPDATE oauth_access_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user_id).bind(now).execute(c).await?;
        sqlx::query("UPDATE web_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user_id).bind(now).execute(c).await?;
    });
    crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
    Ok(())
}

pub async fn insert_session(
    db: &Db,
    id: i64,
    token_hash: &str,
    user_id: i64,
    user_agent: Option<&str>,
) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO web_sessions (id, token_hash, user_id, user_agent, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id).bind(token_hash).bind(user_id).bind(user_agent).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The user of a live browser session created after `not_before` (sessions expire).
pub async fn find_session_user(
    db: &Db,
    token_hash: &str,
    not_before: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT user_id FROM web_sessions WHERE token_hash = $1 AND revoked_at IS NULL AND created_at >= $2")
        .bind(token_hash).bind(not_before).fetch_optional(c).await)
}

pub async fn revoke_session(db: &Db, token_hash: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE web_sessions SET revoked_at = $2 WHERE token_hash = $1")
        .bind(token_hash).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
