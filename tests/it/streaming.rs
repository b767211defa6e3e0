//! Streaming over a real WebSocket (token as subprotocol, echoed back; subscribe/unsubscribe
//! messages) and server-sent events, with visibility and blocks applied.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::both_backends;
use crate::statuses::post;
use crate::support::TestApp;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects with the token in `Sec-WebSocket-Protocol` (as Chrome-based clients do).
pub async fn connect(app: &TestApp, query: &str, token: Option<&str>) -> Ws {
    connect_to(&app.addr.to_string(), query, token).await
}

/// As [`connect`], to the server at `addr` (`host:port`).
pub async fn connect_to(addr: &str, query: &str, token: Option<&str>) -> Ws {
    let mut req = format!("ws://{addr}/api/v1/streaming{query}")
        .into_client_request()
        .unwrap();
    if let Some(t) = token {
        req.headers_mut()
            .insert("sec-websocket-protocol", t.parse().unwrap());
    }
    let (ws, resp) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket");
    if let Some(t) = token {
        assert_eq!(
            resp.headers().get("sec-websocket-protocol").unwrap(),
            t,
            "the token subprotocol is echoed"
        );
    }
    // The server subscribes to its hub just after the upgrade answer: let it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    ws
}

/// The next JSON message within `secs`, or `None`.
pub async fn next(ws: &mut Ws, secs: u64) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

pub fn payload(msg: &Value) -> Value {
    serde_json::from_str(msg["payload"].as_str().expect("payload is a JSON string")).unwrap()
}

async fn websocket_streams(app: TestApp) {
    let a = app.create_user("alice").await;
    let at = app.token_for("alice", "read write follow").await;
    let b = app.create_user("bob").await;
    let bt = app.token_for("bob", "read write follow").await;
    let sam = app.create_user("sam").await;
    let st = app.token_for("sam", "read write follow").await;
    app.post(
        &format!("/api/v1/accounts/{b}/follow"),
        Some(&at),
        json!({}),
    )
    .await;

    let mut alice = connect(&app, "?stream=user", Some(&at)).await;
    let mut stranger = connect(&app, "?stream=user", Some(&st)).await;
    let mut public = connect(&app, "?stream=public:local", None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    // A followers-only post reaches the follower's user stream only.
    let s = post(
        &app,
        &bt,
        json!({"status": "for followers", "visibility": "private"}),
    )
    .await;
    let m = next(&mut alice, 5)
        .await
        .expect("update on alice's user stream");
    assert_eq!(m["event"], "update");
    assert_eq!(m["stream"], json!(["user"]));
    assert_eq!(payload(&m)["id"], s["id"]);
    // A public post reaches the public stream as well.
    let p = post(&app, &bt, json!({"status": "for everyone #birds"})).await;
    let m = next(&mut public, 5).await.expect("update on public:local");
    assert_eq!(
        payload(&m)["id"],
        p["id"],
        "the private post never reached the public stream"
    );
    assert_eq!(payload(&next(&mut alice, 5).await.unwrap())["id"], p["id"]);
    assert!(
        next(&mut stranger, 1).await.is_none(),
        "nothing for a stranger's user stream"
    );

    // Subscribing to a hashtag by message; a mention notifies; a deletion streams `delete`.
    alice
        .send(Message::Text(
            json!({"type": "subscribe", "stream": "hashtag", "tag": "Birds"})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = post(&app, &st, json!({"status": "more #birds"})).await;
    let m = next(&mut alice, 5).await.unwrap();
    assert_eq!(m["stream"], json!(["hashtag", "birds"]));
    assert_eq!(payload(&m)["id"], t["id"]);
    post(&app, &st, json!({"status": "hey @alice"})).await;
    let m = next(&mut alice, 5).await.unwrap();
    assert_eq!(m["event"], "notification");
    assert_eq!(payload(&m)["type"], "mention");
    app.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/statuses/{}", p["id"].as_str().unwrap()),
        Some(&bt),
        None,
    )
    .await;
    let m = next(&mut alice, 5).await.unwrap();
    assert_eq!(m["event"], "delete");
    assert_eq!(m["payload"], p["id"]);
    // The public stream also carried sam's public posts in between; the deletion follows them.
    let mut m = next(&mut public, 5).await.unwrap();
    while m["event"] == "update" {
        m = next(&mut public, 5).await.unwrap();
    }
    assert_eq!(m["event"], "delete");
    assert_eq!(m["payload"], p["id"]);

    // Edits stream status.update.
    app.send(
        reqwest::Method::PUT,
        &format!("/api/v1/statuses/{}", s["id"].as_str().unwrap()),
        Some(&bt),
        Some(json!({"status": "edited"})),
    )
    .await;
    let m = next(&mut alice, 5).await.unwrap();
    assert_eq!(m["event"], "status.update");

    // Unsubscribe, and bad subscriptions get an error message.
    alice
        .send(Message::Text(
            json!({"type": "unsubscribe", "stream": "hashtag", "tag": "birds"})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    public
        .send(Message::Text(
            json!({"type": "subscribe", "stream": "user"})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let err = next(&mut public, 5).await.unwrap();
    assert!(
        err["error"].as_str().unwrap().contains("access token"),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    post(&app, &st, json!({"status": "still #birds"})).await;
    assert!(
        next(&mut alice, 1).await.is_none(),
        "unsubscribed from the hashtag"
    );

    // Blocks apply on public streams: alice blocks sam; sam's public post never reaches her, bob's
    // (posted after it) does. The token comes as ?access_token= here.
    app.post(
        &format!("/api/v1/accounts/{sam}/block"),
        Some(&at),
        json!({}),
    )
    .await;
    let mut blocked_view = connect(&app, &format!("?stream=public&access_token={at}"), None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    post(&app, &st, json!({"status": "from a blocked account"})).await;
    let after = post(&app, &bt, json!({"status": "from bob"})).await;
    let m = next(&mut blocked_view, 5).await.unwrap();
    assert_eq!(payload(&m)["id"], after["id"]);
    let _ = a;
}

async fn server_sent_events(app: TestApp) {
    let a = app.create_user("alice").await;
    let at = app.token_for("alice", "read write follow").await;
    app.create_user("bob").await;
    let bt = app.token_for("bob", "read write follow").await;
    let mut resp = app
        .http
        .get(app.url("/api/v1/streaming/user"))
        .bearer_auth(&bt)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    app.post(
        &format!("/api/v1/accounts/{a}/follow"),
        Some(&bt),
        json!({}),
    )
    .await;
    let s = post(&app, &at, json!({"status": "over SSE"})).await;
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !buf.contains("event: update") {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let chunk = tokio::time::timeout(left, resp.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = buf
        .split("event: update")
        .nth(1)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("data:"))
        .unwrap();
    let status: Value = serde_json::from_str(data.trim_start_matches("data:").trim()).unwrap();
    assert_eq!(status["id"], s["id"]);

    // Hashtag SSE is public; user streams need a token; unknown streams are refused.
    let h = app
        .http
        .get(app.url("/api/v1/streaming/hashtag?tag=birds"))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
    app.get("/api/v1/streaming/user", None)
        .await
        .assert_error(401);
    app.get("/api/v1/streaming/hashtag", None)
        .await
        .assert_error(400);
    app.get("/api/v1/streaming/nonsense", None)
        .await
        .assert_error(400);
    app.get("/api/v1/streaming/user", Some("bad-token"))
        .await
        .assert_error(401);
    let health = app.get("/api/v1/streaming/health", None).await;
    assert_eq!(health.text, "OK");
}

both_backends!(websocket_streams, server_sent_events);
