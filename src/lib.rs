//! Rookery: a federated social server with a Mastodon-compatible client API.
//!
//! A guided tour, top to bottom (modules depend downward only):
//! - [`http`]: axum router, extractors, handlers grouped by URL tree (client API, OAuth pages,
//!   discovery documents).
//! - [`api_types`]: Mastodon entities and their mappers from storage rows.
//! - [`web`]: server-rendered HTML pages.
//! - [`federation`]: ActivityPub wire types and their mapping to rows.
//! - [`service`]: domain logic, one module per capability; local and remote actions meet here.
//! - [`storage`]: the SQLite/PostgreSQL handle and one module of SQL per aggregate.
//! - [`jobs`]: the durable job queue (media processing; deliveries keep their own table).
//! - [`media`]: images, video and audio processing, and where files are stored.
//! - [`realtime`]: the streaming hub events are published to.
//! - [`net`]: the only outgoing HTTP clients, and the address rule every request passes.
//! - [`config`], [`error`], [`state`], [`server`]: configuration, the error type shown to clients,
//!   the shared state, and start-up.

pub mod api_types;
pub mod config;
pub mod error;
pub mod federation;
pub mod http;
pub mod jobs;
pub mod media;
pub mod net;
pub mod realtime;
pub mod server;
pub mod service;
pub mod state;
pub mod storage;
pub mod text;
pub mod web;
