//! Group commit: write transactions handed to [`Db::write`](super::Db::write) are queued, and the
//! ones that queue while a transaction runs share the next one.
//!
//! Why: on SQLite, which takes one writer at a time, each statement of a transaction is a hand-off
//! to the connection's thread and back, and under the inbox bench the writer lock, not the CPU,
//! capped how many statuses were stored per second (docs/PERFORMANCE.md). So SQLite's batches run
//! on a thread of their own, where those hand-offs do not wait behind other requests' signature
//! checks and JSON. On PostgreSQL each statement is a round trip to a server process that shares
//! the machine's cores with us; a few batches run at once ([`POSTGRES_WRITERS`]) on pooled
//! connections. Either way one `BEGIN` and one `COMMIT` (with its WAL flush) serve the whole batch.
//!
//! Writes of one type that queued next to each other go to [`Write::write_many`] together, so a
//! type can write its whole run with one multi-row statement per table instead of one statement
//! per write: on this path the statements, not the rows, are what a status costs.
//!
//! A batch is all or nothing: when one of its writes fails (a duplicate arriving twice at once, a
//! deadlock between two PostgreSQL batches, a panic), the whole transaction is rolled back and each
//! write is run again in a transaction of its own, so every caller gets the outcome it would have
//! had alone.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::PgPool;
use tokio::sync::oneshot;

use super::Tx;
use super::sqlite_pool::{SqliteTx, WriterConnection};

/// The most writes one transaction takes: a bound on how long other transactions wait for it.
const MAX_BATCH: usize = 64;

/// Statements for one write transaction, run by [`Db::write`](super::Db::write) inside a
/// transaction it opens and commits (possibly shared with other writes). `write` and
/// `write_many` may run more than once (see the module doc), so they must do nothing but run
/// statements in `tx`.
pub trait Write: Send + Sync + Sized + 'static {
    type Output: Send + 'static;
    type Error: From<sqlx::Error> + Send + 'static;

    fn write<'t>(&'t self, tx: &'t mut Tx) -> BoxFuture<'t, Result<Self::Output, Self::Error>>;

    /// Writes `batch` in `tx` and returns one output per write, in order. Called for writes of
    /// this type that queued together; an error fails them all (each is then run alone). The
    /// default runs [`write`](Write::write) for each in turn.
    fn write_many<'t>(
        batch: &'t [&'t Self],
        tx: &'t mut Tx,
    ) -> BoxFuture<'t, Result<Vec<Self::Output>, Self::Error>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(batch.len());
            for work in batch {
                out.push(work.write(tx).await?);
            }
            Ok(out)
        })
    }
}

/// The outcome sent back to a caller: the write's result, or the panic it raised.
type Reply<W> =
    Result<Result<<W as Write>::Output, <W as Write>::Error>, Box<dyn Any + Send + 'static>>;

/// A queued [`Write`] with its caller's reply channel, its type erased.
trait Queued: Send {
    /// The `Pending<W>` itself: its type tells runs of one write type apart.
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Runs this write and `rest` (all of the same type) in `tx` with [`Write::write_many`] and
    /// keeps their results; false when it failed or panicked (the failure is kept on this one).
    fn run<'t>(
        &'t mut self,
        rest: &'t mut [Box<dyn Queued>],
        tx: &'t mut Tx,
    ) -> BoxFuture<'t, bool>;
    /// Sends the kept result, or `end`'s error when the transaction did not commit.
    fn settle(self: Box<Self>, end: Result<(), sqlx::Error>);
}

struct Pending<W: Write> {
    work: W,
    result: Option<Reply<W>>,
    reply: oneshot::Sender<Reply<W>>,
}

