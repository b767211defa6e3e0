//! `/api/v1/streaming` (WebSocket, or server-sent events without an upgrade) and the SSE endpoints
//! `/api/v1/streaming/{user,user/notification,public,public/local,public/remote,hashtag,
//! hashtag/local,direct}`, plus `/api/v1/streaming/health`
//! (docs.joinmastodon.org/methods/streaming/).
//!
//! The access token comes from the `Authorization` header, the `access_token` query parameter, or
//! the `Sec-WebSocket-Protocol` header — which is then echoed back, as browsers require; the web
//! app's WebSocket is authenticated by its session cookie when its `Origin` is this instance.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::api_types::call::CallCandidate;
use crate::error::{AppError, AppResult};
use crate::http::extract::Params;
use crate::http::extract::auth::bearer_token;
use crate::realtime::{Event, Subscription};
use crate::service::oauth::{self, CurrentUser, Principal};
use crate::service::relationships;
use crate::service::{calls, conversations};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct StreamParams {
    stream: Option<String>,
    tag: Option<String>,
    /// The list ID of `list` streams.
    list: Option<String>,
}

impl StreamParams {
    /// The stream's argument: a hashtag or a list ID.
    fn arg(&self) -> Option<&str> {
        self.tag.as_deref().or(self.list.as_deref())
    }
}

/// The caller, from any of the three token places. No token: anonymous (public streams only).
///
/// Errors: 401 for an unknown token; 403 without a read scope.
async fn caller(state: &AppState, parts: &Parts) -> AppResult<(Option<Principal>, Option<String>)> {
    let protocol_token = parts
        .headers
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let token = bearer_token(parts).or_else(|| protocol_token.clone());
    let p = match token {
        Some(token) => oauth::principal_for_token(state, &token).await?,
        None => match web_session_caller(state, parts).await? {
            Some(p) => p,
            None => return Ok((None, None)),
        },
    };
    if !(p.scopes.allows("read:statuses") || p.scopes.allows("read:notifications")) {
        return Err(AppError::forbidden(
            "This action is outside the authorized scopes",
        ));
    }
    if let Some(u) = &p.user {
        crate::service::accounts::ensure_functional(&u.user)?;
        crate::service::accounts::ensure_not_suspended(&u.account)?;
    }
    Ok((Some((*p).clone()), protocol_token))
}

/// The web app's WebSocket: its session cookie, when the upgrade comes from a page of this
/// instance (`Origin` is our base URL, or names the host the browser connected to as `Host`; a
/// browser sets both and a page cannot forge them), which stands in for the CSRF header a
/// WebSocket cannot carry.
async fn web_session_caller(state: &AppState, parts: &Parts) -> AppResult<Option<Arc<Principal>>> {
    let Some(session) = crate::http::cookies::get(&parts.headers, crate::http::cookies::SESSION)
    else {
        return Ok(None);
    };
    let Some(origin) = parts
        .headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let host = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok());
    // The origin's authority (`host[:port]`), as the browser wrote it in `Host` for this request.
    let authority = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'));
    let same_site = origin == state.config.base_url() || (authority.is_some() && authority == host);
    if !same_site {
        return Ok(None);
    }
    crate::service::sessions::api_principal(state, &session).await
}

fn viewer_of(p: &Option<Principal>) -> Option<i64> {
    p.as_ref()
        .and_then(|p| p.user.as_ref())
        .map(|u| u.account.id)
}

/// Counts a signed-in user online for as long as it lives (one per streaming connection); the
/// presence extension reads these counts.
struct PresenceGuard {
    state: AppState,
    user: CurrentUser,
}

impl PresenceGuard {
    async fn open(state: &AppState, principal: &Option<Principal>) -> Option<PresenceGuard> {
        let user = principal.as_ref()?.user.clone()?;
        conversations::presence_changed(state, &user, true).await;
        Some(PresenceGuard {
            state: state.clone(),
            user,
        })
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let (state, user) = (self.state.clone(), self.user.clone());
        tokio::spawn(async move { conversations::presence_changed(&state, &user, false).await });
    }
}

