//! What staff read and change through `/api/v1/admin/*`: account lists, report lists and their
//! state, domain blocks (docs.joinmastodon.org/methods/admin/).

use sha2::Digest;

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

/// `GET /api/v1/instance/domain_blocks`: the servers this one suspends or limits, as
/// `instance.show_domain_blocks` lets `signed_in` (or not) visitors see them — `[{"domain",
/// "digest", "severity", "comment"?}]`, `domain` partly starred when the block says to obfuscate
/// it, `digest` the SHA-256 (hex) of the real domain, `comment` the public comment when
/// `instance.show_domain_blocks_rationale` is on. Notes without limitation (`noop`) are left out.
///
/// Errors: 404 when not published; 401 when published to users only and the caller is anonymous.
pub async fn published_domain_blocks(
    state: &AppState,
    signed_in: bool,
) -> AppResult<Vec<serde_json::Value>> {
    use crate::config::ShowDomainBlocks;
    let cfg = &state.config.instance;
    match cfg.show_domain_blocks {
        ShowDomainBlocks::None => return Err(AppError::NotFound),
        ShowDomainBlocks::Users if !signed_in => {
            return Err(AppError::unauthorized(
                "This list is shown to signed-in users",
            ));
        }
        _ => {}
    }
    Ok(domain_blocks::list(&state.db)
        .await?
        .into_iter()
        .filter(|b| matches!(b.severity.as_str(), "suspend" | "silence"))
        .map(|b| {
            let mut v = serde_json::json!({
                "domain": if b.obfuscate { obfuscated(&b.domain) } else { b.domain.clone() },
                "digest": hex::encode(sha2::Sha256::digest(b.domain.as_bytes())),
                "severity": b.severity,
            });
            if cfg.show_domain_blocks_rationale
                && let Some(c) = b.public_comment.filter(|c| !c.is_empty())
            {
                v["comment"] = c.into();
            }
            v
        })
        .collect())
}

/// A domain with every other letter of each label but the first and last starred
/// (`example.com` → `e*a*p*e.com`): recognisable to those who know it, not a link.
fn obfuscated(domain: &str) -> String {
    let labels: Vec<&str> = domain.split('.').collect();
    let last = labels.len().saturating_sub(1);
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == last {
                return l.to_string();
            }
            l.chars()
                .enumerate()
                .map(|(j, c)| if j % 2 == 1 { '*' } else { c })
                .collect()
        })
        .collect::<Vec<String>>()
        .join(".")
}

/// The domain block `id`. Errors: 404 when unknown.
pub async fn domain_block(state: &AppState, id: &str) -> AppResult<DomainBlockRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    domain_blocks::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}
