//! `/api/v1/rooms…` (Rookery extension; docs/API.md, "Rooms"): group chats with roles. Reading
//! needs `read:statuses`; posting `write:statuses`; everything else `write:conversations`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::room::{Room, RoomMember, RoomMessage};
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::activitypub::context::FedData;
use crate::service::rooms::{self as svc, RoomFields};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct RoomParams {
    name: Option<String>,
    topic: Option<String>,
    avatar_media_id: Option<String>,
    /// Handles to invite (create only).
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    invite: Vec<String>,
}

impl RoomParams {
    fn fields(self) -> (RoomFields, Vec<String>) {
        (
            RoomFields {
                name: self.name,
                topic: self.topic,
                avatar_media_id: self.avatar_media_id,
            },
            self.invite,
        )
    }
}

/// `GET /api/v1/rooms` → `[Room]`: the caller's rooms and invitations, most recently active first.
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Room>>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(svc::index(&state, cu.account.id).await?))
}

/// `POST /api/v1/rooms` (`name`, `topic`, `avatar_media_id`, `invite[]`) → `Room`.
pub async fn create(
    data: FedData,
    auth: Auth,
    Params { value: p, .. }: Params<RoomParams>,
) -> AppResult<Json<Room>> {
    let cu = auth.require_user("write:conversations")?;
    let (fields, invite) = p.fields();
    Ok(Json(svc::create(&data, &cu, fields, &invite).await?))
}

/// `GET /api/v1/rooms/:id` → `Room`; 404 unless the caller is in it or invited.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Room>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(svc::show(&state, cu.account.id, &id).await?))
}

/// `PATCH /api/v1/rooms/:id` (`name`, `topic`, `avatar_media_id`; owner or admin) → `Room`.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<RoomParams>,
) -> AppResult<Json<Room>> {
    let cu = auth.require_user("write:conversations")?;
    let (fields, _) = p.fields();
    Ok(Json(svc::update(&state, cu.account.id, &id, fields).await?))
}

/// `DELETE /api/v1/rooms/:id` (owner) → `{}`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:conversations")?;
    svc::delete(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/rooms/:id/members` → `[RoomMember]`.
pub async fn members(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<RoomMember>>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(svc::members(&state, cu.account.id, &id).await?))
}

#[derive(Deserialize)]
pub struct InviteParams {
    /// `user`, `@user` or `user@domain`.
    acct: Option<String>,
}

/// `POST /api/v1/rooms/:id/invitations` (`acct`; owner or admin) → `Room`.
pub async fn invite(
    data: FedData,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<InviteParams>,
) -> AppResult<Json<Room>> {
    let cu = auth.require_user("write:conversations")?;
    let acct = p.acct.unwrap_or_default();
    Ok(Json(svc::invite(&data, cu.account.id, &id, &acct).await?))
}

/// `POST /api/v1/rooms/:id/accept` → `Room`.
pub async fn accept(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Room>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(svc::accept(&state, cu.account.id, &id).await?))
}

/// `POST /api/v1/rooms/:id/decline` and `POST /api/v1/rooms/:id/leave` → `{}`.
pub async fn leave(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:conversations")?;
    svc::leave(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}

/// `DELETE /api/v1/rooms/:id/members/:account_id` (owner or admin) → `{}`.
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, account)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:conversations")?;
    svc::remove(&state, cu.account.id, &id, &account).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub struct RoleParams {
    role: Option<String>,
}

/// `POST /api/v1/rooms/:id/members/:account_id/role` (`role`: `owner`, `admin`, `member`) →
/// `RoomMember`.
pub async fn role(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, account)): Path<(String, String)>,
    Params { value: p, .. }: Params<RoleParams>,
) -> AppResult<Json<RoomMember>> {
    let cu = auth.require_user("write:conversations")?;
    let role = p.role.unwrap_or_default();
    Ok(Json(
        svc::set_role(&state, cu.account.id, &id, &account, role.trim()).await?,
    ))
}

#[derive(Deserialize)]
pub struct SilenceParams {
    /// Seconds (default 3600).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    duration: Option<i64>,
}

/// `POST /api/v1/rooms/:id/members/:account_id/mute` (`duration` in seconds, default one hour)
/// → `RoomMember`.
pub async fn silence(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, account)): Path<(String, String)>,
    Params { value: p, .. }: Params<SilenceParams>,
) -> AppResult<Json<RoomMember>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(
        svc::silence(
            &state,
            cu.account.id,
            &id,
            &account,
            Some(p.duration.unwrap_or(3600)),
        )
        .await?,
    ))
}

/// `POST /api/v1/rooms/:id/members/:account_id/unmute` → `RoomMember`.
pub async fn unsilence(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, account)): Path<(String, String)>,
) -> AppResult<Json<RoomMember>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(
        svc::silence(&state, cu.account.id, &id, &account, None).await?,
    ))
}

/// `POST /api/v1/rooms/:id/mute` → `Room`.
pub async fn mute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Room>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(svc::mute(&state, cu.account.id, &id, true).await?))
}

/// `POST /api/v1/rooms/:id/unmute` → `Room`.
pub async fn unmute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Room>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(svc::mute(&state, cu.account.id, &id, false).await?))
}

#[derive(Deserialize)]
pub struct ReadParams {
    last_read_id: Option<String>,
}

/// `POST /api/v1/rooms/:id/read` (`last_read_id`, default the newest) → `Room`.
pub async fn read(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ReadParams>,
) -> AppResult<Json<Room>> {
    let cu = auth.require_user("write:conversations")?;
    Ok(Json(
        svc::read(&state, cu.account.id, &id, p.last_read_id.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
pub struct MessagesParams {
    q: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// `GET /api/v1/rooms/:id/messages` (`q`, `max_id`, `since_id`, `min_id`, `limit` ≤ 80) →
/// `[RoomMessage]`, newest first, with a `Link` header.
pub async fn messages(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<MessagesParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:statuses")?;
    let page = p.page.page_with(40, 80);
    let q = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let rows = svc::messages(&state, cu.account.id, &id, q, &page).await?;
    let ids: Vec<i64> = rows.iter().filter_map(|m| m.id.parse().ok()).collect();
    Ok(paged(&state.config.base_url(), &uri, rows, &ids))
}

#[derive(Deserialize)]
pub struct PostParams {
    text: Option<String>,
    in_reply_to_id: Option<String>,
}

/// `POST /api/v1/rooms/:id/messages` (`text`, `in_reply_to_id`) → `RoomMessage`.
pub async fn post(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<PostParams>,
) -> AppResult<Json<RoomMessage>> {
    let cu = auth.require_user("write:statuses")?;
    Ok(Json(
        svc::post(
            &state,
            &cu,
            &id,
            p.text.as_deref().unwrap_or(""),
            p.in_reply_to_id.as_deref(),
        )
        .await?,
    ))
}

/// `DELETE /api/v1/rooms/:id/messages/:message_id` → `{}`.
pub async fn delete_message(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, message)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:statuses")?;
    svc::delete_message(&state, cu.account.id, &id, &message).await?;
    Ok(Json(json!({})))
}
