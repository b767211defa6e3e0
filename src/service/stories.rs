//! Stories: a photo or a video of at most a minute, shown to followers for 24 hours, then gone.
//! Rookery's extension of the Mastodon API (docs/API.md, Stories), federated in Pixelfed's shape
//! (docs/FEDERATION.md, Stories): an `Add` of a `Story` to followers carrying a bearer capability
//! to fetch it, `Delete` at expiry, `View` when seen; replies are direct Notes with `inReplyTo`
//! the story and reactions are `EmojiReact`s of it.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::api_types::story::{Story, StoryTrayEntry, StoryViewer};
use crate::error::{AppError, AppResult};
use crate::federation::context::FedData;
use crate::realtime::{Event, StreamKey};
use crate::service::oauth::CurrentUser;
use crate::service::{notifications, render};
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::ids;
use crate::storage::media::{self, MediaRow};
use crate::storage::notifications::About;
use crate::storage::relationships::{self, FollowTable};
use crate::storage::stories::{self as store, StoryRow};

/// How long a story lives.
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(24);
/// Longest video a story may be, in seconds.
pub const MAX_VIDEO_SECONDS: f64 = 60.0;
/// Seconds a photo is shown when the author does not say.
pub const DEFAULT_PHOTO_SECONDS: i64 = 5;
/// Bounds of `duration`, in seconds.
pub const DURATION_RANGE: std::ops::RangeInclusive<i64> = 1..=300;
/// Longest reaction (an emoji, possibly a sequence of code points), in characters.
const EMOJI_MAX_CHARS: usize = 16;

/// `POST /api/v1/stories` parameters.
pub struct NewStory {
    pub media_id: Option<String>,
    pub duration: Option<i64>,
    pub can_reply: Option<bool>,
    pub can_react: Option<bool>,
}

/// Posts a story of one uploaded, processed image or video (≤ 60 s) for 24 hours, sends the `Add`
/// to followers' servers and streams a `story` event to local followers.
///
/// Errors: 422 without media, with media that is still processing, failed, audio, attached to a
/// status or another story, a video over 60 s, or a `duration` outside 1–300; 404 for media that
/// is not the caller's.
pub async fn create(state: &AppState, user: &CurrentUser, p: NewStory) -> AppResult<Story> {
    let media_id = p
        .media_id
        .filter(|m| !m.is_empty())
        .ok_or_else(|| AppError::unprocessable("Validation failed: a story needs a media_id"))?;
    let m = crate::service::media::find_own(state, user.account.id, &media_id).await?;
    match m.state.as_str() {
        "processing" => {
            return Err(AppError::unprocessable(
                "Validation failed: the media is still processing",
            ));
        }
        "failed" => {
            return Err(AppError::unprocessable(
                "Validation failed: the media could not be processed",
            ));
        }
        _ => {}
    }
    if m.status_id.is_some() || store::uses_media(&state.db, m.id).await? {
        return Err(AppError::unprocessable(
            "Validation failed: the media is already posted",
        ));
    }
    let clip_seconds = match m.r#type.as_str() {
        "image" => None,
        "video" | "gifv" => Some(m.video_facts().2),
        _ => {
            return Err(AppError::unprocessable(
                "Validation failed: a story is a photo or a video",
            ));
        }
    };
    if let Some(s) = clip_seconds
        && s > MAX_VIDEO_SECONDS + 0.5
    {
        return Err(AppError::unprocessable(format!(
            "Validation failed: a story video is at most {MAX_VIDEO_SECONDS} seconds (this one is {s:.0})"
        )));
    }
    let duration = match p.duration {
        Some(d) if !DURATION_RANGE.contains(&d) => {
            return Err(AppError::unprocessable(
                "Validation failed: duration must be from 1 to 300 seconds",
            ));
        }
        Some(d) => d,
        None => clip_seconds.map_or(DEFAULT_PHOTO_SECONDS, |s| {
            (s.ceil() as i64).clamp(*DURATION_RANGE.start(), *DURATION_RANGE.end())
        }),
    };
    let id = ids::new_id();
    let now = ids::time_of(id);
    let row = StoryRow {
        id,
        account_id: user.account.id,
        uri: format!(
            "{}/stories/{}/{id}",
            state.config.base_url(),
            user.account.username
        ),
        media_id: m.id,
        duration,
        can_reply: p.can_reply.unwrap_or(true),
        can_react: p.can_react.unwrap_or(true),
        bearer_token: Some(crate::service::secrets::random_token()),
        created_at: now,
        expires_at: now + LIFETIME,
    };
    let inboxes = relationships::remote_follower_inboxes(&state.db, user.account.id).await?;
    if !inboxes.is_empty() {
        crate::federation::keys::public_key_pem(state, &user.account).await?;
    }
    let mut tx = state.db.begin().await?;
    store::insert(&mut tx, &row).await?;
    if !inboxes.is_empty() {
        let add = add_activity(&user.account, &row);
        crate::service::delivery::enqueue(&mut tx, &add, user.account.id, &inboxes, None).await?;
    }
    tx.commit().await?;
    if !inboxes.is_empty() {
        state.delivery_wakeup.notify_one();
    }
    let story = render_one(state, Some(user.account.id), row.clone()).await?;
    publish(state, &row).await;
    Ok(story)
}

