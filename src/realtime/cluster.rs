//! Streaming events between nodes (issue 28, DESIGN.md §5c): each node sends the events its
//! services publish with PostgreSQL `NOTIFY` on one channel, and listens on it for the others'.
//! One sending task per node keeps a node's events in order; each node hears each event once and
//! skips its own. What piles up while one notification is on its way goes in the next together,
//! packed up to [`INLINE_MAX`] bytes per notification; an event larger than that goes by
//! reference: it is stored in `stream_events` and its ID notified. The same channel carries what
//! writes changed (`storage::changes`), so every node's caches drop it at once (changed keys
//! gathered for [`KEYS_GATHERED_FOR`] first). A listener that
//! loses its connection reconnects (sqlx's `PgListener`); events sent meanwhile are not replayed.

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
    "rookery.room.message",
    "rookery.room.message.delete",
    "rookery.room.update",
    "rookery.room.removed",
    "rookery.room.invitation",
];

/// One notification on the wire: what a node sent in one go — events in the order published,
/// references to stored events, and cache changes. Built by hand in [`Pack`] (each event is
/// serialized once), read with serde.
#[derive(Debug, Deserialize)]
struct Wire {
    /// The sending node (`jobs::node_id`); always first on the wire, so a node skips its own
    /// notifications without parsing them.
    node: String,
    /// The sending node's count of notifications (PostgreSQL drops a notification identical to
    /// one sent earlier in the same transaction; this keeps every one distinct).
    #[serde(default)]
    #[allow(dead_code)]
    seq: u64,
    #[serde(default)]
    events: Vec<WireItem>,
    /// What writes on the sending node changed (`storage::changes`): `[kind, key or null]`.
    #[serde(default)]
    changes: Vec<(u8, Option<i64>)>,
    /// The sending node has streaming connections ([`Hub::has_listeners`]).
    #[serde(default)]
    listening: bool,
    /// The sending node just started listening and asks who has streaming connections.
    #[serde(default)]
    asking: bool,
}

/// An event inline, or the ID of one stored in `stream_events` because it was too large.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
enum WireItem {
    Inline(WireEvent),
    Stored { stored: i64 },
}

/// Most items handed to the sending task that go out in one round trip.
const BATCH_MAX: usize = 256;

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

/// What the sending task is handed: an event the hub published, a change a write made, or the
/// end of a command-line process's sending.
pub(super) enum Outgoing {
    Event(Arc<Event>),
    /// A whole kind changed (`key` `None`), or a key's change that came in a batch with others:
    /// waited for by [`flushed`].
    Change(u8, Option<i64>),
    /// A key's change (an account's counters, a status's row …): gathered for up to
    /// [`KEYS_GATHERED_FOR`] with other writes' keys, not waited for. Every cache these reach
    /// expires within seconds (docs/ARCHITECTURE.md, "Caches"), the bound when a node dies
    /// before sending them.
    KeyChange(u8, i64),
    /// This node has streaming connections.
    Listening,
    /// This node asks the others whether they have streaming connections.
    Asking,
    Close,
}

/// How long a node counts on another's streaming connections after it said it had some; a node
/// with connections says so every [`ANNOUNCE_EVERY`], at once when one opens (at most once a
/// second), and when a node that just started asks. Until then, an event nobody could receive
/// is neither rendered nor sent.
pub const LISTENERS_HEARD_FOR: std::time::Duration = std::time::Duration::from_secs(30);
/// How often a node with streaming connections tells the others.
const ANNOUNCE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a node that starts listening counts on the others' streaming connections while their
/// answers to its question are on their way.
const ASKING_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
/// How long the sending task gathers changed keys before it sends them, unless an event or
/// another item waited for goes first and takes them along: under a steady stream of posts, one
/// notification per this interval instead of one per transaction.
pub const KEYS_GATHERED_FOR: std::time::Duration = std::time::Duration::from_millis(10);

/// Connects `hub` to the other nodes on `pool`'s database: starts the sending task (events and
/// cache changes) and the listening task (both run until the process ends).
pub fn start(hub: &Hub, pool: PgPool, node: &'static str) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![connect_outbox(hub, pool.clone(), node)];
    tasks.push(tokio::spawn(listen(hub.clone(), pool, node)));
    tasks
}

/// Numbers the notifications transactions send themselves (kept apart from the sending task's).
static IN_TRANSACTION_SEQ: AtomicU64 = AtomicU64::new(1 << 48);

