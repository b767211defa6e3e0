//! Remote accounts: stored from their actors, found by URI, deleted, and the servers we know.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::Db;

use super::*;

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
    pub indexable: bool,
    pub url: Option<&'a str>,
    pub inbox_url: &'a str,
    pub shared_inbox_url: Option<&'a str>,
    pub public_key_pem: &'a str,
    pub actor_type: &'a str,
    pub published: Option<DateTime<Utc>>,
    /// `alsoKnownAs` (actor URIs).
    pub also_known_as: Vec<String>,
    /// Whether the actor names a `movedTo`: without one, a redirect recorded from an earlier
    /// `Move` is lifted (the move was undone).
    pub has_moved_to: bool,
}

/// Inserts or refreshes a remote account by its actor URI; returns its ID.
///
/// Errors: unique violation when another account already has this `username@domain`.
pub async fn upsert_remote(db: &Db, r: &RemoteAccount<'_>) -> sqlx::Result<i64> {
    let now = Utc::now();
    let created = r.published.unwrap_or(now);
    on_db!(db, c => sqlx::query_scalar(
        "INSERT INTO accounts (id, username, domain, display_name, note, fields, locked, bot, discoverable, \
         uri, url, inbox_url, shared_inbox_url, public_key_pem, actor_type, created_at, updated_at, fetched_at, indexable, also_known_as) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19) \
         ON CONFLICT (uri) DO UPDATE SET username = $2, display_name = $4, note = $5, fields = $6, \
         locked = $7, bot = $8, discoverable = $9, url = $11, inbox_url = $12, shared_inbox_url = $13, \
         public_key_pem = $14, actor_type = $15, updated_at = $17, fetched_at = $17, indexable = $18, \
         also_known_as = $19, moved_to_account_id = CASE WHEN $20 THEN accounts.moved_to_account_id END \
         RETURNING id")
        .bind(crate::storage::ids::id_at(created)).bind(r.username).bind(r.domain).bind(r.display_name)
        .bind(r.note).bind(Json(r.fields.clone())).bind(r.locked).bind(r.bot).bind(r.discoverable)
        .bind(r.uri).bind(r.url).bind(r.inbox_url).bind(r.shared_inbox_url).bind(r.public_key_pem)
        .bind(r.actor_type).bind(created).bind(now).bind(r.indexable)
        .bind(Json(r.also_known_as.clone())).bind(r.has_moved_to)
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
