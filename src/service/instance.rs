//! Facts about this instance for `/api/v{1,2}/instance` and nodeinfo.

use chrono::{Duration, Utc};

use crate::error::AppResult;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};

/// Rookery's own version, shown after the Mastodon compatibility version.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Mastodon API level whose endpoints exist here. Clients switch features on by it (grouped
/// notifications at 4.3, v2 filters at 4.0), so it advertises only what is implemented.
pub const MASTODON_COMPAT_VERSION: &str = "4.2.0";

/// `api_versions.mastodon`: 1 until v2 notifications exist (Mastodon Android and Phanpy switch to
/// them at 2).
pub const MASTODON_API_VERSION: u32 = 1;

/// `4.2.0 (compatible; Rookery 0.1.0)`: starts with N.N.N as Mastodon.py and Ice Cubes require.
pub fn version_string() -> String {
    format!("{MASTODON_COMPAT_VERSION} (compatible; Rookery {SOFTWARE_VERSION})")
}

pub struct Stats {
    pub user_count: i64,
    pub active_month: i64,
    pub active_halfyear: i64,
    pub status_count: i64,
    pub domain_count: i64,
}

/// Counts users, recent sign-ins and known domains.
pub async fn stats(state: &AppState) -> AppResult<Stats> {
    let db = &state.db;
    let now = Utc::now();
    Ok(Stats {
        user_count: accounts::count_active_local_users(db).await?,
        active_month: accounts::count_users_active_since(db, now - Duration::days(30)).await?,
        active_halfyear: accounts::count_users_active_since(db, now - Duration::days(180)).await?,
        status_count: crate::storage::statuses::count_local(db).await?,
        domain_count: accounts::known_domains(db).await?.len() as i64,
    })
}

/// Hosts of other instances we know accounts on, for `/api/v1/instance/peers`.
pub async fn peers(state: &AppState) -> AppResult<Vec<String>> {
    Ok(accounts::known_domains(&state.db).await?)
}

/// The first admin, shown as the contact account.
pub async fn contact_account(state: &AppState) -> AppResult<Option<AccountRow>> {
    Ok(accounts::first_admin_account(&state.db).await?)
}