/// The payload this subscriber gets for this event, if any: blocks, mutes and silenced domains
/// apply on public streams (an anonymous subscriber follows no one, so `0` stands in for it), and
/// the viewer's filters to statuses and notifications (`hide` drops the event, `warn` fills
/// `filtered`).
async fn deliverable(
    state: &AppState,
    sub: &Subscription,
    viewer: Option<i64>,
    e: &Event,
) -> Option<String> {
    if !sub.matches(e) {
        return None;
    }
    if let (true, v, Some(author)) = (sub.is_public(), viewer, e.author_id)
        && relationships::hides_author(state, v.unwrap_or(0), author)
            .await
            .unwrap_or(true)
    {
        return None;
    }
    crate::service::filters::stream_payload(
        state,
        viewer,
        sub.filter_context(),
        e.event,
        &e.payload,
    )
    .await
}

/// `GET /api/v1/streaming` — WebSocket when upgraded, otherwise SSE for `?stream=`.
pub async fn root(
    State(state): State<AppState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    parts: Parts,
) -> Response {
    let params: StreamParams = parts
        .uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let (principal, protocol_token) = match caller(&state, &parts).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let viewer = viewer_of(&principal);
    match ws {
        Ok(upgrade) => {
            let initial = match params.stream.as_deref() {
                Some(name) => match Subscription::parse(name, params.arg(), viewer) {
                    Ok(s) => Some(s),
                    Err(msg) => return AppError::bad_request(msg).into_response(),
                },
                None => None,
            };
            let upgrade = match protocol_token {
                Some(t) => upgrade.protocols([t]),
                None => upgrade,
            };
            let user = principal.as_ref().and_then(|p| p.user.clone());
            // Call signalling over the socket acts as `POST /api/v1/calls/…` does.
            let signals = principal
                .as_ref()
                .is_some_and(|p| p.scopes.allows("write:conversations"));
            // Listen before answering: nothing published once the client sees the socket open is
            // missed, on this node or another.
            let rx = state.hub.subscribe().await;
            upgrade
                .on_upgrade(move |socket| async move {
                    let _presence = PresenceGuard::open(&state, &principal).await;
                    websocket(state, socket, rx, user, signals, initial).await
                })
                .into_response()
        }
        Err(_) => {
            let name = params.stream.clone().unwrap_or_else(|| "user".into());
            let presence = PresenceGuard::open(&state, &principal).await;
            sse_response(state, &name, params.arg(), viewer, presence).await
        }
    }
}

#[derive(Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    stream: String,
    tag: Option<String>,
    list: Option<String>,
    /// `typing` messages (extension): the conversation being typed in.
    conversation_id: Option<String>,
    /// `call.candidate` and `call.hang_up` messages (extension): the call.
    call_id: Option<String>,
    /// `call.candidate`: the ICE candidate (docs/API.md, "Calls").
    candidate: Option<String>,
    sdp_mid: Option<String>,
    sdp_m_line_index: Option<i32>,
}

/// Handles a `typing` message (extension): an error message to send back, if any.
async fn typing(
    state: &AppState,
    user: Option<&CurrentUser>,
    m: &ClientMessage,
) -> Option<serde_json::Value> {
    let Some(user) = user else {
        return Some(json!({ "error": "Typing needs an access token", "status": 401 }));
    };
    let id = m.conversation_id.as_deref().unwrap_or_default();
    match conversations::typing(state, user, id).await {
        Ok(()) => None,
        Err(e) => Some(json!({ "error": e.to_string(), "status": e.status().as_u16() })),
    }
}

/// Handles a `call.candidate` or `call.hang_up` message (extension; docs/API.md, "Calls"): an
/// error message to send back, if any.
async fn call_signal(
    state: &AppState,
    user: Option<&CurrentUser>,
    m: ClientMessage,
) -> Option<serde_json::Value> {
    let Some(user) = user else {
        return Some(json!({ "error": "Calls need an access token", "status": 401 }));
    };
    let id = m.call_id.unwrap_or_default();
    let done = if m.kind == "call.hang_up" {
        calls::hang_up(state, &user.account, &id).await.map(|_| ())
    } else {
        let c = CallCandidate {
            candidate: m.candidate.unwrap_or_default(),
            sdp_mid: m.sdp_mid,
            sdp_m_line_index: m.sdp_m_line_index,
        };
        calls::candidate(state, &user.account, &id, c).await
    };
    done.err()
        .map(|e| json!({ "error": e.to_string(), "status": e.status().as_u16() }))
}

