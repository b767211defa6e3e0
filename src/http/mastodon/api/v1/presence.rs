//! `/api/v1/presence` (Rookery extension, docs/API.md, Conversations): who of the people one talks with is online.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::api_types::conversation::Presence;
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::conversations::{self as svc};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct PresenceParams {
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    id: Vec<String>,
}

/// `GET /api/v1/presence?id[]=…` (extension, `read:accounts`) → `[Presence]`, at most 40.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<PresenceParams>,
) -> AppResult<Json<Vec<Presence>>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(svc::presence(&state, cu.account.id, &p.id).await?))
}
