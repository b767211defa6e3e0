//! Instance moderation: domain blocks (suspend, silence, noop). A suspended server gets nothing
//! from us and is heard from no more: its activities are refused at the inbox, deliveries to it
//! stop, nothing is fetched from it, and follows between it and local accounts end.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::domain_blocks::{self, BlockSettings, DomainBlockRow};
use crate::storage::relationships::{self as rel, FollowTable};
use crate::storage::statuses;

pub const SEVERITIES: &[&str] = &["suspend", "silence", "noop"];

/// `example.com` or `example.com:8443`: lower-cased; no scheme, path, user or spaces.
///
/// Errors: 422 for anything else.
pub fn normalize_domain(raw: &str) -> AppResult<String> {
    let d = raw.trim().trim_end_matches('.').to_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !d.starts_with('.')
        && !d.starts_with('-');
    if !ok {
        return Err(AppError::unprocessable(format!(
            "{raw:?} is not a domain name"
        )));
    }
    Ok(d)
}

/// Blocks (or re-blocks with new settings) a domain. With `suspend`, follows between local
/// accounts and accounts there end now.
pub async fn block_domain(
    state: &AppState,
    raw: &str,
    settings: BlockSettings,
) -> AppResult<DomainBlockRow> {
    let domain = normalize_domain(raw)?;
    if domain == state.config.server.domain.to_lowercase() {
        return Err(AppError::unprocessable("This server cannot block itself"));
    }
    if !SEVERITIES.contains(&settings.severity.as_str()) {
        return Err(AppError::unprocessable(
            "severity must be suspend, silence or noop",
        ));
    }
    let row = domain_blocks::upsert(&state.db, &domain, &settings).await?;
    if row.severity == "suspend" {
        let pairs = rel::follows_with_domain(&state.db, &domain).await?;
        let mut tx = state.db.begin().await?;
        for (follower, target) in pairs {
            if rel::delete_follow(&mut tx, FollowTable::Follows, follower, target).await? {
                statuses::unmerge_from_feed(&mut tx, follower, target).await?;
            }
        }
        tx.commit().await?;
        tracing::info!(domain, "domain suspended");
    }
    Ok(row)
}

/// Lifts the block of a domain; false when there was none.
pub async fn unblock_domain(state: &AppState, raw: &str) -> AppResult<bool> {
    let domain = normalize_domain(raw)?;
    Ok(domain_blocks::delete_domain(&state.db, &domain).await?)
}
