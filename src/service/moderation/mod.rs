//! Moderation: domain blocks (suspend, silence, noop), reports, and actions on accounts.
//!
//! A suspended server gets nothing from us and is heard from no more: its activities are refused at
//! the inbox, deliveries to it stop, nothing is fetched from it, and follows between it and local
//! accounts end. Account actions follow Mastodon's admin API
//! (docs.joinmastodon.org/methods/admin/accounts/): `disable` stops a local login, `silence`
//! limits an account to its followers, `suspend` removes its content at once (docs/API.md,
//! Moderation, says how this differs from Mastodon's 30-day grace) and, for a local account, tells
//! every known server with a `Delete` of the actor.
//!
//! Files: this one (domain blocks, reports, actions), `admin` (what staff list and change through
//! `/api/v1/admin/*`) and `inbound` (reports forwarded by other servers).

mod admin;
mod inbound;
pub use admin::*;
pub use inbound::*;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::domain_blocks;

pub use crate::storage::domain_blocks::{BlockSettings, DomainBlockRow};
use crate::storage::relationships::{self as rel, FollowTable};
use crate::storage::statuses;

pub const SEVERITIES: &[&str] = &["suspend", "silence", "noop"];

/// How long the in-memory copy of the domain blocks is trusted. A block made on this node applies
/// at once; one made on another node (or from the command line) within this long.
pub const BLOCKS_FOR: std::time::Duration = std::time::Duration::from_secs(2);

/// The domain blocks as `(domain, severity)`, reloaded when older than [`BLOCKS_FOR`]. Every
/// incoming activity and outgoing request asks several times whether a host is suspended; this
/// answers without a query.
pub type BlockCache = crate::service::cache::Reloaded<Vec<(String, String)>>;

/// Whether `host` (with its port, if any) or a parent domain of it is suspended. The cached copy
/// answers "no" on its own; a "yes" is confirmed with the database, so that lifting a block (from
/// the command line, or on another node) never refuses anything afterwards — a refused activity
/// is not sent again.
pub async fn domain_suspended(state: &AppState, host: &str) -> sqlx::Result<bool> {
    let blocks = state
        .blocks
        .get(|| domain_blocks::all_severities(&state.db))
        .await?;
    let cached = blocks
        .iter()
        .any(|(d, severity)| severity == "suspend" && domain_blocks::covers(d, host));
    if !cached {
        return Ok(false);
    }
    domain_blocks::is_suspended(&state.db, host).await
}

/// `example.com` or `example.com:8443`: lower-cased; no scheme, path, user or spaces.
///
/// Errors: 422 for anything else.
pub fn normalize_domain(raw: &str) -> AppResult<String> {
    let d = raw.trim().trim_end_matches('.').to_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !d.starts_with('.')
        && !d.starts_with('-');
    if !ok {
        return Err(AppError::unprocessable(format!(
            "{raw:?} is not a domain name"
        )));
    }
    Ok(d)
}

/// Blocks (or re-blocks with new settings) a domain. With `suspend`, follows between local
/// accounts and accounts there end now.
pub async fn block_domain(
    state: &AppState,
    raw: &str,
    settings: BlockSettings,
) -> AppResult<DomainBlockRow> {
    let domain = normalize_domain(raw)?;
    if domain == state.config.server.domain.to_lowercase() {
        return Err(AppError::unprocessable("This server cannot block itself"));
    }
    if !SEVERITIES.contains(&settings.severity.as_str()) {
        return Err(AppError::unprocessable(
            "severity must be suspend, silence or noop",
        ));
    }
    let row = domain_blocks::upsert(&state.db, &domain, &settings).await?;
    state.blocks.forget();
    if row.severity == "suspend" {
        let pairs = rel::follows_with_domain(&state.db, &domain).await?;
        let mut tx = state.db.begin().await?;
        for (follower, target) in pairs {
            if rel::delete_follow(&mut tx, FollowTable::Follows, follower, target).await? {
                statuses::unmerge_from_feed(&mut tx, follower, target).await?;
            }
        }
        tx.commit().await?;
        tracing::info!(domain, "domain suspended");
    }
    Ok(row)
}

/// Lifts the block of a domain; false when there was none.
pub async fn unblock_domain(state: &AppState, raw: &str) -> AppResult<bool> {
    let domain = normalize_domain(raw)?;
    let gone = domain_blocks::delete_domain(&state.db, &domain).await?;
    state.blocks.forget();
    Ok(gone)
}

