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
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|e| AppError::unprocessable(format!("Cannot read {}: {e}", file.display())))?;
    add_local_image(state, shortcode, &bytes, category).await
}

/// [`add_local`] with the image's bytes.
async fn add_local_image(
    state: &AppState,
    shortcode: &str,
    bytes: &[u8],
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
    tokio::fs::write(&path, bytes)
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

/// Most distinct shortcodes read from one text, and most `Emoji` tags kept from one object.
pub const MAX_PER_TEXT: usize = 64;

/// The `:shortcode:` names in `text` (plain or HTML), as Mastodon finds them: 2–64 letters, digits
/// or `_` between colons, not glued to other letters, digits or colons. Distinct, at most
/// [`MAX_PER_TEXT`].
pub fn shortcodes(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() && out.len() < MAX_PER_TEXT {
        if bytes[i] != b':'
            || (i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b':'))
        {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < bytes.len() && word(bytes[end]) {
            end += 1;
        }
        let len = end - start;
        let closed = end < bytes.len() && bytes[end] == b':';
        let free_after = end + 1 >= bytes.len()
            || !(bytes[end + 1].is_ascii_alphanumeric() || bytes[end + 1] == b':');
        if closed && (2..=64).contains(&len) && free_after {
            let code = &text[start..end];
            if !out.iter().any(|c| c == code) {
                out.push(code.to_string());
            }
            i = end + 1;
        } else {
            i = if closed { end } else { end.max(i + 1) };
        }
    }
    out
}

/// The emojis each item uses: `(key, author's domain (None: local), text)`, by key. One query per
/// distinct domain among the items that use any shortcode; none when no text has one.
///
/// Errors: database errors.
pub async fn used_in_many(
    state: &AppState,
    items: &[(i64, Option<&str>, String)],
) -> AppResult<std::collections::HashMap<i64, Vec<crate::api_types::CustomEmoji>>> {
    use std::collections::HashMap;
    let mut out: HashMap<i64, Vec<crate::api_types::CustomEmoji>> = HashMap::new();
    let mut by_domain: HashMap<Option<&str>, Vec<(i64, Vec<String>)>> = HashMap::new();
    for (key, domain, text) in items {
        let codes = shortcodes(text);
        if !codes.is_empty() {
            by_domain.entry(*domain).or_default().push((*key, codes));
        }
    }
    for (domain, wanted) in by_domain {
        let mut all: Vec<String> = wanted.iter().flat_map(|(_, c)| c.clone()).collect();
        all.sort();
        all.dedup();
        all.truncate(crate::storage::sql::MAX_ROWS);
        let rows = emojis::find_codes(&state.db, domain, &all).await?;
        for (key, codes) in wanted {
            let found: Vec<_> = codes
                .iter()
                .filter_map(|c| rows.iter().find(|r| &r.shortcode == c))
                .map(|r| crate::api_types::CustomEmoji::from_row(r, &state.config))
                .collect();
            if !found.is_empty() {
                out.insert(key, found);
            }
        }
    }
    Ok(out)
}

/// This instance's emojis used in `texts`, as rows (for the `Emoji` tags of what we send).
///
/// Errors: database errors.
pub async fn local_rows_in(state: &AppState, texts: &[&str]) -> AppResult<Vec<emojis::EmojiRow>> {
    let mut codes: Vec<String> = texts.iter().flat_map(|t| shortcodes(t)).collect();
    codes.sort();
    codes.dedup();
    codes.truncate(crate::storage::sql::MAX_ROWS);
    Ok(emojis::find_codes(&state.db, None, &codes).await?)
}

/// `Emoji` tags (Mastodon's shape) for local emoji rows.
pub fn tags(
    state: &AppState,
    rows: &[emojis::EmojiRow],
) -> Vec<crate::federation::protocol::note::Tag> {
    let base = state.config.base_url();
    rows.iter()
        .filter(|r| r.domain.is_none())
        .filter_map(|r| {
            Some(crate::federation::protocol::note::Tag {
                kind: "Emoji".into(),
                href: None,
                name: Some(format!(":{}:", r.shortcode)),
                id: url::Url::parse(&format!("{base}/emojis/{}", r.id)).ok(),
                icon: Some(serde_json::json!({
                    "type": "Image",
                    "mediaType": r.content_type,
                    "url": format!("{base}/media/{}", r.image_path),
                })),
                updated: Some(r.created_at),
            })
        })
        .collect()
}

/// Stores the `Emoji` tags of a remote object by an author of `domain` (at most
/// [`MAX_PER_TEXT`]): each shortcode with its image URL (http(s), fetched later through the emoji
/// proxy) and id. Malformed tags are skipped; a failure to store one is logged, never fatal.
pub async fn store_remote(
    state: &AppState,
    domain: &str,
    tags: &[crate::federation::protocol::note::Tag],
) {
    for t in tags.iter().filter(|t| t.kind == "Emoji").take(MAX_PER_TEXT) {
        let Some(code) = t
            .name
            .as_deref()
            .map(|n| n.trim().trim_matches(':'))
            .filter(|c| {
                (2..=64).contains(&c.len())
                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
        else {
            continue;
        };
        let icon = t.icon.as_ref();
        let Some(image) = icon
            .and_then(|i| i.get("url").or(Some(i)))
            .and_then(|u| u.as_str())
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "https" | "http"))
        else {
            continue;
        };
        let content_type = icon
            .and_then(|i| i.get("mediaType"))
            .and_then(|m| m.as_str())
            .filter(|m| matches!(*m, "image/png" | "image/gif" | "image/webp" | "image/jpeg"))
            .unwrap_or("image/png");
        let uri = t.id.as_ref().map(url::Url::as_str);
        if let Err(e) =
            emojis::upsert_remote(&state.db, code, domain, image.as_str(), content_type, uri).await
        {
            tracing::warn!(shortcode = code, domain, error = %e, "could not store a remote emoji");
        }
    }
}

/// `GET /emoji_proxy/:id`: where the emoji's image is served from here. A remote emoji's image is
/// fetched on first use through the outgoing-request guard (at most [`MAX_BYTES`]; PNG, GIF, WebP
/// or JPEG with nothing appended), kept in the media store, and served from there.
///
/// Errors: 404 for an unknown or disabled emoji, or an image that cannot be fetched or is not one.
pub async fn proxy(state: &AppState, id: &str) -> AppResult<String> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = emojis::find(&state.db, id)
        .await?
        .filter(|r| !r.disabled)
        .ok_or(AppError::NotFound)?;
    if row.domain.is_none() {
        return Ok(format!(
            "{}/media/{}",
            state.config.base_url(),
            row.image_path
        ));
    }
    if let Some(key) = &row.cached_key {
        return Ok(state.media.url(key));
    }
    let fetched = crate::service::media::fetch_limited(state, &row.image_path, MAX_BYTES as u64)
        .await
        .map_err(|e| {
            tracing::info!(emoji = id, error = %e, "a remote emoji could not be fetched");
            AppError::NotFound
        })?;
    let Some((bytes, _)) = fetched else {
        tracing::info!(emoji = id, "a remote emoji is larger than 256 KiB");
        return Err(AppError::NotFound);
    };
    let format = crate::media::sniff::sniff(&bytes[..bytes.len().min(64)]);
    let (content_type, ext) = match format {
        Some(Format::Png) => ("image/png", "png"),
        Some(Format::Gif) => ("image/gif", "gif"),
        Some(Format::Webp) => ("image/webp", "webp"),
        Some(Format::Jpeg) => ("image/jpeg", "jpg"),
        _ => {
            tracing::info!(emoji = id, "a remote emoji is not an image");
            return Err(AppError::NotFound);
        }
    };
    let format = format.ok_or(AppError::NotFound)?;
    let clean = crate::media::sniff::image_end(format, &bytes)
        .is_some_and(|end| crate::media::sniff::trailing_is_harmless(format, &bytes[end..]));
    if !clean {
        tracing::info!(emoji = id, "a remote emoji has another file appended");
        return Err(AppError::NotFound);
    }
    let key = format!("emojis/cache/{id}.{ext}");
    state
        .media
        .put(&key, bytes.to_vec(), content_type)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    emojis::set_cached(&state.db, id, &key).await?;
    Ok(state.media.url(&key))
}

