//! `Conversation` (docs.joinmastodon.org/entities/Conversation/) and Rookery's message extensions
//! (docs/API.md, Conversations): per-recipient receipts, messaging preferences, presence.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Account;
use super::status::Status;

/// `Conversation`: a thread of direct statuses as one participant sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Conversation {
    pub id: String,
    /// True when a message arrived since the participant last marked it read.
    pub unread: bool,
    /// The other participants (the viewer alone when there are none).
    pub accounts: Vec<Account>,
    pub last_status: Option<Status>,
}

/// `MessageReceipt` (extension): where one direct message stands for one recipient.
#[derive(Clone, Debug, Serialize)]
pub struct MessageReceipt {
    pub account: Account,
    /// `sent` (stored, on its way), `delivered` (the recipient's server accepted it, or the
    /// recipient is local) or `seen` (the recipient read it or a later message).
    pub state: &'static str,
    #[serde(with = "super::mastodon_time::option")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(with = "super::mastodon_time::option")]
    pub seen_at: Option<DateTime<Utc>>,
}

/// `MessagingPreferences` (extension): what a user shares and how they are disturbed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MessagingPreferences {
    /// Others in a conversation see when this user is typing.
    pub typing_indicators: bool,
    /// Others who share a conversation see when this user is online.
    pub presence: bool,
    /// No `notification` streaming events (notifications are still kept).
    pub do_not_disturb: bool,
}

/// `Presence` (extension): whether a local account has a streaming connection open, and the
/// custom status it set (public, like a profile line; `null` when none or expired).
#[derive(Clone, Debug, Serialize)]
pub struct Presence {
    pub id: String,
    pub online: bool,
    pub custom_status: Option<CustomStatus>,
}

/// `CustomStatus` (extension): a short text and an emoji a user shows beside their presence.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CustomStatus {
    pub text: String,
    pub emoji: String,
    #[serde(with = "super::mastodon_time::option")]
    pub expires_at: Option<DateTime<Utc>>,
}
