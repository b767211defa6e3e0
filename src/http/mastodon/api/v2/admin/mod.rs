//! `/api/v2/admin/…` (docs.joinmastodon.org/methods/admin/).

pub mod accounts;
