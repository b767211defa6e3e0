//! Request extractors shared by all handlers.

pub mod auth;
pub mod lenient;
pub mod pagination;
pub mod params;

pub use auth::{Auth, ClientIp};
pub use pagination::{PageParams, paged};
pub use params::Params;
