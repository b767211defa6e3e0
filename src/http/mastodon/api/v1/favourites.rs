//! `/api/v1/favourites` (docs.joinmastodon.org/methods/favourites/).

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params};
use crate::http::mastodon::api::v1::acted_on;
use crate::service::statuses::ActionTable;
use crate::state::AppState;

/// `GET /api/v1/favourites` (`read:favourites`).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    acted_on(
        state,
        auth,
        uri,
        p,
        ActionTable::Favourites,
        "read:favourites",
    )
    .await
}
