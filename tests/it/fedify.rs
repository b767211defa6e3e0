//! Federation with a second, independent ActivityPub implementation: a small peer built on Fedify
//! (`tests/clients/js/fedify-peer.mjs`, run with Node on loopback), which checks every signature
//! strictly in both schemes and signs with RFC 9421 first. Follows both ways, posts, replies with
//! mentions, likes, boosts, direct messages, edits, deletes and the deletion of the Fedify account
//! travel between it and Rookery, once with both sides signing RFC 9421 and once with both signing
//! draft-cavage (Rookery's `rfc9421_signing` off, Fedify's first knock draft-cavage).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::federation::{
    Instance, eventually, follow, local_id, resolve, statuses_of, wait_following,
};
use crate::support::Backend;
use crate::support::binary::free_port;

/// The Fedify peer process; killed when dropped.
struct Peer {
    child: Child,
    base: String,
    domain: String,
    log: std::path::PathBuf,
    http: reqwest::Client,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts the peer; `first_knock` is the scheme Fedify signs with first (`rfc9421` or
    /// `draft-cavage-http-signatures-12`).
    async fn start(dir: &std::path::Path, first_knock: &str) -> Peer {
        let port = free_port();
        let node = std::env::var("ROOKERY_TEST_NODE").unwrap_or_else(|_| "node".into());
        let js = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/js");
        let log = dir.join("fedify.log");
        let child = Command::new(&node)
            .arg("fedify-peer.mjs")
            .arg(port.to_string())
            .current_dir(js)
            .env("FIRST_KNOCK", first_knock)
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(
                std::fs::File::options().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {node} (run scripts/test): {e}"));
        let peer = Peer {
            child,
            base: format!("http://localhost:{port}"),
            domain: format!("localhost:{port}"),
            log,
            http: reqwest::Client::new(),
        };
        let up = eventually(30, || async {
            peer.http
                .get(format!("{}/control/state", peer.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        assert!(up, "the Fedify peer did not start: {}", peer.log());
        peer
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Calls the peer's control API; panics with its log unless it answers 200.
    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/control/{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {v}\n{}", self.log());
        v
    }

    async fn state(&self) -> Value {
        self.http
            .get(format!("{}/control/state", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until the peer received an activity of `kind` matching `check`.
    async fn received(&self, kind: &str, check: impl Fn(&Value) -> bool) -> bool {
        eventually(20, || async {
            self.state().await["received"]
                .as_array()
                .is_some_and(|l| l.iter().any(|a| a["type"] == kind && check(a)))
        })
        .await
    }
}

async fn rookery_and_fedify(rfc9421: bool) {
    let dir = tempfile::tempdir().unwrap();
    // Each side signs with the same scheme first: both are verified, one per run.
    let knock = if rfc9421 {
        "rfc9421"
    } else {
        "draft-cavage-http-signatures-12"
    };
    let peer = Peer::start(dir.path(), knock).await;
    let config =
        format!("[federation]\nallow_private_addresses = true\nrfc9421_signing = {rfc9421}\n");
    let a = Instance::start(Backend::Sqlite, &config).await;
    let alice = a.user("alice").await;
    let alice_uri = format!("http://{}/users/alice", a.domain);
    let fred_handle = format!("fred@{}", peer.domain);
    let fred_uri = format!("{}/users/fred", peer.base);
    let logs = || format!("Rookery:\n{}\nFedify:\n{}", a.log(), peer.log());

    // Follows both ways.
    let fred_id = resolve(&a, &alice, &fred_handle).await;
    follow(&a, &alice, &fred_id).await;
    assert!(wait_following(&a, &alice, &fred_id).await, "{}", logs());
    // Fedify looks handles up by WebFinger over https only; this Rookery runs on http.
    peer.control("follow", json!({"handle": alice_uri})).await;
    let accepted = eventually(20, || async {
        peer.state().await["following"]
            .as_array()
            .is_some_and(|f| f.iter().any(|u| u == alice_uri.as_str()))
    })
    .await;
    assert!(accepted, "Rookery did not accept fred's follow\n{}", logs());

    // Posts both ways.
    let (s, post) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": "hello from Rookery"}),
        )
        .await;
    assert_eq!(s, 200, "{post}");
    let post_uri = post["uri"].as_str().unwrap().to_string();
    assert!(
        peer.received("Create", |c| c["object"]["id"] == post_uri.as_str()
            && c["object"]["content"]
                .as_str()
                .is_some_and(|t| t.contains("hello from Rookery")))
            .await,
        "{}",
        logs()
    );
    let fred_note = peer
        .control("note", json!({"content": "<p>hello from Fedify</p>"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        eventually(20, || async {
            statuses_of(&a, &alice).await.contains(&fred_note)
        })
        .await,
        "fred's post did not reach alice's home\n{}",
        logs()
    );
    let fred_note_here = local_id(&a, &alice, &fred_note).await.unwrap();

    // Replies with mentions both ways.
    let fred_reply = peer
        .control(
            "note",
            json!({"content": format!("<p>@alice nice post</p>"), "mentions": [alice_uri], "inReplyTo": post_uri}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mentioned = eventually(20, || async {
        let (_, n) = a.get("/api/v1/notifications?types[]=mention", &alice).await;
        n.as_array().is_some_and(|l| {
            l.iter().any(|n| {
                n["status"]["uri"] == fred_reply.as_str()
                    && n["status"]["in_reply_to_id"] == post["id"]
            })
        })
    })
    .await;
    assert!(mentioned, "fred's reply did not notify alice\n{}", logs());
    let (s, reply) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": format!("@{fred_handle} thanks"), "in_reply_to_id": fred_note_here}),
        )
        .await;
    assert_eq!(s, 200, "{reply}");
    assert!(
        peer.received("Create", |c| c["object"]["id"] == reply["uri"]
            && c["object"]["inReplyTo"] == fred_note.as_str())
            .await,
        "{}",
        logs()
    );

    // Likes and boosts both ways.
    for action in ["favourite", "reblog"] {
        let (s, r) = a
            .send(
                Method::POST,
                &format!("/api/v1/statuses/{fred_note_here}/{action}"),
                &alice,
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{action}: {r}");
    }
    assert!(
        peer.received("Like", |l| l["object"] == fred_note.as_str())
            .await,
        "{}",
        logs()
    );
    assert!(
        peer.received("Announce", |l| l["object"] == fred_note.as_str())
            .await,
        "{}",
        logs()
    );
    peer.control("like", json!({"object": post_uri})).await;
    peer.control("announce", json!({"object": post_uri})).await;
    let post_id = post["id"].as_str().unwrap().to_string();
    let counted = eventually(20, || async {
        let (_, s) = a.get(&format!("/api/v1/statuses/{post_id}"), &alice).await;
        s["favourites_count"] == 1 && s["reblogs_count"] == 1
    })
    .await;
    assert!(
        counted,
        "fred's like and boost were not counted\n{}",
        logs()
    );

    // Direct messages both ways.
    let (s, dm) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": format!("@{fred_handle} just for you"), "visibility": "direct"}),
        )
        .await;
    assert_eq!(s, 200, "{dm}");
    let public = "https://www.w3.org/ns/activitystreams#Public";
    assert!(
        peer.received("Create", |c| c["object"]["id"] == dm["uri"]
            && c["object"]["to"] == json!([fred_uri])
            && !c["object"]["cc"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u == public))
            .await,
        "{}",
        logs()
    );
    let fred_dm = peer
        .control(
            "note",
            json!({"content": "<p>@alice only you</p>", "mentions": [alice_uri], "visibility": "direct"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let in_conversation = eventually(20, || async {
        let (_, c) = a.get("/api/v1/conversations", &alice).await;
        c.as_array().is_some_and(|l| {
            l.iter().any(|c| {
                c["last_status"]["uri"] == fred_dm.as_str()
                    && c["last_status"]["visibility"] == "direct"
            })
        })
    })
    .await;
    assert!(
        in_conversation,
        "fred's message did not reach alice\n{}",
        logs()
    );

    // Edits both ways.
    let (s, _) = a
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{post_id}"),
            &alice,
            json!({"status": "hello from Rookery, edited"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        peer.received("Update", |u| u["object"]["id"] == post_uri.as_str()
            && u["object"]["content"]
                .as_str()
                .is_some_and(|t| t.contains("edited")))
            .await,
        "{}",
        logs()
    );
    peer.control(
        "edit",
        json!({"id": fred_note, "content": "<p>hello from Fedify, edited</p>"}),
    )
    .await;
    let edited = eventually(20, || async {
        let (_, s) = a
            .get(&format!("/api/v1/statuses/{fred_note_here}"), &alice)
            .await;
        s["content"].as_str().is_some_and(|c| c.contains("edited")) && s["edited_at"].is_string()
    })
    .await;
    assert!(edited, "fred's edit did not arrive\n{}", logs());

    // Deletes both ways.
    let (s, _) = a
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{post_id}"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        peer.received("Delete", |d| d["object"] == post_uri.as_str())
            .await,
        "{}",
        logs()
    );
    peer.control("delete", json!({"id": fred_reply})).await;
    let reply_here = local_id(&a, &alice, &fred_reply).await;
    let gone = eventually(20, || async {
        match &reply_here {
            Some(id) => a.get(&format!("/api/v1/statuses/{id}"), &alice).await.0 == 404,
            None => true,
        }
    })
    .await;
    assert!(gone, "fred's deleted reply is still here\n{}", logs());

    // Fred deletes his account: his posts and his follow go.
    peer.control("delete-account", json!({})).await;
    let erased = eventually(20, || async {
        let home = statuses_of(&a, &alice).await;
        let (_, me) = a.get("/api/v1/accounts/verify_credentials", &alice).await;
        !home.contains(&fred_note) && me["followers_count"] == 0
    })
    .await;
    assert!(
        erased,
        "fred's account deletion was not applied\n{}",
        logs()
    );
    // What Rookery sent was signed in the scheme it was told to use, and verified by Fedify.
    let inbound = peer.state().await["inbound"].clone();
    let (used, unused) = if rfc9421 {
        ("rfc9421", "cavage")
    } else {
        ("cavage", "rfc9421")
    };
    assert!(inbound[used].as_u64().unwrap() > 5, "{inbound}");
    assert_eq!(inbound[unused], 0, "{inbound}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!peer.log().contains("inbox error"), "{}", logs());
    // And what Fedify sent was taken at the first knock: no inbox request was refused.
    assert!(
        !a.log()
            .lines()
            .any(|l| l.contains("inbox}") && (l.contains("status=401") || l.contains("status=400"))),
        "{}",
        logs()
    );
}

#[tokio::test]
async fn rookery_and_fedify_federate_with_rfc9421() {
    rookery_and_fedify(true).await
}

#[tokio::test]
async fn rookery_and_fedify_federate_with_draft_cavage() {
    rookery_and_fedify(false).await
}

/// A room with a member on a server without rooms (docs/FEDERATION.md, "Servers without rooms"):
/// the Fedify peer lists no `rooms` in NodeInfo, so fred gets the invitation, the room's messages
/// and his farewell as direct messages from the room's owner, one thread; his first reply joins,
/// the next is his message in the room, `/leave` leaves. Nothing of it becomes a direct message
/// to alice.
#[tokio::test]
async fn a_room_reaches_a_server_without_rooms_as_direct_messages() {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(dir.path(), "rfc9421").await;
    let a = Instance::start(Backend::Sqlite, crate::federation::DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let alice_uri = format!("http://{}/users/alice", a.domain);
    let fred_uri = format!("{}/users/fred", peer.base);
    let logs = || format!("Rookery:\n{}\nFedify:\n{}", a.log(), peer.log());
    let contains = |c: &Value, text: &str| {
        c["object"]["content"]
            .as_str()
            .is_some_and(|t| t.contains(text))
    };

    let (s, room) = a
        .send(
            Method::POST,
            "/api/v1/rooms",
            &alice,
            json!({"name": "Herons", "invite": [format!("fred@{}", peer.domain)]}),
        )
        .await;
    assert_eq!(s, 200, "{room}\n{}", logs());
    let room_id = room["id"].as_str().unwrap().to_string();
    assert!(
        peer.received("Create", |c| c["actor"] == alice_uri.as_str()
            && contains(c, "invited you to the room")
            && contains(c, "Herons"))
            .await,
        "{}",
        logs()
    );
    let state = peer.state().await;
    let invitation = state["received"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| contains(c, "invited you"))
        .unwrap()["object"]
        .clone();
    assert_eq!(invitation["to"], json!([fred_uri]), "{invitation}");

    // fred's reply joins him.
    let joined_members = || async {
        let (_, members) = a
            .get(&format!("/api/v1/rooms/{room_id}/members"), &alice)
            .await;
        members
            .as_array()
            .map(|m| {
                m.iter()
                    .filter(|x| x["state"] == "joined")
                    .map(|x| x["account"]["username"].as_str().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    peer.control(
        "note",
        json!({"content": "<p>count me in</p>", "mentions": [alice_uri], "visibility": "direct", "inReplyTo": invitation["id"]}),
    )
    .await;
    assert!(
        eventually(20, || async {
            joined_members().await.contains(&"fred".to_string())
        })
        .await,
        "{}",
        logs()
    );

    // alice's message reaches fred as a direct message, in the same thread.
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/rooms/{room_id}/messages"),
            &alice,
            json!({"text": "Herons at <dawn>"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        peer.received("Create", |c| contains(c, "Herons at &lt;dawn&gt;")
            && contains(c, "alice")
            && c["object"]["inReplyTo"] == invitation["id"])
            .await,
        "{}",
        logs()
    );
    let relayed = peer.state().await["received"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| contains(c, "at &lt;dawn&gt;"))
        .unwrap()["object"]["id"]
        .clone();

    // fred's answer is his message in the room.
    peer.control(
        "note",
        json!({"content": "<p>Three of them</p>", "mentions": [alice_uri], "visibility": "direct", "inReplyTo": relayed}),
    )
    .await;
    let said = eventually(20, || async {
        let (_, messages) = a
            .get(&format!("/api/v1/rooms/{room_id}/messages"), &alice)
            .await;
        messages.as_array().is_some_and(|m| {
            m.iter()
                .any(|x| x["text"] == "Three of them" && x["account"]["username"] == "fred")
        })
    })
    .await;
    assert!(said, "{}", logs());

    // "/leave" leaves, with a last word from the room.
    peer.control(
        "note",
        json!({"content": "<p>/leave</p>", "mentions": [alice_uri], "visibility": "direct", "inReplyTo": relayed}),
    )
    .await;
    assert!(
        eventually(20, || async {
            !joined_members().await.contains(&"fred".to_string())
        })
        .await,
        "{}",
        logs()
    );
    assert!(
        peer.received("Create", |c| contains(c, "no longer has you"))
            .await,
        "{}",
        logs()
    );
    // The replies went to the room, not into alice's direct messages.
    let (_, conversations) = a.get("/api/v1/conversations", &alice).await;
    assert_eq!(conversations, json!([]), "{}", logs());
    assert!(!peer.log().contains("inbox error"), "{}", logs());
}
