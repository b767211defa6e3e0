//! The activities Rookery receives, as they arrive on the wire (shaped as Mastodon sends them;
//! docs/FEDERATION.md). `federation::inbound` checks and dispatches them; the services act on
//! their parts.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::federation::protocol::note::Note;

/// An object given inline or by its ID.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ObjectOrId {
    Id(Url),
    Object(Value),
}

impl ObjectOrId {
    /// The object's `id`.
    pub fn id(&self) -> Option<Url> {
        match self {
            ObjectOrId::Id(u) => Some(u.clone()),
            ObjectOrId::Object(v) => v
                .get("id")
                .and_then(Value::as_str)
                .and_then(|s| Url::parse(s).ok()),
        }
    }

    /// The object's `type`, when given inline.
    pub fn kind(&self) -> Option<&str> {
        match self {
            ObjectOrId::Id(_) => None,
            ObjectOrId::Object(v) => v.get("type").and_then(Value::as_str),
        }
    }

    /// A field of the inline object that is a URL (e.g. a Follow's `actor` or `object`).
    pub fn url_field(&self, field: &str) -> Option<Url> {
        match self {
            ObjectOrId::Id(_) => None,
            ObjectOrId::Object(v) => v
                .get(field)
                .and_then(Value::as_str)
                .and_then(|s| Url::parse(s).ok()),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Follow {
    pub id: Url,
    pub actor: Url,
    pub object: Url,
}

/// `Accept`, `Reject` and `Undo` share a shape: they answer or take back an earlier activity.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Answer {
    pub id: Url,
    pub actor: Url,
    pub object: ObjectOrId,
    /// What an `Accept` produced: the stamp (`QuoteAuthorization`) accepting a `QuoteRequest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

/// FEP-044f's `QuoteRequest`: `actor` asks to quote `object` (ours) with `instrument` (its Note,
/// inline or by id).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct QuoteRequest {
    pub id: Url,
    pub actor: Url,
    pub object: ObjectOrId,
    #[serde(default)]
    pub instrument: Option<Value>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Create {
    pub id: Url,
    pub actor: Url,
    /// A Note, or a PeerTube `Video` read as one.
    #[serde(deserialize_with = "crate::federation::protocol::peertube::note_or_video")]
    pub object: Note,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Delete {
    pub id: Url,
    pub actor: Url,
    pub object: ObjectOrId,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Like {
    pub id: Url,
    pub actor: Url,
    pub object: Url,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Announce {
    pub id: Url,
    pub actor: Url,
    pub object: ObjectOrId,
    #[serde(
        default,
        deserialize_with = "crate::federation::protocol::note::one_or_many_urls"
    )]
    pub to: Vec<Url>,
    #[serde(
        default,
        deserialize_with = "crate::federation::protocol::note::one_or_many_urls"
    )]
    pub cc: Vec<Url>,
    #[serde(default)]
    pub published: Option<chrono::DateTime<chrono::Utc>>,
}

/// `Update` of a Note (an edit) or of an actor (a profile change).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Update {
    pub id: Url,
    pub actor: Url,
    pub object: Value,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Block {
    pub id: Url,
    pub actor: Url,
    pub object: Url,
}

/// A report sent on by another server's moderators (Mastodon's forwarded reports): `object` names
/// the reported actor and, optionally, some of its posts.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Flag {
    pub id: Url,
    pub actor: Url,
    /// One URL or a list of them.
    #[serde(deserialize_with = "crate::federation::protocol::note::one_or_many_urls")]
    pub object: Vec<Url>,
    #[serde(default)]
    pub content: Option<String>,
}

/// Activities about stories (`Add` of a Story, `View`, `EmojiReact`, Pixelfed's `Story:Reply` and
/// `Story:Reaction`): what they point at is read by the stories service.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct StoryActivity {
    pub id: Url,
    pub actor: Url,
    #[serde(default)]
    pub object: Value,
    #[serde(default)]
    pub to: Value,
    /// A reaction's emoji, or a Pixelfed reply's text.
    #[serde(default)]
    pub content: Option<String>,
    /// Pixelfed's replies and reactions name the story here.
    #[serde(default, rename = "inReplyTo")]
    pub in_reply_to: Option<String>,
    #[serde(default)]
    pub published: Option<String>,
}

/// `Move` of an account (Mastodon's account migration): `actor` and `object` are the moving
/// actor, `target` the actor it moved to, which must list it in `alsoKnownAs`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Move {
    pub id: Url,
    pub actor: Url,
    pub object: ObjectOrId,
    pub target: ObjectOrId,
}