async fn websocket(
    state: AppState,
    mut socket: WebSocket,
    mut rx: tokio::sync::broadcast::Receiver<Arc<Event>>,
    user: Option<CurrentUser>,
    signals: bool,
    initial: Option<Subscription>,
) {
    let viewer = user.as_ref().map(|u| u.account.id);
    let mut subs: Vec<Subscription> = initial.into_iter().collect();
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { break };
                let Message::Text(text) = msg else { continue };
                let reply = match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(m) if m.kind == "subscribe" => match Subscription::parse(&m.stream, m.tag.as_deref().or(m.list.as_deref()), viewer) {
                        Ok(s) => { if !subs.contains(&s) { subs.push(s); } None }
                        Err(msg) => Some(json!({ "error": msg, "status": 400 })),
                    },
                    Ok(m) if m.kind == "unsubscribe" => {
                        let tag = m.tag.or(m.list).map(|t| t.trim_start_matches('#').to_lowercase());
                        subs.retain(|s| !(s.name == m.stream && s.tag == tag));
                        None
                    }
                    Ok(m) if m.kind == "typing" => typing(&state, user.as_ref(), &m).await,
                    Ok(m) if m.kind == "call.candidate" || m.kind == "call.hang_up" => {
                        if signals {
                            call_signal(&state, user.as_ref(), m).await
                        } else {
                            Some(json!({ "error": "This action is outside the authorized scopes", "status": 403 }))
                        }
                    }
                    Ok(m) => Some(json!({ "error": format!("Unknown message type: {}", m.kind), "status": 400 })),
                    Err(_) => Some(json!({ "error": "Malformed message", "status": 400 })),
                };
                if let Some(r) = reply
                    && socket.send(Message::Text(r.to_string().into())).await.is_err()
                {
                    break;
                }
            }
            ev = rx.recv() => {
                let e: Arc<Event> = match ev {
                    Ok(e) => e,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                for s in &subs {
                    if let Some(payload) = deliverable(&state, s, viewer, &e).await {
                        let msg = json!({ "stream": s.stream_field(), "event": e.event, "payload": payload });
                        if socket.send(Message::Text(msg.to_string().into())).await.is_err() {
                            return;
                        }
                    }
                }
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
        }
    }
}

async fn sse_response(
    state: AppState,
    name: &str,
    tag: Option<&str>,
    viewer: Option<i64>,
    presence: Option<PresenceGuard>,
) -> Response {
    match Subscription::parse(name, tag, viewer) {
        Ok(sub) => {
            let rx = state.hub.subscribe().await;
            Sse::new(sse_stream(state, rx, sub, viewer, presence))
                .keep_alive(
                    KeepAlive::new()
                        .interval(Duration::from_secs(15))
                        .text("thump"),
                )
                .into_response()
        }
        Err(msg) if viewer.is_none() && msg.contains("access token") => {
            AppError::unauthorized("The access token is invalid").into_response()
        }
        Err(msg) => AppError::bad_request(msg).into_response(),
    }
}

fn sse_stream(
    state: AppState,
    rx: tokio::sync::broadcast::Receiver<std::sync::Arc<crate::realtime::Event>>,
    sub: Subscription,
    viewer: Option<i64>,
    presence: Option<PresenceGuard>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    // The guard lives in the stream's state: online until the client goes away.
    stream::unfold(
        (state, rx, sub, presence),
        move |(state, mut rx, sub, presence)| async move {
            loop {
                match rx.recv().await {
                    Ok(e) => {
                        if let Some(payload) = deliverable(&state, &sub, viewer, &e).await {
                            let ev = SseEvent::default().event(e.event).data(payload);
                            return Some((Ok(ev), (state, rx, sub, presence)));
                        }
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    )
}

/// `GET /api/v1/streaming/{*stream}`: SSE for `user`, `user/notification`, `public`,
/// `public/local`, `public/remote`, `hashtag` and `hashtag/local` (`?tag=`), `direct`.
pub async fn sse(
    State(state): State<AppState>,
    Path(path): Path<String>,
    parts: Parts,
    Params { value: p, .. }: Params<StreamParams>,
) -> Response {
    let (principal, _) = match caller(&state, &parts).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let name = path.trim_matches('/').replace('/', ":");
    let presence = PresenceGuard::open(&state, &principal).await;
    sse_response(
        state,
        &name,
        p.tag.as_deref(),
        viewer_of(&principal),
        presence,
    )
    .await
}

/// `GET /api/v1/streaming/health`.
pub async fn health(_headers: HeaderMap) -> &'static str {
    "OK"
}
