//! Statuses (posts and boosts) with their mentions, hashtags, edits, and the per-viewer state
//! (favourited, boosted, bookmarked, pinned, thread muted); timelines and threads.
//!
//! Visibility is decided in SQL by [`visible_to`], so a status a viewer may not see never leaves
//! the database: public and unlisted to everyone, private to the author, followers and mentioned
//! accounts, direct to the author and mentioned accounts. [`not_filtered`] drops authors the viewer
//! blocks or mutes and authors who block the viewer. Anonymous viewers are passed as `-1`.
//!
//! One file per concern: `write` (storing, editing, deleting, counters, mentions, hashtags),
//! `timelines` (pages and threads), `viewer` (what viewers did, and a page's facts), `feeds`
//! (home feed fan-out), `shorts`. This file: the row, its columns, the visibility and filter SQL
//! the others share, and finding statuses.

mod feeds;
mod search;
mod shorts;
mod timelines;
mod viewer;
mod write;

pub use feeds::*;
pub use search::*;
pub use shorts::*;
pub use timelines::*;
pub use viewer::*;
pub use write::*;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::db::Db;
use crate::storage::sql::Args;
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
    /// Its poll (`storage::polls`), if it has one.
    pub poll_id: Option<i64>,
    /// Who may quote it (`service::quotes::Policy` bits; migration 0032).
    pub quote_approval_policy: i64,
}

pub const COLUMNS: &str = "s.id, s.uri, s.url, s.account_id, s.in_reply_to_id, \
    s.in_reply_to_account_id, s.reblog_of_id, s.conversation_id, s.text, s.content, s.spoiler_text, \
    s.visibility, s.sensitive, s.language, s.local, s.application_id, s.replies_count, \
    s.reblogs_count, s.favourites_count, s.created_at, s.edited_at, s.has_media, s.short, \
    s.views_count, s.completed_views_count, s.card_id, s.poll_id, s.quote_approval_policy";

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

/// SQL: is author column `a` neither blocked nor muted by viewer `v`, nor blocking `v`, nor on a
/// server `v` blocked?
/// `now` is a placeholder for the current time (mutes can expire).
pub fn not_filtered(a: &str, v: &str, now: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM blocks fb WHERE (fb.account_id = {v} AND fb.target_account_id = {a}) \
             OR (fb.account_id = {a} AND fb.target_account_id = {v})) \
         AND NOT EXISTS (SELECT 1 FROM mutes fm WHERE fm.account_id = {v} AND fm.target_account_id = {a} \
             AND (fm.expires_at IS NULL OR fm.expires_at > {now})) \
         AND NOT {}",
        crate::storage::user_domain_blocks::blocked_sql(a, v)
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

/// Up to `limit` IDs of an account's statuses (boosts included), newest first.
pub async fn ids_of_account(db: &Db, account_id: i64, limit: i64) -> sqlx::Result<Vec<i64>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT id FROM statuses WHERE account_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(account_id).bind(limit).fetch_all(c).await)
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<StatusRow>> {
    let db = db.reader().await;
    let sql = format!("SELECT {COLUMNS} FROM statuses s WHERE s.id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// The status if `viewer` may see it and neither side blocks the other.
pub async fn find_visible(db: &Db, id: i64, viewer: i64) -> sqlx::Result<Option<StatusRow>> {
    let db = db.reader().await;
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
    let db = db.reader().await;
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
    let db = db.reader().await;
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
