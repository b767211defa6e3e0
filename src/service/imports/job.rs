//! Processing an import: a durable job (`bulk_import`) that takes the rows in file order, records
//! each row's outcome with the counts in one transaction, and resolves accounts and posts not
//! known here at most [`RESOLVES_PER_SECOND`] a second. A job that dies resumes at the first row
//! without an outcome. With `overwrite`, what the file does not list is removed at the end (lists:
//! at the start, as Mastodon does).

use std::time::Duration;

use activitypub_federation::config::FederationConfig;
use activitypub_federation::fetch::object_id::ObjectId;
use serde_json::json;

use super::Kind;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job, Outcome};
use crate::service::activitypub::context::FedData;
use crate::service::activitypub::notes::ApNote;
use crate::service::oauth::CurrentUser;
use crate::service::relationships;
use crate::state::AppState;
use crate::storage::Tx;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::imports::{self as store, Held, ImportRow, RowData};

/// The job kind; payload `{"import_id": ID}`.
pub const IMPORT_JOB: &str = "bulk_import";
/// Accounts and posts fetched from other servers per second, at most (each a WebFinger lookup
/// and a document fetch, or one fetch), so an import does not hammer a server.
pub const RESOLVES_PER_SECOND: u32 = 10;
/// Longest account address or URI looked up, in bytes (longer ones fail their row).
const MAX_CELL: usize = 2048;
/// Rows read per page.
const PAGE: i64 = 100;

/// Queues the import's job inside the transaction that stores it; `claimed` queues it claimed
/// by the caller (see `super::create_row`). Returns the job's ID.
pub async fn enqueue(tx: &mut Tx, import_id: i64, claimed: bool) -> AppResult<i64> {
    let payload = json!({ "import_id": import_id });
    Ok(if claimed {
        jobs::enqueue_claimed(tx, IMPORT_JOB, &payload).await?
    } else {
        jobs::enqueue(tx, IMPORT_JOB, &payload).await?
    })
}

/// Runs the import worker: one import at a time, so the resolving rate holds for the server.
pub fn spawn_worker(federation: FederationConfig<AppState>) -> tokio::task::JoinHandle<()> {
    let state = federation.to_request_data().app_data().clone();
    tokio::spawn(jobs::run_worker(
        state.db.clone(),
        IMPORT_JOB,
        1,
        5,
        state.jobs_wakeup.clone(),
        move |job| {
            let federation = federation.clone();
            async move { run(federation, job).await }
        },
        |job, error| async move {
            tracing::error!(job = job.id, %error, "an import was given up");
        },
    ))
}

