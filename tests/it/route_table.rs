//! Every route the router serves (`rookery::http::router::paths`), with every method it answers,
//! has an entry here saying who may call it; each is then called by an anonymous caller, by a
//! token without the needed scope, and by another user's token, on resources of a first user. A
//! route added without an entry fails this test, and so does an entry whose route is gone.

use std::collections::{BTreeSet, HashMap};

use reqwest::Method;
use serde_json::{Value, json};

use crate::statuses::post;
use crate::support::{Backend, TestApp};

/// Who may call a route.
#[derive(Clone, Copy, Debug)]
enum Access {
    /// Anyone; a token is not looked at (discovery documents, ActivityPub, instance facts, files).
    Open,
    /// Browser pages and forms: signed in by cookie (and guarded by a CSRF token), never by bearer
    /// token; tested by the page tests.
    Page,
    /// Anyone; a token, when given, must grant the scope.
    Public(&'static str),
    /// Any token at all (`/api/v1/apps/verify_credentials`).
    AnyToken,
    /// A token granting the scope, app or user (`POST /api/v1/accounts`).
    AppOrUser(&'static str),
    /// OAuth 2 endpoints, authenticated by the client's credentials in the body (RFC 6749 §2.3):
    /// without them, 401 `invalid_client`.
    Client,
    /// A user token granting the scope.
    User(&'static str),
    /// A user token granting `write:accounts`, of a user still to confirm their address (anyone
    /// else's token is refused with 403).
    Unconfirmed,
    /// A user token granting the scope, on something of that user's: someone else's is not found.
    Own(&'static str),
    /// A moderator's or admin's token granting the scope.
    Staff(&'static str),
}

use Access::*;

/// `(method, path, access)` for every route. Paths are axum's, as the router lists them.
const TABLE: &[(&str, &str, Access)] = &[
    ("POST", "/api/v1/media", User("write:media")),
    ("GET", "/api/v1/media/{id}", Own("write:media")),
    ("PUT", "/api/v1/media/{id}", Own("write:media")),
    ("DELETE", "/api/v1/media/{id}", Own("write:media")),
    ("POST", "/api/v2/media", User("write:media")),
    (
        "GET",
        "/api/v1/admin/domain_blocks",
        Staff("admin:read:domain_blocks"),
    ),
    (
        "POST",
        "/api/v1/admin/domain_blocks",
        Staff("admin:write:domain_blocks"),
    ),
    (
        "GET",
        "/api/v1/admin/domain_blocks/{id}",
        Staff("admin:read:domain_blocks"),
    ),
    (
        "PUT",
        "/api/v1/admin/domain_blocks/{id}",
        Staff("admin:write:domain_blocks"),
    ),
    (
        "DELETE",
        "/api/v1/admin/domain_blocks/{id}",
        Staff("admin:write:domain_blocks"),
    ),
    (
        "GET",
        "/api/v1/admin/accounts",
        Staff("admin:read:accounts"),
    ),
    (
        "GET",
        "/api/v2/admin/accounts",
        Staff("admin:read:accounts"),
    ),
    (
        "GET",
        "/api/v1/admin/accounts/{id}",
        Staff("admin:read:accounts"),
    ),
    (
        "POST",
        "/api/v1/admin/accounts/{id}/action",
        Staff("admin:write:accounts"),
    ),
    (
        "POST",
        "/api/v1/admin/accounts/{id}/{what}",
        Staff("admin:write:accounts"),
    ),
    ("GET", "/api/v1/admin/reports", Staff("admin:read:reports")),
    (
        "GET",
        "/api/v1/admin/reports/{id}",
        Staff("admin:read:reports"),
    ),
    (
        "POST",
        "/api/v1/admin/reports/{id}/{what}",
        Staff("admin:write:reports"),
    ),
    ("POST", "/api/v1/reports", User("write:reports")),
    ("GET", "/api/v1/admin/deliveries", Staff("admin:read")),
    ("GET", "/api/v1/admin/instances", Staff("admin:read")),
    ("POST", "/api/v1/apps", Open),
    ("GET", "/api/v1/apps/verify_credentials", AnyToken),
    ("POST", "/api/v1/accounts", AppOrUser("write:accounts")),
    ("GET", "/api/v1/accounts", Public("read:accounts")),
    ("POST", "/api/v1/accounts/{id}/note", User("write:accounts")),
    (
        "GET",
        "/api/v1/accounts/familiar_followers",
        User("read:follows"),
    ),
    (
        "GET",
        "/api/v1/accounts/verify_credentials",
        User("read:accounts"),
    ),
    (
        "PATCH",
        "/api/v1/accounts/update_credentials",
        User("write:accounts"),
    ),
    ("GET", "/api/v1/accounts/lookup", Public("read:accounts")),
    (
        "GET",
        "/api/v1/accounts/relationships",
        User("read:follows"),
    ),
    ("GET", "/api/v1/accounts/search", User("read:accounts")),
    ("GET", "/api/v1/accounts/{id}", Public("read:accounts")),
    ("GET", "/api/v1/stories", User("read:statuses")),
    ("POST", "/api/v1/stories", User("write:statuses")),
    ("GET", "/api/v1/stories/{id}", User("read:statuses")),
    ("DELETE", "/api/v1/stories/{id}", Own("write:statuses")),
    ("POST", "/api/v1/stories/{id}/seen", User("write:statuses")),
    ("GET", "/api/v1/stories/{id}/viewers", Own("read:statuses")),
    ("POST", "/api/v1/stories/{id}/reply", User("write:statuses")),
    ("POST", "/api/v1/stories/{id}/react", User("write:statuses")),
    (
        "GET",
        "/api/v1/accounts/{id}/stories",
        User("read:statuses"),
    ),
    (
        "GET",
        "/api/v1/accounts/{id}/statuses",
        Public("read:statuses"),
    ),
    (
        "GET",
        "/api/v1/accounts/{id}/followers",
        Public("read:accounts"),
    ),
    (
        "GET",
        "/api/v1/accounts/{id}/following",
        Public("read:accounts"),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/follow",
        User("write:follows"),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/unfollow",
        User("write:follows"),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/remove_from_followers",
        User("write:follows"),
    ),
    ("POST", "/api/v1/accounts/{id}/block", User("write:blocks")),
    (
        "POST",
        "/api/v1/accounts/{id}/unblock",
        User("write:blocks"),
    ),
    ("POST", "/api/v1/accounts/{id}/mute", User("write:mutes")),
    ("POST", "/api/v1/accounts/{id}/unmute", User("write:mutes")),
    ("GET", "/api/v1/blocks", User("read:blocks")),
    ("GET", "/api/v1/bookmarks", User("read:bookmarks")),
    ("GET", "/api/v1/favourites", User("read:favourites")),
    ("GET", "/api/v1/follow_requests", User("read:follows")),
    (
        "POST",
        "/api/v1/follow_requests/{id}/authorize",
        Own("write:follows"),
    ),
    (
        "POST",
        "/api/v1/follow_requests/{id}/reject",
        Own("write:follows"),
    ),
    ("GET", "/api/v1/followed_tags", User("read:follows")),
    ("GET", "/api/v1/markers", User("read:statuses")),
    ("POST", "/api/v1/markers", User("write:statuses")),
    ("GET", "/api/v1/mutes", User("read:mutes")),
    ("GET", "/api/v1/notifications", User("read:notifications")),
    (
        "POST",
        "/api/v1/notifications/clear",
        User("write:notifications"),
    ),
    (
        "GET",
        "/api/v1/notifications/unread_count",
        User("read:notifications"),
    ),
    (
        "GET",
        "/api/v1/notifications/{id}",
        Own("read:notifications"),
    ),
    (
        "POST",
        "/api/v1/notifications/{id}/dismiss",
        Own("write:notifications"),
    ),
    (
        "GET",
        "/api/v1/notifications/policy",
        User("read:notifications"),
    ),
    (
        "PUT",
        "/api/v1/notifications/policy",
        User("write:notifications"),
    ),
    (
        "PATCH",
        "/api/v1/notifications/policy",
        User("write:notifications"),
    ),
    (
        "GET",
        "/api/v1/notifications/requests",
        User("read:notifications"),
    ),
    (
        "GET",
        "/api/v1/notifications/requests/merged",
        User("read:notifications"),
    ),
    (
        "POST",
        "/api/v1/notifications/requests/accept",
        User("write:notifications"),
    ),
    (
        "POST",
        "/api/v1/notifications/requests/dismiss",
        User("write:notifications"),
    ),
    (
        "GET",
        "/api/v1/notifications/requests/{id}",
        Own("read:notifications"),
    ),
    (
        "POST",
        "/api/v1/notifications/requests/{id}/accept",
        Own("write:notifications"),
    ),
    (
        "POST",
        "/api/v1/notifications/requests/{id}/dismiss",
        Own("write:notifications"),
    ),
    ("POST", "/api/v1/statuses", User("write:statuses")),
    ("GET", "/api/v1/statuses", Public("read:statuses")),
    ("GET", "/api/v1/statuses/{id}", Public("read:statuses")),
    ("DELETE", "/api/v1/statuses/{id}", Own("write:statuses")),
    ("PUT", "/api/v1/statuses/{id}", Own("write:statuses")),
    (
        "GET",
        "/api/v1/statuses/{id}/context",
        Public("read:statuses"),
    ),
    (
        "GET",
        "/api/v1/statuses/{id}/receipts",
        Own("read:statuses"),
    ),
    ("GET", "/api/v1/domain_blocks", User("read:blocks")),
    ("POST", "/api/v1/domain_blocks", User("write:blocks")),
    ("DELETE", "/api/v1/domain_blocks", User("write:blocks")),
    ("GET", "/api/v1/polls/{id}", Public("read:statuses")),
    ("POST", "/api/v1/polls/{id}/votes", User("write:statuses")),
    ("GET", "/api/v1/scheduled_statuses", User("read:statuses")),
    (
        "GET",
        "/api/v1/scheduled_statuses/{id}",
        Own("read:statuses"),
    ),
    (
        "PUT",
        "/api/v1/scheduled_statuses/{id}",
        Own("write:statuses"),
    ),
    (
        "DELETE",
        "/api/v1/scheduled_statuses/{id}",
        Own("write:statuses"),
    ),
    ("GET", "/api/v1/filters", User("read:filters")),
    ("POST", "/api/v1/filters", User("write:filters")),
    ("GET", "/api/v1/filters/{id}", Own("read:filters")),
    ("PUT", "/api/v1/filters/{id}", Own("write:filters")),
    ("DELETE", "/api/v1/filters/{id}", Own("write:filters")),
    ("GET", "/api/v2/filters", User("read:filters")),
    ("POST", "/api/v2/filters", User("write:filters")),
    ("GET", "/api/v2/filters/{id}", Own("read:filters")),
    ("PUT", "/api/v2/filters/{id}", Own("write:filters")),
    ("DELETE", "/api/v2/filters/{id}", Own("write:filters")),
    ("GET", "/api/v2/filters/{id}/keywords", Own("read:filters")),
    (
        "POST",
        "/api/v2/filters/{id}/keywords",
        Own("write:filters"),
    ),
    ("GET", "/api/v2/filters/{id}/statuses", Own("read:filters")),
    (
        "POST",
        "/api/v2/filters/{id}/statuses",
        Own("write:filters"),
    ),
    ("GET", "/api/v2/filters/keywords/{id}", Own("read:filters")),
    ("PUT", "/api/v2/filters/keywords/{id}", Own("write:filters")),
    (
        "DELETE",
        "/api/v2/filters/keywords/{id}",
        Own("write:filters"),
    ),
    ("GET", "/api/v2/filters/statuses/{id}", Own("read:filters")),
    (
        "DELETE",
        "/api/v2/filters/statuses/{id}",
        Own("write:filters"),
    ),
    ("GET", "/api/v1/lists", User("read:lists")),
    ("POST", "/api/v1/lists", User("write:lists")),
    ("GET", "/api/v1/lists/{id}", Own("read:lists")),
    ("PUT", "/api/v1/lists/{id}", Own("write:lists")),
    ("DELETE", "/api/v1/lists/{id}", Own("write:lists")),
    ("GET", "/api/v1/lists/{id}/accounts", Own("read:lists")),
    ("POST", "/api/v1/lists/{id}/accounts", Own("write:lists")),
    ("DELETE", "/api/v1/lists/{id}/accounts", Own("write:lists")),
    ("GET", "/api/v1/accounts/{id}/lists", User("read:lists")),
    ("GET", "/api/v1/timelines/list/{id}", Own("read:lists")),
    ("GET", "/api/v1/conversations", User("read:statuses")),
    ("GET", "/api/v1/calls", User("read:statuses")),
    ("POST", "/api/v1/calls", User("write:conversations")),
    ("GET", "/api/v1/calls/ice_servers", User("read:statuses")),
    ("GET", "/api/v1/calls/{id}", Own("read:statuses")),
    (
        "POST",
        "/api/v1/calls/{id}/candidates",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/calls/{id}/accept",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/calls/{id}/decline",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/calls/{id}/hang_up",
        Own("write:conversations"),
    ),
    ("GET", "/api/v1/rooms", User("read:statuses")),
    ("POST", "/api/v1/rooms", User("write:conversations")),
    ("GET", "/api/v1/rooms/{id}", Own("read:statuses")),
    ("PATCH", "/api/v1/rooms/{id}", Own("write:conversations")),
    ("GET", "/api/v1/rooms/{id}/members", Own("read:statuses")),
    (
        "DELETE",
        "/api/v1/rooms/{id}/members/{account_id}",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/members/{account_id}/role",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/members/{account_id}/mute",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/members/{account_id}/unmute",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/invitations",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/accept",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/decline",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/leave",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/mute",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/unmute",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/rooms/{id}/read",
        Own("write:conversations"),
    ),
    ("GET", "/api/v1/rooms/{id}/messages", Own("read:statuses")),
    ("POST", "/api/v1/rooms/{id}/messages", Own("write:statuses")),
    (
        "DELETE",
        "/api/v1/rooms/{id}/messages/{message_id}",
        Own("write:statuses"),
    ),
    // Last of the room's routes: the exact-scope pass deletes the room.
    ("DELETE", "/api/v1/rooms/{id}", Own("write:conversations")),
    (
        "DELETE",
        "/api/v1/conversations/{id}",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/conversations/{id}/read",
        Own("write:conversations"),
    ),
    (
        "POST",
        "/api/v1/conversations/{id}/unread",
        Own("write:conversations"),
    ),
    (
        "GET",
        "/api/v1/conversations/{id}/messages",
        Own("read:statuses"),
    ),
    (
        "POST",
        "/api/v1/conversations/{id}/typing",
        Own("write:conversations"),
    ),
    ("GET", "/api/v1/presence", User("read:accounts")),
    ("PUT", "/api/v1/presence/status", User("write:accounts")),
    ("DELETE", "/api/v1/presence/status", User("write:accounts")),
    (
        "GET",
        "/api/v1/messaging/preferences",
        User("read:accounts"),
    ),
    (
        "PUT",
        "/api/v1/messaging/preferences",
        User("write:accounts"),
    ),
    (
        "GET",
        "/api/v1/statuses/{id}/deliveries",
        Own("read:statuses"),
    ),
    (
        "GET",
        "/api/v1/statuses/{id}/history",
        Public("read:statuses"),
    ),
    ("GET", "/api/v1/statuses/{id}/source", Own("read:statuses")),
    (
        "POST",
        "/api/v1/statuses/{id}/favourite",
        User("write:favourites"),
    ),
    (
        "POST",
        "/api/v1/statuses/{id}/unfavourite",
        User("write:favourites"),
    ),
    (
        "POST",
        "/api/v1/statuses/{id}/reblog",
        User("write:statuses"),
    ),
    (
        "POST",
        "/api/v1/statuses/{id}/unreblog",
        User("write:statuses"),
    ),
    (
        "POST",
        "/api/v1/statuses/{id}/bookmark",
        User("write:bookmarks"),
    ),
    (
        "POST",
        "/api/v1/statuses/{id}/unbookmark",
        User("write:bookmarks"),
    ),
    ("POST", "/api/v1/statuses/{id}/pin", User("write:accounts")),
    (
        "POST",
        "/api/v1/statuses/{id}/unpin",
        User("write:accounts"),
    ),
    ("POST", "/api/v1/statuses/{id}/mute", User("write:mutes")),
    ("POST", "/api/v1/statuses/{id}/unmute", User("write:mutes")),
    (
        "GET",
        "/api/v1/statuses/{id}/favourited_by",
        Public("read:statuses"),
    ),
    (
        "GET",
        "/api/v1/statuses/{id}/reblogged_by",
        Public("read:statuses"),
    ),
    (
        "GET",
        "/api/v1/statuses/{id}/quotes",
        Public("read:statuses"),
    ),
    (
        "POST",
        "/api/v1/statuses/{id}/quotes/{quoting_status_id}/revoke",
        Own("write:statuses"),
    ),
    (
        "PUT",
        "/api/v1/statuses/{id}/interaction_policy",
        Own("write:statuses"),
    ),
    ("GET", "/api/v1/streaming", Public("read:statuses")),
    ("GET", "/api/v1/streaming/", Public("read:statuses")),
    ("GET", "/api/v1/streaming/health", Open),
    (
        "GET",
        "/api/v1/streaming/{*stream}",
        Public("read:statuses"),
    ),
    ("GET", "/api/v1/tags/{name}", Public("read:follows")),
    ("POST", "/api/v1/tags/{name}/follow", User("write:follows")),
    (
        "POST",
        "/api/v1/tags/{name}/feature",
        User("write:accounts"),
    ),
    (
        "POST",
        "/api/v1/tags/{name}/unfeature",
        User("write:accounts"),
    ),
    (
        "POST",
        "/api/v1/tags/{name}/unfollow",
        User("write:follows"),
    ),
    ("GET", "/api/v1/timelines/home", User("read:statuses")),
    ("GET", "/api/v1/timelines/public", Public("read:statuses")),
    ("GET", "/api/v1/timelines/link", Public("read:statuses")),
    ("GET", "/api/v1/timelines/shorts", Public("read:statuses")),
    ("GET", "/api/v1/tags/{name}/shorts", Public("read:statuses")),
    ("POST", "/api/v1/statuses/{id}/view", User("write:statuses")),
    ("POST", "/api/v1/shorts", User("write:statuses")),
    (
        "GET",
        "/api/v1/accounts/{id}/shorts",
        Public("read:statuses"),
    ),
    (
        "GET",
        "/api/v1/timelines/tag/{hashtag}",
        Public("read:statuses"),
    ),
    ("GET", "/api/v1/custom_emojis", Open),
    ("GET", "/api/v1/instance", Open),
    ("GET", "/api/v1/instance/", Open),
    ("GET", "/api/v1/instance/peers", Open),
    ("GET", "/api/v1/instance/rules", Open),
    ("GET", "/api/v1/instance/languages", Open),
    ("GET", "/api/v1/instance/domain_blocks", Open),
    ("GET", "/api/v1/instance/extended_description", Open),
    ("GET", "/api/v1/instance/privacy_policy", Open),
    ("GET", "/health", Open),
    ("GET", "/ready", Open),
    // Its own bearer token (`metrics.token`), not an OAuth one; 404 while unset.
    ("GET", "/metrics", Open),
    ("GET", "/api/v1/instance/terms_of_service", Open),
    ("GET", "/api/v1/instance/terms_of_service/{date}", Open),
    (
        "GET",
        "/api/v1/emails/check_confirmation",
        User("read:accounts"),
    ),
    ("DELETE", "/api/v1/profile/avatar", User("write:accounts")),
    ("DELETE", "/api/v1/profile/header", User("write:accounts")),
    (
        "POST",
        "/api/v1/accounts/{id}/endorse",
        User("write:accounts"),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/unendorse",
        User("write:accounts"),
    ),
    (
        "GET",
        "/api/v1/accounts/{id}/endorsements",
        Public("read:accounts"),
    ),
    ("POST", "/api/v1/emails/confirmations", Unconfirmed),
    ("GET", "/api/v1/endorsements", User("read:accounts")),
    ("GET", "/api/v1/aliases", User("read:accounts")),
    ("POST", "/api/v1/aliases", User("write:accounts")),
    ("DELETE", "/api/v1/aliases/{id}", Own("write:accounts")),
    ("GET", "/api/v1/migration", User("read:accounts")),
    ("GET", "/api/v1/imports", User("read:accounts")),
    // The write scope of what the type changes (`write:follows` …).
    ("POST", "/api/v1/imports", User("write")),
    ("GET", "/api/v1/imports/{id}", Own("read:accounts")),
    // The read scope of what the file lists (`read:follows` …).
    ("GET", "/api/v1/exports/{file}", User("read")),
    ("GET", "/api/v1/archives", User("read")),
    ("POST", "/api/v1/archives", User("read")),
    ("GET", "/api/v1/archives/{id}/download", Own("read")),
    ("POST", "/api/v1/migration", User("write:accounts")),
    ("DELETE", "/api/v1/migration", User("write:accounts")),
    ("POST", "/api/v1/accounts/{id}/pin", User("write:accounts")),
    (
        "POST",
        "/api/v1/accounts/{id}/unpin",
        User("write:accounts"),
    ),
    ("GET", "/api/v1/featured_tags", User("read:accounts")),
    ("POST", "/api/v1/featured_tags", User("write:accounts")),
    (
        "GET",
        "/api/v1/featured_tags/suggestions",
        User("read:accounts"),
    ),
    (
        "DELETE",
        "/api/v1/featured_tags/{id}",
        Own("write:accounts"),
    ),
    (
        "GET",
        "/api/v1/accounts/{id}/featured_tags",
        Public("read:accounts"),
    ),
    ("GET", "/api/v1/directory", Open),
    ("GET", "/api/v1/suggestions", User("read:accounts")),
    ("DELETE", "/api/v1/suggestions/{id}", User("read:accounts")),
    ("GET", "/api/v2/suggestions", User("read:accounts")),
    ("GET", "/api/v2/notifications", User("read:notifications")),
    (
        "GET",
        "/api/v2/notifications/unread_count",
        User("read:notifications"),
    ),
    (
        "GET",
        "/api/v2/notifications/policy",
        User("read:notifications"),
    ),
    (
        "PUT",
        "/api/v2/notifications/policy",
        User("write:notifications"),
    ),
    (
        "PATCH",
        "/api/v2/notifications/policy",
        User("write:notifications"),
    ),
    (
        "GET",
        "/api/v2/notifications/{key}",
        Own("read:notifications"),
    ),
    (
        "GET",
        "/api/v2/notifications/{key}/accounts",
        Own("read:notifications"),
    ),
    (
        "POST",
        "/api/v2/notifications/{key}/dismiss",
        Own("write:notifications"),
    ),
    ("GET", "/api/v1/push/subscription", Own("push")),
    ("POST", "/api/v1/push/subscription", User("push")),
    ("PUT", "/api/v1/push/subscription", Own("push")),
    ("DELETE", "/api/v1/push/subscription", User("push")),
    ("GET", "/api/v1/trends", Public("read:statuses")),
    ("GET", "/api/v1/trends/tags", Public("read:statuses")),
    ("GET", "/api/v1/trends/statuses", Public("read:statuses")),
    ("GET", "/api/v1/trends/links", Public("read:statuses")),
    ("GET", "/api/v1/announcements", User("read:accounts")),
    (
        "POST",
        "/api/v1/announcements/{id}/dismiss",
        User("write:accounts"),
    ),
    (
        "PUT",
        "/api/v1/announcements/{id}/reactions/{name}",
        User("write:favourites"),
    ),
    (
        "DELETE",
        "/api/v1/announcements/{id}/reactions/{name}",
        User("write:favourites"),
    ),
    ("GET", "/api/v1/instance/translation_languages", Open),
    ("GET", "/api/v1/instance/activity", Open),
    ("GET", "/api/v1/preferences", User("read:accounts")),
    ("GET", "/api/v2/instance", Open),
    ("GET", "/api/v2/search", Public("read:search")),
    ("GET", "/api/v2/instance/", Open),
    ("GET", "/oauth/authorize", Page),
    ("POST", "/oauth/authorize", Page),
    ("GET", "/oauth/authorize/", Page),
    ("POST", "/oauth/authorize/", Page),
    ("POST", "/oauth/token", Client),
    ("POST", "/oauth/revoke", Client),
    ("GET", "/.well-known/oauth-authorization-server", Open),
    ("GET", "/.well-known/nodeinfo", Open),
    ("GET", "/.well-known/host-meta", Open),
    ("GET", "/.well-known/host-meta.json", Open),
    ("GET", "/.well-known/webfinger", Open),
    ("GET", "/nodeinfo/2.0", Open),
    ("GET", "/nodeinfo/2.1", Open),
    ("POST", "/inbox", Open),
    ("GET", "/actor", Open),
    ("POST", "/actor/inbox", Open),
    ("GET", "/users/{name}", Open),
    ("POST", "/users/{name}/inbox", Open),
    ("GET", "/users/{name}/outbox", Open),
    ("GET", "/users/{name}/followers", Open),
    ("GET", "/users/{name}/following", Open),
    ("GET", "/users/{name}/collections/featured", Open),
    ("GET", "/users/{name}/statuses/{id}", Open),
    ("GET", "/users/{name}/quote_authorizations/{id}", Open),
    ("GET", "/users/{name}/statuses/{id}/activity", Open),
    ("GET", "/stories/{name}/{id}", Open),
    ("GET", "/rooms/{id}", Open),
    ("POST", "/rooms/{id}/inbox", Open),
    ("GET", "/auth/confirmation", Page),
    ("GET", "/auth/edit", Page),
    ("POST", "/auth/edit", Page),
    ("GET", "/settings/delete", Page),
    ("POST", "/settings/delete", Page),
    ("GET", "/settings/two_factor", Page),
    ("POST", "/settings/two_factor", Page),
    ("GET", "/auth/password/new", Page),
    ("GET", "/auth/sign_up", Page),
    ("POST", "/auth/sign_up", Page),
    ("POST", "/auth/password", Page),
    ("GET", "/auth/password/edit", Page),
    ("POST", "/auth/password/edit", Page),
    ("GET", "/auth/sign_in", Page),
    ("POST", "/auth/sign_in", Page),
    ("GET", "/{at_name}/stories", Page),
    ("GET", "/shorts", Page),
    ("GET", "/{at_name}/shorts", Page),
    ("POST", "/web/statuses/{id}/{action}", Page),
    ("POST", "/{at_name}/stories/{id}/seen", Page),
    ("GET", "/{at_name}", Page),
    ("GET", "/{at_name}/{id}", Page),
    ("GET", "/", Page),
    ("GET", "/home", Page),
    ("GET", "/explore", Page),
    ("GET", "/about", Page),
    ("GET", "/{at_name}/tagged/{name}", Page),
    ("GET", "/tags/{name}", Page),
    ("GET", "/notifications", Page),
    ("GET", "/messages", Page),
    ("GET", "/settings", Page),
    ("GET", "/lists", Page),
    ("GET", "/lists/{id}", Page),
    ("POST", "/settings/applications/{id}/revoke", Page),
    ("GET", "/shorts/new", Page),
    ("GET", "/messages/{id}", Page),
    ("GET", "/messages/rooms/{id}", Page),
    ("GET", "/{at_name}/followers", Page),
    ("GET", "/{at_name}/following", Page),
    ("POST", "/auth/sign_out", Page),
    ("GET", "/avatars/original/missing.png", Open),
    ("GET", "/headers/original/missing.png", Open),
    ("GET", "/media_proxy/{id}/{variant}", Open),
    ("GET", "/emoji_proxy/{id}", Open),
    ("GET", "/emojis/{id}", Open),
    ("GET", "/assets/{file}", Open),
    ("GET", "/media/{*file}", Open),
];

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The first user's resources the placeholders are filled with.
struct Fixtures {
    /// Placeholder values that depend on the path (`{id}` means a list under `/api/v1/lists/`).
    by_prefix: Vec<(&'static str, String)>,
    account_id: String,
    /// The second user's account, for calls by the first user on someone else.
    other_account_id: String,
    group_key: String,
    /// A message of the first user's room.
    room_message_id: String,
}

impl Fixtures {
    /// `path` with the first user's resources (the first user's account for `{id}` of accounts).
    fn fill(&self, path: &str) -> String {
        self.fill_with_account(path, &self.account_id)
    }

    fn fill_with_account(&self, path: &str, account_id: &str) -> String {
        let id = self
            .by_prefix
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "1".into());
        let id = if path.starts_with("/api/v1/accounts/{id}")
            || path.starts_with("/api/v1/admin/accounts/{id}")
        {
            account_id.to_string()
        } else {
            id
        };
        path.replace("{id}", &id)
            .replace("{account_id}", account_id)
            .replace("{message_id}", &self.room_message_id)
            .replace("{key}", &self.group_key)
            .replace("{what}", "resolve")
            .replace(
                "{name}",
                if path.starts_with("/api/v1/announcements") {
                    "%F0%9F%91%8D"
                } else if path.starts_with("/api/v1/tags") {
                    "herons"
                } else {
                    "ava"
                },
            )
            .replace("{hashtag}", "herons")
            .replace("{date}", "2026-01-01")
            .replace("{at_name}", "@ava")
            .replace("{variant}", "original")
            .replace("{file}", "pages.css")
            .replace("{*file}", "nothing.png")
            .replace("{*stream}", "public")
            .replace("{action}", "favourite")
            + if path.starts_with("/api/v1/streaming") && !path.contains('{') {
                "?stream=public"
            } else {
                ""
            }
    }
}

async fn setup(app: &TestApp) -> Fixtures {
    let ava_id = app.create_user("ava").await;
    app.create_user("bea").await;
    let ava = app.token_for("ava", "read write follow push").await;
    let bea = app.token_for("bea", "read write follow push").await;
    let bea_id = app
        .get("/api/v1/accounts/verify_credentials", Some(&bea))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = |r: crate::support::Answer| {
        assert!(r.status.is_success(), "{} {}", r.status, r.text);
        r.json()
    };
    let status = post(app, &ava, json!({"status": "hello #herons"})).await;
    let status_id = status["id"].as_str().unwrap().to_string();
    let media = ok(crate::media::upload(
        app,
        &ava,
        "/api/v2/media",
        "photo.png",
        "image/png",
        crate::media::fixture("photo.png"),
        &[],
    )
    .await);
    let list = ok(app
        .post("/api/v1/lists", Some(&ava), json!({"title": "l"}))
        .await);
    let filter_v1 = ok(app
        .post(
            "/api/v1/filters",
            Some(&ava),
            json!({"phrase": "x", "context": ["home"]}),
        )
        .await);
    let filter = ok(app
        .post(
            "/api/v2/filters",
            Some(&ava),
            json!({"title": "t", "context": ["home"], "keywords_attributes": [{"keyword": "k"}]}),
        )
        .await);
    let filter_id = filter["id"].as_str().unwrap().to_string();
    let keyword_id = filter["keywords"][0]["id"].as_str().unwrap().to_string();
    let filter_status = ok(app
        .post(
            &format!("/api/v2/filters/{filter_id}/statuses"),
            Some(&ava),
            json!({"status_id": status_id}),
        )
        .await);
    let featured = ok(app
        .post(
            "/api/v1/featured_tags",
            Some(&ava),
            json!({"name": "herons"}),
        )
        .await);
    // A room of Ava's alone (Bea, not in it, must find none of it) with one message.
    let room = ok(app
        .post("/api/v1/rooms", Some(&ava), json!({"name": "herons"}))
        .await);
    let room_id = room["id"].as_str().unwrap().to_string();
    let room_message = ok(app
        .post(
            &format!("/api/v1/rooms/{room_id}/messages"),
            Some(&ava),
            json!({"text": "hello room"}),
        )
        .await);
    // A direct message to Bea makes a conversation; Bea's follow makes a notification.
    post(
        app,
        &ava,
        json!({"status": "@bea psst", "visibility": "direct"}),
    )
    .await;
    let conversations = ok(app.get("/api/v1/conversations", Some(&ava)).await);
    // Cal, whom Ava writes to, calls Ava: Ava answers, declines and hangs up; Bea finds nothing.
    app.create_user("cal").await;
    let cal = app.token_for("cal", "read write").await;
    post(
        app,
        &ava,
        json!({"status": "@cal ring me", "visibility": "direct"}),
    )
    .await;
    let call = ok(app
        .post(
            "/api/v1/calls",
            Some(&cal),
            json!({"account_id": ava_id.to_string(), "media": "audio", "sdp": "v=0\r\n"}),
        )
        .await);
    ok(app
        .post(
            &format!("/api/v1/accounts/{ava_id}/follow"),
            Some(&bea),
            json!({}),
        )
        .await);
    let notifications = ok(app.get("/api/v1/notifications", Some(&ava)).await);
    let notification_id = notifications
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "follow")
        .expect("a follow notification")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A direct mention from Bea, whom Ava does not follow, is filtered into a request.
    post(
        app,
        &bea,
        json!({"status": "@ava hello there", "visibility": "direct"}),
    )
    .await;
    let requests = ok(app.get("/api/v1/notifications/requests", Some(&ava)).await);
    let request_id = requests[0]["id"].as_str().expect("a request").to_string();
    let groups = ok(app.get("/api/v2/notifications", Some(&ava)).await);
    let group_key = groups["notification_groups"][0]["group_key"]
        .as_str()
        .unwrap()
        .to_string();
    ok(crate::push::subscribe_form(app, &ava, "https://push.example/ava", &[]).await);
    let story = ok(app
        .post(
            "/api/v1/stories",
            Some(&ava),
            json!({"media_id": ok(crate::media::upload(
                app,
                &ava,
                "/api/v2/media",
                "photo.jpg",
                "image/jpeg",
                crate::media::fixture("photo.jpg"),
                &[],
            )
            .await)["id"]}),
        )
        .await);
    let poll = post(
        app,
        &ava,
        json!({"status": "which?", "poll": {"options": ["a", "b"], "expires_in": 3600}}),
    )
    .await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let scheduled = ok(app
        .post(
            "/api/v1/statuses",
            Some(&ava),
            json!({"status": "later", "scheduled_at": at}),
        )
        .await);
    let alias = ok(app
        .post("/api/v1/aliases", Some(&ava), json!({"acct": "bea"}))
        .await);
    let import =
        ok(crate::imports::import(app, &ava, "blocking", "merge", b"nobody\n".to_vec()).await);
    let s = |v: &Value| v["id"].as_str().unwrap().to_string();
    Fixtures {
        by_prefix: vec![
            ("/api/v1/aliases/", s(&alias)),
            ("/api/v1/imports/", s(&import)),
            ("/api/v1/media/", s(&media)),
            ("/api/v1/lists/", s(&list)),
            ("/api/v1/timelines/list/", s(&list)),
            ("/api/v1/filters/", s(&filter_v1)),
            ("/api/v2/filters/keywords/", keyword_id),
            ("/api/v2/filters/statuses/", s(&filter_status)),
            ("/api/v2/filters/", filter_id),
            ("/api/v1/featured_tags/", s(&featured)),
            ("/api/v1/conversations/", s(&conversations[0])),
            ("/api/v1/rooms/", room_id),
            ("/api/v1/calls/", s(&call)),
            ("/api/v1/notifications/requests/", request_id),
            ("/api/v1/notifications/", notification_id),
            ("/api/v1/statuses/", status_id.clone()),
            ("/api/v1/stories/", s(&story)),
            (
                "/api/v1/polls/",
                poll["poll"]["id"].as_str().unwrap().to_string(),
            ),
            ("/api/v1/scheduled_statuses/", s(&scheduled)),
            ("/api/v1/follow_requests/", bea_id.clone()),
            ("/users/", status_id.clone()),
            ("/web/statuses/", status_id.clone()),
            ("/{at_name}/", status_id),
        ],
        account_id: ava_id.to_string(),
        other_account_id: bea_id,
        group_key,
        room_message_id: s(&room_message),
    }
}

/// One call: the status, and the body's `error` when the answer is an error.
async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> (u16, Option<String>) {
    let mut req = app.http.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        app.url(path),
    );
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if method != "GET" && method != "DELETE" {
        req = req.json(&json!({}));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    // Streams are left unread; errors are read for their shape.
    let error = if status >= 400 {
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = resp.text().await.unwrap_or_default();
        if ct.starts_with("application/json") {
            serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(String::from))
        } else {
            Some(format!("(not JSON: {ct}) {text}"))
        }
    } else {
        None
    };
    (status, error)
}

async fn every_route_checks_its_access(app: TestApp) {
    let fx = setup(&app).await;
    // Tokens: one without the scope a route needs (a `push` token, or a `read` one where `push`
    // is needed), and another user's with every scope a user may have.
    let push_only = app.token_for("ava", "push").await;
    let read_only = app.token_for("ava", "read").await;
    let bea = app
        .token_for("bea", "read write follow push admin:read admin:write")
        .await;
    let app_token = app.app_token("read").await;

    let table: HashMap<(&str, &str), Access> =
        TABLE.iter().map(|(m, p, a)| ((*m, *p), *a)).collect();
    let mut served: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut failures = Vec::new();
    for path in rookery::http::router::paths(&app.state) {
        let url = fx.fill(path);
        for method in METHODS {
            let (anon, anon_error) = call(&app, method, &url, None).await;
            if anon == 405 {
                continue;
            }
            served.insert((method, path));
            let Some(access) = table.get(&(method, path)).copied() else {
                failures.push(format!("{method} {path}: served but not in the table"));
                continue;
            };
            let mut check = |who: &str, ok: bool, got: u16, error: &Option<String>| {
                if !ok {
                    failures.push(format!(
                        "{method} {path} ({access:?}): {who} got {got} {}",
                        error.as_deref().unwrap_or("")
                    ));
                }
                if got >= 500 {
                    failures.push(format!("{method} {path}: {who} got {got}"));
                }
                if got >= 400
                    && error.as_deref().is_none_or(|e| e.starts_with("(not JSON"))
                    && !matches!(access, Page | Open)
                {
                    failures.push(format!(
                        "{method} {path}: {who}'s {got} is not a JSON error: {error:?}"
                    ));
                }
            };
            let wrong = match access {
                User("push") | Own("push") => &read_only,
                _ => &push_only,
            };
            let (w, w_error) = call(&app, method, &url, Some(wrong)).await;
            let (o, o_error) = call(&app, method, &url, Some(&bea)).await;
            match access {
                Open => {
                    check("anonymous", anon != 401 && anon != 403, anon, &anon_error);
                    check("a token", w != 401 && w != 403, w, &w_error);
                }
                // Cookies and CSRF tokens decide there; only a server error would be wrong.
                Page => {
                    check("anonymous", true, anon, &anon_error);
                    check("a token", true, w, &w_error);
                }
                Public(_) => {
                    check("anonymous", anon != 401 && anon != 403, anon, &anon_error);
                    check("a token without the scope", w == 403, w, &w_error);
                    check("another user", o != 401 && o != 403, o, &o_error);
                }
                Client => {
                    check(
                        "anonymous",
                        anon == 401 && anon_error.as_deref() == Some("invalid_client"),
                        anon,
                        &anon_error,
                    );
                    check("a token", w == 401, w, &w_error);
                }
                Unconfirmed => {
                    check("anonymous", anon == 401, anon, &anon_error);
                    check("a token without the scope", w == 403, w, &w_error);
                    check("a confirmed user", o == 403, o, &o_error);
                }
                AnyToken => {
                    check("anonymous", anon == 401, anon, &anon_error);
                    check("any token", w == 200, w, &w_error);
                }
                AppOrUser(_) => {
                    check("anonymous", anon == 401, anon, &anon_error);
                    check("a token without the scope", w == 403, w, &w_error);
                    let (a, a_error) = call(&app, method, &url, Some(&app_token)).await;
                    check("an app token without the scope", a == 403, a, &a_error);
                }
                User(_) => {
                    check("anonymous", anon == 401, anon, &anon_error);
                    check("a token without the scope", w == 403, w, &w_error);
                    check("another user", o != 401 && o != 403, o, &o_error);
                }
                Own(_) => {
                    check("anonymous", anon == 401, anon, &anon_error);
                    check("a token without the scope", w == 403, w, &w_error);
                    check("another user", o == 404 || o == 403, o, &o_error);
                }
                Staff(_) => {
                    check("anonymous", anon == 401, anon, &anon_error);
                    check("a token without the scope", w == 403, w, &w_error);
                    check("a user who is not staff", o == 403, o, &o_error);
                }
            }
        }
    }
    for (method, path, _) in TABLE {
        if !served.contains(&(*method, *path)) {
            failures.push(format!("{method} {path}: in the table but not served"));
        }
    }

    // Last, once nothing else is checked (these calls may change the first user's things): a
    // token granting exactly the listed scope — the first user's, or an admin's for staff routes
    // — is let through, so the scope in the table is the one the route checks.
    app.create_user_with_role("ada", rookery::service::accounts::Role::Admin)
        .await;
    let mut tokens: HashMap<(&str, &str), String> = HashMap::new();
    for (method, path, access) in TABLE {
        let (user, scope) = match *access {
            Public(scope) | AppOrUser(scope) | User(scope) | Own(scope) => ("ava", scope),
            Staff(scope) => ("ada", scope),
            // The first user is confirmed; the check of `Unconfirmed` is the 403 above.
            Unconfirmed | Open | Page | AnyToken | Client => continue,
        };
        if !served.contains(&(*method, *path)) {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(e) = tokens.entry((user, scope)) {
            e.insert(app.token_for(user, scope).await);
        }
        let token = &tokens[&(user, scope)];
        let url = fx.fill_with_account(path, &fx.other_account_id);
        let (got, error) = call(&app, method, &url, Some(token)).await;
        if got == 401 || got == 403 || got >= 500 {
            failures.push(format!(
                "{method} {path}: a token with {scope} got {got} {}",
                error.unwrap_or_default()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(served.len() >= 200, "only {} routes found", served.len());
}

#[tokio::test]
async fn every_route_checks_its_access_sqlite() {
    // One token per scope in the table: more sign-ins than the default budget allows.
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.rate_limits.sign_in_per_ip = 10_000;
        c.rate_limits.sign_in_per_account = 10_000;
    })
    .await;
    every_route_checks_its_access(app).await
}
