//! Account migration (migration 0034): local users' aliases, the moves they made, where accounts
//! moved to, and remote actors' `alsoKnownAs`.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::on_db;
use crate::storage::changes::Kind;
use crate::storage::db::{Db, Tx};

/// An alias of a local account (`account_aliases`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AliasRow {
    pub id: i64,
    pub account_id: i64,
    /// `user@domain` as resolved.
    pub acct: String,
    /// The alias's actor URI.
    pub uri: String,
    pub created_at: DateTime<Utc>,
}

/// A move made by a local account (`account_migrations`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MigrationRow {
    pub id: i64,
    pub account_id: i64,
    /// `None` once the target account is gone.
    pub target_account_id: Option<i64>,
    pub acct: String,
    /// Followers the account had when it moved.
    pub followers_count: i64,
    pub created_at: DateTime<Utc>,
}

/// A local account's aliases, oldest first.
pub async fn aliases(db: &Db, account_id: i64) -> sqlx::Result<Vec<AliasRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT id, account_id, acct, uri, created_at FROM account_aliases WHERE account_id = $1 ORDER BY id")
        .bind(account_id).fetch_all(c).await)
}

/// Stores an alias; false when the account already has one with this URI.
pub async fn insert_alias(db: &Db, a: &AliasRow) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "INSERT INTO account_aliases (id, account_id, acct, uri, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (account_id, uri) DO NOTHING")
        .bind(a.id).bind(a.account_id).bind(&a.acct).bind(&a.uri).bind(a.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Deletes one of `account_id`'s aliases; false when it has no alias `id`.
pub async fn delete_alias(db: &Db, account_id: i64, id: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query("DELETE FROM account_aliases WHERE id = $1 AND account_id = $2")
        .bind(id).bind(account_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A remote actor's `alsoKnownAs` as last fetched.
pub async fn also_known_as(db: &Db, account_id: i64) -> sqlx::Result<Vec<String>> {
    let v: Option<Json<Vec<String>>> = on_db!(db, c => sqlx::query_scalar(
        "SELECT also_known_as FROM accounts WHERE id = $1").bind(account_id).fetch_optional(c).await)?;
    Ok(v.map(|j| j.0).unwrap_or_default())
}

/// Sets (or, with `None`, clears) where an account moved to.
pub async fn set_moved_to(tx: &mut Tx, account_id: i64, target: Option<i64>) -> sqlx::Result<()> {
    tx.changes_key(Kind::Accounts, account_id);
    // The token cache keeps the caller's account row (`service::oauth::principal_for_token`).
    tx.changes(Kind::SignIns);
    on_db!(tx, c => sqlx::query("UPDATE accounts SET moved_to_account_id = $2 WHERE id = $1")
        .bind(account_id).bind(target).execute(&mut *c).await.map(|_| ()))
}

/// Records a move made by a local account.
pub async fn insert_migration(tx: &mut Tx, m: &MigrationRow) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO account_migrations (id, account_id, target_account_id, acct, followers_count, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(m.id).bind(m.account_id).bind(m.target_account_id).bind(&m.acct).bind(m.followers_count)
        .bind(m.created_at).execute(&mut *c).await.map(|_| ()))
}

/// A local account's moves, newest first (at most `limit`).
pub async fn migrations(db: &Db, account_id: i64, limit: i64) -> sqlx::Result<Vec<MigrationRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT id, account_id, target_account_id, acct, followers_count, created_at \
         FROM account_migrations WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
        .bind(account_id).bind(limit).fetch_all(c).await)
}

/// A follow of a moving account by a local account, as the move job reads it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LocalFollower {
    pub account_id: i64,
    pub show_reblogs: bool,
    pub notify: bool,
}

/// Local followers of `account_id` with an account ID above `after`, lowest first (a page of the
/// move job).
pub async fn local_followers_after(
    db: &Db,
    account_id: i64,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<LocalFollower>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT f.account_id, f.show_reblogs, f.notify FROM follows f JOIN accounts a ON a.id = f.account_id \
         WHERE f.target_account_id = $1 AND a.domain IS NULL AND f.account_id > $2 \
         ORDER BY f.account_id LIMIT $3")
        .bind(account_id).bind(after).bind(limit).fetch_all(c).await)
}

/// Local accounts that block (`mutes = false`) or mute `account_id`, with an account ID above
/// `after`, lowest first; for a mute, whether it hides notifications.
pub async fn local_blockers_after(
    db: &Db,
    account_id: i64,
    mutes: bool,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<(i64, bool)>> {
    let sql = if mutes {
        "SELECT m.account_id, m.hide_notifications FROM mutes m JOIN accounts a ON a.id = m.account_id \
         WHERE m.target_account_id = $1 AND a.domain IS NULL AND m.account_id > $2 ORDER BY m.account_id LIMIT $3"
    } else {
        "SELECT b.account_id, FALSE FROM blocks b JOIN accounts a ON a.id = b.account_id \
         WHERE b.target_account_id = $1 AND a.domain IS NULL AND b.account_id > $2 ORDER BY b.account_id LIMIT $3"
    };
    on_db!(db, c => sqlx::query_as(sql).bind(account_id).bind(after).bind(limit).fetch_all(c).await)
}

/// Puts `target` in every list of `owner` that holds `origin`.
pub async fn copy_list_memberships(
    tx: &mut Tx,
    owner: i64,
    origin: i64,
    target: i64,
) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO list_accounts (list_id, account_id) SELECT la.list_id, $3 FROM list_accounts la \
         JOIN lists l ON l.id = la.list_id WHERE l.account_id = $1 AND la.account_id = $2 \
         ON CONFLICT DO NOTHING")
        .bind(owner).bind(origin).bind(target).execute(&mut *c).await.map(|_| ()))
}

/// Inboxes of remote accounts that block `account_id` (they hear of its move too, so the block
/// can follow it).
pub async fn remote_blocker_inboxes(db: &Db, account_id: i64) -> sqlx::Result<Vec<String>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT DISTINCT coalesce(a.shared_inbox_url, a.inbox_url) FROM blocks b JOIN accounts a ON a.id = b.account_id \
         WHERE b.target_account_id = $1 AND a.domain IS NOT NULL AND a.inbox_url IS NOT NULL")
        .bind(account_id).fetch_all(c).await)
}

/// Local accounts' private notes about `account_id` (`(author, comment)`), authors above `after`,
/// lowest first.
pub async fn local_notes_about_after(
    db: &Db,
    account_id: i64,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<(i64, String)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT n.account_id, n.comment FROM account_notes n JOIN accounts a ON a.id = n.account_id \
         WHERE n.target_account_id = $1 AND a.domain IS NULL AND n.account_id > $2 ORDER BY n.account_id LIMIT $3")
        .bind(account_id).bind(after).bind(limit).fetch_all(c).await)
}
