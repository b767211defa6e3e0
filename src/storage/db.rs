//! The database handle: one `Db` over SQLite or PostgreSQL, chosen by the URL scheme.
//!
//! Queries are written once in portable SQL (`$1` placeholders, `RETURNING`, `ON CONFLICT`) and run
//! through [`on_db!`](crate::on_db), which expands the same text once per backend so each arm is
//! type-checked against its own driver (DESIGN.md §3). Dialect-specific SQL is the exception and sits
//! side by side in the same function.

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use std::sync::Arc;

use super::sqlite_pool::{SqlitePool, SqliteTx, WriterConnection};
use super::writer::{Queue, Target, Write};

/// One of the two backends, borrowed for a single statement; see [`on_db!`](crate::on_db).
pub enum Backend<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// Cheap to clone (the pools are reference-counted).
///
/// On SQLite, statements outside transactions use the pool, and transactions take turns on the
/// one [`WriterConnection`]. Each backend has its queue for [`Db::write`].
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, Arc<SqliteWriter>),
    /// The primary's pool, its write queue, and its read replicas if any.
    Postgres(PgPool, Arc<Queue>, Option<Arc<super::replicas::Replicas>>),
}

/// SQLite's writer: the one connection for transactions, and the queue of [`Db::write`].
#[derive(Debug)]
pub struct SqliteWriter {
    conn: Arc<WriterConnection>,
    queue: Arc<Queue>,
}

/// An open transaction on either backend. Dropped without [`Tx::commit`], it rolls back.
///
/// Code inside a transaction reads through it (or before opening it), never through the pool:
/// under load every pooled connection may be held by an open transaction.
pub enum Tx {
    Sqlite(SqliteTx, super::changes::Pending),
    Postgres(
        sqlx::Transaction<'static, sqlx::Postgres>,
        super::changes::Pending,
    ),
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
                .pragma("wal_autocheckpoint", "0")
                // Statement journals (a statement that may need undoing inside a transaction) stay
                // in memory instead of temporary files: syscalls inside the writer lock.
                .pragma("temp_store", "memory");
            if let Some(parent) = opts.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)?;
            }
            // Our own pool, not sqlx's: see `sqlite_pool` for why. One connection is opened now so
            // a bad path or permission fails at start-up.
            let pool = SqlitePool::new(opts.clone(), max_connections)?;
            drop(pool.acquire().await?);
            super::sqlite_pool::spawn_checkpointer(&pool);
            // A larger page cache (16 MiB, default 2 MiB) for the one connection that writes: a
            // batch of statuses touches many index pages, and nobody else invalidates them.
            let conn = Arc::new(WriterConnection::new(opts.pragma("cache_size", "-16384")));
            let writer = SqliteWriter {
                queue: Queue::new(Target::Sqlite(conn.clone())),
                conn,
            };
            Ok(Db::Sqlite(pool, Arc::new(writer)))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                // No ping each time a connection is taken: it is a round trip to PostgreSQL per
                // query or transaction, as dear as a small query (docs/PERFORMANCE.md). A
                // connection the server closed fails its next query, which is then retried by
                // whoever sent it (a client, a remote server, the delivery or job workers).
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(
                pool.clone(),
                Queue::new(Target::postgres(pool)),
                None,
            ))
        } else {
            anyhow::bail!("database.url must start with sqlite:// or postgres:// (got {url:?})")
        }
    }

    /// [`Db::connect`] to `database.url`, with the read replicas of `database.replica_urls` (their
    /// lag checked by a background task from now on; see [`super::replicas`]).
    ///
    /// Errors: as [`Db::connect`], or a replica URL that does not parse.
    pub async fn connect_with(cfg: &crate::config::DatabaseConfig) -> anyhow::Result<Db> {
        let db = Db::connect(&cfg.url, cfg.max_connections).await?;
        match db {
            Db::Postgres(pool, queue, _) if !cfg.replica_urls.is_empty() => {
                let replicas = super::replicas::Replicas::new(
                    &cfg.replica_urls,
                    cfg.max_connections,
                    Duration::from_millis(cfg.replica_max_lag_ms),
                    &queue,
                )?;
                super::replicas::spawn_monitor(pool.clone(), replicas.clone());
                Ok(Db::Postgres(pool, queue, Some(replicas)))
            }
            db => Ok(db),
        }
    }

    /// The read replicas, when configured.
    pub fn replicas(&self) -> Option<&Arc<super::replicas::Replicas>> {
        match self {
            Db::Postgres(_, _, r) => r.as_ref(),
            Db::Sqlite(..) => None,
        }
    }

    /// Where a read of timelines, accounts or statuses goes: a replica inside a
    /// [`super::replicas::reading`] scope when one is close enough and the session has not just
    /// written, else this `Db` (the primary).
    pub async fn reader(&self) -> &Db {
        super::replicas::route(self).await
    }

    /// Applies pending migrations from `migrations/sqlite` or `migrations/postgres`.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(p, _) => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&mut *p.acquire().await?)
                    .await?
            }
            Db::Postgres(p, ..) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(_, writer) => {
                Tx::Sqlite(SqliteTx::begin(&writer.conn).await?, Default::default())
            }
            Db::Postgres(p, ..) => {
                super::replicas::wrote();
                Tx::Postgres(p.begin().await?, Default::default())
            }
        })
    }

    /// Runs `work` in a write transaction, shared with the other writes queued at the same time
    /// (group commit, see [`super::writer`]): on SQLite on the writer thread, on PostgreSQL in up
    /// to [`POSTGRES_WRITERS`](super::writer::POSTGRES_WRITERS) transactions at once. Each caller
    /// gets the outcome it would have had alone: its output once the transaction commits, or its
    /// own error.
    ///
    /// The work is done even if the caller stops waiting. A panic in `work` is resumed in the
    /// caller.
    pub async fn write<W: Write>(&self, work: W) -> Result<W::Output, W::Error> {
        super::replicas::wrote();
        self.queue().write(work).await
    }

    /// Writes and transactions committed through [`Db::write`] since start-up.
    pub fn writer_stats(&self) -> super::writer::WriterStats {
        self.queue().stats()
    }

    /// How many transactions of [`Db::write`] may run at once: 1 on SQLite.
    pub fn writers(&self) -> usize {
        self.queue().workers()
    }

    fn queue(&self) -> &Arc<Queue> {
        match self {
            Db::Sqlite(_, writer) => &writer.queue,
            Db::Postgres(_, queue, _) => queue,
        }
    }

    /// One trivial query, for health checks: the database answers.
    /// Whether every migration this build carries has been applied (a node started from an older
    /// or newer build than the database's is not ready).
    ///
    /// Errors: the database does not answer, or holds no migration table yet.
    pub async fn migrations_current(&self) -> sqlx::Result<bool> {
        let (migrator, applied): (sqlx::migrate::Migrator, i64) = match self {
            Db::Sqlite(p, _) => (
                sqlx::migrate!("./migrations/sqlite"),
                sqlx::query_scalar(
                    "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
                )
                .fetch_one(p)
                .await?,
            ),
            Db::Postgres(p, ..) => (
                sqlx::migrate!("./migrations/postgres"),
                sqlx::query_scalar(
                    "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
                )
                .fetch_one(p)
                .await?,
            ),
        };
        let newest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        Ok(applied == newest)
    }

    /// Connections of the pool: `(open, idle, the most allowed)`.
    pub fn pool_usage(&self) -> (usize, usize, usize) {
        match self {
            Db::Sqlite(p, _) => p.usage(),
            Db::Postgres(p, ..) => (
                p.size() as usize,
                p.num_idle(),
                p.options().get_max_connections() as usize,
            ),
        }
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        crate::on_db!(self, c => sqlx::query("SELECT 1").execute(c).await.map(|_| ()))
    }

    pub fn backend(&self) -> Backend<&SqlitePool, &PgPool> {
        match self {
            Db::Sqlite(p, _) => Backend::Sqlite(p),
            Db::Postgres(p, ..) => Backend::Postgres(p),
        }
    }

    /// `"sqlite"` or `"postgres"`, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(..) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p, writer) => {
                writer.conn.close().await;
                p.close().await
            }
            Db::Postgres(p, _, replicas) => {
                for r in replicas.iter() {
                    r.close().await;
                }
                p.close().await
            }
        }
    }
}

