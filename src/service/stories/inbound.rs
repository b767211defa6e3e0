//! Stories and story activities other servers send: `Add`, `Delete`, `View`, reactions, replies.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::service::activitypub::context::FedData;
use crate::state::AppState;
use crate::storage::accounts::AccountRow;
use crate::storage::ids;
use crate::storage::media::{self};
use crate::storage::relationships::{self};
use crate::storage::stories::{self as store, StoryRow};

use super::*;

/// Decodes a bearcap (`bear:?u=URL&t=TOKEN`, either order, URL-encoded) into `(url, token)`.
pub fn decode_bearcap(cap: &str) -> Option<(url::Url, String)> {
    let query = cap.strip_prefix("bear:?")?;
    let mut u = None;
    let mut t = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "u" => u = url::Url::parse(&v).ok(),
            "t" => t = Some(v.into_owned()),
            _ => {}
        }
    }
    let token = t.filter(|t| t.len() >= 10)?;
    Some((u?, token))
}

/// Largest `Story` document read from its author's server, in bytes.
pub(super) const STORY_DOCUMENT_MAX_BYTES: usize = 256 * 1024;

/// An incoming `Add` of a `Story`: the story is fetched with the bearcap from the author's server
/// (never from anywhere else), checked, clamped to 24 hours, and kept when someone here follows
/// the author. Replays are no-ops.
pub async fn receive_add(data: &FedData, actor: &AccountRow, object: &Value) -> anyhow::Result<()> {
    let state: &AppState = data;
    let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
    if store::find_by_uri(&state.db, id).await?.is_some() {
        return Ok(());
    }
    if !relationships::has_local_followers(&state.db, actor.id).await? {
        tracing::debug!(story = id, "dropping a story nobody here follows");
        return Ok(());
    }
    let cap = object
        .get("object")
        .and_then(Value::as_str)
        .and_then(decode_bearcap)
        .ok_or_else(|| anyhow::anyhow!("a Story Add without a valid bearcap"))?;
    let actor_url = url::Url::parse(&actor.uri)?;
    anyhow::ensure!(
        crate::federation::origin::same_origin(&cap.0, &actor_url),
        "the bearcap points off the author's server"
    );
    let resp = state
        .http_client
        .get(cap.0.clone())
        .header(
            "Accept",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
        )
        .bearer_auth(&cap.1)
        .send()
        .await?
        .error_for_status()?;
    let payload: Value = crate::net::json_limited(resp, STORY_DOCUMENT_MAX_BYTES).await?;
    store_remote(state, actor, &payload).await.map(|_| ())
}

/// Stores a remote `Story` document (Pixelfed's shape) by `actor`. Returns the stored row, or
/// `None` when it has already expired.
///
/// Errors: not a Story, not attributed to `actor`, not on the actor's server, or without one Image
/// or Video attachment.
pub async fn store_remote(
    state: &AppState,
    actor: &AccountRow,
    doc: &Value,
) -> anyhow::Result<Option<StoryRow>> {
    anyhow::ensure!(
        doc.get("type").and_then(Value::as_str) == Some("Story"),
        "not a Story"
    );
    let id = url::Url::parse(
        doc.get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("a Story without an id"))?,
    )?;
    let actor_url = url::Url::parse(&actor.uri)?;
    anyhow::ensure!(
        doc.get("attributedTo").and_then(Value::as_str) == Some(actor.uri.as_str()),
        "the Story is not attributed to its sender"
    );
    anyhow::ensure!(
        crate::federation::origin::same_origin(&id, &actor_url),
        "the Story is not on its author's server"
    );
    if let Some(known) = store::find_by_uri(&state.db, id.as_str()).await? {
        return Ok(Some(known));
    }
    let attachment = match doc.get("attachment") {
        Some(Value::Array(a)) if a.len() == 1 => a[0].clone(),
        Some(v @ Value::Object(_)) => v.clone(),
        _ => anyhow::bail!("a Story has exactly one attachment"),
    };
    let attachment: crate::federation::protocol::note::Attachment =
        serde_json::from_value(attachment)?;
    anyhow::ensure!(
        matches!(attachment.kind.as_str(), "Image" | "Video" | "Document"),
        "a Story shows an Image or a Video"
    );
    let time = |field: &str| {
        doc.get(field)
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let now = Utc::now();
    let published = time("published").unwrap_or(now).min(now);
    // Never longer than a day from when it was posted, nor from now.
    let expires_at = time("expiresAt")
        .unwrap_or(published + LIFETIME)
        .min(published + LIFETIME)
        .min(now + LIFETIME);
    if expires_at <= now {
        return Ok(None);
    }
    let duration = doc
        .get("duration")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_PHOTO_SECONDS)
        .clamp(*DURATION_RANGE.start(), *DURATION_RANGE.end());
    let flag = |f: &str| doc.get(f).and_then(Value::as_bool).unwrap_or(true);
    let mut media_row = crate::service::media::remote_rows(&state.config, actor.id, &[attachment])
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the Story's attachment is not usable"))?;
    media_row.status_id = None;
    let sid = ids::id_at(published);
    let row = StoryRow {
        id: sid,
        account_id: actor.id,
        uri: id.to_string(),
        media_id: media_row.id,
        duration,
        can_reply: flag("can_reply"),
        can_react: flag("can_react"),
        bearer_token: None,
        created_at: published,
        expires_at,
    };
    let mut tx = state.db.begin().await?;
    media::insert(&mut tx, &media_row).await?;
    store::insert(&mut tx, &row).await?;
    tx.commit().await?;
    publish(state, &row).await;
    Ok(Some(row))
}

