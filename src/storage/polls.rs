//! Polls and their votes (migration 0028). A poll belongs to one status (`statuses.poll_id`);
//! every change to a poll marks its status changed, so rendered statuses are rebuilt.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::storage::changes::Kind;
use crate::storage::db::{Db, Tx};
use crate::storage::sql::Args;
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PollRow {
    pub id: i64,
    pub status_id: i64,
    pub account_id: i64,
    /// Option titles, in order.
    pub options: Json<Vec<String>>,
    /// Votes per option, the same length as `options`.
    pub tallies: Json<Vec<i64>>,
    pub multiple: bool,
    pub hide_totals: bool,
    pub votes_count: i64,
    /// Distinct voters; unknown (`None`) for remote single-choice polls that do not say.
    pub voters_count: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The end was announced (notifications, the last `Update`).
    pub ended: bool,
    pub updated_at: DateTime<Utc>,
}

impl PollRow {
    /// True once `expires_at` has passed.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

const COLUMNS: &str = "id, status_id, account_id, options, tallies, multiple, hide_totals, \
    votes_count, voters_count, expires_at, ended, updated_at";

/// A poll to store with its status.
pub struct NewPoll<'a> {
    pub id: i64,
    pub status_id: i64,
    pub account_id: i64,
    pub options: &'a [String],
    pub tallies: &'a [i64],
    pub multiple: bool,
    pub hide_totals: bool,
    pub voters_count: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores a poll and links its status to it (in the status's transaction).
pub async fn insert(tx: &mut Tx, p: &NewPoll<'_>) -> sqlx::Result<()> {
    let votes: i64 = p.tallies.iter().sum();
    let now = Utc::now();
    on_db!(tx, c => sqlx::query(
        "INSERT INTO polls (id, status_id, account_id, options, tallies, multiple, hide_totals, \
         votes_count, voters_count, expires_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(p.id).bind(p.status_id).bind(p.account_id).bind(Json(p.options)).bind(Json(p.tallies))
        .bind(p.multiple).bind(p.hide_totals).bind(votes).bind(p.voters_count).bind(p.expires_at)
        .bind(now).execute(c).await.map(|_| ()))?;
    on_db!(tx, c => sqlx::query("UPDATE statuses SET poll_id = $1 WHERE id = $2")
        .bind(p.id).bind(p.status_id).execute(c).await.map(|_| ()))?;
    tx.changes_key(Kind::Statuses, p.status_id);
    Ok(())
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<PollRow>> {
    let sql = format!("SELECT {COLUMNS} FROM polls WHERE id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// Locks a poll for the rest of the transaction (PostgreSQL `FOR UPDATE`; SQLite's one writer
/// already serialises), so that two votes by one voter arriving at once are checked one after
/// the other.
pub async fn lock(tx: &mut Tx, id: i64) -> sqlx::Result<()> {
    if let Tx::Postgres(..) = tx {
        on_db!(tx, c => sqlx::query("SELECT id FROM polls WHERE id = $1 FOR UPDATE")
            .bind(id).fetch_optional(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// Polls with these IDs (any order).
pub async fn find_many(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<PollRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.ids(ids);
    let sql = format!("SELECT {COLUMNS} FROM polls WHERE id IN ({list})");
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// `(poll_id, choice)` of `account_id`'s votes in these polls.
pub async fn own_votes(
    db: &Db,
    account_id: i64,
    poll_ids: &[i64],
) -> sqlx::Result<Vec<(i64, i64)>> {
    if poll_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let a = args.add(account_id);
    let list = args.ids(poll_ids);
    let sql = format!(
        "SELECT poll_id, CAST(choice AS BIGINT) FROM poll_votes WHERE account_id = {a} \
         AND poll_id IN ({list}) ORDER BY poll_id, choice"
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// The options `account_id` chose in `poll_id`, in a transaction.
pub async fn choices_of(tx: &mut Tx, poll_id: i64, account_id: i64) -> sqlx::Result<Vec<i64>> {
    on_db!(tx, c => sqlx::query_scalar(
        "SELECT CAST(choice AS BIGINT) FROM poll_votes WHERE poll_id = $1 AND account_id = $2 ORDER BY choice")
        .bind(poll_id).bind(account_id).fetch_all(c).await)
}

/// Records one vote row; false when this voter already chose this option.
pub async fn add_vote(
    tx: &mut Tx,
    id: i64,
    poll_id: i64,
    account_id: i64,
    choice: i64,
    uri: Option<&str>,
) -> sqlx::Result<bool> {
    let n = on_db!(tx, c => sqlx::query(
        "INSERT INTO poll_votes (id, poll_id, account_id, choice, uri, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (poll_id, account_id, choice) DO NOTHING")
        .bind(id).bind(poll_id).bind(account_id).bind(choice as i32).bind(uri).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Recounts a local poll's tallies and voters from its votes.
pub async fn recount(tx: &mut Tx, poll: &PollRow) -> sqlx::Result<()> {
    let counts: Vec<(i64, i64)> = on_db!(tx, c => sqlx::query_as(
        "SELECT CAST(choice AS BIGINT), COUNT(*) FROM poll_votes WHERE poll_id = $1 GROUP BY choice")
        .bind(poll.id).fetch_all(c).await)?;
    let voters: i64 = on_db!(tx, c => sqlx::query_scalar(
        "SELECT COUNT(DISTINCT account_id) FROM poll_votes WHERE poll_id = $1")
        .bind(poll.id).fetch_one(c).await)?;
    let mut tallies = vec![0i64; poll.options.len()];
    for (choice, n) in counts {
        if let Some(t) = usize::try_from(choice)
            .ok()
            .and_then(|i| tallies.get_mut(i))
        {
            *t = n;
        }
    }
    set_counts(tx, poll, &tallies, Some(voters)).await
}

/// Sets a poll's tallies and voter count (a remote poll's as its server reports them, or a
/// recount).
pub async fn set_counts(
    tx: &mut Tx,
    poll: &PollRow,
    tallies: &[i64],
    voters_count: Option<i64>,
) -> sqlx::Result<()> {
    let votes: i64 = tallies.iter().fold(0i64, |a, t| a.saturating_add(*t));
    on_db!(tx, c => sqlx::query(
        "UPDATE polls SET tallies = $1, votes_count = $2, voters_count = $3, updated_at = $4 WHERE id = $5")
        .bind(Json(tallies)).bind(votes).bind(voters_count).bind(Utc::now()).bind(poll.id)
        .execute(c).await.map(|_| ()))?;
    tx.changes_key(Kind::Statuses, poll.status_id);
    Ok(())
}

/// Moves a poll's end, keeping whether it was announced.
pub async fn set_end(
    tx: &mut Tx,
    poll: &PollRow,
    expires_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("UPDATE polls SET expires_at = $1, updated_at = $2 WHERE id = $3")
        .bind(expires_at).bind(Utc::now()).bind(poll.id).execute(c).await.map(|_| ()))?;
    tx.changes_key(Kind::Statuses, poll.status_id);
    Ok(())
}

/// Replaces a poll's options and settings (an edit that changed its options or `multiple`): a
/// new poll under the same ID, so every vote goes and its end is announced afresh, as Mastodon
/// does.
pub async fn replace(
    tx: &mut Tx,
    poll: &PollRow,
    options: &[String],
    multiple: bool,
    hide_totals: bool,
    expires_at: Option<DateTime<Utc>>,
    tallies: &[i64],
    voters_count: Option<i64>,
) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("DELETE FROM poll_votes WHERE poll_id = $1")
        .bind(poll.id).execute(c).await.map(|_| ()))?;
    let votes: i64 = tallies.iter().fold(0i64, |a, t| a.saturating_add(*t));
    on_db!(tx, c => sqlx::query(
        "UPDATE polls SET options = $1, tallies = $2, multiple = $3, hide_totals = $4, \
         expires_at = $5, votes_count = $6, voters_count = $7, ended = FALSE, updated_at = $8 WHERE id = $9")
        .bind(Json(options)).bind(Json(tallies)).bind(multiple).bind(hide_totals).bind(expires_at)
        .bind(votes).bind(voters_count).bind(Utc::now()).bind(poll.id)
        .execute(c).await.map(|_| ()))?;
    tx.changes_key(Kind::Statuses, poll.status_id);
    Ok(())
}

/// Removes a status's poll (an edit without one).
pub async fn remove(tx: &mut Tx, poll: &PollRow) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("UPDATE statuses SET poll_id = NULL WHERE id = $1")
        .bind(poll.status_id).execute(c).await.map(|_| ()))?;
    on_db!(tx, c => sqlx::query("DELETE FROM polls WHERE id = $1")
        .bind(poll.id).execute(c).await.map(|_| ()))?;
    tx.changes_key(Kind::Statuses, poll.status_id);
    Ok(())
}

/// Marks the poll's end announced; false when it was already (a job that ran twice).
pub async fn mark_ended(tx: &mut Tx, poll: &PollRow) -> sqlx::Result<bool> {
    let n = on_db!(tx, c => sqlx::query("UPDATE polls SET ended = TRUE WHERE id = $1 AND NOT ended")
        .bind(poll.id).execute(c).await.map(|r| r.rows_affected()))?;
    // `expired` in its status's rendering changes now.
    tx.changes_key(Kind::Statuses, poll.status_id);
    Ok(n > 0)
}

/// Notes that an `Update` with new counts is due; false when one is queued already.
pub async fn queue_update(tx: &mut Tx, poll_id: i64) -> sqlx::Result<bool> {
    let n = on_db!(tx, c => sqlx::query(
        "UPDATE polls SET update_queued = TRUE WHERE id = $1 AND NOT update_queued")
        .bind(poll_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The queued `Update` is being sent: later votes queue another.
pub async fn clear_update(db: &Db, poll_id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE polls SET update_queued = FALSE WHERE id = $1")
        .bind(poll_id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Local accounts that voted in a poll.
pub async fn local_voters(tx: &mut Tx, poll_id: i64) -> sqlx::Result<Vec<i64>> {
    on_db!(tx, c => sqlx::query_scalar(
        "SELECT DISTINCT v.account_id FROM poll_votes v JOIN accounts a ON a.id = v.account_id \
         WHERE v.poll_id = $1 AND a.domain IS NULL")
        .bind(poll_id).fetch_all(c).await)
}

/// Inboxes of remote accounts that voted in a poll (shared inboxes where they have them).
pub async fn remote_voter_inboxes(db: &Db, poll_id: i64) -> sqlx::Result<Vec<String>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT DISTINCT COALESCE(a.shared_inbox_url, a.inbox_url) FROM poll_votes v \
         JOIN accounts a ON a.id = v.account_id \
         WHERE v.poll_id = $1 AND a.domain IS NOT NULL AND COALESCE(a.shared_inbox_url, a.inbox_url) IS NOT NULL")
        .bind(poll_id).fetch_all(c).await)
}
