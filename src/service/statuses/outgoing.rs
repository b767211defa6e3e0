//! The ActivityPub `Create` of a status we send, and to whom.

use crate::error::AppResult;
use crate::state::AppState;
use crate::storage::accounts;
use crate::storage::statuses::{self as store, NewStatus, StatusRow};

/// An activity to queue with a change, and the inboxes it goes to.
pub struct Outgoing {
    pub activity: serde_json::Value,
    pub inboxes: Vec<String>,
}

/// Inboxes on other servers that should get a status: the author's remote followers (unless it is
/// direct) and the remote accounts it mentions; shared inboxes where servers have them.
pub async fn remote_audience(
    state: &AppState,
    author_id: i64,
    visibility: &str,
    mentions: &[crate::storage::accounts::AccountRow],
) -> AppResult<Vec<String>> {
    let mut inboxes = if visibility == "direct" {
        Vec::new()
    } else {
        crate::storage::relationships::remote_follower_inboxes(&state.db, author_id).await?
    };
    // Nothing goes to suspended accounts (their follows ended with the suspension).
    for m in mentions
        .iter()
        .filter(|m| !m.is_local() && m.suspended_at.is_none())
    {
        if let Some(i) = m.shared_inbox_url.clone().or_else(|| m.inbox_url.clone()) {
            inboxes.push(i);
        }
    }
    inboxes.sort();
    inboxes.dedup();
    Ok(inboxes)
}

/// The `Create` of a new local status, built before its transaction (it must not read rows that
/// are not committed yet), or `None` when no other server needs it.
pub(super) async fn outgoing_create(
    state: &AppState,
    author: &crate::storage::accounts::AccountRow,
    new: &NewStatus<'_>,
    parent: Option<&StatusRow>,
    mention_ids: &[i64],
    tags: &[String],
    attachments: &[crate::federation::protocol::note::Attachment],
    poll: Option<&crate::storage::polls::PollRow>,
    quote: Option<(&str, Option<&str>)>,
) -> AppResult<Option<Outgoing>> {
    let row = StatusRow {
        id: new.id,
        uri: new.uri.to_string(),
        url: new.url.map(String::from),
        account_id: new.account_id,
        in_reply_to_id: new.in_reply_to_id,
        in_reply_to_account_id: new.in_reply_to_account_id,
        reblog_of_id: None,
        conversation_id: new.conversation_id,
        text: new.text.to_string(),
        content: new.content.to_string(),
        spoiler_text: new.spoiler_text.to_string(),
        visibility: new.visibility.to_string(),
        sensitive: new.sensitive,
        language: new.language.map(String::from),
        local: true,
        application_id: new.application_id,
        replies_count: 0,
        reblogs_count: 0,
        favourites_count: 0,
        created_at: new.created_at,
        edited_at: None,
        has_media: !attachments.is_empty(),
        short: new.short,
        views_count: 0,
        completed_views_count: 0,
        card_id: None,
        poll_id: poll.map(|p| p.id),
        quote_approval_policy: new.quote_approval_policy,
    };
    outgoing_note(
        state,
        author,
        &row,
        parent,
        mention_ids,
        tags,
        attachments,
        poll,
        quote,
        crate::federation::objects::create,
    )
    .await
}

/// A Note activity (`wrap` makes the `Create` or `Update`) for a local status as given in `row`,
/// addressed to its remote audience; `None` when no other server needs it.
pub(super) async fn outgoing_note(
    state: &AppState,
    author: &crate::storage::accounts::AccountRow,
    row: &StatusRow,
    parent: Option<&StatusRow>,
    mention_ids: &[i64],
    tags: &[String],
    attachments: &[crate::federation::protocol::note::Attachment],
    poll: Option<&crate::storage::polls::PollRow>,
    quote: Option<(&str, Option<&str>)>,
    wrap: fn(&crate::federation::protocol::note::Note) -> serde_json::Value,
) -> AppResult<Option<Outgoing>> {
    let mentions = accounts::find_accounts(&state.db, mention_ids).await?;
    let inboxes = remote_audience(state, author.id, &row.visibility, &mentions).await?;
    if inboxes.is_empty() {
        return Ok(None);
    }
    crate::service::activitypub::keys::public_key_pem(state, author).await?;
    let root_uri = match parent {
        Some(p) => store::find(&state.db, p.conversation_id)
            .await?
            .map_or_else(|| p.uri.clone(), |r| r.uri),
        None if row.conversation_id == row.id => row.uri.clone(),
        None => store::find(&state.db, row.conversation_id)
            .await?
            .map_or_else(|| row.uri.clone(), |r| r.uri),
    };
    let lowered: Vec<String> = tags.iter().map(|t| t.to_lowercase()).collect();
    let emojis = crate::service::activitypub::note_emojis(state, row, poll).await?;
    let note = crate::federation::objects::note(
        &state.config,
        row,
        &crate::federation::objects::NoteParts {
            author,
            mentions: &mentions,
            tags: &lowered,
            in_reply_to_uri: parent.map(|p| p.uri.as_str()),
            conversation_uri: &format!("{root_uri}#context"),
            attachments,
            poll,
            emojis: &emojis,
            quote,
        },
    );
    Ok(Some(Outgoing {
        activity: wrap(&note),
        inboxes,
    }))
}

/// Sends an `Update` of a local status's Note, unedited, to its remote audience: something it
/// carries besides its text changed (its quote's approval, its quote policy). The activity gets an
/// ID of its own, since receivers drop one they have seen.
///
/// Errors: database errors.
pub async fn send_note_update(
    state: &AppState,
    author: &crate::storage::accounts::AccountRow,
    row: &StatusRow,
) -> AppResult<()> {
    if !row.local {
        return Ok(());
    }
    let facts = store::facts_of(&state.db, store::ANONYMOUS, &[row.id]).await?;
    let ids: Vec<i64> = facts.mentions.iter().map(|(_, a)| *a).collect();
    let mentions = accounts::find_accounts(&state.db, &ids).await?;
    let inboxes = remote_audience(state, author.id, &row.visibility, &mentions).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    crate::service::activitypub::keys::public_key_pem(state, author).await?;
    let note = crate::service::activitypub::note_of(state, row).await?;
    let mut activity = crate::federation::objects::update(&note);
    activity["id"] = serde_json::json!(format!(
        "{}#updates/{}",
        note.id,
        chrono::Utc::now().timestamp_millis()
    ));
    let mut tx = state.db.begin().await?;
    crate::service::delivery::enqueue(&mut tx, &activity, row.account_id, &inboxes, None).await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

/// Streams a status anew (`status.update`) to the feeds holding it, after something shown with it
/// changed without an edit (its quote's state, its quote policy).
pub async fn republish(state: &AppState, row: &StatusRow) {
    match store::feed_holders(&state.db, row.id).await {
        Ok(holders) => {
            super::distribute::publish_status(state, row, &holders, "status.update", &[]).await
        }
        Err(e) => tracing::warn!(error = %e, "could not find who holds a status to stream it"),
    }
}
