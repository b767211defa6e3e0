//! The streaming hub: services publish events (a new status, a notification, a deletion) keyed by
//! the streams they belong to; each streaming connection subscribes and keeps those matching its
//! subscriptions (docs.joinmastodon.org/methods/streaming/).
//!
//! In-process, a broadcast channel. Several nodes on one PostgreSQL database
//! (`federation.shared_queue`) also exchange every [`Event`] through `LISTEN/NOTIFY`
//! ([`cluster`]); publishers and subscribers only see [`Hub`].

pub mod cluster;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

/// Where an event goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamKey {
    /// An account's home stream (home timeline updates, its notifications, deletions).
    User(i64),
    /// All public posts.
    Public,
    /// Public posts from this instance.
    PublicLocal,
    /// Public posts from other instances.
    PublicRemote,
    /// Public posts with a hashtag (lower-case name).
    Hashtag(String),
    /// Local public posts with a hashtag.
    HashtagLocal(String),
    /// An account's direct conversations.
    Direct(i64),
    /// A list's timeline, keyed with its owner so that only the owner's subscription matches.
    List { id: i64, owner: i64 },
    /// Announcements: every signed-in user's `user` stream.
    Announcements,
}

/// One event: Mastodon's event name and its payload (a JSON document as text, or a status ID for
/// `delete`).
#[derive(Clone, Debug)]
pub struct Event {
    pub keys: Vec<StreamKey>,
    pub event: &'static str,
    pub payload: String,
    /// The account whose content this is, so subscribers can drop authors they block or mute.
    pub author_id: Option<i64>,
}

/// Capacity of the broadcast buffer: a subscriber that falls this far behind skips ahead.
const BUFFER: usize = 4096;

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Event>>,
    /// Events for the other nodes, while [`cluster::start`] has this hub connected.
    outbox: Arc<Mutex<Option<mpsc::UnboundedSender<cluster::Outgoing>>>>,
    /// Until when (ms on [`clock_ms`]) another node is known to have a streaming connection.
    listeners_elsewhere_until: Arc<AtomicU64>,
    /// When (ms on [`clock_ms`]) this node last told the others it has one.
    announced_at: Arc<AtomicU64>,
}

