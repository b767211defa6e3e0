//! Moderation across two real instances: a report forwarded as a `Flag`, a local suspension that
//! reaches the other server as `Delete` of the actor, and a remote account suspended from the
//! command line.

use reqwest::Method;
use serde_json::{Value, json};

use crate::federation::{
    DEV_FEDERATION, Instance, eventually, follow, poll_get, resolve, wait_following,
};
use crate::support::Backend;
use crate::support::binary::run_cli;
use crate::support::forms::{FormClient, hidden_inputs, set};

async fn post(inst: &Instance, token: &str, text: &str) -> Value {
    let (s, p) = inst
        .send(
            Method::POST,
            "/api/v1/statuses",
            token,
            json!({"status": text}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    p
}

fn uris(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["uri"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn suspended_accounts_vanish_on_both_instances() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let moderator = a
        .user_with("warden", "moderator", "read write admin:read admin:write")
        .await;
    let alice = a.user("alice").await;
    let carol = a.user("carol").await;
    let bob = b.user("bob").await;

    // bob on B follows alice and carol on A and gets their posts.
    let alice_on_b = resolve(&b, &bob, &format!("alice@{}", a.domain)).await;
    let carol_on_b = resolve(&b, &bob, &format!("carol@{}", a.domain)).await;
    for id in [&alice_on_b, &carol_on_b] {
        follow(&b, &bob, id).await;
        assert!(wait_following(&b, &bob, id).await, "{}", a.log());
    }
    let bad = post(&a, &alice, "something awful").await;
    let bad_uri = bad["uri"].as_str().unwrap().to_string();
    let fine = post(&a, &carol, "something fine").await;
    let fine_uri = fine["uri"].as_str().unwrap().to_string();
    let home = poll_get(&b, &bob, "/api/v1/timelines/home", |v| {
        let u = uris(v);
        u.contains(&bad_uri) && u.contains(&fine_uri)
    })
    .await
    .unwrap_or_else(|| panic!("posts never reached B\nA: {}\nB: {}", a.log(), b.log()));
    let bad_on_b = home
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uri"] == bad_uri.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // bob reports alice and has the report forwarded: A's moderators get it from B's server actor.
    let (s, report) = b
        .send(
            Method::POST,
            "/api/v1/reports",
            &bob,
            json!({"account_id": alice_on_b, "status_ids": [bad_on_b], "comment": "not ok",
                   "forward": true}),
        )
        .await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["forwarded"], true);
    let reports = poll_get(&a, &moderator, "/api/v1/admin/reports", |v| {
        v.as_array().is_some_and(|r| r.len() == 1)
    })
    .await
    .unwrap_or_else(|| panic!("no forwarded report on A\nA: {}\nB: {}", a.log(), b.log()));
    let forwarded = &reports[0];
    assert_eq!(forwarded["target_account"]["username"], "alice");
    assert_eq!(forwarded["comment"], "not ok");
    assert_eq!(forwarded["statuses"][0]["uri"], bad_uri.as_str());
    // The reporter is B's server, not bob.
    assert_eq!(forwarded["account"]["domain"], b.domain.as_str());
    assert_ne!(forwarded["account"]["username"], "bob");

    let (_, n) = a
        .get("/api/v1/notifications?types[]=admin.report", &moderator)
        .await;
    assert_eq!(n[0]["report"]["id"], forwarded["id"], "{n}");

    // A's moderator suspends alice for it.
    let alice_id = forwarded["target_account"]["id"].as_str().unwrap();
    let (s, r) = a
        .send(
            Method::POST,
            &format!("/api/v1/admin/accounts/{alice_id}/action"),
            &moderator,
            json!({"type": "suspend", "report_id": forwarded["id"]}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    // Gone on A at once …
    let bad_id = bad["id"].as_str().unwrap();
    let (s, _) = a.get(&format!("/api/v1/statuses/{bad_id}"), &carol).await;
    assert_eq!(s, 404);
    let (s, _) = a.get("/api/v1/accounts/verify_credentials", &alice).await;
    assert_eq!(s, 401);
    // … and on B once the Delete arrives: the post, the account and bob's follow of it.
    assert!(
        eventually(20, || async {
            let (s, _) = b.get(&format!("/api/v1/statuses/{bad_on_b}"), &bob).await;
            s == 404
        })
        .await,
        "alice's post is still on B\nA: {}\nB: {}",
        a.log(),
        b.log()
    );
    let (_, home) = b.get("/api/v1/timelines/home", &bob).await;
    assert!(!uris(&home).contains(&bad_uri), "{home}");
    assert!(
        uris(&home).contains(&fine_uri),
        "carol's post stays: {home}"
    );
    let (s, _) = b.get(&format!("/api/v1/accounts/{alice_on_b}"), &bob).await;
    assert_eq!(s, 404);
    // Searching for her again finds nothing: her actor is gone (410).
    let (_, found) = b
        .get(
            &format!(
                "/api/v2/search?q={}&resolve=true&type=accounts",
                urlencoding::encode(&format!("alice@{}", a.domain))
            ),
            &bob,
        )
        .await;
    assert_eq!(found["accounts"], json!([]), "{found}");

    // B's operator suspends carol (a remote account there) from the command line: her posts go
    // from B, and what she sends afterwards is dropped.
    let (ok, out, err) = run_cli(
        &b.server.config,
        &[
            "admin",
            "account",
            "suspend",
            &format!("carol@{}", a.domain),
        ],
    );
    assert!(ok, "{out}{err}");
    let (_, home) = b.get("/api/v1/timelines/home", &bob).await;
    assert!(!uris(&home).contains(&fine_uri), "{home}");
    let later = post(&a, &carol, "are you there?").await;
    let later_uri = later["uri"].as_str().unwrap().to_string();
    // A still delivers to bob's server only if carol has followers there; she has none now, so
    // bob mentions nothing and sees nothing.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let (_, home) = b.get("/api/v1/timelines/home", &bob).await;
    assert!(!uris(&home).contains(&later_uri), "{home}");
    let (_, listed) = b
        .get("/api/v2/admin/accounts?status=suspended&origin=remote", &{
            b.user_with("boss", "admin", "admin:read").await
        })
        .await;
    assert_eq!(listed[0]["username"], "carol", "{listed}");

    // dave on A deletes his own account: his post leaves B too, and his name stays taken.
    let dave = a.user("dave").await;
    let dave_on_b = resolve(&b, &bob, &format!("dave@{}", a.domain)).await;
    follow(&b, &bob, &dave_on_b).await;
    assert!(wait_following(&b, &bob, &dave_on_b).await);
    let farewell = post(&a, &dave, "goodbye").await;
    let farewell_uri = farewell["uri"].as_str().unwrap().to_string();
    poll_get(&b, &bob, "/api/v1/timelines/home", |v| {
        uris(v).contains(&farewell_uri)
    })
    .await
    .unwrap_or_else(|| panic!("dave's post never reached B\n{}", b.log()));
    let mut browser = FormClient::new();
    let page = browser.get(&a.url("/auth/sign_in")).await;
    let mut form = hidden_inputs(&page.text);
    set(&mut form, "username", "dave");
    set(&mut form, "password", "federation test");
    set(&mut form, "next", "/settings/delete");
    let r = browser.post_form(&a.url("/auth/sign_in"), &form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = browser.get(&a.url("/settings/delete")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let mut form = hidden_inputs(&page.text);
    set(&mut form, "current_password", "wrong");
    let r = browser.post_form(&a.url("/settings/delete"), &form).await;
    assert_eq!(r.status, 422, "{}", r.text);
    set(&mut form, "current_password", "federation test");
    let r = browser.post_form(&a.url("/settings/delete"), &form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Your account is deleted"), "{}", r.text);
    let (s, _) = a.get("/api/v1/accounts/verify_credentials", &dave).await;
    assert_eq!(s, 401);
    assert!(
        eventually(20, || async {
            let (_, home) = b.get("/api/v1/timelines/home", &bob).await;
            !uris(&home).contains(&farewell_uri)
        })
        .await,
        "dave's post is still on B\nA: {}\nB: {}",
        a.log(),
        b.log()
    );
    let (ok, _, err) = run_cli(
        &a.server.config,
        &[
            "admin",
            "account",
            "create",
            "--username",
            "dave",
            "--email",
            "dave2@example.com",
            "--password",
            "another passphrase",
        ],
    );
    assert!(!ok, "the name is still taken");
    assert!(err.contains("taken"), "{err}");
}
