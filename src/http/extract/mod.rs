//! Request extractors shared by all handlers.

pub mod auth;
pub mod lenient;
pub mod params;

pub use auth::{Auth, ClientIp};
pub use params::Params;
