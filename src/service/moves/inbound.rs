//! A `Move` from another server: checked against the target's `alsoKnownAs`, then recorded as
//! the origin's redirect, and the origin's local followers carried over by the job.

use activitypub_federation::fetch::object_id::ObjectId;
use url::Url;

use super::job;
use crate::error::{AppError, AppResult};
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::FedData;
use crate::storage::account_moves as store;
use crate::storage::accounts::{self, AccountRow};

/// Remote account `origin` moved to `target` (an actor URL, here or elsewhere). The target is
/// fetched again (a local one read) and must list `origin` in `alsoKnownAs`, exist, not be
/// suspended and not be `origin`. Then `origin` redirects to it and [`job`] carries `origin`'s
/// local followers over. A repeated `Move` to the same target queues the (idempotent) job again.
///
/// Errors: 422 for a target that cannot be fetched or does not name `origin`; database errors.
pub async fn receive_move(data: &FedData, origin: &AccountRow, target: &Url) -> AppResult<()> {
    let refused = |why: &str| {
        tracing::info!(origin = %origin.uri, target = %target, why, "refused a Move");
        AppError::unprocessable(format!("Move refused: {why}"))
    };
    let target_row = match accounts::find_by_uri(&data.db, target.as_str()).await? {
        Some((row, _)) if row.is_local() => row,
        _ => match ObjectId::<ApAccount>::from(target.clone())
            .dereference_forced(data)
            .await
        {
            Ok(a) => a.row,
            Err(e) => {
                tracing::info!(target = %target, error = %e, "could not fetch a Move's target");
                return Err(refused("the target cannot be fetched"));
            }
        },
    };
    if target_row.id == origin.id {
        return Err(refused("an account cannot move to itself"));
    }
    if target_row.suspended_at.is_some() {
        return Err(refused("the target is suspended"));
    }
    if !super::also_known_as(data, &target_row)
        .await?
        .contains(&origin.uri)
    {
        return Err(refused(
            "the target does not list the origin in alsoKnownAs",
        ));
    }
    let mut tx = data.db.begin().await?;
    store::set_moved_to(&mut tx, origin.id, Some(target_row.id)).await?;
    job::enqueue(&mut tx, origin.id, target_row.id).await?;
    tx.commit().await?;
    data.jobs_wakeup.notify_waiters();
    tracing::info!(origin = %origin.uri, target = %target_row.uri, "account moved");
    Ok(())
}
