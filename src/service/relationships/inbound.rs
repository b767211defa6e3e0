//! What follow, answer and block activities from other servers change here (called by `federation::inbound`).

use super::*;

/// `Follow` from a remote actor to a local account: a follow (answered with `Accept`) or, for a
/// locked account, a follow request; refused with `Reject` when the account blocks the actor.
pub async fn receive_follow(
    data: &crate::service::activitypub::context::FedData,
    actor: &AccountRow,
    f: &crate::federation::protocol::activities::Follow,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let Some((target, _)) = accounts::find_by_uri(&state.db, f.object.as_str()).await? else {
        return Ok(());
    };
    if !target.is_local() || actor.is_local() {
        return Ok(());
    }
    ensure_keys(state, target.id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let follow_doc = follow_activity(f.id.as_str(), &actor.uri, &target.uri);
    let blocked = store::blocked_either_way(&state.db, target.id, actor.id).await?;
    let already = store::find_follow(&state.db, FollowTable::Follows, actor.id, target.id)
        .await?
        .is_some();
    // As on Mastodon, accounts of a silenced ("limited") server need approval to follow, unless
    // the local account follows them.
    let limited = match &actor.domain {
        Some(d) => {
            crate::storage::domain_blocks::is_silenced(&state.db, d).await?
                && store::find_follow(&state.db, FollowTable::Follows, target.id, actor.id)
                    .await?
                    .is_none()
        }
        None => false,
    };
    let mut tx = state.db.begin().await?;
    let mut pending = Vec::new();
    if blocked {
        let reject = crate::federation::objects::answer(
            &target.uri,
            false,
            crate::storage::ids::new_id(),
            &follow_doc,
        );
        send_to(&mut tx, &reject, target.id, actor)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    } else if (target.locked || limited) && !already {
        if store::upsert_follow(
            &mut tx,
            FollowTable::Requests,
            actor.id,
            target.id,
            true,
            false,
            Some(f.id.as_str()),
        )
        .await?
        {
            pending.extend(
                notifications::create(&mut tx, target.id, actor.id, "follow_request", None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            );
        }
    } else {
        if store::upsert_follow(
            &mut tx,
            FollowTable::Follows,
            actor.id,
            target.id,
            true,
            false,
            Some(f.id.as_str()),
        )
        .await?
        {
            pending.extend(
                notifications::create(&mut tx, target.id, actor.id, "follow", None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            );
        }
        let accept = crate::federation::objects::answer(
            &target.uri,
            true,
            crate::storage::ids::new_id(),
            &follow_doc,
        );
        send_to(&mut tx, &accept, target.id, actor)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    notifications::publish(state, &pending).await;
    Ok(())
}

/// `Accept` or `Reject` of one of our follow requests by the followed remote account.
pub async fn receive_answer(
    data: &crate::service::activitypub::context::FedData,
    actor: &AccountRow,
    a: &crate::federation::protocol::activities::Answer,
    accept: bool,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    // The follower is named in the inline Follow, or found from the request's ID.
    let named = match a.object.url_field("actor") {
        Some(u) => accounts::find_by_uri(&state.db, u.as_str())
            .await?
            .map(|(r, _)| r),
        None => None,
    };
    let follower = match (named, a.object.id()) {
        (Some(f), _) => Some(f),
        (None, Some(id)) => match store::find_follow_by_uri(&state.db, id.as_str()).await? {
            Some(f) if f.target_account_id == actor.id => {
                accounts::find_account(&state.db, f.account_id).await?
            }
            _ => None,
        },
        (None, None) => None,
    };
    let Some(follower) = follower.filter(|f| f.is_local()) else {
        return Ok(());
    };
    let request =
        store::find_follow(&state.db, FollowTable::Requests, follower.id, actor.id).await?;
    let mut tx = state.db.begin().await?;
    if accept {
        if let Some(req) = request {
            store::delete_follow(&mut tx, FollowTable::Requests, follower.id, actor.id).await?;
            store::upsert_follow(
                &mut tx,
                FollowTable::Follows,
                follower.id,
                actor.id,
                req.show_reblogs,
                req.notify,
                req.uri.as_deref(),
            )
            .await?;
            statuses::merge_into_feed(&mut tx, follower.id, actor.id, true, MERGE_ON_FOLLOW)
                .await?;
        }
    } else {
        store::delete_follow(&mut tx, FollowTable::Requests, follower.id, actor.id).await?;
        if store::delete_follow(&mut tx, FollowTable::Follows, follower.id, actor.id).await? {
            statuses::unmerge_from_feed(&mut tx, follower.id, actor.id).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// `Undo` of a `Follow`: the remote actor stops following (or asking to follow) a local account.
pub async fn receive_undo_follow(
    data: &crate::service::activitypub::context::FedData,
    actor: &AccountRow,
    u: &crate::federation::protocol::activities::Answer,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let target = match u.object.url_field("object") {
        Some(t) => accounts::find_by_uri(&state.db, t.as_str())
            .await?
            .map(|(r, _)| r),
        None => match u.object.id() {
            Some(id) => match store::find_follow_by_uri(&state.db, id.as_str()).await? {
                Some(f) if f.account_id == actor.id => {
                    accounts::find_account(&state.db, f.target_account_id).await?
                }
                _ => None,
            },
            None => None,
        },
    };
    let Some(target) = target.filter(|t| t.is_local()) else {
        return Ok(());
    };
    let mut tx = state.db.begin().await?;
    store::delete_follow(&mut tx, FollowTable::Follows, actor.id, target.id).await?;
    if store::delete_follow(&mut tx, FollowTable::Requests, actor.id, target.id).await? {
        crate::storage::notifications::remove(&mut tx, target.id, actor.id, "follow_request", None)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `Block` (or its `Undo`) of a local account by a remote actor: follows between them end, and
/// the block hides each from the other as a local block does.
pub async fn receive_block(
    data: &crate::service::activitypub::context::FedData,
    actor: &AccountRow,
    object: &url::Url,
    on: bool,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let Some((target, _)) = accounts::find_by_uri(&state.db, object.as_str()).await? else {
        return Ok(());
    };
    if !target.is_local() {
        return Ok(());
    }
    if !on {
        store::delete_block(&state.db, actor.id, target.id).await?;
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    store::insert_block(&mut tx, actor.id, target.id).await?;
    for (a, b) in [(actor.id, target.id), (target.id, actor.id)] {
        if store::delete_follow(&mut tx, FollowTable::Follows, a, b).await? {
            statuses::unmerge_from_feed(&mut tx, a, b).await?;
        }
        store::delete_follow(&mut tx, FollowTable::Requests, a, b).await?;
    }
    tx.commit().await?;
    Ok(())
}
