//! The client API of stories: posting, the tray, showing, seeing, viewers, replies, reactions,
//! deleting.

use chrono::Utc;

use crate::api_types::story::{Story, StoryTrayEntry, StoryViewer};
use crate::error::{AppError, AppResult};
use crate::service::activitypub::context::FedData;
use crate::service::oauth::CurrentUser;
use crate::service::{notifications, render};
use crate::state::AppState;
use crate::storage::accounts::{self};
use crate::storage::ids;
use crate::storage::notifications::About;
use crate::storage::relationships::{self};
use crate::storage::stories::{self as store, StoryRow};

use super::*;

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
        crate::service::activitypub::keys::public_key_pem(state, &user.account).await?;
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
        let view = crate::federation::objects::view_story(
            &user.account.uri,
            &author.uri,
            row.id,
            &row.uri,
        );
        send_to(state, &user.account, &view, &author).await?;
    }
    render_one(state, Some(user.account.id), row).await
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
pub(super) fn valid_emoji(e: &str) -> bool {
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
        let react = crate::federation::objects::react_to_story(
            &user.account.uri,
            &author.uri,
            row.id,
            ids::new_id(),
            &row.uri,
            emoji,
        );
        send_to(state, &user.account, &react, &author).await?;
    }
    Ok(())
}

/// Notifies the author of `story` (when local) of a `story_reply` or `story_reaction` by `from`.
/// Rookery's own types are never streamed (see `notifications::EXTENSION_TYPES`).
pub(super) async fn notify(
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
