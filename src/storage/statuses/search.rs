//! Full-text search of statuses (migration 0031): SQLite FTS5 (`status_search`, written here) and
//! PostgreSQL `tsvector` (an expression index over the row, nothing to write), with the same
//! query: words and phrases that must or must not appear, and the search operators as SQL.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::db::{Db, Tx};
use crate::storage::sql::{Args, Page};

use crate::{bind_args, on_db};

use super::*;

/// What is indexed of a status: its text and content warning without markup (tags become spaces;
/// entities are left for the tokenizer, which splits on their punctuation).
pub fn indexed_text(content_html: &str, spoiler_text: &str) -> String {
    let mut out = String::with_capacity(content_html.len() + spoiler_text.len() + 1);
    let mut in_tag = false;
    for c in content_html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.push(' ');
    out.push_str(spoiler_text);
    out.replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
}

/// Indexes (or re-indexes) one status's text, in its transaction. PostgreSQL indexes the row itself.
pub async fn index_search(tx: &mut Tx, id: i64, text: &str) -> sqlx::Result<()> {
    fts_replace(tx, "status_search", id, text).await
}

/// Sets row `id` of SQLite FTS5 table `table` (column `body`) to `text`; nothing on PostgreSQL,
/// whose full-text indexes are expressions over the rows.
pub(crate) async fn fts_replace(
    tx: &mut Tx,
    table: &'static str,
    id: i64,
    text: &str,
) -> sqlx::Result<()> {
    if let Tx::Sqlite(t, _) = tx {
        let c = t.connection();
        let delete = format!("DELETE FROM {table} WHERE rowid = $1");
        sqlx::query(AssertSqlSafe(delete.as_str()))
            .bind(id)
            .execute(&mut *c)
            .await?;
        let insert = format!("INSERT INTO {table} (rowid, body) VALUES ($1, $2)");
        sqlx::query(AssertSqlSafe(insert.as_str()))
            .bind(id)
            .bind(text)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Up to `limit` statuses (not boosts) after ID `after`, oldest first: `(id, content, spoiler)`,
/// for indexing those stored before the index existed.
pub async fn unindexed_after(
    db: &Db,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<(i64, String, String)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT id, content, spoiler_text FROM statuses WHERE id > $1 AND reblog_of_id IS NULL ORDER BY id LIMIT $2")
        .bind(after).bind(limit).fetch_all(c).await)
}

/// A parsed search, as `service::search::statuses` builds it from Mastodon's query syntax.
#[derive(Clone, Debug, Default)]
pub struct StatusQuery {
    /// Words or phrases (several words) that must appear (`false`) or must not (`true`).
    pub terms: Vec<(String, bool)>,
    /// Authors the status must be by (any of them), and must not be by.
    pub from: Vec<i64>,
    pub not_from: Vec<i64>,
    /// `has:` and `is:` properties, each required (`true`) or excluded (`false`).
    pub has_media: Option<bool>,
    pub has_poll: Option<bool>,
    pub has_link: Option<bool>,
    pub is_reply: Option<bool>,
    pub is_sensitive: Option<bool>,
    pub language: Vec<(String, bool)>,
    pub before: Option<DateTime<Utc>>,
    pub after: Option<DateTime<Utc>>,
}

/// Statuses matching `q` that `viewer` may find (`ANONYMOUS`: public posts of `indexable`
/// accounts only), newest first: the viewer's own, those mentioning them (direct messages to
/// them included), those they favourited, bookmarked or boosted, and public posts of accounts
/// that opted in (`indexable`) — always only what the viewer may see, minus blocked, muted and
/// domain-blocked authors. Paged by `page` (`max_id`, `min_id`, `limit`) and `offset`.
pub async fn search_statuses(
    db: &Db,
    viewer: i64,
    q: &StatusQuery,
    page: &Page,
    offset: i64,
) -> sqlx::Result<Vec<i64>> {
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let mut conds = vec![
        "s.reblog_of_id IS NULL".to_string(),
        format!(
            "(s.account_id = {v} \
              OR EXISTS (SELECT 1 FROM mentions qm WHERE qm.status_id = s.id AND qm.account_id = {v}) \
              OR EXISTS (SELECT 1 FROM favourites qf WHERE qf.status_id = s.id AND qf.account_id = {v}) \
              OR EXISTS (SELECT 1 FROM bookmarks qb WHERE qb.status_id = s.id AND qb.account_id = {v}) \
              OR EXISTS (SELECT 1 FROM statuses qr WHERE qr.reblog_of_id = s.id AND qr.account_id = {v}) \
              OR (s.visibility = 'public' AND EXISTS (SELECT 1 FROM accounts qa \
                  WHERE qa.id = s.account_id AND qa.indexable)))"
        ),
        visible_to("s", &v),
        format!(
            "(s.account_id = {v} OR {})",
            not_filtered("s.account_id", &v, &now)
        ),
    ];
    let positive: Vec<&str> = q
        .terms
        .iter()
        .filter(|(_, neg)| !neg)
        .map(|(t, _)| t.as_str())
        .collect();
    let negative: Vec<&str> = q
        .terms
        .iter()
        .filter(|(_, neg)| *neg)
        .map(|(t, _)| t.as_str())
        .collect();
    match db {
        Db::Sqlite(..) => {
            // Each term quoted (a phrase): FTS5 syntax in user input is taken literally.
            let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
            if !positive.is_empty() {
                let mut m: Vec<String> = positive.iter().map(|t| quote(t)).collect();
                m.extend(negative.iter().map(|t| format!("NOT {}", quote(t))));
                let p = args.add(m.join(" "));
                conds.push(format!(
                    "s.id IN (SELECT rowid FROM status_search WHERE status_search MATCH {p})"
                ));
            } else if !negative.is_empty() {
                let any: Vec<String> = negative.iter().map(|t| quote(t)).collect();
                let p = args.add(any.join(" OR "));
                conds.push(format!(
                    "s.id NOT IN (SELECT rowid FROM status_search WHERE status_search MATCH {p})"
                ));
            }
        }
        Db::Postgres(..) => {
            let mut parts = Vec::new();
            for t in &positive {
                parts.push(format!("phraseto_tsquery('simple', {})", args.add(*t)));
            }
            for t in &negative {
                parts.push(format!("(!! phraseto_tsquery('simple', {}))", args.add(*t)));
            }
            if !parts.is_empty() {
                conds.push(format!(
                    "to_tsvector('simple', regexp_replace(s.content || ' ' || s.spoiler_text, '<[^>]*>', ' ', 'g')) @@ ({})",
                    parts.join(" && ")
                ));
            }
        }
    }
    if !q.from.is_empty() {
        conds.push(format!("s.account_id IN ({})", args.ids(&q.from)));
    }
    if !q.not_from.is_empty() {
        conds.push(format!("s.account_id NOT IN ({})", args.ids(&q.not_from)));
    }
    let flag = |on: Option<bool>, sql: &str| {
        on.map(|yes| {
            if yes {
                format!("({sql})")
            } else {
                format!("NOT ({sql})")
            }
        })
    };
    conds.extend(flag(q.has_media, "s.has_media"));
    conds.extend(flag(q.has_poll, "s.poll_id IS NOT NULL"));
    conds.extend(flag(q.has_link, "s.card_id IS NOT NULL"));
    conds.extend(flag(q.is_reply, "s.in_reply_to_id IS NOT NULL"));
    conds.extend(flag(q.is_sensitive, "s.sensitive"));
    for (lang, neg) in &q.language {
        let l = args.add(lang.as_str());
        conds.push(if *neg {
            format!("(s.language IS NULL OR s.language <> {l})")
        } else {
            format!("s.language = {l}")
        });
    }
    if let Some(b) = q.before {
        conds.push(format!("s.created_at < {}", args.add(b)));
    }
    if let Some(a) = q.after {
        conds.push(format!("s.created_at >= {}", args.add(a)));
    }
    if let Some(m) = page.max_id {
        conds.push(format!("s.id < {}", args.add(m)));
    }
    for m in [page.since_id, page.min_id].into_iter().flatten() {
        conds.push(format!("s.id > {}", args.add(m)));
    }
    let order = if page.min_id.is_some() { "ASC" } else { "DESC" };
    let (l, o) = (args.add(page.limit), args.add(offset));
    let sql = format!(
        "SELECT s.id FROM statuses s WHERE {} ORDER BY s.id {order} LIMIT {l} OFFSET {o}",
        conds.join(" AND ")
    );
    let ids: Vec<i64> = on_db!(db, c => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(ids))
}
