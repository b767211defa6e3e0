//! `/api/v1/statuses/*` (docs.joinmastodon.org/methods/statuses/), with Rookery's
//! `GET /api/v1/statuses/:id/receipts` (docs/API.md, Conversations), `/deliveries` and `/view`
//! (docs/API.md, Shorts).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::Deserialize;

use crate::api_types::conversation::MessageReceipt;
use crate::api_types::status::{Context, Status, StatusEdit, StatusSource};
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::activitypub::context::FedData;
use crate::service::statuses::{self as svc, CreateStatus, EditStatus};
use crate::service::{filters, render};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct StatusParams {
    #[serde(default)]
    status: String,
    visibility: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    in_reply_to_id: Option<i64>,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    sensitive: bool,
    language: Option<String>,
    /// Absent on an edit: keep the attachments.
    #[serde(default, deserialize_with = "lenient::opt_one_or_many")]
    media_ids: Option<Vec<String>>,
    poll: Option<serde_json::Value>,
    scheduled_at: Option<String>,
    /// Mastodon 4.5's quote posts.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    quoted_status_id: Option<i64>,
    quote_approval_policy: Option<String>,
    /// Rookery's extension: post as a short (one vertical video; docs/API.md, Shorts).
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(super) short: bool,
}

/// `POST /api/v1/statuses` (`write:statuses`). Honours the `Idempotency-Key` header. With
/// `scheduled_at`, answers the `ScheduledStatus` instead of a `Status`.
pub async fn create(
    data: FedData,
    auth: Auth,
    headers: HeaderMap,
    Params { value: p, .. }: Params<StatusParams>,
) -> AppResult<Response> {
    use axum::response::IntoResponse;
    if p.scheduled_at.as_deref().is_some_and(|s| !s.is_empty()) {
        let cu = auth.require_user("write:statuses")?;
        let c = create_params(&auth, &headers, p)?;
        return Ok(Json(crate::service::scheduled::create(&data, cu, c).await?).into_response());
    }
    Ok(post_status(data, auth, headers, p).await?.into_response())
}

/// The service's input from the request: parameters, the `Idempotency-Key` header, the app.
fn create_params(auth: &Auth, headers: &HeaderMap, p: StatusParams) -> AppResult<CreateStatus> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(128).collect::<String>())
        .filter(|s| !s.is_empty());
    Ok(CreateStatus {
        text: p.status,
        visibility: p.visibility.filter(|v| !v.is_empty()),
        in_reply_to_id: p.in_reply_to_id,
        spoiler_text: p.spoiler_text,
        sensitive: p.sensitive,
        language: p.language.filter(|l| !l.is_empty()),
        media_ids: p.media_ids.unwrap_or_default(),
        poll: crate::service::polls::params(p.poll.as_ref())?,
        scheduled_at: p.scheduled_at.filter(|s| !s.is_empty()),
        idempotency_key: key,
        application_id: auth.0.as_ref().map(|p| p.application_id),
        in_reply_to_story: None,
        short: p.short,
        quoted_status_id: p.quoted_status_id,
        quote_approval_policy: p.quote_approval_policy.filter(|q| !q.is_empty()),
    })
}

pub(super) async fn post_status(
    data: FedData,
    auth: Auth,
    headers: HeaderMap,
    p: StatusParams,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:statuses")?;
    let c = create_params(&auth, &headers, p)?;
    let row = svc::create(&data, cu, c).await?;
    Ok(Json(render::status(&data, Some(cu.account.id), row).await?))
}

/// The caller reading statuses: anonymous, or a token granting `read:statuses`.
fn viewer(auth: &Auth) -> AppResult<Option<i64>> {
    auth.viewer_id("read:statuses")
}

/// `GET /api/v1/statuses/:id` (public, or `read:statuses` with a token).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let viewer = viewer(&auth)?;
    let row = svc::visible(&state, viewer, &id).await?;
    Ok(Json(render::status(&state, viewer, row).await?))
}

#[derive(serde::Deserialize, Default)]
pub struct DeleteParams {
    #[serde(default, deserialize_with = "crate::http::extract::lenient::opt_bool")]
    delete_media: Option<bool>,
}

