//! Account migration as Mastodon does it (docs/FEDERATION.md, "Account migration"; docs/API.md,
//! "Aliases and moves"): a user lists their other accounts as aliases (`alsoKnownAs`), so a
//! `Move` from one of them to here is accepted; a user moves away to an account that lists this
//! one, and their followers follow them there.
//!
//! Files: this one (aliases, moving away, undoing a move, the state the API shows), `inbound`
//! (a `Move` from another server), `job` (carrying local followers, blocks and mutes over, as a
//! durable job).

mod inbound;
mod job;

pub use inbound::receive_move;
pub use job::{MOVE_JOB, spawn_worker};

use activitypub_federation::fetch::object_id::ObjectId;
use chrono::{Duration, Utc};

use crate::api_types::moves::{AccountMigration, Alias, MigrationState};
use crate::error::{AppError, AppResult};
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::FedData;
use crate::state::AppState;
use crate::storage::account_moves::{self as store, AliasRow, MigrationRow};
use crate::storage::accounts::{self, AccountRow, UserRow};
use crate::storage::ids;

/// Time between two moves of one account (Mastodon's `AccountMigration::COOLDOWN_PERIOD`).
pub const COOLDOWN: Duration = Duration::days(30);
/// Most aliases one account keeps.
pub const MAX_ALIASES: usize = 10;

/// The migration state of local account `me`, as `GET /api/v1/migration` shows it: aliases,
/// where the account moved (if it did), past moves and when the next move is allowed.
///
/// Errors: database errors.
pub async fn migration_state(state: &AppState, me: &AccountRow) -> AppResult<MigrationState> {
    let aliases = store::aliases(&state.db, me.id).await?;
    let migrations = store::migrations(&state.db, me.id, 20).await?;
    let moved_to = match me.moved_to_account_id {
        Some(id) => crate::service::render::accounts_by_id(state, &[id])
            .await?
            .pop(),
        None => None,
    };
    Ok(MigrationState {
        moved_to,
        cooldown_until: migrations
            .first()
            .map(|m| m.created_at + COOLDOWN)
            .filter(|until| *until > Utc::now()),
        aliases: aliases.iter().map(Alias::from).collect(),
        migrations: migrations.iter().map(AccountMigration::from).collect(),
    })
}

/// The account `acct` names (`user@domain`, `@user@domain`, a local username or an actor URL),
/// resolved over the network when remote. With `fresh`, a remote actor is fetched again even if
/// known, so its current `alsoKnownAs` is what counts.
///
/// Errors: 422 when nothing answers to it.
async fn resolve(data: &FedData, acct: &str, fresh: bool) -> AppResult<AccountRow> {
    let acct = acct.trim();
    if acct.is_empty() || acct.len() > 2048 {
        return Err(AppError::unprocessable(
            "Validation failed: acct must name an account (user@domain)",
        ));
    }
    let not_found = || AppError::unprocessable(format!("Could not find the account {acct}"));
    let row = crate::service::resolve::account(data, acct, true)
        .await?
        .ok_or_else(not_found)?;
    if row.is_local() || !fresh {
        return Ok(row);
    }
    let id = ObjectId::<ApAccount>::parse(&row.uri).map_err(|_| not_found())?;
    match id.dereference_forced(data).await {
        Ok(a) => Ok(a.row),
        Err(e) => {
            tracing::info!(acct, error = %e, "could not fetch an account again");
            Err(not_found())
        }
    }
}

/// The actor URIs an account says are also theirs: a local account's aliases, a remote actor's
/// `alsoKnownAs` as last fetched.
pub async fn also_known_as(state: &AppState, a: &AccountRow) -> AppResult<Vec<String>> {
    if a.is_local() {
        Ok(store::aliases(&state.db, a.id)
            .await?
            .into_iter()
            .map(|x| x.uri)
            .collect())
    } else {
        Ok(store::also_known_as(&state.db, a.id).await?)
    }
}

/// Adds `acct` to `me`'s aliases and tells followers' servers (`Update` of the actor with the new
/// `alsoKnownAs`). Adding an alias already listed changes nothing.
///
/// Errors: 422 when `acct` names nothing, names `me`, or `me` has [`MAX_ALIASES`] already.
pub async fn add_alias(data: &FedData, me: &AccountRow, acct: &str) -> AppResult<Alias> {
    let alias = resolve(data, acct, false).await?;
    if alias.id == me.id {
        return Err(AppError::unprocessable(
            "Validation failed: an account cannot be its own alias",
        ));
    }
    let existing = store::aliases(&data.db, me.id).await?;
    if let Some(a) = existing.iter().find(|a| a.uri == alias.uri) {
        return Ok(Alias::from(a));
    }
    if existing.len() >= MAX_ALIASES {
        return Err(AppError::unprocessable(format!(
            "Validation failed: at most {MAX_ALIASES} aliases"
        )));
    }
    let row = AliasRow {
        id: ids::new_id(),
        account_id: me.id,
        acct: acct_of(data, &alias),
        uri: alias.uri.clone(),
        created_at: Utc::now(),
    };
    store::insert_alias(&data.db, &row).await?;
    crate::service::accounts::announce_profile(data, me.id).await?;
    Ok(Alias::from(&row))
}

/// `me`'s aliases, oldest first.
///
/// Errors: database errors.
pub async fn aliases(state: &AppState, me: &AccountRow) -> AppResult<Vec<Alias>> {
    Ok(store::aliases(&state.db, me.id)
        .await?
        .iter()
        .map(Alias::from)
        .collect())
}

