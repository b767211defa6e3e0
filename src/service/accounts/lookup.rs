//! Finding accounts and users for handlers: by ID as the public may see them, by `acct`, by username, several at once; reloading the signed-in user; a remote actor's self-deletion.

use super::*;

/// Deletes a remote account that deleted itself (its `Delete` of its own actor), with everything
/// of it: statuses, follows, interactions. Returns how many statuses went.
///
/// Errors: database errors.
pub async fn delete_remote(state: &AppState, actor: &AccountRow) -> AppResult<usize> {
    let gone = crate::storage::accounts::delete_remote(&state.db, actor.id).await?;
    tracing::info!(actor = %actor.uri, statuses = gone.len(), "remote account deleted");
    Ok(gone.len())
}

/// The account `id` if it may be shown publicly: local accounts still awaiting approval are
/// hidden. Errors: 404 when unknown or hidden.
pub async fn visible(state: &AppState, id: i64) -> AppResult<AccountRow> {
    let row = accounts::find_account(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.is_local() {
        let user = accounts::find_user_by_account(&state.db, row.id).await?;
        if user.is_some_and(|u| !u.approved) {
            return Err(AppError::NotFound);
        }
    }
    Ok(row)
}

/// Most accounts `GET /api/v1/accounts?id[]=` takes at once (as Mastodon: 422 past it).
pub const MANY_MAX: usize = 40;

/// `GET /api/v1/accounts?id[]=…`: the accounts of `ids` that [`visible`] shows, in the order
/// asked (unknown and malformed IDs are left out).
///
/// Errors: 422 for more than [`MANY_MAX`] IDs.
pub async fn visible_many(state: &AppState, ids: &[String]) -> AppResult<Vec<AccountRow>> {
    if ids.len() > MANY_MAX {
        return Err(AppError::unprocessable(format!(
            "Validation failed: at most {MANY_MAX} id[] at once"
        )));
    }
    let mut out: Vec<AccountRow> = Vec::new();
    for id in ids.iter().filter_map(|i| i.parse::<i64>().ok()) {
        if out.iter().any(|a| a.id == id) {
            continue;
        }
        match visible(state, id).await {
            Ok(row) => out.push(row),
            Err(AppError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The account `USER` or `USER@DOMAIN` names (no WebFinger). Errors: 404 when unknown or
/// malformed.
pub async fn by_acct(state: &AppState, acct: &str) -> AppResult<AccountRow> {
    let (username, domain) =
        parse_acct(acct, &state.config.server.domain).ok_or(AppError::NotFound)?;
    accounts::find_account_by_acct(&state.db, username, domain)
        .await?
        .ok_or(AppError::NotFound)
}

/// The accounts of `ids` that exist, in no particular order.
///
/// Errors: database errors.
pub async fn find_many(state: &AppState, ids: &[i64]) -> AppResult<Vec<AccountRow>> {
    Ok(accounts::find_accounts(&state.db, ids).await?)
}

/// The signed-in user's account and user rows as stored now (after a change).
///
/// Errors: 404 when either is gone.
pub async fn reload(
    state: &AppState,
    account_id: i64,
    user_id: i64,
) -> AppResult<(AccountRow, UserRow)> {
    let account = accounts::find_account(&state.db, account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = accounts::find_user(&state.db, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((account, user))
}

/// The e-mail address `user_id` asked to change to and has not confirmed yet, if any.
///
/// Errors: database errors.
pub async fn unconfirmed_email(state: &AppState, user_id: i64) -> AppResult<Option<String>> {
    Ok(accounts::unconfirmed_email(&state.db, user_id).await?)
}

/// The local user `user_id` as stored now. Errors: 404 when gone.
pub async fn user(state: &AppState, user_id: i64) -> AppResult<UserRow> {
    accounts::find_user(&state.db, user_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The local account called `username` (for WebFinger and actor documents).
///
/// Errors: 404 when unknown; 410 when suspended.
pub async fn local_by_username(state: &AppState, username: &str) -> AppResult<AccountRow> {
    let account = accounts::find_local_account_by_username(&state.db, username)
        .await?
        .ok_or(AppError::NotFound)?;
    if account.suspended_at.is_some() {
        return Err(AppError::Gone("This account is suspended".into()));
    }
    Ok(account)
}
