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
