//! Facts about this instance for `/api/v{1,2}/instance` and nodeinfo.
//!
//! Files: this one (the counts and contact account, read once a minute) and `documents` (the
//! instance v1/v2 and NodeInfo documents built from them).

pub mod documents;
pub mod features;

use chrono::{Duration, Utc};

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};

/// Rookery's own version, shown after the Mastodon compatibility version.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Mastodon API level whose endpoints exist here. Clients switch features on by it (v2
/// filters at 4.0, grouped notifications and notification requests at 4.3, quotes at 4.5), so it
/// advertises only what is implemented (docs/API.md lists every Mastodon 4.5 route).
pub const MASTODON_COMPAT_VERSION: &str = "4.5.0";

/// `api_versions.mastodon`, Mastodon 4.5's (7): Mastodon Android and Phanpy switch to v2
/// notifications at 2, PKCE at 3; quote posts arrived at 7.
pub const MASTODON_API_VERSION: u32 = 7;

/// `4.5.0 (compatible; Rookery 0.1.0)`: starts with N.N.N as Mastodon.py and Ice Cubes require.
pub fn version_string() -> String {
    format!("{MASTODON_COMPAT_VERSION} (compatible; Rookery {SOFTWARE_VERSION})")
}

/// Whether the database answers (`GET /health`); a failure is logged.
pub async fn healthy(state: &AppState) -> bool {
    match state.db.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            false
        }
    }
}

/// Whether this node should take traffic (`GET /ready`): the database answers and carries every
/// migration of this build.
///
/// Errors: 503 naming what is wrong (the cause is logged).
pub async fn ready(state: &AppState) -> AppResult<()> {
    match state.db.migrations_current().await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AppError::Unavailable(
            "The database's migrations are not this build's".into(),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the database does not answer");
            Err(AppError::Unavailable("The database does not answer".into()))
        }
    }
}

pub struct Stats {
    pub user_count: i64,
    pub active_month: i64,
    pub active_halfyear: i64,
    pub status_count: i64,
    pub domain_count: i64,
}

/// How long the counts and the contact account of the instance documents are reused. Apps ask
/// for `/api/v1/instance` at every start and some on every screen; counting users, statuses and
/// known domains each time scanned whole tables (issue 23). A minute late is fine for counts.
pub const FACTS_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// What the instance documents (`/api/v{1,2}/instance`, nodeinfo) say about this instance's
/// users and content: [`Stats`] and the contact account (the first admin).
pub struct Facts {
    pub stats: Stats,
    /// The contact's row as it was read; render it with `render::account`, which shows the
    /// account as it is now.
    pub contact: Option<AccountRow>,
}

/// The instance's [`Facts`], read at most once per [`FACTS_TTL`] (`AppState::instance_facts`).
///
/// Errors: database errors while counting.
pub async fn facts(state: &AppState) -> AppResult<std::sync::Arc<Facts>> {
    let db = &state.db;
    Ok(state
        .instance_facts
        .get(|| async {
            let now = Utc::now();
            Ok(Facts {
                stats: Stats {
                    user_count: accounts::count_active_local_users(db).await?,
                    active_month: accounts::count_users_active_since(db, now - Duration::days(30))
                        .await?,
                    active_halfyear: accounts::count_users_active_since(
                        db,
                        now - Duration::days(180),
                    )
                    .await?,
                    status_count: crate::storage::statuses::count_local(db).await?,
                    domain_count: accounts::count_known_domains(db).await?,
                },
                contact: accounts::first_admin_account(db).await?,
            })
        })
        .await?)
}

/// One week of `/api/v1/instance/activity`.
pub struct Week {
    /// Monday 00:00 UTC.
    pub start: chrono::DateTime<Utc>,
    /// Local statuses posted.
    pub statuses: i64,
    /// Users who signed in (were issued a token or a web session).
    pub logins: i64,
    /// Users who signed up.
    pub registrations: i64,
}

/// The last 12 weeks (the current one first), from Monday to Monday in UTC.
pub async fn activity(state: &AppState) -> AppResult<Vec<Week>> {
    use chrono::Datelike;
    let today = Utc::now().date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let mut weeks = Vec::with_capacity(12);
    for i in 0..12 {
        let start = (monday - Duration::weeks(i))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc();
        let end = start + Duration::weeks(1);
        let (statuses, logins, registrations) =
            accounts::week_counts(&state.db, start, end).await?;
        weeks.push(Week {
            start,
            statuses,
            logins,
            registrations,
        });
    }
    Ok(weeks)
}

/// Hosts of other instances we know accounts on, for `/api/v1/instance/peers`.
pub async fn peers(state: &AppState) -> AppResult<Vec<String>> {
    Ok(accounts::known_domains(&state.db).await?)
}
