//! ActivityPub wire types: what Rookery sends and accepts, shaped as Mastodon's so every server
//! that talks to Mastodon understands them (docs/FEDERATION.md states each one).

pub mod actor;
pub mod collection;
pub mod note;

/// The ActivityStreams public collection.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// JSON-LD `@context` of documents Rookery serves: ActivityStreams, security (for `publicKey`)
/// and the extension terms Mastodon uses.
pub fn context() -> serde_json::Value {
    serde_json::json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value"
        }
    ])
}
