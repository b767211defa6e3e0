//! Removing a story (by its author or at expiry) and the sweeper that expires them.

use std::time::Duration;

use chrono::Utc;

use crate::error::AppResult;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::media::{self};
use crate::storage::relationships::{self};
use crate::storage::stories::{self as store, StoryRow};

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
        let delete = crate::federation::objects::delete_story(&author.uri, &row.uri);
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

/// Runs [`expire_due`] every [`SWEEP_EVERY`] on one node of the cluster at a time
/// (`jobs::singleton`). The stories table is the schedule: a story that expires while the server
/// is down goes at the first sweep after start.
pub fn spawn_expiry(state: &AppState) -> tokio::task::JoinHandle<()> {
    let s = state.clone();
    crate::jobs::singleton::spawn_periodic(
        state.db.clone(),
        "story_expiry",
        SWEEP_EVERY,
        move || {
            let state = s.clone();
            async move {
                match expire_due(&state, 100).await {
                    Ok(n) if n > 0 => tracing::info!(stories = n, "expired stories removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = ?e, "story expiry failed"),
                }
            }
        },
    )
}

// --- Federation ---------------------------------------------------------------------------------
