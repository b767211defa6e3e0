//! One-to-one calls (issue 29; docs/API.md "Calls", docs/FEDERATION.md "Calls"): signalling on
//! one server and across two, over the API and the streaming WebSocket, with the checks on who
//! may call and the bounds on what is sent; and a real call between two Chromiums on two
//! instances, media and all.

use futures_util::SinkExt;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::both_backends;
use crate::federation::{DEV_FEDERATION, Instance, eventually, resolve};
use crate::streaming::{Ws, connect, connect_to, next, payload};
use crate::support::{Backend, TestApp};

/// An SDP offer or answer as far as the server looks at it (the browser test sends real ones).
const SDP: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

/// The next `name` event on `ws` (others skipped), within a few seconds.
async fn event(ws: &mut Ws, name: &str) -> Value {
    for _ in 0..30 {
        match next(ws, 5).await {
            Some(m) if m["event"] == name => return payload(&m),
            Some(_) => continue,
            None => break,
        }
    }
    panic!("no {name} event");
}

/// The next `rookery.call` event on `ws` whose call is in `state`.
async fn call_event(ws: &mut Ws, state: &str) -> Value {
    for _ in 0..10 {
        let c = event(ws, "rookery.call").await;
        if c["state"] == state {
            return c;
        }
    }
    panic!("no call went {state}");
}

async fn ok(r: crate::support::Answer) -> Value {
    assert!(r.status.is_success(), "{} {}", r.status, r.text);
    r.json()
}

fn start(account: &str) -> Value {
    json!({"account_id": account, "media": "video", "sdp": SDP})
}

async fn missed_calls(app: &TestApp, token: &str) -> Vec<Value> {
    ok(app
        .get("/api/v1/notifications?types[]=missed_call", Some(token))
        .await)
    .await
    .as_array()
    .unwrap()
    .clone()
}

