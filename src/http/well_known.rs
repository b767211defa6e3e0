//! `/.well-known/*` and nodeinfo: discovery documents other servers and apps read first.

use axum::Json;
use axum::extract::State;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::http::extract::Params;
use crate::service::instance::documents as instance;
use crate::service::{accounts as account_svc, instance as instance_svc, scopes};
use crate::state::AppState;

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
pub async fn oauth_metadata(State(state): State<AppState>) -> Json<Value> {
    let base = state.config.base_url();
    Json(json!({
        "issuer": format!("{base}/"),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "app_registration_endpoint": format!("{base}/api/v1/apps"),
        "scopes_supported": scopes::KNOWN,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

/// `GET /.well-known/nodeinfo`: links to the 2.0 and 2.1 documents.
pub async fn nodeinfo_links(State(state): State<AppState>) -> Json<Value> {
    let base = state.config.base_url();
    Json(json!({
        "links": [
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": format!("{base}/nodeinfo/2.0") },
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": format!("{base}/nodeinfo/2.1") },
        ]
    }))
}

async fn nodeinfo(state: &AppState, version: &str) -> AppResult<Response> {
    let facts = instance_svc::facts(state).await?;
    let mut resp = Json(instance::nodeinfo(&state.config, &facts.stats, version)).into_response();
    let ct = format!(
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\""
    );
    if let Ok(v) = HeaderValue::from_str(&ct) {
        resp.headers_mut().insert(CONTENT_TYPE, v);
    }
    Ok(resp)
}

/// `GET /nodeinfo/2.0`.
pub async fn nodeinfo_20(State(state): State<AppState>) -> AppResult<Response> {
    nodeinfo(&state, "2.0").await
}

/// `GET /nodeinfo/2.1`.
pub async fn nodeinfo_21(State(state): State<AppState>) -> AppResult<Response> {
    nodeinfo(&state, "2.1").await
}

/// `GET /.well-known/host-meta` (RFC 6415): XRD with the WebFinger `lrdd` template, or JRD when the
/// client asks for JSON (also at `/.well-known/host-meta.json`).
pub async fn host_meta(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let wants_json = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("json"));
    host_meta_doc(&state, wants_json)
}

pub async fn host_meta_json(State(state): State<AppState>) -> Response {
    host_meta_doc(&state, true)
}

fn host_meta_doc(state: &AppState, json_doc: bool) -> Response {
    let template = format!(
        "{}/.well-known/webfinger?resource={{uri}}",
        state.config.base_url()
    );
    if json_doc {
        return Json(json!({ "links": [{ "rel": "lrdd", "template": template }] })).into_response();
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"{}\"/>\n</XRD>\n",
        crate::text::escape(&template)
    );
    ([(CONTENT_TYPE, "application/xrd+xml; charset=utf-8")], xml).into_response()
}

#[derive(Deserialize)]
pub struct WebfingerParams {
    resource: Option<String>,
}

/// `GET /.well-known/webfinger?resource=acct:user@domain` (RFC 7033) for local accounts; the domain
/// may carry a port. Profile URLs (`https://domain/@user`, `/users/user`) are accepted as resources.
///
/// Errors: 400 without `resource`; 404 for anything not a local account.
pub async fn webfinger(
    State(state): State<AppState>,
    Params { value: p, .. }: Params<WebfingerParams>,
) -> AppResult<Response> {
    let resource = p
        .resource
        .ok_or_else(|| AppError::bad_request("resource is missing"))?;
    let cfg = &state.config;
    let base = cfg.base_url();
    // The instance actor answers to acct:HOST@DOMAIN, as Mastodon's does.
    let instance_acct = format!("acct:{}@{}", cfg.host(), cfg.server.domain);
    if resource.eq_ignore_ascii_case(&instance_acct)
        || resource == crate::federation::instance_actor::uri(cfg)
    {
        let actor = crate::federation::instance_actor::uri(cfg);
        let mut resp = Json(json!({
            "subject": instance_acct,
            "aliases": [actor],
            "links": [{ "rel": "self", "type": "application/activity+json", "href": actor }],
        }))
        .into_response();
        resp.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/jrd+json; charset=utf-8"),
        );
        return Ok(resp);
    }
    let username = if let Some(acct) = resource.strip_prefix("acct:") {
        match account_svc::parse_acct(acct, &cfg.server.domain) {
            Some((u, None)) => u.to_string(),
            _ => return Err(AppError::NotFound),
        }
    } else if let Some(rest) = resource
        .strip_prefix(&format!("{base}/users/"))
        .or_else(|| resource.strip_prefix(&format!("{base}/@")))
    {
        rest.to_string()
    } else {
        return Err(AppError::NotFound);
    };
    let account = crate::service::accounts::local_by_username(&state, &username).await?;
    let url = account.url.clone().unwrap_or_else(|| account.uri.clone());
    let doc = json!({
        "subject": format!("acct:{}@{}", account.username, cfg.server.domain),
        "aliases": [account.uri, url],
        "links": [
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": url },
            { "rel": "self", "type": "application/activity+json", "href": account.uri },
        ],
    });
    let mut resp = Json(doc).into_response();
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/jrd+json; charset=utf-8"),
    );
    Ok(resp)
}

/// `GET /health` (Mastodon's, for load balancers and monitors): `OK` while the database answers,
/// else 500 with the error shape (the cause is logged).
pub async fn health(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
) -> crate::error::AppResult<&'static str> {
    if crate::service::instance::healthy(&state).await {
        Ok("OK")
    } else {
        Err(crate::error::AppError::Internal(anyhow::anyhow!(
            "the database does not answer"
        )))
    }
}
