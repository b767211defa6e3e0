//! `Filter`, `FilterKeyword`, `FilterStatus`, `FilterResult` (docs.joinmastodon.org/entities/)
//! and the v1 `V1_Filter`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::storage::filters::{FullFilter, KeywordRow};

#[derive(Clone, Debug, Serialize)]
pub struct FilterKeyword {
    pub id: String,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct FilterStatus {
    pub id: String,
    pub status_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Filter {
    pub id: String,
    pub title: String,
    /// Where it applies: `home`, `notifications`, `public`, `thread`, `account`.
    pub context: Vec<String>,
    #[serde(with = "super::mastodon_time::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// `warn` (shown behind a warning naming the filter) or `hide` (left out).
    pub filter_action: String,
    pub keywords: Vec<FilterKeyword>,
    pub statuses: Vec<FilterStatus>,
}

impl From<&KeywordRow> for FilterKeyword {
    fn from(k: &KeywordRow) -> FilterKeyword {
        FilterKeyword {
            id: k.id.to_string(),
            keyword: k.keyword.clone(),
            whole_word: k.whole_word,
        }
    }
}

impl From<&FullFilter> for Filter {
    fn from(f: &FullFilter) -> Filter {
        Filter {
            id: f.filter.id.to_string(),
            title: f.filter.title.clone(),
            context: f.filter.context.0.clone(),
            expires_at: f.filter.expires_at,
            filter_action: f.filter.filter_action.clone(),
            keywords: f.keywords.iter().map(FilterKeyword::from).collect(),
            statuses: f
                .statuses
                .iter()
                .map(|s| FilterStatus {
                    id: s.id.to_string(),
                    status_id: s.status_id.to_string(),
                })
                .collect(),
        }
    }
}

/// `FilterResult`: why a status carries a warning (on `Status.filtered`).
#[derive(Clone, Debug, Serialize)]
pub struct FilterResult {
    pub filter: Filter,
    /// The keywords that matched, or null.
    pub keyword_matches: Option<Vec<String>>,
    /// The filtered status IDs that matched, or null.
    pub status_matches: Option<Vec<String>>,
}

/// `V1_Filter`: one keyword of a filter, as the v1 API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct V1Filter {
    /// The keyword's ID.
    pub id: String,
    pub phrase: String,
    pub context: Vec<String>,
    pub whole_word: bool,
    #[serde(with = "super::mastodon_time::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// True for `hide` filters.
    pub irreversible: bool,
}

impl V1Filter {
    pub fn of(f: &FullFilter, k: &KeywordRow) -> V1Filter {
        V1Filter {
            id: k.id.to_string(),
            phrase: k.keyword.clone(),
            context: f.filter.context.0.clone(),
            whole_word: k.whole_word,
            expires_at: f.filter.expires_at,
            irreversible: f.filter.filter_action == "hide",
        }
    }
}
