//! What we send about our stories: the `Add` to followers, activities to one server, the `Story`
//! document and who may fetch it.

use chrono::Utc;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::realtime::{Event, StreamKey};
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::media::{self};
use crate::storage::stories::{self as store, StoryRow};

use super::*;

/// Pixelfed's `Add` of a story, to the author's followers (`federation::objects::story_add`).
pub(super) fn add_activity(author: &AccountRow, s: &StoryRow) -> Value {
    crate::federation::objects::story_add(
        &author.uri,
        &s.uri,
        s.bearer_token.as_deref().unwrap_or_default(),
    )
}

/// Streams `story` (the Story entity) to the author's local followers, and to the author. A new
/// story is unseen by everyone, so it is rendered once for all of them.
pub(super) async fn publish(state: &AppState, row: &StoryRow) {
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

/// Queues `activity` from a local account to a remote account's inbox, in a transaction of its own.
pub(super) async fn send_to(
    state: &AppState,
    from: &AccountRow,
    activity: &Value,
    to: &AccountRow,
) -> AppResult<()> {
    crate::service::activitypub::keys::public_key_pem(state, from).await?;
    let mut tx = state.db.begin().await?;
    crate::service::relationships::send_to(&mut tx, activity, from.id, to).await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
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
    let media = crate::federation::objects::StoryMedia {
        image: m.r#type == "image",
        url,
        media_type: m.file_content_type.clone(),
        width: m.meta.0.pointer("/original/width").cloned(),
        height: m.meta.0.pointer("/original/height").cloned(),
        preview_url: m.preview_key.as_deref().map(|k| state.media.url(k)),
        blurhash: m.blurhash.clone(),
    };
    Ok(crate::federation::objects::story(&author.uri, row, &media))
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
