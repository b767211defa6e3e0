//! `Status`, `StatusEdit`, `StatusSource`, `Context`, `Tag`, `Notification` entities
//! (docs.joinmastodon.org/entities/).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Account, CustomEmoji};

#[derive(Clone, Debug, Serialize)]
pub struct Mention {
    pub id: String,
    pub username: String,
    pub url: String,
    pub acct: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct StatusTag {
    pub name: String,
    pub url: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct StatusApplication {
    pub name: String,
    pub website: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub id: String,
    pub uri: String,
    pub url: Option<String>,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    pub account: Account,
    pub content: String,
    pub visibility: String,
    pub sensitive: bool,
    pub spoiler_text: String,
    pub media_attachments: Vec<super::media::MediaAttachment>,
    pub application: Option<StatusApplication>,
    pub mentions: Vec<Mention>,
    pub tags: Vec<StatusTag>,
    pub emojis: Vec<CustomEmoji>,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub replies_count: i64,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    pub poll: Option<Poll>,
    pub card: Option<serde_json::Value>,
    pub language: Option<String>,
    /// Source text: only in the answer to a deletion ("delete and redraft").
    pub text: Option<String>,
    #[serde(with = "super::mastodon_time::option")]
    pub edited_at: Option<DateTime<Utc>>,
    /// Rookery's extensions (docs/API.md, Shorts): a vertical video post, and how many people
    /// watched it (each viewer once a day).
    pub short: bool,
    pub views_count: i64,
    /// Accepted quotes of it (Mastodon 4.5).
    pub quotes_count: i64,
    /// What it quotes: a `Quote` (`{state, quoted_status}`), or a `ShallowQuote`
    /// (`{state, quoted_status_id}`) inside a quoted status; null when it quotes nothing.
    /// `quote` and `quote_approval` come last before `reblog`: `service::rendered` writes them per
    /// request.
    pub quote: Option<serde_json::Value>,
    pub quote_approval: QuoteApproval,
    /// The boosted status. Declared after every field but the viewer's: `service::rendered`
    /// keeps statuses' JSON up to here and writes this and the viewer's fields per request.
    pub reblog: Option<Box<Status>>,
    /// Viewer-specific; absent (not false) for anonymous viewers, as Mastodon does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favourited: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reblogged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookmarked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filtered: Option<Vec<super::filter::FilterResult>>,
}

/// `QuoteApproval` (docs.joinmastodon.org/entities/QuoteApproval/): who may quote a status with
/// automatic or manual approval (`public`, `followers`, `following`, `unsupported_policy`), and
/// what applies to the viewer: `automatic`, `manual`, `unknown` or `denied`.
#[derive(Clone, Debug, Serialize)]
pub struct QuoteApproval {
    pub automatic: Vec<String>,
    pub manual: Vec<String>,
    pub current_user: String,
}

/// One option of a [`Poll`]: `votes_count` is null while totals are hidden.
#[derive(Clone, Debug, Serialize)]
pub struct PollOption {
    pub title: String,
    pub votes_count: Option<i64>,
}

/// `Poll` (docs.joinmastodon.org/entities/Poll/). `voted` and `own_votes` only for a signed-in
/// viewer, as Mastodon.
#[derive(Clone, Debug, Serialize)]
pub struct Poll {
    pub id: String,
    #[serde(with = "super::mastodon_time::option")]
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
    pub multiple: bool,
    pub votes_count: i64,
    /// Null for single-choice remote polls whose server does not count voters.
    pub voters_count: Option<i64>,
    pub options: Vec<PollOption>,
    pub emojis: Vec<CustomEmoji>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_votes: Option<Vec<i64>>,
}

/// One version in `GET /api/v1/statuses/:id/history`.
#[derive(Clone, Debug, Serialize)]
pub struct StatusEdit {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    pub account: Account,
    pub poll: Option<serde_json::Value>,
    pub media_attachments: Vec<super::media::MediaAttachment>,
    pub emojis: Vec<CustomEmoji>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StatusSource {
    pub id: String,
    pub text: String,
    pub spoiler_text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Context {
    pub ancestors: Vec<Status>,
    pub descendants: Vec<Status>,
}

/// Usage on one day (`day` is the UNIX time of midnight UTC, as a string).
#[derive(Clone, Debug, Serialize)]
pub struct TagHistory {
    pub day: String,
    pub uses: String,
    pub accounts: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tag {
    pub name: String,
    pub url: String,
    pub history: Vec<TagHistory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<bool>,
    /// Whether the signed-in caller features it on their profile (Mastodon 4.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<bool>,
}

/// `NotificationPolicy` (docs.joinmastodon.org/entities/NotificationPolicy, Mastodon 4.3):
/// `accept`, `filter` or `drop` for each kind of sender.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationPolicy {
    pub for_not_following: String,
    pub for_not_followers: String,
    pub for_new_accounts: String,
    pub for_private_mentions: String,
    pub for_limited_accounts: String,
    pub summary: NotificationPolicySummary,
}

/// `NotificationPolicy.summary`: pending requests and the filtered notifications they hold.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct NotificationPolicySummary {
    pub pending_requests_count: i64,
    pub pending_notifications_count: i64,
}

/// The v1 `NotificationPolicy` (`/api/v1/notifications/policy`, deprecated by Mastodon in 4.3.0
/// but still served): each `filter_*` is true unless the v2 value is `accept`.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationPolicyV1 {
    pub filter_not_following: bool,
    pub filter_not_followers: bool,
    pub filter_new_accounts: bool,
    pub filter_private_mentions: bool,
    pub summary: NotificationPolicySummary,
}

/// `NotificationRequest` (docs.joinmastodon.org/entities/NotificationRequest): the filtered
/// notifications of one sender. `notifications_count` is a string, as Mastodon sends it.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationRequest {
    pub id: String,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "super::mastodon_time")]
    pub updated_at: DateTime<Utc>,
    pub account: Account,
    pub notifications_count: String,
    pub last_status: Option<Status>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Notification {
    pub id: String,
    /// Shared by notifications that `/api/v2/notifications` shows as one group.
    pub group_key: String,
    pub r#type: String,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    pub account: Account,
    pub status: Option<Status>,
    /// `story_reply` and `story_reaction` (Rookery's types): the story, while it is live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub story: Option<super::story::Story>,
    /// `story_reaction`: the emoji.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// `admin.report`: the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<super::admin::Report>,
}
