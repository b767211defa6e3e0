//! `Person` (and `Application` for the instance actor), as Mastodon shapes actors.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: String,
    pub owner: Url,
    pub public_key_pem: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_inbox: Option<Url>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub url: Url,
}

/// A profile metadata field (`schema:PropertyValue`); `value` is HTML.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub value: String,
}

/// An actor document. Optional fields are optional on the way in, because other servers leave
/// them out; Rookery always sends them.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: Url,
    /// `Person`, `Service` (bots), `Application`, `Group`, `Organization`.
    #[serde(rename = "type")]
    pub kind: String,
    pub preferred_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    pub inbox: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    pub public_key: PublicKey,
    #[serde(default)]
    pub manually_approves_followers: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discoverable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Profile fields; other entries (identity proofs, links) are ignored.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_attachments"
    )]
    pub attachment: Vec<PropertyValue>,
    /// Other actors of the same person (`as:alsoKnownAs`): a `Move` to this actor from one of them
    /// is accepted (docs/FEDERATION.md, "Account migration"). Entries that are not URLs are skipped.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_urls"
    )]
    pub also_known_as: Vec<Url>,
    /// The actor this one moved to (`as:movedTo`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_url"
    )]
    pub moved_to: Option<Url>,
    /// `Emoji` tags of the custom emojis in `name` and `summary` (others are ignored).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::lenient_list"
    )]
    pub tag: Vec<super::note::Tag>,
}

/// Keeps the `PropertyValue` entries of an `attachment` list, whatever else it holds.
fn lenient_attachments<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<PropertyValue>, D::Error> {
    Ok(super::object_list(d)?
        .into_iter()
        .filter(|v| v.get("type").and_then(|t| t.as_str()) == Some("PropertyValue"))
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

/// Most aliases kept from a remote actor: Mastodon lets a user list a handful.
pub const ALSO_KNOWN_AS_MAX: usize = 32;

/// A URL or a list of URLs (strings or objects with an `id`), at most [`ALSO_KNOWN_AS_MAX`].
fn lenient_urls<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Url>, D::Error> {
    let v = <serde_json::Value as Deserialize>::deserialize(d)?;
    let entries = match v {
        serde_json::Value::Array(v) => v,
        other => vec![other],
    };
    Ok(entries
        .into_iter()
        .filter_map(url_of)
        .take(ALSO_KNOWN_AS_MAX)
        .collect())
}

fn url_of(v: serde_json::Value) -> Option<Url> {
    match v {
        serde_json::Value::String(s) => Url::parse(&s).ok(),
        serde_json::Value::Object(o) => o.get("id")?.as_str().and_then(|s| Url::parse(s).ok()),
        _ => None,
    }
}

/// A URL (or an object with an `id`); anything else reads as absent.
fn lenient_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    Ok(url_of(<serde_json::Value as Deserialize>::deserialize(d)?))
}
