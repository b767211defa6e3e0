//! Filters (docs.joinmastodon.org/methods/filters/): v2 filters with keywords and statuses, the v1
//! API mapped onto them, and their application on the server — to timelines, threads, account
//! pages, notifications and streams — with the `filtered` field on statuses.
//!
//! A status matches a filter when one of its keywords occurs in the status's text, content warning
//! or media descriptions (whole words when `whole_word`, case-insensitive), or when the status is
//! one of the filter's statuses; a boost is judged by the boosted status. `warn` filters add a
//! `FilterResult` to `filtered`; `hide` filters leave the status (or notification) out. Expired
//! filters do nothing.
//!
//! `manage` holds the client API that changes filters; this file applies them to statuses,
//! notifications and streamed events, with each user's filters compiled and kept for a while.

mod manage;

pub use manage::*;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use regex::Regex;
use serde_json::Value;

use crate::api_types::filter::{Filter, FilterResult};
use crate::api_types::status::{Notification, Status};
use crate::error::AppResult;
use crate::state::AppState;
use crate::storage::filters::{self as store, FullFilter, KeywordRow};

/// Contexts a filter can apply in.
pub const CONTEXTS: &[&str] = &["home", "notifications", "public", "thread", "account"];

/// How long a user's compiled filters are reused before they are read again (changes made on this
/// node drop them at once; other nodes see them within this time).
const CACHE_FOR: Duration = Duration::from_secs(30);

/// A filter ready to match: its entity and one regex per keyword.
pub struct Compiled {
    pub full: FullFilter,
    entity: Filter,
    keywords: Vec<(String, Regex)>,
}

/// One account's compiled filters and when they were read.
type CacheEntry = (Instant, Arc<Vec<Compiled>>);

/// Per-account compiled filters (see [`CACHE_FOR`]).
#[derive(Default)]
pub struct FilterCache {
    entries: std::sync::Mutex<HashMap<i64, CacheEntry>>,
}

impl FilterCache {
    fn get(&self, account: i64) -> Option<Arc<Vec<Compiled>>> {
        let m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&account)
            .filter(|(at, _)| at.elapsed() < CACHE_FOR)
            .map(|(_, f)| f.clone())
    }

    fn put(&self, account: i64, filters: Arc<Vec<Compiled>>) {
        let mut m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 10_000 {
            m.retain(|_, (at, _)| at.elapsed() < CACHE_FOR);
        }
        m.insert(account, (Instant::now(), filters));
    }

    fn forget(&self, account: i64) {
        let mut m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        m.remove(&account);
    }
}

/// Mastodon's keyword pattern: case-insensitive; with `whole_word`, word boundaries at the ends that
/// are word characters.
fn keyword_regex(k: &KeywordRow) -> Option<Regex> {
    let escaped = regex::escape(&k.keyword);
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let (start, end) = if k.whole_word {
        (
            if word(k.keyword.chars().next()) {
                r"\b"
            } else {
                ""
            },
            if word(k.keyword.chars().last()) {
                r"\b"
            } else {
                ""
            },
        )
    } else {
        ("", "")
    };
    Regex::new(&format!("(?i){start}{escaped}{end}")).ok()
}

fn compile(full: FullFilter) -> Compiled {
    Compiled {
        entity: Filter::from(&full),
        keywords: full
            .keywords
            .iter()
            .filter_map(|k| keyword_regex(k).map(|r| (k.keyword.clone(), r)))
            .collect(),
        full,
    }
}

/// Whether `account` has filters (expired ones included), which pages of kept renderings
/// (`service::rendered`) do not apply.
///
/// Errors: database errors reading them.
pub async fn any(state: &AppState, account: i64) -> AppResult<bool> {
    Ok(!compiled(state, account).await?.is_empty())
}

/// `account`'s filters, compiled (cached).
async fn compiled(state: &AppState, account: i64) -> AppResult<Arc<Vec<Compiled>>> {
    if let Some(f) = state.filters.get(account) {
        return Ok(f);
    }
    let all: Vec<Compiled> = store::of_account(&state.db, account)
        .await?
        .into_iter()
        .map(compile)
        .collect();
    let all = Arc::new(all);
    state.filters.put(account, all.clone());
    Ok(all)
}

