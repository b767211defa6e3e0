//! Statuses (posts and boosts) with their mentions, hashtags, edits, and the per-viewer state
//! (favourited, boosted, bookmarked, pinned, thread muted); timelines and threads.
//!
//! Visibility is decided in SQL by [`visible_to`], so a status a viewer may not see never leaves
//! the database: public and unlisted to everyone, private to the author, followers and mentioned
//! accounts, direct to the author and mentioned accounts. [`not_filtered`] drops authors the viewer
//! blocks or mutes and authors who block the viewer. Anonymous viewers are passed as `-1`.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::account_stats::{self, Stat};
use crate::storage::db::{Db, Tx};
use crate::storage::sql::{Args, MAX_ROWS, Page, json_elements};
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StatusRow {
    pub id: i64,
    pub uri: String,
    pub url: Option<String>,
    pub account_id: i64,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub reblog_of_id: Option<i64>,
    pub conversation_id: i64,
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub visibility: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub local: bool,
    pub application_id: Option<i64>,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// At least one media attachment (so pages without media skip looking for any).
    pub has_media: bool,
    /// A short: one vertical video (docs/API.md, Shorts).
    pub short: bool,
    /// Views (one per viewer per day) and those watched to the end.
    pub views_count: i64,
    pub completed_views_count: i64,
    /// The preview card of its first link, once fetched.
    pub card_id: Option<i64>,
}

pub const COLUMNS: &str = "s.id, s.uri, s.url, s.account_id, s.in_reply_to_id, \
    s.in_reply_to_account_id, s.reblog_of_id, s.conversation_id, s.text, s.content, s.spoiler_text, \
    s.visibility, s.sensitive, s.language, s.local, s.application_id, s.replies_count, \
    s.reblogs_count, s.favourites_count, s.created_at, s.edited_at, s.has_media, s.short, \
    s.views_count, s.completed_views_count, s.card_id";

/// The viewer ID used for anonymous requests: no account has it.
pub const ANONYMOUS: i64 = -1;

/// SQL: may viewer `v` (a placeholder) see status alias `s`?
pub fn visible_to(s: &str, v: &str) -> String {
    format!(
        "({s}.visibility IN ('public', 'unlisted') OR {s}.account_id = {v} \
         OR ({s}.visibility = 'private' AND EXISTS (SELECT 1 FROM follows vf \
             WHERE vf.account_id = {v} AND vf.target_account_id = {s}.account_id)) \
         OR EXISTS (SELECT 1 FROM mentions vm WHERE vm.status_id = {s}.id AND vm.account_id = {v}))"
    )
}

/// SQL: is author column `a` neither blocked nor muted by viewer `v`, nor blocking `v`?
/// `now` is a placeholder for the current time (mutes can expire).
pub fn not_filtered(a: &str, v: &str, now: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM blocks fb WHERE (fb.account_id = {v} AND fb.target_account_id = {a}) \
             OR (fb.account_id = {a} AND fb.target_account_id = {v})) \
         AND NOT EXISTS (SELECT 1 FROM mutes fm WHERE fm.account_id = {v} AND fm.target_account_id = {a} \
             AND (fm.expires_at IS NULL OR fm.expires_at > {now}))"
    )
}

/// SQL condition: account `{a}` is neither limited by a moderator nor on a limited ("silenced")
/// domain — or viewer `{v}` is it or follows it. A domain's silence covers subdomains, as suspension
/// does. Mastodon hides limited accounts from everyone who does not follow them
/// (docs.joinmastodon.org, "Moderation actions": limit).
pub fn not_limited(a: &str, v: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM accounts la WHERE la.id = {a} AND la.id <> {v} \
             AND (la.silenced_at IS NOT NULL OR EXISTS (SELECT 1 FROM domain_blocks lb \
                 WHERE lb.severity = 'silence' AND (la.domain = lb.domain OR la.domain LIKE '%.' || lb.domain))) \
             AND NOT EXISTS (SELECT 1 FROM follows lf WHERE lf.account_id = {v} AND lf.target_account_id = {a}))"
    )
}

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