impl<W: Write> Queued for Pending<W> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn run<'t>(
        &'t mut self,
        rest: &'t mut [Box<dyn Queued>],
        tx: &'t mut Tx,
    ) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            let outputs = {
                let works: Vec<&W> = std::iter::once(&self.work)
                    .chain(rest.iter().map(|q| &downcast::<W>(q.as_any()).work))
                    .collect();
                AssertUnwindSafe(W::write_many(&works, tx))
                    .catch_unwind()
                    .await
            };
            match outputs {
                Ok(Ok(outputs)) if outputs.len() == rest.len() + 1 => {
                    let mut outputs = outputs.into_iter();
                    self.result = outputs.next().map(|o| Ok(Ok(o)));
                    for (q, o) in rest.iter_mut().zip(outputs) {
                        downcast_mut::<W>(q.as_any_mut()).result = Some(Ok(Ok(o)));
                    }
                    true
                }
                Ok(Ok(outputs)) => {
                    let e = format!("{} outputs for {} writes", outputs.len(), rest.len() + 1);
                    self.result = Some(Ok(Err(sqlx::Error::Protocol(e).into())));
                    false
                }
                Ok(Err(e)) => {
                    self.result = Some(Ok(Err(e)));
                    false
                }
                Err(panic) => {
                    self.result = Some(Err(panic));
                    false
                }
            }
        })
    }

    fn settle(self: Box<Self>, end: Result<(), sqlx::Error>) {
        let reply = match (self.result, end) {
            (Some(Ok(Ok(v))), Ok(())) => Ok(Ok(v)),
            (Some(Ok(Err(e))), _) => Ok(Err(e)),
            (Some(Err(panic)), _) => Err(panic),
            (_, Err(e)) => Ok(Err(e.into())),
            (None, Ok(())) => Ok(Err(
                sqlx::Error::Protocol("a write was not run".into()).into()
            )),
        };
        // The caller may have gone away; the write stands either way.
        let _ = self.reply.send(reply);
    }
}

fn downcast<W: Write>(q: &dyn Any) -> &Pending<W> {
    q.downcast_ref().expect("a run holds writes of one type")
}

fn downcast_mut<W: Write>(q: &mut dyn Any) -> &mut Pending<W> {
    q.downcast_mut().expect("a run holds writes of one type")
}

/// How many writes a queue committed and in how many transactions, since it started: their
/// ratio is the mean batch size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub writes: u64,
    pub transactions: u64,
}

#[derive(Default)]
struct Counters {
    writes: AtomicU64,
    transactions: AtomicU64,
}

impl Counters {
    fn committed(&self, writes: usize) {
        self.writes.fetch_add(writes as u64, Ordering::Relaxed);
        self.transactions.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many batches may be written at once on PostgreSQL. With one, PostgreSQL idles while a
/// batch's statements travel to it and back; with more than two, batches get smaller, and each
/// statement is a round trip whatever its size (the inbox bench: 1 writer ~1,000 µs of CPU per
/// activity but idle cores, 2 writers ~1,040 µs and the most activities per second, 4 writers
/// ~1,200 µs; docs/PERFORMANCE.md).
pub const POSTGRES_WRITERS: usize = 2;

/// Where a queue's transactions run.
pub(super) enum Target {
    /// The one writer connection, driven from the `sqlite-writer` thread.
    Sqlite(Arc<WriterConnection>),
    /// Pooled connections, driven from the runtime of the write that started the batch's worker
    /// (PostgreSQL connections need that runtime's I/O driver). `workers`: see [`Target::postgres`].
    Postgres { pool: PgPool, workers: usize },
}

impl Target {
    /// Up to [`POSTGRES_WRITERS`] batches at once, and at most half the pool's connections (the
    /// reads that come before a write need the rest).
    pub(super) fn postgres(pool: PgPool) -> Target {
        let half = pool.options().get_max_connections() as usize / 2;
        Target::Postgres {
            workers: half.clamp(1, POSTGRES_WRITERS),
            pool,
        }
    }

    async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Target::Sqlite(conn) => Tx::Sqlite(SqliteTx::begin(conn).await?, Default::default()),
            Target::Postgres { pool, .. } => Tx::Postgres(pool.begin().await?, Default::default()),
        })
    }

    /// How many workers may write batches at once.
    fn workers(&self) -> usize {
        match self {
            Target::Sqlite(_) => 1,
            Target::Postgres { workers, .. } => *workers,
        }
    }
}

/// The writes of one database waiting for a worker, and the workers writing them (one per
/// [`Db`](super::Db), opaque outside `storage`).
///
/// A worker is a task started by a write that finds every worker busy but fewer than
/// [`Target::workers`] running; it writes what has queued, in batches of up to [`MAX_BATCH`],
/// until the queue is empty, then ends. So a write that arrives alone is written at once, and
/// writes that arrive while the workers are busy share the next transaction.
pub struct Queue {
    target: Target,
    state: Mutex<QueueState>,
    counters: Counters,
}

