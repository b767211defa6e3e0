//! `POST /api/v1/shorts` (Rookery's extension; docs/API.md, Shorts): `POST /api/v1/statuses` with
//! `short` set, and the feed parameters the shorts timelines share. The feeds themselves are served
//! by `timelines` (`/api/v1/timelines/shorts`), `tags` (`/api/v1/tags/:name/shorts`) and `accounts`
//! (`/api/v1/accounts/:id/shorts`); a watch is `POST /api/v1/statuses/:id/view` in `statuses`.

use axum::Json;
use axum::http::HeaderMap;
use serde::Deserialize;

use crate::api_types::status::Status;
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient};
use crate::service::activitypub::context::FedData;

#[derive(Deserialize)]
pub struct FeedParams {
    #[serde(flatten)]
    pub(crate) page: PageParams,
    pub(crate) feed: Option<String>,
    /// `for_you` only: where in the ranking this page starts.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub(crate) offset: Option<i64>,
}

/// `POST /api/v1/shorts` (`write:statuses`): `POST /api/v1/statuses` with `short` set. Errors:
/// 422 unless `media_ids` is one processed vertical (or square) video of at most 180 s.
pub async fn create(
    data: FedData,
    auth: Auth,
    headers: HeaderMap,
    Params { value: mut p, .. }: Params<super::statuses::StatusParams>,
) -> AppResult<Json<Status>> {
    p.short = true;
    super::statuses::post_status(data, auth, headers, p).await
}
