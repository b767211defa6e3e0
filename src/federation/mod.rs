//! Federation: ActivityPub wire types (`protocol`), the mapping between them and storage rows
//! (`objects`, `actor`), keys, and the `activitypub_federation` configuration (`context`).

pub mod activities;
pub mod actor;
pub mod context;
pub mod instance_actor;
pub mod keys;
pub mod note;
pub mod objects;
pub mod protocol;
pub mod rfc9421;
pub mod signatures;
pub mod signed_fetch;
