//! Profiles and posts for browsers: `/@USER` (with `?tab=`), `/@USER/tagged/NAME`,
//! `/@USER/followers`, `/@USER/following` and `/@USER/:id` (handed over by `http::activitypub`,
//! which answers ActivityPub clients at the same addresses).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use crate::api_types::status::Status;
use crate::error::AppError;
use crate::service::{Page, render, timelines};
use crate::state::AppState;
use crate::web::app::*;
use crate::web::view::{AccountView, StatusView};

use super::app::*;
use super::*;

const PROFILE_TABS: &[(&str, &str)] = &[
    ("", "Posts"),
    ("replies", "Posts and replies"),
    ("media", "Media"),
    ("shorts", "Shorts"),
];

/// The account `acct` names, if visible.
async fn profile_account(
    state: &AppState,
    acct: &str,
) -> Result<crate::service::accounts::AccountRow, AppError> {
    let row = crate::service::accounts::by_acct(state, acct).await?;
    crate::service::accounts::visible(state, row.id).await
}

/// `GET /@USER` (or `@USER@DOMAIN`, our copy of a remote account) for a browser: the profile with
/// its posts (`?tab=replies|media|shorts`), the visitor's relationship buttons.
pub async fn profile(state: &AppState, headers: &HeaderMap, uri: &Uri, acct: &str) -> Response {
    profile_with(state, headers, uri, acct, None).await
}

