//! `Announcement` and its `Reaction`s (docs.joinmastodon.org/entities/Announcement/).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::CustomEmoji;

#[derive(Clone, Debug, Serialize)]
pub struct AnnouncementReaction {
    /// A Unicode emoji, or a custom emoji's shortcode.
    pub name: String,
    pub count: i64,
    /// Whether the reader reacted so.
    pub me: bool,
    /// Custom emojis only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_url: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Announcement {
    pub id: String,
    /// HTML.
    pub content: String,
    #[serde(with = "super::mastodon_time::option")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(with = "super::mastodon_time::option")]
    pub ends_at: Option<DateTime<Utc>>,
    pub published: bool,
    pub all_day: bool,
    #[serde(with = "super::mastodon_time")]
    pub published_at: DateTime<Utc>,
    #[serde(with = "super::mastodon_time")]
    pub updated_at: DateTime<Utc>,
    /// Whether the reader dismissed it (absent for anonymous readers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<bool>,
    /// Accounts, statuses and tags it links to: Rookery does not resolve links in announcements.
    pub mentions: Vec<serde_json::Value>,
    pub statuses: Vec<serde_json::Value>,
    pub tags: Vec<serde_json::Value>,
    pub emojis: Vec<CustomEmoji>,
    pub reactions: Vec<AnnouncementReaction>,
}
