//! Cleanup: uploads never posted and cached remote files past their time.

use std::time::Duration;

use chrono::Utc;

use crate::error::AppResult;
use crate::state::AppState;
use crate::storage::media::{self, MediaRow};

use super::*;

/// What a cleanup pass removed.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct PruneReport {
    /// Cached copies of remote media evicted.
    pub evicted: u64,
    /// Unattached uploads (never posted, or left by deleted statuses) deleted.
    pub deleted: u64,
}

/// Evicts cached remote media older than `days` (default `media.remote_cache_days`) and deletes
/// uploads left unattached for a day, files first so nothing is left pointing at a missing file.
pub async fn prune(state: &AppState, days: Option<u32>) -> AppResult<PruneReport> {
    let days = days.unwrap_or(state.config.media.remote_cache_days);
    let before = Utc::now() - chrono::Duration::days(days as i64);
    let mut report = PruneReport::default();
    loop {
        let rows = media::cached_before(&state.db, before, 100).await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            delete_files(state, &r).await?;
            media::mark_uncached(&state.db, r.id).await?;
            report.evicted += 1;
        }
    }
    loop {
        let rows = media::unattached_before(&state.db, Utc::now() - UNATTACHED_TTL, 100).await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            delete_files(state, &r).await?;
            media::delete(&state.db, r.id).await?;
            report.deleted += 1;
        }
    }
    Ok(report)
}

/// Deletes at once the uploads of `account_id` with these IDs that no status holds any more (a
/// status deleted with `delete_media=true`): files first, then rows. Others are left alone.
///
/// Errors: storage errors.
pub async fn delete_detached(state: &AppState, account_id: i64, ids: &[String]) -> AppResult<()> {
    for id in ids {
        let Ok(row) = find_own(state, account_id, id).await else {
            continue;
        };
        if row.status_id.is_some() {
            continue;
        }
        delete_files(state, &row).await?;
        media::delete(&state.db, row.id).await?;
    }
    Ok(())
}

/// `DELETE /api/v1/media/:id` (Mastodon 4.4): deletes one of `account_id`'s uploads, files and
/// row, if nothing uses it.
///
/// Errors: 404 for another's or an unknown ID; 422 while a status, a scheduled status, a profile,
/// a story or an edit's history holds it.
pub async fn delete_unused(state: &AppState, account_id: i64, id: &str) -> AppResult<()> {
    let row = find_own(state, account_id, id).await?;
    if row.status_id.is_some() || media::in_use(&state.db, row.id).await? {
        return Err(crate::error::AppError::unprocessable(
            "Media attachment is currently used by a status",
        ));
    }
    delete_files(state, &row).await?;
    media::delete(&state.db, row.id).await?;
    Ok(())
}

pub(super) async fn delete_files(state: &AppState, r: &MediaRow) -> AppResult<()> {
    for key in [&r.file_key, &r.preview_key, &r.upload_key]
        .into_iter()
        .flatten()
    {
        state.media.delete(key).await?;
    }
    Ok(())
}

/// Runs [`prune`] every hour, on one node of the cluster at a time (`jobs::singleton`).
pub fn spawn_pruner(state: &AppState) -> tokio::task::JoinHandle<()> {
    let s = state.clone();
    crate::jobs::singleton::spawn_periodic(
        state.db.clone(),
        "media_prune",
        Duration::from_secs(3600),
        move || {
            let state = s.clone();
            async move {
                match prune(&state, None).await {
                    Ok(r) if r.evicted + r.deleted > 0 => {
                        tracing::info!(evicted = r.evicted, deleted = r.deleted, "media pruned")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = ?e, "media pruning failed"),
                }
            }
        },
    )
}
