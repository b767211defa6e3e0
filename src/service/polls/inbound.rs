//! What other servers' poll activities change: votes in our polls, new counts of theirs.

use chrono::Utc;

use crate::federation::protocol::note::Note;
use crate::state::AppState;
use crate::storage::polls as store;
use crate::storage::statuses::{self, StatusRow};
use crate::storage::{accounts, ids};

use super::*;

/// A remote actor's `Create(Note)` that votes in a local poll (a `name` and an `inReplyTo` naming
/// the poll's status). `Ok(false)` when the Note is not a vote in a poll here (it is then an
/// ordinary Note); `Ok(true)` when it was one, counted or not: a vote is counted once per voter
/// and option, only while the poll is open, only in polls the voter may see, and only once per
/// voter in a single-choice poll; the others are logged and ignored.
pub async fn receive_vote(
    state: &AppState,
    actor: &accounts::AccountRow,
    note: &Note,
) -> anyhow::Result<bool> {
    let (Some(name), Some(question)) = (&note.name, &note.in_reply_to) else {
        return Ok(false);
    };
    let Some(status) = statuses::find_by_uri_or_url(&state.db, question.as_str()).await? else {
        return Ok(false);
    };
    let Some(poll_id) = status.poll_id.filter(|_| status.local) else {
        return Ok(false);
    };
    let Some(poll) = store::find(&state.db, poll_id).await? else {
        return Ok(false);
    };
    if poll.expired(Utc::now()) {
        tracing::info!(voter = %actor.uri, poll = poll.id, "ignoring a vote in an ended poll");
        return Ok(true);
    }
    if statuses::find_visible(&state.db, status.id, actor.id)
        .await?
        .is_none()
    {
        tracing::info!(voter = %actor.uri, poll = poll.id, "ignoring a vote in a poll its voter cannot see");
        return Ok(true);
    }
    let Some(choice) = poll.options.iter().position(|o| o == name.trim()) else {
        tracing::info!(voter = %actor.uri, poll = poll.id, "ignoring a vote for no option of the poll");
        return Ok(true);
    };
    let mut tx = state.db.begin().await?;
    store::lock(&mut tx, poll.id).await?;
    let before = store::choices_of(&mut tx, poll.id, actor.id).await?;
    if !poll.multiple && !before.is_empty() {
        tracing::info!(voter = %actor.uri, poll = poll.id, "ignoring a second vote in a single-choice poll");
        return Ok(true);
    }
    if store::add_vote(
        &mut tx,
        ids::new_id(),
        poll.id,
        actor.id,
        choice as i64,
        Some(note.id.as_str()),
    )
    .await?
    {
        store::recount(&mut tx, &poll).await?;
        queue_update(&mut tx, poll.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    Ok(true)
}

/// An `Update(Question)` of a remote status we have: new counts (and, on an edit, new options)
/// for its poll. Returns whether only the counts changed (so the update is no edit).
pub async fn receive_counts(
    state: &AppState,
    row: &StatusRow,
    note: &Note,
) -> anyhow::Result<bool> {
    let Some(draft) = PollDraft::from_question(note) else {
        return Ok(false);
    };
    let current = match row.poll_id {
        Some(id) => store::find(&state.db, id).await?,
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let counts_only = match &current {
        Some(p) if p.options.0 == draft.options && p.multiple == draft.multiple => {
            store::set_counts(&mut tx, p, &draft.tallies, draft.voters_count).await?;
            // A moved end (Mastodon's closing update says when it really closed) is recorded,
            // but an end already announced here is not announced again.
            if p.expires_at != draft.expires_at {
                store::set_end(&mut tx, p, draft.expires_at).await?;
                if !p.ended {
                    queue_end(&mut tx, p.id, draft.expires_at)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
            }
            true
        }
        _ => {
            apply_edit(
                &mut tx,
                row.id,
                row.account_id,
                current.as_ref(),
                &PollEdit::Set(draft),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            false
        }
    };
    tx.commit().await?;
    Ok(counts_only)
}