/// Removes alias `id` of `me` and tells followers' servers.
///
/// Errors: 404 when `me` has no such alias.
pub async fn remove_alias(state: &AppState, me: &AccountRow, id: &str) -> AppResult<()> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    if !store::delete_alias(&state.db, me.id, id).await? {
        return Err(AppError::NotFound);
    }
    crate::service::accounts::announce_profile(state, me.id).await
}

/// `user@domain` of an account (a local one with this server's domain).
fn acct_of(state: &AppState, a: &AccountRow) -> String {
    crate::service::accounts::full_acct(
        &a.username,
        a.domain.as_deref(),
        &state.config.server.domain,
    )
}

/// Moves local account `me` (user `user`, who typed `password`) to `acct`: `me` redirects there
/// (`movedTo`, `Account.moved`) and becomes read-only; `Move` goes to the servers of its
/// followers and of those who block it (through the durable delivery queue), `Update` of the
/// actor to its followers; local followers are carried over by a job ([`MOVE_JOB`]).
///
/// Errors: 422 for a wrong password, within [`COOLDOWN`] of the last move, when `acct` names
/// nothing, `me`, an account that does not list `me` as an alias (fetched again to know), an
/// account that has itself moved or is suspended, or the account `me` already moved to.
pub async fn move_to(
    data: &FedData,
    me: &AccountRow,
    user: &UserRow,
    acct: &str,
    password: &str,
) -> AppResult<MigrationState> {
    crate::service::passwords::check_current(user, password).await?;
    if let Some(last) = store::migrations(&data.db, me.id, 1).await?.first() {
        let until = last.created_at + COOLDOWN;
        if until > Utc::now() {
            return Err(AppError::unprocessable(format!(
                "You moved recently; the next move is possible after {}",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )));
        }
    }
    let target = resolve(data, acct, true).await?;
    if target.id == me.id {
        return Err(AppError::unprocessable(
            "Validation failed: an account cannot move to itself",
        ));
    }
    if me.moved_to_account_id == Some(target.id) {
        return Err(AppError::unprocessable(
            "This account has already moved there",
        ));
    }
    if target.suspended_at.is_some() || target.moved_to_account_id.is_some() {
        return Err(AppError::unprocessable(
            "The new account has moved away or is suspended",
        ));
    }
    if !also_known_as(data, &target).await?.contains(&me.uri) {
        return Err(AppError::unprocessable(format!(
            "{} does not list this account as an alias; add {} there first",
            acct_of(data, &target),
            acct_of(data, me)
        )));
    }
    let pem = crate::service::activitypub::keys::public_key_pem(data, me).await?;
    let me_row = accounts::find_account(&data.db, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let followers = crate::storage::relationships::count_list(
        &data.db,
        crate::storage::relationships::AccountList::Followers,
        me.id,
    )
    .await?;
    let moved = AccountRow {
        moved_to_account_id: Some(target.id),
        ..me_row.clone()
    };
    let person = crate::service::activitypub::person_of(data, &moved, &pem).await?;
    let now = Utc::now();
    let update = crate::federation::objects::update_actor(&person, ids::new_id());
    let activity =
        crate::federation::objects::move_activity(&me_row.uri, &target.uri, ids::new_id());
    let mut inboxes =
        crate::storage::relationships::remote_follower_inboxes(&data.db, me.id).await?;
    let update_inboxes = inboxes.clone();
    inboxes.extend(store::remote_blocker_inboxes(&data.db, me.id).await?);
    inboxes.sort();
    inboxes.dedup();
    let mut tx = data.db.begin().await?;
    store::insert_migration(
        &mut tx,
        &MigrationRow {
            id: ids::new_id(),
            account_id: me.id,
            target_account_id: Some(target.id),
            acct: acct_of(data, &target),
            followers_count: followers,
            created_at: now,
        },
    )
    .await?;
    store::set_moved_to(&mut tx, me.id, Some(target.id)).await?;
    if !update_inboxes.is_empty() {
        crate::service::delivery::enqueue(&mut tx, &update, me.id, &update_inboxes, None).await?;
    }
    if !inboxes.is_empty() {
        crate::service::delivery::enqueue(&mut tx, &activity, me.id, &inboxes, None).await?;
    }
    job::enqueue(&mut tx, me.id, target.id).await?;
    tx.commit().await?;
    data.delivery_wakeup.notify_one();
    data.jobs_wakeup.notify_waiters();
    tracing::info!(account = me.id, target = %target.uri, "account moved");
    let me_now = accounts::find_account(&data.db, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    migration_state(data, &me_now).await
}

/// Lifts `me`'s redirect (Mastodon's "cancel redirect"): the account is usable again and its
/// actor no longer names `movedTo` (followers' servers get the `Update`). Followers already
/// carried to the other account stay there; the cooldown still counts from the move.
///
/// Errors: 422 when `me` has not moved.
pub async fn undo_move(state: &AppState, me: &AccountRow) -> AppResult<MigrationState> {
    if me.moved_to_account_id.is_none() {
        return Err(AppError::unprocessable("This account has not moved"));
    }
    let mut tx = state.db.begin().await?;
    store::set_moved_to(&mut tx, me.id, None).await?;
    tx.commit().await?;
    crate::service::accounts::announce_profile(state, me.id).await?;
    let me_now = accounts::find_account(&state.db, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    migration_state(state, &me_now).await
}

/// Errors: 403 when local account `a` has moved (it is read-only until the move is undone).
pub fn ensure_not_moved(a: &AccountRow) -> AppResult<()> {
    if a.moved_to_account_id.is_some() {
        return Err(AppError::forbidden(
            "This account has moved; undo the move to use it again",
        ));
    }
    Ok(())
}
