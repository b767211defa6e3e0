//! Filters (docs.joinmastodon.org/methods/filters/): v2 filters with keywords and statuses, the v1
//! API mapped onto them, and their application on the server — to timelines, threads, account
//! pages, notifications and streams — with the `filtered` field on statuses.
//!
//! A status matches a filter when one of its keywords occurs in the status's text, content warning
//! or media descriptions (whole words when `whole_word`, case-insensitive), or when the status is
//! one of the filter's statuses; a boost is judged by the boosted status. `warn` filters add a
//! `FilterResult` to `filtered`; `hide` filters leave the status (or notification) out. Expired
//! filters do nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use regex::Regex;
use serde_json::Value;
use sqlx::types::Json;

use crate::api_types::filter::{Filter, FilterKeyword, FilterResult, FilterStatus, V1Filter};
use crate::api_types::status::{Notification, Status};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::filters::{self as store, FilterRow, FilterStatusRow, FullFilter, KeywordRow};
use crate::storage::ids;

/// Contexts a filter can apply in.
pub const CONTEXTS: &[&str] = &["home", "notifications", "public", "thread", "account"];

/// How long a user's compiled filters are reused before they are read again (changes made on this
/// node drop them at once; other nodes see them within this time).
const CACHE_FOR: Duration = Duration::from_secs(30);

/// Longest keyword and title accepted, in characters.
const MAX_TEXT: usize = 255;

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
    let mut t = crate::service::text::html_to_text(&s.content);
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
        let mut text = crate::service::text::html_to_text(s["content"].as_str().unwrap_or(""));
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

/// A keyword change in `keywords_attributes`: a new keyword (no `id`), a change to one, or its
/// removal (`destroy`).
pub struct KeywordChange {
    pub id: Option<String>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    pub destroy: bool,
}

/// Fields of a create or update; `None` keeps the current value. `expires_in` in seconds; `Some(None)`
/// removes the expiry.
#[derive(Default)]
pub struct FilterChange {
    pub title: Option<String>,
    pub context: Option<Vec<String>>,
    pub filter_action: Option<String>,
    pub expires_in: Option<Option<i64>>,
    pub keywords: Vec<KeywordChange>,
}

fn check_text(what: &str, s: &str) -> AppResult<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(AppError::unprocessable(format!(
            "Validation failed: {what} can't be blank"
        )));
    }
    if s.chars().count() > MAX_TEXT {
        return Err(AppError::unprocessable(format!(
            "Validation failed: {what} is too long (maximum is {MAX_TEXT} characters)"
        )));
    }
    Ok(s.to_string())
}

/// All of the caller's filters (`GET /api/v2/filters`), expired ones too, as Mastodon lists them.
pub async fn list(state: &AppState, me: i64) -> AppResult<Vec<Filter>> {
    Ok(compiled(state, me)
        .await?
        .iter()
        .map(|c| c.entity.clone())
        .collect())
}

async fn own(state: &AppState, me: i64, id: &str) -> AppResult<FullFilter> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    compiled(state, me)
        .await?
        .iter()
        .find(|c| c.full.filter.id == id)
        .map(|c| c.full.clone())
        .ok_or(AppError::NotFound)
}

/// `GET /api/v2/filters/:id`. Errors: 404 unless it is the caller's.
pub async fn show(state: &AppState, me: i64, id: &str) -> AppResult<Filter> {
    Ok(Filter::from(&own(state, me, id).await?))
}

