//! Durable delivery of outgoing activities (DESIGN.md §4): an activity is queued for each target
//! inbox in the same transaction as the change it announces; a worker signs and sends due rows,
//! retrying with exponential back-off (`federation.retry_initial_seconds`, doubling, at most an
//! hour apart) until `federation.retry_max_hours` have passed. A crash loses nothing: unsent rows
//! are still due when the server starts again, and receivers drop duplicates by activity ID.

use std::sync::Arc;
use std::time::Duration;

use activitypub_federation::activity_sending::SendActivityTask;
use activitypub_federation::config::FederationConfig;
use chrono::Utc;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::Notify;

use crate::error::AppResult;
use crate::federation::origin::authority;
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::{FedData, Refused};
use crate::service::activitypub::stored::StoredActivity;
use crate::service::activitypub::with_context;
use crate::state::AppState;
use crate::storage::deliveries::{self, DeliveryRow};
use crate::storage::instances::{self, InstanceRow};
use crate::storage::{Tx, accounts};

/// Deliveries sent at once by the worker.
const CONCURRENCY: usize = 8;
/// Rows claimed per pass: at most two rounds of concurrent sends, so a pass ends (each attempt
/// times out after 10 s) well within the claim's lease.
const BATCH: i64 = 16;
/// How often the worker looks for due rows when nothing wakes it.
const POLL: Duration = Duration::from_secs(1);

/// Queues `activity` (without `@context`; it is added) from local account `actor_id` to each inbox,
/// once per distinct inbox.
pub async fn enqueue(
    tx: &mut Tx,
    activity: &Value,
    actor_id: i64,
    inboxes: &[String],
    status_id: Option<i64>,
) -> AppResult<()> {
    let sender = deliveries::Sender {
        actor_id,
        room_id: None,
    };
    enqueue_from(tx, activity, sender, inboxes, status_id).await
}

/// As [`enqueue`], sent by the room `room_id` hosted here (its `Group` actor signs; `owner` is
/// its owner's account, which the row refers to).
pub async fn enqueue_from_room(
    tx: &mut Tx,
    activity: &Value,
    room_id: i64,
    owner: i64,
    inboxes: &[String],
) -> AppResult<()> {
    let sender = deliveries::Sender {
        actor_id: owner,
        room_id: Some(room_id),
    };
    enqueue_from(tx, activity, sender, inboxes, None).await
}

async fn enqueue_from(
    tx: &mut Tx,
    activity: &Value,
    sender: deliveries::Sender,
    inboxes: &[String],
    status_id: Option<i64>,
) -> AppResult<()> {
    let id = activity
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let payload = serde_json::to_string(&with_context(activity)?).map_err(anyhow::Error::from)?;
    let mut seen: Vec<&str> = Vec::new();
    for inbox in inboxes {
        if seen.contains(&inbox.as_str()) {
            continue;
        }
        seen.push(inbox);
        let Ok(url) = url::Url::parse(inbox) else {
            continue;
        };
        let domain = authority(&url).unwrap_or_default();
        deliveries::enqueue(tx, &id, sender, inbox, &domain, &payload, status_id).await?;
    }
    Ok(())
}

/// Job kind of activities the server sends as itself (its `Application` actor), such as forwarded
/// reports, so that no local account is named as their sender.
pub const INSTANCE_SEND_JOB: &str = "federation.instance_send";
/// Tries of an instance-actor send: 30 s × 4^n apart, about a day and a half in all.
const INSTANCE_SEND_ATTEMPTS: i64 = 8;

/// Queues `activity` (without `@context`) to `inbox`, signed by the instance actor when sent.
pub async fn enqueue_as_instance(tx: &mut Tx, activity: &Value, inbox: &str) -> AppResult<()> {
    let payload = serde_json::json!({ "activity": with_context(activity)?, "inbox": inbox });
    crate::jobs::enqueue(tx, INSTANCE_SEND_JOB, &payload).await?;
    Ok(())
}

