//! Read replicas as the HTTP layer sees them (`storage::replicas`; docs/DEPLOY.md, "Read
//! replicas"): which requests may read from a replica, and the read-your-writes fence of a session.

use std::future::Future;

use crate::state::AppState;
use crate::storage::replicas;

/// Whether this node has read replicas configured.
pub fn enabled(state: &AppState) -> bool {
    state.db.replicas().is_some()
}

/// Runs a `GET` request's `work` with its timeline, account and status reads allowed on a replica.
/// `credential` is the caller's bearer token or session cookie, if any (its session reads from the
/// primary right after it wrote).
pub async fn reading<F: Future>(state: &AppState, credential: Option<&str>, work: F) -> F::Output {
    replicas::reading(&state.db, credential.map(replicas::session_key), work).await
}

/// After a request of `credential`'s session that may have written, before it is answered: that
/// session reads from the primary on every node for a while. A failure is logged and the answer
/// still goes out (the session may then read a replica up to `database.replica_max_lag_ms` behind).
pub async fn fence(state: &AppState, credential: &str) {
    if let Err(e) = replicas::fence(&state.db, replicas::session_key(credential)).await {
        tracing::warn!(error = %e, "could not record a session's write for read-your-writes");
    }
}

/// Drops old fences (the minute chore).
pub async fn prune(state: &AppState) {
    if enabled(state)
        && let Err(e) = replicas::prune(&state.db).await
    {
        tracing::warn!(error = %e, "could not prune read-your-writes fences");
    }
}
