//! Storing statuses: inserts (one or many), edits, deletes, counters, mentions, hashtags, and
//! idempotency keys.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::account_stats::{self, Stat};
use crate::storage::db::{Db, Tx};
use crate::storage::sql::{Args, MAX_ROWS};
use crate::{bind_args, on_db};

use super::*;

pub struct NewStatus<'a> {
    pub id: i64,
    pub uri: &'a str,
    pub url: Option<&'a str>,
    pub account_id: i64,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub reblog_of_id: Option<i64>,
    pub conversation_id: i64,
    pub text: &'a str,
    pub content: &'a str,
    pub spoiler_text: &'a str,
    pub visibility: &'a str,
    pub sensitive: bool,
    pub language: Option<&'a str>,
    pub local: bool,
    pub application_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// A reply to a story (a direct message): the story.
    pub in_reply_to_story_id: Option<i64>,
    pub short: bool,
    /// Who may quote it (`service::quotes::Policy` bits).
    pub quote_approval_policy: i64,
}

/// A [`NewStatus`] that owns its text, to move into a task of its own ([`Db::write`](crate::storage::Db::write)).
pub struct NewStatusBuf {
    fields: NewStatus<'static>,
    uri: String,
    url: Option<String>,
    text: String,
    content: String,
    spoiler_text: String,
    visibility: String,
    language: Option<String>,
}

impl NewStatus<'_> {
    pub fn to_buf(&self) -> NewStatusBuf {
        NewStatusBuf {
            // The text fields are filled in by `as_new`.
            fields: NewStatus {
                id: self.id,
                uri: "",
                url: None,
                account_id: self.account_id,
                in_reply_to_id: self.in_reply_to_id,
                in_reply_to_account_id: self.in_reply_to_account_id,
                reblog_of_id: self.reblog_of_id,
                conversation_id: self.conversation_id,
                text: "",
                content: "",
                spoiler_text: "",
                visibility: "",
                sensitive: self.sensitive,
                language: None,
                local: self.local,
                application_id: self.application_id,
                created_at: self.created_at,
                in_reply_to_story_id: self.in_reply_to_story_id,
                short: self.short,
                quote_approval_policy: self.quote_approval_policy,
            },
            uri: self.uri.to_owned(),
            url: self.url.map(str::to_owned),
            text: self.text.to_owned(),
            content: self.content.to_owned(),
            spoiler_text: self.spoiler_text.to_owned(),
            visibility: self.visibility.to_owned(),
            language: self.language.map(str::to_owned),
        }
    }
}

impl NewStatusBuf {
    pub fn as_new(&self) -> NewStatus<'_> {
        NewStatus {
            uri: &self.uri,
            url: self.url.as_deref(),
            text: &self.text,
            content: &self.content,
            spoiler_text: &self.spoiler_text,
            visibility: &self.visibility,
            language: self.language.as_deref(),
            ..self.fields
        }
    }
}

pub async fn insert(tx: &mut Tx, n: &NewStatus<'_>) -> sqlx::Result<StatusRow> {
    insert_many(tx, std::slice::from_ref(n))
        .await?
        .pop()
        .ok_or(sqlx::Error::RowNotFound)
}

