//! The web app's screens: `/` (Home when signed in, else Explore), `/home`, `/explore`,
//! `/tags/:name`, `/notifications`, and for browsers `/@USER` (with `?tab=`), `/@USER/followers`,
//! `/@USER/following` and `/@USER/:id`. Each is rendered from the same service calls and
//! entities as the client API; the pages' scripts then call that API with the session (see
//! `http::extract::auth::session_principal`). A list answers `?fragment=1` with only its
//! entries and the next page's link, for the infinite scroll.

use axum::extract::{Path, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use crate::api_types::status::Status;
use crate::error::AppError;
use crate::http::oauth::{csrf_token, html, message};
use crate::service::activitypub::context::FedData;
use crate::service::oauth::CurrentUser;
use crate::service::{Page, notifications, render, timelines};
use crate::state::AppState;
use crate::web::app::*;
use crate::web::view::{AccountView, NotificationView, StatusView};

use super::*;

/// Posts per page of a list.
const PER_PAGE: i64 = 20;

/// The query of a list screen: pagination (IDs as the API takes them; anything else is ignored),
/// the part to show, and whether only the entries are wanted.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    max_id: Option<String>,
    since_id: Option<String>,
    fragment: Option<String>,
    tab: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    q: Option<String>,
}

impl ListQuery {
    /// The search text, trimmed.
    pub(super) fn text(&self) -> &str {
        self.q.as_deref().unwrap_or("").trim()
    }

    /// The pagination asked for, `PER_PAGE` entries.
    pub(super) fn page(&self) -> Page {
        Page {
            max_id: self.max_id.as_deref().and_then(|v| v.parse().ok()),
            since_id: self.since_id.as_deref().and_then(|v| v.parse().ok()),
            min_id: None,
            limit: PER_PAGE,
        }
    }

    /// `fragment=1`: only the entries and the next page's link (the infinite scroll).
    pub(super) fn fragment(&self) -> bool {
        self.fragment.as_deref().is_some_and(|f| f == "1")
    }
}

/// An error as a page (the API's errors are JSON; a person gets HTML).
pub(super) fn error_page(state: &AppState, e: AppError) -> Response {
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(error = %e, "page failed");
    }
    let (heading, text) = match status {
        StatusCode::NOT_FOUND => ("Not found", "There is nothing at this address.".to_string()),
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => ("Not allowed", e.to_string()),
        s if s.is_server_error() => ("Something went wrong", "Try again in a moment.".to_string()),
        _ => ("That did not work", e.to_string()),
    };
    message(state, status, heading, &text)
}

/// A screen, not to be stored by shared caches (it carries the visitor's CSRF token), with the
/// CSRF cookie made for it if one was.
fn screen(page: Response, new_cookie: Option<String>) -> Response {
    let mut r = with_new_cookie(page, new_cookie);
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    r
}

/// The shell of a screen for `viewer` at `uri`, and the CSRF cookie to set if the browser had none.
pub(super) async fn shell(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    viewer: Option<&CurrentUser>,
    page: &'static str,
) -> Result<(Shell, Option<String>), AppError> {
    let (csrf, new_cookie) = csrf_token(state, headers);
    let (me, unread) = match viewer {
        Some(u) => (
            Some(AccountView::new(&render::account(state, &u.account).await?)),
            notifications::unread_count(state, u.account.id, 99).await?,
        ),
        None => (None, 0),
    };
    // Where sign-in comes back to: this page, or only its path when the query is outsized.
    let here = uri
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| p.len() <= 1000)
        .unwrap_or_else(|| uri.path());
    Ok((
        Shell {
            instance_title: state.config.instance.title.clone(),
            csrf,
            me,
            page,
            unread,
            here_encoded: urlencoding::encode(here).into_owned(),
            q: String::new(),
        },
        new_cookie,
    ))
}

/// The link to the page after the last of `ids` (`{base}max_id=ID`) when the page was full
/// (`limit` entries); `base` ends in `?` or `&`.
pub(super) fn next_page(ids: &[i64], limit: i64, base: &str) -> Option<String> {
    (ids.len() as i64 >= limit)
        .then(|| ids.last().map(|last| format!("{base}max_id={last}")))
        .flatten()
}

/// The views of `statuses` for `viewer`, and the link to the page after the last of `ids` when
/// this one was full (`base` is the screen's path with its query, ending in `?` or `&`).
fn feed(
    statuses: &[Status],
    ids: &[i64],
    viewer: Option<&CurrentUser>,
    base: &str,
) -> (Vec<StatusView>, Option<String>) {
    let me = viewer.map(|u| u.account.id.to_string());
    let views = statuses
        .iter()
        .map(|s| StatusView::new(s, me.as_deref()))
        .collect();
    (views, next_page(ids, PER_PAGE, base))
}

