//! `/api/v2/admin/accounts` (docs.joinmastodon.org/methods/admin/accounts/#v2): the v1 list with
//! v2's filters, and every status unless one is asked for.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use crate::error::AppResult;
use crate::http::extract::{Auth, Params};
use crate::http::mastodon::api::v1::admin::accounts::{AccountQuery, list};
use crate::state::AppState;

/// `GET /api/v2/admin/accounts` (`admin:read:accounts`, staff) → `[Admin::Account]`, newest
/// first, paginated (limit 100, at most 200).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: q, .. }: Params<AccountQuery>,
) -> AppResult<Response> {
    list(&state, &auth, &uri, &q, None).await
}
