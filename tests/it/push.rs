//! Web Push against a real push endpoint on loopback that checks the VAPID signature and decrypts
//! each message with the subscriber's keys (RFC 8291, RFC 8292): alerts and policy decide what is
//! sent, and an endpoint that answers 410 loses its subscription.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use web_push_native::jwt_simple::prelude::*;
use web_push_native::p256;

use crate::statuses::post;
use crate::support::TestApp;

/// `POST /api/v1/push/subscription` as a form, for `endpoint` with valid keys (the RFC 8291
/// example's public key) and any `extra` fields; the answer, whatever it is.
pub async fn subscribe_form(
    app: &TestApp,
    token: &str,
    endpoint: &str,
    extra: &[(&str, &str)],
) -> crate::support::Answer {
    let mut form = vec![
        ("subscription[endpoint]", endpoint),
        (
            "subscription[keys][p256dh]",
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        ),
        ("subscription[keys][auth]", "BTBZMqHH6r4Tts7J_aSIgg"),
    ];
    form.extend_from_slice(extra);
    app.send_form(
        reqwest::Method::POST,
        "/api/v1/push/subscription",
        Some(token),
        &form,
    )
    .await
}

/// What the endpoint received: path id, the Authorization header, the decrypted JSON.
type Inbox = Arc<Mutex<Vec<(String, String, Value)>>>;

/// The subscriber's keys (fixed: any scalar below the curve order will do).
fn subscriber() -> (p256::SecretKey, [u8; 16]) {
    (p256::SecretKey::from_slice(&[7u8; 32]).unwrap(), [3u8; 16])
}

/// A push service on loopback: decrypts with the subscriber's keys; `/gone` answers 410.
async fn push_service() -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    async fn receive(
        State(inbox): State<Inbox>,
        Path(id): Path<String>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> StatusCode {
        if id == "gone" {
            return StatusCode::GONE;
        }
        assert_eq!(headers["content-encoding"], "aes128gcm");
        let (secret, auth) = subscriber();
        let plain = web_push_native::decrypt(
            body.to_vec(),
            &secret,
            web_push_native::Auth::from_slice(&auth),
        )
        .expect("the message decrypts with the subscriber's keys");
        let auth_header = headers["authorization"].to_str().unwrap().to_string();
        inbox
            .lock()
            .unwrap()
            .push((id, auth_header, serde_json::from_slice(&plain).unwrap()));
        StatusCode::CREATED
    }
    let app = axum::Router::new()
        .route("/push/{id}", axum::routing::post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, inbox)
}

