//! Outages between two real instances. A receiver killed for ten seconds while its followers' posts
//! pile up gets every one of them soon after it is back, once each: a short outage is forgiven,
//! since a server only counts as unreachable after failing without a single success for
//! `federation.unreachable_after_hours`. A sender killed in the middle of a fan-out loses nothing.
//! A receiver down for longer than that is marked unreachable, shown so to the author and admins,
//! and recovers on its first successful probe, or as soon as it talks to us.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::federation::{Instance, eventually, follow_across, local_id, statuses_of};
use crate::support::Backend;

/// Retries start after 2 s (doubling); unreachable after a day, as by default.
const QUICK_RETRY: &str =
    "[federation]\nallow_private_addresses = true\nretry_initial_seconds = 2\n";

/// Retries start after 1 s; a server failing for 7.2 s without a success is unreachable.
const SHORT_PATIENCE: &str = "[federation]\nallow_private_addresses = true\nretry_initial_seconds = 1\nunreachable_after_hours = 0.002\n";

/// `count` posts by `token` on `inst`, sent from four tasks at once; their URIs.
async fn post_concurrently(
    inst: &Instance,
    token: &str,
    prefix: &str,
    count: usize,
) -> Vec<String> {
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let (url, token, prefix) = (
                inst.url("/api/v1/statuses"),
                token.to_string(),
                prefix.to_string(),
            );
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut uris = Vec::new();
                for i in (t..count).step_by(4) {
                    let s: Value = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"status": format!("{prefix} {i}")}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    uris.push(s["uri"].as_str().expect("posted").to_string());
                }
                uris
            })
        })
        .collect();
    let mut uris = Vec::new();
    for t in tasks {
        uris.extend(t.await.unwrap());
    }
    uris
}

/// Waits until every one of `uris` is in `token`'s home timeline on `inst` (its newest 40; at
/// most `secs`), then checks that none arrived twice.
async fn all_arrive_once(inst: &Instance, token: &str, uris: &[String], secs: u64) -> bool {
    let arrived = eventually(secs, || async {
        let got = statuses_of(inst, token).await;
        uris.iter().all(|u| got.contains(u))
    })
    .await;
    if arrived {
        let got = statuses_of(inst, token).await;
        for u in uris {
            assert_eq!(
                got.iter().filter(|g| *g == u).count(),
                1,
                "{u} arrived more than once"
            );
        }
    }
    arrived
}

/// `domain`'s entry in `GET /api/v1/admin/instances` on `inst`.
async fn server_health(inst: &Instance, admin: &str, domain: &str) -> Value {
    let (_, list) = inst.get("/api/v1/admin/instances", admin).await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|i| i["domain"] == domain)
        .unwrap_or_else(|| panic!("{domain} is not listed: {list}"))
        .clone()
}

