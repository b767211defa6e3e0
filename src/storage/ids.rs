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

/// Latest time an ID can hold, in Unix milliseconds: 47 bits (the year 6429), so the shift by 16
/// stays within `i64`.
const MAX_MS: i64 = (1 << 47) - 1;

/// A new ID whose time part is `at` (remote objects use their `published` time), clamped to the
/// times an ID can hold: a remote date before 1970 or after [`MAX_MS`] cannot make a negative ID.
pub fn id_at(at: DateTime<Utc>) -> i64 {
    let ms = at.timestamp_millis().clamp(0, MAX_MS);
    let seq = sequence().fetch_add(1, Ordering::Relaxed);
    (ms << 16) | i64::from(seq)
}

/// The smallest ID that could have been made at `at`, for "since this time" queries.
pub fn min_id_at(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis().clamp(0, MAX_MS) << 16
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

    #[test]
    fn far_dates_make_positive_ids() {
        let far = DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z").unwrap();
        assert!(id_at(far.with_timezone(&Utc)) > id_at(Utc::now()));
        assert!(min_id_at(far.with_timezone(&Utc)) > 0);
        assert!(id_at(DateTime::<Utc>::MIN_UTC) >= 0);
    }
}
