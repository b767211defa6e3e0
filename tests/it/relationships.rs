//! Follows (open and locked accounts), follow requests, unfollow, removing followers, blocks and
//! mutes, and their effect on home timelines and account lists.

use serde_json::json;

use crate::both_backends;
use crate::statuses::post;
use crate::support::TestApp;

async fn user(app: &TestApp, name: &str) -> (i64, String) {
    let id = app.create_user(name).await;
    (id, app.token_for(name, "read write follow").await)
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

async fn follow_unfollow_and_lists(app: TestApp) {
    let (a, at) = user(&app, "alice").await;
    let (b, bt) = user(&app, "bob").await;
    let old = post(&app, &at, json!({"status": "before the follow"})).await;

    let r = app
        .post(
            &format!("/api/v1/accounts/{a}/follow"),
            Some(&bt),
            json!({"reblogs": false, "notify": true}),
        )
        .await
        .json();
    assert_eq!(r["following"], true);
    assert_eq!(r["showing_reblogs"], false);
    assert_eq!(r["notifying"], true);
    // Following twice is fine and only updates the options.
    let r = app
        .post(
            &format!("/api/v1/accounts/{a}/follow"),
            Some(&bt),
            json!({"reblogs": true}),
        )
        .await
        .json();
    assert_eq!(r["showing_reblogs"], true);
    assert_eq!(r["notifying"], true);
    // Recent posts were merged into the new follower's home.
    let home = app.get("/api/v1/timelines/home", Some(&bt)).await.json();
    assert!(ids(&home).contains(&old["id"].as_str().unwrap().to_string()));

    let rel = app
        .get(
            &format!("/api/v1/accounts/relationships?id[]={a}"),
            Some(&bt),
        )
        .await
        .json();
    assert_eq!(rel[0]["following"], true);
    let rel = app
        .get(
            &format!("/api/v1/accounts/relationships?id[]={b}"),
            Some(&at),
        )
        .await
        .json();
    assert_eq!(rel[0]["followed_by"], true);

    let followers = app
        .get(&format!("/api/v1/accounts/{a}/followers"), None)
        .await
        .json();
    assert_eq!(followers[0]["username"], "bob");
    let following = app
        .get(&format!("/api/v1/accounts/{b}/following"), None)
        .await
        .json();
    assert_eq!(following[0]["username"], "alice");
    let alice = app.get(&format!("/api/v1/accounts/{a}"), None).await.json();
    assert_eq!(alice["followers_count"], 1);
    assert_eq!(alice["statuses_count"], 1);
    assert!(alice["last_status_at"].is_string());
    let bob = app
        .get("/api/v1/accounts/verify_credentials", Some(&bt))
        .await
        .json();
    assert_eq!(bob["following_count"], 1);

    // Unfollow: alice's posts leave bob's home.
    let r = app
        .post(
            &format!("/api/v1/accounts/{a}/unfollow"),
            Some(&bt),
            json!({}),
        )
        .await
        .json();
    assert_eq!(r["following"], false);
    assert!(
        app.get("/api/v1/timelines/home", Some(&bt))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // remove_from_followers: alice makes bob stop following her.
    app.post(
        &format!("/api/v1/accounts/{a}/follow"),
        Some(&bt),
        json!({}),
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/accounts/{b}/remove_from_followers"),
            Some(&at),
            json!({}),
        )
        .await
        .json();
    assert_eq!(r["followed_by"], false);

    // Following oneself or nobody.
    app.post(
        &format!("/api/v1/accounts/{a}/follow"),
        Some(&at),
        json!({}),
    )
    .await
    .assert_error(403);
    app.post("/api/v1/accounts/424242/follow", Some(&at), json!({}))
        .await
        .assert_error(404);
    let ro = app.token_for("bob", "read").await;
    app.post(
        &format!("/api/v1/accounts/{a}/follow"),
        Some(&ro),
        json!({}),
    )
    .await
    .assert_error(403);
}

async fn locked_accounts_and_follow_requests(app: TestApp) {
    let (a, at) = user(&app, "alice").await;
    let (b, bt) = user(&app, "bob").await;
    let (c, ct) = user(&app, "carol").await;
    app.send(
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&at),
        Some(json!({"locked": true})),
    )
    .await;
    let private = post(
        &app,
        &at,
        json!({"status": "followers only", "visibility": "private"}),
    )
    .await;
    let pid = private["id"].as_str().unwrap().to_string();

    let r = app
        .post(
            &format!("/api/v1/accounts/{a}/follow"),
            Some(&bt),
            json!({}),
        )
        .await
        .json();
    assert_eq!(r["following"], false);
    assert_eq!(r["requested"], true);
    app.post(
        &format!("/api/v1/accounts/{a}/follow"),
        Some(&ct),
        json!({}),
    )
    .await;
    app.get(&format!("/api/v1/statuses/{pid}"), Some(&bt))
        .await
        .assert_error(404);

    let reqs = app.get("/api/v1/follow_requests", Some(&at)).await.json();
    assert_eq!(reqs.as_array().unwrap().len(), 2);
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&at))
        .await
        .json();
    assert_eq!(me["source"]["follow_requests_count"], 2);
    let notes = app
        .get("/api/v1/notifications?types[]=follow_request", Some(&at))
        .await
        .json();
    assert_eq!(notes.as_array().unwrap().len(), 2);

    let ok = app
        .post(
            &format!("/api/v1/follow_requests/{b}/authorize"),
            Some(&at),
            json!({}),
        )
        .await
        .json();
    assert_eq!(ok["followed_by"], true);
    let no = app
        .post(
            &format!("/api/v1/follow_requests/{c}/reject"),
            Some(&at),
            json!({}),
        )
        .await
        .json();
    assert_eq!(no["followed_by"], false);
    app.post(
        &format!("/api/v1/follow_requests/{c}/authorize"),
        Some(&at),
        json!({}),
    )
    .await
    .assert_error(404);
    assert_eq!(
        app.get("/api/v1/follow_requests", Some(&at)).await.json(),
        json!([])
    );
    assert!(
        app.get("/api/v1/notifications?types[]=follow_request", Some(&at))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Bob now sees the private post, at home too; carol still does not.
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{pid}"), Some(&bt))
            .await
            .status,
        200
    );
    assert!(ids(&app.get("/api/v1/timelines/home", Some(&bt)).await.json()).contains(&pid));
    app.get(&format!("/api/v1/statuses/{pid}"), Some(&ct))
        .await
        .assert_error(404);
    let rel = app
        .get(&format!("/api/v1/accounts/relationships?id={a}"), Some(&ct))
        .await
        .json();
    assert_eq!(rel[0]["requested"], false);
}

