//! Federation: the ActivityPub wire — the documents Rookery sends and accepts (`protocol`), the
//! mapping from storage rows to them (`objects`), the instance actor, and the HTTP-signature
//! checks (`signatures`, `rfc9421`). Nothing here knows the application state; what fetching,
//! storing and sending mean for the instance lives in `service::activitypub`.
//!
//! `inbound` is the exception by layer: it receives signed activities (beside `http`, above the
//! services it calls), one file per activity type.

pub mod inbound;
pub mod instance_actor;
pub mod objects;
pub mod origin;
pub mod protocol;
pub mod rfc9421;
pub mod signatures;
