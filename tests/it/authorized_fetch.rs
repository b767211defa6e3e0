//! Authorized fetch (`federation.authorized_fetch`, Mastodon's secure mode) between two real
//! instances that both require it: unsigned fetches of documents are refused with 401 while the
//! instance actor, WebFinger and pages stay open; the two still follow each other and deliver,
//! since every fetch they make is signed; a signed fetch by a server suspended here is a 403.

use reqwest::Method;
use serde_json::json;

use crate::federation::{
    Instance, eventually, follow, resolve, signed_get, statuses_of, wait_following,
};
use crate::support::Backend;
use crate::support::binary::run_cli;

const SECURE: &str = "[federation]\nallow_private_addresses = true\nauthorized_fetch = true\n";

#[tokio::test]
async fn both_sides_require_signed_fetches_and_still_federate() {
    let a = Instance::start(Backend::Sqlite, SECURE).await;
    let b = Instance::start(Backend::Postgres, SECURE).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let http = reqwest::Client::new();
    let ap = |url: String| {
        http.get(url)
            .header("accept", "application/activity+json")
            .send()
    };

    // Unsigned: documents refused, the instance actor, WebFinger and pages open.
    for path in [
        "/users/alice",
        "/@alice",
        "/users/alice/outbox",
        "/users/alice/followers",
        "/users/alice/following",
        "/users/alice/collections/featured",
    ] {
        let r = ap(a.url(path)).await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("signed"), "{body}");
    }
    assert_eq!(ap(a.url("/actor")).await.unwrap().status(), 200);
    let wf = http
        .get(a.url(&format!(
            "/.well-known/webfinger?resource=acct:alice@{}",
            a.domain
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(wf.status(), 200);
    let page = http.get(a.url("/@alice")).send().await.unwrap();
    assert_eq!(page.status(), 200);

    // Each side finds and follows the other; posts travel both ways.
    let alice_on_b = resolve(&b, &bob, &format!("alice@{}", a.domain)).await;
    follow(&b, &bob, &alice_on_b).await;
    assert!(
        wait_following(&b, &bob, &alice_on_b).await,
        "{}\n{}",
        a.log(),
        b.log()
    );
    let bob_on_a = resolve(&a, &alice, &format!("bob@{}", b.domain)).await;
    follow(&a, &alice, &bob_on_a).await;
    assert!(
        wait_following(&a, &alice, &bob_on_a).await,
        "{}\n{}",
        a.log(),
        b.log()
    );
    for (from, token, to, reader, text) in [
        (&a, &alice, &b, &bob, "from alice, signed fetches only"),
        (&b, &bob, &a, &alice, "from bob, signed fetches only"),
    ] {
        let (s, st) = from
            .send(
                Method::POST,
                "/api/v1/statuses",
                token,
                json!({"status": text}),
            )
            .await;
        assert_eq!(s, 200, "{st}");
        let uri = st["uri"].as_str().unwrap().to_string();
        assert!(
            eventually(20, || async {
                statuses_of(to, reader).await.contains(&uri)
            })
            .await,
            "{text} did not arrive\n{}\n{}",
            a.log(),
            b.log()
        );
    }

    // A signed fetch by bob (his key, from B's database) is answered, until A suspends B.
    let b_config = rookery::config::Config::load(Some(&b.server.config)).unwrap();
    let b_db = rookery::storage::Db::connect(&b_config.database.url, 1)
        .await
        .unwrap();
    let bob_key: String = rookery::on_db!(b_db, c => sqlx::query_scalar(
        "SELECT private_key_pem FROM accounts WHERE username = 'bob' AND domain IS NULL")
        .fetch_one(c).await)
    .unwrap();
    let key_id = format!("http://{}/users/bob#main-key", b.domain);
    let alice_url = a.url("/users/alice");
    let signed = signed_get(&alice_url, &key_id, &bob_key, false).await;
    assert_eq!(signed.status(), 200);
    let forged = signed_get(&alice_url, &key_id, &bob_key, true).await;
    assert_eq!(forged.status(), 401);
    let (ok, _, err) = run_cli(&a.server.config, &["admin", "domain", "block", &b.domain]);
    assert!(ok, "{err}");
    // The running server sees a block made from the command line within a couple of seconds.
    let refused = eventually(10, || async {
        signed_get(&alice_url, &key_id, &bob_key, false)
            .await
            .status()
            == 403
    })
    .await;
    assert!(refused, "{}", a.log());
}
