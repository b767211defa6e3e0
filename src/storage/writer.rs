//! Group commit for SQLite: write transactions handed to [`Db::write`](super::Db::write) run on a
//! thread of their own, and the ones that queue while another commits share its next transaction.
//!
//! Why: SQLite takes one writer at a time, and each statement of a transaction is a hand-off to
//! the connection's thread and back. Under the inbox bench the writer lock, not the CPU, capped
//! how many statuses were stored per second (docs/PERFORMANCE.md). A thread that does nothing else
//! keeps those hand-offs from waiting behind other requests' signature checks and JSON; writing
//! the statuses that queued meanwhile in one transaction spends one `BEGIN` and one `COMMIT` (with
//! its WAL pages) on all of them.
//!
//! A batch is all or nothing: when one of its writes fails (a duplicate arriving twice at once, a
//! panic), the whole transaction is rolled back and each write is run again in a transaction of its
//! own, so every caller gets the outcome it would have had alone.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::Tx;
use super::sqlite_pool::{SqliteTx, WriterConnection};

/// The most writes one transaction takes: a bound on how long other transactions wait for it.
const MAX_BATCH: usize = 64;

/// Statements for one write transaction, run by [`Db::write`](super::Db::write) inside a
/// transaction it opens and commits (possibly shared with other writes). `write` may run more
/// than once (see the module doc), so it must do nothing but run statements in `tx`.
pub trait Write: Send + 'static {
    type Output: Send + 'static;
    type Error: From<sqlx::Error> + Send + 'static;

    fn write<'t>(&'t self, tx: &'t mut Tx) -> BoxFuture<'t, Result<Self::Output, Self::Error>>;
}

/// The outcome sent back to a caller: the write's result, or the panic it raised.
type Reply<W> =
    Result<Result<<W as Write>::Output, <W as Write>::Error>, Box<dyn Any + Send + 'static>>;

/// A queued [`Write`] with its caller's reply channel, its type erased.
trait Queued: Send {
    /// Runs the write in `tx` and keeps its result; false when it failed or panicked.
    fn run<'t>(&'t mut self, tx: &'t mut Tx) -> BoxFuture<'t, bool>;
    /// Sends the kept result, or `end`'s error when the transaction did not commit.
    fn settle(self: Box<Self>, end: Result<(), sqlx::Error>);
}

struct Pending<W: Write> {
    work: W,
    result: Option<Reply<W>>,
    reply: oneshot::Sender<Reply<W>>,
}

impl<W: Write> Queued for Pending<W> {
    fn run<'t>(&'t mut self, tx: &'t mut Tx) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            let result = AssertUnwindSafe(self.work.write(tx)).catch_unwind().await;
            let ok = matches!(result, Ok(Ok(_)));
            self.result = Some(result);
            ok
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

/// The queue of one database's writer, started on first use.
#[derive(Default)]
pub(super) struct Queue(OnceLock<mpsc::UnboundedSender<Box<dyn Queued>>>);

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl Queue {
    /// Queues `work` for the writer thread and waits for its outcome. The work is done even if the
    /// caller stops waiting; a panic in it is resumed here.
    pub(super) async fn write<W: Write>(
        &self,
        conn: &Arc<WriterConnection>,
        work: W,
    ) -> Result<W::Output, W::Error> {
        let sender = self.0.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            writer_runtime().spawn(run_batches(conn.clone(), rx));
            tx
        });
        let (reply, outcome) = oneshot::channel();
        let pending = Box::new(Pending {
            work,
            result: None,
            reply,
        });
        if sender.send(pending).is_err() {
            return Err(sqlx::Error::PoolClosed.into());
        }
        match outcome.await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("the SQLite writer thread stopped"),
        }
    }
}

/// Takes what has queued (up to [`MAX_BATCH`]) and writes it in one transaction, until every
/// sender is gone.
async fn run_batches(
    conn: Arc<WriterConnection>,
    mut queue: mpsc::UnboundedReceiver<Box<dyn Queued>>,
) {
    let mut batch: Vec<Box<dyn Queued>> = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if batch.len() == 1 || !write_together(&conn, &mut batch).await {
            for work in batch.drain(..) {
                write_alone(&conn, work).await;
            }
        }
    }
}

/// Runs `batch` in one transaction. On commit, settles and empties it; on any failure, rolls
/// back and leaves it for [`write_alone`].
async fn write_together(conn: &WriterConnection, batch: &mut Vec<Box<dyn Queued>>) -> bool {
    let Ok(mut tx) = SqliteTx::begin(conn).await.map(Tx::Sqlite) else {
        return false;
    };
    for work in batch.iter_mut() {
        if !work.run(&mut tx).await {
            return false;
        }
    }
    if tx.commit().await.is_err() {
        return false;
    }
    for work in batch.drain(..) {
        work.settle(Ok(()));
    }
    true
}

async fn write_alone(conn: &WriterConnection, mut work: Box<dyn Queued>) {
    let mut tx = match SqliteTx::begin(conn).await {
        Ok(tx) => Tx::Sqlite(tx),
        Err(e) => return work.settle(Err(e)),
    };
    let end = if work.run(&mut tx).await {
        tx.commit().await
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
