//! Sign-in throttling: attempts per client IP and per account within a 5-minute window, for the HTML
//! sign-in form and the password grant alike (`rate_limits.*` in the configuration).
//!
//! Every attempt counts, successful or not, as Mastodon's Rack::Attack rules do; the per-account
//! budget means a password cannot be guessed from many addresses either.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitsConfig;
use crate::error::AppError;

const WINDOW: Duration = Duration::from_secs(300);

pub struct SignInLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn quota(per_window: u32) -> Quota {
    let n = NonZeroU32::new(per_window.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(WINDOW / n.get())
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(n)
}

impl SignInLimiter {
    pub fn new(cfg: &RateLimitsConfig) -> SignInLimiter {
        SignInLimiter {
            per_ip: RateLimiter::keyed(quota(cfg.sign_in_per_ip)),
            per_account: RateLimiter::keyed(quota(cfg.sign_in_per_account)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt from `ip` on `login` (an email or username, compared case-insensitively).
    ///
    /// Errors: [`AppError::TooManyRequests`] with the seconds until the next attempt is allowed.
    pub fn check(&self, ip: IpAddr, login: &str) -> Result<(), AppError> {
        let now = self.clock.now();
        if let Err(not_until) = self.per_ip.check_key(&ip) {
            return Err(too_many(not_until.wait_time_from(now)));
        }
        if let Err(not_until) = self.per_account.check_key(&login.trim().to_lowercase()) {
            return Err(too_many(not_until.wait_time_from(now)));
        }
        Ok(())
    }

    /// Forgets keys whose budget has fully recovered (called periodically to bound memory).
    pub fn prune(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}

fn too_many(wait: Duration) -> AppError {
    AppError::TooManyRequests {
        retry_after_secs: wait.as_secs().max(1),
    }
}
