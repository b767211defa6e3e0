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
//! database (`storage::rate_limits`, GCRA in an unlogged table, one statement) — on every action
//! for signing in, signing up and password resets; with a local window of [`SHARED_WINDOW`] for
//! statuses ([`ActionLimiter::windowed`]), so a node posting many statuses pays one statement per
//! key and second rather than one per status.

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
        Ok(_) => Ok(()),
        Err(wait_ms) => Err(too_many(
            Duration::from_millis(wait_ms.max(0) as u64),
            limit,
        )),
    }
}

/// How long a node decides a windowed budget ([`ActionLimiter::windowed`]) on its own after it
/// last read the shared state; what it allowed meanwhile is added to the shared budget at most
/// this long after.
pub const SHARED_WINDOW: Duration = Duration::from_secs(1);

/// A windowed budget's state on this node.
#[derive(Debug)]
struct Local {
    /// The shared theoretical arrival time (Unix ms) as last read.
    shared_tat: i64,
    /// When it was read.
    read_at: std::time::Instant,
    /// Actions allowed here and not yet added to the shared budget.
    pending: i64,
    /// A read of the shared state is on its way (the others decide locally meanwhile).
    syncing: bool,
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
    /// For a windowed budget: its keys' state on this node (see [`ActionLimiter::windowed`]).
    local: Option<std::sync::Mutex<std::collections::HashMap<String, Local>>>,
}

impl ActionLimiter {
    /// A budget taken from the shared table on every action, when clustered (for sign-ups and
    /// password resets: rare, and where a few extra would matter).
    pub fn new(name: &'static str, limit: u32, window: Duration) -> ActionLimiter {
        ActionLimiter {
            name,
            limiter: RateLimiter::keyed(quota_over(limit, window)),
            limit,
            window,
            clock: DefaultClock::default(),
            local: None,
        }
    }

    /// A budget shared with a short local window (for statuses: frequent, a spam limit): a node
    /// reads a key's shared state with its first action and then decides alone for
    /// [`SHARED_WINDOW`], adding what it allowed to the shared budget at the next read or by
    /// [`ActionLimiter::flush`]. Across N nodes the budget can overrun by what the other nodes
    /// allowed within one window, and never by more than each node's own limiter allows.
    pub fn windowed(name: &'static str, limit: u32, window: Duration) -> ActionLimiter {
        ActionLimiter {
            local: Some(std::sync::Mutex::new(std::collections::HashMap::new())),
            ..ActionLimiter::new(name, limit, window)
        }
    }

    /// [`ActionLimiter::check`], then the budget shared by the nodes.
    ///
    /// Errors: 429 with the wait; database errors.
    pub async fn hit(&self, state: &AppState, key: &str) -> AppResult<()> {
        self.check(key)?;
        let shared_key = format!("{}:{key}", self.name);
        match &self.local {
            Some(local) if state.clustered() => self.hit_windowed(state, local, shared_key).await,
            _ => shared(state, &shared_key, self.limit, self.window).await,
        }
    }

    /// The budget's refill interval and burst tolerance, in ms.
    fn gcra(&self) -> (i64, i64) {
        let window_ms = self.window.as_millis() as i64;
        let interval = (window_ms / i64::from(self.limit.max(1))).max(1);
        (interval, window_ms - interval)
    }

