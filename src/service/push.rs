//! Web Push (docs.joinmastodon.org/methods/push/): each access token may hold one subscription;
//! notifications reach it as RFC 8291 `aes128gcm` messages signed with the instance's VAPID key
//! (RFC 8292), sent by durable `push.deliver` jobs queued in the notification's own transaction.
//!
//! A subscription whose endpoint answers 404 or 410 is gone and is removed; other failures are
//! retried with the job back-off.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde::Serialize;
use serde_json::json;
use sqlx::types::Json;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};

use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job, Outcome};
use crate::service::oauth::CurrentUser;
use crate::state::AppState;
use crate::storage::push::{self as store, SubscriptionRow};
use crate::storage::{Tx, ids, settings};

/// The job kind of one notification to one subscription.
pub const DELIVER_JOB: &str = "push.deliver";

/// Attempts before a delivery is given up (30 s, 2 min, 8 min, 32 min apart).
const MAX_ATTEMPTS: i64 = 5;

/// Notification types a subscription can ask for (Mastodon's `alerts` keys).
pub const ALERTS: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "quote",
    "quoted_update",
    "admin.sign_up",
    "admin.report",
];

const KEY_PAIR: &str = "vapid.key_pair";

/// The instance's VAPID key pair, made on first use and kept in `instance_settings`.
pub struct Vapid {
    pub key_pair: ES256KeyPair,
    /// The public key as clients want it: the uncompressed P-256 point, base64url.
    pub public_key: String,
}

/// The VAPID key pair (cached after the first call).
pub async fn vapid(state: &AppState) -> AppResult<Arc<Vapid>> {
    let v = state
        .vapid
        .get_or_try_init(|| async {
            let stored = match settings::get(&state.db, KEY_PAIR).await? {
                Some(v) => v,
                None => {
                    let fresh = URL_SAFE_NO_PAD.encode(ES256KeyPair::generate().to_bytes());
                    settings::get_or_insert(&state.db, KEY_PAIR, &fresh).await?
                }
            };
            let raw = URL_SAFE_NO_PAD
                .decode(stored.as_bytes())
                .map_err(|e| anyhow::anyhow!("stored VAPID key: {e}"))?;
            let key_pair = ES256KeyPair::from_bytes(&raw)
                .map_err(|e| anyhow::anyhow!("stored VAPID key: {e}"))?;
            let public_key =
                URL_SAFE_NO_PAD.encode(key_pair.public_key().public_key().to_bytes_uncompressed());
            Ok::<_, AppError>(Arc::new(Vapid {
                key_pair,
                public_key,
            }))
        })
        .await?;
    Ok(v.clone())
}

/// `WebPushSubscription`.
#[derive(Clone, Debug, Serialize)]
pub struct WebPushSubscription {
    pub id: String,
    pub endpoint: String,
    pub standard: bool,
    pub alerts: BTreeMap<String, bool>,
    pub policy: String,
    pub server_key: String,
}

async fn entity(state: &AppState, row: &SubscriptionRow) -> AppResult<WebPushSubscription> {
    let mut alerts: BTreeMap<String, bool> =
        ALERTS.iter().map(|a| (a.to_string(), false)).collect();
    for (k, v) in &row.alerts.0 {
        alerts.insert(k.clone(), *v);
    }
    Ok(WebPushSubscription {
        id: row.id.to_string(),
        endpoint: row.endpoint.clone(),
        standard: true,
        alerts,
        policy: row.policy.clone(),
        server_key: vapid(state).await?.public_key.clone(),
    })
}

/// What `POST /api/v1/push/subscription` and `PUT` carry.
#[derive(Default)]
pub struct SubscriptionInput {
    pub endpoint: Option<String>,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
    pub alerts: BTreeMap<String, bool>,
    pub policy: Option<String>,
}

/// The subscriber's P-256 public key and 16-byte auth secret, from their base64 (url-safe or
/// standard, padded or not, as clients send them); `None` when either is not what it should be.
fn subscriber_keys(
    p256dh: &str,
    auth: &str,
) -> Option<(web_push_native::p256::PublicKey, web_push_native::Auth)> {
    let decode = |s: &str| {
        let normal = s.trim_end_matches('=').replace('+', "-").replace('/', "_");
        URL_SAFE_NO_PAD.decode(normal).ok()
    };
    let public = web_push_native::p256::PublicKey::from_sec1_bytes(&decode(p256dh)?).ok()?;
    let secret = decode(auth).filter(|a| a.len() == 16)?;
    Some((public, web_push_native::Auth::clone_from_slice(&secret)))
}

fn check_policy(p: &str) -> AppResult<()> {
    if matches!(p, "all" | "followed" | "follower" | "none") {
        Ok(())
    } else {
        Err(AppError::unprocessable(format!(
            "Validation failed: Policy {p:?} is not one of all, followed, follower, none"
        )))
    }
}

