//! Streaming events between nodes (issue 28, DESIGN.md §5c): each node sends the events its
//! services publish with PostgreSQL `NOTIFY` on one channel, and listens on it for the others'.
//! One sending task per node keeps a node's events in order; each node hears each event once and
//! skips its own. A payload over [`INLINE_MAX`] bytes goes by reference: the event is stored in
//! `stream_events` and its ID notified. The same channel carries what writes changed
//! ([`forward_changes`]), so every node's caches drop it at once. A listener that loses its connection reconnects (sqlx's
//! `PgListener`); events sent meanwhile are not replayed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::mpsc;

use super::{Event, Hub, StreamKey};

/// The `LISTEN`/`NOTIFY` channel.
pub const CHANNEL: &str = "rookery_events";
/// Largest notification sent inline, in bytes (PostgreSQL's limit is 8,000).
pub const INLINE_MAX: usize = 7000;
/// How long a stored event is kept for the nodes to read.
const STORED_FOR: chrono::Duration = chrono::Duration::minutes(5);

/// Event names a node accepts from others (an [`Event`]'s name is a static string).
const NAMES: &[&str] = &[
    "update",
    "status.update",
    "delete",
    "notification",
    "conversation",
    "announcement",
    "announcement.reaction",
    "announcement.delete",
    "filters_changed",
    "story",
    "rookery.presence",
    "rookery.receipt",
    "rookery.typing",
];

/// An event, or a batch of cache changes, on the wire.
#[derive(Debug, Deserialize, Serialize)]
struct Wire {
    /// The sending node (`jobs::node_id`).
    node: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<WireEvent>,
    /// A stored event's ID, when it was too large to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stored: Option<i64>,
    /// What writes on the sending node changed (`storage::changes`): `[kind, key or null]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    changes: Vec<(u8, Option<i64>)>,
}

/// Most changes sent in one notification (each about 25 bytes on the wire).
const CHANGES_PER_MESSAGE: usize = 200;

#[derive(Debug, Deserialize, Serialize)]
struct WireEvent {
    keys: Vec<StreamKey>,
    event: String,
    payload: String,
    author_id: Option<i64>,
}

impl WireEvent {
    fn of(e: &Event) -> WireEvent {
        WireEvent {
            keys: e.keys.clone(),
            event: e.event.to_string(),
            payload: e.payload.clone(),
            author_id: e.author_id,
        }
    }

    fn into_event(self) -> Option<Event> {
        let name = NAMES.iter().find(|n| **n == self.event)?;
        Some(Event {
            keys: self.keys,
            event: name,
            payload: self.payload,
            author_id: self.author_id,
        })
    }
}

/// Connects `hub` to the other nodes on `pool`'s database: starts the sending and the listening
/// task (both run until the process ends).
pub fn start(hub: &Hub, pool: PgPool, node: &'static str) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![start_sending(hub, pool.clone(), node)];
    tasks.push(tokio::spawn(listen(hub.clone(), pool, node)));
    tasks
}

/// Sends what writes in this process change (`storage::changes`) to the other nodes, so their
/// caches drop it at once rather than when it expires; changes that pile up go together, a few
/// hundred per notification. Runs until the process ends (a command-line process's last changes
/// go when it waits for the task).
pub fn forward_changes(pool: PgPool, node: &'static str) -> tokio::task::JoinHandle<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(u8, Option<i64>)>();
    crate::storage::changes::forward_to(Box::new(move |kind, key| {
        QUEUED.fetch_add(1, Ordering::SeqCst);
        let _ = tx.send((kind, key));
    }));
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut changes = vec![first];
            while changes.len() < CHANGES_PER_MESSAGE {
                match rx.try_recv() {
                    Ok(c) => changes.push(c),
                    Err(_) => break,
                }
            }
            let taken = changes.len() as u64;
            changes.sort_unstable();
            changes.dedup();
            let wire = Wire {
                node: node.to_string(),
                event: None,
                stored: None,
                changes,
            };
            let sent = async {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(serde_json::to_string(&wire)?)
                    .execute(&pool)
                    .await?;
                anyhow::Ok(())
            };
            if let Err(e) = sent.await {
                tracing::warn!(error = %e, "could not send cache changes to the other nodes");
            }
            SENT.fetch_add(taken, Ordering::SeqCst);
            FLUSHED.notify_waiters();
        }
    })
}

/// Changes handed to [`forward_changes`], and those it has sent (or failed to send).
static QUEUED: AtomicU64 = AtomicU64::new(0);
static SENT: AtomicU64 = AtomicU64::new(0);

/// Sends what `hub` publishes to the other nodes, without listening (a command-line process:
/// `rookery admin announcement create`). The task ends after [`Hub::disconnect`], once its queue
/// is sent.
pub fn start_sending(hub: &Hub, pool: PgPool, node: &'static str) -> tokio::task::JoinHandle<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    if let Ok(mut o) = hub.outbox.lock() {
        *o = Some(tx);
    }
    tokio::spawn(send(pool, rx, node))
}