/// Items handed to the sending task, and those it has sent (or failed to send).
static QUEUED: AtomicU64 = AtomicU64::new(0);
static SENT: AtomicU64 = AtomicU64::new(0);

/// Counts an item handed to the sending task (the hub calls it for each event).
pub(super) fn queued() {
    QUEUED.fetch_add(1, Ordering::SeqCst);
}

/// Sends what `hub` publishes and what this process's writes change (`storage::changes`) to the
/// other nodes, without listening: one task, so the other nodes see them in order. Whatever has
/// piled up while a notification was on its way goes in the next round trip together (at most
/// [`BATCH_MAX`] items), packed a few kB per notification. After [`Hub::disconnect`] the task
/// sends what is queued and ends (a command-line process waits for it before exiting). Not
/// hearing the others, the hub publishes every event as if a node had a listener.
pub fn start_sending(hub: &Hub, pool: PgPool, node: &'static str) -> tokio::task::JoinHandle<()> {
    hub.heard_listeners(std::time::Duration::MAX);
    connect_outbox(hub, pool, node)
}

fn connect_outbox(hub: &Hub, pool: PgPool, node: &'static str) -> tokio::task::JoinHandle<()> {
    // A transaction's changes go with its commit; only those too many for one notification, and
    // changes made outside transactions, come through the sending task.
    crate::storage::changes::notify_in_transactions(
        CHANNEL,
        Box::new(move |changes| {
            let mut pack = Pack::new(node);
            for c in changes {
                if !pack.fits(Pack::CHANGE) {
                    return None;
                }
                pack.changes.push(*c);
                pack.size += Pack::CHANGE;
            }
            pack.take(&mut IN_TRANSACTION_SEQ.fetch_add(1, Ordering::Relaxed))
                .ok()
        }),
    );
    let (tx, rx) = mpsc::unbounded_channel();
    let changes = tx.clone();
    crate::storage::changes::forward_to(Box::new(move |kind, key| {
        let _ = changes.send(match key {
            Some(key) => Outgoing::KeyChange(kind, key),
            None => {
                queued();
                Outgoing::Change(kind, None)
            }
        });
    }));
    if let Ok(mut o) = hub.outbox.lock() {
        *o = Some(tx);
    }
    tokio::spawn(send(hub.clone(), pool, rx, node))
}

