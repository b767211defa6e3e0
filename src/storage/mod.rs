//! Persistence: the [`db::Db`] handle over SQLite or PostgreSQL and one module per aggregate.
//! Functions here run SQL and nothing else; rules live in `service`.

pub mod account_moves;
pub mod account_stats;
pub mod accounts;
pub mod announcements;
pub mod archives;
pub mod calls;
pub mod cards;
pub mod changes;
pub mod conversations;
pub mod db;
pub mod deliveries;
pub mod domain_blocks;
pub mod emojis;
pub mod featured;
pub mod filters;
pub mod ids;
pub mod imports;
pub mod instances;
pub mod lists;
pub mod media;
pub mod notification_requests;
pub mod notifications;
pub mod oauth;
pub mod polls;
pub mod presence;
pub mod push;
pub mod quotes;
pub mod rate_limits;
pub mod relationships;
pub mod replicas;
pub mod reports;
pub mod rooms;
pub mod scheduled_statuses;
pub mod settings;
pub mod sql;
pub mod sqlite_pool;
pub mod statuses;
pub mod stories;
pub mod tags;
pub mod two_factor;
pub mod user_domain_blocks;
pub mod user_tokens;
pub mod writer;

pub use db::{Db, Tx};