/// Runs the worker for [`INSTANCE_SEND_JOB`] until the process ends.
pub fn spawn_instance_worker(
    federation: FederationConfig<AppState>,
) -> tokio::task::JoinHandle<()> {
    let state = federation.to_request_data().app_data().clone();
    tokio::spawn(crate::jobs::run_worker(
        state.db.clone(),
        INSTANCE_SEND_JOB,
        2,
        INSTANCE_SEND_ATTEMPTS,
        state.jobs_wakeup.clone(),
        move |job| {
            let data = federation.to_request_data();
            async move {
                match send_as_instance(&data, &job.payload).await {
                    Ok(()) => crate::jobs::Outcome::Done,
                    Err(e) => crate::jobs::Outcome::Retry(e.to_string()),
                }
            }
        },
        |job, error| async move {
            tracing::warn!(inbox = %job.payload["inbox"], %error, "instance activity given up");
        },
    ))
}

async fn send_as_instance(data: &FedData, payload: &Value) -> anyhow::Result<()> {
    let inbox = url::Url::parse(payload["inbox"].as_str().unwrap_or_default())?;
    if let Some(domain) = authority(&inbox)
        && crate::service::moderation::domain_suspended(data, &domain).await?
    {
        return Ok(());
    }
    let activity = StoredActivity::parse(&payload["activity"].to_string())?;
    let (public, private) = crate::federation::instance_actor::keys(&data.db).await?;
    let signer = crate::service::activitypub::actors::ApAccount::instance_actor(
        &data.config,
        &public,
        &private,
    )?;
    let tasks = SendActivityTask::prepare(&activity, &signer, vec![inbox], data).await?;
    for task in tasks {
        task.sign_and_send(data).await?;
    }
    Ok(())
}

/// When the `attempts`-th failure should be retried: `initial × 2^(attempts-1)`, at most an hour.
pub fn retry_delay(initial_secs: u64, attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let secs = initial_secs
        .saturating_mul(2u64.saturating_pow(exp))
        .min(3600);
    Duration::from_secs(secs.max(1))
}

/// Why a delivery did not happen.
enum Failure {
    /// Worth trying again later (network, remote server error).
    Retry(anyhow::Error),
    /// Never going to work (the domain is blocked here).
    GiveUp(String),
    /// The server answered and refused it with a 4xx (see `service::activitypub::context::Refused`).
    /// Final, as in Mastodon; the server still counts as reachable.
    Refused(Refused),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Retry(e)
    }
}

impl From<activitypub_federation::error::Error> for Failure {
    fn from(e: activitypub_federation::error::Error) -> Failure {
        match e {
            activitypub_federation::error::Error::ReqwestMiddleware(e) => Failure::from(e),
            e => Failure::Retry(e.into()),
        }
    }
}