/// Creates (`id = None`) or updates one of the caller's filters with its keyword changes, in one
/// transaction. Errors: 422 for a blank or over-long title or keyword, no or unknown context, an
/// unknown action, a negative expiry; 404 for someone else's filter or keyword.
pub async fn save(
    state: &AppState,
    me: i64,
    id: Option<&str>,
    c: FilterChange,
) -> AppResult<Filter> {
    let mut full = match id {
        Some(id) => own(state, me, id).await?,
        None => FullFilter {
            filter: FilterRow {
                id: ids::new_id(),
                account_id: me,
                title: String::new(),
                context: Json(Vec::new()),
                filter_action: "warn".into(),
                expires_at: None,
                created_at: Utc::now(),
            },
            keywords: Vec::new(),
            statuses: Vec::new(),
        },
    };
    let row = &mut full.filter;
    if let Some(t) = c.title {
        row.title = t;
    }
    row.title = check_text("Title", &row.title)?;
    if let Some(ctx) = c.context {
        row.context = Json(ctx);
    }
    row.context.0.retain(|c| !c.is_empty());
    row.context.0.dedup();
    if row.context.0.is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: Context can't be blank",
        ));
    }
    if let Some(bad) = row
        .context
        .0
        .iter()
        .find(|c| !CONTEXTS.contains(&c.as_str()))
    {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Context {bad:?} is not one of home, notifications, public, thread, account"
        )));
    }
    if let Some(a) = c.filter_action {
        if !matches!(a.as_str(), "warn" | "hide") {
            return Err(AppError::unprocessable(format!(
                "Validation failed: Filter action {a:?} is not one of warn, hide"
            )));
        }
        row.filter_action = a;
    }
    match c.expires_in {
        Some(Some(secs)) => {
            row.expires_at = Some(crate::service::bounds::expiry_after("expires_in", secs)?)
        }
        Some(None) => row.expires_at = None,
        None => {}
    }
    let mut upserts = Vec::new();
    let mut removals = Vec::new();
    for k in c.keywords {
        match k.id.as_deref().filter(|s| !s.is_empty()) {
            Some(kid) => {
                let kid: i64 = kid.parse().map_err(|_| AppError::NotFound)?;
                let mut existing = full
                    .keywords
                    .iter()
                    .find(|x| x.id == kid)
                    .cloned()
                    .ok_or(AppError::NotFound)?;
                if k.destroy {
                    removals.push(kid);
                    continue;
                }
                if let Some(w) = k.keyword {
                    existing.keyword = check_text("Keyword", &w)?;
                }
                if let Some(w) = k.whole_word {
                    existing.whole_word = w;
                }
                upserts.push(existing);
            }
            None if k.destroy => {}
            None => upserts.push(KeywordRow {
                id: ids::new_id(),
                filter_id: full.filter.id,
                keyword: check_text("Keyword", k.keyword.as_deref().unwrap_or(""))?,
                whole_word: k.whole_word.unwrap_or(true),
            }),
        }
    }
    let mut tx = state.db.begin().await?;
    store::upsert(&mut tx, &full.filter).await?;
    for k in &upserts {
        store::upsert_keyword(&mut tx, k).await?;
    }
    for k in &removals {
        store::delete_keyword(&mut tx, *k).await?;
    }
    tx.commit().await?;
    state.filters.forget(me);
    show(state, me, &full.filter.id.to_string()).await
}

/// What a removal takes away.
enum Removal {
    Filter(i64),
    Keyword(i64),
    Status(i64),
}

/// Removes one thing of `me`'s filters (already checked to be theirs) and drops the cache.
async fn remove(state: &AppState, me: i64, what: Removal) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    match what {
        Removal::Filter(id) => store::delete(&mut tx, id).await?,
        Removal::Keyword(id) => store::delete_keyword(&mut tx, id).await?,
        Removal::Status(id) => store::delete_status(&mut tx, id).await?,
    }
    tx.commit().await?;
    state.filters.forget(me);
    Ok(())
}

/// Stores a new or changed keyword of `me`'s filters and drops the cache.
async fn store_keyword(state: &AppState, me: i64, k: &KeywordRow) -> AppResult<FilterKeyword> {
    let mut tx = state.db.begin().await?;
    store::upsert_keyword(&mut tx, k).await?;
    tx.commit().await?;
    state.filters.forget(me);
    Ok(FilterKeyword::from(k))
}

