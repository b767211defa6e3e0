//! The database handle: one `Db` over SQLite or PostgreSQL, chosen by the URL scheme.
//!
//! Queries are written once in portable SQL (`$1` placeholders, `RETURNING`, `ON CONFLICT`) and run
//! through [`on_db!`](crate::on_db), which expands the same text once per backend so each arm is
//! type-checked against its own driver (DESIGN.md §3). Dialect-specific SQL is the exception and sits
//! side by side in the same function.

use std::future::Future;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use std::sync::Arc;

use super::sqlite_pool::{SqlitePool, SqliteTx};
use tokio::sync::Semaphore;

/// One of the two backends, borrowed for a single statement; see [`on_db!`](crate::on_db).
pub enum Backend<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// Cheap to clone (the pools are reference-counted).
///
/// SQLite allows one writer at a time; concurrent write transactions would otherwise meet in
/// SQLite's sleep-and-retry busy handler. The semaphore makes them queue in-process instead, in
/// arrival order, each holding its permit until it commits or rolls back.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, Arc<Semaphore>),
    Postgres(PgPool),
}

/// An open transaction on either backend. Dropped without [`Tx::commit`], it rolls back.
///
/// Code inside a transaction reads through it (or before opening it), never through the pool:
/// under load every pooled connection may be held by an open transaction.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$c` bound to the live backend's executor (a pool for [`Db`], a connection for
/// [`Tx`]). The body is expanded once per backend, so it must compile for both.
#[macro_export]
macro_rules! on_db {
    ($src:expr, $c:ident => $body:expr) => {
        match $src.backend() {
            $crate::storage::db::Backend::Sqlite($c) => $body,
            $crate::storage::db::Backend::Postgres($c) => $body,
        }
    };
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`). SQLite files and their parent folder
    /// are created when missing; SQLite runs in WAL mode with a 5 s busy timeout, its WAL
    /// checkpointed by a background task every second (must be called inside a tokio runtime).
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                // Checkpoints run in the background instead (`sqlite_pool::spawn_checkpointer`).
                .pragma("wal_autocheckpoint", "0");
            if let Some(parent) = opts.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)?;
            }
            // Our own pool, not sqlx's: see `sqlite_pool` for why. One connection is opened now so
            // a bad path or permission fails at start-up.
            let pool = SqlitePool::new(opts, max_connections)?;
            drop(pool.acquire().await?);
            super::sqlite_pool::spawn_checkpointer(&pool);
            Ok(Db::Sqlite(pool, Arc::new(Semaphore::new(1))))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            anyhow::bail!("database.url must start with sqlite:// or postgres:// (got {url:?})")
        }
    }

    /// Applies pending migrations from `migrations/sqlite` or `migrations/postgres`.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(p, _) => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&mut *p.acquire().await?)
                    .await?
            }
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p, writer) => {
                let permit = writer
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| sqlx::Error::PoolClosed)?;
                Tx::Sqlite(SqliteTx::begin(p, permit).await?)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Runs `work`, a future that opens, uses and commits a write transaction, where its round
    /// trips to SQLite are not held up by other requests: on SQLite, on a thread of its own (with
    /// its own single-threaded runtime) that does nothing else; on PostgreSQL, in place.
    ///
    /// Why: SQLite takes one writer at a time (the semaphore above), and each statement of a
    /// transaction is a hand-off to the connection's thread and back. Driven from the shared
    /// runtime, the transaction's task waited after every statement for a worker busy with other
    /// requests (signature checks, JSON), so the writer lock was held about 1.25 ms for 9
    /// statements under load and capped the inbox at about 800 transactions/s
    /// (docs/PERFORMANCE.md). Once spawned, `work` runs to the end even if the caller goes away.
    /// A panic in `work` is resumed in the caller.
    pub async fn in_writer<T, F>(&self, work: F) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        match self {
            Db::Sqlite(..) => match writer_runtime().spawn(work).await {
                Ok(v) => v,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("the SQLite writer thread stopped: {e}"),
            },
            Db::Postgres(_) => work.await,
        }
    }

    pub fn backend(&self) -> Backend<&SqlitePool, &PgPool> {
        match self {
            Db::Sqlite(p, _) => Backend::Sqlite(p),
            Db::Postgres(p) => Backend::Postgres(p),
        }
    }

    /// `"sqlite"` or `"postgres"`, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p, _) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    pub fn backend(&mut self) -> Backend<&mut sqlx::SqliteConnection, &mut sqlx::PgConnection> {
        match self {
            Tx::Sqlite(t) => Backend::Sqlite(t.connection()),
            Tx::Postgres(t) => Backend::Postgres(&mut **t),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// The runtime of the thread that drives SQLite write transactions ([`Db::in_writer`]), started
/// on first use and shared by every `Db` in the process.
fn writer_runtime() -> &'static tokio::runtime::Handle {
    static WRITER: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    WRITER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
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

/// True when `err` is a unique-constraint violation (mapped to 422 by the error layer).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}