/// An incoming `Delete` of something: when it is a story of `actor`, removes it and returns true.
pub async fn receive_delete(
    state: &AppState,
    actor: &AccountRow,
    object_id: &str,
) -> anyhow::Result<bool> {
    match store::find_by_uri(&state.db, object_id).await? {
        Some(row) if row.account_id == actor.id => {
            remove(state, &row)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(true)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// The story an incoming `View`, reaction or reply points at: `object` as a URL, `{id}` or
/// Pixelfed's `{type: Story, object: URL}`.
pub fn story_uri_of(object: &Value) -> Option<String> {
    match object {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("object")
            .and_then(Value::as_str)
            .or_else(|| o.get("id").and_then(Value::as_str))
            .map(String::from),
        _ => None,
    }
}

/// An incoming `View` of one of our stories by a follower: recorded among its viewers.
pub async fn receive_view(
    state: &AppState,
    actor: &AccountRow,
    object: &Value,
) -> anyhow::Result<()> {
    let Some(uri) = story_uri_of(object) else {
        return Ok(());
    };
    let Some(row) = store::find_by_uri(&state.db, &uri).await? else {
        return Ok(());
    };
    if row.expires_at <= Utc::now() || !may_see(state, actor.id, row.account_id).await? {
        return Ok(());
    }
    store::mark_seen(&state.db, row.id, actor.id, Utc::now()).await?;
    Ok(())
}

/// An incoming reaction (`EmojiReact`, `Like`, or Pixelfed's `Story:Reaction`) to one of our live
/// stories by a follower: the author is notified. Returns false when `object` is not a story here.
pub async fn receive_reaction(
    state: &AppState,
    actor: &AccountRow,
    object: &Value,
    emoji: Option<&str>,
) -> anyhow::Result<bool> {
    let Some(uri) = story_uri_of(object) else {
        return Ok(false);
    };
    let Some(row) = store::find_by_uri(&state.db, &uri).await? else {
        return Ok(false);
    };
    if row.bearer_token.is_none()
        || row.expires_at <= Utc::now()
        || !row.can_react
        || !may_see(state, actor.id, row.account_id).await?
    {
        return Ok(true);
    }
    let emoji = emoji
        .map(str::trim)
        .filter(|e| valid_emoji(e))
        .unwrap_or("❤");
    notify(state, &row, actor.id, "story_reaction", None, Some(emoji))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(true)
}

/// The live story `uri` names, if it is one of ours or one we hold.
pub async fn find_for_reply(state: &AppState, uri: &str) -> anyhow::Result<Option<StoryRow>> {
    Ok(store::find_by_uri(&state.db, uri)
        .await?
        .filter(|s| s.expires_at > Utc::now()))
}

/// After a remote reply to one of our stories is stored: the author is notified (`story_reply`)
/// when replies are on and the replier follows them.
pub async fn notify_remote_reply(
    state: &AppState,
    story: &StoryRow,
    replier: &AccountRow,
    status_id: i64,
) -> anyhow::Result<()> {
    if story.bearer_token.is_none()
        || !story.can_reply
        || !may_see(state, replier.id, story.account_id).await?
    {
        return Ok(());
    }
    notify(
        state,
        story,
        replier.id,
        "story_reply",
        Some(status_id),
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}
