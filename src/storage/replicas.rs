//! Read replicas (`database.replica_urls`; docs/DEPLOY.md, "Read replicas"): the reads of
//! timelines, accounts and statuses in `GET` API requests go to a PostgreSQL streaming replica that
//! is close enough behind the primary; everything else stays on the primary.
//!
//! - Which reads: storage functions that start with [`Db::reader`]. They reach a replica only inside
//!   a [`reading`] scope, which the HTTP layer opens around `GET` API requests; jobs, inbox
//!   processing, transactions and every other statement use the primary.
//! - Lag: a task per node samples the primary's WAL position every [`CHECK`] and compares each
//!   replica's replayed position with those samples (and the age of its last replayed
//!   transaction, see `lag_of`); a replica further behind than
//!   `database.replica_max_lag_ms`, or not answering, is skipped until it catches up.
//! - Read-your-writes, per client session as Mastodon's replica support does: a request that may
//!   write (any method but `GET`, `HEAD`, `OPTIONS`) and succeeds records its session (a hash of its token or
//!   session cookie) in `replica_fences` on the primary before it answers ([`fence`]; a node
//!   that fenced the same session less than a second ago does not write it again); that
//!   session's reads then stay on the primary for [`Replicas::window`] plus that second, on
//!   whichever node they arrive. Inside a scope, a transaction or queued write sends the rest of the request's reads to
//!   the primary too.
//! - Caches: an entry filled inside a scope is stamped with the generation of
//!   [`changes`](super::changes) as it was a window ago ([`lookback_generation`]), so a change the
//!   replica may not have replayed yet still invalidates it.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::Db;
use super::writer::Queue;

/// How often each node checks its replicas' lag.
pub const CHECK: Duration = Duration::from_millis(500);
/// A session that wrote through this node less than this long ago is not fenced again: its fence
/// still covers a window from now, which is this much longer than it needs (see
/// [`Replicas::window`]). Spares a statement on each of a busy session's writes.
const REFENCE_AFTER: Duration = Duration::from_secs(1);
/// Most sessions remembered as fenced by this node (older ones are forgotten first).
const FENCED_KEPT: usize = 4096;

/// The replicas of one primary, with their measured lag.
#[derive(Debug)]
pub struct Replicas {
    members: Vec<Member>,
    max_lag: Duration,
    next: AtomicUsize,
    /// Reads scoped for a replica that went to the primary (a fresh write of the session, or no
    /// replica close enough).
    primary_reads: AtomicU64,
    /// The primary's WAL position and the caches' generation, sampled every [`CHECK`], oldest
    /// first, for a little more than a window.
    history: Mutex<VecDeque<Sample>>,
    /// Sessions this node fenced lately, and when.
    fenced_here: Mutex<std::collections::HashMap<i64, Instant>>,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    lsn: i64,
    generation: u64,
}

#[derive(Debug)]
struct Member {
    /// Reads through this `Db` go to the replica; its write queue is the primary's.
    db: Db,
    /// The URL without user or password, for logs and metrics.
    label: String,
    usable: AtomicBool,
    /// Checked at least once (the first verdict is logged either way).
    checked: AtomicBool,
    lag_ms: AtomicU64,
    reads: AtomicU64,
}

/// One replica as last checked, for `/metrics` and logs.
#[derive(Debug, Clone)]
pub struct ReplicaState {
    /// `host:port/database` of the replica.
    pub label: String,
    /// Close enough behind and answering at the last check.
    pub usable: bool,
    /// Lag at the last check, in milliseconds (`u64::MAX` when unknown).
    pub lag_ms: u64,
    /// Requests whose scoped reads went to it since start-up.
    pub reads: u64,
}

