//! The `Update(Question)` we send with new counts, and the jobs that send it (batched) and end
//! polls.

use chrono::Utc;

use crate::error::AppResult;
use crate::jobs::{self, Job, Outcome};
use crate::state::AppState;
use crate::storage::accounts;
use crate::storage::db::Tx;
use crate::storage::polls as store;
use crate::storage::statuses::{self, StatusRow};

use super::*;

/// The `Update(Question)` of a local status's poll as it stands (`objects::poll_update`), to the
/// status's remote audience and the poll's remote voters.
async fn send_update(state: &AppState, status: &StatusRow, tx: &mut Tx) -> AppResult<bool> {
    let note = crate::service::activitypub::note_of(state, status).await?;
    let Some(poll_id) = status.poll_id else {
        return Ok(false);
    };
    let mentions = crate::storage::statuses::facts_of(&state.db, statuses::ANONYMOUS, &[status.id])
        .await?
        .mentions
        .into_iter()
        .map(|(_, a)| a)
        .collect::<Vec<_>>();
    let mentioned = accounts::find_accounts(&state.db, &mentions).await?;
    let mut inboxes = crate::service::statuses::remote_audience(
        state,
        status.account_id,
        &status.visibility,
        &mentioned,
    )
    .await?;
    inboxes.extend(store::remote_voter_inboxes(&state.db, poll_id).await?);
    inboxes.sort();
    inboxes.dedup();
    if inboxes.is_empty() {
        return Ok(false);
    }
    let activity = crate::federation::objects::poll_update(&note);
    crate::service::delivery::enqueue(tx, &activity, status.account_id, &inboxes, None).await?;
    Ok(true)
}

/// Runs the poll workers: batched count updates and poll ends.
pub fn spawn_workers(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let (s1, s2) = (state.clone(), state.clone());
    vec![
        tokio::spawn(jobs::run_worker(
            state.db.clone(),
            UPDATE_JOB,
            2,
            5,
            state.jobs_wakeup.clone(),
            move |job| update_job(s1.clone(), job),
            |_, _| async {},
        )),
        tokio::spawn(jobs::run_worker(
            state.db.clone(),
            END_JOB,
            2,
            5,
            state.jobs_wakeup.clone(),
            move |job| end_job(s2.clone(), job),
            |_, _| async {},
        )),
    ]
}

fn poll_id_of(job: &Job) -> i64 {
    job.payload["poll_id"].as_i64().unwrap_or_default()
}

async fn update_job(state: AppState, job: Job) -> Outcome {
    match send_counts(&state, poll_id_of(&job)).await {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

async fn send_counts(state: &AppState, poll_id: i64) -> AppResult<()> {
    store::clear_update(&state.db, poll_id).await?;
    let Some(poll) = store::find(&state.db, poll_id).await? else {
        return Ok(());
    };
    let Some(status) = statuses::find(&state.db, poll.status_id).await? else {
        return Ok(());
    };
    if !status.local {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let sent = send_update(state, &status, &mut tx).await?;
    tx.commit().await?;
    if sent {
        state.delivery_wakeup.notify_one();
    }
    Ok(())
}

async fn end_job(state: AppState, job: Job) -> Outcome {
    match end(&state, poll_id_of(&job)).await {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// A poll's end, once: `poll` notifications to the voters here and to a local author, and for a
/// local poll the final `Update(Question)`. A job for a poll whose end moved later (an edit) does
/// nothing; the new end has its own job.
async fn end(state: &AppState, poll_id: i64) -> AppResult<()> {
    let Some(poll) = store::find(&state.db, poll_id).await? else {
        return Ok(());
    };
    if !poll.expired(Utc::now()) || poll.ended {
        return Ok(());
    }
    let Some(status) = statuses::find(&state.db, poll.status_id).await? else {
        return Ok(());
    };
    let mut tx = state.db.begin().await?;
    if !store::mark_ended(&mut tx, &poll).await? {
        return Ok(());
    }
    let mut recipients = store::local_voters(&mut tx, poll.id).await?;
    if status.local {
        recipients.push(poll.account_id);
    }
    recipients.sort_unstable();
    recipients.dedup();
    let wanted: Vec<crate::storage::notifications::NewNotification<'_>> = recipients
        .iter()
        .map(|r| crate::storage::notifications::NewNotification {
            account_id: *r,
            from: poll.account_id,
            kind: "poll",
            about: crate::storage::notifications::About {
                status_id: Some(status.id),
                ..Default::default()
            },
        })
        .collect();
    let pending: Vec<_> = crate::service::notifications::create_many(&mut tx, &wanted)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let sent = status.local && send_update(state, &status, &mut tx).await?;
    tx.commit().await?;
    if sent {
        state.delivery_wakeup.notify_one();
    }
    crate::service::notifications::publish(state, &pending).await;
    Ok(())
}
