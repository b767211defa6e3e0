//! Search: accounts, statuses and hashtags, as `GET /api/v2/search` and
//! `GET /api/v1/accounts/search` find them (docs.joinmastodon.org/methods/search/). Full-text
//! search of direct messages is `service::conversations::search`.

use crate::api_types::status::Tag;
use crate::error::AppResult;
use crate::service::activitypub::context::FedData;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::statuses::{self, ANONYMOUS, StatusRow};
use crate::storage::tags;

/// Accounts matching `q`: an exact `user@domain` or URL (resolved over the network with
/// `resolve`), else local accounts by username or display name, `limit` from `offset`.
///
/// Errors: database errors; a failed resolution finds nothing.
pub async fn accounts(
    data: &FedData,
    q: &str,
    resolve: bool,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<AccountRow>> {
    let state: &AppState = data;
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let exact = q.starts_with("http://")
        || q.starts_with("https://")
        || matches!(
            crate::service::accounts::parse_acct(q, &state.config.server.domain),
            Some((_, Some(_)))
        );
    if exact {
        return Ok(crate::service::resolve::account(data, q, resolve)
            .await?
            .into_iter()
            .collect());
    }
    Ok(accounts::search_local(&state.db, q.trim_start_matches('@'), limit, offset).await?)
}

/// The known status whose ID or URL is `url`, when `viewer` (`None`: anonymous) may see it.
///
/// Errors: database errors.
pub async fn status_by_url(
    state: &AppState,
    viewer: Option<i64>,
    url: &str,
) -> AppResult<Option<StatusRow>> {
    let Some(s) = statuses::find_by_uri_or_url(&state.db, url).await? else {
        return Ok(None);
    };
    Ok(statuses::find_visible(&state.db, s.id, viewer.unwrap_or(ANONYMOUS)).await?)
}

/// Hashtags starting with `q` (a name as `service::tags::name_of` takes it, else none), `limit`
/// from `offset`, as `Tag` entities with their seven days of history (and, for a signed-in
/// `viewer`, whether they follow each).
///
/// Errors: database errors.
pub async fn hashtags(
    state: &AppState,
    viewer: Option<i64>,
    q: &str,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Tag>> {
    let Some(name) = crate::service::tags::name_of(q) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for row in tags::search_prefix(&state.db, name, limit, offset).await? {
        out.push(crate::service::tags::entity(state, &row, viewer).await?);
    }
    Ok(out)
}
