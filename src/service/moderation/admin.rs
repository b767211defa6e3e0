//! What staff read and change through `/api/v1/admin/*`: account lists, report lists and their
//! state, domain blocks (docs.joinmastodon.org/methods/admin/).

use super::*;
use crate::api_types::admin::{AdminAccount, AdminReport};

pub use crate::storage::accounts::AdminAccountFilter;
pub use crate::storage::reports::ReportFilter;

/// A page of accounts as `filter` selects them, newest first, as `Admin::Account` entities,
/// with the pagination IDs of the rows.
///
/// Errors: database errors.
pub async fn account_page(
    state: &AppState,
    filter: &AdminAccountFilter,
    page: &crate::service::Page,
) -> AppResult<(Vec<AdminAccount>, Vec<i64>)> {
    let rows = crate::storage::accounts::admin_list(&state.db, filter, page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    Ok((admin_accounts(state, &rows).await?, ids))
}

/// A page of reports as `filter` selects them, newest first, as `Admin::Report` entities, with
/// the pagination IDs of the rows.
///
/// Errors: database errors.
pub async fn report_page(
    state: &AppState,
    filter: &ReportFilter,
    page: &crate::service::Page,
) -> AppResult<(Vec<AdminReport>, Vec<i64>)> {
    let rows = crate::storage::reports::list(&state.db, filter, page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(admin_report(state, r).await?);
    }
    Ok((out, ids))
}

/// Changes report `id` as staff member `by` asks: `resolve`, `reopen`, `assign_to_self`,
/// `unassign`. Returns the report as it now is.
///
/// Errors: 404 for an unknown report or action.
pub async fn change_report(
    state: &AppState,
    by: i64,
    id: &str,
    what: &str,
) -> AppResult<AdminReport> {
    use crate::storage::reports;
    let r = find_report(state, id).await?;
    match what {
        "resolve" => reports::set_resolved(&state.db, r.id, true, Some(by)).await?,
        "reopen" => reports::set_resolved(&state.db, r.id, false, None).await?,
        "assign_to_self" => reports::assign(&state.db, r.id, Some(by)).await?,
        "unassign" => reports::assign(&state.db, r.id, None).await?,
        _ => return Err(AppError::NotFound),
    }
    let r = find_report(state, id).await?;
    admin_report(state, &r).await
}

/// Every domain block, as stored.
///
/// Errors: database errors.
pub async fn domain_blocks(state: &AppState) -> AppResult<Vec<DomainBlockRow>> {
    Ok(domain_blocks::list(&state.db).await?)
}

/// The domain block `id`. Errors: 404 when unknown.
pub async fn domain_block(state: &AppState, id: &str) -> AppResult<DomainBlockRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    domain_blocks::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}
