//! Media attachments (docs.joinmastodon.org/methods/media/): uploads checked and processed, videos
//! transcoded as durable jobs, attachments put on statuses, remote attachments kept by reference
//! and cached on first view, avatars and headers, and the cleanup of what is no longer needed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use serde_json::json;

use crate::api_types::media::MediaAttachment;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::federation::protocol::note::Attachment;
use crate::jobs::{self, Job, Outcome};
use crate::media::sniff::{self, Format};
use crate::media::video::{self, Target};
use crate::media::{MediaError, image};
use crate::state::AppState;
use crate::storage::media::{self, MediaRow, NewMedia, ProfileImage};
use crate::storage::{Tx, ids};

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

/// An uploaded file and its attributes, as the client sent them.
pub struct Upload {
    pub bytes: Bytes,
    pub content_type: Option<String>,
    pub file_name: Option<String>,
    pub description: Option<String>,
    /// `"x,y"`, each from -1 to 1.
    pub focus: Option<String>,
}

fn parse_focus(focus: Option<&str>) -> AppResult<Option<(f64, f64)>> {
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

fn check_description(d: Option<&str>) -> AppResult<String> {
    let d = d.unwrap_or("").trim();
    if d.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Description is too long (maximum is {DESCRIPTION_MAX} characters)"
        )));
    }
    Ok(d.to_string())
}

fn invalid(e: MediaError) -> AppError {
    match e {
        MediaError::Invalid(m) => AppError::unprocessable(format!("Validation failed: File {m}")),
        MediaError::Failed(m) => AppError::unprocessable(format!(
            "Validation failed: File could not be processed ({m})"
        )),
        MediaError::Internal(m) => AppError::Internal(anyhow::anyhow!(m)),
    }
}

/// What an upload is, after sniffing and the declared-type check.
enum Kind {
    Still(Format),
    Moving(Format, Target),
}

