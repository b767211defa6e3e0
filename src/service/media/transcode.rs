//! The durable jobs that transcode videos and prefetch remote media, and their workers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::jobs::{self, Job, Outcome};
use crate::media::MediaError;
use crate::media::video::{self, Target};
use crate::state::AppState;
use crate::storage::media::{self};

use super::*;

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

pub(super) async fn fail(state: &AppState, id: i64, message: &str) {
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

pub(super) async fn transcode_one(state: &AppState, id: i64) -> Result<(), MediaError> {
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
