//! Starting and stopping the server: connect, migrate, bind, serve until a signal.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::state::AppState;
use crate::storage::Db;

/// Sends panic reports to the log (one `error` event with the message, the place and, with
/// `RUST_BACKTRACE=1`, a backtrace) instead of standard error, so that a panic caught by the
/// router's last line of defence (`http::router`) is logged once, with the others.
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let backtrace = std::backtrace::Backtrace::capture();
        tracing::error!(%message, %place, %backtrace, "panic");
    }));
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_db(cfg: &Config) -> anyhow::Result<Db> {
    let db = Db::connect_with(&cfg.database).await?;
    db.migrate().await?;
    Ok(db)
}

/// What a node does (`rookery serve --role`, docs/DEPLOY.md "Several machines").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The client API, pages, federation and every background worker.
    All,
    /// HTTP only: no background worker runs here.
    Web,
    /// The background workers, with `/health`, `/ready` and `/metrics` over HTTP.
    Worker,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "all" => Some(Role::All),
            "web" => Some(Role::Web),
            "worker" => Some(Role::Worker),
            _ => None,
        }
    }
}

/// Serves on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve_on(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_as(state, listener, shutdown, Role::All).await
}

/// [`serve_on`] for a node of `role`.
pub async fn serve_as(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    role: Role,
) -> anyhow::Result<()> {
    let pruning = state.clone();
    let pruner = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            pruning.sign_in_limiter.prune();
            pruning.limits.prune();
            crate::service::rate_limit::prune_shared(&pruning).await;
            crate::service::reads::prune(&pruning).await;
        }
    });
    // Several nodes: what the windowed rate limits allowed here joins the shared budgets.
    let flushing = state.clone();
    let last_flush = state.clone();
    let limits_flusher = tokio::spawn(async move {
        if !flushing.clustered() {
            return;
        }
        let mut tick = tokio::time::interval(crate::service::rate_limit::SHARED_WINDOW);
        loop {
            tick.tick().await;
            flushing.limits.flush(&flushing).await;
        }
    });
    let db = state.db.clone();
    // Several nodes: streaming events cross them through PostgreSQL (docs/DEPLOY.md).
    let mut relays = match &db {
        Db::Postgres(pool, ..) if state.config.federation.shared_queue => {
            let node = crate::jobs::node_id();
            crate::jobs::before_finish(Box::new(|| {
                Box::pin(crate::realtime::cluster::flushed(Duration::from_secs(2)))
            }));
            crate::realtime::cluster::start(&state.hub, pool.clone(), node)
        }
        _ => Vec::new(),
    };
    relays.extend(crate::service::conversations::spawn_presence_renewal(
        &state,
    ));
    let clustered = state.clustered();
    let federation = crate::service::activitypub::context::build(state.clone()).await?;
    let workers = if role == Role::Web {
        Vec::new()
    } else {
        spawn_workers(&state, &federation).await?
    };
    let app = match role {
        Role::Worker => crate::http::ops_router(state),
        Role::All | Role::Web => crate::http::router(state),
    }
    .layer(activitypub_federation::config::FederationMiddleware::new(
        federation,
    ));
    // Before routing: clients call `/api/v1/conversations/` as well as without the slash
    // (Mastodon.py does), and Mastodon answers both.
    let app = tower::Layer::layer(
        &tower_http::normalize_path::NormalizePathLayer::trim_trailing_slash(),
        app,
    );
    let result =
        axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                SocketAddr,
            >(app),
        )
        .with_graceful_shutdown(shutdown)
        .await;
    pruner.abort();
    limits_flusher.abort();
    last_flush.limits.flush(&last_flush).await;
    for r in relays {
        r.abort();
    }
    // The others stop counting this node's connections at once.
    if clustered
        && let Err(e) = crate::storage::presence::remove_node(&db, crate::jobs::node_id()).await
    {
        tracing::warn!(error = %e, "could not drop this node's presence");
    }
    let had_workers = !workers.is_empty();
    for w in workers {
        w.abort();
    }
    // What this node was running becomes due at once for the others.
    if had_workers && let Err(e) = crate::jobs::release_own_claims(&db).await {
        tracing::warn!(error = %e, "could not release this node's claims");
    }
    Ok(result?)
}

/// Starts every background worker: deliveries, jobs (media, cards, mail, polls, scheduled
/// statuses, search backfill, moves, imports, archives), story expiry and the media pruner.
async fn spawn_workers(
    state: &AppState,
    federation: &activitypub_federation::config::FederationConfig<AppState>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    if !state.config.federation.shared_queue {
        crate::jobs::release_all_claims(&state.db).await?;
    }
    let mut workers = vec![
        tokio::spawn(crate::service::delivery::run_worker(
            federation.clone(),
            state.delivery_wakeup.clone(),
        )),
        crate::service::media::spawn_workers(state),
        crate::service::media::spawn_pruner(state),
        crate::service::stories::spawn_expiry(state),
        crate::service::calls::spawn_ring_expiry(state),
        crate::service::push::spawn_worker(state),
        crate::service::cards::spawn_worker(state),
        crate::service::mail::spawn_worker(state),
        crate::service::delivery::spawn_instance_worker(federation.clone()),
        crate::service::scheduled::spawn_worker(federation.clone()),
        crate::service::search::spawn_backfill(state),
        crate::service::moves::spawn_worker(state),
        crate::service::imports::spawn_worker(federation.clone()),
        crate::service::archives::spawn_worker(state),
    ];
    workers.extend(crate::service::polls::spawn_workers(state));
    Ok(workers)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// `rookery serve`: migrations, then the HTTP server on `server.bind`, as a node of `role`.
pub async fn run(cfg: Config, role: Role) -> anyhow::Result<()> {
    let db = open_db(&cfg).await?;
    let listener = TcpListener::bind(&cfg.server.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cfg.server.bind))?;
    tracing::info!(
        bind = %listener.local_addr()?,
        url = %cfg.base_url(),
        database = db.kind(),
        media = %match cfg.media.backend {
            crate::config::MediaBackend::Local => cfg.media.dir.clone(),
            crate::config::MediaBackend::S3 => format!("s3 bucket {}", cfg.media.s3.bucket),
        },
        role = ?role,
        "Rookery is listening"
    );
    let state = AppState::new(cfg, db.clone())?;
    serve_as(state, listener, shutdown_signal(), role).await?;
    db.close().await;
    Ok(())
}
