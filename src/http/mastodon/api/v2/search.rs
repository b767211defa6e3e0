//! `GET /api/v2/search` (docs.joinmastodon.org/methods/search/).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::api_types::Account;
use crate::api_types::status::{Status, Tag};
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::service::activitypub::context::FedData;
use crate::service::{conversations, render, search};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    resolve: bool,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
    /// `conversations` (extension): full-text search of the caller's direct messages.
    #[serde(rename = "in")]
    within: Option<String>,
    /// Statuses of this account only.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    account_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    max_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    min_id: Option<i64>,
}

#[derive(Serialize)]
pub struct Results {
    accounts: Vec<Account>,
    statuses: Vec<Status>,
    hashtags: Vec<Tag>,
}

/// `GET /api/v2/search?q=&type=accounts|statuses|hashtags&resolve=&limit=&offset=`
/// (`read:search`). Accounts: local by name, or an exact `user@domain`/URL (fetched with
/// `resolve`, which needs a signed-in user, as on Mastodon). Statuses: by URL or ID URI among
/// those known and visible to the caller, else full-text with Mastodon's operators
/// (`service::search::parse_status_query`; `account_id`, `max_id`, `min_id`, `offset`). Hashtags:
/// by prefix.
///
/// With `in=conversations` (Rookery extension, docs/API.md, Conversations) only statuses are
/// searched: the caller's direct messages holding every word of `q`. It needs a signed-in user
/// (401), and `in` takes no other value (400).
pub async fn search(
    State(state): State<AppState>,
    data: FedData,
    auth: Auth,
    Params { value: p, .. }: Params<SearchParams>,
) -> AppResult<Json<Results>> {
    let viewer = auth.viewer_id("read:search")?;
    if p.resolve && viewer.is_none() {
        return Err(AppError::unauthorized(
            "Search queries that resolve remote resources require a signed-in user",
        ));
    }
    let kind = p.kind.as_deref().unwrap_or("");
    if !matches!(kind, "" | "accounts" | "statuses" | "hashtags") {
        return Err(AppError::bad_request(
            "type must be accounts, statuses or hashtags",
        ));
    }
    let limit = p.limit.unwrap_or(20).clamp(1, 40);
    let offset = p.offset.unwrap_or(0).max(0);
    let q = p.q.trim();
    let mut out = Results {
        accounts: vec![],
        statuses: vec![],
        hashtags: vec![],
    };
    match p.within.as_deref() {
        None | Some("") => {}
        Some("conversations") => {
            let me = auth.require_user("read:search")?.account.id;
            if !matches!(kind, "" | "statuses") {
                return Err(AppError::bad_request(
                    "in=conversations searches statuses only",
                ));
            }
            out.statuses = conversations::search(&state, me, q, limit, offset).await?;
            return Ok(Json(out));
        }
        Some(_) => return Err(AppError::bad_request("in must be conversations")),
    }
    if q.is_empty() {
        return Ok(Json(out));
    }
    if kind.is_empty() || kind == "accounts" {
        let rows = search::accounts(&data, q, p.resolve, limit, offset).await?;
        out.accounts = render::accounts(&state, &rows).await?;
    }
    if kind.is_empty() || kind == "statuses" {
        let is_url = q.starts_with("https://") || q.starts_with("http://");
        if is_url && let Some(visible) = search::status_by_url(&state, viewer, q).await? {
            out.statuses = render::statuses(&state, viewer, vec![visible]).await?;
        } else if !is_url {
            let rows = search::statuses(
                &state,
                viewer,
                q,
                p.account_id,
                (p.max_id, p.min_id),
                limit,
                offset,
            )
            .await?;
            out.statuses = render::statuses(&state, viewer, rows).await?;
        }
    }
    if kind.is_empty() || kind == "hashtags" {
        out.hashtags = search::hashtags(&state, viewer, q, limit, offset).await?;
    }
    Ok(Json(out))
}
