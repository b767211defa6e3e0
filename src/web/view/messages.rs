//! The Messages screens' views: the list's chats and rooms, and the bubbles of a chat or room.

use chrono::Utc;

use super::{AccountView, MediaView, StatusView, ago, day_label, light_markup};
use crate::api_types::conversation::Conversation;
use crate::api_types::room::{Room, RoomMessage};
use crate::api_types::status::Status;
use crate::text::sanitize_html;

/// One conversation in the Messages list.
pub struct ChatView {
    pub id: String,
    /// The other participants (the viewer alone for notes to self).
    pub accounts: Vec<AccountView>,
    /// Their names, joined: "Bob", "Bob, Carol and 2 others".
    pub title: String,
    /// The last message as plain text, cut to 80 characters ("You: …" for one's own).
    pub last: String,
    pub ago: String,
    pub unread: bool,
}

impl ChatView {
    pub fn new(c: &Conversation, viewer: &str) -> ChatView {
        let accounts: Vec<AccountView> = c.accounts.iter().map(AccountView::new).collect();
        let last = c.last_status.as_ref().map_or(String::new(), |s| {
            let text = crate::text::html_to_text(&s.content);
            let text = if s.media_attachments.is_empty() || !text.trim().is_empty() {
                text
            } else {
                "Attachment".into()
            };
            let cut: String = text.chars().take(80).collect();
            if s.account.id == viewer {
                format!("You: {cut}")
            } else {
                cut
            }
        });
        ChatView {
            id: c.id.clone(),
            title: chat_title(&accounts),
            accounts,
            last,
            ago: c
                .last_status
                .as_ref()
                .map_or(String::new(), |s| ago(s.created_at, Utc::now())),
            unread: c.unread,
        }
    }
}

/// One room in the Messages list (docs/API.md, "Rooms").
pub struct RoomView {
    pub id: String,
    pub name: String,
    pub topic: String,
    /// Invited, not joined yet: the list offers Accept and Decline.
    pub invited: bool,
    /// The last message as plain text, "NAME: …", cut to 80 characters ("You: …" for one's own).
    pub last: String,
    pub ago: String,
    pub unread: i64,
    pub members: i64,
}

impl RoomView {
    pub fn new(r: &Room, viewer: &str) -> RoomView {
        let last = r.last_message.as_ref().map_or(String::new(), |m| {
            let cut: String = m.text.chars().take(80).collect();
            if m.account.id == viewer {
                format!("You: {cut}")
            } else {
                format!("{}: {cut}", AccountView::new(&m.account).name)
            }
        });
        RoomView {
            id: r.id.clone(),
            name: r.name.clone(),
            topic: r.topic.clone(),
            invited: r.state == "invited",
            last,
            ago: r
                .last_message
                .as_ref()
                .map_or(String::new(), |m| ago(m.created_at, Utc::now())),
            unread: r.unread_count,
            members: r.members_count,
        }
    }
}

impl MessageView {
    /// A room's messages (oldest first) as bubbles.
    pub fn of_room(messages: &[RoomMessage], viewer: &str) -> Vec<MessageView> {
        let now = Utc::now();
        let mut last_day = None;
        messages
            .iter()
            .map(|m| {
                let date = m.created_at.date_naive();
                let day = (last_day != Some(date)).then(|| day_label(m.created_at, now));
                last_day = Some(date);
                MessageView {
                    id: m.id.clone(),
                    mine: m.account.id == viewer,
                    author: AccountView::new(&m.account),
                    content: light_markup(&sanitize_html(&m.content)),
                    media: Vec::new(),
                    time: m.created_at.format("%H:%M").to_string(),
                    created_at: m
                        .created_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    day,
                    state: None,
                }
            })
            .collect()
    }
}

/// "Bob", "Bob and Carol", "Bob, Carol and 2 others".
pub fn chat_title(accounts: &[AccountView]) -> String {
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [a, b] => format!("{a} and {b}"),
        [a, b, rest @ ..] => format!(
            "{a}, {b} and {} other{}",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

/// One message in a chat view, oldest first.
pub struct MessageView {
    pub id: String,
    pub mine: bool,
    pub author: AccountView,
    /// Sanitised HTML.
    pub content: String,
    pub media: Vec<MediaView>,
    /// "14:05" (UTC).
    pub time: String,
    /// RFC 3339.
    pub created_at: String,
    /// Set on the first message of a day: "Today", "Yesterday", "Mon 30 Nov", "30 Nov 2025".
    pub day: Option<String>,
    /// One's own messages: `sent`, `delivered` or `seen` (the least advanced recipient's).
    pub state: Option<&'static str>,
}

impl MessageView {
    /// `messages` oldest first; `states` gives the receipt state of one's own messages by ID.
    pub fn list(
        messages: &[Status],
        viewer: &str,
        states: &dyn Fn(&str) -> Option<&'static str>,
    ) -> Vec<MessageView> {
        let now = Utc::now();
        let mut last_day = None;
        messages
            .iter()
            .map(|s| {
                let date = s.created_at.date_naive();
                let day = (last_day != Some(date)).then(|| day_label(s.created_at, now));
                last_day = Some(date);
                let post = StatusView::new(s, Some(viewer));
                let mine = s.account.id == viewer;
                MessageView {
                    id: s.id.clone(),
                    mine,
                    author: post.author,
                    content: light_markup(&post.content),
                    media: post.media,
                    time: s.created_at.format("%H:%M").to_string(),
                    created_at: post.created_at,
                    day,
                    state: if mine { states(&s.id) } else { None },
                }
            })
            .collect()
    }
}