/// Report categories (Mastodon's `Report.category`).
pub const REPORT_CATEGORIES: &[&str] = &["spam", "legal", "violation", "other"];
/// Longest report comment, in characters (Mastodon's limit; longer forwarded ones are cut).
const COMMENT_LIMIT: usize = 1000;
/// Most statuses one report may name.
const REPORT_STATUSES_LIMIT: usize = 100;
/// Most objects of an incoming `Flag` looked at.
const FLAG_OBJECTS_LIMIT: usize = 100;

/// Whether a role may moderate (moderator or admin).
pub fn is_staff(role: &str) -> bool {
    matches!(role, "moderator" | "admin")
}

/// What `POST /api/v1/reports` asks for.
#[derive(Debug, Default)]
pub struct NewReport {
    pub account_id: i64,
    pub status_ids: Vec<i64>,
    pub comment: String,
    /// Send the report on to the account's server as a `Flag`.
    pub forward: bool,
    pub category: Option<String>,
    pub rule_ids: Vec<i64>,
}

/// Files a report by `reporter` (docs.joinmastodon.org/methods/reports/). Status IDs must be the
/// target's; rule IDs must be the server's (`category` becomes `violation` when rules are given).
/// With `forward`, a report about a remote account is queued to its server as a `Flag` sent by
/// this server's actor, so the reporter is not named.
///
/// Errors: 404 unknown account; 422 reporting oneself, statuses not the account's or not visible
/// to the reporter (the same message for both), more than 100 statuses, a comment over 1000 characters, a bad category or rule.
pub async fn report(
    state: &AppState,
    reporter: &crate::service::oauth::CurrentUser,
    r: NewReport,
) -> AppResult<crate::storage::reports::ReportRow> {
    use crate::storage::reports::{self, ReportRow};
    let target = crate::storage::accounts::find_account(&state.db, r.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if target.id == reporter.account.id {
        return Err(AppError::unprocessable("You cannot report yourself"));
    }
    if r.status_ids.len() > REPORT_STATUSES_LIMIT {
        return Err(AppError::unprocessable(format!(
            "A report can name at most {REPORT_STATUSES_LIMIT} statuses"
        )));
    }
    if r.comment.trim().chars().count() > COMMENT_LIMIT {
        return Err(AppError::unprocessable(format!(
            "The comment is longer than {COMMENT_LIMIT} characters"
        )));
    }
    // Only statuses the reporter may see: a hidden one answers as an unknown one would, so a
    // report cannot confirm that it exists.
    let found = statuses::find_many_visible(&state.db, &r.status_ids, reporter.account.id).await?;
    let mut status_uris = Vec::new();
    for id in &r.status_ids {
        let row = found
            .iter()
            .find(|s| s.id == *id && s.account_id == target.id)
            .ok_or_else(|| {
                AppError::unprocessable(format!("Status {id} is not by this account"))
            })?;
        status_uris.push(row.uri.clone());
    }
    let rules = state.config.instance.rules.len() as i64;
    if let Some(bad) = r.rule_ids.iter().find(|id| **id < 1 || **id > rules) {
        return Err(AppError::unprocessable(format!(
            "Rule {bad} does not exist"
        )));
    }
    let category = match r.category.as_deref().filter(|c| !c.is_empty()) {
        Some(c) if REPORT_CATEGORIES.contains(&c) => c.to_string(),
        Some(c) => {
            return Err(AppError::unprocessable(format!(
                "category {c:?} is not one of spam, legal, violation, other"
            )));
        }
        None if !r.rule_ids.is_empty() => "violation".into(),
        None => "other".into(),
    };
    let comment = r.comment.trim().to_string();
    let inbox = target
        .shared_inbox_url
        .clone()
        .or_else(|| target.inbox_url.clone())
        .filter(|_| r.forward && !target.is_local());
    let forward = inbox.is_some();
    let now = chrono::Utc::now();
    let row = ReportRow {
        id: crate::storage::ids::new_id(),
        account_id: reporter.account.id,
        target_account_id: target.id,
        status_ids: sqlx::types::Json(r.status_ids.clone()),
        rule_ids: sqlx::types::Json(r.rule_ids.clone()),
        comment: comment.clone(),
        category,
        forwarded: forward,
        uri: None,
        assigned_account_id: None,
        action_taken_at: None,
        action_taken_by_account_id: None,
        created_at: now,
        updated_at: now,
    };
    // The report, its Flag and moderators' notifications are one change.
    let staff = crate::storage::accounts::staff_account_ids(&state.db).await?;
    let mut tx = state.db.begin().await?;
    reports::insert(&mut tx, &row).await?;
    if let Some(inbox) = &inbox {
        let actor = crate::federation::instance_actor::uri(&state.config);
        let mut objects = vec![target.uri.clone()];
        objects.extend(status_uris);
        let flag = crate::federation::objects::flag(
            &format!("{}/reports/{}", state.config.base_url(), row.id),
            &actor,
            &comment,
            objects,
        );
        crate::service::delivery::enqueue_as_instance(&mut tx, &flag, inbox).await?;
    }
    let pending = crate::service::notifications::notify_staff_in(
        &mut tx,
        &staff,
        "admin.report",
        reporter.account.id,
        Some(row.id),
    )
    .await?;
    tx.commit().await?;
    if inbox.is_some() {
        state.jobs_wakeup.notify_one();
    }
    crate::service::notifications::publish(state, &pending).await;
    tracing::info!(report = row.id, target = %target.uri, forwarded = forward, "report filed");
    Ok(row)
}

/// Moderator actions on an account (`POST /api/v1/admin/accounts/:id/action` `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountAction {
    /// Resolve the report only.
    None,
    /// Local logins only: no sign-in, all tokens and sessions revoked.
    Disable,
    /// Posts reach followers only; hidden from public timelines, trends and suggestions.
    Silence,
    /// Content removed, activities refused; a local account's removal federates.
    Suspend,
}

