//! Remote media: the proxy that serves it from here, and caching it on first view.

use std::path::Path;

use bytes::Bytes;

use crate::error::{AppError, AppResult};
use crate::media::sniff::{self, Format};
use crate::media::video::{self};
use crate::media::{MediaError, image};
use crate::state::AppState;
use crate::storage::media::{self, MediaRow};

use super::*;

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
pub(super) async fn remote_poster(
    state: &AppState,
    id: i64,
    video: &[u8],
) -> Result<String, MediaError> {
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
pub(super) async fn store_poster(
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
