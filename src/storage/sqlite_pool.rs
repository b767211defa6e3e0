//! SQLite connections pooled by `deadpool`, handed out and taken back without a liveness check.
//!
//! sqlx's own pool pings a connection when it is returned (and, unless told not to, when it is
//! taken). With SQLite every ping is a round trip to the connection's worker thread, so a
//! one-statement read cost two thread hand-offs instead of one, plus a spawned task for the
//! return: a measurable share of the server's CPU under load (docs/PERFORMANCE.md). A SQLite
//! connection is a file handle in this process and does not drop like a network one; and its
//! worker runs commands strictly in order, so a query or rollback left behind by a cancelled
//! caller finishes before the next user's first command. So nothing is checked here. A connection
//! whose worker thread has died (`WorkerCrashed`, only after a panic in it) is removed from the
//! pool when that error is seen, and a new one is opened on demand.
//!
//! [`SqlitePool`] is an `Executor` like sqlx's pool, so `sqlx::query(…).fetch_all(&pool)` takes a
//! connection for the one statement; [`SqliteTx`] holds one for a transaction.

use std::fmt;
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleResult};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteQueryResult, SqliteRow, SqliteStatement,
    SqliteTransactionManager, SqliteTypeInfo,
};
use sqlx::{ConnectOptions, Describe, Either, Execute, Executor, SqlStr, Sqlite};
use sqlx_core::transaction::TransactionManager;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a caller waits for a free connection before [`sqlx::Error::PoolTimedOut`] (sqlx's
/// default acquire timeout).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens connections with the server's options; recycling checks nothing (see the module doc).
pub struct Connector(SqliteConnectOptions);

impl managed::Manager for Connector {
    type Type = SqliteConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<SqliteConnection, sqlx::Error> {
        self.0.connect().await
    }

    async fn recycle(&self, _: &mut SqliteConnection, _: &Metrics) -> RecycleResult<sqlx::Error> {
        Ok(())
    }
}

/// A connection taken from a [`SqlitePool`]; returned to it when dropped.
pub type SqliteConn = Object<Connector>;

/// Up to `max_connections` SQLite connections, opened on first need and reused most recently
/// returned first (its pages are the likeliest to be cached). Cheap to clone.
#[derive(Clone)]
pub struct SqlitePool(managed::Pool<Connector>);

impl fmt::Debug for SqlitePool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.status();
        f.debug_struct("SqlitePool")
            .field("size", &s.size)
            .field("available", &s.available)
            .field("max_size", &s.max_size)
            .finish()
    }
}

impl SqlitePool {
    /// Builds the pool; no connection is opened until one is needed.
    pub fn new(options: SqliteConnectOptions, max_connections: u32) -> anyhow::Result<SqlitePool> {
        let pool = managed::Pool::builder(Connector(options))
            .max_size(max_connections.max(1) as usize)
            .queue_mode(managed::QueueMode::Lifo)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(ACQUIRE_TIMEOUT))
            .build()?;
        Ok(SqlitePool(pool))
    }

    /// `(open connections, idle ones, the most allowed)`.
    pub fn usage(&self) -> (usize, usize, usize) {
        let s = self.0.status();
        (s.size, s.available, s.max_size)
    }

    /// Takes a connection, opening one if none is free and the pool is not full.
    ///
    /// Errors: `PoolTimedOut` after 30 s without a free connection, `PoolClosed` after
    /// [`close`](Self::close), or the error of opening the database.
    pub async fn acquire(&self) -> Result<SqliteConn, sqlx::Error> {
        self.0.get().await.map_err(|e| match e {
            PoolError::Backend(e) => e,
            PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
            PoolError::Closed => sqlx::Error::PoolClosed,
            other => sqlx::Error::Protocol(other.to_string()),
        })
    }

    /// Refuses further use and closes the idle connections in order (the last one to close
    /// checkpoints the WAL); connections in use close when they are returned.
    pub async fn close(&self) {
        let idle = self.0.retain(|_, _| false).removed;
        self.0.close();
        for conn in idle {
            if let Err(e) = sqlx::Connection::close(conn).await {
                tracing::warn!(error = %e, "closing a SQLite connection");
            }
        }
    }
}

/// How often [`spawn_checkpointer`] copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints the WAL in the background, every second, for as long as the pool is open.
///
/// Connections are opened with `wal_autocheckpoint = 0`: SQLite's automatic checkpoint runs inside
/// the COMMIT that takes the WAL past 1,000 pages, so one transaction in a thousand pages copied
/// them all and synced the file while every other writer waited for it (4 % of the server's CPU
/// under the inbox bench, all inside the one-writer lock; docs/PERFORMANCE.md). A `PASSIVE`
/// checkpoint from another connection does the same copying without holding up writers. SQLite
/// still checkpoints when the last connection closes.
pub fn spawn_checkpointer(pool: &SqlitePool) {
    let weak = pool.0.weak();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(pool) = weak.upgrade().filter(|p| !p.is_closed()) else {
                return;
            };
            let pool = SqlitePool(pool);
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "checkpointing the SQLite WAL");
            }
        }
    });
}

/// Drops `conn` from its pool instead of returning it when its worker thread is gone.
fn discard_if_crashed(conn: SqliteConn, err: &sqlx::Error) {
    if matches!(err, sqlx::Error::WorkerCrashed) {
        tracing::error!("a SQLite connection's worker thread died; the connection is dropped");
        drop(Object::take(conn));
    }
}

