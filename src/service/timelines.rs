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

pub use crate::storage::statuses::PublicFilter;

/// A page of a timeline: `json` is the array of statuses, `ids` the pagination IDs of the rows
/// read, newest first.
pub struct TimelinePage {
    pub json: Vec<u8>,
    pub ids: Vec<i64>,
}

/// Statuses serialized into one buffer sized for the page (about 1.5 KB each).
fn to_json(statuses: &[Status]) -> AppResult<Vec<u8>> {
    let mut body = Vec::with_capacity(statuses.len().saturating_mul(1536).max(64));
    serde_json::to_writer(&mut body, statuses).map_err(|e| AppError::Internal(e.into()))?;
    Ok(body)
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
    let statuses = filters::statuses(state, viewer, context, statuses).await?;
    Ok(TimelinePage {
        json: to_json(&statuses)?,
        ids,
    })
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
    let (rows, viewer_state) = store::home_with_viewer_state(&state.db, me, page).await?;
    let ids = rows.iter().map(|r| r.id).collect();
    let statuses = render::statuses_with(state, Some(me), rows, Some(viewer_state)).await?;
    let statuses = filters::statuses(state, Some(me), "home", statuses).await?;
    Ok(TimelinePage {
        json: to_json(&statuses)?,
        ids,
    })
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