/// What the filters make of one status (its ID and matchable text) in `context`: the results for
/// `filtered`, and whether a `hide` filter matched.
fn judge(filters: &[Compiled], context: &str, id: &str, text: &str) -> (Vec<FilterResult>, bool) {
    let now = Utc::now();
    let mut results = Vec::new();
    let mut hide = false;
    for f in filters {
        let row = &f.full.filter;
        if row.expires_at.is_some_and(|t| t <= now) || !row.context.0.iter().any(|c| c == context) {
            continue;
        }
        let keywords: Vec<String> = f
            .keywords
            .iter()
            .filter(|(_, re)| re.is_match(text))
            .map(|(k, _)| k.clone())
            .collect();
        let statuses: Vec<String> = f
            .full
            .statuses
            .iter()
            .filter(|s| s.status_id.to_string() == id)
            .map(|s| s.status_id.to_string())
            .collect();
        if keywords.is_empty() && statuses.is_empty() {
            continue;
        }
        hide |= row.filter_action == "hide";
        results.push(FilterResult {
            filter: f.entity.clone(),
            keyword_matches: (!keywords.is_empty()).then_some(keywords),
            status_matches: (!statuses.is_empty()).then_some(statuses),
        });
    }
    (results, hide)
}

fn text_of(s: &Status) -> String {
    let mut t = crate::text::html_to_text(&s.content);
    t.push('\n');
    t.push_str(&s.spoiler_text);
    for m in &s.media_attachments {
        if let Some(d) = &m.description {
            t.push('\n');
            t.push_str(d);
        }
    }
    t
}

/// Applies filters to one status for `filters`' owner: `None` when hidden, else the status with
/// `filtered` set (on the boost and the boosted status alike).
fn apply_one(filters: &[Compiled], context: &str, mut s: Status) -> Option<Status> {
    let judged = match &s.reblog {
        Some(inner) => judge(filters, context, &inner.id, &text_of(inner)),
        None => judge(filters, context, &s.id, &text_of(&s)),
    };
    let (results, hide) = judged;
    if hide {
        return None;
    }
    if let Some(inner) = s.reblog.as_mut() {
        inner.filtered = Some(results.clone());
    }
    s.filtered = Some(results);
    Some(s)
}

/// Statuses as `viewer`'s filters leave them in `context` (`home`, `public`, `thread`, `account`).
pub async fn statuses(
    state: &AppState,
    viewer: Option<i64>,
    context: &str,
    list: Vec<Status>,
) -> AppResult<Vec<Status>> {
    let Some(viewer) = viewer else {
        return Ok(list);
    };
    let filters = compiled(state, viewer).await?;
    if filters.is_empty() {
        return Ok(list);
    }
    Ok(list
        .into_iter()
        .filter_map(|s| apply_one(&filters, context, s))
        .collect())
}

/// Notifications as `viewer`'s filters leave them (`notifications` context): one whose status a
/// `hide` filter matches is left out.
pub async fn notifications(
    state: &AppState,
    viewer: i64,
    list: Vec<Notification>,
) -> AppResult<Vec<Notification>> {
    let filters = compiled(state, viewer).await?;
    if filters.is_empty() {
        return Ok(list);
    }
    Ok(list
        .into_iter()
        .filter_map(|mut n| match n.status.take() {
            Some(s) => apply_one(&filters, "notifications", s).map(|s| {
                n.status = Some(s);
                n
            }),
            None => Some(n),
        })
        .collect())
}

/// A streamed event's payload as `viewer`'s filters leave it: `update` and `status.update` carry
/// a status (judged in `context`), `notification` a notification. `None`: not to be sent. Other
/// events pass unchanged.
pub async fn stream_payload(
    state: &AppState,
    viewer: Option<i64>,
    context: &str,
    event: &str,
    payload: &str,
) -> Option<String> {
    let Some(viewer) = viewer else {
        return Some(payload.to_string());
    };
    let filters = compiled(state, viewer).await.ok()?;
    if filters.is_empty() {
        return Some(payload.to_string());
    }
    let mut doc: Value = serde_json::from_str(payload).ok()?;
    let (status, context) = match event {
        "update" | "status.update" => (&mut doc, context),
        "notification" => match doc.get_mut("status") {
            Some(s) if !s.is_null() => (s, "notifications"),
            _ => return Some(payload.to_string()),
        },
        _ => return Some(payload.to_string()),
    };
    let judged_of = |s: &Value| {
        let mut text = crate::text::html_to_text(s["content"].as_str().unwrap_or(""));
        text.push('\n');
        text.push_str(s["spoiler_text"].as_str().unwrap_or(""));
        for m in s["media_attachments"].as_array().into_iter().flatten() {
            if let Some(d) = m["description"].as_str() {
                text.push('\n');
                text.push_str(d);
            }
        }
        judge(&filters, context, s["id"].as_str().unwrap_or(""), &text)
    };
    let (results, hide) = if status["reblog"].is_object() {
        judged_of(&status["reblog"])
    } else {
        judged_of(status)
    };
    if hide {
        return None;
    }
    let results = serde_json::to_value(&results).ok()?;
    if status["reblog"].is_object() {
        status["reblog"]["filtered"] = results.clone();
    }
    status["filtered"] = results;
    serde_json::to_string(&doc).ok()
}

// --- Managing filters -----------------------------------------------------------------------------
