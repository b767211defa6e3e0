//! The durable job that carries a moved account's local relationships over (Mastodon's
//! `MoveWorker`): each local follower follows the new account and leaves the old one, and local
//! blocks and mutes of the old account extend to the new one. Idempotent: after a crash the job
//! runs again from the start, and followers already carried over no longer follow the old account.

use serde_json::json;

use crate::error::AppResult;
use crate::jobs::{self, Job, Outcome};
use crate::service::relationships::{self, Carried};
use crate::state::AppState;
use crate::storage::Tx;
use crate::storage::account_moves as store;
use crate::storage::accounts;

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
    tracing::info!(origin = %origin.uri, target = %target.uri, moved, skipped, failed,
        "followers carried over to a moved account");
    Ok(())
}
