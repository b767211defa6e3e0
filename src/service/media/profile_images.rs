//! Avatars and headers: prepared from uploads, attached in the profile's transaction, refreshed
//! for remote accounts, and their URLs.

use std::collections::HashMap;

use crate::error::{AppError, AppResult};
use crate::media::image;
use crate::media::sniff::Format;
use crate::state::AppState;
use crate::storage::media::{self, NewMedia};

pub use crate::storage::media::ProfileImage;
use crate::storage::{Tx, ids};

use super::*;

/// Sizes of profile images: avatars are cropped square, headers to 3:1.
pub(super) const AVATAR_SIZE: (u32, u32) = (400, 400);
pub(super) const HEADER_SIZE: (u32, u32) = (1500, 500);

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
