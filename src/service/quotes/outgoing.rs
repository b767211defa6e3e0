//! What quotes send (FEP-044f, Mastodon 4.5's shapes): the `QuoteRequest` for a quote of a
//! remote status, the `Accept` (with the stamp) or `Reject` answering another server's request,
//! the stamp itself (`QuoteAuthorization`, served at its own URL), and its `Delete` when a quote
//! is revoked. All go through the delivery queue.

use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::quotes::QuoteRow;
use crate::storage::statuses::StatusRow;

/// Where the stamp of quote `quote_id` of a status by local account `author_uri` lives.
pub fn stamp_uri(author_uri: &str, quote_id: i64) -> String {
    format!("{author_uri}/quote_authorizations/{quote_id}")
}

/// The id of our `QuoteRequest` for quote `quote_id` by `author_uri`.
pub fn request_id(author_uri: &str, quote_id: i64) -> String {
    format!("{author_uri}#quote_requests/{quote_id}")
}

/// The `QuoteAuthorization` stamp of an accepted quote of a local status
/// (`GET /users/:name/quote_authorizations/:id`).
///
/// Errors: 404 unless the quote exists, is accepted, and quotes a status of `username`.
pub async fn stamp(state: &AppState, username: &str, id: &str) -> AppResult<Value> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let q = crate::storage::quotes::find(&state.db, id)
        .await?
        .filter(|q| q.state == crate::storage::quotes::ACCEPTED)
        .ok_or(AppError::NotFound)?;
    let author = accounts::find_local_account_by_username(&state.db, username)
        .await?
        .filter(|a| Some(a.id) == q.quoted_account_id)
        .ok_or(AppError::NotFound)?;
    let quoting = crate::storage::statuses::find(&state.db, q.status_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let quoted = match q.quoted_status_id {
        Some(s) => crate::storage::statuses::find(&state.db, s).await?,
        None => None,
    }
    .ok_or(AppError::NotFound)?;
    let doc = authorization(&author.uri, q.id, &quoting.uri, &quoted.uri);
    crate::service::activitypub::with_context(doc)
}

/// The `id` of an object given inline or by its id.
pub(super) fn id_of(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => json!(s),
        Some(Value::Object(o)) => o.get("id").cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

fn authorization(author_uri: &str, quote_id: i64, quoting_uri: &str, quoted_uri: &str) -> Value {
    json!({
        "id": stamp_uri(author_uri, quote_id),
        "type": "QuoteAuthorization",
        "attributedTo": author_uri,
        "interactingObject": quoting_uri,
        "interactionTarget": quoted_uri,
    })
}

/// Asks the author of the remote status a local status quotes to approve the quote: a
/// `QuoteRequest` whose `instrument` is the quoting Note itself (so the other server need not
/// fetch it), to the quoted author's inbox.
pub(super) async fn request(state: &AppState, row: &StatusRow, q: &QuoteRow) -> AppResult<()> {
    let Some(quoted_author) = match q.quoted_account_id {
        Some(a) => accounts::find_account(&state.db, a).await?,
        None => None,
    }
    .filter(|a| !a.is_local()) else {
        return Ok(());
    };
    let Some(inbox) = quoted_author
        .inbox_url
        .clone()
        .or_else(|| quoted_author.shared_inbox_url.clone())
    else {
        tracing::warn!(
            quote = q.id,
            "the quoted author has no inbox; the quote stays pending"
        );
        return Ok(());
    };
    let author = accounts::find_account(&state.db, row.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::service::activitypub::keys::public_key_pem(state, &author).await?;
    let note = crate::service::activitypub::note_of(state, row).await?;
    let id = request_id(&author.uri, q.id);
    let activity = json!({
        "id": id,
        "type": "QuoteRequest",
        "actor": author.uri,
        "object": q.quoted_uri,
        "instrument": note,
    });
    crate::storage::quotes::set_state(&state.db, q, &q.state, None, Some(&id)).await?;
    send(state, &activity, author.id, &[inbox]).await
}

/// Answers a remote `QuoteRequest` (`request_doc`, as received) for a local status by `author`:
/// `Accept` with the stamp as `result` when `q` is accepted, else `Reject`.
pub(super) async fn answer(
    state: &AppState,
    author: &AccountRow,
    requester: &AccountRow,
    request_doc: &Value,
    q: Option<&QuoteRow>,
) -> AppResult<()> {
    let Some(inbox) = requester
        .inbox_url
        .clone()
        .or_else(|| requester.shared_inbox_url.clone())
    else {
        return Ok(());
    };
    let mut object = json!({
        "id": request_doc.get("id"),
        "type": "QuoteRequest",
        "actor": requester.uri,
        "object": request_doc.get("object"),
        "instrument": id_of(request_doc.get("instrument")),
    });
    if object["instrument"].is_null() {
        object.as_object_mut().map(|o| o.remove("instrument"));
    }
    let serial = crate::storage::ids::new_id();
    let activity = match q.filter(|q| q.state == crate::storage::quotes::ACCEPTED) {
        Some(q) => json!({
            "id": format!("{}#accepts/quote_requests/{serial}", author.uri),
            "type": "Accept",
            "actor": author.uri,
            "object": object,
            "result": stamp_uri(&author.uri, q.id),
        }),
        None => json!({
            "id": format!("{}#rejects/quote_requests/{serial}", author.uri),
            "type": "Reject",
            "actor": author.uri,
            "object": object,
        }),
    };
    crate::service::activitypub::keys::public_key_pem(state, author).await?;
    send(state, &activity, author.id, &[inbox]).await
}

/// A quote of `quoted` (by local `author`) by `quoting` was revoked: the stamp's `Delete` goes to
/// the remote followers of both authors and to the quoting author's server; a local quoting
/// status is sent again without its stamp.
pub(super) async fn revoked(
    state: &AppState,
    author: &AccountRow,
    quoted: &StatusRow,
    quoting: &StatusRow,
    q: &QuoteRow,
) -> AppResult<()> {
    let stamp = stamp_uri(&author.uri, q.id);
    let mut inboxes =
        crate::storage::relationships::remote_follower_inboxes(&state.db, quoted.account_id)
            .await?;
    let quoter = accounts::find_account(&state.db, quoting.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if quoter.is_local() {
        inboxes.extend(
            crate::storage::relationships::remote_follower_inboxes(&state.db, quoter.id).await?,
        );
        crate::service::statuses::send_note_update(state, &quoter, quoting).await?;
    } else if let Some(i) = quoter
        .shared_inbox_url
        .clone()
        .or_else(|| quoter.inbox_url.clone())
    {
        inboxes.push(i);
    }
    inboxes.sort();
    inboxes.dedup();
    if inboxes.is_empty() {
        return Ok(());
    }
    let activity = json!({
        "id": format!("{stamp}#delete"),
        "type": "Delete",
        "actor": author.uri,
        "to": [crate::federation::protocol::PUBLIC],
        "object": stamp,
    });
    crate::service::activitypub::keys::public_key_pem(state, author).await?;
    send(state, &activity, author.id, &inboxes).await
}

async fn send(state: &AppState, activity: &Value, actor: i64, inboxes: &[String]) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    crate::service::delivery::enqueue(&mut tx, activity, actor, inboxes, None).await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}
