//! ActivityPub documents of local accounts and statuses, with content negotiation: clients asking
//! for `application/activity+json` or `application/ld+json` get JSON-LD, browsers get HTML.
//! Routes: `/users/:name` (and `/@:name`), `/users/:name/outbox`, `/followers`, `/following`,
//! `/collections/featured`, `/users/:name/statuses/:id` (and `/activity`). With
//! `federation.authorized_fetch` every document but the instance actor needs a signed request
//! ([`ApGet::authorize`]).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE, LOCATION, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::service::activitypub::context::FedData;
use crate::service::activitypub::signed_fetch::GetRequest;
use crate::service::activitypub::{self as svc, CollectionQuery};
use crate::state::AppState;

/// The media type of documents Rookery serves.
pub const ACTIVITY_JSON: &str = "application/activity+json; charset=utf-8";

/// True when the client asked for ActivityPub JSON (`application/activity+json`, or
/// `application/ld+json` with or without the ActivityStreams profile).
pub fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|a| a.contains("application/activity+json") || a.contains("application/ld+json"))
}

/// A JSON-LD document with the ActivityPub content type and `Vary: Accept`.
pub fn activity_json(doc: Value) -> Response {
    let mut r = Json(doc).into_response();
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ACTIVITY_JSON));
    r.headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    r
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r.headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    r
}

/// An ActivityPub GET: the federation data and the request, so the handler can ask who signed it.
pub struct ApGet {
    pub data: FedData,
    pub request: GetRequest,
}

impl axum::extract::FromRequestParts<AppState> for ApGet {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, AppError> {
        let data = FedData::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| AppError::Internal(anyhow::anyhow!(why)))?;
        Ok(ApGet {
            data,
            request: GetRequest {
                method: parts.method.clone(),
                uri: parts.uri.clone(),
                headers: parts.headers.clone(),
            },
        })
    }
}

impl ApGet {
    /// Authorized fetch (`federation.authorized_fetch`, Mastodon's "secure mode"): when on, a
    /// document may only be fetched with an HTTP signature of an actor whose server is not
    /// suspended here. Off, every request passes. The instance actor (`/actor`) is always public,
    /// so that other servers can check its signatures on their own fetches.
    ///
    /// Errors: 401 without a signature or with one that does not verify; 403 for a suspended
    /// server.
    pub async fn authorize(&self) -> AppResult<()> {
        if !self.data.config.federation.authorized_fetch {
            return Ok(());
        }
        let signer = self.request.signer(&self.data).await.map_err(|e| {
            tracing::info!(path = %self.request.uri.path(), error = %e, "refused a signed fetch");
            AppError::unauthorized("The HTTP signature is not valid")
        })?;
        let signer = signer.ok_or_else(|| {
            AppError::unauthorized("This server only answers signed requests (authorized fetch)")
        })?;
        let host = url::Url::parse(&signer.uri)
            .ok()
            .and_then(|u| crate::federation::origin::authority(&u))
            .unwrap_or_default();
        if crate::service::moderation::domain_suspended(&self.data, &host).await? {
            return Err(AppError::forbidden("This server is blocked here"));
        }
        Ok(())
    }
}

async fn actor_json(state: &AppState, name: &str) -> AppResult<Response> {
    let person = svc::actor(state, name).await?;
    Ok(activity_json(svc::with_context(person)?))
}

/// `GET /users/:name`: the actor for ActivityPub clients; browsers go to the profile page.
pub async fn user(get: ApGet, Path(name): Path<String>) -> AppResult<Response> {
    let state: &AppState = &get.data;
    if wants_activity_json(&get.request.headers) {
        get.authorize().await?;
        return actor_json(state, &name).await;
    }
    let a = svc::local_account(state, &name).await?;
    Ok(redirect(a.url.as_deref().unwrap_or(&a.uri)))
}

/// `GET /@:name`: the profile page, or the actor for ActivityPub clients.
pub async fn profile(get: ApGet, Path(at_name): Path<String>) -> AppResult<Response> {
    let state: &AppState = &get.data;
    let name = at_name.strip_prefix('@').ok_or(AppError::NotFound)?;
    if wants_activity_json(&get.request.headers) {
        get.authorize().await?;
        return actor_json(state, name).await;
    }
    let mut r =
        crate::http::web::profile(state, &get.request.headers, &get.request.uri, name).await;
    r.headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    Ok(r)
}

