//! Rooms, their members and messages (`rooms`, `room_members`, `room_messages`; migration 0038).

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::storage::db::Db;
use crate::storage::sql::{Args, Page};
use crate::storage::{Tx, ids};
use crate::{bind_args, on_db};

/// Roles, strongest first.
pub const ROLES: &[&str] = &["owner", "admin", "member"];

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RoomRow {
    pub id: i64,
    pub uri: String,
    pub local: bool,
    pub name: String,
    pub topic: String,
    pub avatar_media_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A room hosted elsewhere: its `Group` actor's inbox, where this server's members' activities
    /// go (docs/FEDERATION.md, "Rooms"). `None` for a room hosted here.
    pub inbox_url: Option<String>,
}

const ROOM_COLUMNS: &str = "r.id, r.uri, r.local, r.name, r.topic, r.avatar_media_id, r.created_at, \
     r.updated_at, r.inbox_url";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub room_id: i64,
    pub account_id: i64,
    /// `owner`, `admin` or `member`.
    pub role: String,
    /// `invited` or `joined`.
    pub state: String,
    pub invited_by: Option<i64>,
    pub invited_at: DateTime<Utc>,
    pub joined_at: Option<DateTime<Utc>>,
    /// An admin's mute: no posting until then.
    pub silenced_until: Option<DateTime<Utc>>,
    /// The member's own mute of the room's unread counts.
    pub muted: bool,
    pub last_read_id: i64,
}

impl MemberRow {
    pub fn joined(&self) -> bool {
        self.state == "joined"
    }

    /// Owner or admin.
    pub fn moderates(&self) -> bool {
        self.joined() && (self.role == "owner" || self.role == "admin")
    }

    /// The oldest message ID the member may read: none from before they joined.
    pub fn first_visible_id(&self) -> i64 {
        self.joined_at.map_or(i64::MAX, ids::min_id_at)
    }
}

const MEMBER_COLUMNS: &str = "m.room_id, m.account_id, m.role, m.state, m.invited_by, m.invited_at, \
     m.joined_at, m.silenced_until, m.muted, m.last_read_id";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub room_id: i64,
    pub account_id: i64,
    pub uri: String,
    pub in_reply_to_id: Option<i64>,
    pub text: String,
    pub content: String,
    /// Members it names.
    pub mentions: Json<Vec<i64>>,
    pub created_at: DateTime<Utc>,
}

const MESSAGE_COLUMNS: &str = "rm.id, rm.room_id, rm.account_id, rm.uri, rm.in_reply_to_id, \
     rm.text, rm.content, rm.mentions, rm.created_at";

/// Stores a new room and its owner (joined) in one transaction.
pub async fn create(db: &Db, room: &RoomRow, owner: i64) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    on_db!(tx, c => sqlx::query(
        "INSERT INTO rooms (id, uri, local, name, topic, avatar_media_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(room.id).bind(&room.uri).bind(room.local).bind(&room.name).bind(&room.topic)
        .bind(room.avatar_media_id).bind(room.created_at).bind(room.updated_at)
        .execute(c).await.map(|_| ()))?;
    on_db!(tx, c => sqlx::query(
        "INSERT INTO room_members (room_id, account_id, role, state, invited_at, joined_at) \
         VALUES ($1, $2, 'owner', 'joined', $3, $3)")
        .bind(room.id).bind(owner).bind(room.created_at)
        .execute(c).await.map(|_| ()))?;
    tx.commit().await
}

/// Saves a room's name, topic and avatar.
pub async fn update(db: &Db, room: &RoomRow) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE rooms SET name = $2, topic = $3, avatar_media_id = $4, updated_at = $5 WHERE id = $1")
        .bind(room.id).bind(&room.name).bind(&room.topic).bind(room.avatar_media_id)
        .bind(room.updated_at).execute(c).await.map(|_| ()))
}

/// Deletes a room's members and messages, keeping its row: a room hosted here that must still
/// sign its `Delete` to other servers (nobody can reach it any more: every read needs a member).
pub async fn empty(db: &Db, id: i64) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    on_db!(tx, c => sqlx::query("DELETE FROM room_messages WHERE room_id = $1")
        .bind(id).execute(c).await.map(|_| ()))?;
    on_db!(tx, c => sqlx::query("DELETE FROM room_members WHERE room_id = $1")
        .bind(id).execute(c).await.map(|_| ()))?;
    tx.commit().await
}