/// `SHORTCODE@DOMAIN` (remote) or `SHORTCODE` (local), split.
fn parse_handle(handle: &str) -> (&str, Option<&str>) {
    let h = handle.trim().trim_matches(':');
    match h.split_once('@') {
        Some((code, domain)) => (code.trim_matches(':'), Some(domain)),
        None => (h, None),
    }
}

/// `rookery admin emoji disable|enable SHORTCODE[@DOMAIN]`: hides an emoji everywhere (statuses,
/// accounts, the picker, the proxy) or shows it again.
///
/// Errors: 404 when there is no such emoji.
pub async fn set_disabled(state: &AppState, handle: &str, disabled: bool) -> AppResult<()> {
    let (code, domain) = parse_handle(handle);
    let row = emojis::find_one(&state.db, code, domain)
        .await?
        .ok_or(AppError::NotFound)?;
    emojis::set_disabled(&state.db, row.id, disabled).await?;
    Ok(())
}

/// `rookery admin emoji copy SHORTCODE@DOMAIN [--category C]`: makes a remote emoji one of this
/// instance's own (its image fetched through the emoji proxy's checks, under the same shortcode).
///
/// Errors: 404 for an unknown remote emoji or an image that cannot be fetched; 422 when a local
/// emoji has the shortcode.
pub async fn copy_remote(state: &AppState, handle: &str, category: Option<&str>) -> AppResult<()> {
    let (code, domain) = parse_handle(handle);
    let domain =
        domain.ok_or_else(|| AppError::unprocessable("Name the emoji as SHORTCODE@DOMAIN"))?;
    let row = emojis::find_one(&state.db, code, Some(domain))
        .await?
        .ok_or(AppError::NotFound)?;
    proxy(state, &row.id.to_string()).await?;
    let row = emojis::find(&state.db, row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let key = row.cached_key.ok_or(AppError::NotFound)?;
    let bytes = state
        .media
        .get(&key)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    add_local_image(state, code, &bytes, category).await
}

/// Remote emojis known here (for `rookery admin emoji list --remote`), newest first.
pub async fn list_remote(state: &AppState, limit: i64) -> AppResult<Vec<emojis::EmojiRow>> {
    Ok(emojis::list_remote(&state.db, limit).await?)
}

/// `GET /emojis/:id`: one of this instance's enabled emojis as an ActivityPub `Emoji`.
///
/// Errors: 404 for a remote, disabled or unknown emoji.
pub async fn document(state: &AppState, id: &str) -> AppResult<serde_json::Value> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = emojis::find(&state.db, id)
        .await?
        .filter(|r| r.domain.is_none() && !r.disabled)
        .ok_or(AppError::NotFound)?;
    let tag = tags(state, std::slice::from_ref(&row))
        .pop()
        .ok_or(AppError::NotFound)?;
    serde_json::to_value(&tag).map_err(|e| AppError::Internal(e.into()))
}