impl AccountAction {
    /// From the API's `type`; `sensitive` (mark media sensitive) is not offered.
    pub fn parse(s: &str) -> AppResult<AccountAction> {
        Ok(match s {
            "none" => AccountAction::None,
            "disable" => AccountAction::Disable,
            "silence" => AccountAction::Silence,
            "suspend" => AccountAction::Suspend,
            other => {
                return Err(AppError::unprocessable(format!(
                    "type {other:?} is not one of none, disable, silence, suspend"
                )));
            }
        })
    }
}

/// Stops a local login: no sign-in, and every token and session revoked at once.
pub async fn disable_login(
    state: &AppState,
    user: &crate::storage::accounts::UserRow,
) -> AppResult<()> {
    crate::storage::accounts::set_disabled(&state.db, user.id, true).await?;
    crate::storage::oauth::revoke_all_for_user(&state.db, user.id).await?;
    Ok(())
}

/// Takes `action` on `target` for moderator `by` (`None`: the operator's command line), then resolves `report_id` if given (it must be
/// about `target`) — or, with no report, every open report about it.
///
/// Errors: 403 acting on staff as a moderator, or on oneself; 404 unknown report; 422 `disable`
/// of a remote account.
pub async fn act(
    state: &AppState,
    by: Option<&crate::service::oauth::CurrentUser>,
    target: &crate::storage::accounts::AccountRow,
    action: AccountAction,
    report_id: Option<i64>,
) -> AppResult<()> {
    use crate::storage::{accounts, reports};
    let by_id = by.map(|b| b.account.id);
    if by_id == Some(target.id) && action != AccountAction::None {
        return Err(AppError::forbidden("You cannot moderate yourself"));
    }
    // The operator at the command line (`by` = None) may act on anyone.
    let by_admin = by.is_none_or(|b| b.user.role == "admin");
    let target_user = accounts::find_user_by_account(&state.db, target.id).await?;
    if let Some(u) = &target_user
        && action != AccountAction::None
        && by.is_some()
        && (u.role == "admin" || (is_staff(&u.role) && !by_admin))
    {
        return Err(AppError::forbidden(
            "This account's role protects it from that action",
        ));
    }
    if let Some(id) = report_id {
        let r = reports::find(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if r.target_account_id != target.id {
            return Err(AppError::unprocessable(
                "The report is about another account",
            ));
        }
    }
    match action {
        AccountAction::None => {}
        AccountAction::Disable => {
            let u = target_user
                .as_ref()
                .ok_or_else(|| AppError::unprocessable("Only local logins can be disabled"))?;
            disable_login(state, u).await?;
        }
        AccountAction::Silence => {
            accounts::set_silenced(&state.db, target.id, Some(chrono::Utc::now())).await?;
        }
        AccountAction::Suspend => suspend(state, target).await?,
    }
    match report_id {
        Some(id) => reports::set_resolved(&state.db, id, true, by_id).await?,
        None if action != AccountAction::None => {
            let mut tx = state.db.begin().await?;
            reports::resolve_all_about(&mut tx, target.id, by_id).await?;
            tx.commit().await?;
        }
        None => {}
    }
    let moderator = by.map_or("(command line)", |b| b.account.username.as_str());
    tracing::info!(moderator, target = %target.uri, ?action, "account action");
    Ok(())
}

/// Suspends an account now: it cannot sign in, its statuses, stories, favourites, follows and the
/// notifications it caused are removed, and its profile is blanked. A local account's suspension
/// is sent to every known server as a `Delete` of the actor (signed with its key, which is kept);
/// a remote account's activities are refused from then on.
pub async fn suspend(
    state: &AppState,
    target: &crate::storage::accounts::AccountRow,
) -> AppResult<()> {
    use crate::storage::accounts;
    if target.suspended_at.is_some() {
        return Ok(());
    }
    if let Some(u) = accounts::find_user_by_account(&state.db, target.id).await? {
        crate::storage::oauth::revoke_all_for_user(&state.db, u.id).await?;
    }
    // Marked first, so nothing new is accepted from it while its content goes.
    let mut tx = state.db.begin().await?;
    accounts::set_suspended(&mut tx, target.id, Some(chrono::Utc::now())).await?;
    let ended = accounts::purge_interactions(&mut tx, target.id).await?;
    for (follower, followed) in &ended {
        statuses::unmerge_from_feed(&mut tx, *follower, *followed).await?;
    }
    tx.commit().await?;
    let gone = crate::service::statuses::remove_all_of(state, target.id).await?;
    crate::service::rooms::account_gone(state, target.id).await?;
    if target.is_local() {
        let inboxes = accounts::all_known_inboxes(&state.db).await?;
        let delete = crate::federation::objects::delete_actor(&target.uri);
        let mut tx = state.db.begin().await?;
        crate::service::delivery::enqueue(&mut tx, &delete, target.id, &inboxes, None).await?;
        tx.commit().await?;
        state.delivery_wakeup.notify_one();
        tracing::info!(account = %target.uri, statuses = gone, servers = inboxes.len(), "account suspended");
    } else {
        tracing::info!(account = %target.uri, statuses = gone, "remote account suspended");
    }
    Ok(())
}

/// Undoes a `disable`, `silence` or `suspend` (`POST /api/v1/admin/accounts/:id/enable`,
/// `/unsilence`, `/unsuspend`). An unsuspended account starts again empty: what was removed stays
/// removed.
pub async fn undo(
    state: &AppState,
    target: &crate::storage::accounts::AccountRow,
    action: AccountAction,
) -> AppResult<()> {
    use crate::storage::accounts;
    match action {
        AccountAction::Disable => {
            let u = accounts::find_user_by_account(&state.db, target.id)
                .await?
                .ok_or_else(|| AppError::unprocessable("Only local logins can be enabled"))?;
            accounts::set_disabled(&state.db, u.id, false).await?;
        }
        AccountAction::Silence => accounts::set_silenced(&state.db, target.id, None).await?,
        AccountAction::Suspend => {
            let mut tx = state.db.begin().await?;
            accounts::set_suspended(&mut tx, target.id, None).await?;
            tx.commit().await?;
        }
        AccountAction::None => {}
    }
    Ok(())
}

/// Approves (`true`; the person is mailed that they can sign in) or rejects (`false`, deleting it)
/// a sign-up held for approval.
///
/// Errors: 422 when the account is not waiting for approval.
pub async fn decide_sign_up(
    state: &AppState,
    target: &crate::storage::accounts::AccountRow,
    approve: bool,
) -> AppResult<()> {
    use crate::storage::accounts;
    let user = accounts::find_user_by_account(&state.db, target.id)
        .await?
        .filter(|u| !u.approved)
        .ok_or_else(|| AppError::unprocessable("This account is not awaiting approval"))?;
    if approve {
        let mut tx = state.db.begin().await?;
        accounts::set_approved(&mut tx, user.id).await?;
        crate::service::mail::queue_approved(state, &mut tx, &target.username, &user.email).await?;
        tx.commit().await?;
        state.jobs_wakeup.notify_one();
    } else {
        accounts::delete_unapproved(&state.db, target.id).await?;
    }
    tracing::info!(account = %target.username, approve, "sign-up decided");
    Ok(())
}

/// The `Admin::Account` entities of these accounts, in order.
pub async fn admin_accounts(
    state: &AppState,
    rows: &[crate::storage::accounts::AccountRow],
) -> AppResult<Vec<crate::api_types::admin::AdminAccount>> {
    let rendered = crate::service::render::accounts(state, rows).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let users = crate::storage::accounts::find_users_by_accounts(&state.db, &ids).await?;
    Ok(rows
        .iter()
        .zip(rendered)
        .map(|(row, account)| {
            let user = users.iter().find(|u| u.account_id == row.id);
            crate::api_types::admin::AdminAccount::new(row, user, account)
        })
        .collect())
}

/// One account as an `Admin::Account`. Errors: 404 unknown ID.
pub async fn admin_account(
    state: &AppState,
    id: &str,
) -> AppResult<(
    crate::storage::accounts::AccountRow,
    crate::api_types::admin::AdminAccount,
)> {
    let row = find_account(state, id).await?;
    let entity = admin_accounts(state, std::slice::from_ref(&row))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    Ok((row, entity))
}

/// The account with this API ID. Errors: 404.
pub async fn find_account(
    state: &AppState,
    id: &str,
) -> AppResult<crate::storage::accounts::AccountRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    crate::storage::accounts::find_account(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The reporter's view of a report.
pub async fn report_entity(
    state: &AppState,
    r: &crate::storage::reports::ReportRow,
) -> AppResult<crate::api_types::admin::Report> {
    let target = crate::service::render::accounts_by_id(state, &[r.target_account_id])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(crate::api_types::admin::Report::new(r, target))
}

/// A report as moderators see it: both accounts, the statuses still there, the rules it cites.
pub async fn admin_report(
    state: &AppState,
    r: &crate::storage::reports::ReportRow,
) -> AppResult<crate::api_types::admin::AdminReport> {
    let mut ids = vec![r.account_id, r.target_account_id];
    ids.extend(r.assigned_account_id);
    ids.extend(r.action_taken_by_account_id);
    let rows = crate::storage::accounts::find_accounts(&state.db, &ids).await?;
    let entities = admin_accounts(state, &rows).await?;
    let pick = |id: i64| {
        rows.iter()
            .position(|a| a.id == id)
            .map(|i| entities[i].clone())
    };
    let mut found = statuses::find_many(&state.db, &r.status_ids.0).await?;
    found.sort_by_key(|s| r.status_ids.0.iter().position(|id| *id == s.id));
    let statuses = crate::service::render::statuses(state, None, found).await?;
    let all_rules = crate::service::instance::documents::rules(&state.config);
    let rules = r
        .rule_ids
        .0
        .iter()
        .filter_map(|id| all_rules.get((*id - 1).max(0) as usize).cloned())
        .collect();
    Ok(crate::api_types::admin::AdminReport {
        id: r.id.to_string(),
        action_taken: r.action_taken_at.is_some(),
        action_taken_at: r.action_taken_at,
        category: r.category.clone(),
        comment: r.comment.clone(),
        forwarded: r.forwarded,
        created_at: r.created_at,
        updated_at: r.updated_at,
        account: pick(r.account_id).ok_or(AppError::NotFound)?,
        target_account: pick(r.target_account_id).ok_or(AppError::NotFound)?,
        assigned_account: r.assigned_account_id.and_then(pick),
        action_taken_by_account: r.action_taken_by_account_id.and_then(pick),
        statuses,
        rules,
    })
}

/// A report by its API ID. Errors: 404.
pub async fn find_report(
    state: &AppState,
    id: &str,
) -> AppResult<crate::storage::reports::ReportRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    crate::storage::reports::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Deletes the caller's own account (Mastodon's `/settings/delete`): with the current password,
/// the account is removed as a suspension removes it — content gone, every known server sent a
/// `Delete` of the actor — and the login (user, e-mail address, tokens, sessions) is erased. The
/// name stays taken and the actor answers 410, so nobody else becomes this account.
///
/// Errors: 422 wrong password; 403 for admins (another admin must demote them first, so a server
/// is not left without one by accident).
pub async fn delete_own_account(
    state: &AppState,
    cu: &crate::service::oauth::CurrentUser,
    password: &str,
) -> AppResult<()> {
    crate::service::passwords::check_current(&cu.user, password).await?;
    if cu.user.role == "admin" {
        return Err(AppError::forbidden(
            "An admin account cannot delete itself; have it made a user first",
        ));
    }
    suspend(state, &cu.account).await?;
    crate::storage::accounts::delete_user(&state.db, cu.user.id).await?;
    tracing::info!(account = %cu.account.uri, "account deleted by its owner");
    Ok(())
}
