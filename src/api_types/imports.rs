//! Rookery's entities for CSV imports and account archives (docs/API.md, "Imports and exports",
//! "Archive"). Mastodon shows the same on its settings pages, with no API to follow.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::storage::imports::ImportRow;

/// `Import` entity (Rookery extension; Mastodon shows the same on its import page).
#[derive(Clone, Debug, Serialize)]
pub struct Import {
    pub id: String,
    /// `following`, `blocking`, `muting`, `domain_blocking`, `bookmarks` or `lists`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `merge` or `overwrite`.
    pub mode: String,
    /// `scheduled`, `in_progress` or `finished`.
    pub state: String,
    pub original_filename: String,
    pub total_items: i64,
    pub processed_items: i64,
    pub imported_items: i64,
    pub failed_items: i64,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "super::mastodon_time::option")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Failed rows in file order (first 1,000), on `GET /api/v1/imports/:id` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<Vec<Failure>>,
}

/// A row that could not be imported.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// Its line in the file (1 is the first, a header included).
    pub line: i64,
    /// The account address, domain or URI the row named.
    pub item: String,
    pub error: String,
}

impl From<&ImportRow> for Import {
    fn from(r: &ImportRow) -> Import {
        Import {
            id: r.id.to_string(),
            kind: r.kind.clone(),
            mode: if r.overwrite { "overwrite" } else { "merge" }.into(),
            state: r.state.clone(),
            original_filename: r.original_filename.clone(),
            total_items: r.total_items,
            processed_items: r.processed_items,
            imported_items: r.imported_items,
            failed_items: r.failed_items,
            created_at: r.created_at,
            finished_at: r.finished_at,
            failures: None,
        }
    }
}

/// `Archive` entity (Rookery extension).
#[derive(Clone, Debug, Serialize)]
pub struct Archive {
    pub id: String,
    /// `scheduled`, `building`, `ready`, `failed` or `expired`.
    pub state: String,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "super::mastodon_time::option")]
    pub ready_at: Option<DateTime<Utc>>,
    #[serde(with = "super::mastodon_time::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Bytes, once built.
    pub size: Option<i64>,
    /// Where to download it (with the same token), once ready.
    pub url: Option<String>,
}
