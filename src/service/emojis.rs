//! Custom emojis: the operator adds image files by shortcode; clients list them.

use std::path::Path;

use crate::error::{AppError, AppResult};
use crate::media::sniff::Format;
use crate::state::AppState;
use crate::storage::{emojis, ids};

/// Largest emoji image accepted, in bytes (Mastodon's limit).
pub const MAX_BYTES: usize = 256 * 1024;

/// Adds a local emoji from an image file, copying it under `media.dir/emojis/`.
///
/// Errors: 422 for a bad shortcode (2–30 letters, digits, `_`), a file that is not PNG/GIF/WebP or
/// is over [`MAX_BYTES`], or a shortcode already in use.
pub async fn add_local(
    state: &AppState,
    shortcode: &str,
    file: &Path,
    category: Option<&str>,
) -> AppResult<()> {
    let ok_code = (2..=30).contains(&shortcode.len())
        && shortcode
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok_code {
        return Err(AppError::unprocessable(
            "The shortcode must be 2 to 30 letters, digits or underscores",
        ));
    }
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|e| AppError::unprocessable(format!("Cannot read {}: {e}", file.display())))?;
    if bytes.len() > MAX_BYTES {
        return Err(AppError::unprocessable("The image is larger than 256 KiB"));
    }
    let (content_type, ext) = match crate::media::sniff::sniff(&bytes[..bytes.len().min(64)]) {
        Some(Format::Png) => ("image/png", "png"),
        Some(Format::Gif) => ("image/gif", "gif"),
        Some(Format::Webp) => ("image/webp", "webp"),
        _ => {
            return Err(AppError::unprocessable(
                "The image must be PNG, GIF or WebP",
            ));
        }
    };
    let id = ids::new_id();
    let rel = format!("emojis/{id}.{ext}");
    let path = Path::new(&state.config.media.dir).join(&rel);
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(anyhow::Error::from)?;
    }
    tokio::fs::write(&path, &bytes)
        .await
        .map_err(anyhow::Error::from)?;
    let inserted = emojis::insert_local(
        &state.db,
        &emojis::NewEmoji {
            id,
            shortcode,
            image_path: &rel,
            content_type,
            category,
        },
    )
    .await;
    if let Err(e) = inserted {
        let _ = tokio::fs::remove_file(&path).await;
        if crate::storage::db::is_unique_violation(&e) {
            return Err(AppError::unprocessable(format!(
                "An emoji named :{shortcode}: already exists"
            )));
        }
        return Err(e.into());
    }
    Ok(())
}

/// Removes a local emoji and its file. Returns false when there was none.
pub async fn remove_local(state: &AppState, shortcode: &str) -> AppResult<bool> {
    let Some(row) = emojis::delete_local(&state.db, shortcode).await? else {
        return Ok(false);
    };
    let path = Path::new(&state.config.media.dir).join(&row.image_path);
    if let Err(e) = tokio::fs::remove_file(&path).await {
        tracing::warn!(path = %path.display(), error = %e, "emoji file already gone");
    }
    Ok(true)
}

/// `GET /api/v1/custom_emojis`: this instance's own emojis as `CustomEmoji` entities.
///
/// Errors: database errors.
pub async fn list_local(state: &AppState) -> AppResult<Vec<crate::api_types::CustomEmoji>> {
    Ok(emojis::list_local(&state.db)
        .await?
        .iter()
        .map(|r| crate::api_types::CustomEmoji::from_row(r, &state.config))
        .collect())
}
