//! What profiles feature — endorsed accounts (docs.joinmastodon.org/methods/endorsements/) and
//! featured hashtags (/methods/featured_tags/) — and how people find accounts: the profile
//! directory (/methods/directory/) and follow suggestions (/methods/suggestions/).

use serde::Serialize;

use crate::api_types::Account;
use crate::api_types::account::Relationship;
use crate::api_types::status::Tag;
use crate::error::{AppError, AppResult};
use crate::service::render;
use crate::state::AppState;
use crate::storage::featured::{self as store, FeaturedTagRow};
use crate::storage::relationships::{FollowTable, find_follow};
use crate::storage::{accounts, ids, tags};

/// Most hashtags one profile features (`configuration.accounts.max_featured_tags`).
pub const MAX_FEATURED_TAGS: usize = 10;

/// `POST /api/v1/accounts/:id/pin` (`on`) and `/unpin`: only an account the caller follows can be
/// endorsed. Errors: 404 unknown account, 422 not followed.
pub async fn endorse(state: &AppState, me: i64, id: &str, on: bool) -> AppResult<Relationship> {
    let target: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    accounts::find_account(&state.db, target)
        .await?
        .ok_or(AppError::NotFound)?;
    if on
        && find_follow(&state.db, FollowTable::Follows, me, target)
            .await?
            .is_none()
    {
        return Err(AppError::unprocessable(
            "You must be already following the person you want to endorse",
        ));
    }
    store::set_endorsed(&state.db, me, target, on).await?;
    crate::service::relationships::relationship(state, me, target).await
}

/// `GET /api/v1/endorsements`: accounts the caller features.
pub async fn endorsements(state: &AppState, me: i64) -> AppResult<Vec<Account>> {
    render::accounts(state, &store::endorsed(&state.db, me).await?).await
}

/// `GET /api/v1/accounts/:id/endorsements`: the accounts `account` features, for anyone.
/// Errors: 404 unknown account.
pub async fn endorsements_of(state: &AppState, account: i64) -> AppResult<Vec<Account>> {
    accounts::find_account(&state.db, account)
        .await?
        .ok_or(AppError::NotFound)?;
    endorsements(state, account).await
}

/// `FeaturedTag`.
#[derive(Clone, Debug, Serialize)]
pub struct FeaturedTag {
    pub id: String,
    pub name: String,
    /// The account's posts with the tag, on its profile.
    pub url: String,
    /// A string, as Mastodon sends it.
    pub statuses_count: String,
    /// The day of the latest such post (`YYYY-MM-DD`), or null.
    pub last_status_at: Option<String>,
}

fn featured_entity(
    state: &AppState,
    owner: &accounts::AccountRow,
    r: &FeaturedTagRow,
) -> FeaturedTag {
    let profile = owner
        .url
        .clone()
        .unwrap_or_else(|| format!("{}/@{}", state.config.base_url(), owner.username));
    FeaturedTag {
        id: r.id.to_string(),
        name: r.display_name.clone(),
        url: format!("{profile}/tagged/{}", urlencoding::encode(&r.name)),
        statuses_count: r.statuses_count.to_string(),
        last_status_at: r.last_status_at.map(|t| t.date_naive().to_string()),
    }
}

/// An account's featured hashtags (`GET /api/v1/accounts/:id/featured_tags`, and the caller's own
/// at `GET /api/v1/featured_tags`). Errors: 404 unknown account.
pub async fn featured_tags(state: &AppState, account: i64) -> AppResult<Vec<FeaturedTag>> {
    let owner = accounts::find_account(&state.db, account)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(store::featured_tags(&state.db, account)
        .await?
        .iter()
        .map(|r| featured_entity(state, &owner, r))
        .collect())
}

/// `POST /api/v1/featured_tags` (`name`). Errors: 422 for an invalid name or more than
/// [`MAX_FEATURED_TAGS`].
pub async fn feature_tag(state: &AppState, me: i64, name: &str) -> AppResult<FeaturedTag> {
    let name = name.trim().trim_start_matches('#');
    if name.is_empty()
        || name.chars().count() > 100
        || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return Err(AppError::unprocessable(
            "Validation failed: Name is not a valid hashtag",
        ));
    }
    let current = featured_tags(state, me).await?;
    if let Some(existing) = current.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
        return Ok(existing.clone());
    }
    if current.len() >= MAX_FEATURED_TAGS {
        return Err(AppError::unprocessable(format!(
            "Validation failed: You cannot feature more than {MAX_FEATURED_TAGS} hashtags"
        )));
    }
    let tag = tags::find_or_create(&state.db, name).await?;
    store::add_featured_tag(&state.db, ids::new_id(), me, tag.id).await?;
    featured_tags(state, me)
        .await?
        .into_iter()
        .find(|t| t.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| anyhow::anyhow!("featured tag vanished").into())
}

/// `DELETE /api/v1/featured_tags/:id`. Errors: 404 unless it is the caller's.
pub async fn unfeature_tag(state: &AppState, me: i64, id: &str) -> AppResult<()> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    if !store::remove_featured_tag(&state.db, me, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// `GET /api/v1/featured_tags/suggestions`: the caller's most used hashtags not featured yet.
pub async fn tag_suggestions(state: &AppState, me: i64) -> AppResult<Vec<Tag>> {
    let rows = store::most_used_tags(&state.db, me, 10).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(crate::service::tags::entity(state, r, Some(me)).await?);
    }
    Ok(out)
}

/// `GET /api/v1/directory` (`local`, `order` = `active` | `new`, `limit`, `offset`).
pub async fn directory(
    state: &AppState,
    local: bool,
    order: &str,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Account>> {
    if !matches!(order, "active" | "new") {
        return Err(AppError::bad_request("order must be active or new"));
    }
    let rows = store::directory(&state.db, local, order == "new", limit, offset).await?;
    render::accounts(state, &rows).await
}

/// `Suggestion` (v2).
#[derive(Clone, Debug, Serialize)]
pub struct Suggestion {
    /// Mastodon's older single source (`global` or `past_interactions`).
    pub source: &'static str,
    pub sources: Vec<String>,
    pub account: Account,
}

/// `GET /api/v2/suggestions` (and v1, as bare accounts).
pub async fn suggestions(state: &AppState, me: i64, limit: i64) -> AppResult<Vec<Suggestion>> {
    let rows = store::suggestions(&state.db, me, limit).await?;
    let accounts: Vec<accounts::AccountRow> = rows.iter().map(|(a, _)| a.clone()).collect();
    let rendered = render::accounts(state, &accounts).await?;
    Ok(rows
        .into_iter()
        .zip(rendered)
        .map(|((_, source), account)| Suggestion {
            source: if source == "friends_of_friends" {
                "past_interactions"
            } else {
                "global"
            },
            sources: vec![source],
            account,
        })
        .collect())
}

/// `DELETE /api/v1/suggestions/:account_id`. Errors: 404 unknown account.
pub async fn dismiss_suggestion(state: &AppState, me: i64, id: &str) -> AppResult<()> {
    let target: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    accounts::find_account(&state.db, target)
        .await?
        .ok_or(AppError::NotFound)?;
    store::dismiss_suggestion(&state.db, me, target).await?;
    Ok(())
}