impl From<reqwest_middleware::Error> for Failure {
    fn from(e: reqwest_middleware::Error) -> Failure {
        if let reqwest_middleware::Error::Middleware(inner) = &e
            && let Some(refused) = inner.downcast_ref::<Refused>()
        {
            return Failure::Refused(refused.clone());
        }
        Failure::Retry(e.into())
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Failure {
        Failure::Retry(e.into())
    }
}

/// How long the in-memory list of failing servers is trusted. A server marked on this node is
/// known at once; one marked on another node within this long.
pub const FAILING_FOR: std::time::Duration = std::time::Duration::from_secs(2);

/// The servers whose last attempt failed (unreachable or not), reloaded when older than
/// [`FAILING_FOR`]: every verified inbox activity asks whether its server is one, which would
/// otherwise be a query each.
pub type FailingCache = crate::service::cache::Reloaded<std::collections::HashSet<String>>;

/// True when the activity with this ID was already received and processed
/// (`received_activities`), so a repeated delivery is acknowledged without work.
///
/// Errors: database errors.
pub async fn already_received(state: &AppState, activity_id: &str) -> sqlx::Result<bool> {
    crate::storage::deliveries::already_received(&state.db, activity_id).await
}

/// Records that the activity with this ID was received and processed (see
/// [`already_received`]).
///
/// Errors: database errors.
pub async fn record_receipt(state: &AppState, activity_id: &str) -> sqlx::Result<()> {
    crate::storage::deliveries::record_receipt(&state.db, activity_id).await
}

/// A server talked to us (a verified inbox activity), so it is up: when its deliveries had been
/// failing, its run of failures (and any unreachable mark) ends and its waiting deliveries become
/// due now.
///
/// Errors: database errors.
pub async fn heard_from(state: &AppState, host: &str) -> sqlx::Result<()> {
    let failing = state
        .failing
        .get(|| async {
            let domains = instances::failing_domains(&state.db).await?;
            Ok(domains.into_iter().collect())
        })
        .await?;
    if failing.contains(host) {
        instances::record_success(&state.db, host).await?;
        state.failing.forget();
        state.delivery_wakeup.notify_one();
    }
    Ok(())
}

/// How long a server may fail without a single success before it counts as unreachable
/// (`federation.unreachable_after_hours`).
fn unreachable_after(cfg: &crate::config::FederationConfig) -> chrono::Duration {
    chrono::Duration::milliseconds((cfg.unreachable_after_hours * 3_600_000.0) as i64)
}

/// For an unreachable server: when its next probe may go, or `None` when it may go now (or the
/// server is not unreachable). Probes back off from the moment it was marked, as a delivery does:
/// each waits as long as the server has been unreachable so far (doubling the gap), at least
/// `federation.retry_initial_seconds` and at most an hour. Its other deliveries wait meanwhile,
/// and all go as soon as a probe succeeds or the server talks to us.
fn probe_wait(
    cfg: &crate::config::FederationConfig,
    health: Option<&InstanceRow>,
) -> Option<chrono::DateTime<Utc>> {
    let health = health?;
    let (since, last) = (health.unreachable_since?, health.last_failure_at?);
    let gap = (last - since).clamp(
        chrono::Duration::seconds(cfg.retry_initial_seconds as i64),
        chrono::Duration::hours(1),
    );
    Some(last + gap).filter(|next| *next > Utc::now())
}

async fn send_one(data: &FedData, row: DeliveryRow) {
    let db = &data.db;
    let deadline =
        row.created_at + chrono::Duration::hours(data.config.federation.retry_max_hours as i64);
    // The server's health, read once: whether to wait for a probe, and which signature it takes.
    let health = match instances::find(db, &row.domain).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = ?e, "could not read server reachability");
            None
        }
    };
    if let Some(next) = probe_wait(&data.config.federation, health.as_ref()) {
        let outcome = if next > deadline {
            deliveries::mark_failed(db, row.id, &format!("{} is unreachable", row.domain), None)
                .await
        } else {
            deliveries::postpone(db, row.id, next).await
        };
        if let Err(e) = outcome {
            tracing::error!(error = ?e, "could not postpone a delivery");
        }
        return;
    }
    let scheme = health.and_then(|h| h.http_signatures);
    let result = attempt(data, &row, scheme.as_deref()).await;
    match &result {
        Ok(()) | Err(Failure::Refused(_)) => {
            match instances::record_success(db, &row.domain).await {
                Ok(true) => {
                    data.failing.forget();
                    data.delivery_wakeup.notify_one();
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = ?e, "could not record a delivery success"),
            }
        }
        Err(Failure::Retry(_)) => {
            let after = unreachable_after(&data.config.federation);
            match instances::record_failure(db, &row.domain, after).await {
                // The first failure of a run: the inbox now checks this server's activities.
                Ok(health) if health.failures == 1 => data.failing.forget(),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "could not record a delivery failure"),
            }
        }
        Err(Failure::GiveUp(_)) => {}
    }
    crate::service::metrics::record_delivery(match &result {
        Ok(()) => "delivered",
        Err(Failure::GiveUp(_)) => "given_up",
        Err(Failure::Refused(_)) => "refused",
        Err(Failure::Retry(_)) => "retry",
    });
    let outcome = match result {
        Ok(()) => deliveries::mark_delivered(db, row.id).await,
        Err(Failure::GiveUp(why)) => {
            tracing::info!(inbox = %row.inbox_url, activity = %row.activity_id, why, "delivery given up");
            deliveries::mark_failed(db, row.id, &why, None).await
        }
        Err(Failure::Refused(refused)) => {
            let why = refused.to_string();
            tracing::info!(inbox = %row.inbox_url, activity = %row.activity_id, why, "delivery refused");
            deliveries::mark_failed(db, row.id, &why, None).await
        }
        Err(Failure::Retry(e)) => {
            let cfg = &data.config.federation;
            let attempts = row.attempts + 1;
            let next = Utc::now()
                + chrono::Duration::from_std(retry_delay(cfg.retry_initial_seconds, attempts))
                    .unwrap_or_default();
            let deadline = row.created_at + chrono::Duration::hours(cfg.retry_max_hours as i64);
            let next = (next <= deadline).then_some(next);
            tracing::info!(inbox = %row.inbox_url, activity = %row.activity_id, attempts, error = %e, gave_up = next.is_none(), "delivery failed");
            deliveries::mark_failed(db, row.id, &e.to_string(), next).await
        }
    };
    if let Err(e) = outcome {
        tracing::error!(error = ?e, "could not record a delivery outcome");
    }
}

