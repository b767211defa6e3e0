//! One-to-one calls and their ICE candidates (`calls`, `call_candidates`; migration 0040).

use chrono::{DateTime, Utc};

use crate::on_db;
use crate::storage::db::Db;

/// States a call goes through: `ringing`, then `active` (answered) or one of the ends.
pub const RINGING: &str = "ringing";
pub const ACTIVE: &str = "active";
/// An answered call that one side hung up.
pub const ENDED: &str = "ended";
/// The callee declined while it rang.
pub const DECLINED: &str = "declined";
/// Nobody answered: the caller gave up or the ring timed out.
pub const MISSED: &str = "missed";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CallRow {
    pub id: i64,
    pub uri: String,
    pub caller_id: i64,
    pub callee_id: i64,
    /// `audio` or `video`.
    pub media: String,
    pub state: String,
    /// The caller's SDP offer.
    pub offer: String,
    /// The callee's SDP answer, once accepted.
    pub answer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl CallRow {
    /// A call from `caller` to `callee` starting to ring now.
    pub fn ringing(
        id: i64,
        uri: String,
        caller: i64,
        callee: i64,
        media: &str,
        offer: &str,
    ) -> CallRow {
        CallRow {
            id,
            uri,
            caller_id: caller,
            callee_id: callee,
            media: media.to_string(),
            state: RINGING.to_string(),
            offer: offer.to_string(),
            answer: None,
            created_at: Utc::now(),
            answered_at: None,
            ended_at: None,
        }
    }

    /// Ringing or active.
    pub fn live(&self) -> bool {
        self.state == RINGING || self.state == ACTIVE
    }

    /// The other side of the call from `account`.
    pub fn peer_of(&self, account: i64) -> i64 {
        if account == self.caller_id {
            self.callee_id
        } else {
            self.caller_id
        }
    }
}

const COLUMNS: &str = "id, uri, caller_id, callee_id, media, state, offer, answer, created_at, \
     answered_at, ended_at";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: i64,
    pub call_id: i64,
    pub from_caller: bool,
    pub candidate: String,
    pub sdp_mid: Option<String>,
    pub sdp_m_line_index: Option<i32>,
}

/// Stores a new call.
pub async fn insert(db: &Db, c: &CallRow) -> sqlx::Result<()> {
    on_db!(db, x => sqlx::query(
        "INSERT INTO calls (id, uri, caller_id, callee_id, media, state, offer, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(c.id).bind(&c.uri).bind(c.caller_id).bind(c.callee_id).bind(&c.media)
        .bind(&c.state).bind(&c.offer).bind(c.created_at)
        .execute(x).await.map(|_| ()))
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<CallRow>> {
    let sql = format!("SELECT {COLUMNS} FROM calls WHERE id = $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

pub async fn find_by_uri(db: &Db, uri: &str) -> sqlx::Result<Option<CallRow>> {
    let sql = format!("SELECT {COLUMNS} FROM calls WHERE uri = $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(uri).fetch_optional(c).await)
}

/// `account`'s calls, made or received, newest first: at most `limit`, older than `max_id` if set.
pub async fn list(
    db: &Db,
    account: i64,
    max_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<CallRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM calls WHERE (caller_id = $1 OR callee_id = $1) AND id < $2 \
         ORDER BY id DESC LIMIT $3"
    );
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(account).bind(max_id.unwrap_or(i64::MAX)).bind(limit).fetch_all(c).await)
}

/// Whether a call between `a` and `b` (either way) is ringing or active.
pub async fn live_between(db: &Db, a: i64, b: i64) -> sqlx::Result<bool> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM calls WHERE state IN ('ringing', 'active') \
         AND ((caller_id = $1 AND callee_id = $2) OR (caller_id = $2 AND callee_id = $1)))")
        .bind(a).bind(b).fetch_one(c).await)
}

/// Ringing calls that started before `before` (their ring timed out).
pub async fn ringing_since(db: &Db, before: DateTime<Utc>) -> sqlx::Result<Vec<CallRow>> {
    let sql = format!("SELECT {COLUMNS} FROM calls WHERE state = 'ringing' AND created_at < $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(before).fetch_all(c).await)
}

/// Answers a ringing call: true when it was ringing (and is now active).
pub async fn answer(db: &Db, id: i64, sdp: &str, at: DateTime<Utc>) -> sqlx::Result<bool> {
    on_db!(db, c => sqlx::query(
        "UPDATE calls SET state = 'active', answer = $2, answered_at = $3 \
         WHERE id = $1 AND state = 'ringing'")
        .bind(id).bind(sdp).bind(at).execute(c).await.map(|r| r.rows_affected() == 1))
}

/// Ends a live call with `state`: true when it was live (so this is the end that counts).
pub async fn end(db: &Db, id: i64, state: &str, at: DateTime<Utc>) -> sqlx::Result<bool> {
    on_db!(db, c => sqlx::query(
        "UPDATE calls SET state = $2, ended_at = $3 WHERE id = $1 AND state IN ('ringing', 'active')")
        .bind(id).bind(state).bind(at).execute(c).await.map(|r| r.rows_affected() == 1))
}

/// Stores an ICE candidate of a call if the sending side has sent fewer than `max`: whether it
/// was stored.
pub async fn add_candidate(db: &Db, c: &CandidateRow, max: i64) -> sqlx::Result<bool> {
    on_db!(db, x => sqlx::query(
        "INSERT INTO call_candidates (id, call_id, from_caller, candidate, sdp_mid, sdp_m_line_index) \
         SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT count(*) FROM call_candidates \
         WHERE call_id = $2 AND from_caller = $3) < $7")
        .bind(c.id).bind(c.call_id).bind(c.from_caller).bind(&c.candidate).bind(&c.sdp_mid)
        .bind(c.sdp_m_line_index).bind(max).execute(x).await.map(|r| r.rows_affected() == 1))
}

/// A call's ICE candidates, in the order sent.
pub async fn candidates(db: &Db, call: i64) -> sqlx::Result<Vec<CandidateRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT id, call_id, from_caller, candidate, sdp_mid, sdp_m_line_index FROM call_candidates \
         WHERE call_id = $1 ORDER BY id")
        .bind(call).fetch_all(c).await)
}

/// Whether `a` and `b` follow each other (both follows accepted).
pub async fn mutual_follows(db: &Db, a: i64, b: i64) -> sqlx::Result<bool> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2) \
         AND EXISTS (SELECT 1 FROM follows WHERE account_id = $2 AND target_account_id = $1)")
        .bind(a).bind(b).fetch_one(c).await)
}

/// Whether `a` and `b` share a conversation: a direct message one wrote to the other, or a room
/// both have joined.
pub async fn share_conversation(db: &Db, a: i64, b: i64) -> sqlx::Result<bool> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM statuses s JOIN mentions m ON m.status_id = s.id \
           WHERE s.visibility = 'direct' \
           AND ((s.account_id = $1 AND m.account_id = $2) OR (s.account_id = $2 AND m.account_id = $1))) \
         OR EXISTS (SELECT 1 FROM room_members x JOIN room_members y ON y.room_id = x.room_id \
           WHERE x.account_id = $1 AND y.account_id = $2 AND x.state = 'joined' AND y.state = 'joined')")
        .bind(a).bind(b).fetch_one(c).await)
}