/// `POST /api/v1/push/subscription`: subscribes the caller's token (`token` is its bearer value),
/// replacing its earlier subscription. Errors: 422 for a missing or non-https endpoint (http only
/// where federation allows it), an endpoint whose host is a non-public IP address (`net`), keys that are not a P-256 point and a 16-byte secret, or an unknown
/// policy.
pub async fn subscribe(
    state: &AppState,
    user: &CurrentUser,
    token_id: i64,
    token: &str,
    input: SubscriptionInput,
) -> AppResult<WebPushSubscription> {
    let endpoint = input.endpoint.unwrap_or_default();
    let url = url::Url::parse(&endpoint)
        .map_err(|_| AppError::unprocessable("Validation failed: Endpoint is not a URL"))?;
    if url.scheme() != "https" && !(url.scheme() == "http" && state.config.allow_http()) {
        return Err(AppError::unprocessable(
            "Validation failed: Endpoint must be https",
        ));
    }
    if state.egress.check_url(&url).is_err() {
        return Err(AppError::unprocessable(
            "Validation failed: Endpoint must be on a public address",
        ));
    }
    let p256dh = input.p256dh.unwrap_or_default();
    let auth = input.auth.unwrap_or_default();
    if subscriber_keys(&p256dh, &auth).is_none() {
        return Err(AppError::unprocessable(
            "Validation failed: keys must be a P-256 public key (p256dh) and a 16-byte secret (auth)",
        ));
    }
    let policy = input.policy.unwrap_or_else(|| "all".into());
    check_policy(&policy)?;
    let row = SubscriptionRow {
        id: ids::new_id(),
        access_token_id: token_id,
        account_id: user.account.id,
        access_token: token.to_string(),
        endpoint,
        p256dh,
        auth,
        alerts: Json(known_alerts(input.alerts)),
        policy,
        created_at: Utc::now(),
    };
    store::replace(&state.db, &row).await?;
    entity(state, &row).await
}

fn known_alerts(given: BTreeMap<String, bool>) -> BTreeMap<String, bool> {
    given
        .into_iter()
        .filter(|(k, _)| ALERTS.contains(&k.as_str()))
        .collect()
}

