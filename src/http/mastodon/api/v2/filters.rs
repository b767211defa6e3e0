//! `/api/v2/filters` (docs.joinmastodon.org/methods/filters/): filters with their keywords and
//! statuses. Reading needs `read:filters`, changing `write:filters`; someone else's filter, keyword
//! or status is 404.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::api_types::filter::{Filter, FilterKeyword, FilterStatus};
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::filters::{self as svc, FilterChange, KeywordChange};
use crate::state::AppState;

/// `expires_in`: absent keeps the expiry; null or `""` removes it; seconds set it.
pub fn expiry<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(lenient::opt_i64(d)?))
}

#[derive(Deserialize)]
pub struct KeywordParam {
    id: Option<String>,
    keyword: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    whole_word: Option<bool>,
    #[serde(default, rename = "_destroy", deserialize_with = "lenient::bool")]
    destroy: bool,
}

/// `keywords_attributes` arrives as a list (JSON) or an index-keyed map (forms).
#[derive(Deserialize)]
#[serde(untagged)]
pub enum KeywordsParam {
    List(Vec<KeywordParam>),
    Map(BTreeMap<String, KeywordParam>),
}

#[derive(Deserialize)]
pub struct FilterParams {
    title: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_one_or_many")]
    context: Option<Vec<String>>,
    filter_action: Option<String>,
    #[serde(default, deserialize_with = "expiry")]
    expires_in: Option<Option<i64>>,
    keywords_attributes: Option<KeywordsParam>,
}

impl From<FilterParams> for FilterChange {
    fn from(p: FilterParams) -> FilterChange {
        let keywords = match p.keywords_attributes {
            Some(KeywordsParam::List(l)) => l,
            Some(KeywordsParam::Map(m)) => m.into_values().collect(),
            None => Vec::new(),
        };
        FilterChange {
            title: p.title,
            context: p.context,
            filter_action: p.filter_action,
            expires_in: p.expires_in,
            keywords: keywords
                .into_iter()
                .map(|k| KeywordChange {
                    id: k.id,
                    keyword: k.keyword,
                    whole_word: k.whole_word,
                    destroy: k.destroy,
                })
                .collect(),
        }
    }
}

/// `GET /api/v2/filters` → `[Filter]`.
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Filter>>> {
    let cu = auth.require_user("read:filters")?;
    Ok(Json(svc::list(&state, cu.account.id).await?))
}

/// `POST /api/v2/filters` (`title`, `context[]`, `filter_action`, `expires_in`,
/// `keywords_attributes[]`) → `Filter`; 422 for invalid fields.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<FilterParams>,
) -> AppResult<Json<Filter>> {
    let cu = auth.require_user("write:filters")?;
    Ok(Json(
        svc::save(&state, cu.account.id, None, p.into()).await?,
    ))
}

/// `GET /api/v2/filters/:id` → `Filter`.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Filter>> {
    let cu = auth.require_user("read:filters")?;
    Ok(Json(svc::show(&state, cu.account.id, &id).await?))
}

/// `PUT /api/v2/filters/:id` (as create; `keywords_attributes[][id]` changes a keyword,
/// `[_destroy]` removes it) → `Filter`.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<FilterParams>,
) -> AppResult<Json<Filter>> {
    let cu = auth.require_user("write:filters")?;
    Ok(Json(
        svc::save(&state, cu.account.id, Some(&id), p.into()).await?,
    ))
}

/// `DELETE /api/v2/filters/:id` → `{}`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:filters")?;
    svc::delete(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub struct KeywordFields {
    keyword: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    whole_word: Option<bool>,
}

/// `GET /api/v2/filters/:id/keywords` → `[FilterKeyword]`.
pub async fn keywords(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<FilterKeyword>>> {
    let cu = auth.require_user("read:filters")?;
    Ok(Json(svc::keywords(&state, cu.account.id, &id).await?))
}

/// `POST /api/v2/filters/:id/keywords` (`keyword`, `whole_word`) → `FilterKeyword`.
pub async fn add_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<KeywordFields>,
) -> AppResult<Json<FilterKeyword>> {
    let cu = auth.require_user("write:filters")?;
    let keyword = p.keyword.unwrap_or_default();
    let whole = p.whole_word.unwrap_or(true);
    Ok(Json(
        svc::add_keyword(&state, cu.account.id, &id, &keyword, whole).await?,
    ))
}

/// `GET /api/v2/filters/keywords/:id` → `FilterKeyword`.
pub async fn keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<FilterKeyword>> {
    let cu = auth.require_user("read:filters")?;
    Ok(Json(svc::keyword(&state, cu.account.id, &id).await?))
}

/// `PUT /api/v2/filters/keywords/:id` (`keyword`, `whole_word`) → `FilterKeyword`.
pub async fn update_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<KeywordFields>,
) -> AppResult<Json<FilterKeyword>> {
    let cu = auth.require_user("write:filters")?;
    let me = cu.account.id;
    Ok(Json(
        svc::update_keyword(&state, me, &id, p.keyword.as_deref(), p.whole_word).await?,
    ))
}

/// `DELETE /api/v2/filters/keywords/:id` → `{}`.
pub async fn delete_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:filters")?;
    svc::delete_keyword(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub struct StatusFields {
    #[serde(default)]
    status_id: String,
}

/// `GET /api/v2/filters/:id/statuses` → `[FilterStatus]`.
pub async fn statuses(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<FilterStatus>>> {
    let cu = auth.require_user("read:filters")?;
    Ok(Json(
        svc::filter_statuses(&state, cu.account.id, &id).await?,
    ))
}

/// `POST /api/v2/filters/:id/statuses` (`status_id`) → `FilterStatus`; 404 for a status the caller
/// cannot see.
pub async fn add_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<StatusFields>,
) -> AppResult<Json<FilterStatus>> {
    let cu = auth.require_user("write:filters")?;
    Ok(Json(
        svc::add_status(&state, cu.account.id, &id, &p.status_id).await?,
    ))
}

/// `GET /api/v2/filters/statuses/:id` → `FilterStatus`.
pub async fn status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<FilterStatus>> {
    let cu = auth.require_user("read:filters")?;
    Ok(Json(svc::filter_status(&state, cu.account.id, &id).await?))
}

/// `DELETE /api/v2/filters/statuses/:id` → `{}`.
pub async fn delete_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:filters")?;
    svc::delete_status(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}