/// Each call takes a connection for the one statement and returns it when the statement is done
/// (for a stream, when it is finished or dropped).
impl<'p> Executor<'p> for &'_ SqlitePool {
    type Database = Sqlite;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        let pool = self.clone();
        Box::pin(async_stream::try_stream! {
            let mut conn = pool.acquire().await?;
            let mut failed = None;
            {
                let mut results = (&mut *conn).fetch_many(query);
                while let Some(result) = results.next().await {
                    match result {
                        Ok(v) => yield v,
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
            }
            if let Some(e) = failed {
                discard_if_crashed(conn, &e);
                Err(e)?;
            }
        })
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<SqliteRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut conn = pool.acquire().await?;
            let result = (&mut *conn).fetch_optional(query).await;
            if let Err(e) = &result {
                discard_if_crashed(conn, e);
            }
            result
        })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [SqliteTypeInfo],
    ) -> BoxFuture<'e, Result<SqliteStatement, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move {
            (&mut *pool.acquire().await?)
                .prepare_with(sql, parameters)
                .await
        })
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<Sqlite>, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move { (&mut *pool.acquire().await?).describe(sql).await })
    }
}

/// The one connection that write transactions use, opened on first need: SQLite takes one writer
/// at a time, so transactions queue here in-process, in arrival order, instead of meeting in
/// SQLite's sleep-and-retry busy handler.
///
/// Why one connection rather than any pooled one: a SQLite connection keeps its page cache across
/// transactions only while nobody else writes. When writes moved between pooled connections, each
/// transaction began by reading back the pages the previous one (on another connection) had
/// changed, inside the writer lock (docs/PERFORMANCE.md). Writes outside transactions still go
/// through the pool.
pub struct WriterConnection {
    options: SqliteConnectOptions,
    conn: Arc<Mutex<Option<SqliteConnection>>>,
    closed: AtomicBool,
}

impl fmt::Debug for WriterConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriterConnection").finish_non_exhaustive()
    }
}

impl WriterConnection {
    /// No connection is opened until the first transaction.
    pub fn new(options: SqliteConnectOptions) -> WriterConnection {
        WriterConnection {
            options,
            conn: Arc::new(Mutex::new(None)),
            closed: AtomicBool::new(false),
        }
    }

    /// Waits for the connection (in arrival order) and closes it; later transactions fail with
    /// `PoolClosed`.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        if let Some(conn) = self.conn.lock().await.take()
            && let Err(e) = sqlx::Connection::close(conn).await
        {
            tracing::warn!(error = %e, "closing the SQLite writer connection");
        }
    }
}

/// A transaction on the [`WriterConnection`], which it holds until commit or rollback. Dropped
/// without [`commit`](Self::commit), it rolls back: the `ROLLBACK` is queued on the connection's
/// worker before the connection is released, so the next transaction's `BEGIN` runs after it.
pub struct SqliteTx {
    conn: OwnedMutexGuard<Option<SqliteConnection>>,
    open: bool,
}

impl SqliteTx {
    /// Waits for the writer connection (opening it if needed) and runs `BEGIN IMMEDIATE` on it.
    ///
    /// Errors: `PoolClosed` after [`WriterConnection::close`], opening the database, or `BEGIN`
    /// failing. A connection whose worker thread died (`WorkerCrashed`) is dropped, and the next
    /// transaction opens a new one.
    pub async fn begin(writer: &WriterConnection) -> Result<SqliteTx, sqlx::Error> {
        let mut guard = writer.conn.clone().lock_owned().await;
        if writer.closed.load(Ordering::Relaxed) {
            return Err(sqlx::Error::PoolClosed);
        }
        if guard.is_none() {
            *guard = Some(writer.options.connect().await?);
        }
        let mut tx = SqliteTx {
            conn: guard,
            open: false,
        };
        // IMMEDIATE: the write lock is taken at BEGIN. A deferred transaction that reads first
        // cannot upgrade once a pool connection has written meanwhile (SQLITE_BUSY at once, the
        // busy timeout does not apply); an immediate one waits for the lock instead.
        let begin = sqlx::SqlSafeStr::into_sql_str("BEGIN IMMEDIATE");
        match SqliteTransactionManager::begin(tx.connection(), Some(begin)).await {
            Ok(()) => {
                tx.open = true;
                Ok(tx)
            }
            Err(e) => {
                tx.forget_if_crashed(&e);
                Err(e)
            }
        }
    }

    /// The connection, for statements inside the transaction.
    pub fn connection(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("an open transaction has its connection")
    }

    /// `COMMIT`. On error the transaction is rolled back when `self` is dropped.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        match SqliteTransactionManager::commit(self.connection()).await {
            Ok(()) => {
                self.open = false;
                Ok(())
            }
            Err(e) => {
                self.forget_if_crashed(&e);
                Err(e)
            }
        }
    }

    fn forget_if_crashed(&mut self, err: &sqlx::Error) {
        if matches!(err, sqlx::Error::WorkerCrashed) {
            tracing::error!("the SQLite writer connection's worker thread died; it is reopened");
            self.open = false;
            *self.conn = None;
        }
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open
            && let Some(conn) = self.conn.as_mut()
        {
            // Queued without waiting; the worker skips it if a cancelled COMMIT already ran.
            SqliteTransactionManager::start_rollback(conn);
        }
    }
}
