//! Follows, follow requests, blocks and mutes between accounts.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::account_stats::{self, Stat};
use crate::storage::db::{Db, Tx};
use crate::storage::ids;
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FollowRow {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    pub show_reblogs: bool,
    pub notify: bool,
    pub uri: Option<String>,
    pub created_at: DateTime<Utc>,
}

const FOLLOW_COLUMNS: &str =
    "id, account_id, target_account_id, show_reblogs, notify, uri, created_at";

/// `follows` or `follow_requests`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowTable {
    Follows,
    Requests,
}

impl FollowTable {
    fn name(self) -> &'static str {
        match self {
            FollowTable::Follows => "follows",
            FollowTable::Requests => "follow_requests",
        }
    }
}

pub async fn find_follow(
    db: &Db,
    t: FollowTable,
    account_id: i64,
    target: i64,
) -> sqlx::Result<Option<FollowRow>> {
    let sql = format!(
        "SELECT {FOLLOW_COLUMNS} FROM {} WHERE account_id = $1 AND target_account_id = $2",
        t.name()
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(account_id).bind(target).fetch_optional(c).await)
}

/// Inserts or updates (options) a follow or request; returns true when it is new.
pub async fn upsert_follow(
    tx: &mut Tx,
    t: FollowTable,
    account_id: i64,
    target: i64,
    show_reblogs: bool,
    notify: bool,
    uri: Option<&str>,
) -> sqlx::Result<bool> {
    let sql = format!(
        "INSERT INTO {} (id, account_id, target_account_id, show_reblogs, notify, uri, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, target_account_id) DO NOTHING",
        t.name()
    );
    let n = on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(ids::new_id()).bind(account_id).bind(target).bind(show_reblogs).bind(notify).bind(uri).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 && t == FollowTable::Follows {
        account_stats::adjust(tx, account_id, Stat::Following, 1).await?;
        account_stats::adjust(tx, target, Stat::Followers, 1).await?;
    }
    if n == 0 {
        let sql = format!(
            "UPDATE {} SET show_reblogs = $3, notify = $4 WHERE account_id = $1 AND target_account_id = $2",
            t.name()
        );
        on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(account_id).bind(target).bind(show_reblogs).bind(notify)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(n == 1)
}

/// Deletes a follow or request; true when one existed. Ending a follow also takes the account out
/// of the follower's lists.
pub async fn delete_follow(
    tx: &mut Tx,
    t: FollowTable,
    account_id: i64,
    target: i64,
) -> sqlx::Result<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE account_id = $1 AND target_account_id = $2",
        t.name()
    );
    let n = on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(account_id).bind(target)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 && t == FollowTable::Follows {
        account_stats::adjust(tx, account_id, Stat::Following, -1).await?;
        account_stats::adjust(tx, target, Stat::Followers, -1).await?;
        // Lists hold only followed accounts.
        on_db!(tx, c => sqlx::query(
            "DELETE FROM list_accounts WHERE account_id = $2 \
             AND list_id IN (SELECT id FROM lists WHERE account_id = $1)")
            .bind(account_id).bind(target).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(n == 1)
}

/// Inserts a block; true when new.
pub async fn insert_block(tx: &mut Tx, account_id: i64, target: i64) -> sqlx::Result<bool> {
    let n = on_db!(tx, c => sqlx::query(
        "INSERT INTO blocks (id, account_id, target_account_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, target_account_id) DO NOTHING")
        .bind(ids::new_id()).bind(account_id).bind(target).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn delete_block(db: &Db, account_id: i64, target: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query("DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2")
        .bind(account_id).bind(target).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Inserts or replaces a mute.
pub async fn upsert_mute(
    db: &Db,
    account_id: i64,
    target: i64,
    hide_notifications: bool,
    expires_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO mutes (id, account_id, target_account_id, hide_notifications, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, target_account_id) \
         DO UPDATE SET hide_notifications = $4, expires_at = $5")
        .bind(ids::new_id()).bind(account_id).bind(target).bind(hide_notifications).bind(expires_at).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_mute(db: &Db, account_id: i64, target: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM mutes WHERE account_id = $1 AND target_account_id = $2")
        .bind(account_id).bind(target).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Everything a `Relationship` says about `viewer` and each of `targets`.
#[derive(Debug, Default, Clone)]
pub struct RelationFacts {
    pub following: Option<(bool, bool)>,
    pub requested: bool,
    pub followed_by: bool,
    pub requested_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    /// `Some(hide_notifications)` while muted.
    pub muting: Option<bool>,
    /// Featured on the viewer's profile.
    pub endorsed: bool,
}

pub async fn facts(
    db: &Db,
    viewer: i64,
    targets: &[i64],
) -> sqlx::Result<Vec<(i64, RelationFacts)>> {
    let mut out: Vec<(i64, RelationFacts)> = targets
        .iter()
        .map(|t| (*t, RelationFacts::default()))
        .collect();
    if targets.is_empty() {
        return Ok(out);
    }
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let list = args.ids(targets);
    let sql = format!(
        "SELECT 'following', target_account_id, show_reblogs, notify FROM follows WHERE account_id = {v} AND target_account_id IN ({list}) \
         UNION ALL SELECT 'requested', target_account_id, show_reblogs, notify FROM follow_requests WHERE account_id = {v} AND target_account_id IN ({list}) \
         UNION ALL SELECT 'followed_by', account_id, show_reblogs, notify FROM follows WHERE target_account_id = {v} AND account_id IN ({list}) \
         UNION ALL SELECT 'requested_by', account_id, show_reblogs, notify FROM follow_requests WHERE target_account_id = {v} AND account_id IN ({list}) \
         UNION ALL SELECT 'blocking', target_account_id, TRUE, TRUE FROM blocks WHERE account_id = {v} AND target_account_id IN ({list}) \
         UNION ALL SELECT 'blocked_by', account_id, TRUE, TRUE FROM blocks WHERE target_account_id = {v} AND account_id IN ({list}) \
         UNION ALL SELECT 'endorsed', target_account_id, TRUE, TRUE FROM account_pins WHERE account_id = {v} AND target_account_id IN ({list}) \
         UNION ALL SELECT 'muting', target_account_id, hide_notifications, TRUE FROM mutes WHERE account_id = {v} AND target_account_id IN ({list}) \
           AND (expires_at IS NULL OR expires_at > {now})"
    );
    let rows: Vec<(String, i64, bool, bool)> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    for (kind, id, a, b) in rows {
        if let Some((_, f)) = out.iter_mut().find(|(t, _)| *t == id) {
            match kind.as_str() {
                "following" => f.following = Some((a, b)),
                "requested" => f.requested = true,
                "followed_by" => f.followed_by = true,
                "requested_by" => f.requested_by = true,
                "blocking" => f.blocking = true,
                "blocked_by" => f.blocked_by = true,
                "endorsed" => f.endorsed = true,
                _ => f.muting = Some(a),
            }
        }
    }
    Ok(out)
}

/// True when either account blocks the other.
pub async fn blocked_either_way(db: &Db, a: i64, b: i64) -> sqlx::Result<bool> {
    let n: i64 = on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM blocks WHERE (account_id = $1 AND target_account_id = $2) OR (account_id = $2 AND target_account_id = $1)")
        .bind(a).bind(b).fetch_one(c).await)?;
    Ok(n > 0)
}

/// SQL counting why `$1` should not see `$2`: a block either way, a live mute (`$3` = now) that
/// also matches `mute_cond`, `$2` being on a silenced domain `$1` does not follow, and `$2` being
/// on a server `$1` blocked.
fn hidden_sql(mute_cond: &str) -> String {
    hidden_sql_for("$1", "$2", "$3", mute_cond)
}

/// [`hidden_sql`] with the viewer, the other account and now as any SQL expressions.
fn hidden_sql_for(viewer: &str, other: &str, now: &str, mute_cond: &str) -> String {
    format!(
        "SELECT (SELECT count(*) FROM blocks WHERE (account_id = {viewer} AND target_account_id = {other}) \
                 OR (account_id = {other} AND target_account_id = {viewer})) \
              + (SELECT count(*) FROM mutes WHERE account_id = {viewer} AND target_account_id = {other} \
                 AND (expires_at IS NULL OR expires_at > {now}){mute_cond}) \
              + (CASE WHEN {} THEN 0 ELSE 1 END) \
              + (CASE WHEN {} THEN 1 ELSE 0 END)",
        crate::storage::statuses::not_limited(other, viewer),
        crate::storage::user_domain_blocks::blocked_sql(other, viewer)
    )
}

/// SQL, true when account `viewer` should not get notifications caused by `other` (`now` and
/// `yes` = true are placeholders or expressions): `viewer` blocks or mutes `other` (mutes with
/// `hide_notifications`), is blocked by them, or blocks their domain. Limited accounts are the
/// notification policy's matter (`notification_requests::decision_sql`).
pub fn silences_sql(viewer: &str, other: &str, now: &str, yes: &str) -> String {
    format!(
        "((SELECT count(*) FROM blocks WHERE (account_id = {viewer} AND target_account_id = {other}) \
             OR (account_id = {other} AND target_account_id = {viewer})) \
          + (SELECT count(*) FROM mutes WHERE account_id = {viewer} AND target_account_id = {other} \
             AND (expires_at IS NULL OR expires_at > {now}) AND hide_notifications = {yes}) \
          + (CASE WHEN {} THEN 1 ELSE 0 END)) > 0",
        crate::storage::user_domain_blocks::blocked_sql(other, viewer)
    )
}

/// Which list [`list_accounts`] reads.
#[derive(Clone, Copy, Debug)]
pub enum AccountList {
    /// Accounts following `subject`.
    Followers,
    /// Accounts `subject` follows.
    Following,
    /// Accounts asking to follow `subject`.
    Requests,
    /// Accounts `subject` blocks.
    Blocks,
    /// Accounts `subject` mutes.
    Mutes,
}

/// A page of `(row id, account id)` from one of the account lists, newest first.
pub async fn list_accounts(
    db: &Db,
    list: AccountList,
    subject: i64,
    page: &Page,
) -> sqlx::Result<Vec<(i64, i64)>> {
    let (table, who, by) = list_parts(list);
    let mut args = Args::default();
    let s = args.add(subject);
    let (cond, tail) = page.sql("x.id", &mut args);
    let sql = format!("SELECT x.id, x.{who} FROM {table} x WHERE x.{by} = {s} AND {cond} {tail}");
    let rows: Vec<(i64, i64)> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// Number of pending follow requests to `account_id`.
pub async fn request_count(db: &Db, account_id: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM follow_requests WHERE target_account_id = $1")
        .bind(account_id).fetch_one(c).await)
}

/// Local followers of each of `authors` who asked to be notified of new posts, as
/// `(author, follower)` pairs in no order; read in the transaction that stores the posts.
pub async fn notify_subscribers(tx: &mut Tx, authors: &[i64]) -> sqlx::Result<Vec<(i64, i64)>> {
    let mut authors = authors.to_vec();
    authors.sort_unstable();
    authors.dedup();
    let mut out = Vec::new();
    for chunk in authors.chunks(crate::storage::sql::MAX_ROWS) {
        let mut args = Args::default();
        let yes = args.add(true);
        let list = args.ids(chunk);
        let sql = format!(
            "SELECT f.target_account_id, f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id \
             WHERE f.target_account_id IN ({list}) AND f.notify = {yes} AND a.domain IS NULL"
        );
        let rows: Vec<(i64, i64)> = on_db!(tx, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args)
            .fetch_all(c).await)?;
        out.extend(rows);
    }
    Ok(out)
}

/// True when `viewer` should not see `author`'s content on public streams: either blocks the
/// other, `viewer` mutes `author`, or `author` is on a silenced domain and `viewer` does not
/// follow them.
pub async fn hides_author(db: &Db, viewer: i64, author: i64) -> sqlx::Result<bool> {
    if viewer == author {
        return Ok(false);
    }
    let sql = hidden_sql("");
    let n: i64 = on_db!(db, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(viewer).bind(author).bind(Utc::now()).fetch_one(c).await)?;
    Ok(n > 0)
}

fn list_parts(list: AccountList) -> (&'static str, &'static str, &'static str) {
    match list {
        AccountList::Followers => ("follows", "account_id", "target_account_id"),
        AccountList::Following => ("follows", "target_account_id", "account_id"),
        AccountList::Requests => ("follow_requests", "account_id", "target_account_id"),
        AccountList::Blocks => ("blocks", "target_account_id", "account_id"),
        AccountList::Mutes => ("mutes", "target_account_id", "account_id"),
    }
}

/// Size of one of `subject`'s account lists.
pub async fn count_list(db: &Db, list: AccountList, subject: i64) -> sqlx::Result<i64> {
    let (table, _, by) = list_parts(list);
    let sql = format!("SELECT count(*) FROM {table} WHERE {by} = $1");
    on_db!(db, c => sqlx::query_scalar(AssertSqlSafe(sql.as_str())).bind(subject).fetch_one(c).await)
}

/// Actor URIs of one of `subject`'s account lists, oldest first, for ActivityPub collections.
pub async fn list_account_uris(
    db: &Db,
    list: AccountList,
    subject: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<String>> {
    let (table, who, by) = list_parts(list);
    let sql = format!(
        "SELECT a.uri FROM {table} x JOIN accounts a ON a.id = x.{who} WHERE x.{by} = $1 ORDER BY x.id LIMIT $2 OFFSET $3"
    );
    on_db!(db, c => sqlx::query_scalar(AssertSqlSafe(sql.as_str())).bind(subject).bind(limit).bind(offset).fetch_all(c).await)
}

/// Inboxes of `author`'s remote followers, one per server where a shared inbox exists.
pub async fn remote_follower_inboxes(db: &Db, author: i64) -> sqlx::Result<Vec<String>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT DISTINCT coalesce(a.shared_inbox_url, a.inbox_url) FROM follows f \
         JOIN accounts a ON a.id = f.account_id \
         WHERE f.target_account_id = $1 AND a.domain IS NOT NULL AND a.inbox_url IS NOT NULL")
        .bind(author).fetch_all(c).await)
}

/// True when `author` has at least one local follower.
pub async fn has_local_followers(db: &Db, author: i64) -> sqlx::Result<bool> {
    let n: i64 = on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM follows f JOIN accounts a ON a.id = f.account_id \
         WHERE f.target_account_id = $1 AND a.domain IS NULL")
        .bind(author).fetch_one(c).await)?;
    Ok(n > 0)
}

/// The follow (or, failing that, follow request) whose activity ID is `uri`.
pub async fn find_follow_by_uri(db: &Db, uri: &str) -> sqlx::Result<Option<FollowRow>> {
    for t in [FollowTable::Follows, FollowTable::Requests] {
        let sql = format!("SELECT {FOLLOW_COLUMNS} FROM {} WHERE uri = $1", t.name());
        let row: Option<FollowRow> = on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(uri).fetch_optional(c).await)?;
        if row.is_some() {
            return Ok(row);
        }
    }
    Ok(None)
}

/// `(follower, followed)` pairs where either side is an account on `domain`.
pub async fn follows_with_domain(db: &Db, domain: &str) -> sqlx::Result<Vec<(i64, i64)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT f.account_id, f.target_account_id FROM follows f \
         JOIN accounts a ON a.id = f.account_id JOIN accounts t ON t.id = f.target_account_id \
         WHERE lower(a.domain) = $1 OR lower(t.domain) = $1")
        .bind(domain).fetch_all(c).await)
}

