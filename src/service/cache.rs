//! Short-lived in-memory copies of small tables that hot paths ask about on every request (domain
//! blocks, unreachable servers). A copy is reused while younger than its time to live, so a
//! change made elsewhere (the command line, another node) applies within that time; changes made
//! in this process drop the copy at once with [`Reloaded::forget`].

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A value loaded from the database, reloaded when older than `ttl`.
pub struct Reloaded<T> {
    ttl: Duration,
    loaded: Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> Reloaded<T> {
    pub fn new(ttl: Duration) -> Reloaded<T> {
        Reloaded {
            ttl,
            loaded: Mutex::new(None),
        }
    }

    /// The current copy, calling `load` when there is none or it has expired.
    ///
    /// Errors: those of `load`.
    pub async fn get<F, Fut>(&self, load: F) -> sqlx::Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = sqlx::Result<T>>,
    {
        {
            let m = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, v)) = &*m
                && at.elapsed() < self.ttl
            {
                return Ok(v.clone());
            }
        }
        let v = Arc::new(load().await?);
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), v.clone()));
        Ok(v)
    }

    /// Drops the copy: the next [`get`](Reloaded::get) reloads.
    pub fn forget(&self) {
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
