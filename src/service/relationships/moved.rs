//! Relationships carried over when an account moves (Mastodon's `MoveWorker`): a local follower
//! of the old account follows the new one (keeping `reblogs`, `notify` and list memberships),
//! stops following the old one and gets a `move` notification; a local block or mute of the old
//! account extends to the new one.

use super::*;
use crate::storage::account_moves;

/// What became of one follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carried {
    /// Now follows (or asked to follow) the new account.
    Moved,
    /// Left as it was: either side blocks the other, or the follower is the new account.
    Skipped,
}

/// Moves local follower `follower` (following with `reblogs`/`notify`) from `origin` to `target`.
/// A locked local target takes the follower at once (its owner asked for the move); a remote
/// one gets a follow request as usual. Running it again for a follower already moved changes
/// nothing.
///
/// Errors: database errors.
pub async fn move_follower(
    state: &AppState,
    follower: i64,
    reblogs: bool,
    notify: bool,
    origin: &AccountRow,
    target: &AccountRow,
) -> AppResult<Carried> {
    if follower == target.id || store::blocked_either_way(&state.db, follower, target.id).await? {
        return Ok(Carried::Skipped);
    }
    let mut tx = state.db.begin().await?;
    account_moves::copy_list_memberships(&mut tx, follower, origin.id, target.id).await?;
    tx.commit().await?;
    let target_now = AccountRow {
        // A move chain (the target moved on meanwhile) still carries the follower one step:
        // `follow_account` refuses moved accounts only for people choosing to follow them.
        moved_to_account_id: None,
        ..target.clone()
    };
    follow_account(
        state,
        follower,
        &target_now,
        Some(reblogs),
        Some(notify),
        target.is_local(),
    )
    .await?;
    unfollow_account(state, follower, origin).await?;
    let mut tx = state.db.begin().await?;
    let pending = notifications::create(&mut tx, follower, origin.id, "move", None).await?;
    tx.commit().await?;
    notifications::publish(state, pending.as_slice()).await;
    Ok(Carried::Moved)
}

/// Makes local `owner`, who blocks (`mute == None`) or mutes (`Some(hide_notifications)`) the
/// old account, block or mute `target` too — unless they already follow it, block or mute it.
///
/// Errors: database errors.
pub async fn carry_block_or_mute(
    state: &AppState,
    owner: i64,
    mute: Option<bool>,
    target: &AccountRow,
) -> AppResult<()> {
    if owner == target.id {
        return Ok(());
    }
    let facts = store::facts(&state.db, owner, &[target.id]).await?;
    let Some((_, f)) = facts.first() else {
        return Ok(());
    };
    if f.following.is_some() || f.blocking || f.muting.is_some() {
        return Ok(());
    }
    let id = target.id.to_string();
    match mute {
        None => block(state, owner, &id).await.map(|_| ()),
        Some(hide) => mute_account(state, owner, &id, hide).await,
    }
}

async fn mute_account(state: &AppState, owner: i64, id: &str, hide: bool) -> AppResult<()> {
    mute(state, owner, id, Some(hide), None).await.map(|_| ())
}