/// Local accounts that follow `author`.
pub async fn local_follower_ids(db: &Db, author: i64) -> sqlx::Result<Vec<i64>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id \
         WHERE f.target_account_id = $1 AND a.domain IS NULL")
        .bind(author).fetch_all(c).await)
}

/// True when some account on `domain` follows `author` (how a server's instance actor, signing a
/// fetch on behalf of its users, shows it may read followers-only documents).
pub async fn has_follower_on_domain(db: &Db, author: i64, domain: &str) -> sqlx::Result<bool> {
    let n: i64 = on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM follows f JOIN accounts a ON a.id = f.account_id \
         WHERE f.target_account_id = $1 AND lower(a.domain) = lower($2)")
        .bind(author).bind(domain).fetch_one(c).await)?;
    Ok(n > 0)
}

/// Of the accounts `viewer` follows, those that follow `target` (at most `limit`, oldest follow of
/// `target` first): `GET /api/v1/accounts/familiar_followers`.
pub async fn familiar_followers(
    db: &Db,
    viewer: i64,
    target: i64,
    limit: i64,
) -> sqlx::Result<Vec<i64>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT f2.account_id FROM follows f2 \
         JOIN follows f1 ON f1.target_account_id = f2.account_id AND f1.account_id = $1 \
         WHERE f2.target_account_id = $2 AND f2.account_id <> $1 ORDER BY f2.id LIMIT $3")
        .bind(viewer).bind(target).bind(limit).fetch_all(c).await)
}

/// The note `account` keeps about each of `targets` that has one.
pub async fn notes(db: &Db, account: i64, targets: &[i64]) -> sqlx::Result<Vec<(i64, String)>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let a = args.add(account);
    let list = args.ids(targets);
    let sql = format!(
        "SELECT target_account_id, comment FROM account_notes WHERE account_id = {a} AND target_account_id IN ({list})"
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Sets `account`'s note about `target`; an empty comment removes it.
pub async fn set_note(db: &Db, account: i64, target: i64, comment: &str) -> sqlx::Result<()> {
    if comment.is_empty() {
        on_db!(db, c => sqlx::query("DELETE FROM account_notes WHERE account_id = $1 AND target_account_id = $2")
            .bind(account).bind(target).execute(c).await.map(|r| r.rows_affected()))?;
    } else {
        on_db!(db, c => sqlx::query(
            "INSERT INTO account_notes (account_id, target_account_id, comment, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, target_account_id) DO UPDATE SET comment = excluded.comment, updated_at = excluded.updated_at")
            .bind(account).bind(target).bind(comment).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}
