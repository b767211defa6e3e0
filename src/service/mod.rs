//! Domain logic, one module per capability. Local actions (called by `http` handlers) and remote
//! ones (called by `federation::inbound`, in each capability's `inbound` file) meet here, so a
//! rule is written once. Services call storage; they never see axum types.

/// A page of a list (`max_id`, `since_id`, `min_id`, `limit`), as services take it; built by
/// `http::extract::pagination` from Mastodon's paging parameters.
pub use crate::storage::sql::Page;

pub mod accounts;
pub mod activitypub;
pub mod announcements;
pub mod archives;
pub mod bounds;
pub mod cache;
pub mod calls;
pub mod cards;
pub mod conversations;
pub mod delivery;
pub mod emojis;
pub mod featured;
pub mod filters;
pub mod grouped_notifications;
pub mod imports;
pub mod instance;
pub mod lists;
pub mod mail;
pub mod markers;
pub mod media;
pub mod metrics;
pub mod moderation;
pub mod moves;
pub mod notification_requests;
pub mod notifications;
pub mod oauth;
pub mod passwords;
pub mod polls;
pub mod push;
pub mod quotes;
pub mod rate_limit;
pub mod reads;
pub mod recovery;
pub mod relationships;
pub mod render;
pub mod rendered;
pub mod resolve;
pub mod rooms;
pub mod scheduled;
pub mod scopes;
pub mod search;
pub mod secrets;
pub mod sessions;
pub mod shorts;
pub mod statuses;
pub mod stories;
pub mod tags;
pub mod timelines;
pub mod two_factor;
