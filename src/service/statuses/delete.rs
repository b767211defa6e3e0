//! Deleting statuses: one by its author, or all of an account's.

use crate::api_types::status::Status;
use crate::error::AppResult;
use crate::realtime::{Event, StreamKey};
use crate::service::oauth::CurrentUser;
use crate::service::render;
use crate::state::AppState;
use crate::storage::accounts;
use crate::storage::statuses::{self as store, Counter, StatusRow};

use super::*;

/// Deletes one of the user's statuses; returns it with its source `text` (for "delete and
/// redraft"). Boosts of it go too; readers' streams get `delete` events.
///
/// Errors: 404 when not visible; 403 when it is someone else's.
pub async fn delete(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Status> {
    let row = visible(state, Some(user.account.id), id).await?;
    ensure_owner(&row, user)?;
    let mut rendered = render::status(state, Some(user.account.id), row.clone()).await?;
    rendered.text = Some(row.text.clone());
    let outgoing = if row.reblog_of_id.is_none() {
        let facts = store::facts_of(&state.db, store::ANONYMOUS, &[row.id]).await?;
        let mention_ids: Vec<i64> = facts.mentions.iter().map(|(_, a)| *a).collect();
        let mentions = accounts::find_accounts(&state.db, &mention_ids).await?;
        let inboxes = remote_audience(state, row.account_id, &row.visibility, &mentions).await?;
        (!inboxes.is_empty()).then(|| Outgoing {
            activity: crate::federation::objects::delete_note(&user.account.uri, &row.uri),
            inboxes,
        })
    } else {
        None
    };
    remove_status(state, &row, outgoing).await?;
    Ok(rendered)
}

/// Removes a status with its boosts (counters adjusted, feeds emptied) in one transaction with the
/// outgoing activity if any, then streams `delete` to everyone who had them. Shared by local
/// deletions and incoming `Delete`s.
pub(super) async fn remove_status(
    state: &AppState,
    row: &StatusRow,
    outgoing: Option<Outgoing>,
) -> AppResult<()> {
    let mut gone = vec![(row.clone(), store::feed_holders(&state.db, row.id).await?)];
    for b in store::boosts_of(&state.db, row.id).await? {
        let holders = store::feed_holders(&state.db, b.id).await?;
        gone.push((b, holders));
    }
    let mut tx = state.db.begin().await?;
    if let Some(parent) = row.in_reply_to_id {
        store::adjust_counter(&mut tx, parent, Counter::Replies, -1).await?;
    }
    if let Some(orig) = row.reblog_of_id {
        store::adjust_counter(&mut tx, orig, Counter::Reblogs, -1).await?;
    }
    if row.visibility == "direct" {
        crate::storage::conversations::remove_status(&mut tx, row.id).await?;
    }
    store::delete(&mut tx, row.id).await?;
    if let Some(out) = &outgoing {
        crate::service::delivery::enqueue(
            &mut tx,
            &out.activity,
            row.account_id,
            &out.inboxes,
            None,
        )
        .await?;
    }
    tx.commit().await?;
    if outgoing.is_some() {
        state.delivery_wakeup.notify_one();
    }
    for (s, holders) in gone {
        publish_delete(state, &s, &holders);
    }
    Ok(())
}

/// Removes every status of an account (a suspension), newest first, each as a delete would: boosts
/// of it, thread counters and readers' streams follow. Nothing is sent to other servers: the
/// account's own `Delete` covers them. Returns how many went.
pub async fn remove_all_of(state: &AppState, account_id: i64) -> AppResult<usize> {
    let mut gone = 0;
    loop {
        let ids = store::ids_of_account(&state.db, account_id, 200).await?;
        if ids.is_empty() {
            return Ok(gone);
        }
        for id in ids {
            // Read each one afresh: removing a status removes its boosts, which may be later in
            // this batch (the account's boosts of its own posts), and counters must move once.
            if let Some(row) = store::find(&state.db, id).await? {
                remove_status(state, &row, None).await?;
                gone += 1;
            }
        }
    }
}

pub(super) fn publish_delete(state: &AppState, row: &StatusRow, holders: &[i64]) {
    let mut keys: Vec<StreamKey> = holders.iter().map(|a| StreamKey::User(*a)).collect();
    if row.visibility == "public" {
        keys.extend([
            StreamKey::Public,
            if row.local {
                StreamKey::PublicLocal
            } else {
                StreamKey::PublicRemote
            },
        ]);
    }
    state.hub.publish(Event {
        keys,
        event: "delete",
        payload: row.id.to_string(),
        author_id: Some(row.account_id),
    });
}
