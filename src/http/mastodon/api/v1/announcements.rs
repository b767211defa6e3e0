//! `/api/v1/announcements` (docs.joinmastodon.org/methods/announcements/).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::announcement::Announcement;
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::announcements as svc;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default, deserialize_with = "lenient::bool")]
    with_dismissed: bool,
}

/// `GET /api/v1/announcements` (`read:accounts`) → `[Announcement]`: current ones, oldest first;
/// dismissed ones only `with_dismissed`.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<ListParams>,
) -> AppResult<Json<Vec<Announcement>>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(
        svc::list(&state, cu.account.id, p.with_dismissed).await?,
    ))
}

/// `POST /api/v1/announcements/:id/dismiss` (`write:accounts`) → `{}`.
pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:accounts")?;
    svc::dismiss(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}

/// `PUT` and `DELETE /api/v1/announcements/:id/reactions/:name` (`write:favourites`) → `{}`; 422
/// for a name that is not an emoji.
pub async fn reaction(
    State(state): State<AppState>,
    auth: Auth,
    method: Method,
    Path((id, name)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:favourites")?;
    let on = method != Method::DELETE;
    svc::react(&state, cu.account.id, &id, &name, on).await?;
    Ok(Json(json!({})))
}
