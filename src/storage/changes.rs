//! Generations of the facts that in-memory caches keep, so a cache never serves what a committed
//! write has changed (issue 23).
//!
//! A cache notes the generation of its kind before it reads the database, and keeps the entry only
//! while nothing it read has changed since: neither the whole kind ([`changed`]) nor the entry's
//! key ([`changed_key`]; keys share [`SLOTS`] slots per kind, so an unrelated key now and then
//! drops an entry too, never the other way round). Writes mark what they changed once it is
//! committed: statements on [`Db`](super::Db) right after they run, statements in a
//! [`Tx`](super::Tx) at [`Tx::commit`](super::Tx::commit), so a reader between the statement and
//! the commit, which still sees the old row, cannot keep it. Generations are per process: a write
//! by another process (`rookery admin`, another node) is seen when a cache's entries expire, which
//! each cache bounds (docs/ARCHITECTURE.md, "Caches").

use std::sync::atomic::{AtomicU64, Ordering};

/// What a write changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// What a bearer token stands for: tokens, users, and local accounts' rows (the
    /// `Principal` of `service::oauth`). Whole kind only.
    SignIns = 0,
    /// The mentions and hashtags of statuses, which change only when a status is edited. Whole
    /// kind only.
    StatusLinks = 1,
    /// An account's row or counters (`account_stats`), by account ID.
    Accounts = 2,
    /// A media attachment's row (its files, state, description), by media ID.
    Media = 3,
    /// A status's row (its text, counters, media flag, card), by status ID; the whole kind when
    /// a write touches many.
    Statuses = 4,
    /// A preview card's row, by card ID.
    Cards = 5,
}

const KINDS: usize = 6;

/// Every kind, in `repr` order.
const ALL: [Kind; KINDS] = [
    Kind::SignIns,
    Kind::StatusLinks,
    Kind::Accounts,
    Kind::Media,
    Kind::Statuses,
    Kind::Cards,
];

/// Slots for keys per kind (a key's slot is `key mod SLOTS`).
pub const SLOTS: usize = 4096;

/// The generation counter, shared by all kinds so that one number orders every change.
static CLOCK: AtomicU64 = AtomicU64::new(1);

/// Per kind: the generation of its last whole-kind change.
static WHOLE: [AtomicU64; KINDS] = [const { AtomicU64::new(0) }; KINDS];

/// Per kind and slot: the generation of the last change of a key in that slot.
static KEYS: [[AtomicU64; SLOTS]; KINDS] = [const { [const { AtomicU64::new(0) }; SLOTS] }; KINDS];

fn slot(key: i64) -> usize {
    key.rem_euclid(SLOTS as i64) as usize
}

/// The generation now; read it before reading what is to be cached, and keep it with the entry.
///
/// Inside a scope that may read a replica it is the generation of a window ago (see
/// [`super::replicas`]), so what the replica has not replayed yet cannot be kept as current.
pub fn generation() -> u64 {
    let now = CLOCK.load(Ordering::SeqCst);
    super::replicas::lookback_generation().map_or(now, |then| then.min(now))
}

/// True while an entry of `kind` read at generation `read_at` is still current: no whole-kind
/// change and (for a key) no change of its slot since.
pub fn current(kind: Kind, key: Option<i64>, read_at: u64) -> bool {
    WHOLE[kind as usize].load(Ordering::SeqCst) < read_at
        && key.is_none_or(|k| KEYS[kind as usize][slot(k)].load(Ordering::SeqCst) < read_at)
}

/// Where this process's changes go besides its own caches: set once by
/// `realtime::cluster` when nodes share the database, so their caches drop what a write here
/// changed (`kind` as its number, the key if one).
pub type Forward = Box<dyn Fn(u8, Option<i64>) + Send + Sync>;
static FORWARD: std::sync::OnceLock<Forward> = std::sync::OnceLock::new();

/// Sends every later change to `forward` too (once per process; later calls are ignored).
pub fn forward_to(forward: Forward) {
    let _ = FORWARD.set(forward);
}

