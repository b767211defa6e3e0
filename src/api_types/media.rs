//! `MediaAttachment` entity (docs.joinmastodon.org/entities/MediaAttachment/).

use serde::Serialize;
use serde_json::{Value, json};

use crate::media::MediaStore;
use crate::storage::media::MediaRow;

#[derive(Clone, Debug, Serialize)]
pub struct MediaAttachment {
    pub id: String,
    /// `image`, `gifv`, `video`, `audio` or `unknown`.
    pub r#type: String,
    /// `null` while processing.
    pub url: Option<String>,
    pub preview_url: Option<String>,
    /// The file at its origin, for remote media.
    pub remote_url: Option<String>,
    pub preview_remote_url: Option<String>,
    pub text_url: Option<String>,
    /// Sizes, duration, frame rate, focus (Mastodon's shape).
    pub meta: Value,
    pub description: Option<String>,
    pub blurhash: Option<String>,
    /// Extension: transcoding progress from 0 to 1 while processing, else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
}

/// Public URL of a remote file that is fetched and cached on first view
/// (`GET /media_proxy/:id/original|small`).
pub fn proxy_url(base_url: &str, id: i64, variant: &str) -> String {
    format!("{base_url}/media_proxy/{id}/{variant}")
}

impl MediaAttachment {
    pub fn from_row(row: &MediaRow, store: &MediaStore, base_url: &str) -> MediaAttachment {
        let local_url = |key: &Option<String>| key.as_deref().map(|k| store.url(k));
        let (url, preview_url) = if row.remote_url.is_some() {
            (
                Some(
                    local_url(&row.file_key)
                        .unwrap_or_else(|| proxy_url(base_url, row.id, "original")),
                ),
                // Remote images get a preview made here when cached; others only if they had one.
                local_url(&row.preview_key).or_else(|| {
                    (row.r#type == "image" || row.remote_preview_url.is_some())
                        .then(|| proxy_url(base_url, row.id, "small"))
                }),
            )
        } else if row.state == "ready" {
            (
                local_url(&row.file_key),
                local_url(&row.preview_key).or_else(|| local_url(&row.file_key)),
            )
        } else {
            (None, None)
        };
        let mut meta = row.meta.0.clone();
        if !meta.is_object() {
            meta = json!({});
        }
        if row.r#type == "image" || row.focus_x != 0.0 || row.focus_y != 0.0 {
            meta["focus"] = json!({ "x": row.focus_x, "y": row.focus_y });
        }
        MediaAttachment {
            id: row.id.to_string(),
            r#type: row.r#type.clone(),
            url,
            preview_url,
            remote_url: row.remote_url.clone(),
            preview_remote_url: row.remote_preview_url.clone(),
            text_url: None,
            meta,
            description: (!row.description.is_empty()).then(|| row.description.clone()),
            blurhash: row.blurhash.clone(),
            progress: (row.state == "processing").then(|| row.progress.unwrap_or(0.0)),
        }
    }
}