/// Sends one delivery. `scheme` is the signature scheme the server is known to take
/// (`instances.http_signatures`), if any.
async fn attempt(data: &FedData, row: &DeliveryRow, scheme: Option<&str>) -> Result<(), Failure> {
    if crate::service::moderation::domain_suspended(data, &row.domain).await? {
        return Err(Failure::GiveUp(format!(
            "{} is blocked by this server",
            row.domain
        )));
    }
    let actor = match row.room_id {
        Some(room) => crate::service::rooms::signer(data, room)
            .await
            .map_err(|e| Failure::Retry(anyhow::anyhow!("the sending room: {e}")))?
            .ok_or_else(|| Failure::GiveUp("the sending room is gone".into()))?,
        None => {
            let actor_row = accounts::find_account(&data.db, row.actor_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the sending account is gone"))?;
            let mut actor = ApAccount::new(actor_row, None)?;
            actor.private_key_pem = accounts::private_key(&data.db, row.actor_id).await?;
            actor
        }
    };
    if actor.private_key_pem.is_none() {
        return Err(Failure::Retry(anyhow::anyhow!(
            "the sending account has no key"
        )));
    }
    let inbox = url::Url::parse(&row.inbox_url)
        .map_err(|e| Failure::GiveUp(format!("bad inbox URL: {e}")))?;
    // Double-knocking: RFC 9421 first, unless the server is known to want draft-cavage.
    let scheme = if data.config.federation.rfc9421_signing {
        scheme
    } else {
        Some(CAVAGE)
    };
    if scheme != Some(CAVAGE) {
        let pem = actor.private_key_pem.as_deref().unwrap_or_default();
        match send_rfc9421(data, &actor.row.uri, pem, &inbox, &row.payload).await {
            Ok(()) => {
                if scheme.is_none() {
                    instances::set_signature_scheme(&data.db, &row.domain, RFC9421).await?;
                }
                return Ok(());
            }
            Err(Failure::Refused(refused)) if matches!(refused.status, 400 | 401) => {
                tracing::info!(domain = %row.domain, why = %refused, "RFC 9421 signature refused; draft-cavage from now on");
                instances::set_signature_scheme(&data.db, &row.domain, CAVAGE).await?;
            }
            Err(other) => return Err(other),
        }
    }
    let activity = StoredActivity::parse(&row.payload)?;
    let tasks = SendActivityTask::prepare(&activity, &actor, vec![inbox], data).await?;
    let task = tasks
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the inbox URL was refused by the federation URL checks"))?;
    task.sign_and_send(data).await?;
    Ok(())
}

/// Deliveries joined with the health of the servers they go to.
async fn with_health(
    state: &AppState,
    rows: &[DeliveryRow],
    admin: bool,
) -> AppResult<Vec<crate::api_types::delivery::Delivery>> {
    let mut domains: Vec<String> = rows.iter().map(|d| d.domain.clone()).collect();
    domains.sort();
    domains.dedup();
    let health = instances::find_many(&state.db, &domains).await?;
    Ok(rows
        .iter()
        .map(|d| {
            let h = health.iter().find(|h| h.domain == d.domain);
            crate::api_types::delivery::Delivery::new(d, h, admin)
        })
        .collect())
}

/// `GET /api/v1/statuses/:id/deliveries`: where the author's status went, each delivery with its
/// server's health and a sentence saying what is going on.
pub async fn of_status(
    state: &AppState,
    status_id: i64,
) -> AppResult<Vec<crate::api_types::delivery::Delivery>> {
    let rows = deliveries::of_status(&state.db, status_id).await?;
    with_health(state, &rows, false).await
}

/// `GET /api/v1/admin/deliveries`: the queue, newest first, optionally of one `state` and
/// `domain`, at most `limit` rows.
pub async fn queue(
    state: &AppState,
    of_state: Option<&str>,
    domain: Option<&str>,
    limit: i64,
) -> AppResult<Vec<crate::api_types::delivery::Delivery>> {
    let rows = deliveries::list(&state.db, of_state, domain, limit).await?;
    with_health(state, &rows, true).await
}

/// `GET /api/v1/admin/instances`: every server delivered to, worst first.
pub async fn servers(state: &AppState) -> AppResult<Vec<crate::api_types::delivery::ServerHealth>> {
    Ok(instances::list(&state.db)
        .await?
        .iter()
        .map(|r| crate::api_types::delivery::ServerHealth::new(&r.domain, Some(r)))
        .collect())
}

/// `instances.http_signatures` values.
const RFC9421: &str = "rfc9421";
const CAVAGE: &str = "cavage";

/// POSTs `payload` (the stored activity, with its `@context`) to `inbox`, signed with RFC 9421 by
/// the actor `actor_uri` (key `ACTOR#main-key`, PEM `private_key_pem`).
///
/// Errors: as a draft-cavage send — [`Failure::Refused`] for a 4xx other than 408 and 429,
/// [`Failure::Retry`] for anything else that failed.
async fn send_rfc9421(
    data: &FedData,
    actor_uri: &str,
    private_key_pem: &str,
    inbox: &url::Url,
    payload: &str,
) -> Result<(), Failure> {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/activity+json"),
    );
    crate::federation::rfc9421::sign(
        "POST",
        inbox,
        &mut headers,
        Some(payload.as_bytes()),
        &format!("{actor_uri}#main-key"),
        private_key_pem,
        Utc::now(),
    )?;
    let res = data
        .federation_client
        .post(inbox.clone())
        .headers(headers)
        .body(payload.to_string())
        .send()
        .await?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(Failure::Retry(anyhow::anyhow!(
            "{inbox} answered {}",
            res.status()
        )))
    }
}