/// `DELETE /api/v2/filters/:id`. Errors: 404.
pub async fn delete(state: &AppState, me: i64, id: &str) -> AppResult<()> {
    let full = own(state, me, id).await?;
    remove(state, me, Removal::Filter(full.filter.id)).await
}

/// One of the caller's keywords, with its filter. Errors: 404.
async fn owned_keyword(
    state: &AppState,
    me: i64,
    kid: &str,
) -> AppResult<(FullFilter, KeywordRow)> {
    let kid: i64 = kid.parse().map_err(|_| AppError::NotFound)?;
    compiled(state, me)
        .await?
        .iter()
        .find_map(|c| {
            let k = c.full.keywords.iter().find(|k| k.id == kid)?;
            Some((c.full.clone(), k.clone()))
        })
        .ok_or(AppError::NotFound)
}

/// One of the caller's filtered statuses, with its filter. Errors: 404.
async fn owned_status(state: &AppState, me: i64, sid: &str) -> AppResult<FilterStatusRow> {
    let sid: i64 = sid.parse().map_err(|_| AppError::NotFound)?;
    compiled(state, me)
        .await?
        .iter()
        .find_map(|c| c.full.statuses.iter().find(|s| s.id == sid).cloned())
        .ok_or(AppError::NotFound)
}

fn status_entity(s: &FilterStatusRow) -> FilterStatus {
    FilterStatus {
        id: s.id.to_string(),
        status_id: s.status_id.to_string(),
    }
}

/// `GET /api/v2/filters/:id/keywords`.
pub async fn keywords(state: &AppState, me: i64, id: &str) -> AppResult<Vec<FilterKeyword>> {
    Ok(Filter::from(&own(state, me, id).await?).keywords)
}

/// `POST /api/v2/filters/:id/keywords` (`keyword`, `whole_word`). Errors: 404, 422.
pub async fn add_keyword(
    state: &AppState,
    me: i64,
    id: &str,
    keyword: &str,
    whole_word: bool,
) -> AppResult<FilterKeyword> {
    let full = own(state, me, id).await?;
    let k = KeywordRow {
        id: ids::new_id(),
        filter_id: full.filter.id,
        keyword: check_text("Keyword", keyword)?,
        whole_word,
    };
    store_keyword(state, me, &k).await
}

/// `GET /api/v2/filters/keywords/:id`.
pub async fn keyword(state: &AppState, me: i64, kid: &str) -> AppResult<FilterKeyword> {
    let (_, k) = owned_keyword(state, me, kid).await?;
    Ok(FilterKeyword::from(&k))
}