impl Replicas {
    /// Pools for `urls` (opened lazily, so a replica that is down does not stop the node), reads
    /// only; `queue` is the primary's write queue. Errors: a URL that does not parse.
    pub(super) fn new(
        urls: &[String],
        max_connections: u32,
        max_lag: Duration,
        queue: &Arc<Queue>,
    ) -> anyhow::Result<Arc<Replicas>> {
        let mut members = Vec::with_capacity(urls.len());
        for url in urls {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| anyhow::anyhow!("database.replica_urls: {e}"))?;
            let label = format!(
                "{}:{}/{}",
                opts.get_host(),
                opts.get_port(),
                opts.get_database().unwrap_or("")
            );
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(2))
                .connect_lazy_with(opts);
            members.push(Member {
                db: Db::Postgres(pool, queue.clone(), None),
                label,
                usable: AtomicBool::new(false),
                checked: AtomicBool::new(false),
                lag_ms: AtomicU64::new(u64::MAX),
                reads: AtomicU64::new(0),
            });
        }
        Ok(Arc::new(Replicas {
            members,
            max_lag,
            next: AtomicUsize::new(0),
            primary_reads: AtomicU64::new(0),
            history: Mutex::new(VecDeque::new()),
            fenced_here: Mutex::new(std::collections::HashMap::new()),
        }))
    }

    /// How long a session reads from the primary after it wrote, and how far back a cache entry
    /// read inside a scope is dated: the lag bound plus two checks (a replica may fall behind
    /// right after a check, and the check itself takes time).
    pub fn window(&self) -> Duration {
        self.max_lag + 2 * CHECK
    }

    /// How long a fence keeps its session on the primary: [`Replicas::window`] from the session's
    /// last write, which may be up to [`REFENCE_AFTER`] after the fence was written.
    fn fence_window(&self) -> Duration {
        self.window() + REFENCE_AFTER
    }

    /// Whether `session` needs its fence written again: not fenced by this node within
    /// [`REFENCE_AFTER`]. Notes it as fenced now.
    fn fence_due(&self, session: i64) -> bool {
        let now = Instant::now();
        let Ok(mut seen) = self.fenced_here.lock() else {
            return true;
        };
        if seen
            .get(&session)
            .is_some_and(|at| now.duration_since(*at) < REFENCE_AFTER)
        {
            return false;
        }
        if seen.len() >= FENCED_KEPT {
            seen.retain(|_, at| now.duration_since(*at) < REFENCE_AFTER);
            if seen.len() >= FENCED_KEPT {
                seen.clear();
            }
        }
        seen.insert(session, now);
        true
    }

    /// Each replica as last checked.
    pub fn states(&self) -> Vec<ReplicaState> {
        self.members
            .iter()
            .map(|m| ReplicaState {
                label: m.label.clone(),
                usable: m.usable.load(Ordering::Relaxed),
                lag_ms: m.lag_ms.load(Ordering::Relaxed),
                reads: m.reads.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Closes the replicas' pools.
    pub(super) async fn close(&self) {
        for m in &self.members {
            if let Db::Postgres(pool, ..) = &m.db {
                pool.close().await;
            }
        }
    }

    /// Requests whose scoped reads went to the primary since start-up.
    pub fn primary_reads(&self) -> u64 {
        self.primary_reads.load(Ordering::Relaxed)
    }

    /// The next usable replica, round robin.
    fn pick(&self) -> Option<usize> {
        let n = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| self.members[i].usable.load(Ordering::Relaxed))
    }

    /// The caches' generation as it was at least a window ago (0 while none is that old).
    fn generation_before(&self) -> u64 {
        let Some(horizon) = Instant::now().checked_sub(self.window()) else {
            return 0;
        };
        let history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        history
            .iter()
            .rev()
            .find(|s| s.at <= horizon)
            .map_or(0, |s| s.generation)
    }

    /// One lag check of every replica against the primary `primary`.
    async fn check(&self, primary: &PgPool) {
        let lsn: i64 = match tokio::time::timeout(
            CHECK * 2,
            sqlx::query_scalar("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
                .fetch_one(primary),
        )
        .await
        {
            Ok(Ok(lsn)) => lsn,
            // Without the primary's position nothing can be judged: keep the last verdicts.
            _ => return,
        };
        let now = Instant::now();
        let samples: Vec<Sample> = {
            let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
            history.push_back(Sample {
                at: now,
                lsn,
                generation: super::changes::generation(),
            });
            // Keep one sample older than a window (for `generation_before`), no more.
            let horizon = now.checked_sub(self.window() + 2 * CHECK);
            while history.len() > 2
                && horizon.is_some_and(|h| history.get(1).is_some_and(|s| s.at <= h))
            {
                history.pop_front();
            }
            history.iter().copied().collect()
        };
        for m in &self.members {
            let lag = self.lag_of(m, &samples, now).await;
            let usable = lag.is_some_and(|l| l <= self.max_lag);
            m.lag_ms.store(
                lag.map_or(u64::MAX, |l| l.as_millis() as u64),
                Ordering::Relaxed,
            );
            let first = !m.checked.swap(true, Ordering::Relaxed);
            if m.usable.swap(usable, Ordering::Relaxed) != usable || first {
                if usable {
                    tracing::info!(replica = %m.label, "read replica in use");
                } else {
                    tracing::warn!(replica = %m.label, lag_ms = ?lag.map(|l| l.as_millis()),
                        "read replica skipped: too far behind or not answering");
                }
            }
        }
    }

    /// How far `m` is behind, at most: the smaller of two bounds, `now` minus when the primary
    /// was last sampled at a position the replica has replayed (exact while the primary is idle,
    /// a sampling interval coarse under steady writes), and the age of the last transaction the
    /// replica replayed (exact under steady writes, too large after an idle spell; it assumes
    /// the two machines' clocks agree). `None` when it does not answer or is behind every sample
    /// kept.
    async fn lag_of(&self, m: &Member, samples: &[Sample], now: Instant) -> Option<Duration> {
        let Db::Postgres(pool, ..) = &m.db else {
            return None;
        };
        type Answer = (bool, Option<i64>, Option<f64>);
        let answer: Result<sqlx::Result<Answer>, _> = tokio::time::timeout(
            CHECK * 2,
            sqlx::query_as(
                "SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, \
                 (EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) \
                 * 1000)::float8",
            )
            .fetch_one(pool),
        )
        .await;
        match answer {
            // Not in recovery: a primary (or a promoted replica) is never behind itself.
            Ok(Ok((false, _, _))) => Some(Duration::ZERO),
            Ok(Ok((true, Some(replayed), replay_age_ms))) => {
                let by_samples = samples
                    .iter()
                    .rev()
                    .find(|s| s.lsn <= replayed)
                    .map(|s| now.saturating_duration_since(s.at));
                let by_replay = replay_age_ms
                    .filter(|ms| ms.is_finite())
                    .map(|ms| Duration::from_secs_f64(ms.clamp(0.0, 86_400_000.0) / 1000.0));
                match (by_samples, by_replay) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            Ok(Ok((true, None, _))) => None,
            Ok(Err(e)) => {
                tracing::debug!(replica = %m.label, error = %e, "replica lag check failed");
                None
            }
            Err(_) => None,
        }
    }
}

/// Checks the replicas' lag every [`CHECK`] for as long as the process runs.
pub(super) fn spawn_monitor(primary: PgPool, replicas: Arc<Replicas>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if primary.is_closed() {
                return;
            }
            replicas.check(&primary).await;
        }
    });
}

