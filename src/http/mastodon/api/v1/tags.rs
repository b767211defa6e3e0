//! `/api/v1/tags/:name`, follow/unfollow, `/api/v1/followed_tags`
//! (docs.joinmastodon.org/methods/tags/, /methods/followed_tags/).

use axum::Json;
use axum::extract::{Path, State};

use crate::api_types::status::Tag;
use crate::error::{AppError, AppResult};
use crate::http::extract::Auth;
use crate::state::AppState;
use crate::storage::tags as store;

fn valid_name(name: &str) -> AppResult<&str> {
    let name = name.trim_start_matches('#');
    if name.is_empty()
        || name.chars().count() > 100
        || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return Err(AppError::NotFound);
    }
    Ok(name)
}

/// `GET /api/v1/tags/:name` (public, or `read:follows` with a token: it tells whether the caller
/// follows the tag).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Json<Tag>> {
    let viewer = auth.viewer_id("read:follows")?;
    let name = valid_name(&name)?;
    let row = store::find_by_name(&state.db, name)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(
        crate::service::tags::entity(&state, &row, viewer).await?,
    ))
}

async fn set_follow(state: AppState, auth: Auth, name: String, on: bool) -> AppResult<Json<Tag>> {
    let cu = auth.require_user("write:follows")?;
    let name = valid_name(&name)?;
    let row = if on {
        store::find_or_create(&state.db, name).await?
    } else {
        store::find_by_name(&state.db, name)
            .await?
            .ok_or(AppError::NotFound)?
    };
    store::set_followed(&state.db, cu.account.id, row.id, on).await?;
    Ok(Json(
        crate::service::tags::entity(&state, &row, Some(cu.account.id)).await?,
    ))
}

/// `POST /api/v1/tags/:name/follow` (`write:follows`): public posts with the tag join the home feed.
pub async fn follow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Json<Tag>> {
    set_follow(state, auth, name, true).await
}

/// `POST /api/v1/tags/:name/unfollow` (`write:follows`).
pub async fn unfollow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Json<Tag>> {
    set_follow(state, auth, name, false).await
}

/// `GET /api/v1/followed_tags` (`read:follows`).
pub async fn followed(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Tag>>> {
    let cu = auth.require_user("read:follows")?;
    let mut out = Vec::new();
    for row in store::followed(&state.db, cu.account.id).await? {
        out.push(crate::service::tags::entity(&state, &row, Some(cu.account.id)).await?);
    }
    Ok(Json(out))
}