#[derive(Default)]
struct QueueState {
    waiting: VecDeque<Box<dyn Queued>>,
    workers: usize,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl Queue {
    pub(super) fn new(target: Target) -> Arc<Queue> {
        Arc::new(Queue {
            target,
            state: Mutex::default(),
            counters: Counters::default(),
        })
    }

    /// How many batches may be written at once (see [`POSTGRES_WRITERS`]).
    pub(super) fn workers(&self) -> usize {
        self.target.workers()
    }

    /// Queues `work` and waits for its outcome. The work is done even if the caller stops
    /// waiting; a panic in it is resumed here.
    pub(super) async fn write<W: Write>(self: &Arc<Self>, work: W) -> Result<W::Output, W::Error> {
        let (reply, outcome) = oneshot::channel();
        let pending = Box::new(Pending {
            work,
            result: None,
            reply,
        });
        let start_worker = {
            let mut state = self.lock();
            state.waiting.push_back(pending);
            let start = state.workers < self.target.workers();
            if start {
                state.workers += 1;
            }
            start
        };
        if start_worker {
            let run = Worker {
                queue: self.clone(),
                counted_out: false,
            }
            .run();
            match self.target {
                Target::Sqlite(_) => drop(writer_runtime().spawn(run)),
                Target::Postgres { .. } => drop(tokio::spawn(run)),
            }
        }
        match outcome.await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // Only when the worker's runtime shut down under it.
            Err(_) => Err(sqlx::Error::PoolClosed.into()),
        }
    }

    pub(super) fn stats(&self) -> WriterStats {
        WriterStats {
            writes: self.counters.writes.load(Ordering::Relaxed),
            transactions: self.counters.transactions.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // The lock is held only to move boxes in and out of the queue, which cannot panic
        // half-way, so a poisoned state is still whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One running worker of a [`Queue`]. It is counted out under the queue's lock when it finds
/// the queue empty, or when dropped before that (a panic, or its runtime shutting down).
struct Worker {
    queue: Arc<Queue>,
    counted_out: bool,
}

impl Worker {
    /// Writes what has queued, a batch at a time, until nothing waits.
    async fn run(mut self) {
        let mut batch: Vec<Box<dyn Queued>> = Vec::with_capacity(MAX_BATCH);
        loop {
            {
                let mut state = self.queue.lock();
                let n = state.waiting.len().min(MAX_BATCH);
                if n == 0 {
                    // Under the lock that queues writes: one queued after this starts a worker.
                    state.workers -= 1;
                    self.counted_out = true;
                    return;
                }
                batch.extend(state.waiting.drain(..n));
            }
            if batch.len() == 1 || !write_together(&self.queue, &mut batch).await {
                for work in batch.drain(..) {
                    write_alone(&self.queue, work).await;
                }
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if !self.counted_out {
            self.queue.lock().workers -= 1;
        }
    }
}

/// Runs `batch` in one transaction, each run of writes of one type through
/// [`Write::write_many`]. On commit, settles and empties it; on any failure, rolls back and
/// leaves it for [`write_alone`].
async fn write_together(queue: &Queue, batch: &mut Vec<Box<dyn Queued>>) -> bool {
    let Ok(mut tx) = queue.target.begin().await else {
        return false;
    };
    let mut rest = &mut batch[..];
    while let Some((first, others)) = rest.split_first_mut() {
        let kind = Any::type_id(first.as_any());
        let same = others
            .iter()
            .take_while(|q| Any::type_id(q.as_any()) == kind)
            .count();
        let (run, after) = others.split_at_mut(same);
        if !first.run(run, &mut tx).await {
            return false;
        }
        rest = after;
    }
    if tx.commit().await.is_err() {
        return false;
    }
    queue.counters.committed(batch.len());
    for work in batch.drain(..) {
        work.settle(Ok(()));
    }
    true
}

async fn write_alone(queue: &Queue, mut work: Box<dyn Queued>) {
    let mut tx = match queue.target.begin().await {
        Ok(tx) => tx,
        Err(e) => return work.settle(Err(e)),
    };
    let end = if work.run(&mut [], &mut tx).await {
        let end = tx.commit().await;
        if end.is_ok() {
            queue.counters.committed(1);
        }
        end
    } else {
        Ok(())
    };
    work.settle(end);
}

/// The runtime of the thread that drives SQLite write transactions, started on first use and
/// shared by every `Db` in the process.
fn writer_runtime() -> &'static tokio::runtime::Handle {
    static WRITER: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    WRITER.get_or_init(|| {
        // No I/O driver: the thread only waits for SQLite connection threads, and parking on a
        // futex wakes faster than on epoll.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime for the SQLite writer thread");
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || rt.block_on(std::future::pending::<()>()))
            .expect("the SQLite writer thread");
        handle
    })
}
