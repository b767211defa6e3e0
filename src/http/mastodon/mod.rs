//! The Mastodon client API; files mirror the URL tree (`api/v1/accounts.rs` serves
//! `/api/v1/accounts/*`). `/api/v2/instance` shares the v1 instance module.
pub mod api;
