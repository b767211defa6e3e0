//! Timelines (docs.joinmastodon.org/methods/timelines/): pages of statuses as a viewer sees them,
//! as a JSON array of `Status` with the IDs of the rows read (the `Link` header pages by those,
//! hidden ones included). Home, public and hashtag pages come from kept renderings
//! (`service::rendered`) unless the viewer has filters; other lists render their rows afresh.

use crate::api_types::status::Status;
use crate::error::{AppError, AppResult};
use crate::service::{filters, render, rendered};
use crate::state::AppState;
use crate::storage::sql::Page;
use crate::storage::statuses::{self as store, ANONYMOUS, StatusRow};

pub use crate::storage::statuses::{AccountFilter, PublicFilter, TagQuery};

/// A page of a timeline: `json` is the array of statuses, `ids` the pagination IDs of the rows
/// read, newest first.
pub struct TimelinePage {
    pub json: Vec<u8>,
    pub ids: Vec<i64>,
}

/// `statuses` (rendered from the rows with pagination IDs `ids`) with `viewer`'s filters applied
/// in `context`, as a page.
async fn filtered_page(
    state: &AppState,
    viewer: Option<i64>,
    context: &str,
    statuses: Vec<Status>,
    ids: Vec<i64>,
) -> AppResult<TimelinePage> {
    let statuses = filters::statuses(state, viewer, context, statuses).await?;
    let json = crate::api_types::json_array(&statuses).map_err(|e| AppError::Internal(e.into()))?;
    Ok(TimelinePage { json, ids })
}

/// `rows` rendered for `viewer` (`None`: anonymous) with their filters applied in `context`
/// (`home`, `public`, `account`, `thread`, `notifications`).
///
/// Errors: database errors while rendering.
pub async fn render_rows(
    state: &AppState,
    viewer: Option<i64>,
    context: &str,
    rows: Vec<StatusRow>,
) -> AppResult<TimelinePage> {
    let ids = rows.iter().map(|r| r.id).collect();
    let statuses = render::statuses(state, viewer, rows).await?;
    filtered_page(state, viewer, context, statuses, ids).await
}

/// The home timeline of account `me`.
///
/// Errors: database errors.
pub async fn home(state: &AppState, me: i64, page: &Page) -> AppResult<TimelinePage> {
    if !filters::any(state, me).await? {
        let (rows, vs) = store::home_page_with_viewer_state(&state.db, me, page).await?;
        return Ok(TimelinePage {
            ids: rows.iter().map(|r| r.id).collect(),
            json: rendered::page(state, Some((me, &vs)), &rows).await?,
        });
    }
    let (statuses, ids) = home_statuses(state, me, page).await?;
    let json = crate::api_types::json_array(&statuses).map_err(|e| AppError::Internal(e.into()))?;
    Ok(TimelinePage { json, ids })
}

/// [`home`] as entities (for the web app's pages), with the pagination IDs of the rows.
///
/// Errors: database errors.
pub async fn home_statuses(
    state: &AppState,
    me: i64,
    page: &Page,
) -> AppResult<(Vec<Status>, Vec<i64>)> {
    let (rows, viewer_state) = store::home_with_viewer_state(&state.db, me, page).await?;
    let ids = rows.iter().map(|r| r.id).collect();
    let statuses = render::statuses_with(state, Some(me), rows, Some(viewer_state)).await?;
    Ok((
        filters::statuses(state, Some(me), "home", statuses).await?,
        ids,
    ))
}

/// The statuses of `account_id` that `viewer` may see as `filter` narrows them, rendered with the
/// viewer's filters applied (`account` context), for the web app's profiles; with the pagination
/// IDs of the rows.
///
/// Errors: database errors.
pub async fn account_statuses(
    state: &AppState,
    viewer: Option<i64>,
    account_id: i64,
    filter: &AccountFilter,
    page: &Page,
) -> AppResult<(Vec<Status>, Vec<i64>)> {
    let rows = account_rows(state, viewer, account_id, filter, page).await?;
    let ids = rows.iter().map(|r| r.id).collect();
    let statuses = render::statuses(state, viewer, rows).await?;
    Ok((
        filters::statuses(state, viewer, "account", statuses).await?,
        ids,
    ))
}

