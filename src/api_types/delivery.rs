//! Rookery's delivery entities (docs/API.md, "Delivery state"): where an activity went, and how
//! the server it goes to is doing. The author sees their statuses' deliveries
//! (`GET /api/v1/statuses/:id/deliveries`); admins the whole queue (`GET /api/v1/admin/deliveries`)
//! and every server (`GET /api/v1/admin/instances`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::storage::deliveries::DeliveryRow;
use crate::storage::instances::InstanceRow;

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// How a remote server is doing, from our deliveries to it.
#[derive(Clone, Debug, Serialize)]
pub struct ServerHealth {
    pub domain: String,
    /// `reachable` (its last attempt succeeded, or none failed yet), `failing` (its last attempts
    /// failed; each delivery keeps its own back-off) or `unreachable` (failing for longer than
    /// `federation.unreachable_after_hours`; one probe at a time until it answers).
    pub state: &'static str,
    /// Failed attempts since its last success.
    pub failures: i64,
    /// When its current run of failures began.
    pub failing_since: Option<String>,
    pub unreachable_since: Option<String>,
    pub last_success_at: Option<String>,
    pub last_failure_at: Option<String>,
}

impl ServerHealth {
    /// The health of `domain` from its row (`None`: never failed, nothing recorded yet).
    pub fn new(domain: &str, row: Option<&InstanceRow>) -> ServerHealth {
        let state = match row {
            Some(r) if r.unreachable_since.is_some() => "unreachable",
            Some(r) if r.failures > 0 => "failing",
            _ => "reachable",
        };
        ServerHealth {
            domain: domain.to_string(),
            state,
            failures: row.map_or(0, |r| r.failures),
            failing_since: row.and_then(|r| r.failing_since).map(time),
            unreachable_since: row.and_then(|r| r.unreachable_since).map(time),
            last_success_at: row.and_then(|r| r.last_success_at).map(time),
            last_failure_at: row.and_then(|r| r.last_failure_at).map(time),
        }
    }
}

/// One activity's delivery to one inbox.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// Admins only: the queue row, the activity, who sent it and about which status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    pub domain: String,
    pub inbox: String,
    /// `pending`, `delivered` or `failed` (given up, or refused by the receiver).
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// For a pending delivery: when it is tried next.
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    /// The receiving server's health.
    pub server: ServerHealth,
    /// The same in one sentence, for people: "waiting for DOMAIN (unreachable since …), next try
    /// at …", "delivered to DOMAIN at …", "not delivered to DOMAIN: …".
    pub summary: String,
}

impl Delivery {
    /// The delivery `d` to a server whose health row is `health`; `admin` adds the queue fields.
    pub fn new(d: &DeliveryRow, health: Option<&InstanceRow>, admin: bool) -> Delivery {
        let server = ServerHealth::new(&d.domain, health);
        let next = (d.state == "pending").then(|| time(d.next_attempt_at));
        let summary = match d.state.as_str() {
            "delivered" => format!(
                "delivered to {} at {}",
                d.domain,
                d.delivered_at.map(time).unwrap_or_default()
            ),
            "failed" => format!(
                "not delivered to {}: {}",
                d.domain,
                d.last_error.as_deref().unwrap_or("given up")
            ),
            _ => {
                let next = next.clone().unwrap_or_default();
                match (
                    server.state,
                    &server.unreachable_since,
                    &server.failing_since,
                ) {
                    ("unreachable", Some(since), _) => format!(
                        "waiting for {} (unreachable since {since}), next try at {next}",
                        d.domain
                    ),
                    ("failing", _, Some(since)) => format!(
                        "waiting for {} (failing since {since}: {}), next try at {next}",
                        d.domain,
                        d.last_error.as_deref().unwrap_or("no answer")
                    ),
                    _ if d.attempts > 0 => format!(
                        "waiting for {} ({}), next try at {next}",
                        d.domain,
                        d.last_error.as_deref().unwrap_or("no answer")
                    ),
                    _ => format!("queued for {}, next try at {next}", d.domain),
                }
            }
        };
        Delivery {
            id: admin.then(|| d.id.to_string()),
            activity_id: admin.then(|| d.activity_id.clone()),
            actor_id: admin.then(|| d.actor_id.to_string()),
            status_id: if admin {
                d.status_id.map(|s| s.to_string())
            } else {
                None
            },
            created_at: admin.then(|| time(d.created_at)),
            domain: d.domain.clone(),
            inbox: d.inbox_url.clone(),
            state: d.state.clone(),
            attempts: d.attempts,
            last_error: d.last_error.clone(),
            next_attempt_at: next,
            delivered_at: d.delivered_at.map(time),
            server,
            summary,
        }
    }
}
