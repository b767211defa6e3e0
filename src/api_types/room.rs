//! Rookery's room entities (docs/API.md, "Rooms"): `Room`, `RoomMember`, `RoomMessage`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Account;

/// `Room` (extension): a named group chat as the caller sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Room {
    pub id: String,
    /// The room's ActivityPub ID (a `Group` actor on its home server).
    pub uri: String,
    pub name: String,
    pub topic: String,
    /// URL of the room's image, or `null`.
    pub avatar: Option<String>,
    /// The caller's role: `owner`, `admin` or `member`.
    pub role: String,
    /// The caller's membership: `invited` (may accept or decline) or `joined`.
    pub state: String,
    /// The caller muted the room: no unread counts raised.
    pub muted: bool,
    /// An admin muted the caller in this room until then: no posting.
    #[serde(with = "super::mastodon_time::option")]
    pub silenced_until: Option<DateTime<Utc>>,
    /// Joined members.
    pub members_count: i64,
    /// Others' messages since the caller's last read one (at most 1,000; 0 while muted).
    pub unread_count: i64,
    /// How many of those name the caller.
    pub unread_mentions: i64,
    /// The newest message the caller may see (`null` for an invitee).
    pub last_message: Option<RoomMessage>,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
}

/// `RoomMember` (extension): one member or invitee of a room.
#[derive(Clone, Debug, Serialize)]
pub struct RoomMember {
    pub account: Account,
    /// `owner`, `admin` or `member`.
    pub role: String,
    /// `invited` or `joined`.
    pub state: String,
    #[serde(with = "super::mastodon_time::option")]
    pub joined_at: Option<DateTime<Utc>>,
    /// Muted by an admin until then.
    #[serde(with = "super::mastodon_time::option")]
    pub silenced_until: Option<DateTime<Utc>>,
}

/// `RoomMessage` (extension): a message in a room.
#[derive(Clone, Debug, Serialize)]
pub struct RoomMessage {
    pub id: String,
    pub room_id: String,
    pub uri: String,
    pub account: Account,
    /// HTML, as a status's `content`.
    pub content: String,
    /// The text as typed.
    pub text: String,
    pub in_reply_to_id: Option<String>,
    /// IDs of the members it names.
    pub mentions: Vec<String>,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
}
