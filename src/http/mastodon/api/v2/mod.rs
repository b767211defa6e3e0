pub mod admin;
pub mod filters;
pub mod instance;
pub mod media;
pub mod notifications;
pub mod search;
pub mod suggestions;