/// The notification a transaction's changes make for the other nodes (`[kind, key or null]`
/// each): its channel and text, or `None` when it would be too large for one notification.
pub type Notification = Box<dyn Fn(&[(u8, Option<i64>)]) -> Option<String> + Send + Sync>;
static IN_TRANSACTION: std::sync::OnceLock<(&'static str, Notification)> =
    std::sync::OnceLock::new();

/// From now on a PostgreSQL transaction that changes a whole kind sends its changes to the other
/// nodes itself, with `pg_notify` on `channel` just before it commits, so they arrive with the
/// commit and nothing waits for them (once per process; set by `realtime::cluster`). Changes of
/// keys alone, and changes that do not fit in one notification, go through [`forward_to`]'s
/// forwarder after the commit instead.
pub fn notify_in_transactions(channel: &'static str, notification: Notification) {
    let _ = IN_TRANSACTION.set((channel, notification));
}

impl Kind {
    /// The kind numbered `n` (`repr`), for changes heard from another node.
    pub fn from_number(n: u8) -> Option<Kind> {
        ALL.into_iter().find(|k| *k as u8 == n)
    }
}

/// Marks all of `kind` changed by a committed write.
pub fn changed(kind: Kind) {
    mark(kind);
    if let Some(f) = FORWARD.get() {
        f(kind as u8, None);
    }
}

/// Marks one key of `kind` changed by a committed write.
pub fn changed_key(kind: Kind, key: i64) {
    mark_key(kind, key);
    if let Some(f) = FORWARD.get() {
        f(kind as u8, Some(key));
    }
}

/// Marks a change another node made (not forwarded again).
pub fn changed_elsewhere(kind: Kind, key: Option<i64>) {
    match key {
        Some(k) => mark_key(kind, k),
        None => mark(kind),
    }
}

fn mark(kind: Kind) {
    let g = CLOCK.fetch_add(1, Ordering::SeqCst);
    WHOLE[kind as usize].fetch_max(g, Ordering::SeqCst);
}

fn mark_key(kind: Kind, key: i64) {
    let g = CLOCK.fetch_add(1, Ordering::SeqCst);
    KEYS[kind as usize][slot(key)].fetch_max(g, Ordering::SeqCst);
}

/// What an open transaction changed, marked when it commits.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    kinds: u8,
    keys: Vec<(Kind, i64)>,
}

impl Pending {
    pub fn add(&mut self, kind: Kind) {
        self.kinds |= 1 << kind as u8;
    }

    pub fn add_key(&mut self, kind: Kind, key: i64) {
        self.keys.push((kind, key));
    }

    /// The notification of these changes for the other nodes, to send inside the transaction
    /// (see [`notify_in_transactions`]): channel and text, or `None` when no whole kind changed
    /// (keys alone go through the forwarder, gathered with other writes' keys: a notification per
    /// transaction cost PostgreSQL 60–75 µs a post on the cluster bench), when there is no other
    /// node, or when they are too many for one notification.
    pub fn notification(&self) -> Option<(&'static str, String)> {
        let (channel, make) = IN_TRANSACTION.get()?;
        if self.kinds == 0 {
            return None;
        }
        let mut list: Vec<(u8, Option<i64>)> = ALL
            .into_iter()
            .filter(|k| self.kinds & (1 << *k as u8) != 0)
            .map(|k| (k as u8, None))
            .collect();
        list.extend(self.keys.iter().map(|(k, key)| (*k as u8, Some(*key))));
        make(&list).map(|text| (*channel, text))
    }

    /// Marks everything pending changed; called after the commit. With `sent`, the other nodes
    /// had them with the commit ([`Pending::notification`]) and they are not forwarded again.
    pub fn committed(self, sent: bool) {
        for kind in ALL {
            if self.kinds & (1 << kind as u8) != 0 {
                if sent {
                    mark(kind);
                } else {
                    changed(kind);
                }
            }
        }
        for (kind, key) in self.keys {
            if sent {
                mark_key(kind, key);
            } else {
                changed_key(kind, key);
            }
        }
    }
}