/// On one server: who may call whom, bounds, ringing, candidates both ways (API and WebSocket),
/// answering, hanging up over the socket, declining and giving up (missed-call notifications),
/// and the limit on candidates.
async fn calls_on_one_server(app: TestApp) {
    let alice_id = app.create_user("alice").await.to_string();
    let bob_id = app.create_user("bob").await.to_string();
    app.create_user("carol").await;
    let alice = app.token_for("alice", "read write").await;
    let bob = app.token_for("bob", "read write").await;
    let carol = app.token_for("carol", "read write").await;
    let bob_read = app.token_for("bob", "read").await;

    // Strangers may not call.
    let r = app
        .post("/api/v1/calls", Some(&alice), start(&bob_id))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("follow each other"), "{}", r.text);
    // A direct message makes a conversation they share.
    ok(app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "@bob shall I ring?", "visibility": "direct"}),
        )
        .await)
    .await;
    for (body, status) in [
        (
            json!({"account_id": bob_id, "media": "fax", "sdp": SDP}),
            422,
        ),
        (json!({"account_id": bob_id, "sdp": "hello"}), 422),
        (json!({"account_id": bob_id, "sdp": "v=0\r\n\u{0}"}), 422),
        (
            json!({"account_id": bob_id, "sdp": format!("v=0\r\n{}", "a".repeat(40_000))}),
            422,
        ),
        (json!({"account_id": "99999999999999", "sdp": SDP}), 404),
        (json!({"account_id": "x", "sdp": SDP}), 404),
        (json!({"account_id": alice_id, "sdp": SDP}), 422),
        (json!({"sdp": SDP}), 422),
    ] {
        let r = app.post("/api/v1/calls", Some(&alice), body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.json()["error"].is_string(), "{}", r.text);
    }
    // Carol shares nothing with bob.
    let r = app
        .post("/api/v1/calls", Some(&carol), start(&bob_id))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);

    let mut alice_ws = connect(&app, "?stream=user", Some(&alice)).await;
    let mut bob_ws = connect(&app, "?stream=user", Some(&bob)).await;
    let call = ok(app
        .post("/api/v1/calls", Some(&alice), start(&bob_id))
        .await)
    .await;
    assert_eq!(call["state"], "ringing");
    let id = call["id"].as_str().unwrap().to_string();
    let ring = call_event(&mut bob_ws, "ringing").await;
    assert_eq!(
        (
            ring["id"].as_str(),
            ring["offer"].as_str(),
            ring["media"].as_str()
        ),
        (Some(id.as_str()), Some(SDP), Some("video"))
    );
    assert_eq!(ring["caller"]["username"], "alice");
    // One call at a time between two people.
    let r = app
        .post("/api/v1/calls", Some(&bob), start(&alice_id))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    // Nobody else sees it.
    let r = app.get(&format!("/api/v1/calls/{id}"), Some(&carol)).await;
    assert_eq!(r.status, 404);

    // Candidates: alice's by the API, bob's over his socket.
    let cand = json!({"candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host", "sdp_mid": "0", "sdp_m_line_index": 0});
    ok(app
        .post(
            &format!("/api/v1/calls/{id}/candidates"),
            Some(&alice),
            cand.clone(),
        )
        .await)
    .await;
    let got = event(&mut bob_ws, "rookery.call.candidate").await;
    assert_eq!(
        (
            got["call_id"].as_str(),
            got["candidate"].clone(),
            got["sdp_m_line_index"].clone()
        ),
        (Some(id.as_str()), cand["candidate"].clone(), json!(0))
    );
    bob_ws
        .send(Message::Text(
            json!({"type": "call.candidate", "call_id": id, "candidate": "candidate:2 1 udp 1 192.0.2.2 9 typ host", "sdp_mid": "0", "sdp_m_line_index": 0})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let got = event(&mut alice_ws, "rookery.call.candidate").await;
    assert_eq!(got["candidate"], "candidate:2 1 udp 1 192.0.2.2 9 typ host");
    // A bad one is refused on the socket, with the reason.
    bob_ws
        .send(Message::Text(
            json!({"type": "call.candidate", "call_id": id, "candidate": "x", "sdp_m_line_index": 999})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let refusal = next(&mut bob_ws, 5).await.expect("an answer");
    assert_eq!(refusal["status"], 422, "{refusal}");
    for bad in [
        json!({"candidate": "x".repeat(2000)}),
        json!({"candidate": "a\r\nb"}),
        json!({"candidate": "a\u{0}b"}),
        json!({"candidate": "x", "sdp_mid": "\u{0}"}),
        json!({"candidate": "x", "sdp_mid": "m".repeat(100)}),
        json!({"candidate": "x", "sdp_m_line_index": -1}),
        json!({"candidate": ""}),
    ] {
        let r = app
            .post(
                &format!("/api/v1/calls/{id}/candidates"),
                Some(&alice),
                bad.clone(),
            )
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
    }
    // A read-only token may listen but not signal over the socket.
    let mut read_ws = connect(&app, "?stream=user", Some(&bob_read)).await;
    read_ws
        .send(Message::Text(
            json!({"type": "call.hang_up", "call_id": id})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let mut refused = None;
    while let Some(m) = next(&mut read_ws, 3).await {
        if m.get("status").is_some() {
            refused = Some(m);
            break;
        }
    }
    assert_eq!(refused.expect("a refusal")["status"], 403);
    // A page opened now finds the candidates sent so far.
    let seen = ok(app.get(&format!("/api/v1/calls/{id}"), Some(&bob)).await).await;
    assert_eq!(seen["candidates"].as_array().unwrap().len(), 1, "{seen}");

    // Only bob answers; then it is active for both.
    let r = app
        .post(
            &format!("/api/v1/calls/{id}/accept"),
            Some(&alice),
            json!({"sdp": SDP}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let answered = ok(app
        .post(
            &format!("/api/v1/calls/{id}/accept"),
            Some(&bob),
            json!({"sdp": SDP}),
        )
        .await)
    .await;
    assert_eq!(answered["state"], "active");
    let active = call_event(&mut alice_ws, "active").await;
    assert_eq!(active["answer"], SDP);
    let r = app
        .post(
            &format!("/api/v1/calls/{id}/accept"),
            Some(&bob),
            json!({"sdp": SDP}),
        )
        .await;
    assert_eq!(r.status, 422, "answered twice: {}", r.text);

    // Bob hangs up over his socket; both hear it; the call is over for candidates.
    bob_ws
        .send(Message::Text(
            json!({"type": "call.hang_up", "call_id": id})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let ended = call_event(&mut alice_ws, "ended").await;
    assert!(ended["ended_at"].is_string());
    call_event(&mut bob_ws, "ended").await;
    let r = app
        .post(
            &format!("/api/v1/calls/{id}/candidates"),
            Some(&alice),
            cand.clone(),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        missed_calls(&app, &bob).await.is_empty(),
        "an answered call is not missed"
    );

    // Declined: bob gets a missed-call notification (only for clients that ask for the type).
    let call = ok(app
        .post("/api/v1/calls", Some(&alice), start(&bob_id))
        .await)
    .await;
    let id = call["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/calls/{id}/decline"),
            Some(&alice),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let declined = ok(app
        .post(
            &format!("/api/v1/calls/{id}/decline"),
            Some(&bob),
            json!({}),
        )
        .await)
    .await;
    assert_eq!(declined["state"], "declined");
    call_event(&mut alice_ws, "declined").await;
    let missed = missed_calls(&app, &bob).await;
    assert_eq!(missed.len(), 1, "{missed:?}");
    assert_eq!(missed[0]["account"]["username"], "alice");
    let all = ok(app.get("/api/v1/notifications", Some(&bob)).await).await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|n| n["type"] != "missed_call"),
        "Mastodon apps do not get Rookery's types: {all}"
    );

    // Alice gives up while it rings: missed, a second notification.
    let call = ok(app
        .post("/api/v1/calls", Some(&alice), start(&bob_id))
        .await)
    .await;
    let id = call["id"].as_str().unwrap().to_string();
    let over = ok(app
        .post(
            &format!("/api/v1/calls/{id}/hang_up"),
            Some(&alice),
            json!({}),
        )
        .await)
    .await;
    assert_eq!(over["state"], "missed");
    // Hanging up again changes nothing.
    let again = ok(app
        .post(
            &format!("/api/v1/calls/{id}/hang_up"),
            Some(&bob),
            json!({}),
        )
        .await)
    .await;
    assert_eq!(again["state"], "missed");
    assert_eq!(missed_calls(&app, &bob).await.len(), 2);

    // At most 64 candidates from one side.
    let call = ok(app
        .post("/api/v1/calls", Some(&alice), start(&bob_id))
        .await)
    .await;
    let id = call["id"].as_str().unwrap().to_string();
    for i in 0..64 {
        let c = json!({"candidate": format!("candidate:{i} 1 udp 1 192.0.2.1 {i} typ host"), "sdp_m_line_index": 0});
        ok(app
            .post(&format!("/api/v1/calls/{id}/candidates"), Some(&alice), c)
            .await)
        .await;
    }
    let r = app
        .post(
            &format!("/api/v1/calls/{id}/candidates"),
            Some(&alice),
            cand,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let list = ok(app.get("/api/v1/calls", Some(&bob)).await).await;
    assert_eq!(list.as_array().unwrap().len(), 4, "{list}");
    assert_eq!(list[0]["id"], id.as_str(), "newest first");
    let two = ok(app.get("/api/v1/calls?limit=2", Some(&bob)).await).await;
    assert_eq!(two.as_array().unwrap().len(), 2, "{two}");
    let servers = ok(app.get("/api/v1/calls/ice_servers", Some(&bob)).await).await;
    assert_eq!(servers, json!([]));
}

both_backends!(calls_on_one_server);

/// A call across servers (docs/FEDERATION.md, "Calls"): alice@A (SQLite) calls bob@B
/// (PostgreSQL), with whom she shares a conversation; it rings on B with her offer, candidates go
/// both ways, bob's answer reaches her, her hang-up reaches him; a second call bob declines leaves
/// him a missed-call notification and tells her; dave@B, a stranger, cannot be called.
#[tokio::test]
async fn calls_span_two_servers() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    b.user("dave").await;
    let addr = |i: &Instance| i.server.base.trim_start_matches("http://").to_string();
    let bob_on_a = resolve(&a, &alice, &format!("bob@{}", b.domain)).await;
    let dave_on_a = resolve(&a, &alice, &format!("dave@{}", b.domain)).await;
    let (s, _) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": format!("@bob@{} may I call?", b.domain), "visibility": "direct"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        eventually(10, || async {
            let (_, c) = b.get("/api/v1/conversations", &bob).await;
            c.as_array().is_some_and(|c| !c.is_empty())
        })
        .await,
        "the message reached B: {}",
        b.log()
    );

    let (s, r) = a
        .send(Method::POST, "/api/v1/calls", &alice, start(&dave_on_a))
        .await;
    assert_eq!(s, 422, "{r}");

    let mut alice_ws = connect_to(&addr(&a), "?stream=user", Some(&alice)).await;
    let mut bob_ws = connect_to(&addr(&b), "?stream=user", Some(&bob)).await;
    let (s, call) = a
        .send(Method::POST, "/api/v1/calls", &alice, start(&bob_on_a))
        .await;
    assert_eq!(s, 200, "{call}");
    let on_a = call["id"].as_str().unwrap().to_string();
    let ring = call_event(&mut bob_ws, "ringing").await;
    assert_eq!(ring["uri"], call["uri"], "{ring}");
    assert_eq!(ring["offer"], SDP);
    assert_eq!(ring["caller"]["acct"], format!("alice@{}", a.domain));
    let on_b = ring["id"].as_str().unwrap().to_string();

    let cand = |n: u32| json!({"candidate": format!("candidate:{n} 1 udp 2122260223 192.0.2.{n} 5000 typ host"), "sdp_mid": "0", "sdp_m_line_index": 0});
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/calls/{on_a}/candidates"),
            &alice,
            cand(1),
        )
        .await;
    assert_eq!(s, 200);
    let got = event(&mut bob_ws, "rookery.call.candidate").await;
    assert_eq!(
        (got["call_id"].as_str(), &got["candidate"]),
        (Some(on_b.as_str()), &cand(1)["candidate"])
    );
    let (s, _) = b
        .send(
            Method::POST,
            &format!("/api/v1/calls/{on_b}/candidates"),
            &bob,
            cand(2),
        )
        .await;
    assert_eq!(s, 200);
    let got = event(&mut alice_ws, "rookery.call.candidate").await;
    assert_eq!(
        (got["call_id"].as_str(), &got["candidate"]),
        (Some(on_a.as_str()), &cand(2)["candidate"])
    );

    let (s, r) = b
        .send(
            Method::POST,
            &format!("/api/v1/calls/{on_b}/accept"),
            &bob,
            json!({"sdp": SDP}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let active = call_event(&mut alice_ws, "active").await;
    assert_eq!(active["answer"], SDP);
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/calls/{on_a}/hang_up"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    call_event(&mut bob_ws, "ended").await;

    // Declined from B: alice hears it; bob has a missed call from alice.
    let (s, call) = a
        .send(Method::POST, "/api/v1/calls", &alice, start(&bob_on_a))
        .await;
    assert_eq!(s, 200, "{call}");
    let on_b = call_event(&mut bob_ws, "ringing").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = b
        .send(
            Method::POST,
            &format!("/api/v1/calls/{on_b}/decline"),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    call_event(&mut alice_ws, "declined").await;
    let (_, missed) = b
        .get("/api/v1/notifications?types[]=missed_call", &bob)
        .await;
    assert_eq!(missed.as_array().map(Vec::len), Some(1), "{missed}");
    assert_eq!(missed[0]["account"]["acct"], format!("alice@{}", a.domain));
    for log in [a.log(), b.log()] {
        assert!(!log.contains("refused an activity"), "{log}");
    }
}

/// Frames decoded from the call's inbound video so far, on the page of `c` (0 without a call).
async fn frames_in(c: &fantoccini::Client) -> i64 {
    let v = c
        .execute(
            "const call = window.rookeryCall; if (!call || !call.pc) return 0; \
             const stats = await call.pc.getStats(); let frames = 0; \
             stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames = r.framesDecoded || 0; }); \
             return frames;",
            vec![],
        )
        .await
        .unwrap();
    v.as_i64().unwrap_or(0)
}

/// A video call between two browsers on two instances (issue 29): alice@A calls bob@B from their
/// chat; bob's page rings and he accepts; both pages have a connected `RTCPeerConnection` whose
/// inbound video carries frames (Chromium's fake camera); alice hangs up and both pages show the
/// call over. A second call bob declines ends on alice's page as declined and leaves bob a missed
/// call on his Notifications.
#[tokio::test]
async fn a_video_call_between_instances_in_chromium() {
    use crate::pages::until;
    use crate::support::browser::Browser;
    use crate::web_app::{click, sign_in_to_messages};

    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let (s, _) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": format!("@bob@{} call me?", b.domain), "visibility": "direct"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        eventually(10, || async {
            let (_, c) = b.get("/api/v1/conversations", &bob).await;
            c.as_array().is_some_and(|c| !c.is_empty())
        })
        .await,
        "{}",
        b.log()
    );
    let (_, conversations) = a.get("/api/v1/conversations", &alice).await;
    let chat = conversations[0]["id"].as_str().unwrap().to_string();

    let media = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
    ];
    let alice_browser = Browser::start_with(&media).await;
    let bob_browser = Browser::start_with(&media).await;
    let (ca, cb) = (&alice_browser.client, &bob_browser.client);
    sign_in_to_messages(ca, &a, "alice").await;
    sign_in_to_messages(cb, &b, "bob").await;
    ca.goto(&format!("http://{}/messages/{chat}", a.domain))
        .await
        .unwrap();
    // Bob's page listens before alice rings.
    assert!(until(cb, "return document.body.dataset.live === 'on'").await);

    click(ca, "[data-call-start=video]").await;
    assert!(
        until(
            cb,
            "return document.getElementById('call').dataset.state === 'incoming'"
        )
        .await,
        "{}\n{}\n{}",
        bob_browser.screenshot("call-ring").await.display(),
        a.log(),
        b.log()
    );
    let who: String = crate::pages::js(
        cb,
        "return document.getElementById('call-name').textContent",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string();
    assert_eq!(who, "alice");
    click(cb, "#call [data-call=accept]").await;
    for (c, name) in [(ca, "alice"), (cb, "bob")] {
        let mut connected = false;
        for _ in 0..3 {
            if until(c, "return window.rookeryCall?.pc?.connectionState === 'connected' && document.getElementById('call').dataset.state === 'connected'").await {
                connected = true;
                break;
            }
        }
        let shot = if connected {
            String::new()
        } else {
            let b = if name == "alice" {
                &alice_browser
            } else {
                &bob_browser
            };
            b.screenshot("call-connect").await.display().to_string()
        };
        assert!(connected, "{name}'s call did not connect {shot}");
    }
    for (c, name) in [(ca, "alice"), (cb, "bob")] {
        assert!(
            eventually(20, || async { frames_in(c).await > 0 }).await,
            "no video frames reached {name}"
        );
    }
    click(ca, "#call [data-call=hang_up]").await;
    for c in [ca, cb] {
        assert!(
            until(c, "return window.rookeryCall === null && document.getElementById('call').dataset.state === 'over'").await
        );
    }
    assert!(
        until(
            cb,
            "return document.getElementById('call-status').textContent === 'Call ended'"
        )
        .await
    );

    // A second call, declined.
    click(ca, "[data-call-start=video]").await;
    assert!(
        until(
            cb,
            "return document.getElementById('call').dataset.state === 'incoming'"
        )
        .await
    );
    click(cb, "#call [data-call=decline]").await;
    assert!(
        until(ca, "return document.getElementById('call').dataset.state === 'over' && document.getElementById('call-status').textContent === 'Declined'").await,
        "{}",
        alice_browser.screenshot("call-declined").await.display()
    );
    cb.goto(&format!("http://{}/notifications", b.domain))
        .await
        .unwrap();
    assert!(
        until(
            cb,
            "return document.querySelector('main').textContent.includes('missed call')"
        )
        .await,
        "{}",
        bob_browser.screenshot("call-missed").await.display()
    );
    for br in [&alice_browser, &bob_browser] {
        let errors = br.console_errors().await;
        assert!(errors.is_empty(), "console errors: {errors:?}");
    }
    alice_browser.client.clone().close().await.unwrap();
    bob_browser.client.clone().close().await.unwrap();
}