/// [`public`] as entities (for the web app's pages), with the pagination IDs of the rows.
///
/// Errors: database errors.
pub async fn public_statuses(
    state: &AppState,
    viewer: Option<i64>,
    filter: PublicFilter,
    tag: Option<&str>,
    page: &Page,
) -> AppResult<(Vec<Status>, Vec<i64>)> {
    let rows = store::public(&state.db, viewer.unwrap_or(ANONYMOUS), filter, tag, page).await?;
    let ids = rows.iter().map(|r| r.id).collect();
    let statuses = render::statuses(state, viewer, rows).await?;
    Ok((
        filters::statuses(state, viewer, "public", statuses).await?,
        ids,
    ))
}

/// The public timeline as `viewer` (`None`: anonymous) sees it, or only its statuses with
/// hashtag `tag`.
///
/// Errors: database errors.
pub async fn public(
    state: &AppState,
    viewer: Option<i64>,
    filter: PublicFilter,
    tag: Option<&str>,
    page: &Page,
) -> AppResult<TimelinePage> {
    let (db, v) = (&state.db, viewer.unwrap_or(ANONYMOUS));
    let filtered = match viewer {
        Some(v) => filters::any(state, v).await?,
        None => false,
    };
    if filtered {
        let rows = store::public(db, v, filter, tag, page).await?;
        return render_rows(state, viewer, "public", rows).await;
    }
    let rows = store::public_page(db, v, filter, tag, page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let json = match viewer {
        Some(v) => {
            let vs = store::viewer_state(db, v, &ids).await?;
            rendered::page(state, Some((v, &vs)), &rows).await?
        }
        None => rendered::page(state, None, &rows).await?,
    };
    Ok(TimelinePage { json, ids })
}

/// The statuses of `account_id` that `viewer` (`None`: anonymous) may see, newest first, as
/// `filter` narrows them (`GET /api/v1/accounts/:id/statuses`, the shorts player).
///
/// Errors: database errors.
pub async fn account_rows(
    state: &AppState,
    viewer: Option<i64>,
    account_id: i64,
    filter: &AccountFilter,
    page: &Page,
) -> AppResult<Vec<StatusRow>> {
    Ok(store::by_account(
        &state.db,
        viewer.unwrap_or(ANONYMOUS),
        account_id,
        filter,
        page,
    )
    .await?)
}

/// Most hashtags in each of `any[]`, `all[]` and `none[]` of a hashtag timeline (as Mastodon).
pub const TAG_QUERY_MAX: usize = 4;

/// The `any[]`, `all[]` and `none[]` of `GET /api/v1/timelines/tag/:hashtag`, checked.
///
/// Errors: 422 for more than [`TAG_QUERY_MAX`] names in one list or a name that is not a hashtag.
pub fn tag_query(any: &[String], all: &[String], none: &[String]) -> AppResult<TagQuery> {
    let names = |list: &[String], key: &str| -> AppResult<Vec<String>> {
        if list.len() > TAG_QUERY_MAX {
            return Err(AppError::unprocessable(format!(
                "Validation failed: at most {TAG_QUERY_MAX} {key}[]"
            )));
        }
        list.iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| {
                crate::service::tags::valid_name(n.trim())
                    .map(str::to_lowercase)
                    .map_err(|_| {
                        AppError::unprocessable(format!(
                            "Validation failed: {key}[] {n:?} is not a hashtag"
                        ))
                    })
            })
            .collect()
    };
    Ok(TagQuery {
        any: names(any, "any")?,
        all: names(all, "all")?,
        none: names(none, "none")?,
    })
}

/// The hashtag timeline of `tag` narrowed by `q`, as `viewer` (`None`: anonymous) sees it, with
/// the viewer's filters (`public` context).
///
/// Errors: database errors.
pub async fn tag_timeline(
    state: &AppState,
    viewer: Option<i64>,
    filter: PublicFilter,
    tag: &str,
    q: &TagQuery,
    page: &Page,
) -> AppResult<TimelinePage> {
    let rows =
        store::tag_timeline(&state.db, viewer.unwrap_or(ANONYMOUS), filter, tag, q, page).await?;
    render_rows(state, viewer, "public", rows).await
}