async fn send(
    hub: Hub,
    pool: PgPool,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    node: &'static str,
) {
    let mut seq = 0u64;
    let mut announce = tokio::time::interval(ANNOUNCE_EVERY);
    loop {
        let first = tokio::select! {
            o = rx.recv() => match o {
                Some(o) => o,
                None => return,
            },
            _ = announce.tick() => {
                if hub.listeners_here() > 0 {
                    hub.announce_listeners(ANNOUNCE_EVERY / 2);
                }
                continue;
            }
        };
        let mut batch = vec![first];
        while batch.len() < BATCH_MAX {
            match rx.try_recv() {
                Ok(o) => batch.push(o),
                Err(_) => break,
            }
        }
        if batch.iter().all(|o| matches!(o, Outgoing::KeyChange(..))) {
            // Nobody waits for these: gather more writes' keys, or go with the next item that is
            // waited for.
            let until = tokio::time::Instant::now() + KEYS_GATHERED_FOR;
            while batch.len() < BATCH_MAX {
                match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(Some(o)) => {
                        let waited_for = !matches!(o, Outgoing::KeyChange(..));
                        batch.push(o);
                        if waited_for {
                            break;
                        }
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
        let taken = batch
            .iter()
            .filter(|o| !matches!(o, Outgoing::KeyChange(..)))
            .count() as u64;
        let closing = batch.iter().any(|o| matches!(o, Outgoing::Close));
        if let Err(e) = send_batch(&pool, batch, node, &mut seq).await {
            tracing::warn!(error = %e, items = taken, "could not send events or cache changes to the other nodes");
        }
        sent(taken);
        if closing {
            return;
        }
    }
}

/// Waits (at most `limit`) until every event published and every whole-kind cache change made so
/// far by this process has gone to the other nodes (changed keys go within [`KEYS_GATHERED_FOR`],
/// not waited for). A write request and a job wait for it before they answer or finish, and a
/// command-line process before it exits (its keys go with its last items), so a node killed
/// right after cannot lose what it committed and reported done.
pub async fn flushed(limit: std::time::Duration) {
    let target = QUEUED.load(Ordering::SeqCst);
    let (tx, rx) = tokio::sync::oneshot::channel();
    {
        let mut waiting = WAITING.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock the sending task takes after counting what it sent.
        if SENT.load(Ordering::SeqCst) >= target {
            return;
        }
        waiting.push((target, tx));
    }
    if tokio::time::timeout(limit, rx).await.is_err() {
        tracing::warn!(
            waited_ms = limit.as_millis() as u64,
            "events or cache changes still unsent to the other nodes; answering anyway"
        );
    }
}

/// Callers of [`flushed`] still waiting: how many items must have been sent, and whom to wake
/// then (each once, rather than every waiter at every notification).
static WAITING: std::sync::Mutex<Vec<(u64, tokio::sync::oneshot::Sender<()>)>> =
    std::sync::Mutex::new(Vec::new());

/// Counts `n` more items sent and wakes the waiters they complete.
fn sent(n: u64) {
    let total = SENT.fetch_add(n, Ordering::SeqCst) + n;
    let mut waiting = WAITING.lock().unwrap_or_else(|p| p.into_inner());
    let mut i = 0;
    while i < waiting.len() {
        if waiting[i].0 <= total {
            let (_, tx) = waiting.swap_remove(i);
            let _ = tx.send(());
        } else {
            i += 1;
        }
    }
}

/// A notification being filled: its events (already JSON) and changes, under [`INLINE_MAX`].
struct Pack<'a> {
    node: &'a str,
    items: Vec<String>,
    changes: Vec<(u8, Option<i64>)>,
    listening: bool,
    asking: bool,
    /// Bytes so far, counting a margin for the frame.
    size: usize,
}

impl<'a> Pack<'a> {
    /// Room for the frame: `{"node":…,"seq":…,"events":[],"changes":[],"listening":false,…}`.
    const FRAME: usize = 160;
    /// Bytes of one change on the wire, at most (`[5,-9223372036854775808],`).
    const CHANGE: usize = 26;

    fn new(node: &'a str) -> Pack<'a> {
        Pack {
            node,
            items: Vec::new(),
            changes: Vec::new(),
            listening: false,
            asking: false,
            size: Self::FRAME + node.len(),
        }
    }

    fn fits(&self, bytes: usize) -> bool {
        self.size + bytes + 1 <= INLINE_MAX
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty() && self.changes.is_empty() && !self.listening && !self.asking
    }

    /// The notification's text, leaving the pack empty.
    fn take(&mut self, seq: &mut u64) -> anyhow::Result<String> {
        *seq += 1;
        let mut changes = std::mem::take(&mut self.changes);
        changes.sort_unstable();
        changes.dedup();
        let text = format!(
            "{{\"node\":{},\"seq\":{seq},\"events\":[{}],\"changes\":{},\"listening\":{},\"asking\":{}}}",
            serde_json::to_string(self.node)?,
            self.items.join(","),
            serde_json::to_string(&changes)?,
            self.listening,
            self.asking
        );
        self.items.clear();
        self.listening = false;
        self.asking = false;
        self.size = Self::FRAME + self.node.len();
        Ok(text)
    }
}

/// Sends `batch` in one round trip: as few notifications as fit, in order; an event too large for
/// one is stored and its ID sent in its place.
async fn send_batch(
    pool: &PgPool,
    batch: Vec<Outgoing>,
    node: &str,
    seq: &mut u64,
) -> anyhow::Result<()> {
    let mut texts = Vec::new();
    let mut pack = Pack::new(node);
    let mut stored_any = false;
    for item in batch {
        let item = match item {
            Outgoing::KeyChange(kind, key) => Outgoing::Change(kind, Some(key)),
            other => other,
        };
        match item {
            Outgoing::Close | Outgoing::KeyChange(..) => {}
            Outgoing::Listening => pack.listening = true,
            Outgoing::Asking => pack.asking = true,
            Outgoing::Change(kind, key) => {
                if !pack.fits(Pack::CHANGE) {
                    texts.push(pack.take(seq)?);
                }
                pack.changes.push((kind, key));
                pack.size += Pack::CHANGE;
            }
            Outgoing::Event(event) => {
                let mut json = serde_json::to_string(&WireEvent::of(&event))?;
                if !Pack::new(node).fits(json.len()) {
                    let id = crate::storage::ids::new_id();
                    sqlx::query(
                        "INSERT INTO stream_events (id, body, created_at) VALUES ($1, $2, $3)",
                    )
                    .bind(id)
                    .bind(&json)
                    .bind(chrono::Utc::now())
                    .execute(pool)
                    .await?;
                    stored_any = true;
                    json = serde_json::to_string(&WireItem::Stored { stored: id })?;
                }
                if !pack.fits(json.len()) {
                    texts.push(pack.take(seq)?);
                }
                pack.size += json.len() + 1;
                pack.items.push(json);
            }
        }
    }
    if !pack.is_empty() {
        texts.push(pack.take(seq)?);
    }
    if stored_any {
        // Old rows go with the new ones: the table holds a few minutes of large events.
        sqlx::query("DELETE FROM stream_events WHERE created_at < $1")
            .bind(chrono::Utc::now() - STORED_FOR)
            .execute(pool)
            .await?;
    }
    match texts.len() {
        0 => {}
        1 => {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(&texts[0])
                .execute(pool)
                .await?;
        }
        // One statement, one transaction: delivered in this order (an array is unnested in order).
        _ => {
            sqlx::query("SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t")
                .bind(CHANNEL)
                .bind(&texts)
                .execute(pool)
                .await?;
        }
    }
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
    // Ask who has listeners, and count on them until the answers are in: a node that just
    // started (or lost its connection a while) cannot know, and an event must not be missed.
    hub.heard_listeners(ASKING_GRACE);
    hub.ask_for_listeners();
    // Every node hears its own notifications too: they are recognised by their first bytes.
    let own_prefix = format!("{{\"node\":{},", serde_json::to_string(node)?);
    loop {
        let n = listener.recv().await?;
        if n.payload().starts_with(&own_prefix) {
            continue;
        }
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
        if wire.listening {
            hub.heard_listeners(LISTENERS_HEARD_FOR);
        }
        if wire.asking && hub.listeners_here() > 0 {
            hub.announce_listeners(std::time::Duration::ZERO);
        }
        for (kind, key) in &wire.changes {
            if let Some(kind) = crate::storage::changes::Kind::from_number(*kind) {
                crate::storage::changes::changed_elsewhere(kind, *key);
            }
        }
        for item in wire.events {
            let event = match item {
                WireItem::Inline(e) => e,
                WireItem::Stored { stored } => {
                    let body: Option<String> =
                        sqlx::query_scalar("SELECT body FROM stream_events WHERE id = $1")
                            .bind(stored)
                            .fetch_optional(pool)
                            .await?;
                    match body.and_then(|b| serde_json::from_str::<WireEvent>(&b).ok()) {
                        Some(e) => e,
                        None => continue,
                    }
                }
            };
            if let Some(e) = event.into_event() {
                hub.publish_local(e);
            }
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
        // Packed with a stored reference and changes, then read back as the listener does.
        let mut pack = Pack::new("9-abc");
        pack.items.push(text.clone());
        pack.items
            .push(serde_json::to_string(&WireItem::Stored { stored: 42 }).unwrap());
        pack.changes.extend([(4, Some(1)), (0, None), (4, Some(1))]);
        let mut seq = 0;
        let wire_text = pack.take(&mut seq).unwrap();
        assert!(wire_text.starts_with("{\"node\":\"9-abc\","), "{wire_text}");
        let wire: Wire = serde_json::from_str(&wire_text).unwrap();
        assert_eq!((wire.node.as_str(), wire.seq), ("9-abc", 1));
        assert_eq!(wire.changes, vec![(0, None), (4, Some(1))]);
        assert!(matches!(&wire.events[0], WireItem::Inline(e) if e.payload == "{\"id\":\"1\"}"));
        assert!(matches!(wire.events[1], WireItem::Stored { stored: 42 }));
        assert!(!wire.listening);
        assert!(pack.is_empty());
        pack.listening = true;
        assert!(!pack.is_empty());
        let wire: Wire = serde_json::from_str(&pack.take(&mut seq).unwrap()).unwrap();
        assert!(wire.listening && wire.events.is_empty() && wire.seq == 2);
        let unknown = WireEvent {
            event: "evil".into(),
            ..WireEvent::of(&e)
        };
        assert!(unknown.into_event().is_none());
    }
}
