//! The durable job that carries a moved account's local relationships over (Mastodon's
//! `MoveWorker`): each local follower follows the new account and leaves the old one, local
//! blocks and mutes of the old account extend to the new one, and local private notes about it
//! are copied. Idempotent: after a crash the job
//! runs again from the start, and followers already carried over no longer follow the old account.

use serde_json::json;

use crate::error::AppResult;
use crate::jobs::{self, Job, Outcome};
use crate::service::relationships::{self, Carried};
use crate::state::AppState;
use crate::storage::Tx;
use crate::storage::account_moves as store;
use crate::storage::accounts::{self, AccountRow};

/// The job kind; payload `{"origin": account ID, "target": account ID}`.
pub const MOVE_JOB: &str = "move_followers";
/// Followers read per page.
const PAGE: i64 = 200;

/// Queues the carrying over from `origin` to `target`, inside the transaction that records the
/// move.
pub async fn enqueue(tx: &mut Tx, origin: i64, target: i64) -> AppResult<()> {
    jobs::enqueue(tx, MOVE_JOB, &json!({ "origin": origin, "target": target })).await?;
    Ok(())
}

/// Runs the move worker (one move at a time: each is a long walk over followers).
pub fn spawn_worker(state: &AppState) -> tokio::task::JoinHandle<()> {
    let s = state.clone();
    tokio::spawn(jobs::run_worker(
        state.db.clone(),
        MOVE_JOB,
        1,
        5,
        state.jobs_wakeup.clone(),
        move |job| run(s.clone(), job),
        |job, error| async move {
            tracing::error!(job = job.id, %error, "moving followers given up");
        },
    ))
}

async fn run(state: AppState, job: Job) -> Outcome {
    match carry_over(&state, &job).await {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

async fn carry_over(state: &AppState, job: &Job) -> AppResult<()> {
    let id = |k: &str| job.payload.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
    let (Some(origin), Some(target)) = (
        accounts::find_account(&state.db, id("origin")).await?,
        accounts::find_account(&state.db, id("target")).await?,
    ) else {
        return Ok(());
    };
    let (mut moved, mut skipped, mut failed) = (0u64, 0u64, 0u64);
    let mut after = 0;
    loop {
        let page = store::local_followers_after(&state.db, origin.id, after, PAGE).await?;
        for f in &page {
            after = f.account_id;
            match relationships::move_follower(
                state,
                f.account_id,
                f.show_reblogs,
                f.notify,
                &origin,
                &target,
            )
            .await
            {
                Ok(Carried::Moved) => moved += 1,
                Ok(Carried::Skipped) => skipped += 1,
                Err(e) => {
                    failed += 1;
                    tracing::warn!(follower = f.account_id, origin = %origin.uri, error = %e,
                        "could not carry a follower over to a moved account");
                }
            }
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    for mutes in [false, true] {
        let mut after = 0;
        loop {
            let page =
                store::local_blockers_after(&state.db, origin.id, mutes, after, PAGE).await?;
            for (owner, hide) in &page {
                after = *owner;
                let mute = mutes.then_some(*hide);
                if let Err(e) =
                    relationships::carry_block_or_mute(state, *owner, mute, &target).await
                {
                    tracing::warn!(owner, error = %e, "could not carry a block or mute over");
                }
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
    }
    copy_notes(state, &origin, &target).await?;
    tracing::info!(origin = %origin.uri, target = %target.uri, moved, skipped, failed,
        "followers carried over to a moved account");
    Ok(())
}

/// Copies local accounts' private notes about the old account to the new one, headed by where
/// they came from (Mastodon does the same); a note already there is kept after the copy, and the
/// whole cut to the note's length limit. Running it twice does not copy twice.
async fn copy_notes(state: &AppState, origin: &AccountRow, target: &AccountRow) -> AppResult<()> {
    let origin_acct = match &origin.domain {
        Some(d) => format!("{}@{d}", origin.username),
        None => origin.username.clone(),
    };
    let head = format!("Moved from @{origin_acct}:");
    let mut after = 0;
    loop {
        let page = store::local_notes_about_after(&state.db, origin.id, after, PAGE).await?;
        for (author, comment) in &page {
            after = *author;
            let existing = crate::storage::relationships::notes(&state.db, *author, &[target.id])
                .await?
                .pop()
                .map(|(_, c)| c)
                .unwrap_or_default();
            if existing.starts_with(&head) {
                continue;
            }
            let mut note = format!("{head}\n{comment}");
            if !existing.is_empty() {
                note.push_str("\n\n");
                note.push_str(&existing);
            }
            let note: String = note
                .chars()
                .take(crate::service::relationships::NOTE_MAX_CHARS)
                .collect();
            crate::storage::relationships::set_note(&state.db, *author, target.id, &note).await?;
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    Ok(())
}