    async fn hit_windowed(
        &self,
        state: &AppState,
        local: &std::sync::Mutex<std::collections::HashMap<String, Local>>,
        key: String,
    ) -> AppResult<()> {
        let (interval, tolerance) = self.gcra();
        let now = chrono::Utc::now().timestamp_millis();
        let pending = {
            let mut map = local.lock().unwrap_or_else(|p| p.into_inner());
            match map.get_mut(&key) {
                Some(l) if l.syncing || l.read_at.elapsed() < SHARED_WINDOW => {
                    let tat = l.shared_tat.max(now) + l.pending * interval;
                    if tat - now > tolerance {
                        return Err(too_many(
                            Duration::from_millis((tat - now - tolerance).max(1) as u64),
                            self.limit,
                        ));
                    }
                    l.pending += 1;
                    return Ok(());
                }
                Some(l) => {
                    l.syncing = true;
                    l.pending
                }
                None => {
                    map.insert(
                        key.clone(),
                        Local {
                            shared_tat: 0,
                            read_at: std::time::Instant::now(),
                            pending: 0,
                            syncing: true,
                        },
                    );
                    0
                }
            }
        };
        // Stale or new: what was allowed here goes to the shared budget, then this action is
        // taken from it with the limit checked.
        let db = &state.db;
        let synced = async {
            if pending > 0 {
                crate::storage::rate_limits::add(db, &key, now, interval, pending).await?;
            }
            crate::storage::rate_limits::take(db, &key, now, interval, tolerance).await
        }
        .await;
        let mut map = local.lock().unwrap_or_else(|p| p.into_inner());
        let Some(l) = map.get_mut(&key) else {
            return Ok(());
        };
        l.syncing = false;
        let taken = match synced {
            Ok(t) => t,
            Err(e) => {
                // Read again at the next action.
                if let Some(long_ago) = std::time::Instant::now().checked_sub(SHARED_WINDOW) {
                    l.read_at = long_ago;
                }
                return Err(e.into());
            }
        };
        l.pending -= pending;
        l.read_at = std::time::Instant::now();
        match taken {
            Ok(tat) => {
                l.shared_tat = tat;
                Ok(())
            }
            Err(wait_ms) => {
                l.shared_tat = now + wait_ms + tolerance;
                Err(too_many(
                    Duration::from_millis(wait_ms.max(0) as u64),
                    self.limit,
                ))
            }
        }
    }

    /// Adds what this node allowed of a windowed budget and has not yet added to the shared
    /// one (called every [`SHARED_WINDOW`] when clustered), and forgets keys idle for a minute.
    pub async fn flush(&self, state: &AppState) {
        let Some(local) = &self.local else {
            return;
        };
        let (interval, _) = self.gcra();
        let due: Vec<(String, i64)> = match local.lock() {
            Ok(mut map) => {
                map.retain(|_, l| {
                    l.pending > 0 || l.syncing || l.read_at.elapsed() < Duration::from_secs(60)
                });
                map.iter_mut()
                    .filter(|(_, l)| l.pending > 0 && !l.syncing)
                    .map(|(k, l)| {
                        l.syncing = true;
                        (k.clone(), l.pending)
                    })
                    .collect()
            }
            Err(_) => return,
        };
        let now = chrono::Utc::now().timestamp_millis();
        for (key, n) in due {
            let added = crate::storage::rate_limits::add(&state.db, &key, now, interval, n).await;
            if let Ok(mut map) = local.lock()
                && let Some(l) = map.get_mut(&key)
            {
                l.syncing = false;
                match added {
                    Ok(tat) => {
                        l.pending -= n;
                        l.shared_tat = tat;
                        l.read_at = std::time::Instant::now();
                    }
                    Err(ref e) => {
                        tracing::warn!(error = %e, "could not add to a shared rate limit");
                    }
                }
            }
        }
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
    /// Calls an account starts, and calls arriving from one remote account (docs/API.md, "Calls").
    pub calls_per_account: ActionLimiter,
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
            statuses_per_account: ActionLimiter::windowed(
                "statuses",
                cfg.statuses_per_account,
                Duration::from_secs(3 * 3600),
            ),
            calls_per_account: ActionLimiter::new(
                "calls",
                cfg.calls_per_account,
                Duration::from_secs(600),
            ),
        }
    }

    /// Adds the windowed budgets' local actions to the shared ones ([`ActionLimiter::flush`]).
    pub async fn flush(&self, state: &AppState) {
        self.statuses_per_account.flush(state).await;
    }

    /// Forgets keys whose budget has fully recovered.
    pub fn prune(&self) {
        for l in [
            &self.sign_up_per_ip,
            &self.password_reset_per_ip,
            &self.statuses_per_account,
            &self.calls_per_account,
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