/// Sniffs `u` and checks its declared type and size. Errors: 422 with the reason.
fn classify(cfg: &Config, u: &Upload) -> AppResult<Kind> {
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

fn too_big(size: u64, max: u64) -> AppError {
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

/// A scratch folder under `media.dir/tmp`, removed when dropped.
fn scratch_dir(state: &AppState) -> AppResult<tempfile::TempDir> {
    let base = std::path::Path::new(&state.config.media.dir).join("tmp");
    std::fs::create_dir_all(&base).map_err(|e| AppError::Internal(e.into()))?;
    tempfile::Builder::new()
        .prefix("media-")
        .tempdir_in(base)
        .map_err(|e| AppError::Internal(e.into()))
}

/// Stores a processed image as `{prefix}/{id}/original.ext` and `…/small.ext`.
async fn store_image(
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

/// One of `account_id`'s own attachments. Errors: 404 for another's or an unknown ID.
pub async fn find_own(state: &AppState, account_id: i64, id: &str) -> AppResult<MediaRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    media::find(&state.db, id)
        .await?
        .filter(|m| m.account_id == account_id)
        .ok_or(AppError::NotFound)
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

pub fn entity(state: &AppState, row: &MediaRow) -> MediaAttachment {
    MediaAttachment::from_row(row, &state.media, &state.config.base_url())
}

/// The attachments of each status, rendered, in order.
pub async fn of_statuses(
    state: &AppState,
    status_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<MediaAttachment>>> {
    let mut out: HashMap<i64, Vec<MediaAttachment>> = HashMap::new();
    for row in media::of_statuses(&state.db, status_ids).await? {
        if let Some(sid) = row.status_id {
            out.entry(sid).or_default().push(entity(state, &row));
        }
    }
    Ok(out)
}

/// Checks `media_ids` for a status by `account_id` (`status_id`: the status being edited) and
/// returns them in the order given.
///
/// Errors: 422 for more than `instance.max_media_attachments`, an ID that is not the author's,
/// one still processing or failed, or one already on another status.
pub async fn for_status(
    state: &AppState,
    account_id: i64,
    media_ids: &[String],
    status_id: Option<i64>,
) -> AppResult<Vec<MediaRow>> {
    let max = state.config.instance.max_media_attachments as usize;
    if media_ids.len() > max {
        return Err(AppError::unprocessable(format!(
            "Validation failed: At most {max} media attachments are allowed"
        )));
    }
    let mut ids_in_order = Vec::new();
    for s in media_ids {
        let id: i64 = s.trim().parse().map_err(|_| {
            AppError::unprocessable(format!("Validation failed: Unknown media attachment {s:?}"))
        })?;
        if !ids_in_order.contains(&id) {
            ids_in_order.push(id);
        }
    }
    let found = media::find_many(&state.db, &ids_in_order).await?;
    let mut out = Vec::new();
    for id in ids_in_order {
        let Some(row) = found
            .iter()
            .find(|m| m.id == id && m.account_id == account_id)
        else {
            return Err(AppError::unprocessable(format!(
                "Validation failed: Unknown media attachment {id}"
            )));
        };
        match row.state.as_str() {
            "processing" => {
                return Err(AppError::unprocessable(
                    "Cannot attach files that have not finished processing. Try again in a moment!",
                ));
            }
            "failed" => {
                return Err(AppError::unprocessable(format!(
                    "Validation failed: Media attachment {id} could not be processed"
                )));
            }
            _ => {}
        }
        if row.status_id.is_some() && row.status_id != status_id {
            return Err(AppError::unprocessable(format!(
                "Validation failed: Media attachment {id} is already attached to another status"
            )));
        }
        out.push(row.clone());
    }
    Ok(out)
}

/// Attachments as sent in a Note: Mastodon's `Document` with media type, URL, alt text, blurhash,
/// size and focal point (docs/FEDERATION.md).
pub fn ap_attachments(state: &AppState, rows: &[MediaRow]) -> Vec<Attachment> {
    rows.iter()
        .filter_map(|m| {
            let url = m
                .file_key
                .as_deref()
                .map(|k| state.media.url(k))
                .or_else(|| m.remote_url.clone())?;
            let original = m.meta.0.get("original");
            let dim = |k: &str| original.and_then(|o| o.get(k)).and_then(|v| v.as_u64()).map(|v| v as u32);
            Some(Attachment {
                kind: "Document".into(),
                media_type: m.file_content_type.clone(),
                url: url::Url::parse(&url).ok()?,
                name: (!m.description.is_empty()).then(|| m.description.clone()),
                blurhash: m.blurhash.clone(),
                width: dim("width"),
                height: dim("height"),
                focal_point: (m.r#type == "image").then_some([m.focus_x, m.focus_y]),
                // Video and audio carry their poster, as Loops and PeerTube send it.
                preview: m
                    .preview_key
                    .as_deref()
                    .filter(|_| m.r#type != "image")
                    .map(|k| json!({ "type": "Image", "mediaType": "image/jpeg", "url": state.media.url(k) })),
            })
        })
        .collect()
}

/// Rows for the attachments of a remote Note (stored by reference, at most
/// `instance.max_media_attachments`; unknown media types become `unknown`).
pub fn remote_rows(cfg: &Config, account_id: i64, attachments: &[Attachment]) -> Vec<NewMedia> {
    attachments
        .iter()
        .filter(|a| matches!(a.url.scheme(), "https" | "http"))
        .take(cfg.instance.max_media_attachments as usize)
        .enumerate()
        .map(|(i, a)| {
            let media_type = a.media_type.as_deref().unwrap_or("").to_ascii_lowercase();
            let kind = match (a.kind.as_str(), media_type.split('/').next().unwrap_or("")) {
                // A GIF (Pleroma, Misskey) is shown as an image; Mastodon sends its gifv as MP4.
                (_, "image") | ("Image", "") => "image",
                (_, "video") | ("Video", "") => "video",
                (_, "audio") | ("Audio", "") => "audio",
                _ => "unknown",
            };
            let (w, h) = (a.width.unwrap_or(0), a.height.unwrap_or(0));
            let meta = if w > 0 && h > 0 && w <= 100_000 && h <= 100_000 {
                json!({ "original": image::size_meta(w, h) })
            } else {
                json!({})
            };
            let focus = a
                .focal_point
                .filter(|[x, y]| (-1.0..=1.0).contains(x) && (-1.0..=1.0).contains(y))
                .map_or((0.0, 0.0), |[x, y]| (x, y));
            NewMedia {
                id: ids::new_id(),
                account_id,
                position: i as i64,
                r#type: kind.into(),
                state: "ready".into(),
                remote_url: Some(a.url.to_string()),
                remote_preview_url: a.preview_url().map(|u| u.to_string()),
                description: a
                    .name
                    .as_deref()
                    .map(|n| n.chars().take(DESCRIPTION_MAX).collect())
                    .unwrap_or_default(),
                focus,
                blurhash: a.blurhash.clone().filter(|b| image::valid_blurhash(b)),
                file_content_type: Some(media_type).filter(|t| !t.is_empty()),
                meta,
                ..NewMedia::default()
            }
        })
        .collect()
}

/// Inserts remote attachments for `status_id` (in its transaction), with a `media.prefetch` job
/// for each when `prefetch` (`media.remote_prefetch`).
pub async fn insert_remote(
    tx: &mut Tx,
    status_id: i64,
    rows: &[NewMedia],
    prefetch: bool,
) -> AppResult<()> {
    for r in rows {
        let mut r = r.clone();
        r.status_id = Some(status_id);
        media::insert(tx, &r).await?;
        if prefetch {
            jobs::enqueue(tx, PREFETCH_JOB, &json!({ "media_id": r.id })).await?;
        }
    }
    if !rows.is_empty() {
        media::attach_flag(tx, status_id, true).await?;
    }
    Ok(())
}

/// The `media.process` job: transcodes one upload, stores the file and its poster, and marks the
/// attachment ready (or failed when ffmpeg refuses the file).
pub async fn process_job(state: AppState, job: Job) -> Outcome {
    let Some(id) = job.payload.0.get("media_id").and_then(|v| v.as_i64()) else {
        return Outcome::Done;
    };
    let outcome = match transcode_one(&state, id).await {
        Ok(()) => Outcome::Done,
        Err(MediaError::Invalid(m)) | Err(MediaError::Failed(m)) => {
            tracing::info!(media = id, reason = %m, "upload could not be transcoded");
            fail(&state, id, "The file could not be transcoded").await;
            Outcome::Done
        }
        Err(MediaError::Internal(m)) => Outcome::Retry(m),
    };
    state.media_done.notify_waiters();
    outcome
}

/// The `media.prefetch` job: caches one remote attachment before anyone views it. A file that is
/// not what it claims is left uncached (a view will try again and fail the same way); network and
/// storage failures are retried.
pub async fn prefetch_job(state: AppState, job: Job) -> Outcome {
    let Some(id) = job.payload.0.get("media_id").and_then(|v| v.as_i64()) else {
        return Outcome::Done;
    };
    let row = match media::find(&state.db, id).await {
        Ok(Some(row)) => row,
        Ok(None) => return Outcome::Done,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    if row.file_key.is_some() {
        return Outcome::Done;
    }
    match cache_remote(&state, &row).await {
        Ok(_) => Outcome::Done,
        Err(MediaError::Invalid(m)) | Err(MediaError::Failed(m)) => {
            tracing::info!(media = id, reason = %m, "remote media not prefetched");
            Outcome::Done
        }
        Err(MediaError::Internal(m)) => Outcome::Retry(m),
    }
}

/// Called when transcoding is given up after retries.
pub async fn give_up(state: AppState, job: Job, error: String) {
    if let Some(id) = job.payload.0.get("media_id").and_then(|v| v.as_i64()) {
        tracing::warn!(media = id, %error, "transcoding given up");
        fail(&state, id, "The file could not be processed").await;
    }
    state.media_done.notify_waiters();
}

async fn fail(state: &AppState, id: i64, message: &str) {
    if let Ok(Some(row)) = media::find(&state.db, id).await
        && let Some(key) = &row.upload_key
        && let Err(e) = state.media.delete(key).await
    {
        tracing::warn!(error = ?e, "could not delete an upload");
    }
    if let Err(e) = media::mark_failed(&state.db, id, message).await {
        tracing::error!(error = ?e, "could not mark an upload failed");
    }
}

fn internal(e: impl std::fmt::Display) -> MediaError {
    MediaError::Internal(e.to_string())
}

async fn transcode_one(state: &AppState, id: i64) -> Result<(), MediaError> {
    let Some(row) = media::find(&state.db, id).await.map_err(internal)? else {
        return Ok(());
    };
    let Some(upload_key) = row.upload_key.clone().filter(|_| row.state == "processing") else {
        return Ok(());
    };
    let scratch = scratch_dir(state).map_err(internal)?;
    let input = scratch.path().join("input");
    state
        .media
        .download(&upload_key, &input)
        .await
        .map_err(internal)?;
    let probe = video::probe(&input).await?;
    let target = match row.r#type.as_str() {
        "gifv" => Target::Gifv,
        "audio" => Target::Audio,
        _ => Target::Video,
    };
    let (ext, content_type) = match target {
        Target::Audio => ("mp3", "audio/mpeg"),
        _ => ("mp4", "video/mp4"),
    };
    let output = scratch.path().join(format!("original.{ext}"));
    let progress = Arc::new(AtomicU64::new(0));
    let reporter = {
        let (db, progress) = (state.db.clone(), progress.clone());
        tokio::spawn(async move {
            let mut last = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let now = progress.load(Ordering::Relaxed);
                if now != last {
                    last = now;
                    let _ = media::set_progress(&db, id, now as f64 / 1000.0).await;
                }
            }
        })
    };
    let p = progress.clone();
    let result = video::transcode(&input, &output, &probe, target, move |f| {
        p.store((f * 1000.0) as u64, Ordering::Relaxed);
    })
    .await;
    reporter.abort();
    result?;
    let out_probe = video::probe(&output).await?;
    let file_key = format!("attachments/{id}/original.{ext}");
    let size = tokio::fs::metadata(&output).await.map_err(internal)?.len() as i64;
    let (preview_key, blurhash, meta) = if target == Target::Audio {
        (None, None, video::audio_meta(&out_probe))
    } else {
        let (key, small, hash) = store_poster(
            state,
            &output,
            out_probe.duration,
            scratch.path(),
            &format!("attachments/{id}"),
        )
        .await?;
        (
            Some(key),
            Some(hash),
            video::video_meta(&out_probe, Some(small)),
        )
    };
    state
        .media
        .put_file(&file_key, &output, content_type)
        .await
        .map_err(internal)?;
    media::mark_ready(
        &state.db,
        id,
        &media::Processed {
            r#type: row.r#type.clone(),
            file_key,
            file_content_type: content_type.into(),
            file_size: size,
            preview_key,
            blurhash,
            meta,
        },
    )
    .await
    .map_err(internal)?;
    state.media.delete(&upload_key).await.map_err(internal)?;
    Ok(())
}

/// Starts the transcoding workers (`media.transcode_concurrency` at a time).
pub fn spawn_workers(state: &AppState) -> tokio::task::JoinHandle<()> {
    let (s1, s2, s3) = (state.clone(), state.clone(), state.clone());
    let process = jobs::run_worker(
        state.db.clone(),
        PROCESS_JOB,
        state.config.media.transcode_concurrency,
        MAX_ATTEMPTS,
        state.jobs_wakeup.clone(),
        move |job| process_job(s1.clone(), job),
        move |job, e| give_up(s2.clone(), job, e),
    );
    // Prefetching is not urgent: its worker finds new jobs by polling, and only runs (and polls)
    // when `media.remote_prefetch` is on.
    let prefetch = state.config.media.remote_prefetch.then(|| {
        jobs::run_worker(
            state.db.clone(),
            PREFETCH_JOB,
            2,
            MAX_ATTEMPTS,
            Arc::new(tokio::sync::Notify::new()),
            move |job| prefetch_job(s3.clone(), job),
            |_, _| async {},
        )
    });
    tokio::spawn(async move {
        match prefetch {
            Some(prefetch) => {
                tokio::join!(process, prefetch);
            }
            None => process.await,
        }
    })
}

/// Reads a remote file of at most `max` bytes. `None` when it is larger (or says so).
pub(crate) async fn fetch_limited(
    state: &AppState,
    url: &str,
    max: u64,
) -> Result<Option<(Bytes, Option<String>)>, MediaError> {
    let parsed = url::Url::parse(url).map_err(|e| MediaError::Invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "https" | "http")
        || (parsed.scheme() == "http" && !state.config.allow_http())
        || state.egress.check_url(&parsed).is_err()
    {
        return Err(MediaError::Invalid(format!("{url} may not be fetched")));
    }
    let res = state.http_client.get(parsed).send().await.map_err(|e| {
        if crate::net::is_refused(&e) {
            MediaError::Invalid(format!("{url} may not be fetched: {e}"))
        } else {
            internal(e)
        }
    })?;
    if !res.status().is_success() {
        return Err(MediaError::Invalid(format!(
            "{url} answered {}",
            res.status()
        )));
    }
    let content_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.to_string());
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    match crate::net::read_limited(res, max).await {
        Ok(body) => Ok(Some((body, content_type))),
        Err(e) if e.is::<crate::net::TooLarge>() => Ok(None),
        Err(e) => Err(internal(e)),
    }
}

/// For `GET /media_proxy/:id/:variant` (`original` or `small`): the URL to send the viewer to.
/// A remote file not cached yet is fetched (size-limited, content checked: it must be the kind of
/// media it claims), stripped and stored first; one too large to cache is shown from its origin.
///
/// Errors: 404 for an unknown attachment or variant, or a remote file that cannot be fetched or is
/// not what it claims to be.
pub async fn proxy(state: &AppState, id: &str, variant: &str) -> AppResult<String> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = media::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(remote_url) = row.remote_url.clone() else {
        return Err(AppError::NotFound);
    };
    let pick = |r: &MediaRow| -> Option<String> {
        match variant {
            "original" => r.file_key.as_deref().map(|k| state.media.url(k)),
            "small" => r.preview_key.as_deref().map(|k| state.media.url(k)),
            _ => None,
        }
    };
    if !matches!(variant, "original" | "small") {
        return Err(AppError::NotFound);
    }
    if let Some(url) = pick(&row) {
        return Ok(url);
    }
    match cache_remote(state, &row).await {
        Ok(true) => {}
        Ok(false) => return Ok(remote_url),
        Err(e) => {
            tracing::info!(media = id, error = %e, "remote media not cached");
            return Err(AppError::NotFound);
        }
    }
    let row = media::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    pick(&row)
        .or_else(|| {
            (variant == "small")
                .then(|| row.remote_preview_url.clone())
                .flatten()
        })
        .ok_or(AppError::NotFound)
}

/// Fetches and stores a remote attachment here. `Ok(false)`: too large to cache.
pub async fn cache_remote(state: &AppState, row: &MediaRow) -> Result<bool, MediaError> {
    let Some(remote_url) = &row.remote_url else {
        return Ok(true);
    };
    let max = state.config.media.remote_max_bytes;
    let Some((bytes, content_type)) = fetch_limited(state, remote_url, max).await? else {
        return Ok(false);
    };
    let format = sniff::sniff(&bytes[..bytes.len().min(64)])
        .ok_or_else(|| MediaError::Invalid("not a supported media file".into()))?;
    sniff::check_declared(format, content_type.as_deref(), None).map_err(MediaError::Invalid)?;
    // The content must be the kind of media the attachment was declared as.
    let fits = match row.r#type.as_str() {
        "image" => format.is_image(),
        "gifv" => format == Format::Gif || !format.is_image(),
        _ => !format.is_image(),
    };
    if !fits {
        return Err(MediaError::Invalid(format!(
            "declared as {} but is {}",
            row.r#type,
            format.name()
        )));
    }
    if format == Format::Gif && sniff::gif_frames(&bytes) > 1 {
        // An animation is kept as sent (GIFs carry no EXIF); re-encoding would keep one frame.
        let end = sniff::image_end(format, &bytes)
            .ok_or_else(|| MediaError::Invalid("a GIF cut short".into()))?;
        if !sniff::trailing_is_harmless(format, &bytes[end..]) {
            return Err(MediaError::Invalid(
                "a GIF with another file appended".into(),
            ));
        }
        let max_pixels = state.config.media.image_max_pixels;
        let first = bytes.clone();
        let processed =
            tokio::task::spawn_blocking(move || image::process(&first, format, max_pixels))
                .await
                .map_err(internal)??;
        let file_key = format!("cache/{}/original.gif", row.id);
        let preview_key = format!("cache/{}/small.{}", row.id, processed.small.extension);
        let size = bytes.len() as i64;
        state
            .media
            .put(&file_key, bytes.to_vec(), "image/gif")
            .await
            .map_err(internal)?;
        state
            .media
            .put(
                &preview_key,
                processed.small.bytes.clone(),
                processed.small.content_type,
            )
            .await
            .map_err(internal)?;
        let meta = processed.meta();
        media::mark_cached(
            &state.db,
            row.id,
            &file_key,
            "image/gif",
            size,
            Some(&preview_key),
            Some(&meta),
        )
        .await
        .map_err(internal)?;
    } else if format.is_image() {
        let max_pixels = state.config.media.image_max_pixels;
        let processed =
            tokio::task::spawn_blocking(move || image::process(&bytes, format, max_pixels))
                .await
                .map_err(internal)??;
        let (file_key, preview_key) = store_image(state, "cache", row.id, &processed)
            .await
            .map_err(internal)?;
        let meta = processed.meta();
        media::mark_cached(
            &state.db,
            row.id,
            &file_key,
            processed.original.content_type,
            processed.original.bytes.len() as i64,
            Some(&preview_key),
            Some(&meta),
        )
        .await
        .map_err(internal)?;
    } else {
        let content_type = content_type
            .map(|c| c.split(';').next().unwrap_or("").trim().to_string())
            .filter(|c| c.starts_with("video/") || c.starts_with("audio/"))
            .unwrap_or_else(|| "video/mp4".into());
        let ext = match content_type.as_str() {
            "video/webm" => "webm",
            "audio/mpeg" => "mp3",
            "audio/ogg" | "video/ogg" => "ogg",
            t if t.starts_with("audio/") => "m4a",
            _ => "mp4",
        };
        let file_key = format!("cache/{}/original.{ext}", row.id);
        let size = bytes.len() as i64;
        state
            .media
            .put(&file_key, bytes.to_vec(), &content_type)
            .await
            .map_err(internal)?;
        // The poster, when the origin gave one, becomes the preview.
        let mut preview_key = None;
        if let Some(preview_url) = &row.remote_preview_url
            && let Ok(Some((pbytes, _))) = fetch_limited(state, preview_url, 8 << 20).await
            && let Some(pformat) =
                sniff::sniff(&pbytes[..pbytes.len().min(64)]).filter(|f| f.is_image())
        {
            let max_pixels = state.config.media.image_max_pixels;
            if let Ok(Ok(p)) =
                tokio::task::spawn_blocking(move || image::process(&pbytes, pformat, max_pixels))
                    .await
            {
                let key = format!("cache/{}/small.{}", row.id, p.small.extension);
                state
                    .media
                    .put(&key, p.small.bytes, p.small.content_type)
                    .await
                    .map_err(internal)?;
                preview_key = Some(key);
            }
        }
        // No poster from the origin: take a frame, as for our own videos.
        if preview_key.is_none() && matches!(row.r#type.as_str(), "video" | "gifv") {
            match remote_poster(state, row.id, &bytes).await {
                Ok(key) => preview_key = Some(key),
                Err(e) => tracing::info!(media = row.id, error = %e, "no poster for remote video"),
            }
        }
        media::mark_cached(
            &state.db,
            row.id,
            &file_key,
            &content_type,
            size,
            preview_key.as_deref(),
            None,
        )
        .await
        .map_err(internal)?;
    }
    Ok(true)
}

/// Takes a poster frame from a remote video (already fetched and checked) and stores it as
/// `cache/{id}/small.jpg`; returns its key. Errors: ffprobe/ffmpeg cannot read the video.
async fn remote_poster(state: &AppState, id: i64, video: &[u8]) -> Result<String, MediaError> {
    let scratch = scratch_dir(state).map_err(internal)?;
    let input = scratch.path().join("video");
    tokio::fs::write(&input, video).await.map_err(internal)?;
    let probe = video::probe(&input).await?;
    if probe.video.is_none() {
        return Err(MediaError::Invalid("no video stream".into()));
    }
    let (key, _, _) = store_poster(
        state,
        &input,
        probe.duration,
        scratch.path(),
        &format!("cache/{id}"),
    )
    .await?;
    Ok(key)
}

/// Takes the poster frame of `video` (`duration` seconds long) into `scratch`, makes its preview
/// and blurhash, and stores the preview as `PREFIX/small.EXT`. Returns the key, the preview's size
/// and the blurhash.
async fn store_poster(
    state: &AppState,
    video: &Path,
    duration: f64,
    scratch: &Path,
    prefix: &str,
) -> Result<(String, (u32, u32), String), MediaError> {
    let poster_path = scratch.join("poster.jpg");
    video::poster_frame(video, duration, &poster_path).await?;
    let poster = tokio::fs::read(&poster_path).await.map_err(internal)?;
    let (small, hash) = tokio::task::spawn_blocking(move || image::poster(&poster))
        .await
        .map_err(internal)??;
    let key = format!("{prefix}/small.{}", small.extension);
    let size = (small.width, small.height);
    state
        .media
        .put(&key, small.bytes, small.content_type)
        .await
        .map_err(internal)?;
    Ok((key, size, hash))
}

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

async fn delete_files(state: &AppState, r: &MediaRow) -> AppResult<()> {
    for key in [&r.file_key, &r.preview_key, &r.upload_key]
        .into_iter()
        .flatten()
    {
        state.media.delete(key).await?;
    }
    Ok(())
}

/// Runs [`prune`] every hour.
pub fn spawn_pruner(state: &AppState) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match prune(&state, None).await {
                Ok(r) if r.evicted + r.deleted > 0 => {
                    tracing::info!(evicted = r.evicted, deleted = r.deleted, "media pruned")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "media pruning failed"),
            }
        }
    })
}

