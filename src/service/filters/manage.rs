//! Managing filters through the client API (v2 filters with keywords and statuses, and the v1
//! shape over them).

use chrono::Utc;
use sqlx::types::Json;

use crate::api_types::filter::{Filter, FilterKeyword, FilterStatus, V1Filter};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::filters::{self as store, FilterRow, FilterStatusRow, FullFilter, KeywordRow};
use crate::storage::ids;

use super::*;

/// Longest keyword and title accepted, in characters.
pub(super) const MAX_TEXT: usize = 255;

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

pub(super) fn check_text(what: &str, s: &str) -> AppResult<String> {
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

pub(super) async fn own(state: &AppState, me: i64, id: &str) -> AppResult<FullFilter> {
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
pub(super) enum Removal {
    Filter(i64),
    Keyword(i64),
    Status(i64),
}

/// Removes one thing of `me`'s filters (already checked to be theirs) and drops the cache.
pub(super) async fn remove(state: &AppState, me: i64, what: Removal) -> AppResult<()> {
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
pub(super) async fn store_keyword(
    state: &AppState,
    me: i64,
    k: &KeywordRow,
) -> AppResult<FilterKeyword> {
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
pub(super) async fn owned_keyword(
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
pub(super) async fn owned_status(
    state: &AppState,
    me: i64,
    sid: &str,
) -> AppResult<FilterStatusRow> {
    let sid: i64 = sid.parse().map_err(|_| AppError::NotFound)?;
    compiled(state, me)
        .await?
        .iter()
        .find_map(|c| c.full.statuses.iter().find(|s| s.id == sid).cloned())
        .ok_or(AppError::NotFound)
}

pub(super) fn status_entity(s: &FilterStatusRow) -> FilterStatus {
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
