//! `/api/v1/tags/:name`, follow/unfollow, and its shorts (`/api/v1/tags/:name/shorts`, Rookery's
//! extension) (docs.joinmastodon.org/methods/tags/).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use crate::api_types::status::Tag;
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, paged};
use crate::service::shorts::Feed;
use crate::service::{render, tags};
use crate::state::AppState;

/// `GET /api/v1/tags/:name` (public, or `read:follows` with a token: it tells whether the caller
/// follows the tag).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Json<Tag>> {
    let viewer = auth.viewer_id("read:follows")?;
    Ok(Json(tags::show(&state, &name, viewer).await?))
}

async fn set_follow(state: AppState, auth: Auth, name: String, on: bool) -> AppResult<Json<Tag>> {
    let cu = auth.require_user("write:follows")?;
    Ok(Json(
        tags::set_followed(&state, cu.account.id, &name, on).await?,
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

async fn set_feature(state: AppState, auth: Auth, name: String, on: bool) -> AppResult<Json<Tag>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(
        tags::set_featured(&state, cu.account.id, &name, on).await?,
    ))
}

/// `POST /api/v1/tags/:name/feature` (`write:accounts`, Mastodon 4.4) → `Tag`: the tag joins the
/// caller's featured hashtags (422 past 10).
pub async fn feature(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Json<Tag>> {
    set_feature(state, auth, name, true).await
}

/// `POST /api/v1/tags/:name/unfeature` (`write:accounts`, Mastodon 4.4) → `Tag`.
pub async fn unfeature(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Json<Tag>> {
    set_feature(state, auth, name, false).await
}

/// `GET /api/v1/tags/:name/shorts` (public): public shorts with the hashtag, newest first.
pub async fn shorts(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    uri: Uri,
    Params { value: p, .. }: Params<super::shorts::FeedParams>,
) -> AppResult<Response> {
    let viewer = auth.viewer_id("read:statuses")?;
    let name = name.trim_start_matches('#');
    let rows = crate::service::shorts::chronological(
        &state,
        viewer,
        Feed::Federated,
        Some(name),
        &p.page.page(),
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let out = render::statuses(&state, viewer, rows).await?;
    Ok(paged(&state.config.base_url(), &uri, out, &ids))
}
