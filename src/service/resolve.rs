//! Finding accounts (and, as federation grows, statuses) by `user@domain` or URL: from the
//! database when known and fresh, otherwise over the network through WebFinger and a fetch of the
//! actor document, which is checked and stored.

use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::fetch::webfinger::webfinger_resolve_actor;

use crate::error::AppResult;
use crate::service::accounts::parse_acct;
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::FedData;
use crate::storage::accounts::{self, AccountRow};

/// The account named by `query` (`user`, `@user@domain`, `user@domain`, or an actor or profile
/// URL). With `resolve`, unknown or stale remote accounts are fetched (WebFinger, then the actor
/// document); without, only the database is consulted. `None` when nothing is found or the remote
/// server is unreachable, refuses, or answers something unusable (logged).
pub async fn account(data: &FedData, query: &str, resolve: bool) -> AppResult<Option<AccountRow>> {
    let q = query.trim();
    if q.starts_with("https://") || q.starts_with("http://") {
        if let Some((row, _)) = accounts::find_by_uri(&data.db, q).await? {
            if row.is_local() || !resolve {
                return Ok(Some(row));
            }
        }
        if !resolve {
            return Ok(None);
        }
        let Ok(id) = ObjectId::<ApAccount>::parse(q) else {
            return Ok(None);
        };
        return match id.dereference(data).await {
            Ok(a) => Ok(Some(a.row)),
            Err(e) => {
                tracing::info!(url = q, error = %e, "could not resolve an actor URL");
                Ok(None)
            }
        };
    }
    let Some((user, domain)) = parse_acct(q, &data.config.server.domain) else {
        return Ok(None);
    };
    let known = accounts::find_account_by_acct(&data.db, user, domain).await?;
    let Some(domain) = domain else {
        return Ok(known);
    };
    if !resolve {
        return Ok(known);
    }
    if let Some(row) = &known
        && let Some((_, Some(fetched))) = accounts::find_by_uri(&data.db, &row.uri).await?
        && chrono::Utc::now() - fetched < chrono::Duration::hours(24)
    {
        return Ok(known);
    }
    let acct = format!("{user}@{domain}");
    match webfinger_resolve_actor::<_, ApAccount>(&acct, data).await {
        Ok(a) => Ok(Some(a.row)),
        Err(e) => {
            tracing::info!(acct, error = %e, "could not resolve a remote account");
            // A stale copy is better than nothing.
            Ok(known)
        }
    }
}
