//! The one integration-test binary. Each module covers a capability; scenarios that touch the
//! database run on SQLite and PostgreSQL (`both_backends!`).

mod support;

mod accounts;
mod activitypub;
mod announcements;
mod authorized_fetch;
mod caches;
mod cards;
mod cli;
mod client_table;
mod clients;
mod config;
mod conversations;
mod discovery;
mod egress;
mod federation;
mod federation_moderation;
mod fedify;
mod filters;
mod hardening;
mod http_signatures;
mod instance;
mod layers;
mod lists;
mod mail;
mod media;
mod mentions;
mod moderation;
mod notifications;
mod oauth;
mod outages;
mod pages;
mod parity;
mod proxy;
mod push;
mod relationships;
mod route_table;
mod security;
mod shorts;
mod statuses;
mod storage;
mod stories;
mod streaming;
mod trends;
mod web_app;