/// Sizes of profile images: avatars are cropped square, headers to 3:1.
const AVATAR_SIZE: (u32, u32) = (400, 400);
const HEADER_SIZE: (u32, u32) = (1500, 500);

/// An avatar or header processed and stored, waiting for its row; see
/// [`crate::service::accounts::update_credentials`], which attaches it with the rest of the profile
/// change or discards it.
pub struct PreparedProfileImage {
    pub which: ProfileImage,
    row: NewMedia,
}

/// Processes an uploaded avatar or header (a still image, cropped to 400×400 or 1500×500; GIFs keep
/// their first frame) and stores its files. Errors: 422 as for uploads, and for anything but an
/// image; nothing is stored then.
pub async fn prepare_profile_image(
    state: &AppState,
    account_id: i64,
    which: ProfileImage,
    u: Upload,
) -> AppResult<PreparedProfileImage> {
    let format = match classify(&state.config, &u)? {
        Kind::Still(f) => f,
        Kind::Moving(Format::Gif, _) => Format::Gif,
        Kind::Moving(..) => {
            return Err(AppError::unprocessable(
                "Validation failed: Avatar and header must be images",
            ));
        }
    };
    let size = match which {
        ProfileImage::Avatar => AVATAR_SIZE,
        ProfileImage::Header => HEADER_SIZE,
    };
    let max = state.config.media.image_max_pixels;
    let bytes = u.bytes.clone();
    let processed =
        tokio::task::spawn_blocking(move || image::process_cropped(&bytes, format, max, size))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(invalid)?;
    let id = ids::new_id();
    let (file_key, preview_key) = store_image(state, "attachments", id, &processed).await?;
    Ok(PreparedProfileImage {
        which,
        row: NewMedia {
            id,
            account_id,
            r#type: "image".into(),
            state: "ready".into(),
            file_key: Some(file_key),
            file_content_type: Some(processed.original.content_type.into()),
            file_size: Some(processed.original.bytes.len() as i64),
            preview_key: Some(preview_key),
            blurhash: Some(processed.blurhash.clone()),
            meta: processed.meta(),
            ..NewMedia::default()
        },
    })
}

