//! `Note` and its tags, with Mastodon's addressing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// A `Mention`, `Hashtag` or `Emoji` (a custom emoji: `name` is `:shortcode:`, `icon` its image);
/// other tag types parse too and are ignored.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Tag {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Url>,
    /// An `Emoji`'s `Image` (`url`, `mediaType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<serde_json::Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_time"
    )]
    pub updated: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    pub attributed_to: Url,
    #[serde(default, deserialize_with = "one_or_many_urls")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "one_or_many_urls")]
    pub cc: Vec<Url>,
    /// HTML.
    #[serde(default)]
    pub content: String,
    /// The content warning.
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub sensitive: Option<bool>,
    #[serde(default)]
    pub in_reply_to: Option<Url>,
    /// Absent in votes (Mastodon sends none): read as now.
    #[serde(default = "Utc::now")]
    pub published: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::lenient_list"
    )]
    pub tag: Vec<Tag>,
    /// `{"en": "<p>…</p>"}`: the language of the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_map: Option<serde_json::Map<String, serde_json::Value>>,
    /// Thread identifiers: `context` (ActivityStreams) and Mastodon's `conversation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::lenient_list"
    )]
    pub attachment: Vec<Attachment>,
    /// PeerTube's `Video`: its length, as an ISO 8601 duration (`PT42S`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// A vote: the chosen option's title, in a Note answering a `Question` (Mastodon's shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A `Question` (a poll): its options when one may be chosen (`oneOf`) or several (`anyOf`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::lenient_list"
    )]
    pub one_of: Vec<QuestionOption>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::lenient_list"
    )]
    pub any_of: Vec<QuestionOption>,
    /// When the poll ends (a malformed time reads as none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_time"
    )]
    pub end_time: Option<DateTime<Utc>>,
    /// When it ended: a time, or `true` (Pleroma); absent while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<serde_json::Value>,
    /// Mastodon's `toot:votersCount`: how many accounts voted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voters_count: Option<serde_json::Value>,
    /// The quoted object (FEP-044f `quote`): its id, or inline (a `Tombstone` once deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<serde_json::Value>,
    /// Older spellings of the quoted object's id: Misskey's `_misskey_quote` and `quoteUrl`
    /// (also Akkoma's), Fedibird's `quoteUri`.
    #[serde(
        default,
        rename = "_misskey_quote",
        skip_serializing_if = "Option::is_none"
    )]
    pub misskey_quote: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_url: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_uri: Option<serde_json::Value>,
    /// The quoted author's stamp approving this quote (FEP-044f `quoteAuthorization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_authorization: Option<serde_json::Value>,
    /// GoToSocial's `interactionPolicy`; its `canQuote` is who may quote this Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_policy: Option<serde_json::Value>,
}

/// The id in a property that is a URL string or an object with an `id` (the first of a list).
fn id_in(v: &serde_json::Value) -> Option<Url> {
    match v {
        serde_json::Value::String(s) => Url::parse(s).ok(),
        serde_json::Value::Object(o) => o
            .get("id")
            .and_then(|i| i.as_str())
            .and_then(|s| Url::parse(s).ok()),
        serde_json::Value::Array(a) => a.first().and_then(id_in),
        _ => None,
    }
}

impl Note {
    /// The id of the object this Note quotes, in the first property that names one (`quote`,
    /// `_misskey_quote`, `quoteUrl`, `quoteUri`, as Mastodon reads them).
    pub fn quoted_id(&self) -> Option<Url> {
        [
            &self.quote,
            &self.misskey_quote,
            &self.quote_url,
            &self.quote_uri,
        ]
        .into_iter()
        .flatten()
        .find_map(id_in)
    }

    /// The id of the stamp approving its quote, if it has one.
    pub fn quote_authorization_id(&self) -> Option<Url> {
        self.quote_authorization.as_ref().and_then(id_in)
    }
}

/// One option of a `Question`: a `Note` whose `name` is the title and whose `replies.totalItems`
/// counts its votes.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct QuestionOption {
    #[serde(rename = "type", default = "note_type")]
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<serde_json::Value>,
}

fn note_type() -> String {
    "Note".into()
}

impl QuestionOption {
    /// The option's votes as its server counts them (0 when absent or not a count).
    pub fn votes(&self) -> i64 {
        self.replies
            .as_ref()
            .and_then(|r| r.get("totalItems"))
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0)
            .max(0)
    }
}

/// A time that may be malformed: read as none then, rather than refusing the document.
fn lenient_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let v: Option<serde_json::Value> = Option::deserialize(d)?;
    Ok(v.as_ref()
        .and_then(serde_json::Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc)))
}

impl Note {
    /// Names of its `Hashtag` tags without `#`, keeping only plausible ones (letters, digits and
    /// `_`, at most 100 characters).
    pub fn hashtags(&self) -> Vec<String> {
        self.tag
            .iter()
            .filter(|t| t.kind == "Hashtag")
            .filter_map(|t| t.name.as_deref())
            .map(|n| n.trim_start_matches('#').to_string())
            .filter(|n| {
                !n.is_empty()
                    && n.chars().count() <= 100
                    && n.chars().all(|c| c.is_alphanumeric() || c == '_')
            })
            .collect()
    }
}

/// A media attachment: `Document` (Mastodon), `Image`, `Video` or `Audio`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// A URL, a `Link` or a list of `Link`s (PeerTube): the best MP4, else the first.
    #[serde(deserialize_with = "link_url")]
    pub url: Url,
    /// Alt text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blurhash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Mastodon's focal point, `[x, y]` from -1 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focal_point: Option<[f64; 2]>,
    /// A poster image (Loops, PeerTube-style `Image` object or URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<serde_json::Value>,
}

impl Attachment {
    /// The preview's URL, from a URL string or an `Image`/`Link` object.
    pub fn preview_url(&self) -> Option<Url> {
        match self.preview.as_ref()? {
            serde_json::Value::String(s) => Url::parse(s).ok(),
            v => link_of(v.get("url").unwrap_or(v)),
        }
    }
}

fn link_of(v: &serde_json::Value) -> Option<Url> {
    match v {
        serde_json::Value::String(s) => Url::parse(s).ok(),
        serde_json::Value::Object(o) => o
            .get("href")
            .or_else(|| o.get("url"))
            .and_then(|h| h.as_str())
            .and_then(|h| Url::parse(h).ok()),
        serde_json::Value::Array(list) => list
            .iter()
            .find(|l| l.get("mediaType").and_then(|m| m.as_str()) == Some("video/mp4"))
            .or_else(|| list.first())
            .and_then(link_of),
        _ => None,
    }
}

fn link_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    link_of(&v).ok_or_else(|| serde::de::Error::custom("attachment without a usable url"))
}

/// `to`/`cc` may be one URL or a list. The public collection is read in each spelling the
/// ActivityStreams context allows (`https://www.w3.org/ns/activitystreams#Public`, `as:Public`,
/// `Public`; Fedify sends the compact one) as the full URI; entries that are not URLs are skipped.
pub fn one_or_many_urls<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Url>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<serde_json::Value>),
    }
    let raw: Vec<String> = match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(u)) => vec![u],
        Some(OneOrMany::Many(v)) => v
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
    };
    Ok(raw
        .iter()
        .filter_map(|s| match s.as_str() {
            "as:Public" | "Public" => Url::parse(super::PUBLIC).ok(),
            other => Url::parse(other).ok(),
        })
        .collect())
}
