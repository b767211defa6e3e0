//! The six CSV files of Mastodon's "Data export", written as Mastodon writes them (its `Export`
//! model), so that Mastodon's importer — and Rookery's — take them back.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::imports as store;

/// The files `GET /api/v1/exports/:file` serves.
pub const EXPORT_FILES: &[&str] = &[
    "following_accounts.csv",
    "blocked_accounts.csv",
    "muted_accounts.csv",
    "blocked_domains.csv",
    "bookmarks.csv",
    "lists.csv",
];

/// `user@domain` of an account, local ones with this server's domain (as Mastodon exports them).
fn acct(state: &AppState, username: &str, domain: Option<&str>) -> String {
    crate::service::accounts::full_acct(username, domain, &state.config.server.domain)
}

/// Mastodon writes booleans as `true`/`false`.
fn b(v: bool) -> &'static str {
    if v { "true" } else { "false" }
}

/// The CSV file `file` (one of [`EXPORT_FILES`]) of local account `account_id`: UTF-8, CRLF-free
/// (`\n`), quoted where a cell needs it; `following_accounts.csv` and `muted_accounts.csv` with
/// Mastodon's header row, the others without.
///
/// Errors: 404 for another file name.
pub async fn export(state: &AppState, account_id: i64, file: &str) -> AppResult<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let db = &state.db;
    let write_err = |e: csv::Error| AppError::Internal(e.into());
    match file {
        "following_accounts.csv" => {
            w.write_record([
                "Account address",
                "Show boosts",
                "Notify on new posts",
                "Languages",
            ])
            .map_err(write_err)?;
            for (u, d, reblogs, notify) in store::following(db, account_id).await? {
                w.write_record([
                    acct(state, &u, d.as_deref()).as_str(),
                    b(reblogs),
                    b(notify),
                    "",
                ])
                .map_err(write_err)?;
            }
        }
        "blocked_accounts.csv" => {
            for (u, d) in store::blocking(db, account_id).await? {
                w.write_record([acct(state, &u, d.as_deref())])
                    .map_err(write_err)?;
            }
        }
        "muted_accounts.csv" => {
            w.write_record(["Account address", "Hide notifications"])
                .map_err(write_err)?;
            for (u, d, hide) in store::muting(db, account_id).await? {
                w.write_record([acct(state, &u, d.as_deref()).as_str(), b(hide)])
                    .map_err(write_err)?;
            }
        }
        "blocked_domains.csv" => {
            for d in store::blocked_domains(db, account_id).await? {
                w.write_record([d]).map_err(write_err)?;
            }
        }
        "bookmarks.csv" => {
            for uri in store::bookmarked_uris(db, account_id).await? {
                w.write_record([uri]).map_err(write_err)?;
            }
        }
        "lists.csv" => {
            for (title, u, d) in store::list_members(db, account_id).await? {
                w.write_record([title, acct(state, &u, d.as_deref())])
                    .map_err(write_err)?;
            }
        }
        _ => return Err(AppError::NotFound),
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}
