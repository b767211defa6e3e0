//! HTTP signature schemes on deliveries and in the inbox. Deliveries double-knock: RFC 9421 first;
//! a server that refuses it with 401 gets the same activity signed draft-cavage at once, and
//! draft-cavage from then on; one that takes it keeps getting RFC 9421, and what it gets verifies
//! with the sender's published key. With `rfc9421_signing` off only draft-cavage goes out. The
//! inbox takes RFC 9421 signatures (with `Content-Digest`) and refuses tampered ones.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp};

/// What a recording inbox saw: the scheme of each request (`rfc9421` or `cavage`), its headers and
/// body.
type Seen = Arc<Mutex<Vec<(String, HeaderMap, Vec<u8>)>>>;

/// An inbox on loopback that answers 401 to RFC 9421 signatures when `refuse_rfc9421`, 202
/// otherwise, and records every request.
async fn recording_inbox(refuse_rfc9421: bool) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/inbox",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                let rfc9421 = headers.contains_key("signature-input");
                let scheme = if rfc9421 { "rfc9421" } else { "cavage" };
                s.lock()
                    .unwrap()
                    .push((scheme.to_string(), headers, body.to_vec()));
                if rfc9421 && refuse_rfc9421 {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::ACCEPTED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // A name, not an IP literal: activitypub_federation sends only to URLs with a domain.
    let url = format!(
        "http://localhost:{}/inbox",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// An app whose user `ana` has a key pair; her account ID.
async fn sender(rfc9421_signing: bool) -> (TestApp, i64) {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.federation.allow_private_addresses = true;
        c.federation.rfc9421_signing = rfc9421_signing;
    })
    .await;
    let id = app.create_user("ana").await;
    // Serving her actor makes her key pair.
    let r = app
        .http
        .get(app.url("/users/ana"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    (app, id)
}

/// Queues a `Like` by `ana` to `inbox` and waits until the inbox has seen `expect` requests.
async fn deliver(app: &TestApp, ana: i64, inbox: &str, n: u32, seen: &Seen, expect: usize) {
    let actor = format!("{}/users/ana", app.state.config.base_url());
    let like = json!({
        "id": format!("{actor}#likes/{n}"),
        "type": "Like",
        "actor": actor,
        "object": "https://elsewhere.example/notes/1",
    });
    let mut tx = app.state.db.begin().await.unwrap();
    rookery::service::delivery::enqueue(&mut tx, &like, ana, &[inbox.to_string()], None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.state.delivery_wakeup.notify_one();
    for _ in 0..100 {
        if seen.lock().unwrap().len() >= expect {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the inbox saw {:?}", schemes(seen));
}

fn schemes(seen: &Seen) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(s, _, _)| s.clone())
        .collect()
}

async fn remembered(app: &TestApp, inbox: &str) -> Option<String> {
    let domain = url::Url::parse(inbox).unwrap();
    let domain = format!("{}:{}", domain.host_str().unwrap(), domain.port().unwrap());
    rookery::storage::instances::find(&app.state.db, &domain)
        .await
        .unwrap()
        .and_then(|row| row.http_signatures)
}

#[tokio::test]
async fn a_server_that_refuses_rfc9421_gets_draft_cavage_and_keeps_getting_it() {
    let (inbox, seen) = recording_inbox(true).await;
    let (app, ana) = sender(true).await;
    deliver(&app, ana, &inbox, 1, &seen, 2).await;
    assert_eq!(schemes(&seen), ["rfc9421", "cavage"]);
    assert_eq!(remembered(&app, &inbox).await.as_deref(), Some("cavage"));
    deliver(&app, ana, &inbox, 2, &seen, 3).await;
    assert_eq!(schemes(&seen), ["rfc9421", "cavage", "cavage"]);
    // The draft-cavage request carries a Digest and a Signature covering it.
    let (_, headers, _) = &seen.lock().unwrap()[1];
    assert!(headers.contains_key("digest"));
    let sig = headers["signature"].to_str().unwrap();
    assert!(sig.contains("digest") && sig.contains("#main-key"), "{sig}");
}

#[tokio::test]
async fn a_server_that_takes_rfc9421_keeps_getting_it_and_it_verifies() {
    let (inbox, seen) = recording_inbox(false).await;
    let (app, ana) = sender(true).await;
    deliver(&app, ana, &inbox, 1, &seen, 1).await;
    deliver(&app, ana, &inbox, 2, &seen, 2).await;
    assert_eq!(schemes(&seen), ["rfc9421", "rfc9421"]);
    assert_eq!(remembered(&app, &inbox).await.as_deref(), Some("rfc9421"));
    // What arrived verifies with ana's published key, and its Content-Digest with its body.
    let actor: Value = app
        .http
        .get(app.url("/users/ana"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pem = actor["publicKey"]["publicKeyPem"].as_str().unwrap();
    let (_, headers, body) = seen.lock().unwrap()[0].clone();
    let sig = rookery::federation::rfc9421::parse(&headers, chrono::Utc::now().timestamp())
        .unwrap()
        .unwrap();
    assert_eq!(
        sig.key_id(),
        format!("{}#main-key", actor["id"].as_str().unwrap())
    );
    assert!(sig.covers_request(true));
    let uri = url::Url::parse(&inbox).unwrap();
    let target = rookery::federation::rfc9421::Target {
        method: "POST",
        uri: &uri,
        headers: &headers,
    };
    assert!(sig.verify(&target, pem), "{}", sig.base(&target).unwrap());
    assert!(rookery::federation::rfc9421::content_digest_matches(
        headers["content-digest"].to_str().unwrap(),
        &body
    ));
    let activity: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(activity["type"], "Like");
}

#[tokio::test]
async fn with_rfc9421_signing_off_only_draft_cavage_goes_out() {
    let (inbox, seen) = recording_inbox(false).await;
    let (app, ana) = sender(false).await;
    deliver(&app, ana, &inbox, 1, &seen, 1).await;
    assert_eq!(schemes(&seen), ["cavage"]);
    assert_eq!(remembered(&app, &inbox).await, None);
}

/// A remote server's RFC 9421-signed `Follow` is taken by the inbox; the same with a body that does
/// not match its `Content-Digest`, or signed over another path, is a 401.
#[tokio::test]
async fn the_inbox_takes_rfc9421_signatures() {
    let dev = |c: &mut rookery::config::Config| c.federation.allow_private_addresses = true;
    let a = TestApp::start_with(Backend::Sqlite, dev).await;
    let b = TestApp::start_with(Backend::Postgres, dev).await;
    a.create_user("cal").await;
    b.create_user("dee").await;
    let dee = b.token_for("dee", "read").await;
    let cal_uri = format!("{}/users/cal", a.state.config.base_url());
    assert_eq!(
        a.http
            .get(&cal_uri)
            .header("accept", "application/activity+json")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let cal_key: String = rookery::on_db!(a.state.db, c => sqlx::query_scalar(
        "SELECT private_key_pem FROM accounts WHERE username = 'cal' AND domain IS NULL")
        .fetch_one(c).await)
    .unwrap();
    let dee_uri = format!("{}/users/dee", b.state.config.base_url());
    let inbox = url::Url::parse(&format!("{dee_uri}/inbox")).unwrap();
    let post = |n: &str, tamper: &str| {
        let follow = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{cal_uri}#follows/{n}"), "type": "Follow", "actor": cal_uri, "object": dee_uri,
        });
        let body = serde_json::to_vec(&follow).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/activity+json".parse().unwrap());
        let signed_for = match tamper {
            "path" => url::Url::parse(&format!("{dee_uri}/elsewhere")).unwrap(),
            _ => inbox.clone(),
        };
        rookery::federation::rfc9421::sign(
            "POST",
            &signed_for,
            &mut headers,
            Some(&body),
            &format!("{cal_uri}#main-key"),
            &cal_key,
            chrono::Utc::now(),
        )
        .unwrap();
        let body = if tamper == "body" {
            serde_json::to_vec(&json!({"@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{cal_uri}#follows/{n}-x"), "type": "Follow", "actor": cal_uri, "object": dee_uri}))
            .unwrap()
        } else {
            body
        };
        let http = b.http.clone();
        let url = inbox.clone();
        async move {
            http.post(url)
                .headers(headers)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post("1", "body").await, 401);
    assert_eq!(post("2", "path").await, 401);
    let dee_id = b
        .get("/api/v1/accounts/verify_credentials", Some(&dee))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let followers = b
        .get(&format!("/api/v1/accounts/{dee_id}/followers"), Some(&dee))
        .await
        .json();
    assert_eq!(followers, json!([]));
    assert_eq!(post("3", "").await, 202);
    let followers = b
        .get(&format!("/api/v1/accounts/{dee_id}/followers"), Some(&dee))
        .await
        .json();
    assert_eq!(followers.as_array().map(Vec::len), Some(1), "{followers}");
}
