//! Direct conversations: each local participant's view of a thread of direct statuses
//! (`account_conversations`), how far each participant has read (`conversation_reads`), and the
//! full-text index of direct messages.
//!
//! A conversation is a thread (`statuses.conversation_id`, the ID of its first status). Only
//! direct statuses the account wrote or is mentioned in count as its messages, so a private thread
//! never shows anything its reader could not see.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::db::{Db, Tx};
use crate::storage::ids;
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConversationRow {
    /// The ID clients see (`Conversation.id`); each participant's row has its own.
    pub id: i64,
    pub account_id: i64,
    /// The thread: `statuses.conversation_id` of its messages.
    pub conversation_id: i64,
    pub last_status_id: i64,
    pub unread: bool,
}

const COLUMNS: &str = "ac.id, ac.account_id, ac.conversation_id, ac.last_status_id, ac.unread";

/// SQL: is status `s` one of account `a`'s messages (a direct status it wrote or is mentioned in)?
fn message_of(s: &str, a: &str) -> String {
    format!(
        "({s}.visibility = 'direct' AND {s}.reblog_of_id IS NULL AND ({s}.account_id = {a} \
         OR EXISTS (SELECT 1 FROM mentions cm WHERE cm.status_id = {s}.id AND cm.account_id = {a})))"
    )
}

/// Adds direct status `status_id` (by `author_id`, in thread `conversation_id`) to the
/// conversation of each local account among `participants`: it becomes the latest message, unread
/// for everyone but its author. Remote accounts are skipped. A status older than the latest one
/// already there changes nothing. Returns the rows that changed.
pub async fn add_status(
    tx: &mut Tx,
    status_id: i64,
    conversation_id: i64,
    author_id: i64,
    participants: &[i64],
) -> sqlx::Result<Vec<ConversationRow>> {
    let mut changed = Vec::new();
    for &account in participants {
        let row: Option<ConversationRow> = on_db!(tx, c => sqlx::query_as(
            "INSERT INTO account_conversations AS ac (id, account_id, conversation_id, last_status_id, unread) \
             SELECT $1, a.id, $2, $3, $4 FROM accounts a WHERE a.id = $5 AND a.domain IS NULL \
             ON CONFLICT (account_id, conversation_id) DO UPDATE \
               SET last_status_id = excluded.last_status_id, unread = excluded.unread \
               WHERE excluded.last_status_id > ac.last_status_id \
             RETURNING id, account_id, conversation_id, last_status_id, unread")
            .bind(ids::new_id()).bind(conversation_id).bind(status_id).bind(account != author_id)
            .bind(account).fetch_optional(c).await)?;
        changed.extend(row);
    }
    Ok(changed)
}

/// Before direct status `status_id` is deleted: each conversation whose latest message it is falls
/// back to the previous message its account may read, or goes when there is none.
pub async fn remove_status(tx: &mut Tx, status_id: i64) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE account_conversations SET last_status_id = COALESCE((SELECT max(s.id) FROM statuses s \
           WHERE s.conversation_id = account_conversations.conversation_id AND s.id <> $1 AND {msg}), 0) \
         WHERE last_status_id = $1",
        msg = message_of("s", "account_conversations.account_id"),
    );
    on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(status_id)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    on_db!(tx, c => sqlx::query("DELETE FROM account_conversations WHERE last_status_id = 0")
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// `account`'s conversations, paginated by their latest message's ID as Mastodon does (the
/// `max_id`/`min_id` of a page are status IDs), newest first.
pub async fn list(db: &Db, account: i64, page: &Page) -> sqlx::Result<Vec<ConversationRow>> {
    let mut args = Args::default();
    let a = args.add(account);
    let (cond, tail) = page.sql("ac.last_status_id", &mut args);
    let sql = format!(
        "SELECT {COLUMNS} FROM account_conversations ac WHERE ac.account_id = {a} AND {cond} {tail}"
    );
    let rows = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// One of `account`'s conversations by its ID.
pub async fn find(db: &Db, account: i64, id: i64) -> sqlx::Result<Option<ConversationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM account_conversations ac WHERE ac.id = $1 AND ac.account_id = $2"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).bind(account).fetch_optional(c).await)
}

/// `account`'s messages in thread `conversation_id` (direct statuses it wrote or is mentioned in),
/// newest first as `page` selects them (by status ID).
pub async fn messages(
    db: &Db,
    account: i64,
    conversation_id: i64,
    page: &Page,
) -> sqlx::Result<Vec<crate::storage::statuses::StatusRow>> {
    let mut args = Args::default();
    let a = args.add(account);
    let c = args.add(conversation_id);
    let (cond, tail) = page.sql("s.id", &mut args);
    let sql = format!(
        "SELECT {cols} FROM statuses s WHERE s.conversation_id = {c} AND {msg} AND {cond} {tail}",
        cols = crate::storage::statuses::COLUMNS,
        msg = message_of("s", &a),
    );
    let rows = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// Every local participant's row for thread `conversation_id`.
pub async fn of_thread(db: &Db, conversation_id: i64) -> sqlx::Result<Vec<ConversationRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM account_conversations ac WHERE ac.conversation_id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(conversation_id).fetch_all(c).await)
}