async fn run(federation: FederationConfig<AppState>, job: Job) -> Outcome {
    let id = job.payload["import_id"].as_i64().unwrap_or_default();
    match process(&federation, id, &|_, _| {}).await {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// Spaces out network resolutions.
struct Pace {
    next: tokio::time::Instant,
}

impl Pace {
    async fn wait(&mut self) {
        let now = tokio::time::Instant::now();
        if self.next > now {
            tokio::time::sleep_until(self.next).await;
        }
        self.next = self.next.max(now) + Duration::from_secs(1) / RESOLVES_PER_SECOND;
    }
}

/// Processes import `import_id` to its end, calling `progress(processed, total)` after each
/// row. An import already finished (or gone, with its account) is left alone.
///
/// Errors: database errors (the job retries and resumes where it stopped).
pub async fn process(
    federation: &FederationConfig<AppState>,
    import_id: i64,
    progress: &(dyn Fn(i64, i64) + Send + Sync),
) -> AppResult<()> {
    let data = federation.to_request_data();
    let state: &AppState = &data;
    let Some(import) = store::find_by_id(&state.db, import_id).await? else {
        return Ok(());
    };
    if import.state == "finished" {
        return Ok(());
    }
    let Some(kind) = Kind::parse(&import.kind) else {
        store::set_state(&state.db, import.id, "finished").await?;
        return Ok(());
    };
    let (Some(me), Some(user)) = (
        accounts::find_account(&state.db, import.account_id).await?,
        accounts::find_user_by_account(&state.db, import.account_id).await?,
    ) else {
        return Ok(());
    };
    let cu = CurrentUser { user, account: me };
    store::set_state(&state.db, import.id, "in_progress").await?;
    if kind == Kind::Lists && import.overwrite && import.processed_items == 0 {
        let mut names: Vec<String> = store::all_data(&state.db, import.id)
            .await?
            .into_iter()
            .filter_map(|d| d.list_name)
            .collect();
        names.sort();
        names.dedup();
        store::reset_lists(&state.db, cu.account.id, &names).await?;
    }
    let mut pace = Pace {
        next: tokio::time::Instant::now(),
    };
    let mut processed = import.processed_items;
    loop {
        let rows = store::pending_rows(&state.db, import.id, PAGE).await?;
        for r in &rows {
            // Each row is a request of its own: the federation library bounds fetches per request.
            let data = federation.to_request_data();
            let outcome = import_row(&data, &cu, kind, &r.data.0, &mut pace).await;
            let (target, error) = match &outcome {
                Ok(t) => (*t, None),
                Err(e) => (None, Some(e.as_str())),
            };
            store::record_row(&state.db, import.id, r.line, target, error).await?;
            processed += 1;
            progress(processed, import.total_items);
        }
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    if import.overwrite && kind != Kind::Lists {
        overwrite(state, &cu, &import, kind).await?;
    }
    store::set_state(&state.db, import.id, "finished").await?;
    let done = store::find_by_id(&state.db, import.id).await?;
    if let Some(d) = done {
        tracing::info!(import = d.id, kind = %d.kind, imported = d.imported_items,
            failed = d.failed_items, "import finished");
    }
    Ok(())
}

/// Why a row failed, for its owner: the service's message, never an internal cause.
fn reason(e: AppError) -> String {
    match e {
        AppError::Internal(cause) => {
            tracing::warn!(error = ?cause, "an import row failed");
            "an internal error; try again later".into()
        }
        AppError::NotFound => "not found".into(),
        other => other.to_string(),
    }
}

/// The account an address names: from the database when known, else resolved over the network
/// (paced).
async fn account_of(data: &FedData, acct: &str, pace: &mut Pace) -> Result<AccountRow, String> {
    let own = data.config.server.domain.clone();
    if acct.len() > MAX_CELL {
        return Err("not an account address".into());
    }
    let Some((user, domain)) = crate::service::accounts::parse_acct(acct, &own) else {
        return Err("not an account address".into());
    };
    if let Some(row) = accounts::find_account_by_acct(&data.db, user, domain)
        .await
        .map_err(|e| reason(e.into()))?
    {
        return Ok(row);
    }
    let Some(domain) = domain else {
        return Err("no such account on this server".into());
    };
    pace.wait().await;
    match crate::service::resolve::account(data, acct, true).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(format!("could not be found on {domain}")),
        Err(e) => Err(reason(e)),
    }
}

/// Imports one row; `Ok` with the account or status it named.
async fn import_row(
    data: &FedData,
    cu: &CurrentUser,
    kind: Kind,
    row: &RowData,
    pace: &mut Pace,
) -> Result<Option<i64>, String> {
    let state: &AppState = data;
    let me = cu.account.id;
    match kind {
        Kind::Following | Kind::Blocking | Kind::Muting | Kind::Lists => {
            let t = account_of(data, row.acct.as_deref().unwrap_or(""), pace).await?;
            if t.id == me {
                return Err("that is this account".into());
            }
            let id = t.id.to_string();
            match kind {
                Kind::Following => relationships::follow_account(
                    state,
                    me,
                    &t,
                    Some(row.show_reblogs.unwrap_or(true)),
                    Some(row.notify.unwrap_or(false)),
                    false,
                )
                .await
                .map_err(reason)?,
                Kind::Blocking => {
                    relationships::block(state, me, &id).await.map_err(reason)?;
                }
                Kind::Muting => {
                    relationships::mute(
                        state,
                        me,
                        &id,
                        Some(row.hide_notifications.unwrap_or(true)),
                        None,
                    )
                    .await
                    .map_err(reason)?;
                }
                _ => add_to_list(state, me, row.list_name.as_deref().unwrap_or(""), &t).await?,
            }
            Ok(Some(t.id))
        }
        Kind::DomainBlocking => {
            relationships::domains::block(state, me, row.domain.as_deref().unwrap_or(""))
                .await
                .map_err(reason)?;
            Ok(None)
        }
        Kind::Bookmarks => {
            let uri = row.uri.as_deref().unwrap_or("");
            if uri.len() > MAX_CELL {
                return Err("not a URL".into());
            }
            let known = crate::storage::statuses::find_by_uri_or_url(&state.db, uri)
                .await
                .map_err(|e| reason(e.into()))?;
            let status = match known {
                Some(s) => s,
                None => {
                    let url = url::Url::parse(uri).map_err(|_| "not a URL".to_string())?;
                    pace.wait().await;
                    match ObjectId::<ApNote>::from(url).dereference(data).await {
                        Ok(n) => n.row,
                        Err(e) => {
                            tracing::info!(uri, error = %e, "could not fetch a bookmarked post");
                            return Err("the post could not be fetched".into());
                        }
                    }
                }
            };
            crate::service::statuses::bookmark(state, cu, &status.id.to_string(), true)
                .await
                .map_err(|e| match e {
                    AppError::NotFound => "the post is not visible to this account".to_string(),
                    other => reason(other),
                })?;
            Ok(Some(status.id))
        }
    }
}

/// Puts `t` in `me`'s list titled `title` (made when missing), following `t` first when `me`
/// does not yet (Mastodon's lists import does the same).
async fn add_to_list(state: &AppState, me: i64, title: &str, t: &AccountRow) -> Result<(), String> {
    let lists = crate::storage::lists::of_owner(&state.db, me, None)
        .await
        .map_err(|e| reason(e.into()))?;
    let id = match lists.iter().find(|l| l.title == title) {
        Some(l) => l.id.to_string(),
        None => {
            crate::service::lists::create(
                state,
                me,
                crate::service::lists::ListFields {
                    title: Some(title.to_string()),
                    replies_policy: None,
                    exclusive: None,
                },
            )
            .await
            .map_err(reason)?
            .id
        }
    };
    let following = crate::storage::relationships::find_follow(
        &state.db,
        crate::storage::relationships::FollowTable::Follows,
        me,
        t.id,
    )
    .await
    .map_err(|e| reason(e.into()))?
    .is_some();
    if !following {
        relationships::follow_account(state, me, t, None, None, false)
            .await
            .map_err(reason)?;
    }
    crate::service::lists::add_members(state, me, &id, &[t.id.to_string()])
        .await
        .map_err(|e| match e {
            AppError::Unprocessable { .. } => {
                "the account has not accepted the follow yet, so it cannot be in a list".to_string()
            }
            other => reason(other),
        })
}

/// Removes what the file did not list: follows, blocks, mutes, blocked servers or bookmarks.
async fn overwrite(
    state: &AppState,
    cu: &CurrentUser,
    import: &ImportRow,
    kind: Kind,
) -> AppResult<()> {
    let me = cu.account.id;
    if kind == Kind::DomainBlocking {
        let keep: Vec<String> = store::all_data(&state.db, import.id)
            .await?
            .into_iter()
            .filter_map(|d| d.domain)
            .collect();
        for domain in store::blocked_domains(&state.db, me).await? {
            if !keep.contains(&domain) {
                relationships::domains::unblock(state, me, &domain).await?;
            }
        }
        return Ok(());
    }
    let held = match kind {
        Kind::Following => Held::Follows,
        Kind::Blocking => Held::Blocks,
        Kind::Muting => Held::Mutes,
        _ => Held::Bookmarks,
    };
    let keep: std::collections::HashSet<i64> = store::imported_targets(&state.db, import.id)
        .await?
        .into_iter()
        .collect();
    for id in store::held_ids(&state.db, me, held).await? {
        if keep.contains(&id) {
            continue;
        }
        let id_s = id.to_string();
        let done = match held {
            Held::Follows => relationships::unfollow(state, me, &id_s).await.map(|_| ()),
            Held::Blocks => relationships::unblock(state, me, &id_s).await.map(|_| ()),
            Held::Mutes => relationships::unmute(state, me, &id_s).await.map(|_| ()),
            Held::Bookmarks => crate::service::statuses::bookmark(state, cu, &id_s, false)
                .await
                .map(|_| ()),
        };
        if let Err(e) = done {
            tracing::info!(import = import.id, id, error = %e, "an overwrite could not remove an entry");
        }
    }
    Ok(())
}
