//! Domain logic, one module per capability. Local actions (client API) and remote ones (inbox) meet
//! here, so a rule is written once. Services call storage; they never see HTTP types.

pub mod accounts;
pub mod activitypub;
pub mod announcements;
pub mod bounds;
pub mod cache;
pub mod cards;
pub mod conversations;
pub mod delivery;
pub mod emojis;
pub mod featured;
pub mod filters;
pub mod grouped_notifications;
pub mod inbox;
pub mod instance;
pub mod lists;
pub mod mail;
pub mod media;
pub mod moderation;
pub mod notifications;
pub mod oauth;
pub mod passwords;
pub mod push;
pub mod rate_limit;
pub mod recovery;
pub mod relationships;
pub mod render;
pub mod resolve;
pub mod scopes;
pub mod secrets;
pub mod shorts;
pub mod statuses;
pub mod stories;
pub mod tags;
pub mod text;
pub mod two_factor;