#[derive(Clone, Copy)]
enum Choice {
    Undecided,
    Primary,
    Replica(usize),
}

struct Scope {
    replicas: Arc<Replicas>,
    session: Option<i64>,
    choice: Cell<Choice>,
    /// [`Replicas::generation_before`], read once per scope (the caches ask on every lookup).
    lookback: Cell<Option<u64>>,
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// Runs `work` with the reads of [`Db::reader`] allowed on a replica (the HTTP layer's `GET` API
/// requests). `session` is the caller's [`session_key`], if any, for read-your-writes. Without
/// replicas, `work` just runs.
pub async fn reading<F: Future>(db: &Db, session: Option<i64>, work: F) -> F::Output {
    let Some(replicas) = db.replicas() else {
        return work.await;
    };
    SCOPE
        .scope(
            Scope {
                replicas: replicas.clone(),
                session,
                choice: Cell::new(Choice::Undecided),
                lookback: Cell::new(None),
            },
            work,
        )
        .await
}

/// The `Db` the current task's next read of [`Db::reader`] goes to. Decided once per scope: the
/// primary when the session wrote within a window, else the next usable replica, else the primary.
pub(super) async fn route(db: &Db) -> &Db {
    let Some(replicas) = db.replicas() else {
        return db;
    };
    let Ok((choice, session)) = SCOPE.try_with(|s| (s.choice.get(), s.session)) else {
        return db;
    };
    let choice = match choice {
        Choice::Undecided => {
            let decided = match session {
                Some(s) if fenced(db, s, replicas.fence_window()).await => None,
                _ => replicas.pick(),
            };
            let choice = match decided {
                Some(i) => {
                    replicas.members[i].reads.fetch_add(1, Ordering::Relaxed);
                    Choice::Replica(i)
                }
                None => {
                    replicas.primary_reads.fetch_add(1, Ordering::Relaxed);
                    Choice::Primary
                }
            };
            SCOPE
                .try_with(|s| {
                    // A write while the fence was read decided for the primary already.
                    if matches!(s.choice.get(), Choice::Undecided) {
                        s.choice.set(choice)
                    }
                    s.choice.get()
                })
                .unwrap_or(Choice::Primary)
        }
        c => c,
    };
    match choice {
        Choice::Replica(i) => &replicas.members[i].db,
        _ => db,
    }
}

/// Whether `session` may have written within `window` (on any node). An error counts as yes.
async fn fenced(db: &Db, session: i64, window: Duration) -> bool {
    let Db::Postgres(pool, ..) = db else {
        return false;
    };
    sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM replica_fences WHERE session = $1 \
         AND at > now() - make_interval(secs => $2))",
    )
    .bind(session)
    .bind(window.as_secs_f64())
    .fetch_one(pool)
    .await
    .unwrap_or(true)
}

