//! Shorts (Rookery's extension; docs/API.md, Shorts): `GET /api/v1/timelines/shorts`,
//! `GET /api/v1/tags/:name/shorts`, `POST /api/v1/statuses/:id/view`. Posting is
//! `POST /api/v1/statuses` with `short` or `POST /api/v1/shorts` (in `statuses`), and an account's
//! shorts are `GET /api/v1/accounts/:id/shorts` (in `accounts`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::LINK;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::api_types::status::Status;
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::render;
use crate::service::shorts::{self as svc, Feed};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct FeedParams {
    #[serde(flatten)]
    page: PageParams,
    feed: Option<String>,
    /// `for_you` only: where in the ranking this page starts.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
}

fn viewer(auth: &Auth) -> AppResult<Option<i64>> {
    auth.viewer_id("read:statuses")
}

/// `GET /api/v1/timelines/shorts?feed=following|local|federated|for_you` (public except
/// `following`; default `for_you`). Chronological feeds page with `max_id`/`since_id`/`min_id`;
/// `for_you` pages with `offset` (its `Link` header gives the next one).
pub async fn timeline(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<FeedParams>,
) -> AppResult<Response> {
    let viewer = viewer(&auth)?;
    let feed = Feed::parse(p.feed.as_deref().filter(|f| !f.is_empty()))?;
    if feed != Feed::ForYou {
        let rows = svc::chronological(&state, viewer, feed, None, &p.page.page()).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let out = render::statuses(&state, viewer, rows).await?;
        return Ok(paged(&state.config.base_url(), &uri, out, &ids));
    }
    let limit = p.page.page().limit as usize;
    let offset = p.offset.unwrap_or(0).max(0) as usize;
    let (out, next) = svc::for_you(&state, viewer, offset, limit).await?;
    let more = out.len() == limit;
    let mut resp = Json(out).into_response();
    if more {
        let link = format!(
            "<{}/api/v1/timelines/shorts?feed=for_you&offset={next}&limit={limit}>; rel=\"next\"",
            state.config.base_url()
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert(LINK, v);
        }
    }
    Ok(resp)
}

/// `GET /api/v1/tags/:name/shorts` (public): public shorts with the hashtag, newest first.
pub async fn tag(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    uri: Uri,
    Params { value: p, .. }: Params<FeedParams>,
) -> AppResult<Response> {
    let viewer = viewer(&auth)?;
    let name = name.trim_start_matches('#');
    let rows =
        svc::chronological(&state, viewer, Feed::Federated, Some(name), &p.page.page()).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let out = render::statuses(&state, viewer, rows).await?;
    Ok(paged(&state.config.base_url(), &uri, out, &ids))
}

#[derive(Deserialize)]
pub struct ViewParams {
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    watched_seconds: Option<f64>,
}

/// `POST /api/v1/statuses/:id/view` (`write:statuses`) {watched_seconds} → the `Status` with its
/// `views_count`. Errors: 404 not visible; 422 not a short or a bad `watched_seconds`.
pub async fn view(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ViewParams>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:statuses")?;
    let row = svc::view(&state, cu, &id, p.watched_seconds.unwrap_or(0.0)).await?;
    Ok(Json(
        render::status(&state, Some(cu.account.id), row).await?,
    ))
}