/// `DELETE /api/v1/statuses/:id` (`write:statuses`): returns the status with its source `text`.
/// Its media stay a day for a redraft, unless `delete_media=true` deletes them at once.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    crate::http::extract::Params { value: p, .. }: crate::http::extract::Params<DeleteParams>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:statuses")?;
    let deleted = svc::delete(&state, cu, &id).await?;
    if p.delete_media == Some(true) {
        let ids: Vec<String> = deleted
            .media_attachments
            .iter()
            .map(|m| m.id.clone())
            .collect();
        crate::service::media::delete_detached(&state, cu.account.id, &ids).await?;
    }
    Ok(Json(deleted))
}

/// `PUT /api/v1/statuses/:id` (`write:statuses`).
pub async fn edit(
    data: FedData,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<StatusParams>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:statuses")?;
    let row = svc::edit(
        &data,
        cu,
        &id,
        EditStatus {
            text: p.status,
            spoiler_text: p.spoiler_text,
            sensitive: p.sensitive,
            language: p.language.filter(|l| !l.is_empty()),
            media_ids: p.media_ids,
            poll: crate::service::polls::params(p.poll.as_ref())?,
        },
    )
    .await?;
    Ok(Json(render::status(&data, Some(cu.account.id), row).await?))
}

/// `GET /api/v1/statuses/:id/history` (public, or `read:statuses` with a token).
pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<StatusEdit>>> {
    Ok(Json(svc::history(&state, viewer(&auth)?, &id).await?))
}

/// `GET /api/v1/statuses/:id/source` (`read:statuses`, own statuses).
pub async fn source(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<StatusSource>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(svc::source(&state, cu, &id).await?))
}

/// `GET /api/v1/statuses/:id/context` (public, or `read:statuses` with a token).
pub async fn context(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Context>> {
    let v = viewer(&auth)?;
    let mut c = svc::context(&state, v, &id).await?;
    c.ancestors = filters::statuses(&state, v, "thread", c.ancestors).await?;
    c.descendants = filters::statuses(&state, v, "thread", c.descendants).await?;
    Ok(Json(c))
}

pub async fn favourite(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:favourites")?;
    Ok(Json(svc::favourite(&state, cu, &id, true).await?))
}

pub async fn unfavourite(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:favourites")?;
    Ok(Json(svc::favourite(&state, cu, &id, false).await?))
}

#[derive(Deserialize, Default)]
pub struct ReblogParams {
    visibility: Option<String>,
}

/// `POST /api/v1/statuses/:id/reblog` (`write:statuses`).
pub async fn reblog(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ReblogParams>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:statuses")?;
    Ok(Json(
        svc::reblog(
            &state,
            cu,
            &id,
            p.visibility.as_deref().filter(|v| !v.is_empty()),
        )
        .await?,
    ))
}

pub async fn unreblog(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:statuses")?;
    Ok(Json(svc::unreblog(&state, cu, &id).await?))
}

pub async fn bookmark(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:bookmarks")?;
    Ok(Json(svc::bookmark(&state, cu, &id, true).await?))
}

pub async fn unbookmark(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:bookmarks")?;
    Ok(Json(svc::bookmark(&state, cu, &id, false).await?))
}

pub async fn pin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(svc::pin(&state, cu, &id, true).await?))
}

pub async fn unpin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(svc::pin(&state, cu, &id, false).await?))
}

pub async fn mute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:mutes")?;
    Ok(Json(svc::mute_thread(&state, cu, &id, true).await?))
}

pub async fn unmute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:mutes")?;
    Ok(Json(svc::mute_thread(&state, cu, &id, false).await?))
}

async fn actors(
    state: AppState,
    auth: Auth,
    id: String,
    uri: Uri,
    page: PageParams,
    reblogs: bool,
) -> AppResult<Response> {
    let (accounts, ids) = svc::actors(
        &state,
        viewer(&auth)?,
        &id,
        reblogs,
        &page.page_with(40, 80),
    )
    .await?;
    Ok(paged(&state.config.base_url(), &uri, accounts, &ids))
}

/// `GET /api/v1/statuses/:id/favourited_by`.
pub async fn favourited_by(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    actors(state, auth, id, uri, p, false).await
}

/// `GET /api/v1/statuses/:id/reblogged_by`.
pub async fn reblogged_by(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    actors(state, auth, id, uri, p, true).await
}