async fn of_token(state: &AppState, token_id: i64) -> AppResult<SubscriptionRow> {
    store::of_token(&state.db, token_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /api/v1/push/subscription`. Errors: 404 when the token has none.
pub async fn show(state: &AppState, token_id: i64) -> AppResult<WebPushSubscription> {
    entity(state, &of_token(state, token_id).await?).await
}

/// `PUT /api/v1/push/subscription`: alerts given are set (others kept), and the policy. Errors:
/// 404 when the token has none, 422 for an unknown policy.
pub async fn update(
    state: &AppState,
    token_id: i64,
    input: SubscriptionInput,
) -> AppResult<WebPushSubscription> {
    let mut row = of_token(state, token_id).await?;
    row.alerts.0.extend(known_alerts(input.alerts));
    if let Some(p) = input.policy {
        check_policy(&p)?;
        row.policy = p;
    }
    store::update(&state.db, &row).await?;
    entity(state, &row).await
}

/// `DELETE /api/v1/push/subscription` (none: fine).
pub async fn unsubscribe(state: &AppState, token_id: i64) -> AppResult<()> {
    if let Some(row) = store::of_token(&state.db, token_id).await? {
        store::delete(&state.db, row.id).await?;
    }
    Ok(())
}

/// Inside the transaction that stores notifications, `(local recipient, notification id)` each:
/// one delivery job per subscription of the recipient (whether each is wanted is decided when it
/// runs), with one read of the subscriptions for all of them.
pub async fn queue_many(tx: &mut Tx, notifications: &[(i64, i64)]) -> AppResult<()> {
    let mut recipients: Vec<i64> = notifications.iter().map(|(r, _)| *r).collect();
    recipients.sort_unstable();
    recipients.dedup();
    let subscriptions = store::ids_of_accounts(tx, &recipients).await?;
    for &(recipient, notification_id) in notifications {
        for &(sub, _) in subscriptions.iter().filter(|(_, a)| *a == recipient) {
            jobs::enqueue(
                tx,
                DELIVER_JOB,
                &json!({ "subscription_id": sub, "notification_id": notification_id }),
            )
            .await?;
        }
    }
    Ok(())
}

/// Runs the delivery workers.
pub fn spawn_worker(state: &AppState) -> tokio::task::JoinHandle<()> {
    let s = state.clone();
    tokio::spawn(jobs::run_worker(
        state.db.clone(),
        DELIVER_JOB,
        4,
        MAX_ATTEMPTS,
        state.push_wakeup.clone(),
        move |job| deliver_job(s.clone(), job),
        |_, _| async {},
    ))
}

async fn deliver_job(state: AppState, job: Job) -> Outcome {
    match deliver(&state, &job).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// Does the subscription's policy let a notification from `from` through?
async fn policy_allows(state: &AppState, row: &SubscriptionRow, from: i64) -> AppResult<bool> {
    use crate::storage::relationships::{FollowTable, find_follow};
    Ok(match row.policy.as_str() {
        "none" => false,
        "followed" => find_follow(&state.db, FollowTable::Follows, row.account_id, from)
            .await?
            .is_some(),
        "follower" => find_follow(&state.db, FollowTable::Follows, from, row.account_id)
            .await?
            .is_some(),
        _ => true,
    })
}

async fn deliver(state: &AppState, job: &Job) -> AppResult<Outcome> {
    let sub_id = job.payload["subscription_id"].as_i64().unwrap_or_default();
    let notification_id = job.payload["notification_id"].as_i64().unwrap_or_default();
    let Some(row) = store::find(&state.db, sub_id).await? else {
        return Ok(Outcome::Done);
    };
    if !store::token_live(&state.db, row.access_token_id).await? {
        store::delete(&state.db, row.id).await?;
        return Ok(Outcome::Done);
    }
    let Some(n) =
        crate::storage::notifications::find(&state.db, row.account_id, notification_id).await?
    else {
        return Ok(Outcome::Done);
    };
    let wanted = row.alerts.0.get(&n.r#type).copied().unwrap_or(false);
    let user = crate::storage::accounts::find_user_by_account(&state.db, row.account_id).await?;
    let quiet = user.as_ref().is_some_and(|u| u.settings.0.do_not_disturb);
    if !wanted || quiet || !policy_allows(state, &row, n.from_account_id).await? {
        return Ok(Outcome::Done);
    }
    let from = crate::storage::accounts::find_account(&state.db, n.from_account_id).await?;
    let from_name = from
        .as_ref()
        .map(|a| {
            if a.display_name.is_empty() {
                a.username.clone()
            } else {
                a.display_name.clone()
            }
        })
        .unwrap_or_default();
    let rendered = crate::service::render::notifications(state, row.account_id, vec![n.clone()])
        .await?
        .pop();
    let body = rendered
        .as_ref()
        .and_then(|r| r.status.as_ref())
        .map(|s| crate::text::html_to_text(&s.content))
        .unwrap_or_default();
    let icon = rendered
        .as_ref()
        .map(|r| r.account.avatar_static.clone())
        .unwrap_or_default();
    let title = match n.r#type.as_str() {
        "mention" => format!("{from_name} mentioned you"),
        "status" => format!("{from_name} just posted"),
        "reblog" => format!("{from_name} boosted your post"),
        "follow" => format!("{from_name} followed you"),
        "follow_request" => format!("{from_name} wants to follow you"),
        "favourite" => format!("{from_name} favourited your post"),
        "update" => format!("{from_name} edited a post"),
        other => format!("{from_name}: {other}"),
    };
    // Mastodon's payload (app/workers/web/push_notification_worker.rb's shape).
    let payload = json!({
        "access_token": row.access_token,
        "preferred_locale": user.as_ref().and_then(|u| u.locale.clone()).unwrap_or_else(|| "en".into()),
        "notification_id": n.id,
        "notification_type": n.r#type,
        "icon": icon,
        "title": title,
        "body": body.chars().take(200).collect::<String>(),
    });
    let (ua_public, ua_auth) = subscriber_keys(&row.p256dh, &row.auth)
        .ok_or_else(|| anyhow::anyhow!("stored subscription keys do not decode"))?;
    let vapid = vapid(state).await?;
    let contact = if state.config.instance.contact_email.is_empty() {
        state.config.base_url()
    } else {
        format!("mailto:{}", state.config.instance.contact_email)
    };
    let endpoint: http::Uri = row
        .endpoint
        .parse()
        .map_err(|e| anyhow::anyhow!("stored endpoint: {e}"))?;
    let request = web_push_native::WebPushBuilder::new(endpoint, ua_public, ua_auth)
        .with_valid_duration(std::time::Duration::from_secs(48 * 3600))
        .with_vapid(&vapid.key_pair, &contact)
        .build(payload.to_string())
        .map_err(|e| anyhow::anyhow!("building the push message: {e}"))?;
    let (parts, body) = request.into_parts();
    let mut send = state
        .http_client
        .post(&row.endpoint)
        .body(body)
        .timeout(std::time::Duration::from_secs(15))
        .header("Urgency", "normal");
    for (name, value) in &parts.headers {
        send = send.header(name.as_str(), value.as_bytes());
    }
    let answer = match send.send().await {
        Ok(a) => a,
        Err(e) if crate::net::is_refused(&e) => {
            // Never deliverable (its name resolves inwards): said in the log, not retried.
            tracing::warn!(subscription = row.id, error = %e, "push endpoint refused");
            return Ok(Outcome::Done);
        }
        Err(e) => return Ok(Outcome::Retry(format!("push endpoint unreachable: {e}"))),
    };
    let status = answer.status().as_u16();
    Ok(match status {
        200..=299 => Outcome::Done,
        404 | 410 => {
            tracing::info!(
                subscription = row.id,
                status,
                "push subscription expired; removed"
            );
            store::delete(&state.db, row.id).await?;
            Outcome::Done
        }
        _ => Outcome::Retry(format!("push endpoint answered {status}")),
    })
}
