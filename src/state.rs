//! Shared application state handed to every handler. Handlers take only the parts they need through
//! `FromRef` (`State<Db>`, `State<Arc<Config>>`).

use std::sync::Arc;

use axum::extract::FromRef;

use crate::config::Config;
use crate::realtime::Hub;
use crate::service::rate_limit::SignInLimiter;
use crate::storage::Db;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub sign_in_limiter: Arc<SignInLimiter>,
    /// Streaming events go out through here.
    pub hub: Hub,
    /// Wakes the delivery worker after activities are queued.
    pub delivery_wakeup: Arc<tokio::sync::Notify>,
}

impl AppState {
    pub fn new(config: Config, db: Db) -> AppState {
        AppState {
            sign_in_limiter: Arc::new(SignInLimiter::new(&config.rate_limits)),
            config: Arc::new(config),
            db,
            hub: Hub::new(),
            delivery_wakeup: Arc::new(tokio::sync::Notify::new()),
        }
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(s: &AppState) -> Db {
        s.db.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(s: &AppState) -> Arc<Config> {
        s.config.clone()
    }
}
