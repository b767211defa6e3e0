//! `/api/v1/push/subscription` (docs.joinmastodon.org/methods/push/): the Web Push subscription of
//! the calling access token (`push` scope).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::http::extract::auth::bearer_token;
use crate::http::extract::{Auth, Params};
use crate::service::push::{self as svc, SubscriptionInput, WebPushSubscription};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct Keys {
    p256dh: Option<String>,
    auth: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SubscriptionParam {
    endpoint: Option<String>,
    #[serde(default)]
    keys: Keys,
}

#[derive(Deserialize, Default)]
pub struct DataParam {
    /// Type → wanted; booleans as JSON or form strings.
    #[serde(default)]
    alerts: BTreeMap<String, Value>,
    policy: Option<String>,
}

#[derive(Deserialize)]
pub struct PushParams {
    #[serde(default)]
    subscription: SubscriptionParam,
    #[serde(default)]
    data: DataParam,
    /// Older clients send the policy at the top level.
    policy: Option<String>,
}

impl From<PushParams> for SubscriptionInput {
    fn from(p: PushParams) -> SubscriptionInput {
        let wanted = |v: &Value| match v {
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_i64() != Some(0),
            Value::String(s) => matches!(s.as_str(), "true" | "1" | "on"),
            _ => false,
        };
        SubscriptionInput {
            endpoint: p.subscription.endpoint,
            p256dh: p.subscription.keys.p256dh,
            auth: p.subscription.keys.auth,
            alerts: p
                .data
                .alerts
                .iter()
                .map(|(k, v)| (k.clone(), wanted(v)))
                .collect(),
            policy: p.data.policy.or(p.policy),
        }
    }
}

fn token_id(auth: &Auth) -> AppResult<i64> {
    auth.require_user("push")?;
    auth.0
        .as_ref()
        .map(|p| p.token_id)
        .ok_or_else(|| AppError::unauthorized("The access token is invalid"))
}

/// `POST /api/v1/push/subscription` → `WebPushSubscription`; replaces the token's earlier one.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    parts: Parts,
    Params { value: p, .. }: Params<PushParams>,
) -> AppResult<Json<WebPushSubscription>> {
    let id = token_id(&auth)?;
    let cu = auth.require_user("push")?;
    let token = bearer_token(&parts).unwrap_or_default();
    Ok(Json(
        svc::subscribe(&state, cu, id, &token, p.into()).await?,
    ))
}

/// `GET /api/v1/push/subscription` → `WebPushSubscription`; 404 when there is none.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<WebPushSubscription>> {
    Ok(Json(svc::show(&state, token_id(&auth)?).await?))
}

/// `PUT /api/v1/push/subscription` (`data[alerts][…]`, `data[policy]`) → `WebPushSubscription`.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<PushParams>,
) -> AppResult<Json<WebPushSubscription>> {
    Ok(Json(svc::update(&state, token_id(&auth)?, p.into()).await?))
}

/// `DELETE /api/v1/push/subscription` → `{}`.
pub async fn delete(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Value>> {
    svc::unsubscribe(&state, token_id(&auth)?).await?;
    Ok(Json(json!({})))
}