/// Milliseconds since this process first asked (a monotonic clock for the hub's bookkeeping).
fn clock_ms() -> u64 {
    static START: std::sync::LazyLock<std::time::Instant> =
        std::sync::LazyLock::new(std::time::Instant::now);
    START.elapsed().as_millis() as u64
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        let (tx, _) = broadcast::channel(BUFFER);
        Hub {
            tx,
            outbox: Arc::new(Mutex::new(None)),
            listeners_elsewhere_until: Arc::new(AtomicU64::new(0)),
            announced_at: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Sends an event to every current subscriber (none listening is fine), and, when clustered,
    /// to the other nodes while one of them has streaming connections (an event nobody there can
    /// receive is not sent, as it is not rendered when nobody anywhere can).
    pub fn publish(&self, event: Event) {
        let event = Arc::new(event);
        if self.listeners_elsewhere() {
            self.send_out(cluster::Outgoing::Event(event.clone()));
        }
        let _ = self.tx.send(event);
    }

    /// Sends an event that came from another node to this node's subscribers only.
    pub fn publish_local(&self, event: Event) {
        let _ = self.tx.send(Arc::new(event));
    }

    /// True when a streaming connection may be listening, so rendering an event's payload is
    /// worth it: one here, or, when clustered, one on another node as that node last said
    /// ([`cluster::LISTENERS_HEARD_FOR`]).
    pub fn has_listeners(&self) -> bool {
        self.tx.receiver_count() > 0 || self.listeners_elsewhere()
    }

    /// True when clustered and another node said it has streaming connections
    /// ([`cluster::LISTENERS_HEARD_FOR`]).
    fn listeners_elsewhere(&self) -> bool {
        clock_ms() < self.listeners_elsewhere_until.load(Ordering::Relaxed)
            && self.outbox.lock().is_ok_and(|o| o.is_some())
    }

    /// Counts on another node's streaming connections for `how_long` (`Duration::MAX`: for good,
    /// for a command-line process, which cannot hear the others and publishes as if someone
    /// listens).
    fn heard_listeners(&self, how_long: std::time::Duration) {
        let until =
            clock_ms().saturating_add(u64::try_from(how_long.as_millis()).unwrap_or(u64::MAX));
        self.listeners_elsewhere_until
            .fetch_max(until, Ordering::Relaxed);
    }

    /// Tells the other nodes that this one has streaming connections, unless it did less than
    /// `min_gap` ago. Returns whether it did.
    fn announce_listeners(&self, min_gap: std::time::Duration) -> bool {
        let now = clock_ms();
        let last = self.announced_at.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < min_gap.as_millis() as u64 {
            return false;
        }
        if self
            .announced_at
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        self.send_out(cluster::Outgoing::Listening)
    }

    /// Stops sending to the other nodes; the sending task ends once it has sent what is queued
    /// (a command-line process waits for it before exiting).
    pub fn disconnect(&self) {
        if let Ok(mut o) = self.outbox.lock()
            && let Some(out) = o.take()
        {
            cluster::queued();
            let _ = out.send(cluster::Outgoing::Close);
        }
    }

    /// Asks the other nodes whether they have streaming connections (they answer with
    /// announcements).
    fn ask_for_listeners(&self) {
        self.send_out(cluster::Outgoing::Asking);
    }

    /// Hands `item` to the sending task when connected to other nodes; false otherwise.
    fn send_out(&self, item: cluster::Outgoing) -> bool {
        match self.outbox.lock().ok().as_deref().and_then(Option::as_ref) {
            Some(out) => {
                cluster::queued();
                out.send(item).is_ok()
            }
            None => false,
        }
    }

    /// A new streaming connection's feed. When clustered, the other nodes are told at once that
    /// this node has a listener (at most once a second), and this returns once they have been
    /// (at most 500 ms): what they publish from then on reaches it.
    pub async fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        let rx = self.tx.subscribe();
        if self.announce_listeners(std::time::Duration::from_secs(1)) {
            cluster::flushed(std::time::Duration::from_millis(500)).await;
        }
        rx
    }

    /// How many streaming connections this node has.
    pub fn listeners_here(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// One stream a connection asked for, as named in the API (`user`, `public:local`, `hashtag` …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The API name, echoed in the `stream` field of WebSocket messages.
    pub name: String,
    pub tag: Option<String>,
    key: StreamKey,
    notifications_only: bool,
}

impl Subscription {
    /// Parses a stream name (and `tag`: the hashtag of hashtag streams, the list ID of `list`) for
    /// `viewer`. A `list` stream only ever carries the viewer's own list (see [`StreamKey::List`]).
    ///
    /// Errors: a message for unknown streams, user and list streams without a signed-in viewer,
    /// hashtag streams without a tag, list streams without a numeric list ID.
    pub fn parse(
        name: &str,
        tag: Option<&str>,
        viewer: Option<i64>,
    ) -> Result<Subscription, String> {
        let need_user = || viewer.ok_or_else(|| "This stream requires an access token".to_string());
        let need_tag = || {
            tag.map(|t| t.trim_start_matches('#').to_lowercase())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| "Hashtag streams need a tag".to_string())
        };
        let (key, notifications_only) = match name {
            "user" => (StreamKey::User(need_user()?), false),
            "user:notification" => (StreamKey::User(need_user()?), true),
            "direct" => (StreamKey::Direct(need_user()?), false),
            "public" => (StreamKey::Public, false),
            "public:local" => (StreamKey::PublicLocal, false),
            "public:remote" => (StreamKey::PublicRemote, false),
            "hashtag" => (StreamKey::Hashtag(need_tag()?), false),
            "hashtag:local" => (StreamKey::HashtagLocal(need_tag()?), false),
            "list" => {
                let owner = need_user()?;
                let id = tag
                    .and_then(|t| t.parse::<i64>().ok())
                    .ok_or_else(|| "List streams need a list ID".to_string())?;
                (StreamKey::List { id, owner }, false)
            }
            other => return Err(format!("Unknown stream type: {other}")),
        };
        let tag = match &key {
            StreamKey::Hashtag(t) | StreamKey::HashtagLocal(t) => Some(t.clone()),
            StreamKey::List { id, .. } => Some(id.to_string()),
            _ => None,
        };
        Ok(Subscription {
            name: name.to_string(),
            tag,
            key,
            notifications_only,
        })
    }

    pub fn matches(&self, e: &Event) -> bool {
        let announcement =
            matches!(self.key, StreamKey::User(_)) && e.keys.contains(&StreamKey::Announcements);
        (e.keys.contains(&self.key) || announcement)
            && (!self.notifications_only || e.event == "notification")
    }

    /// True for streams other people's content reaches without a follow (where blocks and mutes
    /// must be applied per subscriber).
    pub fn is_public(&self) -> bool {
        !matches!(self.key, StreamKey::User(_) | StreamKey::Direct(_))
    }

    /// The filter context its statuses are judged in (docs.joinmastodon.org/entities/Filter/):
    /// `home` for the user and list streams, `public` for the others.
    pub fn filter_context(&self) -> &'static str {
        match self.key {
            StreamKey::User(_) | StreamKey::Direct(_) | StreamKey::List { .. } => "home",
            _ => "public",
        }
    }

    /// The `stream` array of a WebSocket message: `["hashtag", "rust"]` or `["user"]`.
    pub fn stream_field(&self) -> Vec<String> {
        let mut v = vec![self.name.clone()];
        if let Some(t) = &self.tag {
            v.push(t.clone());
        }
        v
    }
}

/// Which local accounts have a streaming connection open on this node (presence, an extension:
/// docs/API.md, Conversations). Counts connections, so a second app does not flip the state.
#[derive(Default)]
pub struct Presence {
    online: std::sync::Mutex<std::collections::HashMap<i64, usize>>,
}

impl Presence {
    /// Counts a new connection of `account`; true when it was offline until now.
    pub fn connect(&self, account: i64) -> bool {
        let mut m = self.online.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(account).or_insert(0);
        *n += 1;
        *n == 1
    }

    /// Counts a closed connection of `account`; true when that was its last one.
    pub fn disconnect(&self, account: i64) -> bool {
        let mut m = self.online.lock().unwrap_or_else(|e| e.into_inner());
        match m.get_mut(&account) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                m.remove(&account);
                true
            }
            None => false,
        }
    }

    pub fn is_online(&self, account: i64) -> bool {
        let m = self.online.lock().unwrap_or_else(|e| e.into_inner());
        m.contains_key(&account)
    }

    /// The accounts connected here.
    pub fn online_accounts(&self) -> Vec<i64> {
        let m = self.online.lock().unwrap_or_else(|e| e.into_inner());
        m.keys().copied().collect()
    }
}
