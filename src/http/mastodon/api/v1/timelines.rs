//! `/api/v1/timelines/*` (docs.joinmastodon.org/methods/timelines/).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;

use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged, paged_json};
use crate::service::{render, rendered};
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
    if !crate::service::filters::any(&state, me).await? {
        let (rows, vs) = store::home_page_with_viewer_state(&state.db, me, &p.page()).await?;
        let page_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let body = rendered::page(&state, Some((me, &vs)), &rows).await?;
        return Ok(paged_json(&state.config.base_url(), &uri, body, &page_ids));
    }
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
    public_or_tag(&state, &auth, &uri, &p, None).await
}

/// `GET /api/v1/timelines/tag/:hashtag` (public; `local`, `remote`, `only_media`).
pub async fn tag(
    State(state): State<AppState>,
    auth: Auth,
    Path(tag): Path<String>,
    uri: Uri,
    Params { value: p, .. }: Params<PublicParams>,
) -> AppResult<Response> {
    public_or_tag(&state, &auth, &uri, &p, Some(tag.trim_start_matches('#'))).await
}

/// The public timeline, or its statuses with hashtag `tag`: from kept renderings
/// (`service::rendered`) unless the viewer has filters.
async fn public_or_tag(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    p: &PublicParams,
    tag: Option<&str>,
) -> AppResult<Response> {
    let viewer = auth.viewer_id("read:statuses")?;
    let (db, v, page) = (&state.db, viewer.unwrap_or(ANONYMOUS), p.page.page());
    let filtered = match viewer {
        Some(v) => crate::service::filters::any(state, v).await?,
        None => false,
    };
    if filtered {
        let rows = store::public(db, v, p.filter(), tag, &page).await?;
        let ids = rows.iter().map(|r| r.id).collect();
        return respond(state, viewer, "public", uri, rows, ids).await;
    }
    let rows = store::public_page(db, v, p.filter(), tag, &page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let body = match viewer {
        Some(v) => {
            let vs = store::viewer_state(db, v, &ids).await?;
            rendered::page(state, Some((v, &vs)), &rows).await?
        }
        None => rendered::page(state, None, &rows).await?,
    };
    Ok(paged_json(&state.config.base_url(), uri, body, &ids))
}