/// Called by every write on the primary: the rest of the current scope reads from the primary.
pub(super) fn wrote() {
    let _ = SCOPE.try_with(|s| s.choice.set(Choice::Primary));
}

/// Inside a scope that may still read a replica: the caches' generation to date an entry with
/// (see the module's documentation); `None` elsewhere.
pub(super) fn lookback_generation() -> Option<u64> {
    SCOPE
        .try_with(|s| {
            if matches!(s.choice.get(), Choice::Primary) {
                return None;
            }
            let g = s
                .lookback
                .get()
                .unwrap_or_else(|| s.replicas.generation_before());
            s.lookback.set(Some(g));
            Some(g)
        })
        .ok()
        .flatten()
}

/// Records on the primary that `session` may just have written (before its answer leaves), so its
/// reads on every node stay on the primary for a window. Errors: the primary's.
pub async fn fence(db: &Db, session: i64) -> sqlx::Result<()> {
    let Db::Postgres(pool, ..) = db else {
        return Ok(());
    };
    let Some(replicas) = db.replicas() else {
        return Ok(());
    };
    if !replicas.fence_due(session) {
        return Ok(());
    }
    let written = sqlx::query(
        "INSERT INTO replica_fences (session, at) VALUES ($1, now()) \
         ON CONFLICT (session) DO UPDATE SET at = now()",
    )
    .bind(session)
    .execute(pool)
    .await;
    if written.is_err()
        && let Ok(mut seen) = replicas.fenced_here.lock()
    {
        seen.remove(&session);
    }
    written.map(|_| ())
}

/// Drops fences older than an hour (long past any window).
pub async fn prune(db: &Db) -> sqlx::Result<()> {
    if let Db::Postgres(pool, ..) = db {
        sqlx::query("DELETE FROM replica_fences WHERE at < now() - interval '1 hour'")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// A client session's key: the first 8 bytes of SHA-256 of its credential (bearer token or
/// session cookie), the same on every node; the credential itself is never stored.
pub fn session_key(credential: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(credential.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}
