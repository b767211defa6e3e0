//! Uploads (`POST /api/v2/media`): checked, classified, images processed at once, videos queued;
//! description and focus changes.

use std::time::Duration;

use bytes::Bytes;
use serde_json::json;

use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::jobs::{self};
use crate::media::image;
use crate::media::sniff::{self, Format};
use crate::media::video::{self, Target};
use crate::state::AppState;
use crate::storage::ids;
use crate::storage::media::{self, MediaRow, NewMedia};

use super::*;

/// An uploaded file and its attributes, as the client sent them.
pub struct Upload {
    pub bytes: Bytes,
    pub content_type: Option<String>,
    pub file_name: Option<String>,
    pub description: Option<String>,
    /// `"x,y"`, each from -1 to 1.
    pub focus: Option<String>,
}

pub(super) fn parse_focus(focus: Option<&str>) -> AppResult<Option<(f64, f64)>> {
    let Some(f) = focus.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let bad = || AppError::unprocessable("focus must be two numbers from -1.0 to 1.0, as \"x,y\"");
    let (x, y) = f.split_once(',').ok_or_else(bad)?;
    let (x, y): (f64, f64) = (
        x.trim().parse().map_err(|_| bad())?,
        y.trim().parse().map_err(|_| bad())?,
    );
    if !(-1.0..=1.0).contains(&x) || !(-1.0..=1.0).contains(&y) {
        return Err(bad());
    }
    Ok(Some((x, y)))
}

pub(super) fn check_description(d: Option<&str>) -> AppResult<String> {
    let d = d.unwrap_or("").trim();
    if d.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Description is too long (maximum is {DESCRIPTION_MAX} characters)"
        )));
    }
    Ok(d.to_string())
}

/// What an upload is, after sniffing and the declared-type check.
pub(super) enum Kind {
    Still(Format),
    Moving(Format, Target),
}

/// Sniffs `u` and checks its declared type and size. Errors: 422 with the reason.
pub(super) fn classify(cfg: &Config, u: &Upload) -> AppResult<Kind> {
    if u.bytes.is_empty() {
        return Err(AppError::unprocessable("Validation failed: File is empty"));
    }
    let format = sniff::sniff(&u.bytes[..u.bytes.len().min(64)]).ok_or_else(|| {
        AppError::unprocessable(
            "Validation failed: File is not a supported image (JPEG, PNG, GIF, WebP), video or audio file",
        )
    })?;
    sniff::check_declared(format, u.content_type.as_deref(), u.file_name.as_deref())
        .map_err(|m| AppError::unprocessable(format!("Validation failed: {m}")))?;
    let animated = format == Format::Gif && sniff::gif_frames(&u.bytes) > 1;
    let size = u.bytes.len() as u64;
    if format.is_image() && !animated {
        if size > cfg.media.image_max_bytes {
            return Err(too_big(size, cfg.media.image_max_bytes));
        }
        return Ok(Kind::Still(format));
    }
    if size > cfg.media.video_max_bytes {
        return Err(too_big(size, cfg.media.video_max_bytes));
    }
    if animated {
        // A GIF is checked for glued-on files like any image before ffmpeg reads it.
        let end = sniff::image_end(format, &u.bytes).ok_or_else(|| {
            AppError::unprocessable(
                "Validation failed: File is a GIF image that is cut short or corrupt",
            )
        })?;
        if !sniff::trailing_is_harmless(format, &u.bytes[end..]) {
            return Err(AppError::unprocessable(
                "Validation failed: File is a GIF image with another file appended",
            ));
        }
        return Ok(Kind::Moving(format, Target::Gifv));
    }
    // Video or audio: ffprobe decides once the file is on disk.
    Ok(Kind::Moving(format, Target::Video))
}

pub(super) fn too_big(size: u64, max: u64) -> AppError {
    AppError::unprocessable(format!(
        "Validation failed: File is {:.1} MB; at most {:.1} MB is accepted",
        size as f64 / 1_048_576.0,
        max as f64 / 1_048_576.0
    ))
}

