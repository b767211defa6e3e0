//! `/api/v1/timelines/*` (docs.joinmastodon.org/methods/timelines/).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;

use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::render;
use crate::state::AppState;
use crate::storage::statuses::{self as store, ANONYMOUS, PublicFilter, StatusRow};

/// Renders a page of statuses for `viewer`, with their filters applied in `context` (`home`,
/// `public`); the `Link` header pages by the rows read, hidden ones included.
pub async fn respond(
    state: &AppState,
    viewer: Option<i64>,
    context: &str,
    uri: &Uri,
    rows: Vec<StatusRow>,
    page_ids: Vec<i64>,
) -> AppResult<Response> {
    let statuses = render::statuses(state, viewer, rows).await?;
    let statuses = crate::service::filters::statuses(state, viewer, context, statuses).await?;
    Ok(paged(&state.config.base_url(), uri, statuses, &page_ids))
}

/// `GET /api/v1/timelines/home` (`read:statuses`).
pub async fn home(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:statuses")?;
    let me = cu.account.id;
    let (rows, viewer_state) = store::home_with_viewer_state(&state.db, me, &p.page()).await?;
    let page_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let statuses = render::statuses_with(&state, Some(me), rows, Some(viewer_state)).await?;
    let statuses = crate::service::filters::statuses(&state, Some(me), "home", statuses).await?;
    Ok(paged(&state.config.base_url(), &uri, statuses, &page_ids))
}

#[derive(Deserialize)]
pub struct PublicParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient::bool")]
    local: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    remote: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    only_media: bool,
}

impl PublicParams {
    fn filter(&self) -> PublicFilter {
        PublicFilter {
            local: if self.local {
                Some(true)
            } else if self.remote {
                Some(false)
            } else {
                None
            },
            only_media: self.only_media,
            only_shorts: false,
        }
    }
}

/// `GET /api/v1/timelines/public` (public; `local`, `remote`, `only_media`).
pub async fn public(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PublicParams>,
) -> AppResult<Response> {
    let viewer = auth.viewer_id("read:statuses")?;
    let rows = store::public(
        &state.db,
        viewer.unwrap_or(ANONYMOUS),
        p.filter(),
        None,
        &p.page.page(),
    )
    .await?;
    let ids = rows.iter().map(|r| r.id).collect();
    respond(&state, viewer, "public", &uri, rows, ids).await
}

/// `GET /api/v1/timelines/tag/:hashtag` (public; `local`, `remote`, `only_media`).
pub async fn tag(
    State(state): State<AppState>,
    auth: Auth,
    Path(tag): Path<String>,
    uri: Uri,
    Params { value: p, .. }: Params<PublicParams>,
) -> AppResult<Response> {
    let viewer = auth.viewer_id("read:statuses")?;
    let name = tag.trim_start_matches('#');
    let rows = store::public(
        &state.db,
        viewer.unwrap_or(ANONYMOUS),
        p.filter(),
        Some(name),
        &p.page.page(),
    )
    .await?;
    let ids = rows.iter().map(|r| r.id).collect();
    respond(&state, viewer, "public", &uri, rows, ids).await
}