/// Runs the delivery worker until the process ends: claims due rows (several nodes on one
/// PostgreSQL share the queue; see `deliveries::claim_due`), sends them, then waits for `wakeup` or
/// the poll interval.
pub async fn run_worker(federation: FederationConfig<AppState>, wakeup: Arc<Notify>) {
    if !federation.config.federation.shared_queue
        && let Err(e) = deliveries::release_all_claims(&federation.db).await
    {
        tracing::error!(error = ?e, "could not release old delivery claims");
    }
    loop {
        let data = federation.to_request_data();
        match deliveries::claim_due(&data.db, BATCH, crate::jobs::node_id()).await {
            Ok(rows) if !rows.is_empty() => {
                let n = rows.len();
                futures_util::stream::iter(rows)
                    .for_each_concurrent(CONCURRENCY, |row| {
                        let data = federation.to_request_data();
                        async move { send_one(&data, row).await }
                    })
                    .await;
                if n as i64 == BATCH {
                    continue;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "could not read due deliveries"),
        }
        tokio::select! {
            _ = wakeup.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_an_hour() {
        assert_eq!(retry_delay(60, 1), Duration::from_secs(60));
        assert_eq!(retry_delay(60, 2), Duration::from_secs(120));
        assert_eq!(retry_delay(60, 4), Duration::from_secs(480));
        assert_eq!(retry_delay(60, 10), Duration::from_secs(3600));
        assert_eq!(retry_delay(1, 3), Duration::from_secs(4));
    }
}
