//! Attachments on statuses: as API entities, as ActivityPub `attachment`s, and remote ones stored
//! by reference.

use std::collections::HashMap;

use serde_json::json;

use crate::api_types::media::MediaAttachment;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::federation::protocol::note::Attachment;
use crate::jobs::{self};
use crate::media::image;
use crate::state::AppState;
use crate::storage::media::{self, MediaRow, NewMedia};
use crate::storage::{Tx, ids};

use super::*;

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
