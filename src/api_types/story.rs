//! Story entities (Rookery's extension; docs/API.md, Stories). Shaped like Mastodon's entities:
//! string IDs, RFC 3339 times, the `Account` and `MediaAttachment` entities inside.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Account;
use super::media::MediaAttachment;

/// `Story`: one photo or video shown for `duration` seconds until `expires_at`.
#[derive(Clone, Debug, Serialize)]
pub struct Story {
    pub id: String,
    /// The story's ActivityPub id (`https://DOMAIN/stories/USERNAME/ID` for local ones).
    pub uri: String,
    pub account: Account,
    pub media_attachment: MediaAttachment,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "super::mastodon_time")]
    pub expires_at: DateTime<Utc>,
    /// Seconds shown.
    pub duration: i64,
    /// Whether the viewer has marked it seen.
    pub seen: bool,
    pub can_reply: bool,
    pub can_react: bool,
}

/// One account in the tray (`GET /api/v1/stories`): its live stories, oldest first.
#[derive(Clone, Debug, Serialize)]
pub struct StoryTrayEntry {
    pub account: Account,
    pub stories: Vec<Story>,
    /// True when the viewer has seen every story here.
    pub seen: bool,
    #[serde(with = "super::mastodon_time")]
    pub last_story_at: DateTime<Utc>,
}

/// One viewer of a story (`GET /api/v1/stories/:id/viewers`).
#[derive(Clone, Debug, Serialize)]
pub struct StoryViewer {
    pub account: Account,
    #[serde(with = "super::mastodon_time")]
    pub viewed_at: DateTime<Utc>,
}