/// `GET /api/v1/statuses/:id/deliveries` (Rookery extension, `read:statuses`, author only) →
/// `[Delivery]`: for each server the status was sent to, the delivery's state, its next try, the
/// server's health and a one-sentence `summary` (docs/API.md).
pub async fn deliveries(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<crate::api_types::delivery::Delivery>>> {
    let cu = auth.require_user("read:statuses")?;
    let row = svc::visible(&state, Some(cu.account.id), &id).await?;
    if row.account_id != cu.account.id {
        return Err(crate::error::AppError::forbidden(
            "Only the author can see where a status was delivered",
        ));
    }
    Ok(Json(
        crate::service::delivery::of_status(&state, row.id).await?,
    ))
}

/// `GET /api/v1/statuses/:id/receipts` (extension, `read:statuses`) → `[MessageReceipt]` for one
/// of the caller's direct messages; 404 for anything else.
pub async fn receipts(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<MessageReceipt>>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(
        crate::service::conversations::receipts(&state, cu.account.id, &id).await?,
    ))
}

#[derive(Deserialize)]
pub struct ViewParams {
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    watched_seconds: Option<f64>,
}

/// `POST /api/v1/statuses/:id/view` (`write:statuses`) {watched_seconds} → the `Status` with its
/// `views_count`. Errors: 404 not visible; 422 not a short or a bad `watched_seconds`.
pub async fn view(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ViewParams>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:statuses")?;
    let row =
        crate::service::shorts::view(&state, cu, &id, p.watched_seconds.unwrap_or(0.0)).await?;
    Ok(Json(
        render::status(&state, Some(cu.account.id), row).await?,
    ))
}

#[derive(serde::Deserialize)]
pub struct ManyParams {
    #[serde(
        default,
        deserialize_with = "crate::http::extract::lenient::one_or_many"
    )]
    id: Vec<String>,
}

/// `GET /api/v1/statuses?id[]=…` (public, or `read:statuses` with a token) → `[Status]`: those the
/// caller may see, in the order asked; 422 past 20 IDs.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    crate::http::extract::Params { value: p, .. }: crate::http::extract::Params<ManyParams>,
) -> AppResult<Json<Vec<Status>>> {
    let viewer = viewer(&auth)?;
    let rows = svc::visible_many(&state, viewer, &p.id).await?;
    Ok(Json(render::statuses(&state, viewer, rows).await?))
}

/// Parses a status ID from the path (404 when it is not one).
fn status_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| crate::error::AppError::NotFound)
}

/// `GET /api/v1/statuses/:id/quotes` (public, or `read:statuses` with a token) → `[Status]`: the
/// statuses quoting it with an approved quote that the caller may see, newest first, with `Link`
/// pagination by status ID (Mastodon 4.5, docs.joinmastodon.org/methods/statuses/#quotes).
pub async fn quotes(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: Uri,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let viewer = viewer(&auth)?;
    let rows =
        crate::service::quotes::quoting(&state, viewer, status_id(&id)?, &p.page_with(20, 40))
            .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let items = render::statuses(&state, viewer, rows).await?;
    Ok(paged(&state.config.base_url(), &uri, items, &ids))
}

/// `POST /api/v1/statuses/:id/quotes/:quoting_status_id/revoke` (`write:statuses`, the quoted
/// status's author) → the quoting `Status`, its quote now `revoked`. 404 for anything else.
pub async fn revoke_quote(
    data: FedData,
    auth: Auth,
    Path((id, quoting)): Path<(String, String)>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:statuses")?;
    let row =
        crate::service::quotes::revoke(&data, &cu.account, status_id(&id)?, status_id(&quoting)?)
            .await?;
    Ok(Json(render::status(&data, Some(cu.account.id), row).await?))
}

#[derive(Deserialize)]
pub struct InteractionPolicyParams {
    quote_approval_policy: Option<String>,
}

/// `PUT /api/v1/statuses/:id/interaction_policy` (`write:statuses`, author only)
/// {quote_approval_policy: public | followers | nobody} → the `Status`. 404 for another's status,
/// 422 for an unknown policy.
pub async fn interaction_policy(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<InteractionPolicyParams>,
) -> AppResult<Json<Status>> {
    let cu = auth.require_user("write:statuses")?;
    let row = crate::service::quotes::set_policy(
        &state,
        &cu.account,
        status_id(&id)?,
        p.quote_approval_policy.as_deref(),
    )
    .await?;
    Ok(Json(
        render::status(&state, Some(cu.account.id), row).await?,
    ))
}
