//! The public screens: `/explore` (trends, people, the local feed, search), `/tags/:name` and
//! `/about`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use crate::error::AppError;
use crate::service::activitypub::context::FedData;
use crate::service::oauth::CurrentUser;
use crate::service::{render, timelines};
use crate::state::AppState;
use crate::web::app::*;
use crate::web::view::AccountView;

use super::app::*;
use super::*;

const EXPLORE_TABS: &[(&str, &str)] = &[
    ("posts", "Posts"),
    ("tags", "Hashtags"),
    ("links", "News"),
    ("people", "People"),
    ("local", "Local"),
];

/// `GET /explore?tab=posts|tags|links|people|local` and `?q=` (search: accounts — `@user@host`
/// resolved over the network for a signed-in visitor —, hashtags, and posts by URL). Signed out,
/// the local feed is the default tab.
pub async fn explore(
    State(state): State<AppState>,
    data: FedData,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let viewer = maybe_signed_in(&state, &headers).await;
    match explore_screen(&data, &headers, &uri, viewer.as_ref(), &q).await {
        Ok(r) => r,
        Err(e) => error_page(&state, e),
    }
}

async fn explore_screen(
    data: &FedData,
    headers: &HeaderMap,
    uri: &Uri,
    viewer: Option<&CurrentUser>,
    q: &ListQuery,
) -> Result<Response, AppError> {
    let state: &AppState = data;
    let v = viewer.map(|u| u.account.id);
    let text: String = q.text().chars().take(200).collect();
    let default = if viewer.is_some() { "posts" } else { "local" };
    let tab = EXPLORE_TABS
        .iter()
        .map(|(k, _)| *k)
        .find(|k| Some(*k) == q.tab.as_deref())
        .unwrap_or(default);
    let (shell, cookie) = shell(state, headers, uri, viewer, "explore").await?;
    let mut out = ExplorePage {
        shell,
        q: text.clone(),
        tab,
        tabs: EXPLORE_TABS,
        error: None,
        accounts: vec![],
        tags: vec![],
        links: vec![],
        statuses: vec![],
        more: None,
    };
    out.shell.q = text.clone();
    if !text.is_empty() {
        let rows = crate::service::search::accounts(data, &text, viewer.is_some(), 20, 0).await?;
        out.accounts = render::accounts(state, &rows)
            .await?
            .iter()
            .map(AccountView::new)
            .collect();
        out.tags = crate::service::search::hashtags(state, v, &text, 10, 0)
            .await?
            .into_iter()
            .map(|t| (t.name, 0))
            .collect();
        let is_url = text.starts_with("https://") || text.starts_with("http://");
        let rows = if is_url {
            crate::service::search::status_by_url(state, v, &text)
                .await?
                .into_iter()
                .collect()
        } else {
            // Posts by their words, as the API's full-text search; a malformed query (a bad
            // operator) shows no posts rather than an error page.
            match crate::service::search::statuses(state, v, &text, None, (None, None), PER_PAGE, 0)
                .await
            {
                Ok(rows) => rows,
                Err(crate::error::AppError::Unprocessable { .. }) => Vec::new(),
                Err(e) => return Err(e),
            }
        };
        if !rows.is_empty() {
            let found = render::statuses(state, v, rows).await?;
            out.statuses = feed(&found, &[], viewer, "").0;
        }
        return Ok(render_screen(out, cookie));
    }
    match tab {
        "posts" => {
            let found = crate::service::tags::trending_statuses(state, v, PER_PAGE, 0).await?;
            out.statuses = feed(&found, &[], viewer, "").0;
        }
        "tags" => {
            out.tags = crate::service::tags::trending(state, v, 20, 0)
                .await?
                .into_iter()
                .map(|t| {
                    let people = t
                        .history
                        .iter()
                        .filter_map(|h| h.accounts.parse::<i64>().ok())
                        .sum();
                    (t.name, people)
                })
                .collect();
        }
        "links" => {
            out.links = crate::service::cards::trending(state, 20, 0)
                .await?
                .iter()
                .map(|c| {
                    let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                    let title = if s("title").is_empty() {
                        s("url")
                    } else {
                        s("title")
                    };
                    (s("url"), title, s("provider_name"))
                })
                .collect();
        }
        "people" => {
            let accounts = match viewer {
                Some(u) => crate::service::featured::suggestions(state, u.account.id, 20)
                    .await?
                    .into_iter()
                    .map(|s| s.account)
                    .collect(),
                None => crate::service::featured::directory(state, true, "active", 20, 0).await?,
            };
            out.accounts = accounts.iter().map(AccountView::new).collect();
        }
        _ => {
            let (found, ids) = timelines::public_statuses(
                state,
                v,
                crate::service::timelines::PublicFilter {
                    local: Some(true),
                    ..Default::default()
                },
                None,
                &q.page(),
            )
            .await?;
            (out.statuses, out.more) = feed(&found, &ids, viewer, "/explore?tab=local&");
            if q.fragment() {
                return Ok(render_screen(
                    FeedFragment {
                        statuses: out.statuses,
                        more: out.more,
                    },
                    None,
                ));
            }
        }
    }
    Ok(render_screen(out, cookie))
}

