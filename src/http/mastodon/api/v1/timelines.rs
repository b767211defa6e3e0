//! `/api/v1/timelines/*` (docs.joinmastodon.org/methods/timelines/): home, public, tag, list, and
//! Rookery's shorts feeds (docs/API.md, Shorts).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::LINK;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged, paged_json};
use crate::service::render;
use crate::service::shorts::Feed;
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
    /// Hashtag timelines: more tags (`any[]`, `all[]`, `none[]`).
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    any: Vec<String>,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    all: Vec<String>,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    none: Vec<String>,
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
            card_id: None,
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

/// `GET /api/v1/timelines/tag/:hashtag` (public; `local`, `remote`, `only_media`, and `any[]`,
/// `all[]`, `none[]`: up to 4 more hashtags each, 422 past that or for a malformed name).
pub async fn tag(
    State(state): State<AppState>,
    auth: Auth,
    Path(tag): Path<String>,
    uri: Uri,
    Params { value: p, .. }: Params<PublicParams>,
) -> AppResult<Response> {
    let tag = tag.trim_start_matches('#');
    let q = svc::tag_query(&p.any, &p.all, &p.none)?;
    if q.is_empty() {
        return public_or_tag(&state, &auth, &uri, &p, Some(tag)).await;
    }
    let viewer = auth.viewer_id("read:statuses")?;
    let page = svc::tag_timeline(&state, viewer, p.filter(), tag, &q, &p.page.page()).await?;
    Ok(respond(&state, &uri, page))
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

#[derive(Deserialize)]
pub struct LinkParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default)]
    url: String,
}

/// `GET /api/v1/timelines/link?url=` (public, or `read:statuses` with a token; Mastodon 4.3):
/// public posts showing the preview card of `url`, newest first, as the public timeline filters
/// them. Errors: 404 when no post here links it (Mastodon: when it is not trending).
pub async fn link(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<LinkParams>,
) -> AppResult<Response> {
    let viewer = auth.viewer_id("read:statuses")?;
    let card_id = crate::service::cards::id_of_url(&state, &p.url)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let filter = PublicFilter {
        card_id: Some(card_id),
        ..Default::default()
    };
    let page = svc::public(&state, viewer, filter, None, &p.page.page()).await?;
    Ok(respond(&state, &uri, page))
}

/// `GET /api/v1/timelines/list/:id` (`read:lists`) → `[Status]`, paginated.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:lists")?;
    let me = cu.account.id;
    let rows = crate::service::lists::timeline(&state, me, &id, &p.page()).await?;
    let page = crate::service::timelines::render_rows(&state, Some(me), "home", rows).await?;
    Ok(crate::http::mastodon::api::v1::timelines::respond(
        &state, &uri, page,
    ))
}

/// `GET /api/v1/timelines/shorts?feed=following|local|federated|for_you` (public except
/// `following`; default `for_you`). Chronological feeds page with `max_id`/`since_id`/`min_id`;
/// `for_you` pages with `offset` (its `Link` header gives the next one).
pub async fn shorts(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<super::shorts::FeedParams>,
) -> AppResult<Response> {
    let viewer = auth.viewer_id("read:statuses")?;
    let feed = Feed::parse(p.feed.as_deref().filter(|f| !f.is_empty()))?;
    if feed != Feed::ForYou {
        let rows =
            crate::service::shorts::chronological(&state, viewer, feed, None, &p.page.page())
                .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let out = render::statuses(&state, viewer, rows).await?;
        return Ok(paged(&state.config.base_url(), &uri, out, &ids));
    }
    let limit = p.page.page().limit as usize;
    let offset = p.offset.unwrap_or(0).max(0) as usize;
    let (out, next) = crate::service::shorts::for_you(&state, viewer, offset, limit).await?;
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