/// Pixelfed's `Add` of a story: the object names the story and carries a bearcap (`bear:?u=URL&t=TOKEN`)
/// its followers' servers fetch it with.
fn add_activity(author: &AccountRow, s: &StoryRow) -> Value {
    let token = s.bearer_token.as_deref().unwrap_or_default();
    let bearcap = format!(
        "bear:?u={}&t={}",
        urlencoding::encode(&s.uri),
        urlencoding::encode(token)
    );
    json!({
        "id": format!("{}/activity", s.uri),
        "type": "Add",
        "actor": author.uri,
        "to": [format!("{}/followers", author.uri)],
        "object": { "id": s.uri, "type": "Story", "object": bearcap },
    })
}

/// Streams `story` (the Story entity) to the author's local followers, and to the author. A new
/// story is unseen by everyone, so it is rendered once for all of them.
async fn publish(state: &AppState, row: &StoryRow) {
    if !state.hub.has_listeners() {
        return;
    }
    let followers =
        match crate::storage::relationships::local_follower_ids(&state.db, row.account_id).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = ?e, "could not list followers for a story event");
                return;
            }
        };
    let story = match render_one(state, None, row.clone()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = ?e, "could not render a story event");
            return;
        }
    };
    state.hub.publish(Event {
        keys: followers
            .into_iter()
            .chain([row.account_id])
            .map(StreamKey::User)
            .collect(),
        event: "story",
        payload: serde_json::to_string(&story).unwrap_or_default(),
        author_id: Some(row.account_id),
    });
}