/// Marks one conversation read (or unread) for its account.
pub async fn set_unread(tx: &mut Tx, id: i64, unread: bool) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("UPDATE account_conversations SET unread = $2 WHERE id = $1")
        .bind(id).bind(unread).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes one of `account`'s conversations (its messages stay). True when there was one.
pub async fn delete(db: &Db, account: i64, id: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query("DELETE FROM account_conversations WHERE id = $1 AND account_id = $2")
        .bind(id).bind(account).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Records that `account` has read thread `conversation_id` up to `status_id` (a read never moves
/// backwards). True when this moved the mark.
pub async fn record_read(
    tx: &mut Tx,
    account: i64,
    conversation_id: i64,
    status_id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = on_db!(tx, c => sqlx::query(
        "INSERT INTO conversation_reads AS r (account_id, conversation_id, status_id, read_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, conversation_id) DO UPDATE \
         SET status_id = excluded.status_id, read_at = excluded.read_at \
         WHERE excluded.status_id > r.status_id")
        .bind(account).bind(conversation_id).bind(status_id).bind(at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// One recipient of a direct status, with what is known of its arrival.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RecipientRow {
    pub account_id: i64,
    pub local: bool,
    /// When the recipient's server accepted it (remote recipients; `None` until then).
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the recipient read this message or a later one in the thread.
    pub read_at: Option<DateTime<Utc>>,
}

/// The recipients of status `status_id` (everyone it mentions, the author excepted), with the
/// delivery to each remote recipient's inbox (personal or shared) and their read mark.
pub async fn recipients(db: &Db, status_id: i64) -> sqlx::Result<Vec<RecipientRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT a.id AS account_id, a.domain IS NULL AS local, \
           (SELECT min(d.delivered_at) FROM deliveries d WHERE d.status_id = s.id AND d.state = 'delivered' \
              AND (d.inbox_url = a.inbox_url OR d.inbox_url = a.shared_inbox_url)) AS delivered_at, \
           (SELECT r.read_at FROM conversation_reads r WHERE r.account_id = a.id \
              AND r.conversation_id = s.conversation_id AND r.status_id >= s.id) AS read_at \
         FROM statuses s JOIN mentions m ON m.status_id = s.id JOIN accounts a ON a.id = m.account_id \
         WHERE s.id = $1 AND a.id <> s.account_id ORDER BY a.id")
        .bind(status_id).fetch_all(c).await)
}

/// Makes direct status `status_id` findable by its plain text (SQLite's FTS5 table; PostgreSQL
/// indexes `statuses.content` itself, see migration 0014). Replaces any earlier text (edits).
pub async fn index_text(tx: &mut Tx, status_id: i64, text: &str) -> sqlx::Result<()> {
    crate::storage::statuses::fts_replace(tx, "direct_search", status_id, text).await
}

/// `account`'s messages (direct statuses it wrote or is mentioned in) containing every word of
/// `query`, newest first, `offset`/`limit` as `/api/v2/search` pages. SQLite FTS5 and PostgreSQL
/// `tsvector` ('simple' configuration) side by side; words are matched as whole tokens.
pub async fn search(
    db: &Db,
    account: i64,
    query: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<i64>> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let a = args.add(account);
    let msg = message_of("s", &a);
    match db {
        Db::Sqlite(..) => {
            // Each word quoted: FTS5 query syntax in user input is taken literally.
            let q = args.add(
                words
                    .iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            let (l, o) = (args.add(limit), args.add(offset));
            let sql = format!(
                "SELECT s.id FROM direct_search ds JOIN statuses s ON s.id = ds.rowid \
                 WHERE direct_search MATCH {q} AND {msg} ORDER BY s.id DESC LIMIT {l} OFFSET {o}"
            );
            on_db!(db, c => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
        }
        Db::Postgres(..) => {
            let q = args.add(words.join(" "));
            let (l, o) = (args.add(limit), args.add(offset));
            let sql = format!(
                "SELECT s.id FROM statuses s \
                 WHERE s.visibility = 'direct' \
                   AND to_tsvector('simple', regexp_replace(s.content, '<[^>]*>', ' ', 'g')) @@ plainto_tsquery('simple', {q}) \
                   AND {msg} ORDER BY s.id DESC LIMIT {l} OFFSET {o}"
            );
            on_db!(db, c => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
        }
    }
}

/// Local accounts that share at least one conversation with `account` (who may see its presence).
pub async fn partners(db: &Db, account: i64) -> sqlx::Result<Vec<i64>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT DISTINCT b.account_id FROM account_conversations a \
         JOIN account_conversations b ON b.conversation_id = a.conversation_id \
         WHERE a.account_id = $1 AND b.account_id <> $1")
        .bind(account).fetch_all(c).await)
}