/// Deletes a room with its members and messages.
pub async fn delete(db: &Db, id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM rooms WHERE id = $1")
        .bind(id).execute(c).await.map(|_| ()))
}

/// The room whose `Group` actor is `uri`.
pub async fn find_by_uri(db: &Db, uri: &str) -> sqlx::Result<Option<RoomRow>> {
    let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.uri = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(uri).fetch_optional(c).await)
}

/// Stores the copy of a room hosted elsewhere, or refreshes its name, topic and inbox. Returns
/// its ID here.
pub async fn upsert_remote(db: &Db, room: &RoomRow) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "INSERT INTO rooms (id, uri, local, name, topic, created_at, updated_at, inbox_url) \
         VALUES ($1, $2, FALSE, $3, $4, $5, $6, $7) \
         ON CONFLICT (uri) DO UPDATE SET name = excluded.name, topic = excluded.topic, \
         updated_at = excluded.updated_at, inbox_url = excluded.inbox_url WHERE rooms.local = FALSE \
         RETURNING id")
        .bind(room.id).bind(&room.uri).bind(&room.name).bind(&room.topic)
        .bind(room.created_at).bind(room.updated_at).bind(&room.inbox_url)
        .fetch_one(c).await)
}

/// A room's key pair (public, private PEM), when made.
pub async fn keys(db: &Db, id: i64) -> sqlx::Result<Option<(String, String)>> {
    let row: Option<(Option<String>, Option<String>)> = on_db!(db, c => sqlx::query_as(
        "SELECT public_key_pem, private_key_pem FROM rooms WHERE id = $1")
        .bind(id).fetch_optional(c).await)?;
    Ok(row.and_then(|(p, k)| Some((p?, k?))))
}

/// Stores a room's key pair unless it has one (two requests may make one at once).
pub async fn set_keys_if_missing(
    db: &Db,
    id: i64,
    public: &str,
    private: &str,
) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE rooms SET public_key_pem = $2, private_key_pem = $3 \
         WHERE id = $1 AND public_key_pem IS NULL")
        .bind(id).bind(public).bind(private).execute(c).await.map(|_| ()))
}

/// Sets `account` joined with `role` (as the room's host says), keeping an earlier join time.
pub async fn set_joined(
    db: &Db,
    room: i64,
    account: i64,
    role: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO room_members (room_id, account_id, role, state, invited_at, joined_at) \
         VALUES ($1, $2, $3, 'joined', $4, $4) \
         ON CONFLICT (room_id, account_id) DO UPDATE SET role = excluded.role, state = 'joined', \
         joined_at = COALESCE(room_members.joined_at, excluded.joined_at)")
        .bind(room).bind(account).bind(role).bind(at)
        .execute(c).await.map(|_| ()))
}

/// The inboxes of `room`'s joined members on other servers (shared inboxes where they have one),
/// with each member's server, one row per member.
pub async fn remote_inboxes(db: &Db, room: i64) -> sqlx::Result<Vec<(String, String)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT a.domain, COALESCE(a.shared_inbox_url, a.inbox_url) FROM room_members m \
         JOIN accounts a ON a.id = m.account_id \
         WHERE m.room_id = $1 AND m.state = 'joined' AND a.domain IS NOT NULL \
         AND COALESCE(a.shared_inbox_url, a.inbox_url) IS NOT NULL")
        .bind(room).fetch_all(c).await)
}

/// How many members (joined or invited) of `room` are accounts of this server.
pub async fn local_members_count(db: &Db, room: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM room_members m JOIN accounts a ON a.id = m.account_id \
         WHERE m.room_id = $1 AND a.domain IS NULL")
        .bind(room).fetch_one(c).await)
}

/// The message of `room` with URI `uri`.
pub async fn find_message_by_uri(
    db: &Db,
    room: i64,
    uri: &str,
) -> sqlx::Result<Option<MessageRow>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM room_messages rm WHERE rm.room_id = $1 AND rm.uri = $2"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(room).bind(uri).fetch_optional(c).await)
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<RoomRow>> {
    let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// The rooms `account` is in or invited to, with its membership, the most recently active first.
pub async fn of_account(db: &Db, account: i64) -> sqlx::Result<Vec<(RoomRow, MemberRow)>> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM rooms r JOIN room_members m ON m.room_id = r.id \
         WHERE m.account_id = $1 \
         ORDER BY COALESCE((SELECT max(rm.id) FROM room_messages rm WHERE rm.room_id = r.id), r.id) DESC"
    );
    let rooms: Vec<RoomRow> = on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(account).fetch_all(c).await)?;
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM room_members m WHERE m.account_id = $1");
    let members: Vec<MemberRow> = on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(account).fetch_all(c).await)?;
    Ok(rooms
        .into_iter()
        .filter_map(|r| {
            let m = members.iter().find(|m| m.room_id == r.id)?.clone();
            Some((r, m))
        })
        .collect())
}

