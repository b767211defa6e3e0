//! Direct and group messages: conversations as Mastodon's API shows them
//! (docs.joinmastodon.org/methods/conversations/), and Rookery's extensions on top (docs/API.md,
//! Conversations): per-recipient receipts (`sent → delivered → seen`), `Read` receipts between
//! servers that advertise them, typing and presence events, search, do-not-disturb.
//!
//! A message is a direct status. Local posting and incoming `Create`s both pass through
//! [`on_direct_status`] inside the status's transaction, so a conversation never misses a message.
//!
//! Files: this one (the client API and what we send), `live` (typing, presence, custom status
//! and messaging preferences) and `inbound` (`Read` receipts from other servers).

mod inbound;
mod live;
pub use inbound::*;
pub use live::*;

use chrono::Utc;
use serde_json::{Value, json};

use crate::api_types::conversation::{Conversation, MessageReceipt};
use crate::error::{AppError, AppResult};
use crate::realtime::{Event, StreamKey};
use crate::service::oauth::CurrentUser;
use crate::service::render;
use crate::state::AppState;
use crate::storage::Tx;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::conversations::{self as store, ConversationRow};
use crate::storage::sql::Page;
use crate::storage::statuses::{self, ANONYMOUS, StatusRow};

pub use crate::service::instance::features::READ_RECEIPTS_FEATURE;

/// Inside the transaction storing direct status `id` (by `author`, in thread `conversation_id`,
/// mentioning `mentions`): files it in each local participant's conversation, counts the thread
/// read by its author up to it, and indexes its text for search. Returns the conversations to
/// stream after commit.
pub async fn on_direct_status(
    tx: &mut Tx,
    id: i64,
    conversation_id: i64,
    author: i64,
    mentions: &[i64],
    content_html: &str,
) -> AppResult<Vec<ConversationRow>> {
    let mut participants = vec![author];
    participants.extend(mentions.iter().copied().filter(|m| *m != author));
    let changed = store::add_status(tx, id, conversation_id, author, &participants).await?;
    // Whoever writes in a thread has read it up to there.
    let at = crate::storage::ids::time_of(id);
    store::record_read(tx, author, conversation_id, id, at).await?;
    store::index_text(tx, id, &crate::text::html_to_text(content_html)).await?;
    Ok(changed)
}

/// The participants a direct reply to `parent` keeps: its author and everyone it mentions, so a
/// group stays together even when a reply names only some of them. Empty unless both are direct.
pub async fn kept_participants(
    state: &AppState,
    parent: &StatusRow,
    visibility: &str,
    me: i64,
) -> AppResult<Vec<i64>> {
    if parent.visibility != "direct" || visibility != "direct" {
        return Ok(Vec::new());
    }
    let mut ids = participants_of(state, parent).await?;
    ids.retain(|a| *a != me);
    Ok(ids)
}

/// Everyone in message `s`: its author and the accounts it mentions, once each.
async fn participants_of(state: &AppState, s: &StatusRow) -> AppResult<Vec<i64>> {
    let facts = statuses::facts_of(&state.db, ANONYMOUS, &[s.id]).await?;
    let mut ids: Vec<i64> = facts.mentions.iter().map(|(_, a)| *a).collect();
    ids.push(s.account_id);
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Conversations of one account (`me`), in the order given. A page costs a fixed number of queries
/// whatever its length: the last statuses, their mentions and every participant are read at once.
pub async fn render(
    state: &AppState,
    me: i64,
    rows: &[ConversationRow],
) -> AppResult<Vec<Conversation>> {
    let status_ids: Vec<i64> = rows.iter().map(|r| r.last_status_id).collect();
    let lasts = statuses::find_many(&state.db, &status_ids).await?;
    let facts = statuses::facts_of(&state.db, ANONYMOUS, &status_ids).await?;
    let participants = |row: &ConversationRow| -> Vec<i64> {
        let mut ids: Vec<i64> = lasts
            .iter()
            .filter(|s| s.id == row.last_status_id)
            .map(|s| s.account_id)
            .chain(
                facts
                    .mentions
                    .iter()
                    .filter(|(sid, _)| *sid == row.last_status_id)
                    .map(|(_, a)| *a),
            )
            .filter(|a| *a != me)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            ids.push(me);
        }
        ids
    };
    let mut everyone: Vec<i64> = rows.iter().flat_map(participants).collect();
    everyone.sort_unstable();
    everyone.dedup();
    let accounts = render::accounts_by_id(state, &everyone).await?;
    let rendered = render::statuses(state, Some(me), lasts.clone()).await?;
    Ok(rows
        .iter()
        .map(|row| Conversation {
            id: row.id.to_string(),
            unread: row.unread,
            accounts: participants(row)
                .iter()
                .filter_map(|id| accounts.iter().find(|a| a.id == id.to_string()).cloned())
                .collect(),
            last_status: rendered
                .iter()
                .find(|st| st.id == row.last_status_id.to_string())
                .cloned(),
        })
        .collect())
}

