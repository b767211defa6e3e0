//! `/api/v1/timelines/*` (docs.joinmastodon.org/methods/timelines/).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;

use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged_json};
use crate::service::timelines::{self as svc, PublicFilter, TimelinePage};
use crate::state::AppState;

/// A timeline page as the response: the statuses with a `Link` header paging by the rows read.
pub fn respond(state: &AppState, uri: &Uri, page: TimelinePage) -> Response {
    paged_json(&state.config.base_url(), uri, page.json, &page.ids)
}

/// `GET /api/v1/timelines/home` (`read:statuses`).
pub async fn home(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:statuses")?;
    let page = svc::home(&state, cu.account.id, &p.page()).await?;
    Ok(respond(&state, &uri, page))
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

/// The public timeline, or its statuses with hashtag `tag`.
async fn public_or_tag(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    p: &PublicParams,
    tag: Option<&str>,
) -> AppResult<Response> {
    let viewer = auth.viewer_id("read:statuses")?;
    let page = svc::public(state, viewer, p.filter(), tag, &p.page.page()).await?;
    Ok(respond(state, uri, page))
}
