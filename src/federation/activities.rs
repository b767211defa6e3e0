//! Activities Rookery receives (`InboxActivity`) and the wrapper that sends stored ones
//! (`StoredActivity`). What each activity does lives in the services; this module checks that an
//! activity may say what it says (its ID and object on the sender's own server) and dispatches.

use activitypub_federation::config::Data;
use activitypub_federation::traits::Activity;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::federation::actor::same_origin;
use crate::federation::protocol::note::Note;
use crate::state::AppState;

/// Activity types the inbox acts on; anything else is acknowledged and ignored.
pub const HANDLED_TYPES: &[&str] = &[
    "Follow",
    "Accept",
    "Reject",
    "Undo",
    "Create",
    "Delete",
    "Like",
    "Read",
    "Announce",
    "Update",
    "Block",
    "Flag",
    "Add",
    "View",
    "EmojiReact",
    "Story:Reply",
    "Story:Reaction",
];

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

/// An incoming activity, by its `type`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(tag = "type")]
pub enum InboxActivity {
    Follow(Follow),
    Accept(Answer),
    Reject(Answer),
    Undo(Answer),
    Create(Create),
    Delete(Delete),
    Like(Like),
    Announce(Announce),
    Update(Update),
    Block(Block),
    Flag(Flag),
    /// A read receipt for a direct message (docs/FEDERATION.md, Direct messages).
    Read(Like),
    Add(StoryActivity),
    View(StoryActivity),
    EmojiReact(StoryActivity),
    #[serde(rename = "Story:Reply")]
    StoryReply(StoryActivity),
    #[serde(rename = "Story:Reaction")]
    StoryReaction(StoryActivity),
}

impl InboxActivity {
    fn story(&self) -> Option<&StoryActivity> {
        match self {
            InboxActivity::Add(a)
            | InboxActivity::View(a)
            | InboxActivity::EmojiReact(a)
            | InboxActivity::StoryReply(a)
            | InboxActivity::StoryReaction(a) => Some(a),
            _ => None,
        }
    }
}

#[async_trait]
impl Activity for InboxActivity {
    type DataType = AppState;
    type Error = anyhow::Error;

    fn id(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => &a.id,
            InboxActivity::Accept(a) | InboxActivity::Reject(a) | InboxActivity::Undo(a) => &a.id,
            InboxActivity::Create(a) => &a.id,
            InboxActivity::Delete(a) => &a.id,
            InboxActivity::Like(a) | InboxActivity::Read(a) => &a.id,
            InboxActivity::Announce(a) => &a.id,
            InboxActivity::Update(a) => &a.id,
            InboxActivity::Block(a) => &a.id,
            InboxActivity::Flag(a) => &a.id,
            _ => &self.story().expect("story activity").id,
        }
    }

    fn actor(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => &a.actor,
            InboxActivity::Accept(a) | InboxActivity::Reject(a) | InboxActivity::Undo(a) => {
                &a.actor
            }
            InboxActivity::Create(a) => &a.actor,
            InboxActivity::Delete(a) => &a.actor,
            InboxActivity::Like(a) | InboxActivity::Read(a) => &a.actor,
            InboxActivity::Announce(a) => &a.actor,
            InboxActivity::Update(a) => &a.actor,
            InboxActivity::Block(a) => &a.actor,
            InboxActivity::Flag(a) => &a.actor,
            _ => &self.story().expect("story activity").actor,
        }
    }

    /// A server speaks only for itself: the activity, and any object it creates, deletes or takes
    /// back, must be on the actor's own origin.
    async fn verify(&self, _data: &Data<AppState>) -> Result<(), Self::Error> {
        let actor = self.actor();
        anyhow::ensure!(
            same_origin(self.id(), actor),
            "activity {} is not from {actor}'s server",
            self.id()
        );
        match self {
            InboxActivity::Create(c) => {
                anyhow::ensure!(
                    c.object.attributed_to == c.actor,
                    "a Create must be by the Note's author"
                );
                anyhow::ensure!(
                    same_origin(&c.object.id, actor),
                    "the Note is not on the author's server"
                );
            }
            InboxActivity::Delete(d) => {
                let id = d
                    .object
                    .id()
                    .ok_or_else(|| anyhow::anyhow!("Delete without an object id"))?;
                anyhow::ensure!(
                    same_origin(&id, actor),
                    "cannot delete another server's object"
                );
            }
            InboxActivity::Undo(u) => {
                let id = u
                    .object
                    .id()
                    .ok_or_else(|| anyhow::anyhow!("Undo without an object id"))?;
                anyhow::ensure!(
                    same_origin(&id, actor),
                    "cannot undo another server's activity"
                );
            }
            InboxActivity::Update(u) => {
                let id = u
                    .object
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|s| Url::parse(s).ok())
                    .ok_or_else(|| anyhow::anyhow!("Update without an object id"))?;
                anyhow::ensure!(
                    same_origin(&id, actor),
                    "cannot update another server's object"
                );
            }
            InboxActivity::Follow(_)
            | InboxActivity::Accept(_)
            | InboxActivity::Reject(_)
            | InboxActivity::Like(_)
            | InboxActivity::Read(_)
            | InboxActivity::Announce(_)
            | InboxActivity::Block(_)
            // The moderation service keeps only the parts of a Flag that name things here.
            | InboxActivity::Flag(_) => {}
            // The stories service checks what these point at (an Add's story must be on the
            // actor's server; the rest must name a story here).
            InboxActivity::Add(_)
            | InboxActivity::View(_)
            | InboxActivity::EmojiReact(_)
            | InboxActivity::StoryReply(_)
            | InboxActivity::StoryReaction(_) => {}
        }
        Ok(())
    }

    async fn receive(self, data: &Data<AppState>) -> Result<(), Self::Error> {
        crate::service::inbox::receive(self, data).await
    }
}

/// A stored outgoing activity, sent byte for byte as it was queued.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct StoredActivity {
    pub document: Value,
    #[serde(skip)]
    pub id: Url,
    #[serde(skip)]
    pub actor: Url,
}

impl StoredActivity {
    pub fn parse(payload: &str) -> anyhow::Result<StoredActivity> {
        let document: Value = serde_json::from_str(payload)?;
        let id = Url::parse(document.get("id").and_then(Value::as_str).unwrap_or(""))?;
        let actor = Url::parse(document.get("actor").and_then(Value::as_str).unwrap_or(""))?;
        Ok(StoredActivity {
            document,
            id,
            actor,
        })
    }
}

#[async_trait]
impl Activity for StoredActivity {
    type DataType = AppState;
    type Error = anyhow::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<AppState>) -> Result<(), Self::Error> {
        anyhow::bail!("stored activities are only sent, never received")
    }

    async fn receive(self, _data: &Data<AppState>) -> Result<(), Self::Error> {
        anyhow::bail!("stored activities are only sent, never received")
    }
}