/// `GET /tags/:name`: the public posts with this hashtag, newest first (anyone).
pub async fn tag(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let viewer = maybe_signed_in(&state, &headers).await;
    let result = async {
        let name = crate::service::tags::valid_name(&name)?;
        let v = viewer.as_ref().map(|u| u.account.id);
        let (found, ids) = timelines::public_statuses(
            &state,
            v,
            crate::service::timelines::PublicFilter::default(),
            Some(&name),
            &q.page(),
        )
        .await?;
        let base = format!("/tags/{}?", urlencoding::encode(&name));
        let (statuses, more) = feed(&found, &ids, viewer.as_ref(), &base);
        if q.fragment() {
            return Ok(render_screen(FeedFragment { statuses, more }, None));
        }
        let following = match v {
            Some(me) => match crate::service::tags::show(&state, &name, Some(me)).await {
                Ok(t) => Some(t.following.unwrap_or(false)),
                // A tag nobody used yet: not followed (following it creates it).
                Err(AppError::NotFound) => Some(false),
                Err(e) => return Err(e),
            },
            None => None,
        };
        let (shell, cookie) = shell(&state, &headers, &uri, viewer.as_ref(), "explore").await?;
        Ok(render_screen(
            TagPage {
                shell,
                following,
                name: name.to_string(),
                statuses,
                more,
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}

/// `GET /about` (anyone): the instance's description, rules, contact (account and address), counts
/// and software, as `/api/v2/instance` gives them to apps.
pub async fn about(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let viewer = maybe_signed_in(&state, &headers).await;
    let result = async {
        let facts = crate::service::instance::facts(&state).await?;
        let contact = match &facts.contact {
            Some(row) => Some(AccountView::new(&render::account(&state, row).await?)),
            None => None,
        };
        let (shell, cookie) = shell(&state, &headers, &uri, viewer.as_ref(), "about").await?;
        let cfg = &state.config.instance;
        Ok(render_screen(
            AboutPage {
                shell,
                description: cfg.description.clone(),
                rules: cfg.rules.clone(),
                contact,
                email: cfg.contact_email.clone(),
                users: facts.stats.user_count,
                posts: facts.stats.status_count,
                servers: facts.stats.domain_count,
                version: env!("CARGO_PKG_VERSION").to_string(),
                source_url: cfg.source_url.clone(),
                moderated: match crate::service::moderation::published_domain_blocks(
                    &state,
                    viewer.is_some(),
                )
                .await
                {
                    Ok(list) => list,
                    // Not published, or not to this visitor.
                    Err(AppError::NotFound | AppError::Unauthorized(_)) => Vec::new(),
                    Err(e) => return Err(e),
                }
                .iter()
                .map(|b| {
                    let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
                    (s("domain"), s("severity"), s("comment"))
                })
                .collect(),
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}