async fn render_one(state: &AppState, row: &ConversationRow) -> AppResult<Conversation> {
    let mut one = render(state, row.account_id, std::slice::from_ref(row)).await?;
    one.pop()
        .ok_or_else(|| anyhow::anyhow!("a conversation rendered to nothing").into())
}

/// Streams `conversation` events for conversations that changed (each to its own account's
/// `direct` stream).
pub async fn publish(state: &AppState, rows: &[ConversationRow]) {
    if rows.is_empty() || !state.hub.has_listeners() {
        return;
    }
    for row in rows {
        match render_one(state, row).await {
            Ok(c) => {
                let Ok(payload) = serde_json::to_string(&c) else {
                    continue;
                };
                state.hub.publish(Event {
                    keys: vec![StreamKey::Direct(row.account_id)],
                    event: "conversation",
                    payload,
                    author_id: None,
                });
            }
            Err(e) => tracing::warn!(error = ?e, "could not stream a conversation"),
        }
    }
}

/// `GET /api/v1/conversations`: the caller's conversations, latest message first. Returns them
/// with the last-status IDs that page them.
pub async fn list(
    state: &AppState,
    me: i64,
    page: &Page,
) -> AppResult<(Vec<Conversation>, Vec<i64>)> {
    let rows = store::list(&state.db, me, page).await?;
    let ids = rows.iter().map(|r| r.last_status_id).collect();
    Ok((render(state, me, &rows).await?, ids))
}

/// `GET /api/v1/conversations/:id/messages` (extension): the conversation's messages as the caller
/// sees them (direct statuses of the thread it wrote or is mentioned in), newest first, with the
/// IDs that page them.
///
/// Errors: 404 for a conversation that is not the caller's.
pub async fn messages(
    state: &AppState,
    me: i64,
    id: &str,
    page: &Page,
) -> AppResult<(Vec<crate::api_types::status::Status>, Vec<i64>)> {
    let row = own(state, me, id).await?;
    let rows = store::messages(&state.db, me, row.conversation_id, page).await?;
    let ids = rows.iter().map(|r| r.id).collect();
    Ok((render::statuses(state, Some(me), rows).await?, ids))
}

/// One of the caller's conversations, as the API shows it. Errors: 404 when it is not theirs.
pub async fn show(state: &AppState, me: i64, id: &str) -> AppResult<Conversation> {
    render_one(state, &own(state, me, id).await?).await
}

