//! Mastodon API entities (serde) and their mappers from storage rows. Field names and types follow
//! docs.joinmastodon.org/entities/; clients decode some of them strictly (`shared/CLIENTS.md`).

pub mod account;
pub mod admin;
pub mod announcement;
pub mod call;
pub mod conversation;
pub mod delivery;
pub mod filter;
pub mod imports;
pub mod list;
pub mod media;
pub mod moves;
pub mod oauth;
pub mod room;
pub mod status;
pub mod story;

use serde::Serialize;

pub use account::{Account, CredentialAccount, Relationship};

/// A list of entities as a JSON array, serialized into one buffer sized for it up front (about
/// 1.5 KB per status or notification as rendered): growing a buffer from a few bytes through many
/// small writes was a tenth of a timeline request's CPU (docs/PERFORMANCE.md, issue 23).
///
/// Errors: only a serializer bug (entities are plain data).
pub fn json_array<T: Serialize>(items: &[T]) -> serde_json::Result<Vec<u8>> {
    let mut body = Vec::with_capacity(items.len().saturating_mul(1536).max(64));
    serde_json::to_writer(&mut body, items)?;
    Ok(body)
}

/// `CustomEmoji` entity.
#[derive(Clone, Debug, Serialize)]
pub struct CustomEmoji {
    pub shortcode: String,
    pub url: String,
    pub static_url: String,
    pub visible_in_picker: bool,
    pub category: Option<String>,
}

impl CustomEmoji {
    pub fn from_row(row: &crate::storage::emojis::EmojiRow, cfg: &crate::config::Config) -> Self {
        // Remote emojis are shown through this server (`/emoji_proxy/ID`), never from their origin.
        let url = if row.domain.is_none() {
            format!("{}/media/{}", cfg.base_url(), row.image_path)
        } else {
            format!("{}/emoji_proxy/{}", cfg.base_url(), row.id)
        };
        CustomEmoji {
            shortcode: row.shortcode.clone(),
            static_url: url.clone(),
            url,
            visible_in_picker: row.visible_in_picker,
            category: row.category.clone(),
        }
    }
}

/// Timestamps as Mastodon writes them: RFC 3339 in UTC with milliseconds (`2026-11-21T00:00:00.000Z`).
pub mod mastodon_time {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }
    }
}
