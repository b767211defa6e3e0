//! Generations of the facts that in-memory caches keep, so a cache never serves what a committed
//! write has changed (issue 23).
//!
//! A cache notes the generation of its kind before it reads the database and keeps the entry
//! only while the generation is still that number; every write of that kind moves it on once the
//! write is committed (statements on [`Db`](super::Db) right after they run; statements in a
//! [`Tx`](super::Tx) at [`Tx::commit`](super::Tx::commit), so a reader between the statement and
//! the commit, which still sees the old row, cannot keep it). Generations are per process: a
//! write by another process (`rookery admin`, another node) is seen when a cache's entries
//! expire, which each cache bounds (docs/ARCHITECTURE.md, "Caches").

use std::sync::atomic::{AtomicU64, Ordering};

/// What a write changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// What a bearer token stands for: tokens, users, and local accounts' rows (the
    /// `Principal` of `service::oauth`).
    SignIns = 0,
    /// The mentions and hashtags of statuses, which change only when a status is edited.
    StatusLinks = 1,
}

const KINDS: usize = 2;

static GENERATIONS: [AtomicU64; KINDS] = [const { AtomicU64::new(0) }; KINDS];

/// The generation of `kind` now; read it before reading what is to be cached.
pub fn generation(kind: Kind) -> u64 {
    GENERATIONS[kind as usize].load(Ordering::SeqCst)
}

/// Marks `kind` changed by a committed write.
pub fn changed(kind: Kind) {
    GENERATIONS[kind as usize].fetch_add(1, Ordering::SeqCst);
}

/// Kinds changed by an open transaction, marked changed when it commits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pending(u8);

impl Pending {
    pub fn add(&mut self, kind: Kind) {
        self.0 |= 1 << kind as u8;
    }

    /// Marks every pending kind changed; called after the commit.
    pub fn committed(self) {
        for k in 0..KINDS {
            if self.0 & (1 << k) != 0 {
                GENERATIONS[k].fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}
