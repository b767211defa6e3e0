//! Time-ordered 64-bit IDs, laid out as Mastodon's: `unix_ms << 16 | sequence`.
//!
//! Sorting by ID sorts by creation time, so timelines page by ID alone. The low 16 bits are a
//! per-process counter seeded randomly, which keeps IDs made in the same millisecond distinct and
//! makes collisions between nodes unlikely; the unique primary key turns the rare clash into an error
//! rather than corruption.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU16, Ordering};

use chrono::{DateTime, Utc};

fn sequence() -> &'static AtomicU16 {
    static SEQ: OnceLock<AtomicU16> = OnceLock::new();
    SEQ.get_or_init(|| AtomicU16::new(rand::random()))
}

/// A new ID for something created now.
pub fn new_id() -> i64 {
    id_at(Utc::now())
}

/// A new ID whose time part is `at` (remote objects use their `published` time).
pub fn id_at(at: DateTime<Utc>) -> i64 {
    let ms = at.timestamp_millis().max(0);
    let seq = sequence().fetch_add(1, Ordering::Relaxed);
    (ms << 16) | i64::from(seq)
}

/// The smallest ID that could have been made at `at`, for "since this time" queries.
pub fn min_id_at(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis().max(0) << 16
}

/// The creation time encoded in `id`.
pub fn time_of(id: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(id >> 16).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ordered_by_time_and_distinct() {
        let t = Utc::now();
        let a = id_at(t);
        let b = id_at(t);
        assert_ne!(a, b);
        let later = id_at(t + chrono::Duration::milliseconds(1));
        assert!(later > a.max(b) || (later >> 16) > (a >> 16));
        assert_eq!(time_of(a).timestamp_millis(), t.timestamp_millis());
        assert!(min_id_at(t) <= a);
    }
}
