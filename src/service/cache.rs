//! Short-lived in-memory copies of small tables that hot paths ask about on every request (domain
//! blocks, unreachable servers). A copy is reused while younger than its time to live, so a
//! change made elsewhere (the command line, another node) applies within that time; changes made
//! in this process drop the copy at once with [`Reloaded::forget`].
//!
//! [`Kept`] keeps rows that requests read over and over (tokens, status mentions and tags),
//! dropped by generation when a write of their kind commits (`storage::changes`).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::storage::changes::{Kind, current, generation};

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

/// Keys that failed recently (a mention that could not be looked up, say), remembered for `ttl`
/// so that the next request does not wait for the same failure; at most `cap` are kept.
pub struct Misses {
    ttl: Duration,
    cap: usize,
    seen: Mutex<std::collections::HashMap<String, Instant>>,
}

impl Misses {
    pub fn new(ttl: Duration, cap: usize) -> Misses {
        Misses {
            ttl,
            cap,
            seen: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Whether `key` failed less than `ttl` ago.
    pub fn recently_missed(&self, key: &str) -> bool {
        let m = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        m.get(key).is_some_and(|at| at.elapsed() < self.ttl)
    }

    /// Remembers that `key` failed now. Past `cap` keys, expired ones go first, then all.
    pub fn missed(&self, key: &str) {
        let mut m = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= self.cap {
            m.retain(|_, at| at.elapsed() < self.ttl);
            if m.len() >= self.cap {
                m.clear();
            }
        }
        m.insert(key.to_string(), Instant::now());
    }

    /// Forgets `key` (it succeeded, or talked to us).
    pub fn forget(&self, key: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// A cache key that may be marked changed on its own (`storage::changes::changed_key`).
pub trait KeptKey: Eq + std::hash::Hash + Clone {
    /// The key as `storage::changes` knows it, or `None` when only whole-kind changes apply.
    fn change_key(&self) -> Option<i64>;
}

impl KeptKey for i64 {
    fn change_key(&self) -> Option<i64> {
        Some(*self)
    }
}

impl KeptKey for String {
    fn change_key(&self) -> Option<i64> {
        None
    }
}

/// Values read from the database and kept while neither their [`Kind`] nor their key changed in
/// this process since they were read (see `storage::changes`), and for at most `ttl` when given
/// (the bound for writes by other processes). At most `capacity` entries; the least used go
/// first.
pub struct Kept<K, V> {
    entries: quick_cache::sync::Cache<K, (u64, Instant, V)>,
    kind: Kind,
    ttl: Option<Duration>,
}

impl<K: KeptKey, V: Clone> Kept<K, V> {
    pub fn new(kind: Kind, capacity: usize, ttl: Option<Duration>) -> Kept<K, V> {
        Kept {
            entries: quick_cache::sync::Cache::new(capacity),
            kind,
            ttl,
        }
    }

    /// The generation to pass to [`Kept::insert`]: read it before reading the value.
    pub fn generation(&self) -> u64 {
        generation()
    }

    /// The kept value, unless it changed or expired since it was read.
    pub fn get(&self, key: &K) -> Option<V> {
        let (g, at, v) = self.entries.get(key)?;
        (current(self.kind, key.change_key(), g) && self.ttl.is_none_or(|ttl| at.elapsed() < ttl))
            .then_some(v)
    }

    /// Keeps `value`, read after [`Kept::generation`] returned `generation`.
    pub fn insert(&self, key: K, value: V, generation: u64) {
        self.entries
            .insert(key, (generation, Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_expire_and_stay_bounded() {
        let m = Misses::new(Duration::from_millis(50), 3);
        m.missed("a");
        assert!(m.recently_missed("a"));
        assert!(!m.recently_missed("b"));
        for k in ["b", "c", "d", "e"] {
            m.missed(k);
        }
        assert!(m.seen.lock().unwrap().len() <= 3);
        m.forget("e");
        assert!(!m.recently_missed("e"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!m.recently_missed("d"));
    }
}