/// `PUT /api/v2/filters/keywords/:id` (`keyword`, `whole_word`).
pub async fn update_keyword(
    state: &AppState,
    me: i64,
    kid: &str,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> AppResult<FilterKeyword> {
    let (_, mut k) = owned_keyword(state, me, kid).await?;
    if let Some(w) = keyword {
        k.keyword = check_text("Keyword", w)?;
    }
    if let Some(w) = whole_word {
        k.whole_word = w;
    }
    store_keyword(state, me, &k).await
}

/// `DELETE /api/v2/filters/keywords/:id`.
pub async fn delete_keyword(state: &AppState, me: i64, kid: &str) -> AppResult<()> {
    let (_, k) = owned_keyword(state, me, kid).await?;
    remove(state, me, Removal::Keyword(k.id)).await
}

/// `GET /api/v2/filters/:id/statuses`.
pub async fn filter_statuses(state: &AppState, me: i64, id: &str) -> AppResult<Vec<FilterStatus>> {
    Ok(Filter::from(&own(state, me, id).await?).statuses)
}

/// `POST /api/v2/filters/:id/statuses` (`status_id`): the status must be one the caller can see.
pub async fn add_status(
    state: &AppState,
    me: i64,
    id: &str,
    status_id: &str,
) -> AppResult<FilterStatus> {
    let full = own(state, me, id).await?;
    let status = crate::service::statuses::visible(state, Some(me), status_id).await?;
    if let Some(existing) = full.statuses.iter().find(|s| s.status_id == status.id) {
        return Ok(status_entity(existing));
    }
    let row = FilterStatusRow {
        id: ids::new_id(),
        filter_id: full.filter.id,
        status_id: status.id,
    };
    let mut tx = state.db.begin().await?;
    store::insert_status(&mut tx, &row).await?;
    tx.commit().await?;
    state.filters.forget(me);
    Ok(status_entity(&row))
}

/// `GET /api/v2/filters/statuses/:id`.
pub async fn filter_status(state: &AppState, me: i64, sid: &str) -> AppResult<FilterStatus> {
    Ok(status_entity(&owned_status(state, me, sid).await?))
}

/// `DELETE /api/v2/filters/statuses/:id`.
pub async fn delete_status(state: &AppState, me: i64, sid: &str) -> AppResult<()> {
    let s = owned_status(state, me, sid).await?;
    remove(state, me, Removal::Status(s.id)).await
}

// --- v1 ----------------------------------------------------------------------------------------------

/// `GET /api/v1/filters`: every keyword of every filter, as v1 filters.
pub async fn v1_list(state: &AppState, me: i64) -> AppResult<Vec<V1Filter>> {
    Ok(compiled(state, me)
        .await?
        .iter()
        .flat_map(|c| c.full.keywords.iter().map(|k| V1Filter::of(&c.full, k)))
        .collect())
}

/// `GET /api/v1/filters/:id` (a keyword ID).
pub async fn v1_show(state: &AppState, me: i64, kid: &str) -> AppResult<V1Filter> {
    let (full, k) = owned_keyword(state, me, kid).await?;
    Ok(V1Filter::of(&full, &k))
}

/// A v1 filter as sent: `phrase`, `context[]`, `irreversible`, `whole_word`, `expires_in`.
pub struct V1Change {
    pub phrase: Option<String>,
    pub context: Option<Vec<String>>,
    pub irreversible: Option<bool>,
    pub whole_word: Option<bool>,
    pub expires_in: Option<Option<i64>>,
}

impl V1Change {
    fn into_change(self, keyword_id: Option<String>) -> FilterChange {
        FilterChange {
            title: self.phrase.clone(),
            context: self.context,
            filter_action: self
                .irreversible
                .map(|i| if i { "hide" } else { "warn" }.to_string()),
            expires_in: self.expires_in,
            keywords: vec![KeywordChange {
                id: keyword_id,
                keyword: self.phrase,
                whole_word: self.whole_word,
                destroy: false,
            }],
        }
    }
}

/// `POST /api/v1/filters`: a v2 filter titled by the phrase, with the phrase as its one keyword.
pub async fn v1_create(state: &AppState, me: i64, c: V1Change) -> AppResult<V1Filter> {
    let f = save(state, me, None, c.into_change(None)).await?;
    let kid = f.keywords.first().map(|k| k.id.clone()).unwrap_or_default();
    v1_show(state, me, &kid).await
}

/// `PUT /api/v1/filters/:id`: the keyword and its filter's context, action and expiry.
pub async fn v1_update(state: &AppState, me: i64, kid: &str, c: V1Change) -> AppResult<V1Filter> {
    let (full, _) = owned_keyword(state, me, kid).await?;
    let mut change = c.into_change(Some(kid.to_string()));
    // The filter keeps its own title when it groups several keywords.
    if full.keywords.len() > 1 {
        change.title = None;
    }
    save(state, me, Some(&full.filter.id.to_string()), change).await?;
    v1_show(state, me, kid).await
}

/// `DELETE /api/v1/filters/:id`: the keyword, and its filter with it when nothing else is left.
pub async fn v1_delete(state: &AppState, me: i64, kid: &str) -> AppResult<()> {
    let (full, _) = owned_keyword(state, me, kid).await?;
    if full.keywords.len() <= 1 && full.statuses.is_empty() {
        delete(state, me, &full.filter.id.to_string()).await
    } else {
        delete_keyword(state, me, kid).await
    }
}
