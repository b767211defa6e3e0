//! Activities about stories: `Add` of a Story to the actor's stories, `View`, `EmojiReact`, and
//! Pixelfed's `Story:Reaction` and `Story:Reply` (docs/FEDERATION.md, Stories). The stories
//! service checks what each points at.

use crate::federation::protocol::activities::StoryActivity;
use crate::federation::protocol::note::Note;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::{statuses, stories};

/// A new story of the actor's; other `Add`s (Mastodon's featured collection) are not followed.
pub(super) async fn receive_add(
    data: &FedData,
    actor: &AccountRow,
    add: &StoryActivity,
) -> anyhow::Result<bool> {
    match add.object.get("type").and_then(|t| t.as_str()) {
        Some("Story") => stories::receive_add(data, actor, &add.object).await?,
        other => tracing::debug!(kind = ?other, "ignoring an Add of something other than a Story"),
    }
    Ok(false)
}

/// A view of a story here.
pub(super) async fn receive_view(
    data: &FedData,
    actor: &AccountRow,
    view: &StoryActivity,
) -> anyhow::Result<bool> {
    stories::receive_view(data, actor, &view.object).await?;
    Ok(false)
}

/// An emoji reaction to a story here (its `content` is the emoji).
pub(super) async fn receive_emoji_react(
    data: &FedData,
    actor: &AccountRow,
    react: &StoryActivity,
) -> anyhow::Result<bool> {
    stories::receive_reaction(data, actor, &react.object, react.content.as_deref()).await?;
    Ok(false)
}

/// Pixelfed's reaction: the story is named by `inReplyTo`.
pub(super) async fn receive_reaction(
    data: &FedData,
    actor: &AccountRow,
    reaction: &StoryActivity,
) -> anyhow::Result<bool> {
    let object = serde_json::json!(reaction.in_reply_to);
    stories::receive_reaction(data, actor, &object, reaction.content.as_deref()).await?;
    Ok(false)
}

/// Pixelfed's reply is a bare activity; it becomes the direct Note it stands for, whose receipt is
/// written with it.
pub(super) async fn receive_reply(
    data: &FedData,
    actor: &AccountRow,
    reply: &StoryActivity,
    activity_id: &str,
) -> anyhow::Result<bool> {
    let note = serde_json::json!({
        "id": reply.id,
        "type": "Note",
        "attributedTo": reply.actor,
        "to": reply.to,
        "content": reply.content.clone().unwrap_or_default(),
        "inReplyTo": reply.in_reply_to,
        "published": reply.published,
    });
    let note: Note = serde_json::from_value(note)?;
    statuses::receive_note(data, actor, note, activity_id).await
}
