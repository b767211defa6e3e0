//! Inbound federation: activities POSTed to our inboxes (ActivityPub §7, server to server), from
//! the raw request to the service that owns what each changes. This layer sits beside `http` and
//! above the services it calls.
//!
//! [`receive_request`] refuses what cannot be used before any work (a suspended server, a type we
//! do not act on, an activity already processed), then [`signed::receive_signed`] verifies the
//! digest and the HTTP signature with the actor's key (fetching the actor when unknown). Every
//! activity must be on its actor's own server ([`InboxActivity`]'s `verify`); each type's own
//! checks and meaning are in one file: `follow` (Follow, Accept, Reject), `create`, `update`,
//! `delete`, `like`, `announce`, `block`, `undo`, `read`, `flag`, `quote` (QuoteRequest), `moves`
//! (Move), `stories` (Add of a Story, View, EmojiReact, Pixelfed's Story:Reply and
//! Story:Reaction), `rooms` (what rooms and their members send: read as JSON by the rooms
//! service).

mod announce;
mod block;
mod create;
mod delete;
mod flag;
mod follow;
mod like;
mod moves;
mod quote;
mod read;
mod rooms;
mod signed;
mod stories;
mod undo;
mod update;

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::traits::Activity;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::error::AppError;
use crate::federation::origin::{authority, same_origin};
use crate::federation::protocol::activities::{
    Announce, Answer, Block, Create, Delete, Flag, Follow, Like, Move, QuoteRequest, StoryActivity,
    Update,
};
use crate::service::accounts::AccountRow;
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::FedData;
use crate::state::AppState;

pub use signed::receive_signed;

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
    "QuoteRequest",
    "Move",
    "Invite",
    "Leave",
    "Remove",
];

/// Types only rooms act on (`service::rooms::concerns`); others of these types (such as
/// Mastodon's `Remove` of a pinned post) are acknowledged and ignored.
const ROOM_TYPES: &[&str] = &["Invite", "Leave", "Remove"];

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
    QuoteRequest(QuoteRequest),
    Move(Move),
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
            InboxActivity::QuoteRequest(a) => &a.id,
            InboxActivity::Move(a) => &a.id,
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
            InboxActivity::QuoteRequest(a) => &a.actor,
            InboxActivity::Move(a) => &a.actor,
            _ => &self.story().expect("story activity").actor,
        }
    }

    /// A server speaks only for itself: the activity, and any object it creates, deletes or takes
    /// back, must be on the actor's own origin. Types that point at things here (Follow, Like,
    /// Announce, Block, Read) are checked by what they point at; the moderation service keeps only
    /// the parts of a Flag that name things here; the stories service checks what story activities
    /// point at.
    async fn verify(&self, _data: &Data<AppState>) -> Result<(), Self::Error> {
        let actor = self.actor();
        anyhow::ensure!(
            same_origin(self.id(), actor),
            "activity {} is not from {actor}'s server",
            self.id()
        );
        match self {
            InboxActivity::Create(c) => create::verify(c),
            InboxActivity::Delete(d) => delete::verify(d),
            InboxActivity::Undo(u) => undo::verify(u),
            InboxActivity::Update(u) => update::verify(u),
            _ => Ok(()),
        }
    }

    async fn receive(self, data: &Data<AppState>) -> Result<(), Self::Error> {
        receive(self, data).await
    }
}

/// Acts on a verified activity, then records its receipt (`received_activities`) so that a
/// repeated delivery is acknowledged without being processed again. A new status's receipt is
/// written in the status's own transaction.
///
/// Errors: what the owning service refuses; the receipt is then not recorded, so the sender's
/// retry is processed afresh.
pub async fn receive(activity: InboxActivity, data: &FedData) -> anyhow::Result<()> {
    let id = activity.id().to_string();
    if !act(activity, data, &id).await?
        && let Err(e) = crate::service::delivery::record_receipt(data, &id).await
    {
        tracing::warn!(error = ?e, "could not record a processed activity");
    }
    Ok(())
}

/// What became of a POST to an inbox, for the HTTP answer.
#[derive(Debug)]
pub enum Received {
    /// Processed, or acknowledged without work (a type we do not act on, a repeat): 202.
    Accepted,
    /// The sender's server is suspended here: 403.
    Blocked,
    /// The digest or HTTP signature does not verify: 401.
    BadSignature,
    /// Anything else unusable (the reason is logged): 400.
    Refused,
    /// Our own failure (a database error): 500.
    Failed(AppError),
}