/// A status document for a fetch: public ones as they are, others (served only to signed
/// requests from their audience) marked `Cache-Control: private, no-store`.
fn status_json((doc, public): (Value, bool)) -> Response {
    let mut r = activity_json(doc);
    if !public {
        r.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    r
}

/// `GET /@:name/:id`: a status's page URL. ActivityPub clients get the Note (see
/// [`svc::note_document`] for who may read which); browsers the web app's thread page.
pub async fn status_page(
    get: ApGet,
    Path((at_name, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let data = &get.data;
    let name = at_name.strip_prefix('@').ok_or(AppError::NotFound)?;
    if wants_activity_json(&get.request.headers) {
        get.authorize().await?;
        return Ok(status_json(
            svc::note_document(data, name, &id, &get.request).await?,
        ));
    }
    let mut r =
        crate::http::web::thread(data, &get.request.headers, &get.request.uri, name, &id).await;
    r.headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    Ok(r)
}

/// `GET /users/:name/statuses/:id`: the Note (public and unlisted statuses to anyone; others to
/// signed requests from their audience, see [`svc::note_document`]).
pub async fn status(get: ApGet, Path((name, id)): Path<(String, String)>) -> AppResult<Response> {
    let data = &get.data;
    if !wants_activity_json(&get.request.headers) {
        let s = svc::public_status(data, &name, &id).await?;
        return Ok(redirect(s.url.as_deref().unwrap_or(&s.uri)));
    }
    get.authorize().await?;
    Ok(status_json(
        svc::note_document(data, &name, &id, &get.request).await?,
    ))
}

/// `GET /users/:name/statuses/:id/activity`: the `Create` of a status (same rules as the Note).
pub async fn status_activity(
    get: ApGet,
    Path((name, id)): Path<(String, String)>,
) -> AppResult<Response> {
    get.authorize().await?;
    Ok(status_json(
        svc::create_document(&get.data, &name, &id, &get.request).await?,
    ))
}

/// `GET /users/:name/outbox` (`?page=true`, `max_id`, `min_id`).
pub async fn outbox(
    get: ApGet,
    Path(name): Path<String>,
    Query(q): Query<CollectionQuery>,
) -> AppResult<Response> {
    get.authorize().await?;
    Ok(activity_json(svc::outbox(&get.data, &name, &q).await?))
}

#[derive(Deserialize)]
pub struct PageNumber {
    page: Option<i64>,
}

/// `GET /users/:name/followers` (`?page=N`).
pub async fn followers(
    get: ApGet,
    Path(name): Path<String>,
    Query(q): Query<PageNumber>,
) -> AppResult<Response> {
    get.authorize().await?;
    Ok(activity_json(
        svc::follow_collection(&get.data, &name, true, q.page).await?,
    ))
}

/// `GET /users/:name/following` (`?page=N`).
pub async fn following(
    get: ApGet,
    Path(name): Path<String>,
    Query(q): Query<PageNumber>,
) -> AppResult<Response> {
    get.authorize().await?;
    Ok(activity_json(
        svc::follow_collection(&get.data, &name, false, q.page).await?,
    ))
}

/// `GET /users/:name/collections/featured`: pinned posts.
pub async fn featured(get: ApGet, Path(name): Path<String>) -> AppResult<Response> {
    get.authorize().await?;
    Ok(activity_json(svc::featured(&get.data, &name).await?))
}

/// Largest activity accepted by the inbox, in bytes.
const INBOX_MAX_BYTES: usize = 1024 * 1024;

/// `GET /stories/:name/:id`: a live local story's `Story` document, for a request carrying the
/// bearer capability its `Add` gave followers' servers (Pixelfed's fetch), or signed (HTTP
/// signature) by a follower or by a server where someone follows the author; 404 otherwise, and
/// once the story has expired. A signature that does not verify answers 401.
pub async fn story(
    data: crate::service::activitypub::context::FedData,
    Path((name, id)): Path<(String, String)>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> AppResult<Response> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let signer = if bearer.is_some() {
        None
    } else {
        crate::service::activitypub::signed_fetch::signer(&data, &method, &uri, &headers)
            .await
            .map_err(|e| {
                tracing::info!(error = %e, "refused a signed story fetch");
                AppError::Unauthorized("The HTTP signature is not valid".into())
            })?
    };
    let who = crate::service::stories::StoryFetch {
        bearer,
        signer: signer.as_ref(),
    };
    let doc = crate::service::stories::fetch(&data, &name, &id, who).await?;
    let mut r = activity_json(doc);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

/// `GET /rooms/:id`: a room's `Group` document (docs/FEDERATION.md, "Rooms"), only for a fetch
/// signed by an actor on a server where a member or invitee of the room lives; 404 otherwise.
/// A signature that does not verify answers 401.
pub async fn room(get: ApGet, Path(id): Path<String>) -> AppResult<Response> {
    let signer = get.request.signer(&get.data).await.map_err(|e| {
        tracing::info!(error = %e, "refused a signed room fetch");
        AppError::Unauthorized("The HTTP signature is not valid".into())
    })?;
    let doc = crate::service::rooms::fetch_group(&get.data, &id, signer.as_ref()).await?;
    let mut r = activity_json(crate::service::activitypub::with_context(doc)?);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

fn inbox_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// `POST /inbox` (shared) and `POST /users/:name/inbox`: receives an activity. The body must be at
/// most 1 MiB of JSON with an `id`; activity types Rookery does not act on are acknowledged and
/// ignored; an activity already processed is acknowledged and skipped. Otherwise the digest and the
/// HTTP signature (with the actor's key) are verified, the actor must be on the activity's origin,
/// and the activity is processed. Answers 202 when accepted, 401 for a bad signature or digest, 400
/// for anything else unusable.
pub async fn inbox(
    data: crate::service::activitypub::context::FedData,
    req: axum::extract::Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, INBOX_MAX_BYTES).await else {
        return inbox_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The activity is larger than 1 MiB",
        );
    };
    let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
        return inbox_error(StatusCode::BAD_REQUEST, "The body is not JSON");
    };
    let (Some(id), Some(kind)) = (
        doc.get("id").and_then(Value::as_str),
        doc.get("type").and_then(Value::as_str),
    ) else {
        return inbox_error(
            StatusCode::BAD_REQUEST,
            "An activity needs an id and a type",
        );
    };
    use crate::federation::inbound::{Received, receive_request};
    match receive_request(&data, &parts, &bytes, &doc, id, kind).await {
        Received::Accepted => StatusCode::ACCEPTED.into_response(),
        Received::Blocked => inbox_error(
            StatusCode::FORBIDDEN,
            "This server does not accept activities from yours",
        ),
        Received::BadSignature => inbox_error(
            StatusCode::UNAUTHORIZED,
            "The HTTP signature or digest is not valid",
        ),
        Received::Refused => inbox_error(StatusCode::BAD_REQUEST, "The activity was refused"),
        Received::Failed(e) => e.into_response(),
    }
}

/// `GET /actor`: the instance actor (an `Application`), whose key signs our fetches.
pub async fn instance_actor(State(state): State<AppState>) -> AppResult<Response> {
    let (public, _) = crate::federation::instance_actor::keys(&state.db).await?;
    let doc = crate::federation::instance_actor::document(&state.config, &public)?;
    Ok(activity_json(svc::with_context(doc)?))
}

/// `GET /emojis/:id`: one of this instance's custom emojis as an ActivityPub `Emoji` (the `id` of
/// the `Emoji` tags we send). Remote and disabled emojis are 404.
pub async fn emoji(State(state): State<AppState>, Path(id): Path<String>) -> AppResult<Response> {
    let doc = crate::service::emojis::document(&state, &id).await?;
    Ok(activity_json(svc::with_context(doc)?))
}

/// `GET /users/:name/quote_authorizations/:id`: the stamp (FEP-044f `QuoteAuthorization`)
/// approving a quote of one of the user's statuses; 404 once revoked or for anything else.
pub async fn quote_authorization(
    get: ApGet,
    Path((name, id)): Path<(String, String)>,
) -> AppResult<Response> {
    get.authorize().await?;
    Ok(activity_json(
        crate::service::quotes::outgoing::stamp(&get.data, &name, &id).await?,
    ))
}
