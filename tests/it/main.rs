//! The one integration-test binary. Each module covers a capability; scenarios that touch the
//! database run on SQLite and PostgreSQL (`both_backends!`).

mod support;

mod accounts;
mod activitypub;
mod cli;
mod clients;
mod config;
mod federation;
mod instance;
mod media;
mod notifications;
mod oauth;
mod pages;
mod relationships;
mod shorts;
mod statuses;
mod storage;
mod stories;
mod streaming;
