//! Throttling (`rate_limits.*` in the configuration), with `governor`'s token buckets: sign-in
//! attempts per client IP and per account within 5 minutes, for the HTML sign-in form and the
//! password grant alike; sign-ups and password reset requests per IP within 30 minutes; statuses
//! per account within 3 hours. A refusal is a 429 with `Retry-After` and Mastodon's
//! `X-RateLimit-*` headers; the budget comes back gradually (one action every window ÷ limit).
//!
//! Every attempt counts, successful or not, as Mastodon's Rack::Attack rules do; the per-account
//! budget means a password cannot be guessed from many addresses either.
//!
//! With several nodes ([`AppState::clustered`]) each budget also holds across them: after this
//! node's own limiter (in front, in memory), the action is taken from a budget shared in the
//! database (`storage::rate_limits`, GCRA in an unlogged table, one statement).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitsConfig;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Takes one action for `key` from the budget shared by the nodes (`limit` per `window`); a no-op
/// on a single node.
///
/// Errors: 429 with the wait; database errors.
async fn shared(state: &AppState, key: &str, limit: u32, window: Duration) -> AppResult<()> {
    if !state.clustered() {
        return Ok(());
    }
    let window_ms = window.as_millis() as i64;
    let interval = (window_ms / i64::from(limit.max(1))).max(1);
    let now = chrono::Utc::now().timestamp_millis();
    match crate::storage::rate_limits::take(&state.db, key, now, interval, window_ms - interval)
        .await?
    {
        None => Ok(()),
        Some(wait_ms) => Err(too_many(
            Duration::from_millis(wait_ms.max(0) as u64),
            limit,
        )),
    }
}

/// Drops shared budgets that have fully recovered (with the in-memory pruning).
pub async fn prune_shared(state: &AppState) {
    if state.clustered()
        && let Err(e) =
            crate::storage::rate_limits::prune(&state.db, chrono::Utc::now().timestamp_millis())
                .await
    {
        tracing::warn!(error = %e, "could not prune shared rate limits");
    }
}

const WINDOW: Duration = Duration::from_secs(300);

pub struct SignInLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    /// The two budgets (per IP, per account), for `X-RateLimit-Limit`.
    limits: (u32, u32),
    clock: DefaultClock,
}

fn quota(per_window: u32) -> Quota {
    quota_over(per_window, WINDOW)
}

fn quota_over(per_window: u32, window: Duration) -> Quota {
    let n = NonZeroU32::new(per_window.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(window / n.get())
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(n)
}

impl SignInLimiter {
    pub fn new(cfg: &RateLimitsConfig) -> SignInLimiter {
        SignInLimiter {
            per_ip: RateLimiter::keyed(quota(cfg.sign_in_per_ip)),
            per_account: RateLimiter::keyed(quota(cfg.sign_in_per_account)),
            limits: (cfg.sign_in_per_ip, cfg.sign_in_per_account),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt from `ip` on `login` (an email or username, compared case-insensitively).
    ///
    /// Errors: [`AppError::TooManyRequests`] with the seconds until the next attempt is allowed.
    pub fn check(&self, ip: IpAddr, login: &str) -> Result<(), AppError> {
        let now = self.clock.now();
        if let Err(not_until) = self.per_ip.check_key(&ip) {
            return Err(too_many(not_until.wait_time_from(now), self.limits.0));
        }
        if let Err(not_until) = self.per_account.check_key(&login.trim().to_lowercase()) {
            return Err(too_many(not_until.wait_time_from(now), self.limits.1));
        }
        Ok(())
    }

    /// [`SignInLimiter::check`], then the budgets shared by the nodes.
    ///
    /// Errors: 429 with the wait; database errors.
    pub async fn hit(&self, state: &AppState, ip: IpAddr, login: &str) -> AppResult<()> {
        self.check(ip, login)?;
        shared(state, &format!("sign_in:ip:{ip}"), self.limits.0, WINDOW).await?;
        let login = login.trim().to_lowercase();
        shared(
            state,
            &format!("sign_in:login:{login}"),
            self.limits.1,
            WINDOW,
        )
        .await
    }

    /// Forgets keys whose budget has fully recovered (called periodically to bound memory).
    pub fn prune(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}

fn too_many(wait: Duration, limit: u32) -> AppError {
    AppError::TooManyRequests {
        retry_after_secs: wait.as_secs().max(1),
        limit,
    }
}

/// One keyed budget: `limit` actions per `window`.
pub struct ActionLimiter {
    /// Names the budget in the shared table.
    name: &'static str,
    limiter: DefaultKeyedRateLimiter<String>,
    limit: u32,
    window: Duration,
    clock: DefaultClock,
}

impl ActionLimiter {
    pub fn new(name: &'static str, limit: u32, window: Duration) -> ActionLimiter {
        ActionLimiter {
            name,
            limiter: RateLimiter::keyed(quota_over(limit, window)),
            limit,
            window,
            clock: DefaultClock::default(),
        }
    }

    /// [`ActionLimiter::check`], then the budget shared by the nodes.
    ///
    /// Errors: 429 with the wait; database errors.
    pub async fn hit(&self, state: &AppState, key: &str) -> AppResult<()> {
        self.check(key)?;
        shared(
            state,
            &format!("{}:{key}", self.name),
            self.limit,
            self.window,
        )
        .await
    }

    /// Counts one action by `key`. Errors: 429 with the wait until the next one is allowed.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        self.limiter
            .check_key(&key.to_string())
            .map_err(|not_until| too_many(not_until.wait_time_from(self.clock.now()), self.limit))
    }
}

/// The budgets of actions other than signing in.
pub struct ActionLimits {
    pub sign_up_per_ip: ActionLimiter,
    pub password_reset_per_ip: ActionLimiter,
    pub statuses_per_account: ActionLimiter,
}

impl ActionLimits {
    pub fn new(cfg: &RateLimitsConfig) -> ActionLimits {
        let half_hour = Duration::from_secs(1800);
        ActionLimits {
            sign_up_per_ip: ActionLimiter::new("sign_up", cfg.sign_up_per_ip, half_hour),
            password_reset_per_ip: ActionLimiter::new(
                "password_reset",
                cfg.password_reset_per_ip,
                half_hour,
            ),
            statuses_per_account: ActionLimiter::new(
                "statuses",
                cfg.statuses_per_account,
                Duration::from_secs(3 * 3600),
            ),
        }
    }

    /// Forgets keys whose budget has fully recovered.
    pub fn prune(&self) {
        for l in [
            &self.sign_up_per_ip,
            &self.password_reset_per_ip,
            &self.statuses_per_account,
        ] {
            l.limiter.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A budget runs out and comes back one action per window ÷ limit.
    #[test]
    fn a_budget_runs_out_and_recovers() {
        let l = ActionLimiter::new("test", 2, Duration::from_millis(400));
        assert!(l.check("a").is_ok() && l.check("a").is_ok());
        match l.check("a") {
            Err(AppError::TooManyRequests { limit, .. }) => assert_eq!(limit, 2),
            other => panic!("not throttled: {other:?}"),
        }
        assert!(l.check("b").is_ok(), "budgets are per key");
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.check("a").is_ok(), "one more after window ÷ limit");
        assert!(l.check("a").is_err());
    }
}
