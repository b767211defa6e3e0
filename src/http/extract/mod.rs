//! Request extractors shared by all handlers.

pub mod auth;
pub mod client_ip;
pub mod lenient;
pub mod pagination;
pub mod params;

pub use auth::Auth;
pub use client_ip::ClientIp;
pub use pagination::{PageParams, paged, paged_json};
pub use params::Params;
