//! Quotes of statuses (migration 0032): one row per quoting status, with the quoted status (once
//! known) and the state of its approval. Every change marks both statuses changed, so their
//! renderings (the quote, `quotes_count`) are rebuilt.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::changes::Kind;
use crate::storage::db::{Db, Tx};
use crate::storage::sql::{Args, Page};
use crate::storage::statuses::{not_filtered, visible_to};
use crate::{bind_args, on_db};

/// The states a quote is stored in (docs.joinmastodon.org/entities/Quote/ adds the ones computed
/// for a viewer: `deleted`, `unauthorized`, `blocked_account`, `blocked_domain`, `muted_account`).
pub const PENDING: &str = "pending";
pub const ACCEPTED: &str = "accepted";
pub const REJECTED: &str = "rejected";
pub const REVOKED: &str = "revoked";

/// Flags of `statuses.quote_approval_policy` (Mastodon's `QUOTE_APPROVAL_POLICY_FLAGS`): an
/// audience we cannot evaluate, the public, the author's followers, the accounts the author
/// follows. The automatic-approval flags are shifted left by 16, or-ed with the manual ones.
pub const POLICY_UNSUPPORTED: i64 = 1;
pub const POLICY_PUBLIC: i64 = 2;
pub const POLICY_FOLLOWERS: i64 = 4;
pub const POLICY_FOLLOWING: i64 = 8;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QuoteRow {
    pub id: i64,
    /// The quoting status.
    pub status_id: i64,
    pub account_id: i64,
    /// `None` while the quoted object is unknown here, or once it was deleted.
    pub quoted_status_id: Option<i64>,
    pub quoted_account_id: Option<i64>,
    pub quoted_uri: String,
    pub state: String,
    pub approval_uri: Option<String>,
    pub activity_uri: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, status_id, account_id, quoted_status_id, quoted_account_id, quoted_uri, \
    state, approval_uri, activity_uri, created_at, updated_at";

/// A quote to store with its quoting status.
#[derive(Clone, Debug)]
pub struct NewQuote {
    pub id: i64,
    pub quoted_status_id: Option<i64>,
    pub quoted_account_id: Option<i64>,
    pub quoted_uri: String,
    pub state: &'static str,
    pub approval_uri: Option<String>,
}

/// Stores the quote of `status_id` (by `account_id`), in the status's transaction.
pub async fn insert(
    tx: &mut Tx,
    q: &NewQuote,
    status_id: i64,
    account_id: i64,
) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(tx, c => sqlx::query(
        "INSERT INTO quotes (id, status_id, account_id, quoted_status_id, quoted_account_id, \
         quoted_uri, state, approval_uri, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (status_id) DO NOTHING")
        .bind(q.id).bind(status_id).bind(account_id).bind(q.quoted_status_id)
        .bind(q.quoted_account_id).bind(&q.quoted_uri).bind(q.state).bind(&q.approval_uri).bind(now)
        .execute(c).await.map(|_| ()))?;
    tx.changes_key(Kind::Statuses, status_id);
    if let Some(quoted) = q.quoted_status_id {
        tx.changes_key(Kind::Statuses, quoted);
    }
    Ok(())
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<QuoteRow>> {
    let sql = format!("SELECT {COLUMNS} FROM quotes WHERE id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// The quote made by status `status_id`, if it quotes anything.
pub async fn of_status(db: &Db, status_id: i64) -> sqlx::Result<Option<QuoteRow>> {
    let sql = format!("SELECT {COLUMNS} FROM quotes WHERE status_id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(status_id).fetch_optional(c).await)
}

/// The quotes made by these statuses (any order).
pub async fn of_statuses(db: &Db, status_ids: &[i64]) -> sqlx::Result<Vec<QuoteRow>> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.ids(status_ids);
    let sql = format!("SELECT {COLUMNS} FROM quotes WHERE status_id IN ({list})");
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// The quote whose stamp (`QuoteAuthorization`) has this id.
pub async fn by_approval_uri(db: &Db, uri: &str) -> sqlx::Result<Option<QuoteRow>> {
    let sql = format!("SELECT {COLUMNS} FROM quotes WHERE approval_uri = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(uri).fetch_optional(c).await)
}

/// Sets a quote's state, and its stamp and request IDs when given; marks both statuses changed.
/// Returns false when the quote is gone.
pub async fn set_state(
    db: &Db,
    q: &QuoteRow,
    state: &str,
    approval_uri: Option<&str>,
    activity_uri: Option<&str>,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let done = set_state_in(&mut tx, q, state, approval_uri, activity_uri).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`set_state`] inside an open transaction (with what else the change brings, such as a
/// notification); both statuses' kept renderings are dropped on commit.
pub async fn set_state_in(
    tx: &mut Tx,
    q: &QuoteRow,
    state: &str,
    approval_uri: Option<&str>,
    activity_uri: Option<&str>,
) -> sqlx::Result<bool> {
    let n = on_db!(tx, c => sqlx::query(
        "UPDATE quotes SET state = $1, approval_uri = COALESCE($2, approval_uri), \
         activity_uri = COALESCE($3, activity_uri), updated_at = $4 WHERE id = $5")
        .bind(state).bind(approval_uri).bind(activity_uri).bind(Utc::now()).bind(q.id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.changes_key(Kind::Statuses, q.status_id);
    if let Some(s) = q.quoted_status_id {
        tx.changes_key(Kind::Statuses, s);
    }
    Ok(n == 1)
}

/// Links a quote to its quoted status, once that is known here.
pub async fn set_quoted(
    db: &Db,
    q: &QuoteRow,
    status_id: i64,
    account_id: i64,
) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE quotes SET quoted_status_id = $1, quoted_account_id = $2, updated_at = $3 WHERE id = $4")
        .bind(status_id).bind(account_id).bind(Utc::now()).bind(q.id)
        .execute(c).await.map(|_| ()))?;
    changed(q);
    crate::storage::changes::changed_key(Kind::Statuses, status_id);
    Ok(())
}

fn changed(q: &QuoteRow) {
    crate::storage::changes::changed_key(Kind::Statuses, q.status_id);
    if let Some(s) = q.quoted_status_id {
        crate::storage::changes::changed_key(Kind::Statuses, s);
    }
}

/// Accepted quotes of each of these statuses: `(quoted status, count)`.
pub async fn accepted_counts(db: &Db, quoted_ids: &[i64]) -> sqlx::Result<Vec<(i64, i64)>> {
    if quoted_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.ids(quoted_ids);
    let sql = format!(
        "SELECT quoted_status_id, COUNT(*) FROM quotes WHERE quoted_status_id IN ({list}) \
         AND state = 'accepted' GROUP BY quoted_status_id"
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// IDs of the statuses that quote `quoted_id` with an accepted quote and that `viewer` may see
/// (and has not filtered out), newest first, paginated by the quoting status's ID.
pub async fn accepted_quoting(
    db: &Db,
    quoted_id: i64,
    viewer: i64,
    page: &Page,
) -> sqlx::Result<Vec<i64>> {
    let mut args = Args::default();
    let q = args.add(quoted_id);
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let (cond, tail) = page.sql("s.id", &mut args);
    let sql = format!(
        "SELECT s.id FROM quotes q JOIN statuses s ON s.id = q.status_id \
         WHERE q.quoted_status_id = {q} AND q.state = 'accepted' AND {vis} AND ({v} = s.account_id OR {nf}) \
         AND {cond} {tail}",
        vis = visible_to("s", &v),
        nf = not_filtered("s.account_id", &v, &now),
    );
    let ids: Vec<i64> = on_db!(db, c => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(ids))
}

/// Local authors of accepted quotes of `quoted_id`, with their quoting statuses (at most 1,000):
/// whom to tell that the quoted status was edited.
pub async fn local_quoters(db: &Db, quoted_id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT q.account_id, q.status_id FROM quotes q JOIN accounts a ON a.id = q.account_id \
         WHERE q.quoted_status_id = $1 AND q.state = 'accepted' AND a.domain IS NULL LIMIT 1000")
        .bind(quoted_id).fetch_all(c).await)
}

/// How quoted statuses stand for `viewer`: `(id, visible, filtered)` — visible by the rule of
/// `statuses::find_visible`, filtered when the viewer blocks, mutes or blocked the server of its
/// author (or is blocked).
pub async fn standing(
    db: &Db,
    viewer: i64,
    quoted_ids: &[i64],
) -> sqlx::Result<Vec<(i64, bool, bool)>> {
    if quoted_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let list = args.ids(quoted_ids);
    let sql = format!(
        "SELECT s.id, {vis} AS visible, CASE WHEN s.account_id = {v} THEN FALSE ELSE NOT ({nf}) END AS filtered \
         FROM statuses s WHERE s.id IN ({list})",
        vis = visible_to("s", &v),
        nf = not_filtered("s.account_id", &v, &now),
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Of these accounts, those `viewer` follows and those following `viewer`: what a quote policy
/// of `followers` or `following` asks.
pub async fn follow_links(
    db: &Db,
    viewer: i64,
    accounts: &[i64],
) -> sqlx::Result<(Vec<i64>, Vec<i64>)> {
    if accounts.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut args = Args::default();
    let v = args.add(viewer);
    let list = args.ids(accounts);
    let sql = format!(
        "SELECT 'f', target_account_id FROM follows WHERE account_id = {v} AND target_account_id IN ({list}) \
         UNION ALL SELECT 'b', account_id FROM follows WHERE target_account_id = {v} AND account_id IN ({list})"
    );
    let rows: Vec<(String, i64)> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    let (mut following, mut followed_by) = (Vec::new(), Vec::new());
    for (kind, id) in rows {
        if kind == "f" {
            following.push(id);
        } else {
            followed_by.push(id);
        }
    }
    Ok((following, followed_by))
}

/// Sets a status's quote policy; marks it changed.
pub async fn set_policy(db: &Db, status_id: i64, policy: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE statuses SET quote_approval_policy = $1 WHERE id = $2")
        .bind(policy).bind(status_id).execute(c).await.map(|_| ()))?;
    crate::storage::changes::changed_key(Kind::Statuses, status_id);
    Ok(())
}
