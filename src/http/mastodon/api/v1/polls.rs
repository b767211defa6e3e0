//! `/api/v1/polls` (docs.joinmastodon.org/methods/polls/).

use axum::Json;
use axum::extract::Path;
use serde::Deserialize;

use crate::api_types::status::Poll;
use crate::error::AppResult;
use crate::http::extract::{Auth, Params, lenient};
use crate::service::activitypub::context::FedData;
use crate::service::polls;

/// `GET /api/v1/polls/:id` (public, or `read:statuses` with a token).
pub async fn show(data: FedData, auth: Auth, Path(id): Path<String>) -> AppResult<Json<Poll>> {
    let viewer = auth.viewer_id("read:statuses")?;
    Ok(Json(polls::show(&data, viewer, &id).await?))
}

#[derive(Deserialize)]
pub struct VoteParams {
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    choices: Vec<String>,
}

/// `POST /api/v1/polls/:id/votes` (`write:statuses`): `choices[]`, option indices.
pub async fn vote(
    data: FedData,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<VoteParams>,
) -> AppResult<Json<Poll>> {
    let cu = auth.require_user("write:statuses")?;
    Ok(Json(polls::vote(&data, cu, &id, &p.choices).await?))
}
