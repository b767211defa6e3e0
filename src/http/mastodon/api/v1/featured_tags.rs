//! `/api/v1/featured_tags` (docs.joinmastodon.org/methods/featured_tags/); an account's are
//! `GET /api/v1/accounts/:id/featured_tags` in `accounts`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::status::Tag;
use crate::error::AppResult;
use crate::http::extract::{Auth, Params};
use crate::service::featured::{self as svc, FeaturedTag};
use crate::state::AppState;

/// `GET /api/v1/featured_tags` (`read:accounts`) → `[FeaturedTag]`.
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<FeaturedTag>>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(svc::featured_tags(&state, cu.account.id).await?))
}

#[derive(Deserialize)]
pub struct CreateParams {
    #[serde(default)]
    name: String,
}

/// `POST /api/v1/featured_tags` (`write:accounts`, `name`) → `FeaturedTag`; 422 for an invalid
/// name or too many.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<CreateParams>,
) -> AppResult<Json<FeaturedTag>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(
        svc::feature_tag(&state, cu.account.id, &p.name).await?,
    ))
}

/// `DELETE /api/v1/featured_tags/:id` (`write:accounts`) → `{}`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:accounts")?;
    svc::unfeature_tag(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/featured_tags/suggestions` (`read:accounts`) → `[Tag]`.
pub async fn suggestions(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Tag>>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(svc::tag_suggestions(&state, cu.account.id).await?))
}
