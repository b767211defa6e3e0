//! `/api/v1/filters` (docs.joinmastodon.org/methods/filters/#v1): the older one-phrase filters,
//! each a keyword of a v2 filter (`irreversible` is the `hide` action).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::filter::V1Filter;
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::http::mastodon::api::v2::filters::expiry;
use crate::service::filters::{self as svc, V1Change};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct V1Params {
    phrase: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_one_or_many")]
    context: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    irreversible: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    whole_word: Option<bool>,
    #[serde(default, deserialize_with = "expiry")]
    expires_in: Option<Option<i64>>,
}

impl From<V1Params> for V1Change {
    fn from(p: V1Params) -> V1Change {
        V1Change {
            phrase: p.phrase,
            context: p.context,
            irreversible: p.irreversible,
            whole_word: p.whole_word,
            expires_in: p.expires_in,
        }
    }
}

/// `GET /api/v1/filters` (`read:filters`) → `[V1_Filter]`.
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<V1Filter>>> {
    let cu = auth.require_user("read:filters")?;
    Ok(Json(svc::v1_list(&state, cu.account.id).await?))
}

/// `POST /api/v1/filters` (`write:filters`: `phrase`, `context[]`, `irreversible`, `whole_word`,
/// `expires_in`) → `V1_Filter`.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<V1Params>,
) -> AppResult<Json<V1Filter>> {
    let cu = auth.require_user("write:filters")?;
    Ok(Json(svc::v1_create(&state, cu.account.id, p.into()).await?))
}

/// `GET /api/v1/filters/:id` (`read:filters`) → `V1_Filter`.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<V1Filter>> {
    let cu = auth.require_user("read:filters")?;
    Ok(Json(svc::v1_show(&state, cu.account.id, &id).await?))
}

/// `PUT /api/v1/filters/:id` (`write:filters`) → `V1_Filter`.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<V1Params>,
) -> AppResult<Json<V1Filter>> {
    let cu = auth.require_user("write:filters")?;
    Ok(Json(
        svc::v1_update(&state, cu.account.id, &id, p.into()).await?,
    ))
}

/// `DELETE /api/v1/filters/:id` (`write:filters`) → `{}`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:filters")?;
    svc::v1_delete(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}
