//! Lists (docs.joinmastodon.org/methods/lists/): named sets of followed accounts, each with its own
//! timeline (`GET /api/v1/timelines/list/:id`) and `list` stream.

use chrono::Utc;

use crate::api_types::list::List;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::accounts::AccountRow;
use crate::storage::ids;
use crate::storage::lists::{self as store, ListRow};
use crate::storage::relationships::{self as rel, FollowTable};
use crate::storage::sql::Page;
use crate::storage::statuses::{self, StatusRow};

/// Accepted `replies_policy` values; `list` is the default, as on Mastodon.
pub const REPLIES_POLICIES: &[&str] = &["followed", "list", "none"];

/// Longest title accepted, in characters.
const MAX_TITLE: usize = 255;

/// Fields of a create or update; `None` keeps the current value (create: the default).
#[derive(Default)]
pub struct ListFields {
    pub title: Option<String>,
    pub replies_policy: Option<String>,
    pub exclusive: Option<bool>,
}

fn apply(row: &mut ListRow, f: ListFields) -> AppResult<()> {
    if let Some(t) = f.title {
        row.title = crate::text::clean_line(&t);
    }
    if row.title.is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: Title can't be blank",
        ));
    }
    if row.title.chars().count() > MAX_TITLE {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Title is too long (maximum is {MAX_TITLE} characters)"
        )));
    }
    if let Some(p) = f.replies_policy {
        if !REPLIES_POLICIES.contains(&p.as_str()) {
            return Err(AppError::unprocessable(format!(
                "Validation failed: Replies policy {p:?} is not one of followed, list, none"
            )));
        }
        row.replies_policy = p;
    }
    if let Some(e) = f.exclusive {
        row.exclusive = e;
    }
    Ok(())
}

/// `POST /api/v1/lists`. Errors: 422 for a blank or over-long title or an unknown replies policy.
pub async fn create(state: &AppState, me: i64, f: ListFields) -> AppResult<List> {
    let mut row = ListRow {
        id: ids::new_id(),
        account_id: me,
        title: String::new(),
        replies_policy: "list".into(),
        exclusive: false,
        created_at: Utc::now(),
    };
    apply(&mut row, f)?;
    store::insert(&state.db, &row).await?;
    Ok(List::from(&row))
}

/// One of the caller's lists. Errors: 404 for anyone else's, or none.
pub async fn own(state: &AppState, me: i64, id: &str) -> AppResult<ListRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    store::find(&state.db, me, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `PUT /api/v1/lists/:id`. Errors: as [`create`], and 404.
pub async fn update(state: &AppState, me: i64, id: &str, f: ListFields) -> AppResult<List> {
    let mut row = own(state, me, id).await?;
    apply(&mut row, f)?;
    store::update(&state.db, &row).await?;
    Ok(List::from(&row))
}

/// `DELETE /api/v1/lists/:id`. Errors: 404.
pub async fn delete(state: &AppState, me: i64, id: &str) -> AppResult<()> {
    let row = own(state, me, id).await?;
    store::delete(&state.db, me, row.id).await?;
    Ok(())
}

/// `GET /api/v1/lists`, or with `member` (`GET /api/v1/accounts/:id/lists`) the caller's lists
/// holding that account.
pub async fn index(state: &AppState, me: i64, member: Option<i64>) -> AppResult<Vec<List>> {
    Ok(store::of_owner(&state.db, me, member)
        .await?
        .iter()
        .map(List::from)
        .collect())
}

/// `GET /api/v1/lists/:id/accounts`: members, paginated by account ID (`limit=0`: all).
pub async fn members(
    state: &AppState,
    me: i64,
    id: &str,
    page: &Page,
) -> AppResult<Vec<AccountRow>> {
    let row = own(state, me, id).await?;
    Ok(store::members(&state.db, row.id, page).await?)
}

fn parse_ids(ids: &[String]) -> AppResult<Vec<i64>> {
    let parsed: Vec<i64> = ids.iter().filter_map(|s| s.parse().ok()).collect();
    if parsed.is_empty() || parsed.len() != ids.len() {
        return Err(AppError::unprocessable(
            "account_ids must name at least one account",
        ));
    }
    Ok(parsed)
}

/// `POST /api/v1/lists/:id/accounts` (`account_ids[]`): only accounts the caller follows can be
/// added. Errors: 404 for the list or an unknown account, 422 for an account not followed.
pub async fn add_members(
    state: &AppState,
    me: i64,
    id: &str,
    account_ids: &[String],
) -> AppResult<()> {
    let row = own(state, me, id).await?;
    let ids = parse_ids(account_ids)?;
    for a in &ids {
        if crate::storage::accounts::find_account(&state.db, *a)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound);
        }
        if rel::find_follow(&state.db, FollowTable::Follows, me, *a)
            .await?
            .is_none()
        {
            return Err(AppError::unprocessable(
                "Validation failed: Account has not been followed",
            ));
        }
    }
    store::add_accounts(&state.db, row.id, &ids).await?;
    Ok(())
}

/// `DELETE /api/v1/lists/:id/accounts` (`account_ids[]`). Errors: 404 for the list.
pub async fn remove_members(
    state: &AppState,
    me: i64,
    id: &str,
    account_ids: &[String],
) -> AppResult<()> {
    let row = own(state, me, id).await?;
    store::remove_accounts(&state.db, row.id, &parse_ids(account_ids)?).await?;
    Ok(())
}

/// `GET /api/v1/timelines/list/:id`. Errors: 404 for anyone else's list.
pub async fn timeline(
    state: &AppState,
    me: i64,
    id: &str,
    page: &Page,
) -> AppResult<Vec<StatusRow>> {
    let row = own(state, me, id).await?;
    Ok(statuses::list_timeline(&state.db, me, row.id, &row.replies_policy, page).await?)
}