/// Records a prepared image and makes it the account's avatar or header, inside the caller's
/// transaction.
pub async fn attach_profile_image(tx: &mut Tx, p: &PreparedProfileImage) -> AppResult<()> {
    media::insert(tx, &p.row).await?;
    media::set_profile_image(tx, p.row.account_id, p.which, Some(p.row.id)).await?;
    Ok(())
}

/// Deletes the files of prepared images that will not be attached (the update failed).
pub async fn discard_profile_images(state: &AppState, prepared: &[PreparedProfileImage]) {
    for p in prepared {
        for key in [&p.row.file_key, &p.row.preview_key].into_iter().flatten() {
            if let Err(e) = state.media.delete(key).await {
                tracing::warn!(key, error = %e, "could not delete a discarded profile image");
            }
        }
    }
}

/// Points a remote account's avatar (`icon`) and header (`image`) at their URLs, stored by
/// reference; an image whose URL is unchanged keeps its row and cached copy, and nothing is
/// written when neither changed (actors are refreshed often).
pub async fn refresh_remote_profile_images(
    state: &AppState,
    account: &crate::storage::accounts::AccountRow,
    icon: Option<&url::Url>,
    image: Option<&url::Url>,
) -> AppResult<()> {
    let ids: Vec<i64> = [account.avatar_media_id, account.header_media_id]
        .into_iter()
        .flatten()
        .collect();
    let current = media::find_many(&state.db, &ids).await?;
    let changes: Vec<(ProfileImage, Option<&url::Url>)> = [
        (ProfileImage::Avatar, account.avatar_media_id, icon),
        (ProfileImage::Header, account.header_media_id, image),
    ]
    .into_iter()
    .filter(|(_, media_id, url)| {
        let now = current
            .iter()
            .find(|m| Some(m.id) == *media_id)
            .and_then(|m| m.remote_url.as_deref());
        now != url.map(|u| u.as_str())
    })
    .map(|(which, _, url)| (which, url))
    .collect();
    if changes.is_empty() {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    for (which, url) in changes {
        let id = match url.filter(|u| matches!(u.scheme(), "https" | "http")) {
            Some(u) => {
                let id = ids::new_id();
                media::insert(
                    &mut tx,
                    &NewMedia {
                        id,
                        account_id: account.id,
                        r#type: "image".into(),
                        state: "ready".into(),
                        remote_url: Some(u.to_string()),
                        ..NewMedia::default()
                    },
                )
                .await?;
                Some(id)
            }
            None => None,
        };
        media::set_profile_image(&mut tx, account.id, which, id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Avatar and header URLs of accounts that have them: `account id → (avatar, header)`.
pub async fn profile_image_urls(
    state: &AppState,
    pairs: &[(i64, Option<i64>, Option<i64>)],
) -> AppResult<HashMap<i64, (Option<String>, Option<String>)>> {
    let ids: Vec<i64> = pairs
        .iter()
        .flat_map(|(_, a, h)| [*a, *h])
        .flatten()
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Each image's URL from `AppState::profile_images`, else read (one query) and kept.
    let mut urls: HashMap<i64, Option<String>> = HashMap::with_capacity(ids.len());
    let missing: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| match state.profile_images.get(id) {
            Some(url) => {
                urls.insert(*id, url);
                false
            }
            None => true,
        })
        .collect();
    if !missing.is_empty() {
        let generation = state.profile_images.generation();
        for r in media::find_many(&state.db, &missing).await? {
            let url = entity(state, &r).url;
            state.profile_images.insert(r.id, url.clone(), generation);
            urls.insert(r.id, url);
        }
    }
    let url_of = |id: Option<i64>| id.and_then(|id| urls.get(&id).cloned().flatten());
    Ok(pairs
        .iter()
        .map(|(account, a, h)| (*account, (url_of(*a), url_of(*h))))
        .collect())
}