async fn a_short_outage_is_forgiven(a_backend: Backend, b_backend: Backend) {
    let mut a = Instance::start(a_backend, QUICK_RETRY).await;
    let mut b = Instance::start(b_backend, QUICK_RETRY).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    follow_across(&b, &bob, &a, "alice").await;

    b.kill();
    let uris = post_concurrently(&a, &alice, "while B restarts", 20).await;
    // The author sees why a post waits.
    let first = local_id(&a, &alice, &uris[0]).await.expect("posted on A");
    let waiting = eventually(10, || async {
        let (_, d) = a
            .get(&format!("/api/v1/statuses/{first}/deliveries"), &alice)
            .await;
        d[0]["server"]["state"] == "failing"
            && d[0]["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with(&format!("waiting for {} (failing since", b.domain)))
            && d[0]["next_attempt_at"].is_string()
    })
    .await;
    assert!(
        waiting,
        "{}",
        a.get(&format!("/api/v1/statuses/{first}/deliveries"), &alice)
            .await
            .1
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let back = Instant::now();
    b.restart().await;
    assert!(
        all_arrive_once(&b, &bob, &uris, 60).await,
        "posts were not delivered within a minute\nA: {}\nB: {}",
        a.log(),
        b.log()
    );
    let took = back.elapsed();
    let (_, d) = a
        .get(&format!("/api/v1/statuses/{first}/deliveries"), &alice)
        .await;
    assert_eq!(d[0]["state"], "delivered", "{d}");
    assert_eq!(d[0]["server"]["state"], "reachable", "{d}");
    eprintln!("20 posts arrived {took:?} after B came back");

    // The sender killed mid-fan-out: everything still arrives once.
    let more = post_concurrently(&a, &alice, "fan-out", 12).await;
    a.kill();
    a.restart().await;
    assert!(
        all_arrive_once(&b, &bob, &more, 60).await,
        "posts were lost when A was killed\nA: {}\nB: {}",
        a.log(),
        b.log()
    );
}

#[tokio::test]
async fn a_short_outage_is_forgiven_sqlite_sender() {
    a_short_outage_is_forgiven(Backend::Sqlite, Backend::Postgres).await
}

#[tokio::test]
async fn a_short_outage_is_forgiven_postgres_sender() {
    a_short_outage_is_forgiven(Backend::Postgres, Backend::Sqlite).await
}

/// B is down for longer than `unreachable_after_hours`: A marks it unreachable and says so; B comes
/// back without saying anything, and A's next probe delivers everything that waited.
#[tokio::test]
async fn an_unreachable_server_recovers_on_its_first_successful_probe() {
    let a = Instance::start(Backend::Postgres, SHORT_PATIENCE).await;
    let mut b = Instance::start(Backend::Sqlite, SHORT_PATIENCE).await;
    let admin = a.user_with("root", "admin", "read write admin:read").await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    follow_across(&b, &bob, &a, "alice").await;

    b.kill();
    let uris = post_concurrently(&a, &alice, "long outage", 8).await;
    let marked = eventually(30, || async {
        let (_, list) = a.get("/api/v1/admin/instances", &admin).await;
        list.as_array().is_some_and(|l| {
            l.iter().any(|i| {
                i["domain"] == b.domain.as_str()
                    && i["state"] == "unreachable"
                    && i["unreachable_since"].is_string()
                    && i["failing_since"].is_string()
            })
        })
    })
    .await;
    assert!(marked, "B was not marked unreachable\n{}", a.log());
    let first = local_id(&a, &alice, &uris[0]).await.unwrap();
    let (_, d) = a
        .get(&format!("/api/v1/statuses/{first}/deliveries"), &alice)
        .await;
    let summary = d[0]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with(&format!("waiting for {} (unreachable since", b.domain))
            && summary.contains("next try at"),
        "{d}"
    );
    let (_, queue) = a
        .get(
            &format!("/api/v1/admin/deliveries?state=pending&domain={}", b.domain),
            &admin,
        )
        .await;
    assert!(
        queue.as_array().is_some_and(|q| !q.is_empty()
            && q.iter()
                .all(|d| d["server"]["state"] == "unreachable" && d["activity_id"].is_string())),
        "{queue}"
    );

    // Back, silently: the probe's success sends the rest at once.
    b.restart().await;
    assert!(
        all_arrive_once(&b, &bob, &uris, 60).await,
        "the probe did not bring B back\nA: {}",
        a.log()
    );
    let entry = server_health(&a, &admin, &b.domain).await;
    assert_eq!(entry["state"], "reachable", "{entry}");
    assert!(
        entry["unreachable_since"].is_null() && entry["failing_since"].is_null(),
        "{entry}"
    );
    assert_eq!(entry["failures"], 0);
}

/// As above, but B talks to A first (bob likes an earlier post): that alone ends the outage.
#[tokio::test]
async fn an_unreachable_server_recovers_when_it_talks_to_us() {
    let a = Instance::start(Backend::Sqlite, SHORT_PATIENCE).await;
    let mut b = Instance::start(Backend::Sqlite, SHORT_PATIENCE).await;
    let admin = a
        .user_with("root", "admin", "read write follow admin:read")
        .await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    follow_across(&b, &bob, &a, "alice").await;
    let (_, first) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": "before"}),
        )
        .await;
    let first_uri = first["uri"].as_str().unwrap().to_string();
    assert!(
        eventually(10, || async {
            local_id(&b, &bob, &first_uri).await.is_some()
        })
        .await
    );

    b.kill();
    let uris = post_concurrently(&a, &alice, "while down", 10).await;
    assert!(
        eventually(20, || async {
            let (_, list) = a.get("/api/v1/admin/instances", &admin).await;
            list.as_array().is_some_and(|l| {
                l.iter()
                    .any(|i| i["domain"] == b.domain.as_str() && i["unreachable_since"].is_string())
            })
        })
        .await,
        "B was not marked unreachable\n{}",
        a.log()
    );
    let (s, pending) = a
        .get(
            &format!("/api/v1/admin/deliveries?state=pending&domain={}", b.domain),
            &admin,
        )
        .await;
    assert_eq!(s, 200);
    assert!(!pending.as_array().unwrap().is_empty());
    let (s, _) = a.get("/api/v1/admin/instances", &alice).await;
    assert_eq!(s, 403, "admins only");

    // B comes back and talks to A (bob likes alice's earlier post): A marks it reachable and sends
    // what waited, without waiting for the hourly probe.
    b.restart().await;
    let first_on_b = local_id(&b, &bob, &first_uri).await.unwrap();
    b.send(
        reqwest::Method::POST,
        &format!("/api/v1/statuses/{first_on_b}/favourite"),
        &bob,
        json!({}),
    )
    .await;
    assert!(
        eventually(20, || async {
            let got = statuses_of(&b, &bob).await;
            uris.iter().all(|u| got.contains(u))
        })
        .await,
        "postponed deliveries were not sent\nA: {}",
        a.log()
    );
    let entry = server_health(&a, &admin, &b.domain).await;
    assert!(entry["unreachable_since"].is_null(), "{entry}");
    assert_eq!(entry["failures"], 0);
}
