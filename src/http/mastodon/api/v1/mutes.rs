//! `/api/v1/mutes` (docs.joinmastodon.org/methods/mutes/).

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params};
use crate::http::mastodon::api::v1::own_list;
use crate::service::relationships::AccountList;
use crate::state::AppState;

/// `GET /api/v1/mutes` (`read:mutes`).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:mutes")?;
    own_list(&state, cu.account.id, AccountList::Mutes, &uri, &p).await
}
