//! Federation: ActivityPub wire types (`protocol`) and the mapping between them and storage rows
//! (`objects`). Built on the `activitypub_federation` crate.

pub mod keys;
pub mod objects;
pub mod protocol;