async fn insert_chunk(tx: &mut Tx, news: &[NewStatus<'_>]) -> sqlx::Result<Vec<StatusRow>> {
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
            ];
            format!("({})", v.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO statuses (id, uri, url, account_id, in_reply_to_id, in_reply_to_account_id, \
         reblog_of_id, conversation_id, text, content, spoiler_text, visibility, sensitive, language, \
         local, application_id, created_at, in_reply_to_story_id, short) VALUES {} RETURNING {}",
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

/// Up to `limit` IDs of an account's statuses (boosts included), newest first.
pub async fn ids_of_account(db: &Db, account_id: i64, limit: i64) -> sqlx::Result<Vec<i64>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT id FROM statuses WHERE account_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(account_id).bind(limit).fetch_all(c).await)
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<StatusRow>> {
    let sql = format!("SELECT {COLUMNS} FROM statuses s WHERE s.id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// The status if `viewer` may see it and neither side blocks the other.
pub async fn find_visible(db: &Db, id: i64, viewer: i64) -> sqlx::Result<Option<StatusRow>> {
    let mut args = Args::default();
    let idp = args.add(id);
    let v = args.add(viewer);
    let sql = format!(
        "SELECT {COLUMNS} FROM statuses s WHERE s.id = {idp} AND {vis} AND ({v} = s.account_id OR \
         NOT EXISTS (SELECT 1 FROM blocks fb WHERE fb.account_id = s.account_id AND fb.target_account_id = {v}))",
        vis = visible_to("s", &v),
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_optional(c).await)
}

/// Statuses with these IDs (any order).
pub async fn find_many(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<StatusRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.ids(ids);
    let sql = format!("SELECT {COLUMNS} FROM statuses s WHERE s.id IN ({list})");
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Those of the statuses with these IDs that `viewer` may see, with the rule of [`find_visible`]
/// (any order).
pub async fn find_many_visible(db: &Db, ids: &[i64], viewer: i64) -> sqlx::Result<Vec<StatusRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.ids(ids);
    let v = args.add(viewer);
    let sql = format!(
        "SELECT {COLUMNS} FROM statuses s WHERE s.id IN ({list}) AND {vis} AND ({v} = s.account_id OR \
         NOT EXISTS (SELECT 1 FROM blocks fb WHERE fb.account_id = s.account_id AND fb.target_account_id = {v}))",
        vis = visible_to("s", &v),
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// The boost of `status_id` by `account_id`, if any.
pub async fn find_reblog(
    db: &Db,
    account_id: i64,
    status_id: i64,
) -> sqlx::Result<Option<StatusRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM statuses s WHERE s.account_id = $1 AND s.reblog_of_id = $2");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(account_id).bind(status_id).fetch_optional(c).await)
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
    on_db!(tx, c => sqlx::query("DELETE FROM statuses WHERE id = $1").bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.changes_key(crate::storage::changes::Kind::Statuses, id);
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

async fn insert_mentions_chunk(tx: &mut Tx, pairs: &[(i64, i64)]) -> sqlx::Result<()> {
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

/// Which statuses the viewer has favourited, boosted, bookmarked, pinned, or muted the thread of.
#[derive(Default, Debug)]
pub struct ViewerState {
    pub favourited: Vec<i64>,
    pub reblogged: Vec<i64>,
    pub bookmarked: Vec<i64>,
    pub pinned: Vec<i64>,
    pub muted_conversations: Vec<i64>,
}

/// Runs a paginated status query: `from_where` is everything after `SELECT cols FROM`, ending in
/// a WHERE clause that the page condition is ANDed onto; `id_col` is the paginated column.
async fn page_query(
    db: &Db,
    from_where: String,
    id_col: &str,
    args: Args,
    page: &Page,
) -> sqlx::Result<Vec<StatusRow>> {
    page_query_as(db, COLUMNS, from_where, id_col, args, page).await
}

/// [`page_query`] reading `columns` into `R`.
async fn page_query_as<R>(
    db: &Db,
    columns: &str,
    from_where: String,
    id_col: &str,
    mut args: Args,
    page: &Page,
) -> sqlx::Result<Vec<R>>
where
    R: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let (cond, tail) = page.sql(id_col, &mut args);
    let sql = format!("SELECT {columns} FROM {from_where} AND {cond} {tail}");
    let rows: Vec<R> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// A page row with what the viewer did to it, read in the page's own query (see
/// [`home_with_viewer_state`]): `v_flags` is a set of [`FLAG_FAVOURITED`] and the others, one
/// column rather than seven because sqlx copies every column of every row. For a boost,
/// favourited, boosted and bookmarked are of the boosted status; pinned and muted are of both the
/// row and the boosted status.
#[derive(Debug, sqlx::FromRow)]
struct FlaggedRow<T> {
    #[sqlx(flatten)]
    row: T,
    v_flags: i64,
    /// The boosted status's thread (for a boost), else the row's own.
    v_original_conversation: i64,
}

/// What a timeline page needs of a status when its rendering is kept (`service::rendered`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PageRow {
    pub id: i64,
    pub reblog_of_id: Option<i64>,
    pub conversation_id: i64,
}

/// The columns of [`PageRow`].
const PAGE_COLUMNS: &str = "s.id, s.reblog_of_id, s.conversation_id";

/// A row of a page, whichever columns were read.
trait PageItem {
    fn ids(&self) -> (i64, Option<i64>, i64);
}

impl PageItem for StatusRow {
    fn ids(&self) -> (i64, Option<i64>, i64) {
        (self.id, self.reblog_of_id, self.conversation_id)
    }
}

impl PageItem for PageRow {
    fn ids(&self) -> (i64, Option<i64>, i64) {
        (self.id, self.reblog_of_id, self.conversation_id)
    }
}

const FLAG_FAVOURITED: i64 = 1;
const FLAG_REBLOGGED: i64 = 2;
const FLAG_BOOKMARKED: i64 = 4;
const FLAG_PINNED: i64 = 8;
const FLAG_PINNED_ORIGINAL: i64 = 16;
const FLAG_MUTED: i64 = 32;
const FLAG_MUTED_ORIGINAL: i64 = 64;

/// The home timeline of `viewer`: its feed rows, minus blocked and muted authors (of the status or
/// of the boosted status), with what the viewer did to them (favourites, boosts, bookmarks, pins,
/// thread mutes) read in the same query.
pub async fn home_with_viewer_state(
    db: &Db,
    viewer: i64,
    page: &Page,
) -> sqlx::Result<(Vec<StatusRow>, ViewerState)> {
    home_rows(db, viewer, page, COLUMNS).await
}

/// [`home_with_viewer_state`] reading only what a page of kept renderings needs.
pub async fn home_page_with_viewer_state(
    db: &Db,
    viewer: i64,
    page: &Page,
) -> sqlx::Result<(Vec<PageRow>, ViewerState)> {
    home_rows(db, viewer, page, PAGE_COLUMNS).await
}

async fn home_rows<R>(
    db: &Db,
    viewer: i64,
    page: &Page,
    columns: &str,
) -> sqlx::Result<(Vec<R>, ViewerState)>
where
    R: PageItem
        + Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let target = "COALESCE(s.reblog_of_id, s.id)";
    // CASE rather than a cast: PostgreSQL casts a boolean to INTEGER but not to BIGINT.
    let bit = |cond: String, flag: i64| format!("CASE WHEN EXISTS ({cond}) THEN {flag} ELSE 0 END");
    let flags = [
        bit(
            format!(
                "SELECT 1 FROM favourites vf WHERE vf.account_id = {v} AND vf.status_id = {target}"
            ),
            FLAG_FAVOURITED,
        ),
        bit(
            format!(
                "SELECT 1 FROM statuses vr WHERE vr.account_id = {v} AND vr.reblog_of_id = {target}"
            ),
            FLAG_REBLOGGED,
        ),
        bit(
            format!(
                "SELECT 1 FROM bookmarks vb WHERE vb.account_id = {v} AND vb.status_id = {target}"
            ),
            FLAG_BOOKMARKED,
        ),
        bit(
            format!(
                "SELECT 1 FROM status_pins vp WHERE vp.account_id = {v} AND vp.status_id = s.id"
            ),
            FLAG_PINNED,
        ),
        bit(
            format!(
                "SELECT 1 FROM status_pins vq WHERE vq.account_id = {v} AND vq.status_id = {target}"
            ),
            FLAG_PINNED_ORIGINAL,
        ),
        bit(
            format!(
                "SELECT 1 FROM conversation_mutes vm WHERE vm.account_id = {v} AND vm.conversation_id = s.conversation_id"
            ),
            FLAG_MUTED,
        ),
        bit(
            format!(
                "SELECT 1 FROM conversation_mutes vn WHERE vn.account_id = {v} \
           AND vn.conversation_id = COALESCE(r.conversation_id, s.conversation_id)"
            ),
            FLAG_MUTED_ORIGINAL,
        ),
    ];
    let flags = format!(
        "CAST({} AS BIGINT) AS v_flags, COALESCE(r.conversation_id, s.conversation_id) AS v_original_conversation",
        flags.join(" + ")
    );
    let from_where = format!(
        "home_feed h JOIN statuses s ON s.id = h.status_id LEFT JOIN statuses r ON r.id = s.reblog_of_id \
         WHERE h.account_id = {v} AND (s.account_id = {v} OR {f1}) \
         AND (r.id IS NULL OR r.account_id = {v} OR {f2}) AND {vis}",
        f1 = not_filtered("s.account_id", &v, &now),
        f2 = not_filtered("r.account_id", &v, &now),
        vis = visible_to("s", &v),
    );
    let (cond, tail) = page.sql("h.status_id", &mut args);
    let sql = format!("SELECT {columns}, {flags} FROM {from_where} AND {cond} {tail}");
    let rows: Vec<FlaggedRow<R>> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    let mut state = ViewerState::default();
    let mut out = Vec::with_capacity(rows.len());
    for f in rows {
        let (id, reblog_of_id, conversation_id) = f.row.ids();
        let target = reblog_of_id.unwrap_or(id);
        let has = |flag: i64| f.v_flags & flag != 0;
        if has(FLAG_FAVOURITED) {
            state.favourited.push(target);
        }
        if has(FLAG_REBLOGGED) {
            state.reblogged.push(target);
        }
        if has(FLAG_BOOKMARKED) {
            state.bookmarked.push(target);
        }
        if has(FLAG_PINNED) {
            state.pinned.push(id);
        }
        if has(FLAG_PINNED_ORIGINAL) {
            state.pinned.push(target);
        }
        if has(FLAG_MUTED) {
            state.muted_conversations.push(conversation_id);
        }
        if has(FLAG_MUTED_ORIGINAL) {
            state.muted_conversations.push(f.v_original_conversation);
        }
        out.push(f.row);
    }
    Ok((page.finish(out), state))
}

/// SQL: does list `list` (owned by `owner`, with replies policy `policy`; all SQL expressions)
/// show status `s` of one of its members? Never a direct message; a reply to someone else only as
/// the policy says: `followed` (to accounts the owner follows, or the owner), `list` (to members),
/// `none`. A member's replies to itself always show.
pub fn list_shows(s: &str, owner: &str, list: &str, policy: &str) -> String {
    format!(
        "({s}.visibility <> 'direct' AND ({s}.in_reply_to_account_id IS NULL \
           OR {s}.in_reply_to_account_id = {s}.account_id \
           OR ({policy} = 'followed' AND ({s}.in_reply_to_account_id = {owner} \
               OR EXISTS (SELECT 1 FROM follows rf WHERE rf.account_id = {owner} \
                 AND rf.target_account_id = {s}.in_reply_to_account_id))) \
           OR ({policy} = 'list' AND EXISTS (SELECT 1 FROM list_accounts rl \
               WHERE rl.list_id = {list} AND rl.account_id = {s}.in_reply_to_account_id))))"
    )
}

/// The timeline of list `list_id` (owned by `viewer`): posts and boosts by its members that the
/// viewer may see, newest first, minus blocked and muted authors. Replies to others are kept by
/// `replies_policy`: `followed` (to accounts the viewer follows), `list` (to members), `none`.
/// Direct messages never show here.
pub async fn list_timeline(
    db: &Db,
    viewer: i64,
    list_id: i64,
    replies_policy: &str,
    page: &Page,
) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let v = args.add(viewer);
    let l = args.add(list_id);
    let now = args.add(Utc::now());
    let policy = args.add(replies_policy);
    let from = format!(
        "statuses s LEFT JOIN statuses r ON r.id = s.reblog_of_id \
         WHERE s.account_id IN (SELECT la.account_id FROM list_accounts la WHERE la.list_id = {l}) \
         AND {shows} AND {f1} AND (r.id IS NULL OR r.account_id = {v} OR {f2}) AND {vis}",
        shows = list_shows("s", &v, &l, &policy),
        f1 = not_filtered("s.account_id", &v, &now),
        f2 = not_filtered("r.account_id", &v, &now),
        vis = visible_to("s", &v),
    );
    page_query(db, from, "s.id", args, page).await
}

/// Up to `limit` public posts since `since_id` (not replies, not boosts) that were favourited,
/// boosted or answered, most engaged first, minus authors `viewer` blocks or mutes (or who block
/// the viewer) and silenced servers; for trends.
pub async fn engaged_since(
    db: &Db,
    viewer: i64,
    since_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let since = args.add(since_id);
    let l = args.add(limit);
    let sql = format!(
        "SELECT {COLUMNS} FROM statuses s WHERE s.id >= {since} AND s.visibility = 'public' \
         AND s.reblog_of_id IS NULL AND s.in_reply_to_id IS NULL \
         AND s.favourites_count + s.reblogs_count + s.replies_count > 0 AND {f} AND {lim} \
         ORDER BY s.favourites_count + 2 * s.reblogs_count + s.replies_count DESC LIMIT {l}",
        f = not_filtered("s.account_id", &v, &now),
        lim = not_limited("s.account_id", &v),
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Filters of the public and hashtag timelines.
#[derive(Clone, Copy, Debug, Default)]
pub struct PublicFilter {
    /// `Some(true)`: local only; `Some(false)`: remote only.
    pub local: Option<bool>,
    pub only_media: bool,
    /// Shorts only (Rookery's shorts feeds).
    pub only_shorts: bool,
}

/// Whether a status has media; matches the partial index `statuses_account_media` (the media tab of
/// a profile reads only statuses with media).
const HAS_MEDIA: &str = "s.has_media";

/// Whether a status is a short; matches the partial indexes `statuses_shorts` and
/// `statuses_account_shorts`.
const IS_SHORT: &str = "s.short";

/// Public posts (no boosts, no replies to others), newest first.
pub async fn public(
    db: &Db,
    viewer: i64,
    filter: PublicFilter,
    tag: Option<&str>,
    page: &Page,
) -> sqlx::Result<Vec<StatusRow>> {
    let (from_where, args) = public_from_where(viewer, filter, tag);
    page_query(db, from_where, "s.id", args, page).await
}

/// [`public`] reading only what a page of kept renderings needs.
pub async fn public_page(
    db: &Db,
    viewer: i64,
    filter: PublicFilter,
    tag: Option<&str>,
    page: &Page,
) -> sqlx::Result<Vec<PageRow>> {
    let (from_where, args) = public_from_where(viewer, filter, tag);
    page_query_as(db, PAGE_COLUMNS, from_where, "s.id", args, page).await
}

fn public_from_where(viewer: i64, filter: PublicFilter, tag: Option<&str>) -> (String, Args) {
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let mut from = String::from("statuses s ");
    let mut conds = vec![
        "s.visibility = 'public'".to_string(),
        "s.reblog_of_id IS NULL".to_string(),
        not_filtered("s.account_id", &v, &now),
    ];
    match tag {
        Some(t) => {
            from.push_str(
                "JOIN statuses_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id ",
            );
            conds.push(format!("t.name = {}", args.add(t.to_lowercase())));
        }
        None => conds
            .push("(s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)".into()),
    }
    if let Some(local) = filter.local {
        conds.push(format!("s.local = {}", args.add(local)));
    }
    conds.push(not_limited("s.account_id", &v));
    if filter.only_media {
        conds.push(HAS_MEDIA.into());
    }
    if filter.only_shorts {
        conds.push(IS_SHORT.into());
    }
    (format!("{from}WHERE {}", conds.join(" AND ")), args)
}

/// Filters of an account's statuses (`GET /api/v1/accounts/:id/statuses`).
#[derive(Clone, Debug, Default)]
pub struct AccountFilter {
    pub only_media: bool,
    pub only_shorts: bool,
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub pinned: bool,
    pub tagged: Option<String>,
}

pub async fn by_account(
    db: &Db,
    viewer: i64,
    account_id: i64,
    f: &AccountFilter,
    page: &Page,
) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let v = args.add(viewer);
    let a = args.add(account_id);
    let mut from = String::from("statuses s ");
    let mut conds = vec![
        format!("s.account_id = {a}"),
        visible_to("s", &v),
        format!(
            "NOT EXISTS (SELECT 1 FROM blocks fb WHERE fb.account_id = {a} AND fb.target_account_id = {v})"
        ),
    ];
    if f.exclude_replies {
        conds.push("(s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)".into());
    }
    if f.exclude_reblogs {
        conds.push("s.reblog_of_id IS NULL".into());
    }
    if f.only_media {
        conds.push(HAS_MEDIA.into());
    }
    if f.only_shorts {
        conds.push(IS_SHORT.into());
    }
    if f.pinned {
        from.push_str(
            "JOIN status_pins sp ON sp.status_id = s.id AND sp.account_id = s.account_id ",
        );
    }
    if let Some(tag) = &f.tagged {
        from.push_str(
            "JOIN statuses_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id ",
        );
        conds.push(format!("t.name = {}", args.add(tag.to_lowercase())));
    }
    let from_where = format!("{from}WHERE {}", conds.join(" AND "));
    page_query(db, from_where, "s.id", args, page).await
}

/// Replies below `id`, visible to `viewer` and not from filtered authors, oldest first; at most
/// `limit`.
pub async fn descendants(
    db: &Db,
    id: i64,
    viewer: i64,
    limit: i64,
) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let root = args.add(id);
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let lim = args.add(limit);
    let sql = format!(
        "WITH RECURSIVE d(id, depth) AS (SELECT id, 1 FROM statuses WHERE in_reply_to_id = {root} \
           UNION ALL SELECT st.id, d.depth + 1 FROM statuses st JOIN d ON st.in_reply_to_id = d.id WHERE d.depth < 64) \
         SELECT {COLUMNS} FROM statuses s JOIN d ON d.id = s.id \
         WHERE {vis} AND (s.account_id = {v} OR {nf}) ORDER BY s.id LIMIT {lim}",
        vis = visible_to("s", &v),
        nf = not_filtered("s.account_id", &v, &now),
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Statuses a viewer has favourited or bookmarked, newest action first; returns
/// `(favourite or bookmark row id, status)` so pages can continue from the action's ID.
pub async fn acted_on(
    db: &Db,
    viewer: i64,
    table: ActionTable,
    page: &Page,
) -> sqlx::Result<Vec<(i64, StatusRow)>> {
    let t = match table {
        ActionTable::Favourites => "favourites",
        ActionTable::Bookmarks => "bookmarks",
    };
    let mut args = Args::default();
    let v = args.add(viewer);
    let (cond, tail) = page.sql("x.id", &mut args);
    let sql = format!(
        "SELECT x.id AS action_id, {COLUMNS} FROM {t} x JOIN statuses s ON s.id = x.status_id \
         WHERE x.account_id = {v} AND {vis} AND {cond} {tail}",
        vis = visible_to("s", &v)
    );
    #[derive(sqlx::FromRow)]
    struct Acted {
        action_id: i64,
        #[sqlx(flatten)]
        status: StatusRow,
    }
    let rows: Vec<Acted> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows.into_iter().map(|r| (r.action_id, r.status)).collect()))
}

#[derive(Clone, Copy, Debug)]
pub enum ActionTable {
    Favourites,
    Bookmarks,
}

/// Inserts a favourite, bookmark or pin; false when it already existed.
pub async fn add_action(
    tx: &mut Tx,
    table: &str,
    account_id: i64,
    status_id: i64,
) -> sqlx::Result<bool> {
    let sql = format!(
        "INSERT INTO {table} (id, account_id, status_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, status_id) DO NOTHING"
    );
    let n = on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(crate::storage::ids::new_id()).bind(account_id).bind(status_id).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Deletes a favourite, bookmark or pin; false when there was none.
pub async fn remove_action(
    tx: &mut Tx,
    table: &str,
    account_id: i64,
    status_id: i64,
) -> sqlx::Result<bool> {
    let sql = format!("DELETE FROM {table} WHERE account_id = $1 AND status_id = $2");
    let n = on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(account_id).bind(status_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Number of pins an account has.
pub async fn pin_count(db: &Db, account_id: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM status_pins WHERE account_id = $1")
        .bind(account_id).fetch_one(c).await)
}

pub async fn mute_conversation(
    db: &Db,
    account_id: i64,
    conversation_id: i64,
    mute: bool,
) -> sqlx::Result<()> {
    on_db!(db, c => {
        if mute {
            sqlx::query("INSERT INTO conversation_mutes (account_id, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(account_id).bind(conversation_id).execute(c).await?;
        } else {
            sqlx::query("DELETE FROM conversation_mutes WHERE account_id = $1 AND conversation_id = $2")
                .bind(account_id).bind(conversation_id).execute(c).await?;
        }
    });
    Ok(())
}

/// Accounts that favourited (`Favourites`) or boosted a status, newest first, paginated by the
/// favourite's or boost's ID; returns `(that id, account id)`.
pub async fn actors_of(
    db: &Db,
    status_id: i64,
    reblogs: bool,
    page: &Page,
) -> sqlx::Result<Vec<(i64, i64)>> {
    let mut args = Args::default();
    let sid = args.add(status_id);
    let (cond, tail) = page.sql("x.id", &mut args);
    let sql = if reblogs {
        format!(
            "SELECT x.id, x.account_id FROM statuses x WHERE x.reblog_of_id = {sid} AND {cond} {tail}"
        )
    } else {
        format!(
            "SELECT x.id, x.account_id FROM favourites x WHERE x.status_id = {sid} AND {cond} {tail}"
        )
    };
    let rows: Vec<(i64, i64)> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// Home-feed fan-out: adds `status_id` to the feeds of `author` (when local: remote accounts have
/// no home feed here), of the author's local followers (only those showing boosts, for a boost)
/// and of the followers of `tag_ids` (public posts only).
/// Returns the accounts whose feed gained it, for streaming.
///
/// A reply to someone else (`reply_to_other`) reaches only followers who also follow that person
/// (or are that person), as Mastodon's home feeds do.
pub async fn fan_out(
    tx: &mut Tx,
    status_id: i64,
    author: i64,
    is_reblog: bool,
    to_followers: bool,
    tag_ids: &[i64],
    reply_to_other: Option<i64>,
) -> sqlx::Result<Vec<i64>> {
    let one = FanOut {
        status_id,
        author,
        is_reblog,
        to_followers,
        tag_ids,
        reply_to_other,
    };
    let pairs = fan_out_many(tx, std::slice::from_ref(&one)).await?;
    Ok(pairs.into_iter().map(|(account, _)| account).collect())
}

/// Whose home feeds a new status goes to: see [`fan_out`].
#[derive(Clone, Copy, Debug)]
pub struct FanOut<'a> {
    pub status_id: i64,
    pub author: i64,
    pub is_reblog: bool,
    pub to_followers: bool,
    pub tag_ids: &'a [i64],
    pub reply_to_other: Option<i64>,
}

/// [`fan_out`] for several statuses with one statement (the batch bound as JSON, see
/// [`json_elements`](crate::storage::sql::json_elements)); returns the `(account_id, status_id)`
/// feed entries added, in no order.
pub async fn fan_out_many(tx: &mut Tx, items: &[FanOut<'_>]) -> sqlx::Result<Vec<(i64, i64)>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    // [status, author, is_reblog, to_followers, reply_to_other]
    let statuses: Vec<serde_json::Value> = items
        .iter()
        .map(|i| {
            serde_json::json!([
                i.status_id,
                i.author,
                i32::from(i.is_reblog),
                i32::from(i.to_followers),
                i.reply_to_other
            ])
        })
        .collect();
    // [status, followed tag]
    let tags: Vec<[i64; 2]> = items
        .iter()
        .flat_map(|i| i.tag_ids.iter().map(|t| [i.status_id, *t]))
        .collect();
    let sql = format!(
        "WITH b AS (SELECT CAST(value ->> 0 AS BIGINT) AS status_id, CAST(value ->> 1 AS BIGINT) AS author, \
           CAST(value ->> 2 AS INTEGER) AS is_reblog, CAST(value ->> 3 AS INTEGER) AS to_followers, \
           CAST(value ->> 4 AS BIGINT) AS reply_to FROM {}), \
         t AS (SELECT CAST(value ->> 0 AS BIGINT) AS status_id, CAST(value ->> 1 AS BIGINT) AS tag_id FROM {}) \
         INSERT INTO home_feed (account_id, status_id) SELECT r.account_id, r.status_id FROM ( \
           SELECT a.id AS account_id, b.status_id FROM b JOIN accounts a ON a.id = b.author WHERE a.domain IS NULL \
           UNION \
           SELECT f.account_id, b.status_id FROM b JOIN follows f ON f.target_account_id = b.author \
             JOIN accounts fa ON fa.id = f.account_id \
             WHERE b.to_followers = 1 AND fa.domain IS NULL AND (b.is_reblog = 0 OR f.show_reblogs = TRUE) \
             AND (b.reply_to IS NULL OR f.account_id = b.reply_to OR EXISTS (SELECT 1 FROM follows f2 \
               WHERE f2.account_id = f.account_id AND f2.target_account_id = b.reply_to)) \
             AND NOT EXISTS (SELECT 1 FROM list_accounts xl JOIN lists x ON x.id = xl.list_id \
               WHERE xl.account_id = b.author AND x.account_id = f.account_id AND x.exclusive) \
           UNION \
           SELECT tf.account_id, t.status_id FROM t JOIN tag_follows tf ON tf.tag_id = t.tag_id \
         ) AS r WHERE TRUE ON CONFLICT DO NOTHING RETURNING account_id, status_id",
        json_elements(tx, "$1"),
        json_elements(tx, "$2"),
    );
    let (statuses, tags) = (
        serde_json::Value::from(statuses).to_string(),
        serde_json::to_string(&tags).expect("integers serialise"),
    );
    on_db!(tx, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(&statuses).bind(&tags)
        .fetch_all(c).await)
}

/// Accounts whose home feed holds `status_id` (for streaming a deletion).
pub async fn feed_holders(db: &Db, status_id: i64) -> sqlx::Result<Vec<i64>> {
    on_db!(db, c => sqlx::query_scalar("SELECT account_id FROM home_feed WHERE status_id = $1")
        .bind(status_id).fetch_all(c).await)
}

/// Adds up to `limit` recent statuses of `author` (not direct; private only when `with_private`)
/// to `reader`'s feed, after a follow.
pub async fn merge_into_feed(
    tx: &mut Tx,
    reader: i64,
    author: i64,
    with_private: bool,
    limit: i64,
) -> sqlx::Result<()> {
    let vis = if with_private {
        "('public', 'unlisted', 'private')"
    } else {
        "('public', 'unlisted')"
    };
    let sql = format!(
        "INSERT INTO home_feed (account_id, status_id) SELECT $1, s.id FROM statuses s \
         WHERE s.account_id = $2 AND s.visibility IN {vis} ORDER BY s.id DESC LIMIT $3 ON CONFLICT DO NOTHING"
    );
    on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(reader).bind(author).bind(limit)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes `author`'s statuses and boosts from `reader`'s feed, after an unfollow or block.
pub async fn unmerge_from_feed(tx: &mut Tx, reader: i64, author: i64) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "DELETE FROM home_feed WHERE account_id = $1 AND status_id IN (SELECT id FROM statuses WHERE account_id = $2)")
        .bind(reader).bind(author).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
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

/// Direct-message fan-out: adds the status to the feeds of mentioned local accounts that follow
/// the author. Returns them.
pub async fn fan_out_to_mentioned_followers(
    tx: &mut Tx,
    status_id: i64,
    author: i64,
) -> sqlx::Result<Vec<i64>> {
    on_db!(tx, c => sqlx::query_scalar(
        "INSERT INTO home_feed (account_id, status_id) SELECT m.account_id, $1 FROM mentions m \
         JOIN follows f ON f.account_id = m.account_id AND f.target_account_id = $2 \
         JOIN accounts a ON a.id = m.account_id AND a.domain IS NULL \
         WHERE m.status_id = $1 ON CONFLICT DO NOTHING RETURNING account_id")
        .bind(status_id).bind(author).fetch_all(c).await)
}

/// Boosts of a status.
pub async fn boosts_of(db: &Db, status_id: i64) -> sqlx::Result<Vec<StatusRow>> {
    let sql = format!("SELECT {COLUMNS} FROM statuses s WHERE s.reblog_of_id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(status_id).fetch_all(c).await)
}

/// Statuses posted on this instance, boosts excluded.
pub async fn count_local(db: &Db) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM statuses WHERE local = $1 AND reblog_of_id IS NULL")
        .bind(true).fetch_one(c).await)
}

/// What rendering a page of statuses needs besides the rows: mentions, hashtags, and what
/// `viewer` did to them.
#[derive(Debug, Default)]
pub struct StatusFacts {
    /// `(status_id, account_id)`.
    pub mentions: Vec<(i64, i64)>,
    /// `(status_id, tag name)`, by name.
    pub tags: Vec<(i64, String)>,
    pub viewer: ViewerState,
}

/// [`StatusFacts`] for these statuses: one query for mentions and hashtags, one for what the
/// viewer did (skipped for anonymous viewers). Two small queries measured faster on SQLite than
/// one UNION of all seven parts.
pub async fn facts_of(db: &Db, viewer: i64, status_ids: &[i64]) -> sqlx::Result<StatusFacts> {
    let (mentions, tags) = links_of(db, status_ids).await?;
    Ok(StatusFacts {
        mentions,
        tags,
        viewer: viewer_state(db, viewer, status_ids).await?,
    })
}

/// The mentions `(status_id, account_id)` and hashtags `(status_id, name)`, by name, of these
/// statuses. One query.
pub async fn links_of(
    db: &Db,
    status_ids: &[i64],
) -> sqlx::Result<(Vec<(i64, i64)>, Vec<(i64, String)>)> {
    let (mut mentions, mut tags) = (Vec::new(), Vec::new());
    if status_ids.is_empty() {
        return Ok((mentions, tags));
    }
    let mut args = Args::default();
    let list = args.ids(status_ids);
    let sql = format!(
        "SELECT m.status_id, m.account_id, CAST(NULL AS TEXT) AS name FROM mentions m WHERE m.status_id IN ({list}) \
         UNION ALL SELECT st.status_id, CAST(NULL AS BIGINT), t.name FROM statuses_tags st \
           JOIN tags t ON t.id = st.tag_id WHERE st.status_id IN ({list})"
    );
    let rows: Vec<(i64, Option<i64>, Option<String>)> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    for (id, account, name) in rows {
        match (account, name) {
            (Some(a), _) => mentions.push((id, a)),
            (None, Some(n)) => tags.push((id, n)),
            _ => {}
        }
    }
    tags.sort_by(|a, b| a.1.cmp(&b.1));
    Ok((mentions, tags))
}

/// What `viewer` did with these statuses (favourited, boosted, bookmarked, pinned) and which
/// conversations it muted; empty for anonymous viewers. One query.
pub async fn viewer_state(db: &Db, viewer: i64, status_ids: &[i64]) -> sqlx::Result<ViewerState> {
    let mut state = ViewerState::default();
    if viewer == ANONYMOUS || status_ids.is_empty() {
        return Ok(state);
    }
    let mut args = Args::default();
    let v = args.add(viewer);
    let list = args.ids(status_ids);
    let sql = format!(
        "SELECT 'f', status_id FROM favourites WHERE account_id = {v} AND status_id IN ({list}) \
         UNION ALL SELECT 'r', reblog_of_id FROM statuses WHERE account_id = {v} AND reblog_of_id IN ({list}) \
         UNION ALL SELECT 'b', status_id FROM bookmarks WHERE account_id = {v} AND status_id IN ({list}) \
         UNION ALL SELECT 'p', status_id FROM status_pins WHERE account_id = {v} AND status_id IN ({list}) \
         UNION ALL SELECT 'm', conversation_id FROM conversation_mutes WHERE account_id = {v}"
    );
    let rows: Vec<(String, i64)> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    for (kind, id) in rows {
        match kind.as_str() {
            "f" => state.favourited.push(id),
            "r" => state.reblogged.push(id),
            "b" => state.bookmarked.push(id),
            "p" => state.pinned.push(id),
            _ => state.muted_conversations.push(id),
        }
    }
    Ok(state)
}

/// Public posts and boosts of an account (the outbox's `totalItems`).
pub async fn count_public_by(db: &Db, account_id: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM statuses WHERE account_id = $1 AND visibility = 'public'")
        .bind(account_id).fetch_one(c).await)
}

/// The status whose ActivityPub ID or page URL is `u`.
pub async fn find_by_uri_or_url(db: &Db, u: &str) -> sqlx::Result<Option<StatusRow>> {
    let sql = format!("SELECT {COLUMNS} FROM statuses s WHERE s.uri = $1 OR s.url = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(u).fetch_optional(c).await)
}

/// Shorts by `viewer` and the accounts it follows that it may see, newest first (the `following`
/// shorts feed).
pub async fn following_shorts(db: &Db, viewer: i64, page: &Page) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let from_where = format!(
        "statuses s WHERE {IS_SHORT} AND s.reblog_of_id IS NULL \
         AND (s.account_id = {v} OR s.account_id IN \
             (SELECT target_account_id FROM follows WHERE account_id = {v})) \
         AND {vis} AND {f}",
        vis = visible_to("s", &v),
        f = not_filtered("s.account_id", &v, &now),
    );
    page_query(db, from_where, "s.id", args, page).await
}

/// What the `for_you` ranking reads of a public short.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ShortStats {
    pub id: i64,
    pub account_id: i64,
    pub favourites_count: i64,
    pub reblogs_count: i64,
    pub replies_count: i64,
    pub completed_views_count: i64,
    pub created_at: DateTime<Utc>,
}

/// Public shorts (not replies to others, not boosts) with IDs above `after_id`, newest first, at
/// most `limit`.
pub async fn recent_public_shorts(
    db: &Db,
    after_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<ShortStats>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT s.id, s.account_id, s.favourites_count, s.reblogs_count, s.replies_count, \
         s.completed_views_count, s.created_at FROM statuses s \
         WHERE s.short AND s.id > $1 AND s.visibility = 'public' AND s.reblog_of_id IS NULL \
         AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id) \
         ORDER BY s.id DESC LIMIT $2")
        .bind(after_id).bind(limit).fetch_all(c).await)
}

/// The IDs among `ids` that `viewer` may see in a public feed (authors not blocked, muted or
/// limited for it), in no particular order.
pub async fn visible_in_feed(db: &Db, viewer: i64, ids: &[i64]) -> sqlx::Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let list = args.ids(ids);
    let sql = format!(
        "SELECT s.id FROM statuses s WHERE s.id IN ({list}) AND {f} AND {l}",
        f = not_filtered("s.account_id", &v, &now),
        l = not_limited("s.account_id", &v),
    );
    on_db!(db, c => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Records that `viewer` watched short `status_id` for `watched_seconds` on `day` (UTC,
/// `YYYY-MM-DD`). The first view of the day counts in `views_count`; the first that reached the
/// end counts in `completed_views_count`. Returns true when a view was counted.
pub async fn record_view(
    tx: &mut Tx,
    status_id: i64,
    viewer: i64,
    day: &str,
    watched_seconds: f64,
    completed: bool,
) -> sqlx::Result<bool> {
    let new = on_db!(tx, c => sqlx::query(
        "INSERT INTO short_views (status_id, account_id, day, watched_seconds, completed) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
        .bind(status_id).bind(viewer).bind(day).bind(watched_seconds).bind(completed)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?
        == 1;
    // A later view the same day that reaches the end upgrades the day's view.
    let upgraded = !new
        && completed
        && on_db!(tx, c => sqlx::query(
            "UPDATE short_views SET completed = TRUE, watched_seconds = $4 \
             WHERE status_id = $1 AND account_id = $2 AND day = $3 AND NOT completed")
            .bind(status_id).bind(viewer).bind(day).bind(watched_seconds)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?
            == 1;
    if new || upgraded {
        on_db!(tx, c => sqlx::query(
            "UPDATE statuses SET views_count = views_count + $2, \
             completed_views_count = completed_views_count + $3 WHERE id = $1")
            .bind(status_id).bind(i64::from(new)).bind(i64::from(completed))
            .execute(&mut *c).await.map(|_| ()))?;
        tx.changes_key(crate::storage::changes::Kind::Statuses, status_id);
    }
    Ok(new)
}