async fn send(pool: PgPool, mut rx: mpsc::UnboundedReceiver<Arc<Event>>, node: &'static str) {
    while let Some(event) = rx.recv().await {
        if let Err(e) = send_one(&pool, &event, node).await {
            tracing::warn!(error = %e, event = event.event, "could not send an event to the other nodes");
        }
        EVENTS_SENT.fetch_add(1, Ordering::SeqCst);
        FLUSHED.notify_waiters();
    }
}

/// Events handed to the sending task ([`Hub::publish`]), and those it has sent (or failed to).
pub(super) static EVENTS_QUEUED: AtomicU64 = AtomicU64::new(0);
static EVENTS_SENT: AtomicU64 = AtomicU64::new(0);

/// Waits (at most `limit`) until every event published and every cache change made so far by
/// this process has gone to the other nodes. A write request and a job wait for it before they
/// answer or finish, and a command-line process before it exits, so a node killed right after
/// cannot lose what it committed and reported done.
pub async fn flushed(limit: std::time::Duration) {
    let events = EVENTS_QUEUED.load(Ordering::SeqCst);
    let changes = QUEUED.load(Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let notified = FLUSHED.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if EVENTS_SENT.load(Ordering::SeqCst) >= events && SENT.load(Ordering::SeqCst) >= changes {
            return;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            tracing::warn!(
                waited_ms = limit.as_millis() as u64,
                "events or cache changes still unsent to the other nodes; answering anyway"
            );
            return;
        }
    }
}

/// Woken each time the sending tasks have sent something.
static FLUSHED: std::sync::LazyLock<tokio::sync::Notify> =
    std::sync::LazyLock::new(tokio::sync::Notify::new);

async fn send_one(pool: &PgPool, event: &Event, node: &str) -> anyhow::Result<()> {
    let wire = Wire {
        node: node.to_string(),
        event: Some(WireEvent::of(event)),
        stored: None,
        changes: Vec::new(),
    };
    let mut text = serde_json::to_string(&wire)?;
    if text.len() > INLINE_MAX {
        let id = crate::storage::ids::new_id();
        let body = serde_json::to_string(&WireEvent::of(event))?;
        let now = chrono::Utc::now();
        sqlx::query("INSERT INTO stream_events (id, body, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(body)
            .bind(now)
            .execute(pool)
            .await?;
        // Old rows go with the new ones: the table holds a few minutes of large events.
        sqlx::query("DELETE FROM stream_events WHERE created_at < $1")
            .bind(now - STORED_FOR)
            .execute(pool)
            .await?;
        text = serde_json::to_string(&Wire {
            node: node.to_string(),
            event: None,
            stored: Some(id),
            changes: Vec::new(),
        })?;
    }
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(text)
        .execute(pool)
        .await?;
    Ok(())
}

async fn listen(hub: Hub, pool: PgPool, node: &'static str) {
    loop {
        match listen_until_error(&hub, &pool, node).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "the event listener failed; listening again in 1 s");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

async fn listen_until_error(hub: &Hub, pool: &PgPool, node: &str) -> anyhow::Result<()> {
    // A connection of its own, not one of the pool's: a listener holds its connection for good,
    // which would leave requests one connection fewer.
    let own = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*pool.connect_options()).clone())
        .await?;
    let mut listener = sqlx::postgres::PgListener::connect_with(&own).await?;
    listener.listen(CHANNEL).await?;
    loop {
        let n = listener.recv().await?;
        let wire: Wire = match serde_json::from_str(n.payload()) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "an unreadable event from another node");
                continue;
            }
        };
        if wire.node == node {
            continue;
        }
        for (kind, key) in &wire.changes {
            if let Some(kind) = crate::storage::changes::Kind::from_number(*kind) {
                crate::storage::changes::changed_elsewhere(kind, *key);
            }
        }
        let event = match (wire.event, wire.stored) {
            (Some(e), _) => e,
            (None, Some(id)) => {
                let body: Option<String> =
                    sqlx::query_scalar("SELECT body FROM stream_events WHERE id = $1")
                        .bind(id)
                        .fetch_optional(pool)
                        .await?;
                match body.and_then(|b| serde_json::from_str::<WireEvent>(&b).ok()) {
                    Some(e) => e,
                    None => continue,
                }
            }
            (None, None) => continue,
        };
        if let Some(e) = event.into_event() {
            hub.publish_local(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_cross_the_wire_unchanged() {
        let e = Event {
            keys: vec![
                StreamKey::User(7),
                StreamKey::Hashtag("birds".into()),
                StreamKey::List { id: 1, owner: 7 },
            ],
            event: "status.update",
            payload: "{\"id\":\"1\"}".into(),
            author_id: Some(9),
        };
        let text = serde_json::to_string(&WireEvent::of(&e)).unwrap();
        let back = serde_json::from_str::<WireEvent>(&text)
            .unwrap()
            .into_event()
            .unwrap();
        assert_eq!(back.keys, e.keys);
        assert_eq!(back.event, "status.update");
        assert_eq!(back.payload, e.payload);
        assert_eq!(back.author_id, Some(9));
        let unknown = WireEvent {
            event: "evil".into(),
            ..WireEvent::of(&e)
        };
        assert!(unknown.into_event().is_none());
    }
}
