//! Domain blocks of one user (docs.joinmastodon.org/methods/domain_blocks/): the server's accounts
//! leave the user's timelines and notifications (`storage::user_domain_blocks::blocked_sql` in the
//! same filters as blocks and mutes), and its followers of the user are removed, each told with a
//! `Reject(Follow)`, as Mastodon does; pending follow requests from it are rejected too.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::relationships::{self as store, FollowTable};
use crate::storage::sql::Page;
use crate::storage::{accounts, statuses, user_domain_blocks as blocks};

use super::{ensure_keys, follow_activity, send_to};

/// Longest domain name accepted (RFC 1035's 253 characters, plus a port).
const DOMAIN_MAX: usize = 260;

/// `domain` as `accounts.domain` holds it: lower-case host (IDNA to ASCII), `:port` when not the
/// default; a URL given instead is reduced to its host.
///
/// Errors: 422 for an empty, malformed or over-long name, or this server's own.
pub fn normalize(state: &AppState, domain: &str) -> AppResult<String> {
    let raw = domain.trim();
    let bad = || AppError::unprocessable(format!("Validation failed: {raw:?} is not a domain"));
    if raw.is_empty() || raw.len() > DOMAIN_MAX {
        return Err(bad());
    }
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| bad())?;
    let host = url
        .host_str()
        .filter(|h| h.contains('.') || url.port().is_some())
        .ok_or_else(bad)?;
    let d = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
    .to_lowercase();
    if d == state.config.server.domain.to_lowercase() {
        return Err(AppError::unprocessable(
            "Validation failed: You cannot block your own server",
        ));
    }
    Ok(d)
}

/// `GET /api/v1/domain_blocks`: the caller's blocked domains, newest first, with the row IDs for
/// the `Link` header.
pub async fn list(state: &AppState, me: i64, page: &Page) -> AppResult<(Vec<String>, Vec<i64>)> {
    let rows = blocks::page_of(&state.db, me, page).await?;
    Ok((
        rows.iter().map(|(_, d)| d.clone()).collect(),
        rows.iter().map(|(id, _)| *id).collect(),
    ))
}

/// `POST /api/v1/domain_blocks`: hides `domain` from the caller, removes its followers (each told
/// with `Reject(Follow)`) and rejects its follow requests. Blocking again changes nothing.
///
/// Errors: 422 for a bad domain (see [`normalize`]).
pub async fn block(state: &AppState, me: i64, domain: &str) -> AppResult<()> {
    let domain = normalize(state, domain)?;
    let me_row = ensure_keys(state, me).await?;
    let mut tx = state.db.begin().await?;
    blocks::insert(&mut tx, me, &domain).await?;
    let mut sent = false;
    for requests in [false, true] {
        let table = if requests {
            FollowTable::Requests
        } else {
            FollowTable::Follows
        };
        let followers = blocks::followers_on(&mut tx, me, &domain, requests).await?;
        let ids: Vec<i64> = followers.iter().map(|(id, _)| *id).collect();
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(crate::storage::sql::MAX_ROWS) {
            rows.extend(accounts::find_accounts(&state.db, chunk).await?);
        }
        for (follower, uri) in followers {
            if !store::delete_follow(&mut tx, table, follower, me).await? {
                continue;
            }
            if requests {
                crate::storage::notifications::remove(
                    &mut tx,
                    me,
                    follower,
                    "follow_request",
                    None,
                )
                .await?;
            } else {
                statuses::unmerge_from_feed(&mut tx, follower, me).await?;
            }
            let Some(account) = rows.iter().find(|a| a.id == follower) else {
                continue;
            };
            if let Some(uri) = uri {
                let reject = serde_json::json!({
                    "id": format!("{}#reject/{}", me_row.uri, crate::storage::ids::new_id()),
                    "type": "Reject",
                    "actor": me_row.uri,
                    "object": follow_activity(&uri, &account.uri, &me_row.uri),
                });
                send_to(&mut tx, &reject, me, account).await?;
                sent = true;
            }
        }
    }
    tx.commit().await?;
    if sent {
        state.delivery_wakeup.notify_one();
    }
    Ok(())
}

/// `DELETE /api/v1/domain_blocks`: shows `domain` again (removed followers stay removed).
///
/// Errors: 422 for a bad domain.
pub async fn unblock(state: &AppState, me: i64, domain: &str) -> AppResult<()> {
    let domain = normalize(state, domain)?;
    blocks::delete(&state.db, me, &domain).await?;
    Ok(())
}
