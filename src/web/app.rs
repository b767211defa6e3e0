//! The web app's screens (templates under `src/web/templates/app`): the shell every screen shares
//! (top bar, navigation, the CSRF token the scripts send with API calls) and one page per screen.
//! docs/WEB.md maps the URLs.

use askama::Template;

use crate::web::view::{
    AccountView, ChatView, MessageView, NotificationView, RoomView, StatusView,
};

/// What every screen's layout needs.
pub struct Shell {
    pub instance_title: String,
    /// The CSRF token the page's scripts send as `X-CSRF-Token` with their API calls.
    pub csrf: String,
    pub me: Option<AccountView>,
    /// Which navigation entry is the current page (`home`, `explore`, `notifications`, …).
    pub page: &'static str,
    /// Unread notifications (after the `notifications` marker), for the badge.
    pub unread: i64,
    /// This page's path and query, URL-encoded, for "sign in and come back".
    pub here_encoded: String,
    /// The search box's text.
    pub q: String,
}

/// A list of posts and the link to the next (older) page, as the timelines and a fragment
/// request (`?fragment=1`, the infinite scroll) render it.
#[derive(Template)]
#[template(path = "app/feed.html")]
pub struct FeedFragment {
    pub statuses: Vec<StatusView>,
    pub more: Option<String>,
}

/// One followed account with live stories, for the tray on Home.
pub struct TrayEntry {
    pub account: AccountView,
    pub seen: bool,
}

/// `GET /home`.
#[derive(Template)]
#[template(path = "app/home.html")]
pub struct HomePage {
    pub shell: Shell,
    pub tray: Vec<TrayEntry>,
    pub statuses: Vec<StatusView>,
    pub more: Option<String>,
    /// The newest entry's ID: the live bar asks for what came after it.
    pub since: String,
}

/// `GET /explore`.
#[derive(Template)]
#[template(path = "app/explore.html")]
pub struct ExplorePage {
    pub shell: Shell,
    pub q: String,
    pub tab: &'static str,
    pub tabs: &'static [(&'static str, &'static str)],
    pub error: Option<String>,
    pub accounts: Vec<AccountView>,
    /// Name and how many accounts used it lately.
    pub tags: Vec<(String, i64)>,
    /// URL, title, provider.
    pub links: Vec<(String, String, String)>,
    pub statuses: Vec<StatusView>,
    pub more: Option<String>,
}

/// `GET /tags/NAME`.
#[derive(Template)]
#[template(path = "app/tag.html")]
pub struct TagPage {
    pub shell: Shell,
    pub name: String,
    /// Signed in: whether the viewer follows the hashtag.
    pub following: Option<bool>,
    pub statuses: Vec<StatusView>,
    pub more: Option<String>,
}

/// `GET /notifications`.
#[derive(Template)]
#[template(path = "app/notifications.html")]
pub struct NotificationsPage {
    pub shell: Shell,
    /// The type shown (`""`: all).
    pub kind: String,
    pub tabs: &'static [(&'static str, &'static str)],
    pub notifications: Vec<NotificationView>,
    /// The newest notification's ID (the read marker moves to it).
    pub newest: String,
    pub more: Option<String>,
    /// Notification requests waiting (first page of "All" only).
    pub requests: Vec<RequestView>,
    /// How many requests wait in all (more than shown when the first 20 are full).
    pub requests_total: i64,
}

/// A notification request on the notifications page: one sender's filtered notifications.
pub struct RequestView {
    pub id: String,
    pub account: AccountView,
    pub count: String,
    /// The newest of the sender's statuses among them, as sanitised HTML.
    pub excerpt: Option<String>,
}

/// The viewer's relationship to a profile, for its buttons.
pub struct RelationshipView {
    pub following: bool,
    pub requested: bool,
    pub followed_by: bool,
    pub blocking: bool,
    pub muting: bool,
}

/// `GET /@USER` (and `@USER@DOMAIN`), with `?tab=replies|media|shorts`.
#[derive(Template)]
#[template(path = "app/profile.html")]
pub struct ProfilePage {
    pub shell: Shell,
    pub a: AccountView,
    /// `None` when signed out or on one's own profile.
    pub relationship: Option<RelationshipView>,
    pub own: bool,
    pub has_stories: bool,
    /// The account's custom status (`emoji text`), if it set one.
    pub custom_status: Option<String>,
    /// `/@USER/tagged/NAME`: only the posts with this hashtag.
    pub tagged: Option<String>,
    /// The hashtags the account features (each links to its tagged posts).
    pub featured: Vec<String>,
    pub tab: &'static str,
    pub tabs: &'static [(&'static str, &'static str)],
    pub statuses: Vec<StatusView>,
    pub more: Option<String>,
}

/// `GET /@USER/followers` and `/@USER/following`.
#[derive(Template)]
#[template(path = "app/accounts.html")]
pub struct AccountsPage {
    pub shell: Shell,
    pub heading: String,
    pub back: String,
    pub accounts: Vec<AccountView>,
    pub more: Option<String>,
}

/// `GET /@USER/ID`: a post with its thread and a reply box.
#[derive(Template)]
#[template(path = "app/thread.html")]
pub struct ThreadPage {
    pub shell: Shell,
    pub title: String,
    pub ancestors: Vec<StatusView>,
    pub focus: StatusView,
    pub descendants: Vec<StatusView>,
}

