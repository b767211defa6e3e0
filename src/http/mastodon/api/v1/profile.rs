//! `/api/v1/profile/*` (docs.joinmastodon.org/methods/profile/, Mastodon 4.2).

use axum::Json;
use axum::extract::State;

use crate::api_types::CredentialAccount;
use crate::error::AppResult;
use crate::http::extract::Auth;
use crate::service::accounts as svc;
use crate::service::media::ProfileImage;
use crate::service::render;
use crate::state::AppState;

async fn remove(
    state: AppState,
    auth: Auth,
    which: ProfileImage,
) -> AppResult<Json<CredentialAccount>> {
    let cu = auth.require_user("write:accounts")?;
    svc::remove_profile_image(&state, &cu.account, which).await?;
    let (account, user) = svc::reload(&state, cu.account.id, cu.user.id).await?;
    Ok(Json(
        render::credential_account(&state, &account, &user).await?,
    ))
}

/// `DELETE /api/v1/profile/avatar` (`write:accounts`) → `CredentialAccount` with the default
/// avatar; also when there was none.
pub async fn delete_avatar(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<CredentialAccount>> {
    remove(state, auth, ProfileImage::Avatar).await
}

/// `DELETE /api/v1/profile/header` (`write:accounts`) → `CredentialAccount` with the default
/// header; also when there was none.
pub async fn delete_header(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<CredentialAccount>> {
    remove(state, auth, ProfileImage::Header).await
}