async fn own(state: &AppState, me: i64, id: &str) -> AppResult<ConversationRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    store::find(&state.db, me, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `POST /api/v1/conversations/:id/read`: clears `unread`, records that the caller has read the
/// thread up to its latest message (the `seen` receipt), tells local participants' streams, and
/// sends a `Read` of that message to remote participants whose servers take receipts.
///
/// Errors: 404 for a conversation that is not the caller's.
pub async fn read(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Conversation> {
    let me = &user.account;
    let mut row = own(state, me.id, id).await?;
    let last = statuses::find(&state.db, row.last_status_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let receipt = remote_read_receipt(state, me, &last).await?;
    let mut tx = state.db.begin().await?;
    store::set_unread(&mut tx, row.id, false).await?;
    let moved =
        store::record_read(&mut tx, me.id, row.conversation_id, last.id, Utc::now()).await?;
    if moved && let Some((activity, inboxes)) = &receipt {
        crate::service::delivery::enqueue(&mut tx, activity, me.id, inboxes, None).await?;
    }
    tx.commit().await?;
    if moved && receipt.is_some() {
        state.delivery_wakeup.notify_one();
    }
    if moved {
        publish_seen(state, &last, me.id).await;
    }
    row.unread = false;
    render_one(state, &row).await
}

/// `POST /api/v1/conversations/:id/unread`: `me`'s copy shows as unread again. Read receipts
/// already sent stay sent (others saw the message read; this only marks it for oneself).
///
/// Errors: 404 when it is not `me`'s.
pub async fn unread(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Conversation> {
    let mut row = own(state, user.account.id, id).await?;
    let mut tx = state.db.begin().await?;
    store::set_unread(&mut tx, row.id, true).await?;
    tx.commit().await?;
    row.unread = true;
    render_one(state, &row).await
}

/// The `Read` of `last` by local account `me` and the inboxes it goes to: remote participants'
/// servers that advertise receipts (one shared inbox per server). `None` when there are none.
async fn remote_read_receipt(
    state: &AppState,
    me: &AccountRow,
    last: &StatusRow,
) -> AppResult<Option<(Value, Vec<String>)>> {
    let ids = participants_of(state, last).await?;
    let remote: Vec<AccountRow> = accounts::find_accounts(&state.db, &ids)
        .await?
        .into_iter()
        .filter(|a| !a.is_local() && a.id != me.id)
        .collect();
    let mut inboxes = Vec::new();
    let mut to = Vec::new();
    for a in &remote {
        let Some(domain) = a.domain.as_deref() else {
            continue;
        };
        if !crate::service::instance::features::of_server(state, domain, &a.uri)
            .await
            .read_receipts
        {
            continue;
        }
        to.push(a.uri.clone());
        if let Some(i) = a.shared_inbox_url.clone().or_else(|| a.inbox_url.clone()) {
            inboxes.push(i);
        }
    }
    inboxes.sort();
    inboxes.dedup();
    if inboxes.is_empty() {
        return Ok(None);
    }
    crate::service::activitypub::keys::public_key_pem(state, me).await?;
    let activity = crate::federation::objects::read(&me.uri, &to, last.id, &last.uri);
    Ok(Some((activity, inboxes)))
}

/// Tells local participants of `status`'s thread that `reader` has seen it (event
/// `rookery.receipt` on their `direct` streams).
async fn publish_seen(state: &AppState, status: &StatusRow, reader: i64) {
    if !state.hub.has_listeners() {
        return;
    }
    let Ok(rows) = store::of_thread(&state.db, status.conversation_id).await else {
        return;
    };
    let keys: Vec<StreamKey> = rows
        .iter()
        .filter(|r| r.account_id != reader)
        .map(|r| StreamKey::Direct(r.account_id))
        .collect();
    if keys.is_empty() {
        return;
    }
    let payload = json!({
        "status_id": status.id.to_string(),
        "account_id": reader.to_string(),
        "state": "seen",
    });
    state.hub.publish(Event {
        keys,
        event: "rookery.receipt",
        payload: payload.to_string(),
        author_id: None,
    });
}

/// `DELETE /api/v1/conversations/:id`: removes the conversation from the caller's list (the
/// messages stay; a new one brings it back). Errors: 404 when it is not the caller's.
pub async fn delete(state: &AppState, me: i64, id: &str) -> AppResult<()> {
    let row = own(state, me, id).await?;
    store::delete(&state.db, me, row.id).await?;
    Ok(())
}

/// `GET /api/v1/statuses/:id/receipts` (extension): each recipient of one of the caller's direct
/// messages with `sent`, `delivered` or `seen`. Errors: 404 for a status that is not the caller's
/// direct message.
pub async fn receipts(state: &AppState, me: i64, id: &str) -> AppResult<Vec<MessageReceipt>> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let status = statuses::find(&state.db, id)
        .await?
        .filter(|s| s.account_id == me && s.visibility == "direct")
        .ok_or(AppError::NotFound)?;
    let rows = store::recipients(&state.db, status.id).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.account_id).collect();
    let accounts = render::accounts_by_id(state, &ids).await?;
    Ok(rows
        .iter()
        .zip(accounts)
        .map(|(r, account)| {
            let (state, delivered_at) = receipt_state(r, status.created_at);
            MessageReceipt {
                account,
                state,
                delivered_at,
                seen_at: r.read_at,
            }
        })
        .collect())
}

/// Where a message stands for one recipient, and when it arrived: local recipients have it when
/// it is stored; a read implies arrival, even when the delivery record says otherwise (a reply
/// by way of another server, a Read that overtook our bookkeeping).
fn receipt_state(
    r: &store::RecipientRow,
    sent_at: chrono::DateTime<Utc>,
) -> (&'static str, Option<chrono::DateTime<Utc>>) {
    let delivered_at = if r.local {
        Some(sent_at)
    } else {
        r.delivered_at
    };
    let state = match (r.read_at, delivered_at) {
        (Some(_), _) => "seen",
        (None, Some(_)) => "delivered",
        (None, None) => "sent",
    };
    (state, delivered_at.or(r.read_at))
}

/// For each of `me`'s own direct messages among `statuses`, the least advanced recipient's state
/// (`sent`, `delivered` or `seen`) — the ticks of a chat view, without rendering the recipients.
///
/// Errors: database errors.
pub async fn receipt_states(
    state: &AppState,
    me: i64,
    statuses: &[crate::api_types::status::Status],
) -> AppResult<Vec<(String, &'static str)>> {
    let me = me.to_string();
    let mut out = Vec::new();
    for s in statuses
        .iter()
        .filter(|s| s.account.id == me && s.visibility == "direct")
    {
        let Ok(id) = s.id.parse::<i64>() else {
            continue;
        };
        let least = store::recipients(&state.db, id)
            .await?
            .iter()
            .map(|r| receipt_state(r, s.created_at).0)
            .min_by_key(|st| match *st {
                "sent" => 0,
                "delivered" => 1,
                _ => 2,
            })
            .unwrap_or("delivered");
        out.push((s.id.clone(), least));
    }
    Ok(out)
}

/// `GET /api/v2/search?type=statuses&in=conversations` (extension): the caller's messages holding
/// every word of `q`, newest first.
pub async fn search(
    state: &AppState,
    me: i64,
    q: &str,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<crate::api_types::status::Status>> {
    let ids = store::search(&state.db, me, q, limit, offset).await?;
    let mut rows = statuses::find_many(&state.db, &ids).await?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.id));
    render::statuses(state, Some(me), rows).await
}