/// `GET /messages` (and `?q=`: search).
#[derive(Template)]
#[template(path = "app/messages.html")]
pub struct MessagesPage {
    pub shell: Shell,
    pub q: String,
    /// Rooms and invitations to rooms, the most recently active first.
    pub rooms: Vec<RoomView>,
    pub chats: Vec<ChatView>,
    /// IDs of the accounts shown that are online.
    pub online: Vec<String>,
    pub more: Option<String>,
    /// Search results.
    pub found: Vec<StatusView>,
}

/// The messages of a chat, oldest first (also a fragment: `?since_id=…&fragment=1`).
#[derive(Template)]
#[template(path = "app/bubbles.html")]
pub struct BubblesFragment {
    pub messages: Vec<MessageView>,
    /// More than two people: the others' names show on their messages.
    pub group: bool,
}

/// `GET /messages/:id`: one chat.
#[derive(Template)]
#[template(path = "app/chat.html")]
pub struct ChatPage {
    pub shell: Shell,
    pub id: String,
    pub title: String,
    pub accounts: Vec<AccountView>,
    pub online: Vec<String>,
    pub messages: Vec<MessageView>,
    pub group: bool,
    /// The newest message's ID (live updates ask for what came after it).
    pub newest: String,
    /// The message a new one answers (the newest).
    pub last: String,
    pub older: Option<String>,
    /// The viewer muted the chat's notifications.
    pub muted: bool,
    /// Custom statuses of the others (`emoji text`, empty when none), by account ID.
    pub statuses: Vec<(String, String)>,
}

/// `GET /messages/rooms/:id`: one room (docs/WEB.md).
#[derive(Template)]
#[template(path = "app/room.html")]
pub struct RoomPage {
    pub shell: Shell,
    pub id: String,
    pub name: String,
    pub topic: String,
    /// The viewer's role: `owner`, `admin` or `member`.
    pub role: String,
    /// Members with their roles, owner first.
    pub members: Vec<(AccountView, String)>,
    pub messages: Vec<MessageView>,
    /// Always: the senders' names show on their messages.
    pub group: bool,
    /// The newest message's ID (live updates ask for what came after it).
    pub newest: String,
    pub older: Option<String>,
}

/// `GET /settings`: the profile form, messaging preferences, and the account pages.
#[derive(Template)]
#[template(path = "app/settings.html")]
pub struct SettingsPage {
    pub shell: Shell,
    pub a: AccountView,
    pub display_name: String,
    /// The bio as typed (plain text).
    pub note: String,
    /// Four label/content rows as typed (empty rows to fill).
    pub fields: Vec<(String, String)>,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    /// Public posts findable by anyone's full-text search.
    pub indexable: bool,
    pub prefs: crate::api_types::conversation::MessagingPreferences,
    /// The custom status being shown, if any.
    pub custom_status: Option<crate::api_types::conversation::CustomStatus>,
    /// Names of the hashtags followed.
    pub followed_tags: Vec<String>,
    /// The user's filters (v2).
    pub filters: Vec<crate::api_types::filter::Filter>,
    /// Applications holding tokens of the account (not this web app).
    pub apps: Vec<AppView>,
    /// The notification policy: `(field, label, value)` for each kind of sender.
    pub policy: Vec<(&'static str, &'static str, String)>,
    /// Scheduled posts waiting: `(id, when as RFC 3339, text)`, soonest first.
    pub scheduled: Vec<(String, String, String)>,
    /// Aliases, where the account moved, and the move cooldown.
    pub migration: crate::api_types::moves::MigrationState,
    /// CSV imports, newest first.
    pub imports: Vec<crate::service::imports::Import>,
    /// Archives requested, newest first.
    pub archives: Vec<crate::service::archives::Archive>,
}

/// One authorised application on Settings.
pub struct AppView {
    pub id: String,
    pub name: String,
    pub website: String,
    /// Scope sets granted, `, `-separated.
    pub scopes: String,
    /// Live tokens it holds.
    pub tokens: i64,
    /// When it was first authorised: "6 Dec 2026".
    pub since: String,
}

/// `GET /shorts/new`: the upload form of a short.
#[derive(Template)]
#[template(path = "app/shorts_new.html")]
pub struct NewShortPage {
    pub shell: Shell,
    /// Where to go once posted: `/@USER/shorts`.
    pub profile: String,
}

/// `GET /lists`: the signed-in user's lists, and a form for a new one.
#[derive(Template)]
#[template(path = "app/lists.html")]
pub struct ListsPage {
    pub shell: Shell,
    pub lists: Vec<crate::api_types::list::List>,
}

/// `GET /lists/:id`: a list's members and its feed.
#[derive(Template)]
#[template(path = "app/list.html")]
pub struct ListPage {
    pub shell: Shell,
    pub id: String,
    pub title: String,
    pub members: Vec<AccountView>,
    pub statuses: Vec<StatusView>,
    pub more: Option<String>,
}

/// `GET /about`: what the instance is, its rules, its contact, its counts.
#[derive(Template)]
#[template(path = "app/about.html")]
pub struct AboutPage {
    pub shell: Shell,
    pub description: String,
    pub rules: Vec<String>,
    pub contact: Option<AccountView>,
    pub email: String,
    pub users: i64,
    pub posts: i64,
    pub servers: i64,
    pub version: String,
    pub source_url: String,
    /// Servers suspended or limited, when published to this visitor: domain, severity, comment.
    pub moderated: Vec<(String, String, String)>,
}