impl Tx {
    pub fn backend(&mut self) -> Backend<&mut sqlx::SqliteConnection, &mut sqlx::PgConnection> {
        match self {
            Tx::Sqlite(t, _) => Backend::Sqlite(t.connection()),
            Tx::Postgres(t, _) => Backend::Postgres(&mut **t),
        }
    }

    /// Notes that this transaction changes all of `kind`, for the caches (see
    /// [`super::changes`]).
    pub fn changes(&mut self, kind: super::changes::Kind) {
        self.pending().add(kind);
    }

    /// Notes that this transaction changes `key` of `kind`.
    pub fn changes_key(&mut self, kind: super::changes::Kind, key: i64) {
        self.pending().add_key(kind, key);
    }

    fn pending(&mut self) -> &mut super::changes::Pending {
        match self {
            Tx::Sqlite(_, p) | Tx::Postgres(_, p) => p,
        }
    }

    /// Commits, then marks what the transaction changed. With several nodes on PostgreSQL, the
    /// changes go to the other nodes in the transaction itself, just before the commit
    /// ([`super::changes::notify_in_transactions`]).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let (pending, sent) = match self {
            Tx::Sqlite(t, p) => {
                t.commit().await?;
                (p, false)
            }
            Tx::Postgres(mut t, p) => {
                let mut sent = false;
                if let Some((channel, text)) = p.notification() {
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(channel)
                        .bind(text)
                        .execute(&mut *t)
                        .await?;
                    sent = true;
                }
                t.commit().await?;
                (p, sent)
            }
        };
        pending.committed(sent);
        Ok(())
    }
}

/// True when `err` is a unique-constraint violation (mapped to 422 by the error layer).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}