/// Renders stories as `viewer` sees them (seen or not). Stories whose media is gone are skipped.
pub async fn render(
    state: &AppState,
    viewer: Option<i64>,
    rows: Vec<StoryRow>,
) -> AppResult<Vec<Story>> {
    let account_ids: Vec<i64> = rows.iter().map(|s| s.account_id).collect();
    let accounts = render::accounts_by_id(state, &account_ids).await?;
    let media_ids: Vec<i64> = rows.iter().map(|s| s.media_id).collect();
    let media: HashMap<i64, MediaRow> = media::find_many(&state.db, &media_ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let story_ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
    let seen = match viewer {
        Some(v) => store::seen_among(&state.db, v, &story_ids).await?,
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        let (Some(account), Some(m)) = (
            accounts.iter().find(|a| a.id == s.account_id.to_string()),
            media.get(&s.media_id),
        ) else {
            continue;
        };
        out.push(Story {
            id: s.id.to_string(),
            uri: s.uri.clone(),
            account: account.clone(),
            media_attachment: crate::service::media::entity(state, m),
            created_at: s.created_at,
            expires_at: s.expires_at,
            duration: s.duration,
            seen: seen.contains(&s.id),
            can_reply: s.can_reply,
            can_react: s.can_react,
        });
    }
    Ok(out)
}

async fn render_one(state: &AppState, viewer: Option<i64>, row: StoryRow) -> AppResult<Story> {
    render(state, viewer, vec![row])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// Whether `viewer` may see `author`'s stories: they are the author, or follow them.
async fn may_see(state: &AppState, viewer: i64, author: i64) -> AppResult<bool> {
    Ok(viewer == author
        || relationships::find_follow(&state.db, FollowTable::Follows, viewer, author)
            .await?
            .is_some())
}

/// A live story `viewer` may see. Errors: 404 otherwise (expired, unknown or not for them).
async fn visible(state: &AppState, viewer: i64, id: &str) -> AppResult<StoryRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = store::find_live(&state.db, id, Utc::now())
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_see(state, viewer, row.account_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

/// `GET /api/v1/stories`: the viewer's own and followed accounts' live stories, one entry per
/// account; entries with unseen stories first, then the most recently updated.
pub async fn tray(state: &AppState, viewer: i64) -> AppResult<Vec<StoryTrayEntry>> {
    let rows = store::tray(&state.db, viewer, Utc::now()).await?;
    let stories = render(state, Some(viewer), rows).await?;
    let mut entries: Vec<StoryTrayEntry> = Vec::new();
    for s in stories {
        match entries.last_mut() {
            Some(e) if e.account.id == s.account.id => {
                e.seen &= s.seen;
                e.last_story_at = e.last_story_at.max(s.created_at);
                e.stories.push(s);
            }
            _ => entries.push(StoryTrayEntry {
                account: s.account.clone(),
                seen: s.seen,
                last_story_at: s.created_at,
                stories: vec![s],
            }),
        }
    }
    entries.sort_by(|a, b| {
        a.seen
            .cmp(&b.seen)
            .then(b.last_story_at.cmp(&a.last_story_at))
    });
    Ok(entries)
}

/// `GET /api/v1/accounts/:id/stories`: live stories of an account the viewer may see (itself or
/// one it follows), oldest first; none otherwise.
pub async fn of_account(state: &AppState, viewer: i64, account_id: &str) -> AppResult<Vec<Story>> {
    let account_id: i64 = account_id.parse().map_err(|_| AppError::NotFound)?;
    accounts::find_account(&state.db, account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_see(state, viewer, account_id).await? {
        return Ok(Vec::new());
    }
    let rows = store::of_account(&state.db, account_id, Utc::now()).await?;
    render(state, Some(viewer), rows).await
}

/// `GET /api/v1/stories/:id`. Errors: 404 for an expired, unknown or invisible story.
pub async fn show(state: &AppState, viewer: i64, id: &str) -> AppResult<Story> {
    let row = visible(state, viewer, id).await?;
    render_one(state, Some(viewer), row).await
}

/// `DELETE /api/v1/stories/:id`: the author takes a story down (and its `Delete` goes out).
/// Errors: 404 unless it is the caller's live story.
pub async fn delete(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<()> {
    let row = visible(state, user.account.id, id).await?;
    if row.account_id != user.account.id {
        return Err(AppError::NotFound);
    }
    remove(state, &row).await
}

/// `POST /api/v1/stories/:id/seen`: records the view (once); for a remote story a `View` goes to
/// its author's server. Errors: 404 for an expired, unknown or invisible story.
pub async fn seen(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Story> {
    let row = visible(state, user.account.id, id).await?;
    let first = store::mark_seen(&state.db, row.id, user.account.id, Utc::now()).await?;
    if first && row.account_id != user.account.id {
        let author = accounts::find_account(&state.db, row.account_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let view = json!({
            "id": format!("{}#stories/{}/view", user.account.uri, row.id),
            "type": "View",
            "actor": user.account.uri,
            "to": [author.uri],
            "object": { "type": "Story", "object": row.uri },
        });
        send_to(state, &user.account, &view, &author).await?;
    }
    render_one(state, Some(user.account.id), row).await
}

/// Queues `activity` from a local account to a remote account's inbox, in a transaction of its own.
async fn send_to(
    state: &AppState,
    from: &AccountRow,
    activity: &Value,
    to: &AccountRow,
) -> AppResult<()> {
    crate::federation::keys::public_key_pem(state, from).await?;
    let mut tx = state.db.begin().await?;
    crate::service::relationships::send_to(&mut tx, activity, from.id, to).await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

/// `GET /api/v1/stories/:id/viewers`: who saw it and when, latest first (the author only).
/// Errors: 404 unless it is the caller's live story.
pub async fn viewers(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> AppResult<Vec<StoryViewer>> {
    let row = visible(state, user.account.id, id).await?;
    if row.account_id != user.account.id {
        return Err(AppError::NotFound);
    }
    let views = store::viewers(&state.db, row.id).await?;
    let ids: Vec<i64> = views.iter().map(|v| v.0).collect();
    let accounts = render::accounts_by_id(state, &ids).await?;
    Ok(views
        .into_iter()
        .filter_map(|(account_id, viewed_at)| {
            accounts
                .iter()
                .find(|a| a.id == account_id.to_string())
                .map(|a| StoryViewer {
                    account: a.clone(),
                    viewed_at,
                })
        })
        .collect())
}

/// `POST /api/v1/stories/:id/reply`: a direct message to the author that links the story and
/// answers it (`inReplyTo` the story); the author is notified (`story_reply`).
///
/// Errors: 404 for an expired, unknown or invisible story; 422 for one's own story, when the author
/// turned replies off, or for an empty text.
pub async fn reply(
    data: &FedData,
    user: &CurrentUser,
    id: &str,
    text: &str,
    application_id: Option<i64>,
) -> AppResult<crate::storage::statuses::StatusRow> {
    let state: &AppState = data;
    let row = visible(state, user.account.id, id).await?;
    if row.account_id == user.account.id {
        return Err(AppError::unprocessable(
            "Validation failed: you cannot reply to your own story",
        ));
    }
    if !row.can_reply {
        return Err(AppError::unprocessable(
            "Validation failed: replies to this story are turned off",
        ));
    }
    if text.trim().is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: the reply is empty",
        ));
    }
    let author = accounts::find_account(&state.db, row.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let acct = match &author.domain {
        Some(d) => format!("{}@{d}", author.username),
        None => author.username.clone(),
    };
    let status = crate::service::statuses::create(
        data,
        user,
        crate::service::statuses::CreateStatus {
            text: format!("@{acct} {}\n\n↩ {}", text.trim(), row.uri),
            visibility: Some("direct".into()),
            application_id,
            in_reply_to_story: Some((row.id, row.uri.clone())),
            ..Default::default()
        },
    )
    .await?;
    notify(
        state,
        &row,
        user.account.id,
        "story_reply",
        Some(status.id),
        None,
    )
    .await?;
    Ok(status)
}

/// Checks a reaction: one emoji (a short run of non-ASCII symbols, or a `:shortcode:`).
fn valid_emoji(e: &str) -> bool {
    let n = e.chars().count();
    (1..=EMOJI_MAX_CHARS).contains(&n)
        && !e.chars().any(char::is_whitespace)
        && (e.chars().all(|c| !c.is_ascii())
            || (e.starts_with(':')
                && e.ends_with(':')
                && n > 2
                && e[1..e.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')))
}

/// `POST /api/v1/stories/:id/react`: a reaction the author is notified of (`story_reaction`);
/// for a remote story an `EmojiReact` goes to the author's server.
///
/// Errors: 404 for an expired, unknown or invisible story; 422 for one's own story, when reactions
/// are turned off, or for something that is not one emoji.
pub async fn react(state: &AppState, user: &CurrentUser, id: &str, emoji: &str) -> AppResult<()> {
    let row = visible(state, user.account.id, id).await?;
    let emoji = emoji.trim();
    if row.account_id == user.account.id {
        return Err(AppError::unprocessable(
            "Validation failed: you cannot react to your own story",
        ));
    }
    if !row.can_react {
        return Err(AppError::unprocessable(
            "Validation failed: reactions to this story are turned off",
        ));
    }
    if !valid_emoji(emoji) {
        return Err(AppError::unprocessable(
            "Validation failed: emoji must be one emoji",
        ));
    }
    let author = accounts::find_account(&state.db, row.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if author.is_local() {
        notify(
            state,
            &row,
            user.account.id,
            "story_reaction",
            None,
            Some(emoji),
        )
        .await?;
    } else {
        let react = json!({
            "id": format!("{}#stories/{}/react/{}", user.account.uri, row.id, ids::new_id()),
            "type": "EmojiReact",
            "actor": user.account.uri,
            "to": [author.uri],
            "object": row.uri,
            "content": emoji,
        });
        send_to(state, &user.account, &react, &author).await?;
    }
    Ok(())
}

/// Notifies the author of `story` (when local) of a `story_reply` or `story_reaction` by `from`.
/// Rookery's own types are never streamed (see `notifications::EXTENSION_TYPES`).
async fn notify(
    state: &AppState,
    story: &StoryRow,
    from: i64,
    kind: &str,
    status_id: Option<i64>,
    emoji: Option<&str>,
) -> AppResult<()> {
    let about = About {
        status_id,
        story_id: Some(story.id),
        emoji,
        ..Default::default()
    };
    let mut tx = state.db.begin().await?;
    notifications::create_about(&mut tx, story.account_id, from, kind, about).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a story and its media (rows, then files); for a local story the `Delete` goes to
/// followers' servers in the same transaction. Notifications about it go with it.
pub async fn remove(state: &AppState, row: &StoryRow) -> AppResult<()> {
    let author = accounts::find_account(&state.db, row.account_id).await?;
    let local = author.as_ref().is_some_and(AccountRow::is_local);
    let inboxes = if local {
        relationships::remote_follower_inboxes(&state.db, row.account_id).await?
    } else {
        Vec::new()
    };
    let m = media::find(&state.db, row.media_id).await?;
    let mut tx = state.db.begin().await?;
    if let (Some(author), false) = (&author, inboxes.is_empty()) {
        let delete = json!({
            "id": format!("{}#delete", row.uri),
            "type": "Delete",
            "actor": author.uri,
            "to": [format!("{}/followers", author.uri)],
            "object": { "id": row.uri, "type": "Story" },
        });
        crate::service::delivery::enqueue(&mut tx, &delete, row.account_id, &inboxes, None).await?;
    }
    store::delete(&mut tx, row.id).await?;
    if let Some(m) = &m
        && m.status_id.is_none()
    {
        media::delete_in(&mut tx, m.id).await?;
    }
    tx.commit().await?;
    if !inboxes.is_empty() {
        state.delivery_wakeup.notify_one();
    }
    if let Some(m) = m.filter(|m| m.status_id.is_none()) {
        for key in [&m.file_key, &m.preview_key, &m.upload_key]
            .into_iter()
            .flatten()
        {
            if let Err(e) = state.media.delete(key).await {
                tracing::warn!(key, error = %e, "could not delete the file of an expired story");
            }
        }
    }
    Ok(())
}

/// Removes every story expired by now (at most `batch`); returns how many went.
pub async fn expire_due(state: &AppState, batch: i64) -> AppResult<usize> {
    let due = store::expired(&state.db, Utc::now(), batch).await?;
    for row in &due {
        remove(state, row).await?;
    }
    Ok(due.len())
}

/// How often the expiry sweep looks for stories past their time. Reads never show an expired
/// story, so this only bounds how long its files outlive it.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Runs [`expire_due`] forever. The stories table is the schedule: a story that expires while the
/// server is down goes at the first sweep after start.
pub fn spawn_expiry(state: &AppState) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            match expire_due(&state, 100).await {
                Ok(n) if n > 0 => tracing::info!(stories = n, "expired stories removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "story expiry failed"),
            }
            tokio::time::sleep(SWEEP_EVERY).await;
        }
    })
}

// --- Federation ---------------------------------------------------------------------------------

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
const STORY_DOCUMENT_MAX_BYTES: usize = 256 * 1024;

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
        crate::federation::actor::same_origin(&cap.0, &actor_url),
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
        crate::federation::actor::same_origin(&id, &actor_url),
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

/// The `Story` document of a local story, for its author's followers' servers (Pixelfed's shape).
pub async fn document(state: &AppState, row: &StoryRow) -> AppResult<Value> {
    let author = accounts::find_account(&state.db, row.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let m = media::find(&state.db, row.media_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let url = m
        .file_key
        .as_deref()
        .map(|k| state.media.url(k))
        .ok_or(AppError::NotFound)?;
    let kind = if m.r#type == "image" {
        "Image"
    } else {
        "Video"
    };
    let mut attachment = json!({
        "type": kind,
        "url": url,
        "mediaType": m.file_content_type,
    });
    if let Some(w) = m.meta.0.pointer("/original/width") {
        attachment["width"] = w.clone();
    }
    if let Some(h) = m.meta.0.pointer("/original/height") {
        attachment["height"] = h.clone();
    }
    if let Some(k) = &m.preview_key {
        attachment["preview"] =
            json!({ "type": "Image", "mediaType": "image/jpeg", "url": state.media.url(k) });
    }
    if let Some(b) = &m.blurhash {
        attachment["blurhash"] = json!(b);
    }
    Ok(json!({
        "@context": crate::federation::protocol::context(),
        "id": row.uri,
        "type": "Story",
        "to": [format!("{}/followers", author.uri)],
        "cc": [],
        "attributedTo": author.uri,
        "published": row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "expiresAt": row.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "duration": row.duration,
        "can_reply": row.can_reply,
        "can_react": row.can_react,
        "attachment": attachment,
    }))
}

/// Who asks for a story document: the bearer capability given (Pixelfed's fetch), and the actor
/// whose HTTP signature the request carries, if any.
pub struct StoryFetch<'a> {
    pub bearer: Option<&'a str>,
    pub signer: Option<&'a AccountRow>,
}

/// `GET /stories/:username/:id` for ActivityPub: the Story document, for a request carrying the
/// story's bearer capability (sent in the `Add`) or signed by a follower of the author, or by an
/// actor (a server's instance actor) on a server where someone follows the author.
///
/// Errors: 404 for an unknown or expired story, and for anyone else (never revealing which).
pub async fn fetch(
    state: &AppState,
    username: &str,
    id: &str,
    who: StoryFetch<'_>,
) -> AppResult<Value> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = store::find_live(&state.db, id, Utc::now())
        .await?
        .ok_or(AppError::NotFound)?;
    let author = accounts::find_account(&state.db, row.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !author.is_local() || author.username != username {
        return Err(AppError::NotFound);
    }
    let token_ok = match (who.bearer, row.bearer_token.as_deref()) {
        (Some(given), Some(expected)) => {
            crate::service::secrets::constant_time_eq(given.as_bytes(), expected.as_bytes())
        }
        _ => false,
    };
    let signer_ok = match who.signer {
        Some(s) if !s.is_local() => {
            may_see(state, s.id, author.id).await?
                || match &s.domain {
                    Some(d) => {
                        crate::storage::relationships::has_follower_on_domain(
                            &state.db, author.id, d,
                        )
                        .await?
                    }
                    None => false,
                }
        }
        _ => false,
    };
    if !token_ok && !signer_ok {
        return Err(AppError::NotFound);
    }
    document(state, &row).await
}
