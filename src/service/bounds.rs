//! Ranges that numbers from clients must fall in before any arithmetic is done with them, so that
//! no value a client sends can overflow a date or a counter (a panic in `chrono` would otherwise
//! drop the connection).

use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};

/// Longest duration a client may give for anything that expires (`expires_in` of filters, a
/// mute's `duration`): ten years, in seconds.
pub const MAX_DURATION_SECONDS: i64 = 10 * 365 * 24 * 3600;

/// The moment `seconds` from now, for the client-given duration called `field`.
///
/// Errors: 422 `Validation failed: {field} must be from 1 to 315360000 seconds` outside
/// 1..=[`MAX_DURATION_SECONDS`].
pub fn expiry_after(field: &str, seconds: i64) -> AppResult<DateTime<Utc>> {
    if !(1..=MAX_DURATION_SECONDS).contains(&seconds) {
        return Err(AppError::unprocessable(format!(
            "Validation failed: {field} must be from 1 to {MAX_DURATION_SECONDS} seconds"
        )));
    }
    Ok(Utc::now() + chrono::Duration::seconds(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_range_checked_not_overflowed() {
        for bad in [
            0,
            -1,
            i64::MIN,
            i64::MAX,
            10_i64.pow(13),
            MAX_DURATION_SECONDS + 1,
        ] {
            assert!(expiry_after("duration", bad).is_err(), "{bad}");
        }
        assert!(expiry_after("duration", MAX_DURATION_SECONDS).unwrap() > Utc::now());
        assert!(expiry_after("duration", 1).is_ok());
    }
}