/// `GET /@USER/tagged/NAME`: the profile showing only its posts with hashtag NAME (where featured
/// hashtags link). Errors: 404 for an unknown account or a malformed name.
pub async fn tagged(
    State(state): State<AppState>,
    Path((at_name, name)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(acct) = at_name.strip_prefix('@') else {
        return error_page(&state, AppError::NotFound);
    };
    match crate::service::tags::valid_name(&name) {
        Ok(name) => profile_with(&state, &headers, &uri, acct, Some(name)).await,
        Err(e) => error_page(&state, e),
    }
}

async fn profile_with(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    acct: &str,
    tagged: Option<&str>,
) -> Response {
    let q: ListQuery = uri
        .query()
        .and_then(|s| serde_urlencoded::from_str(s).ok())
        .unwrap_or_default();
    let viewer = maybe_signed_in(state, headers).await;
    let result = async {
        let row = profile_account(state, acct).await?;
        let v = viewer.as_ref().map(|u| u.account.id);
        let tab = PROFILE_TABS
            .iter()
            .map(|(k, _)| *k)
            .find(|k| Some(*k) == q.tab.as_deref())
            .unwrap_or("");
        let filter = crate::service::timelines::AccountFilter {
            exclude_replies: tab.is_empty(),
            exclude_reblogs: matches!(tab, "media" | "shorts"),
            only_media: tab == "media",
            only_shorts: tab == "shorts",
            tagged: tagged.map(str::to_string),
            ..Default::default()
        };
        let (found, ids) =
            timelines::account_statuses(state, v, row.id, &filter, &q.page()).await?;
        let a = AccountView::new(&render::account(state, &row).await?);
        let base = match (tagged, tab) {
            (Some(t), _) => format!("{}/tagged/{}?", a.path, urlencoding::encode(t)),
            (None, "") => format!("{}?", a.path),
            (None, tab) => format!("{}?tab={tab}&", a.path),
        };
        let (statuses, more) = feed(&found, &ids, viewer.as_ref(), &base);
        if q.fragment() {
            return Ok(render_screen(FeedFragment { statuses, more }, None));
        }
        let own = v == Some(row.id);
        let relationship = match v {
            Some(me) if !own => {
                let r = crate::service::relationships::relationship(state, me, row.id).await?;
                Some(RelationshipView {
                    following: r.following,
                    requested: r.requested,
                    followed_by: r.followed_by,
                    blocking: r.blocking,
                    muting: r.muting,
                })
            }
            _ => None,
        };
        let has_stories = match v {
            Some(me) => !crate::service::stories::of_account(state, me, &row.id.to_string())
                .await?
                .is_empty(),
            None => false,
        };
        let custom_status = crate::service::conversations::custom_status(state, row.id)
            .await?
            .map(|c| format!("{} {}", c.emoji, c.text).trim().to_string());
        let (shell, cookie) = shell(
            state,
            headers,
            uri,
            viewer.as_ref(),
            if own { "profile" } else { "" },
        )
        .await?;
        Ok(render_screen(
            ProfilePage {
                shell,
                a,
                relationship,
                own,
                has_stories,
                custom_status,
                tagged: tagged.map(str::to_string),
                featured: crate::service::featured::featured_tags(state, row.id)
                    .await?
                    .into_iter()
                    .map(|f| f.name)
                    .collect(),
                tab,
                tabs: PROFILE_TABS,
                statuses,
                more,
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(state, e))
}

/// `GET /@USER/followers`.
pub async fn follow_list_followers(
    State(state): State<AppState>,
    Path(at_name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    follow_list(state, at_name, "followers", headers, uri, q).await
}

/// `GET /@USER/following`.
pub async fn follow_list_following(
    State(state): State<AppState>,
    Path(at_name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    follow_list(state, at_name, "following", headers, uri, q).await
}

async fn follow_list(
    state: AppState,
    at_name: String,
    which: &str,
    headers: HeaderMap,
    uri: Uri,
    q: ListQuery,
) -> Response {
    let viewer = maybe_signed_in(&state, &headers).await;
    let result = async {
        let acct = at_name.strip_prefix('@').ok_or(AppError::NotFound)?;
        let (list, label) = match which {
            "followers" => (
                crate::service::relationships::AccountList::Followers,
                "Followers",
            ),
            "following" => (
                crate::service::relationships::AccountList::Following,
                "Following",
            ),
            _ => return Err(AppError::NotFound),
        };
        let row = profile_account(&state, acct).await?;
        let page = Page {
            limit: 40,
            ..q.page()
        };
        let (accounts, ids) =
            crate::service::relationships::list_accounts(&state, list, row.id, &page).await?;
        let back = format!("/@{acct}");
        let more = next_page(&ids, page.limit, &format!("{back}/{which}?"));
        let (shell, cookie) = shell(&state, &headers, &uri, viewer.as_ref(), "").await?;
        Ok(render_screen(
            AccountsPage {
                shell,
                heading: format!("{label} of @{acct}"),
                back,
                accounts: accounts.iter().map(AccountView::new).collect(),
                more,
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}

/// `GET /@USER/:id` for a browser: the post with its thread (what the visitor may see of it), and
/// a reply box when signed in.
pub async fn thread(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    acct: &str,
    id: &str,
) -> Response {
    let viewer = maybe_signed_in(state, headers).await;
    let result = async {
        let v = viewer.as_ref().map(|u| u.account.id);
        let row = crate::service::statuses::visible(state, v, id).await?;
        let author = profile_account(state, acct).await?;
        if row.account_id != author.id {
            return Err(AppError::NotFound);
        }
        let focus = render::status(state, v, row).await?;
        let context = crate::service::statuses::context(state, v, id).await?;
        let me = viewer.as_ref().map(|u| u.account.id.to_string());
        let views = |list: &[Status]| -> Vec<StatusView> {
            list.iter()
                .map(|s| StatusView::new(s, me.as_deref()))
                .collect()
        };
        let focus = StatusView::new(&focus, me.as_deref());
        let text = crate::text::html_to_text(&focus.content);
        let title = format!(
            "{}: “{}”",
            focus.author.name,
            text.chars().take(60).collect::<String>()
        );
        let (shell, cookie) = shell(state, headers, uri, viewer.as_ref(), "").await?;
        Ok(render_screen(
            ThreadPage {
                shell,
                title,
                ancestors: views(&context.ancestors),
                focus,
                descendants: views(&context.descendants),
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(state, e))
}