/// `account`'s membership of room `room`, invited or joined.
pub async fn member(db: &Db, room: i64, account: i64) -> sqlx::Result<Option<MemberRow>> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM room_members m WHERE m.room_id = $1 AND m.account_id = $2"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(room).bind(account).fetch_optional(c).await)
}

/// A room's members and invitees: owner first, then admins, then by join (or invitation) time.
pub async fn members(db: &Db, room: i64) -> sqlx::Result<Vec<MemberRow>> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM room_members m WHERE m.room_id = $1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, m.invited_at, m.account_id"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(room).fetch_all(c).await)
}

/// Invites `account` (as a member); an existing membership or invitation is left as it is.
/// Returns whether the invitation is new.
pub async fn invite(
    db: &Db,
    room: i64,
    account: i64,
    by: Option<i64>,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "INSERT INTO room_members (room_id, account_id, role, state, invited_by, invited_at) \
         VALUES ($1, $2, 'member', 'invited', $3, $4) ON CONFLICT DO NOTHING")
        .bind(room).bind(account).bind(by).bind(at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// An invitee joins; its history starts now. Returns whether it was invited.
pub async fn join(db: &Db, room: i64, account: i64, at: DateTime<Utc>) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "UPDATE room_members SET state = 'joined', joined_at = $3 \
         WHERE room_id = $1 AND account_id = $2 AND state = 'invited'")
        .bind(room).bind(account).bind(at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Removes a membership or invitation. Returns whether there was one.
pub async fn remove(db: &Db, room: i64, account: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "DELETE FROM room_members WHERE room_id = $1 AND account_id = $2")
        .bind(room).bind(account)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Sets a joined member's role.
pub async fn set_role(db: &Db, room: i64, account: i64, role: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE room_members SET role = $3 WHERE room_id = $1 AND account_id = $2")
        .bind(room).bind(account).bind(role)
        .execute(c).await.map(|_| ()))
}

/// Hands the room from `owner` to `to` (who becomes owner; `owner` an admin), atomically.
pub async fn transfer(db: &Db, room: i64, owner: i64, to: i64) -> sqlx::Result<()> {
    let mut tx: Tx = db.begin().await?;
    on_db!(tx, c => sqlx::query(
        "UPDATE room_members SET role = 'admin' WHERE room_id = $1 AND account_id = $2")
        .bind(room).bind(owner).execute(c).await.map(|_| ()))?;
    on_db!(tx, c => sqlx::query(
        "UPDATE room_members SET role = 'owner' WHERE room_id = $1 AND account_id = $2")
        .bind(room).bind(to).execute(c).await.map(|_| ()))?;
    tx.commit().await
}

/// An admin's mute of a member until `until` (`None` lifts it).
pub async fn silence(
    db: &Db,
    room: i64,
    account: i64,
    until: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE room_members SET silenced_until = $3 WHERE room_id = $1 AND account_id = $2")
        .bind(room).bind(account).bind(until)
        .execute(c).await.map(|_| ()))
}

/// The member's own mute of the room.
pub async fn set_muted(db: &Db, room: i64, account: i64, muted: bool) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE room_members SET muted = $3 WHERE room_id = $1 AND account_id = $2")
        .bind(room).bind(account).bind(muted)
        .execute(c).await.map(|_| ()))
}

/// Marks the room read by `account` up to `message_id` (never backwards).
pub async fn mark_read(db: &Db, room: i64, account: i64, message_id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE room_members SET last_read_id = $3 \
         WHERE room_id = $1 AND account_id = $2 AND last_read_id < $3")
        .bind(room).bind(account).bind(message_id)
        .execute(c).await.map(|_| ()))
}

