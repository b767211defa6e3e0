//! Account migration, a Rookery extension (docs/API.md, "Aliases and moves"): `/api/v1/aliases`
//! and `/api/v1/migration`. Mastodon offers the same on its settings pages only. These endpoints
//! stay writable while the account has moved (it is read-only otherwise).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::moves::{Alias, MigrationState};
use crate::error::AppResult;
use crate::http::extract::{Auth, Params};
use crate::service::activitypub::context::FedData;
use crate::service::moves as svc;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AliasParams {
    #[serde(default)]
    acct: String,
}

/// `GET /api/v1/aliases` (`read:accounts`) → `[Alias]`, oldest first.
pub async fn aliases(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Alias>>> {
    let cu = auth.require_user_even_moved("read:accounts")?;
    Ok(Json(svc::aliases(&state, &cu.account).await?))
}

/// `POST /api/v1/aliases` (`write:accounts`): `acct` (`user@domain`, resolved by WebFinger) →
/// `Alias`; 422 when nothing answers to it, it is the caller, or the caller has 10 already.
pub async fn add_alias(
    data: FedData,
    auth: Auth,
    Params { value: p, .. }: Params<AliasParams>,
) -> AppResult<Json<Alias>> {
    let cu = auth.require_user_even_moved("write:accounts")?;
    Ok(Json(svc::add_alias(&data, &cu.account, &p.acct).await?))
}

/// `DELETE /api/v1/aliases/:id` (`write:accounts`) → `{}`; 404 unless it is the caller's.
pub async fn remove_alias(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user_even_moved("write:accounts")?;
    svc::remove_alias(&state, &cu.account, &id).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/migration` (`read:accounts`) → `MigrationState`.
pub async fn show(State(state): State<AppState>, auth: Auth) -> AppResult<Json<MigrationState>> {
    let cu = auth.require_user_even_moved("read:accounts")?;
    Ok(Json(svc::migration_state(&state, &cu.account).await?))
}

#[derive(Deserialize)]
pub struct MoveParams {
    #[serde(default)]
    acct: String,
    #[serde(default)]
    password: String,
}

/// `POST /api/v1/migration` (`write:accounts`): `acct` (the new account, which must list this one
/// as an alias) and `password` (the current one) → `MigrationState`; 422 for a wrong password,
/// within 30 days of the last move, or a target that does not qualify.
pub async fn start(
    data: FedData,
    auth: Auth,
    Params { value: p, .. }: Params<MoveParams>,
) -> AppResult<Json<MigrationState>> {
    let cu = auth.require_user_even_moved("write:accounts")?;
    Ok(Json(
        svc::move_to(&data, &cu.account, &cu.user, &p.acct, &p.password).await?,
    ))
}

/// `DELETE /api/v1/migration` (`write:accounts`): lifts the redirect → `MigrationState`; 422 when
/// the account has not moved.
pub async fn undo(State(state): State<AppState>, auth: Auth) -> AppResult<Json<MigrationState>> {
    let cu = auth.require_user_even_moved("write:accounts")?;
    Ok(Json(svc::undo_move(&state, &cu.account).await?))
}