async fn blocks_and_mutes(app: TestApp) {
    let (a, at) = user(&app, "alice").await;
    let (b, bt) = user(&app, "bob").await;
    app.post(
        &format!("/api/v1/accounts/{a}/follow"),
        Some(&bt),
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/accounts/{b}/follow"),
        Some(&at),
        json!({}),
    )
    .await;
    let s = post(&app, &at, json!({"status": "hello bob"})).await;
    let sid = s["id"].as_str().unwrap().to_string();

    // Mute: alice's posts vanish from bob's timelines, not from the status page.
    let r = app
        .post(
            &format!("/api/v1/accounts/{a}/mute"),
            Some(&bt),
            json!({"notifications": false, "duration": 0}),
        )
        .await
        .json();
    assert_eq!(r["muting"], true);
    assert_eq!(r["muting_notifications"], false);
    assert!(!ids(&app.get("/api/v1/timelines/home", Some(&bt)).await.json()).contains(&sid));
    assert!(ids(&app.get("/api/v1/timelines/public", Some(&bt)).await.json()).is_empty());
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{sid}"), Some(&bt))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get("/api/v1/mutes", Some(&bt)).await.json()[0]["username"],
        "alice"
    );
    app.post(
        &format!("/api/v1/accounts/{a}/unmute"),
        Some(&bt),
        json!({}),
    )
    .await;
    assert!(ids(&app.get("/api/v1/timelines/home", Some(&bt)).await.json()).contains(&sid));

    // An expired mute no longer hides anything.
    app.post(
        &format!("/api/v1/accounts/{a}/mute"),
        Some(&bt),
        json!({"duration": 1}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert!(ids(&app.get("/api/v1/timelines/home", Some(&bt)).await.json()).contains(&sid));

    // Block: follows end both ways, both vanish for each other.
    let r = app
        .post(&format!("/api/v1/accounts/{b}/block"), Some(&at), json!({}))
        .await
        .json();
    assert_eq!(r["blocking"], true);
    assert_eq!(r["following"], false);
    assert_eq!(r["followed_by"], false);
    app.get(&format!("/api/v1/statuses/{sid}"), Some(&bt))
        .await
        .assert_error(404);
    assert!(
        app.get("/api/v1/timelines/home", Some(&bt))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.post(
        &format!("/api/v1/accounts/{a}/follow"),
        Some(&bt),
        json!({}),
    )
    .await
    .assert_error(403);
    let rel = app
        .get(&format!("/api/v1/accounts/relationships?id={a}"), Some(&bt))
        .await
        .json();
    assert_eq!(rel[0]["blocked_by"], true);
    assert_eq!(
        app.get("/api/v1/blocks", Some(&at)).await.json()[0]["username"],
        "bob"
    );
    // Bob's mention of alice does not notify her while blocked.
    post(&app, &bt, json!({"status": "@alice hey"})).await;
    assert!(
        app.get("/api/v1/notifications?types[]=mention", Some(&at))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = app
        .post(
            &format!("/api/v1/accounts/{b}/unblock"),
            Some(&at),
            json!({}),
        )
        .await
        .json();
    assert_eq!(r["blocking"], false);
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{sid}"), Some(&bt))
            .await
            .status,
        200
    );
}

both_backends!(
    follow_unfollow_and_lists,
    locked_accounts_and_follow_requests,
    blocks_and_mutes
);

/// A user's block of a whole server (A blocks B): B's posts leave the user's home and public
/// timelines, B's mentions make no notifications, B's followers of the user are removed (and B
/// learns it from a `Reject`), the relationship says `domain_blocking`; unblocking shows the posts
/// again.
#[tokio::test]
async fn a_user_blocks_a_server() {
    use crate::federation::{DEV_FEDERATION, Instance, eventually, follow_across, resolve};
    use reqwest::Method;
    let a = Instance::start(crate::support::Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(crate::support::Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let carol = b.user("carol").await;
    let bob_on_a = follow_across(&a, &alice, &b, "bob").await;
    let alice_on_b = follow_across(&b, &bob, &a, "alice").await;
    let (_, posted) = b
        .send(
            Method::POST,
            "/api/v1/statuses",
            &bob,
            serde_json::json!({"status": "news from B"}),
        )
        .await;
    let uri = posted["uri"].as_str().unwrap().to_string();
    async fn home_has(inst: &Instance, token: String, uri: String) -> bool {
        let (_, home) = inst.get("/api/v1/timelines/home", &token).await;
        home.as_array()
            .unwrap()
            .iter()
            .any(|s| s["uri"] == uri.as_str())
    }
    assert!(
        eventually(20, || home_has(&a, alice.clone(), uri.clone())).await,
        "bob's post did not reach alice"
    );

    for bad in ["", "not a domain", &a.domain] {
        let (s, e) = a
            .send(
                Method::POST,
                "/api/v1/domain_blocks",
                &alice,
                serde_json::json!({"domain": bad}),
            )
            .await;
        assert_eq!(s, 422, "{bad:?}: {e}");
    }
    let (s, _) = a
        .send(
            Method::POST,
            "/api/v1/domain_blocks",
            &alice,
            serde_json::json!({"domain": format!("http://{}/", b.domain.to_uppercase())}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, list) = a.get("/api/v1/domain_blocks", &alice).await;
    assert_eq!(list, serde_json::json!([b.domain]));
    let (_, rel) = a
        .get(
            &format!("/api/v1/accounts/relationships?id[]={bob_on_a}"),
            &alice,
        )
        .await;
    assert_eq!(rel[0]["domain_blocking"], true, "{rel}");
    assert_eq!(
        rel[0]["followed_by"], false,
        "bob no longer follows alice: {rel}"
    );
    assert!(
        !home_has(&a, alice.clone(), uri.clone()).await,
        "the post still shows on home"
    );
    let (_, public) = a.get("/api/v1/timelines/public", &alice).await;
    assert!(
        public
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["uri"] != uri.as_str())
    );
    let told = eventually(20, || async {
        let (_, r) = b
            .get(
                &format!("/api/v1/accounts/relationships?id[]={alice_on_b}"),
                &bob,
            )
            .await;
        r[0]["following"] == false
    })
    .await;
    assert!(
        told,
        "B was not told that bob no longer follows alice\n{}",
        a.log()
    );

    // A mention from B makes no notification.
    let alice_handle = format!("@alice@{}", a.domain);
    let (s, _) = b
        .send(
            Method::POST,
            "/api/v1/statuses",
            &carol,
            serde_json::json!({"status": format!("{alice_handle} hello?")}),
        )
        .await;
    assert_eq!(s, 200);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let (_, notes) = a.get("/api/v1/notifications?types[]=mention", &alice).await;
    assert_eq!(
        notes,
        serde_json::json!([]),
        "a notification from a blocked server"
    );
    let _ = resolve;

    // Unblocked: the post shows again.
    let (s, _) = a
        .send(
            Method::DELETE,
            &format!("/api/v1/domain_blocks?domain={}", b.domain),
            &alice,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(home_has(&a, alice.clone(), uri.clone()).await);
    let (_, list) = a.get("/api/v1/domain_blocks", &alice).await;
    assert_eq!(list, serde_json::json!([]));
}
