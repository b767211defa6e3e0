//! Media attachments (docs.joinmastodon.org/methods/media/): uploads checked and processed, videos
//! transcoded as durable jobs, attachments put on statuses, remote attachments kept by reference
//! and cached on first view, avatars and headers, and the cleanup of what is no longer needed.
//!
//! One file per concern: `upload` (checks, classification, processing, description), `attachments`
//! (on statuses, as entities and ActivityPub documents, remote ones by reference), `transcode` (the
//! durable jobs and their workers), `remote` (the proxy and caching on first view), `prune`
//! (cleanup), `profile_images` (avatars and headers). This file: the job names and limits the
//! others share, errors as API errors, and finding a user's own attachment.

mod attachments;
mod profile_images;
mod prune;
mod remote;
mod transcode;
mod upload;

pub use attachments::*;
pub use profile_images::*;
pub use prune::*;
pub use remote::*;
pub use transcode::*;
pub use upload::*;

use crate::api_types::media::MediaAttachment;
use crate::error::{AppError, AppResult};
use crate::media::MediaError;
use crate::state::AppState;
use crate::storage::media;

pub use crate::storage::media::MediaRow;

/// Job kind that transcodes one upload (`{"media_id": id}`).
pub const PROCESS_JOB: &str = "media.process";
/// Job kind caching a remote attachment when its post arrives (`media.remote_prefetch`).
pub const PREFETCH_JOB: &str = "media.prefetch";
/// Longest alt text, in characters.
pub const DESCRIPTION_MAX: usize = 1500;
/// Attempts at transcoding one upload before it is marked failed.
const MAX_ATTEMPTS: i64 = 3;
/// Unattached uploads are deleted after this long.
const UNATTACHED_TTL: chrono::Duration = chrono::Duration::hours(24);

fn invalid(e: MediaError) -> AppError {
    match e {
        MediaError::Invalid(m) => AppError::unprocessable(format!("Validation failed: File {m}")),
        MediaError::Failed(m) => AppError::unprocessable(format!(
            "Validation failed: File could not be processed ({m})"
        )),
        MediaError::Internal(m) => AppError::Internal(anyhow::anyhow!(m)),
    }
}

/// A scratch folder under `media.dir/tmp`, removed when dropped.
pub(crate) fn scratch_dir(state: &AppState) -> AppResult<tempfile::TempDir> {
    let base = std::path::Path::new(&state.config.media.dir).join("tmp");
    std::fs::create_dir_all(&base).map_err(|e| AppError::Internal(e.into()))?;
    tempfile::Builder::new()
        .prefix("media-")
        .tempdir_in(base)
        .map_err(|e| AppError::Internal(e.into()))
}

/// One of `account_id`'s own attachments. Errors: 404 for another's or an unknown ID.
pub async fn find_own(state: &AppState, account_id: i64, id: &str) -> AppResult<MediaRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    media::find(&state.db, id)
        .await?
        .filter(|m| m.account_id == account_id)
        .ok_or(AppError::NotFound)
}

pub fn entity(state: &AppState, row: &MediaRow) -> MediaAttachment {
    MediaAttachment::from_row(row, &state.media, &state.config.base_url())
}

fn internal(e: impl std::fmt::Display) -> MediaError {
    MediaError::Internal(e.to_string())
}