/// Stores a message; one whose URI is already stored is left alone (a relayed copy of a message
/// this server sent). Returns whether it is new.
pub async fn insert_message(db: &Db, m: &MessageRow) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query(
        "INSERT INTO room_messages (id, room_id, account_id, uri, in_reply_to_id, text, content, \
         mentions, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (uri) DO NOTHING")
        .bind(m.id).bind(m.room_id).bind(m.account_id).bind(&m.uri).bind(m.in_reply_to_id)
        .bind(&m.text).bind(&m.content).bind(&m.mentions).bind(m.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn find_message(db: &Db, room: i64, id: i64) -> sqlx::Result<Option<MessageRow>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM room_messages rm WHERE rm.room_id = $1 AND rm.id = $2"
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(room).bind(id).fetch_optional(c).await)
}

/// Deletes every message `account` wrote in `room`.
pub async fn delete_messages_of(db: &Db, room: i64, account: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM room_messages WHERE room_id = $1 AND account_id = $2")
        .bind(room).bind(account).execute(c).await.map(|_| ()))
}

pub async fn delete_message(db: &Db, id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM room_messages WHERE id = $1")
        .bind(id).execute(c).await.map(|_| ()))
}

/// A room's messages from `from_id` on, paginated by ID (newest first); with `q`, only those whose
/// text contains every word of it (case-insensitively).
pub async fn messages(
    db: &Db,
    room: i64,
    from_id: i64,
    q: Option<&str>,
    page: &Page,
) -> sqlx::Result<Vec<MessageRow>> {
    let mut args = Args::default();
    let r = args.add(room);
    let from = args.add(from_id);
    let mut words = String::new();
    for w in q.unwrap_or("").split_whitespace().take(8) {
        let escaped = w
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let p = args.add(format!("%{escaped}%"));
        words.push_str(&format!(" AND lower(rm.text) LIKE {p} ESCAPE '\\'"));
    }
    let (cond, tail) = page.sql("rm.id", &mut args);
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM room_messages rm \
         WHERE rm.room_id = {r} AND rm.id >= {from}{words} AND {cond} {tail}"
    );
    let rows = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// Joined members of `room`.
pub async fn members_count(db: &Db, room: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM room_members WHERE room_id = $1 AND state = 'joined'")
        .bind(room).fetch_one(c).await)
}

/// For `account` in `room`, reading from `from_id` on and having read up to `last_read_id`: the
/// newest message it may see, how many others' messages it has not read (at most 1,000), and how
/// many of those name it.
pub async fn unread(
    db: &Db,
    account: i64,
    room: i64,
    from_id: i64,
    last_read_id: i64,
) -> sqlx::Result<(Option<MessageRow>, i64, i64)> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM room_messages rm WHERE rm.room_id = $1 AND rm.id >= $2 \
         ORDER BY rm.id DESC LIMIT 1"
    );
    let last: Option<MessageRow> = on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(room).bind(from_id).fetch_optional(c).await)?;
    // Only the mention lists of the unread messages, not the messages.
    let unread: Vec<Json<Vec<i64>>> = on_db!(db, c => sqlx::query_scalar(
        "SELECT rm.mentions FROM room_messages rm WHERE rm.room_id = $1 AND rm.id >= $2 \
         AND rm.id > $3 AND rm.account_id <> $4 ORDER BY rm.id DESC LIMIT 1000")
        .bind(room).bind(from_id).bind(last_read_id).bind(account).fetch_all(c).await)?;
    let mentions = unread.iter().filter(|m| m.0.contains(&account)).count() as i64;
    Ok((last, unread.len() as i64, mentions))
}

/// Records a direct message sent in `room`'s name to `account` (a member on a server without
/// rooms; `room_fallback_notes`).
pub async fn add_fallback_note(
    db: &Db,
    uri: &str,
    room: i64,
    account: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO room_fallback_notes (uri, room_id, account_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(uri).bind(room).bind(account).bind(at).execute(c).await.map(|_| ()))
}

/// The last direct message sent in `room`'s name to `account`, which the next one answers (so
/// they read as one thread).
pub async fn last_fallback_note(db: &Db, room: i64, account: i64) -> sqlx::Result<Option<String>> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT uri FROM room_fallback_notes WHERE room_id = $1 AND account_id = $2 \
         ORDER BY created_at DESC LIMIT 1")
        .bind(room).bind(account).fetch_optional(c).await)
}

/// The room and member of direct message `uri` sent in a room's name.
pub async fn find_fallback_note(db: &Db, uri: &str) -> sqlx::Result<Option<(i64, i64)>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT room_id, account_id FROM room_fallback_notes WHERE uri = $1")
        .bind(uri).fetch_optional(c).await)
}