async fn received(inbox: &Inbox, n: usize) -> Vec<(String, String, Value)> {
    for _ in 0..100 {
        if inbox.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    inbox.lock().unwrap().clone()
}

fn subscription(endpoint: &str, alerts: Value) -> Value {
    let (secret, auth) = subscriber();
    let public = secret.public_key().to_sec1_bytes();
    json!({
        "subscription": {"endpoint": endpoint, "keys": {
            "p256dh": URL_SAFE_NO_PAD.encode(public), "auth": URL_SAFE_NO_PAD.encode(auth)}},
        "data": {"alerts": alerts, "policy": "all"}
    })
}

async fn web_push_reaches_a_real_endpoint(app: TestApp) {
    let (base, inbox) = push_service().await;
    app.create_user("alice").await;
    let alice = app.token_for("alice", "read write push").await;
    let bob_id = app.create_user("bob").await;
    let bob = app.token_for("bob", "read write follow").await;

    app.get("/api/v1/push/subscription", Some(&alice))
        .await
        .assert_error(404);
    app.post(
        "/api/v1/push/subscription",
        Some(&bob),
        subscription(&format!("{base}/push/x"), json!({})),
    )
    .await
    .assert_error(403);
    for bad in [
        json!({"subscription": {"endpoint": "not a url", "keys": {"p256dh": "x", "auth": "y"}}}),
        json!({"subscription": {"endpoint": format!("{base}/push/x"), "keys": {"p256dh": "AAAA", "auth": "AAAA"}}}),
    ] {
        app.post("/api/v1/push/subscription", Some(&alice), bad)
            .await
            .assert_error(422);
    }

    let r = app
        .post(
            "/api/v1/push/subscription",
            Some(&alice),
            subscription(
                &format!("{base}/push/a"),
                json!({"mention": true, "favourite": false}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sub = r.json();
    assert_eq!(sub["alerts"]["mention"], true);
    assert_eq!(sub["alerts"]["follow"], false);
    assert_eq!(sub["policy"], "all");
    let server_key = sub["server_key"].as_str().unwrap().to_string();
    let instance = app.get("/api/v2/instance", None).await.json();
    assert_eq!(
        instance["configuration"]["vapid"]["public_key"],
        server_key.as_str()
    );
    let apps = app
        .post(
            "/api/v1/apps",
            None,
            json!({"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}),
        )
        .await
        .json();
    assert_eq!(apps["vapid_key"], server_key.as_str());
    assert_eq!(
        app.get("/api/v1/push/subscription", Some(&alice))
            .await
            .json()["id"],
        sub["id"]
    );

    // A mention is pushed: VAPID-signed for the endpoint's origin, encrypted for Alice's keys.
    let mention = post(
        &app,
        &bob,
        json!({"status": "@alice the herons are nesting"}),
    )
    .await;
    let got = received(&inbox, 1).await;
    assert_eq!(got.len(), 1);
    let (id, authz, payload) = &got[0];
    assert_eq!(id, "a");
    assert_eq!(payload["notification_type"], "mention");
    assert_eq!(payload["access_token"], alice.as_str());
    assert!(
        payload["title"].as_str().unwrap().contains("bob"),
        "{payload}"
    );
    assert!(
        payload["body"]
            .as_str()
            .unwrap()
            .contains("herons are nesting")
    );
    let (token, key) = authz
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .expect("vapid t=…, k=…");
    assert_eq!(key, server_key);
    let public = ES256PublicKey::from_bytes(&URL_SAFE_NO_PAD.decode(key).unwrap()).unwrap();
    let claims = public
        .verify_token::<NoCustomClaims>(token, None)
        .expect("the VAPID JWT verifies with the server key");
    let audiences = claims.audiences.expect("an audience");
    assert!(
        audiences.contains(&HashSet::from_strings(&["http://127.0.0.1"])),
        "the audience is the endpoint's origin"
    );

    // Favourites are off: nothing; once switched on (PUT), they come.
    let own = post(&app, &alice, json!({"status": "a post to like"})).await;
    let path = format!("/api/v1/statuses/{}/favourite", own["id"].as_str().unwrap());
    app.post(&path, Some(&bob), json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(inbox.lock().unwrap().len(), 1, "no favourite push");
    let r = app
        .put(
            "/api/v1/push/subscription",
            Some(&alice),
            json!({"data": {"alerts": {"favourite": true}}}),
        )
        .await;
    assert_eq!(r.json()["alerts"]["favourite"], true, "{}", r.text);
    assert_eq!(r.json()["alerts"]["mention"], true, "other alerts are kept");
    let other = post(&app, &alice, json!({"status": "another"})).await;
    let path = format!(
        "/api/v1/statuses/{}/favourite",
        other["id"].as_str().unwrap()
    );
    app.post(&path, Some(&bob), json!({})).await;
    let got = received(&inbox, 2).await;
    assert_eq!(got[1].2["notification_type"], "favourite");

    // Policy `followed`: Bob is not followed, so his mention is not pushed.
    app.put(
        "/api/v1/push/subscription",
        Some(&alice),
        json!({"data": {"policy": "followed"}}),
    )
    .await;
    post(&app, &bob, json!({"status": "@alice again"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(inbox.lock().unwrap().len(), 2, "policy followed");
    assert!(bob_id > 0 && mention["id"].is_string());

    // An endpoint that answers 410 is dropped.
    let r = app
        .post(
            "/api/v1/push/subscription",
            Some(&alice),
            subscription(&format!("{base}/push/gone"), json!({"mention": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    post(&app, &bob, json!({"status": "@alice are you there"})).await;
    let mut gone = false;
    for _ in 0..100 {
        if app
            .get("/api/v1/push/subscription", Some(&alice))
            .await
            .status
            == 404
        {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "a 410 removes the subscription");
    let r = app
        .send(
            reqwest::Method::DELETE,
            "/api/v1/push/subscription",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
}

/// The push service runs on loopback, which outgoing requests may reach only in development.
async fn app_reaching_loopback(backend: crate::support::Backend) -> TestApp {
    TestApp::start_with(backend, |c| c.federation.allow_private_addresses = true).await
}

#[tokio::test]
async fn web_push_on_sqlite() {
    web_push_reaches_a_real_endpoint(app_reaching_loopback(crate::support::Backend::Sqlite).await)
        .await
}

#[tokio::test]
async fn web_push_on_postgres() {
    web_push_reaches_a_real_endpoint(app_reaching_loopback(crate::support::Backend::Postgres).await)
        .await
}