/// A rendered screen as [`screen`] answers it.
pub(super) fn render_screen(page: impl askama::Template, new_cookie: Option<String>) -> Response {
    screen(html(StatusCode::OK, page), new_cookie)
}

/// `GET /`: Home for a signed-in visitor, else Explore (the instance's front page).
pub async fn root(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match maybe_signed_in(&state, &headers).await {
        Some(_) => see_other("/home"),
        None => see_other("/explore"),
    }
}

/// `GET /home`: the story tray, the compose box and the home feed (signed in; else to sign in).
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let user = match signed_in(&state, &headers, "/home").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    match home_screen(&state, &headers, &uri, &user, &q).await {
        Ok(r) => r,
        Err(e) => error_page(&state, e),
    }
}

async fn home_screen(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    user: &CurrentUser,
    q: &ListQuery,
) -> Result<Response, AppError> {
    let (statuses, ids) = timelines::home_statuses(state, user.account.id, &q.page()).await?;
    let (statuses, more) = feed(&statuses, &ids, Some(user), "/home?");
    if q.fragment() {
        // New posts above the newest shown have no "older" link: the page below has them.
        let more = more.filter(|_| q.since_id.is_none());
        return Ok(render_screen(FeedFragment { statuses, more }, None));
    }
    let tray = crate::service::stories::tray(state, user.account.id)
        .await?
        .iter()
        .map(|t| TrayEntry {
            account: AccountView::new(&t.account),
            seen: t.seen,
        })
        .collect();
    let since = ids.first().map(|i| i.to_string()).unwrap_or_default();
    let (shell, cookie) = shell(state, headers, uri, Some(user), "home").await?;
    Ok(render_screen(
        HomePage {
            shell,
            tray,
            statuses,
            more,
            since,
        },
        cookie,
    ))
}

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
    let mut out = ExplorePage {
        shell: shell(state, headers, uri, viewer, "explore").await?.0,
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
        if (text.starts_with("https://") || text.starts_with("http://"))
            && let Some(row) = crate::service::search::status_by_url(state, v, &text).await?
        {
            let found = render::statuses(state, v, vec![row]).await?;
            out.statuses = feed(&found, &[], viewer, "").0;
        }
        let (_, cookie) = csrf_token(state, headers);
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
    let (_, cookie) = csrf_token(state, headers);
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
            Some(me) => crate::service::tags::show(&state, &name, Some(me))
                .await
                .ok()
                .map(|t| t.following.unwrap_or(false))
                .or(Some(false)),
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

const NOTIFICATION_TABS: &[(&str, &str)] = &[
    ("", "All"),
    ("mention", "Mentions"),
    ("favourite", "Favourites"),
    ("reblog", "Boosts"),
    ("follow", "Follows"),
];

/// `GET /notifications?type=mention|favourite|reblog|follow`: the notifications, grouped as
/// `/api/v2/notifications` groups them (signed in).
pub async fn notifications_screen(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let user = match signed_in(&state, &headers, "/notifications").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let kind = NOTIFICATION_TABS
            .iter()
            .map(|(k, _)| *k)
            .find(|k| Some(*k) == q.kind.as_deref())
            .unwrap_or("");
        let mut types = vec![kind.to_string()];
        if kind == "follow" {
            types.push("follow_request".into());
        }
        let filter = notifications::filter(
            types.into_iter().filter(|t| !t.is_empty()).collect(),
            vec![],
            None,
        );
        let page = Page {
            limit: 40,
            ..q.page()
        };
        let (list, ids) = notifications::page(&state, user.account.id, &filter, &page).await?;
        let me = user.account.id.to_string();
        let grouped = NotificationView::grouped(&list, Some(&me));
        let base = if kind.is_empty() {
            "/notifications?".to_string()
        } else {
            format!("/notifications?type={kind}&")
        };
        let more = next_page(&ids, page.limit, &base);
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "notifications").await?;
        Ok(render_screen(
            NotificationsPage {
                shell,
                kind: kind.to_string(),
                tabs: NOTIFICATION_TABS,
                newest: ids.first().map(|i| i.to_string()).unwrap_or_default(),
                notifications: grouped,
                more,
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}

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
                .await
                .unwrap_or_default()
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
                hidden: false,
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

/// Rows of the profile form: Mastodon allows four fields.
const PROFILE_FIELDS: usize = 4;

/// `GET /settings`: the profile form (saved by the page's script through
/// `PATCH /api/v1/accounts/update_credentials`), messaging preferences (`PUT
/// /api/v1/messaging/preferences`), and links to the account pages.
pub async fn settings_screen(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let user = match signed_in(&state, &headers, "/settings").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let cred = render::credential_account(&state, &user.account, &user.user).await?;
        let mut fields: Vec<(String, String)> = cred
            .source
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        fields.resize(PROFILE_FIELDS.max(fields.len()), Default::default());
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "settings").await?;
        Ok(render_screen(
            SettingsPage {
                shell,
                a: AccountView::new(&cred.account),
                display_name: cred.account.display_name.clone(),
                note: cred.source.note.clone(),
                fields,
                locked: cred.account.locked,
                bot: cred.account.bot,
                discoverable: cred.source.discoverable,
                prefs: crate::service::conversations::preferences(&user),
                custom_status: crate::service::conversations::custom_status(
                    &state,
                    user.account.id,
                )
                .await?,
                filters: crate::service::filters::list(&state, user.account.id).await?,
                followed_tags: crate::service::tags::followed(&state, user.account.id)
                    .await?
                    .into_iter()
                    .map(|t| t.name)
                    .collect(),
                apps: crate::service::sessions::authorized_apps(&state, user.user.id)
                    .await?
                    .into_iter()
                    .map(|a| AppView {
                        id: a.application_id.to_string(),
                        name: a.name,
                        website: a.website.unwrap_or_default(),
                        scopes: a.scopes,
                        tokens: a.tokens,
                        since: a.first_at.format("%-d %b %Y").to_string(),
                    })
                    .collect(),
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}

/// `GET /shorts/new`: the form that uploads a video and posts it as a short (`POST /api/v1/shorts`).
pub async fn new_short(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let user = match signed_in(&state, &headers, "/shorts/new").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "shorts").await?;
        Ok(render_screen(
            NewShortPage {
                shell,
                profile: format!("/@{}/shorts", user.account.username),
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    authenticity_token: String,
}

/// `POST /settings/applications/:id/revoke`: signs application `id` out of the account (every
/// token it holds is revoked), then back to Settings. A stale form gets the 403 page.
pub async fn revoke_application(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<RevokeForm>,
) -> Response {
    if let Some(r) = stale_form(&state, &headers, &form.authenticity_token) {
        return r;
    }
    let user = match signed_in(&state, &headers, "/settings").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else {
        return error_page(&state, AppError::NotFound);
    };
    match crate::service::sessions::revoke_app(&state, user.user.id, id).await {
        Ok(()) => see_other("/settings#apps"),
        Err(e) => error_page(&state, e),
    }
}

/// `GET /lists`: the signed-in user's lists (created and deleted by the page's script through
/// `/api/v1/lists`).
pub async fn lists_screen(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let user = match signed_in(&state, &headers, "/lists").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let lists = crate::service::lists::index(&state, user.account.id, None).await?;
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "lists").await?;
        Ok(render_screen(ListsPage { shell, lists }, cookie))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}

/// `GET /lists/:id`: one of the user's lists — its members (added and removed through
/// `/api/v1/lists/:id/accounts`) and its feed, with the viewer's `home` filters, as
/// `GET /api/v1/timelines/list/:id`. Anyone else's list is 404.
pub async fn list_screen(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let here = format!("/lists/{}", urlencoding::encode(&id));
    let user = match signed_in(&state, &headers, &here).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let me = user.account.id;
        let list = crate::service::lists::own(&state, me, &id).await?;
        let rows = crate::service::lists::timeline(&state, me, &id, &q.page()).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let found = render::statuses(&state, Some(me), rows).await?;
        let found = crate::service::filters::statuses(&state, Some(me), "home", found).await?;
        let (statuses, more) = feed(&found, &ids, Some(&user), &format!("{here}?"));
        if q.fragment() {
            return Ok(render_screen(FeedFragment { statuses, more }, None));
        }
        let members = crate::service::lists::members(
            &state,
            me,
            &id,
            &Page {
                limit: 0,
                ..Default::default()
            },
        )
        .await?;
        let members = render::accounts(&state, &members)
            .await?
            .iter()
            .map(AccountView::new)
            .collect();
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "lists").await?;
        Ok(render_screen(
            ListPage {
                shell,
                id: list.id.to_string(),
                title: list.title,
                members,
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
                moderated: crate::service::moderation::published_domain_blocks(
                    &state,
                    viewer.is_some(),
                )
                .await
                .unwrap_or_default()
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