/// Receives an activity POSTed to an inbox (`doc` is `body` parsed, `id` and `kind` its `id` and
/// `type`). Acts on it, then records its receipt (`received_activities`) so that a repeated
/// delivery is acknowledged without being processed again; a refused activity's receipt is not
/// recorded, so the sender's retry is processed afresh. A server that talks to us is reachable:
/// its postponed deliveries go now.
pub async fn receive_request(
    data: &FedData,
    request: &http::request::Parts,
    body: &[u8],
    doc: &Value,
    id: &str,
    kind: &str,
) -> Received {
    let sender = doc
        .get("actor")
        .and_then(Value::as_str)
        .and_then(|a| Url::parse(a).ok())
        .and_then(|u| authority(&u));
    if let Some(host) = &sender {
        match crate::service::moderation::domain_suspended(data, host).await {
            Ok(true) => return Received::Blocked,
            Ok(false) => {}
            Err(e) => return Received::Failed(e.into()),
        }
    }
    if !HANDLED_TYPES.contains(&kind) {
        tracing::debug!(
            kind,
            id,
            "acknowledging an activity type Rookery does not handle"
        );
        return Received::Accepted;
    }
    match crate::service::delivery::already_received(data, id).await {
        Ok(true) => return Received::Accepted,
        Ok(false) => {}
        Err(e) => return Received::Failed(e.into()),
    }
    // Call signalling first: its `Leave` and `Accept` name a call, not a room or a follow.
    let handler = match crate::service::calls::concerns(data, kind, doc).await {
        Ok(true) => Some(rooms::Handler::Calls),
        Ok(false) => match crate::service::rooms::concerns(data, kind, doc).await {
            Ok(true) => Some(rooms::Handler::Rooms),
            Ok(false) => None,
            Err(e) => return Received::Failed(e),
        },
        Err(e) => return Received::Failed(e),
    };
    if handler.is_none() && ROOM_TYPES.contains(&kind) {
        tracing::debug!(kind, id, "acknowledging an activity about no room or call");
        return Received::Accepted;
    }
    let received = crate::service::activitypub::actors::with_request_actors(async {
        if let Some(handler) = handler {
            rooms::receive(data, request, body, doc, id, kind, handler).await
        } else {
            receive_signed(data, &request.method, &request.uri, &request.headers, body).await
        }
    })
    .await;
    match received {
        Ok(()) => {
            if let Some(host) = &sender
                && let Err(e) = crate::service::delivery::heard_from(data, host).await
            {
                tracing::warn!(error = ?e, "could not mark a server reachable");
            }
            Received::Accepted
        }
        Err(e) => {
            use activitypub_federation::error::Error as FedError;
            tracing::info!(activity = id, error = %e, "refused an activity");
            match e.downcast_ref::<FedError>() {
                Some(FedError::ActivitySignatureInvalid | FedError::ActivityBodyDigestInvalid) => {
                    Received::BadSignature
                }
                _ => Received::Refused,
            }
        }
    }
}

/// Dispatches `activity` (with ID `id`) to its type's file. Returns whether its receipt was
/// recorded along the way (a new status's receipt is written in the status's own transaction).
async fn act(activity: InboxActivity, data: &FedData, id: &str) -> anyhow::Result<bool> {
    let actor_id = activity.actor().clone();
    let actor: AccountRow = ObjectId::<ApAccount>::from(actor_id)
        .dereference(data)
        .await?
        .row;
    // A suspended account is heard from no more (its Delete of itself aside).
    if actor.suspended_at.is_some() && !matches!(activity, InboxActivity::Delete(_)) {
        tracing::debug!(actor = %actor.uri, "activity from a suspended account dropped");
        return Ok(false);
    }
    let recorded = match activity {
        InboxActivity::Flag(f) => flag::receive(data, &actor, f).await?,
        InboxActivity::Follow(f) => follow::receive_follow(data, &actor, &f).await?,
        InboxActivity::Accept(a) => follow::receive_answer(data, &actor, &a, true).await?,
        InboxActivity::Reject(a) => follow::receive_answer(data, &actor, &a, false).await?,
        InboxActivity::Undo(u) => undo::receive(data, &actor, &u).await?,
        InboxActivity::Like(l) => like::receive(data, &actor, &l).await?,
        InboxActivity::Read(r) => read::receive(data, &actor, &r).await?,
        InboxActivity::Add(a) => stories::receive_add(data, &actor, &a).await?,
        InboxActivity::View(v) => stories::receive_view(data, &actor, &v).await?,
        InboxActivity::EmojiReact(r) => stories::receive_emoji_react(data, &actor, &r).await?,
        InboxActivity::StoryReaction(r) => stories::receive_reaction(data, &actor, &r).await?,
        InboxActivity::StoryReply(r) => stories::receive_reply(data, &actor, &r, id).await?,
        InboxActivity::Announce(a) => announce::receive(data, &actor, a).await?,
        InboxActivity::Block(b) => block::receive(data, &actor, &b).await?,
        InboxActivity::Update(u) => update::receive(data, &actor, u).await?,
        InboxActivity::Create(c) => create::receive(data, &actor, c, id).await?,
        InboxActivity::Delete(d) => delete::receive(data, &actor, &d).await?,
        InboxActivity::QuoteRequest(q) => quote::receive_request(data, &actor, &q).await?,
        InboxActivity::Move(m) => moves::receive(data, &actor, &m).await?,
    };
    Ok(recorded)
}