/// Stores an upload for `account_id`. Still images are processed at once (the row is `ready`);
/// video, audio and animated GIFs are checked with ffprobe, then queued for transcoding (the row
/// is `processing`).
///
/// Errors: 422 for an empty, unknown, mislabelled, corrupt, oversized, too long or too large file,
/// a description over 1500 characters or a malformed focus.
pub async fn upload(state: &AppState, account_id: i64, u: Upload) -> AppResult<MediaRow> {
    let description = check_description(u.description.as_deref())?;
    let focus = parse_focus(u.focus.as_deref())?.unwrap_or((0.0, 0.0));
    let id = ids::new_id();
    match classify(&state.config, &u)? {
        Kind::Still(format) => {
            let max = state.config.media.image_max_pixels;
            let bytes = u.bytes.clone();
            let processed =
                tokio::task::spawn_blocking(move || image::process(&bytes, format, max))
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?
                    .map_err(invalid)?;
            let (file_key, preview_key) = store_image(state, "attachments", id, &processed).await?;
            let new = NewMedia {
                id,
                account_id,
                r#type: "image".into(),
                state: "ready".into(),
                file_key: Some(file_key),
                file_content_type: Some(processed.original.content_type.into()),
                file_size: Some(processed.original.bytes.len() as i64),
                preview_key: Some(preview_key),
                description,
                focus,
                blurhash: Some(processed.blurhash.clone()),
                meta: processed.meta(),
                ..NewMedia::default()
            };
            let mut tx = state.db.begin().await?;
            media::insert(&mut tx, &new).await?;
            tx.commit().await?;
        }
        Kind::Moving(_, target) => {
            let scratch = scratch_dir(state)?;
            let input = scratch.path().join("upload");
            tokio::fs::write(&input, &u.bytes)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            let probe = video::probe(&input).await.map_err(invalid)?;
            let limits = video::Limits {
                max_seconds: state.config.media.video_max_seconds,
                max_pixels: state.config.media.video_max_pixels,
                max_fps: state.config.media.video_max_fps,
            };
            video::check(&probe, limits)
                .map_err(|m| AppError::unprocessable(format!("Validation failed: {m}")))?;
            let (target, kind) = match target {
                Target::Gifv => (Target::Gifv, "gifv"),
                _ if probe.video.is_some() => (Target::Video, "video"),
                _ => (Target::Audio, "audio"),
            };
            let upload_key = format!("uploads/{id}");
            state
                .media
                .put(&upload_key, u.bytes.clone(), "application/octet-stream")
                .await?;
            let new = NewMedia {
                id,
                account_id,
                r#type: kind.into(),
                state: "processing".into(),
                upload_key: Some(upload_key),
                description,
                focus,
                meta: json!({ "target": format!("{target:?}").to_lowercase() }),
                ..NewMedia::default()
            };
            let mut tx = state.db.begin().await?;
            media::insert(&mut tx, &new).await?;
            jobs::enqueue(&mut tx, PROCESS_JOB, &json!({ "media_id": id })).await?;
            tx.commit().await?;
            state.jobs_wakeup.notify_one();
        }
    }
    media::find(&state.db, id).await?.ok_or(AppError::NotFound)
}

/// Stores a processed image as `{prefix}/{id}/original.ext` and `…/small.ext`.
pub(super) async fn store_image(
    state: &AppState,
    prefix: &str,
    id: i64,
    p: &image::Processed,
) -> AppResult<(String, String)> {
    let file_key = format!("{prefix}/{id}/original.{}", p.original.extension);
    let preview_key = format!("{prefix}/{id}/small.{}", p.small.extension);
    state
        .media
        .put(&file_key, p.original.bytes.clone(), p.original.content_type)
        .await?;
    state
        .media
        .put(&preview_key, p.small.bytes.clone(), p.small.content_type)
        .await?;
    Ok((file_key, preview_key))
}

/// Waits (up to `limit`) until a processing attachment is ready or failed, for the synchronous
/// `POST /api/v1/media`.
pub async fn wait_processed(state: &AppState, id: i64, limit: Duration) -> AppResult<MediaRow> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let notified = state.media_done.notified();
        let row = media::find(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if row.state != "processing" || tokio::time::Instant::now() >= deadline {
            return Ok(row);
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
    }
}

/// Sets description and focus (`PUT /api/v1/media/:id`). Errors: 404, or 422 as for uploads.
pub async fn update(
    state: &AppState,
    account_id: i64,
    id: &str,
    description: Option<String>,
    focus: Option<String>,
) -> AppResult<MediaRow> {
    let row = find_own(state, account_id, id).await?;
    let description = match description {
        Some(d) => check_description(Some(&d))?,
        None => row.description.clone(),
    };
    let focus = parse_focus(focus.as_deref())?.unwrap_or((row.focus_x, row.focus_y));
    media::update_description(&state.db, row.id, &description, focus).await?;
    media::find(&state.db, row.id)
        .await?
        .ok_or(AppError::NotFound)
}
