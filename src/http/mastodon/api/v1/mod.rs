//! `/api/v1/…`: one file per resource path (docs.joinmastodon.org/methods/).

pub mod accounts;
pub mod admin;
pub mod announcements;
pub mod apps;
pub mod archives;
pub mod blocks;
pub mod bookmarks;
pub mod calls;
pub mod conversations;
pub mod custom_emojis;
pub mod directory;
pub mod domain_blocks;
pub mod emails;
pub mod endorsements;
pub mod favourites;
pub mod featured_tags;
pub mod filters;
pub mod follow_requests;
pub mod followed_tags;
pub mod imports;
pub mod instance;
pub mod lists;
pub mod markers;
pub mod media;
pub mod messaging;
pub mod migration;
pub mod mutes;
pub mod notification_requests;
pub mod notifications;
pub mod polls;
pub mod preferences;
pub mod presence;
pub mod profile;
pub mod push;
pub mod reports;
pub mod rooms;
pub mod scheduled_statuses;
pub mod shorts;
pub mod statuses;
pub mod stories;
pub mod streaming;
pub mod suggestions;
pub mod tags;
pub mod timelines;
pub mod trends;

/// A page of accounts from one of `owner`'s lists (followers, following, requests, blocks,
/// mutes) at most 80 long (40 by default), with its `Link` header.
pub async fn own_list(
    state: &crate::state::AppState,
    owner: i64,
    list: crate::service::relationships::AccountList,
    uri: &axum::http::Uri,
    p: &crate::http::extract::PageParams,
) -> crate::error::AppResult<axum::response::Response> {
    let (accounts, ids) =
        crate::service::relationships::list_accounts(state, list, owner, &p.page_with(40, 80))
            .await?;
    Ok(crate::http::extract::paged(
        &state.config.base_url(),
        uri,
        accounts,
        &ids,
    ))
}

/// A page of the signed-in user's favourited or bookmarked statuses, with its `Link` header.
pub async fn acted_on(
    state: crate::state::AppState,
    auth: crate::http::extract::Auth,
    uri: axum::http::Uri,
    p: crate::http::extract::PageParams,
    table: crate::service::statuses::ActionTable,
    scope: &str,
) -> crate::error::AppResult<axum::response::Response> {
    let cu = auth.require_user(scope)?;
    let (statuses, ids) =
        crate::service::statuses::acted_on(&state, cu.account.id, table, &p.page()).await?;
    Ok(crate::http::extract::paged(
        &state.config.base_url(),
        &uri,
        statuses,
        &ids,
    ))
}
