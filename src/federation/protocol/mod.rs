//! ActivityPub wire types: what Rookery sends and accepts, shaped as Mastodon's so every server
//! that talks to Mastodon understands them (docs/FEDERATION.md states each one).

pub mod activities;
pub mod actor;
pub mod collection;
pub mod note;
pub mod peertube;

/// Entries of a property that may be one object or a list of them (anything else: none).
pub fn object_list<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<serde_json::Value>, D::Error> {
    let raw: Option<serde_json::Value> = serde::Deserialize::deserialize(d)?;
    Ok(match raw {
        Some(serde_json::Value::Array(v)) => v,
        Some(other @ serde_json::Value::Object(_)) => vec![other],
        _ => Vec::new(),
    })
}

/// `T`s of a property that may be one object or a list; entries that do not parse (types we do
/// not know, malformed ones) are dropped rather than refusing the whole document.
pub fn lenient_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(object_list(d)?
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

/// The ActivityStreams public collection.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// JSON-LD `@context` of documents Rookery serves: ActivityStreams, security (for `publicKey`)
/// and the extension terms Mastodon uses (FEP-044f quotes and GoToSocial's interaction policies
/// among them).
pub fn context() -> serde_json::Value {
    serde_json::json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "alsoKnownAs": { "@id": "as:alsoKnownAs", "@type": "@id" },
            "movedTo": { "@id": "as:movedTo", "@type": "@id" },
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "discoverable": "toot:discoverable",
            "blurhash": "toot:blurhash",
            "focalPoint": { "@container": "@list", "@id": "toot:focalPoint" },
            "indexable": "toot:indexable",
            "votersCount": "toot:votersCount",
            "quote": "https://w3id.org/fep/044f#quote",
            "quoteUri": "http://fedibird.com/ns#quoteUri",
            "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
            "quoteAuthorization": { "@id": "https://w3id.org/fep/044f#quoteAuthorization", "@type": "@id" },
            "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest",
            "QuoteAuthorization": "https://w3id.org/fep/044f#QuoteAuthorization",
            "gts": "https://gotosocial.org/ns#",
            "interactionPolicy": { "@id": "gts:interactionPolicy", "@type": "@id" },
            "canQuote": { "@id": "gts:canQuote", "@type": "@id" },
            "automaticApproval": { "@id": "gts:automaticApproval", "@type": "@id" },
            "manualApproval": { "@id": "gts:manualApproval", "@type": "@id" },
            "interactingObject": { "@id": "gts:interactingObject" },
            "interactionTarget": { "@id": "gts:interactionTarget" },
            "rookery": "urn:rookery:",
            "Call": "rookery:Call",
            "IceCandidate": "rookery:IceCandidate",
            "callType": "rookery:callType",
            "sdp": "rookery:sdp",
            "candidate": "rookery:candidate",
            "sdpMid": "rookery:sdpMid",
            "sdpMLineIndex": "rookery:sdpMLineIndex",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value"
        }
    ])
}