/// Inserts `news` with one statement and counts them in their authors' statistics; returns the
/// stored rows (they come back with the insert: no second read once the transaction commits) in
/// the order given.
pub async fn insert_many(tx: &mut Tx, news: &[NewStatus<'_>]) -> sqlx::Result<Vec<StatusRow>> {
    let mut rows = Vec::with_capacity(news.len());
    for chunk in news.chunks(MAX_ROWS) {
        rows.extend(insert_chunk(tx, chunk).await?);
    }
    Ok(rows)
}

pub(super) async fn insert_chunk(
    tx: &mut Tx,
    news: &[NewStatus<'_>],
) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let values: Vec<String> = news
        .iter()
        .map(|n| {
            let v = [
                args.add(n.id),
                args.add(n.uri),
                args.add(n.url),
                args.add(n.account_id),
                args.add(n.in_reply_to_id),
                args.add(n.in_reply_to_account_id),
                args.add(n.reblog_of_id),
                args.add(n.conversation_id),
                args.add(n.text),
                args.add(n.content),
                args.add(n.spoiler_text),
                args.add(n.visibility),
                args.add(n.sensitive),
                args.add(n.language),
                args.add(n.local),
                args.add(n.application_id),
                args.add(n.created_at),
                args.add(n.in_reply_to_story_id),
                args.add(n.short),
                args.add(n.quote_approval_policy),
            ];
            format!("({})", v.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO statuses (id, uri, url, account_id, in_reply_to_id, in_reply_to_account_id, \
         reblog_of_id, conversation_id, text, content, spoiler_text, visibility, sensitive, language, \
         local, application_id, created_at, in_reply_to_story_id, short, quote_approval_policy) VALUES {} RETURNING {}",
        values.join(", "),
        COLUMNS.replace("s.", "")
    );
    let mut rows: Vec<StatusRow> = on_db!(tx, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args)
        .fetch_all(c).await)?;
    // RETURNING gives no order.
    rows.sort_by_key(|r| news.iter().position(|n| n.id == r.id));
    // Direct messages are not counted, as on Mastodon.
    let counted: Vec<(i64, DateTime<Utc>)> = news
        .iter()
        .filter(|n| n.visibility != "direct")
        .map(|n| (n.account_id, n.created_at))
        .collect();
    account_stats::statuses_posted(tx, &counted).await?;
    Ok(rows)
}

/// Replaces the text of an edited status.
pub async fn update_content(
    tx: &mut Tx,
    id: i64,
    text: &str,
    content: &str,
    spoiler_text: &str,
    sensitive: bool,
    language: Option<&str>,
    edited_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "UPDATE statuses SET text = $2, content = $3, spoiler_text = $4, sensitive = $5, \
         language = $6, edited_at = $7 WHERE id = $1")
        .bind(id).bind(text).bind(content).bind(spoiler_text).bind(sensitive).bind(language)
        .bind(edited_at).execute(c).await.map(|r| r.rows_affected()))?;
    tx.changes_key(crate::storage::changes::Kind::Statuses, id);
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EditRow {
    pub id: i64,
    pub status_id: i64,
    pub account_id: i64,
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_edit(tx: &mut Tx, e: &EditRow) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO status_edits (id, status_id, account_id, text, content, spoiler_text, sensitive, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(e.id).bind(e.status_id).bind(e.account_id).bind(&e.text).bind(&e.content)
        .bind(&e.spoiler_text).bind(e.sensitive).bind(e.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Stored versions of a status, oldest first (empty when never edited).
pub async fn edits(db: &Db, status_id: i64) -> sqlx::Result<Vec<EditRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT id, status_id, account_id, text, content, spoiler_text, sensitive, created_at \
         FROM status_edits WHERE status_id = $1 ORDER BY id")
        .bind(status_id).fetch_all(c).await)
}

/// Deletes a status (its boosts, mentions, tags, favourites and feed entries go with it), and
/// takes it and its boosts off their authors' counts.
pub async fn delete(tx: &mut Tx, id: i64) -> sqlx::Result<()> {
    let counted: Vec<i64> = on_db!(tx, c => sqlx::query_scalar(
        "SELECT account_id FROM statuses WHERE (id = $1 OR reblog_of_id = $1) AND visibility <> 'direct'")
        .bind(id).fetch_all(c).await)?;
    for account in counted {
        account_stats::adjust(tx, account, Stat::Statuses, -1).await?;
    }
    // Quotes change with it: the status it quotes loses a quote, and statuses quoting it now
    // quote a deleted post (`quotes.quoted_status_id` set null by the database).
    let related: Vec<Option<i64>> = on_db!(tx, c => sqlx::query_scalar(
        "SELECT quoted_status_id FROM quotes WHERE status_id = $1 \
         UNION ALL SELECT status_id FROM quotes WHERE quoted_status_id = $1")
        .bind(id).fetch_all(c).await)?;
    on_db!(tx, c => sqlx::query("DELETE FROM statuses WHERE id = $1").bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.changes_key(crate::storage::changes::Kind::Statuses, id);
    for other in related.into_iter().flatten() {
        tx.changes_key(crate::storage::changes::Kind::Statuses, other);
    }
    Ok(())
}

/// Adds `delta` to one of the counter columns.
pub async fn adjust_counter(tx: &mut Tx, id: i64, column: Counter, delta: i64) -> sqlx::Result<()> {
    let col = match column {
        Counter::Replies => "replies_count",
        Counter::Reblogs => "reblogs_count",
        Counter::Favourites => "favourites_count",
    };
    let sql = format!("UPDATE statuses SET {col} = {col} + $2 WHERE id = $1 AND {col} + $2 >= 0");
    on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(id).bind(delta)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.changes_key(crate::storage::changes::Kind::Statuses, id);
    Ok(())
}

#[derive(Clone, Copy, Debug)]
pub enum Counter {
    Replies,
    Reblogs,
    Favourites,
}

pub async fn insert_mentions(tx: &mut Tx, status_id: i64, account_ids: &[i64]) -> sqlx::Result<()> {
    let pairs: Vec<(i64, i64)> = account_ids.iter().map(|a| (status_id, *a)).collect();
    insert_mentions_many(tx, &pairs).await
}

/// Stores `(status_id, account_id)` mentions with one statement; known ones are skipped.
pub async fn insert_mentions_many(tx: &mut Tx, pairs: &[(i64, i64)]) -> sqlx::Result<()> {
    for chunk in pairs.chunks(MAX_ROWS) {
        insert_mentions_chunk(tx, chunk).await?;
    }
    Ok(())
}

pub(super) async fn insert_mentions_chunk(tx: &mut Tx, pairs: &[(i64, i64)]) -> sqlx::Result<()> {
    let mut args = Args::default();
    let values: Vec<String> = pairs
        .iter()
        .map(|(s, a)| format!("({}, {})", args.add(*s), args.add(*a)))
        .collect();
    let sql = format!(
        "INSERT INTO mentions (status_id, account_id) VALUES {} ON CONFLICT DO NOTHING",
        values.join(", ")
    );
    on_db!(tx, c => bind_args!(sqlx::query(AssertSqlSafe(sql.as_str())), args)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn clear_mentions_and_tags(tx: &mut Tx, status_id: i64) -> sqlx::Result<()> {
    // Read by the status links cache (`service::render`). A new status's links are written with
    // it, before anyone can read it, so only this change needs marking.
    tx.changes(crate::storage::changes::Kind::StatusLinks);
    on_db!(tx, c => {
        sqlx::query("DELETE FROM mentions WHERE status_id = $1").bind(status_id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM statuses_tags WHERE status_id = $1").bind(status_id).execute(&mut *c).await?;
    });
    Ok(())
}

/// Links hashtags (creating them as needed) to a status; returns the tag IDs.
pub async fn attach_tags(tx: &mut Tx, status_id: i64, names: &[String]) -> sqlx::Result<Vec<i64>> {
    let mut ids = Vec::new();
    for name in names {
        let lower = name.to_lowercase();
        let id: i64 = on_db!(tx, c => {
            sqlx::query("INSERT INTO tags (id, name, display_name, created_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (name) DO NOTHING")
                .bind(crate::storage::ids::new_id()).bind(&lower).bind(name).bind(Utc::now())
                .execute(&mut *c).await?;
            sqlx::query_scalar("SELECT id FROM tags WHERE name = $1").bind(&lower).fetch_one(&mut *c).await?
        });
        on_db!(tx, c => sqlx::query(
            "INSERT INTO statuses_tags (status_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(status_id).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        ids.push(id);
    }
    Ok(ids)
}

/// Remembers which status an `Idempotency-Key` produced.
pub async fn remember_idempotency_key(
    tx: &mut Tx,
    account_id: i64,
    key: &str,
    status_id: i64,
) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "INSERT INTO idempotency_keys (account_id, key, status_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(account_id).bind(key).bind(status_id).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The status an `Idempotency-Key` produced within the last hour, if any.
pub async fn idempotent_status(db: &Db, account_id: i64, key: &str) -> sqlx::Result<Option<i64>> {
    let since = Utc::now() - chrono::Duration::hours(1);
    on_db!(db, c => sqlx::query_scalar(
        "SELECT status_id FROM idempotency_keys WHERE account_id = $1 AND key = $2 AND created_at >= $3")
        .bind(account_id).bind(key).bind(since).fetch_optional(c).await)
}
