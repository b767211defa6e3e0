//! HTTP: the router, extractors, and handlers grouped by URL tree. Handlers validate input, call one
//! service function and map the result to a Mastodon entity or a document; no SQL lives here.

pub mod activitypub;
pub mod cookies;
pub mod error;
pub mod extract;
pub mod layers;
pub mod mastodon;
pub mod media_proxy;
pub mod oauth;
pub mod ops;
pub mod router;
pub mod web;
pub mod well_known;

pub use router::{ops_router, router};
