//! The in-memory caches in front of the database (docs/ARCHITECTURE.md, "Caches") never serve
//! what a committed write changed: each scenario reads a thing (so it is kept), changes it
//! through the API, and reads it again at once.

use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::support::TestApp;

both_backends!(
    a_kept_token_follows_profile_changes_disabling_and_suspension,
    kept_hashtags_and_mentions_follow_edits,
    kept_accounts_follow_posts_follows_and_profile_changes
);

async fn a_kept_token_follows_profile_changes_disabling_and_suspension(app: TestApp) {
    app.create_user_with_role("root", rookery::service::accounts::Role::Admin)
        .await;
    let admin = app
        .token_for("root", "read write admin:read admin:write")
        .await;
    let bob = app.create_user("bob").await;
    let token = app.token_for("bob", "read write").await;
    for _ in 0..3 {
        let me = app
            .get("/api/v1/accounts/verify_credentials", Some(&token))
            .await;
        assert_eq!(me.status, 200, "{}", me.text);
    }
    // A profile change shows at once in what the token stands for.
    let r = app
        .send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            Some(json!({"display_name": "Robert"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await;
    assert_eq!(me.json()["display_name"], "Robert");

    // Disabled by a moderator: refused at once, and back at once when enabled again.
    let act = |kind: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let path = if kind == "enable" {
                format!("/api/v1/admin/accounts/{bob}/enable")
            } else {
                format!("/api/v1/admin/accounts/{bob}/action")
            };
            let r = app.post(&path, Some(&admin), json!({"type": kind})).await;
            assert_eq!(r.status, 200, "{kind}: {}", r.text);
        }
    };
    act("disable").await;
    let r = app.get("/api/v1/timelines/home", Some(&token)).await;
    assert!(
        r.status == 401 || r.status == 403,
        "{} {}",
        r.status,
        r.text
    );
    act("enable").await;
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await;
    // Disabling revokes the user's tokens (Mastodon does too), so a new one is needed.
    let token = if me.status == 200 {
        token
    } else {
        app.token_for("bob", "read write").await
    };
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&token))
            .await
            .status,
        200
    );

    // Suspended: the kept token stops working on the next request.
    act("suspend").await;
    let r = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await;
    assert!(
        r.status == 401 || r.status == 403,
        "{} {}",
        r.status,
        r.text
    );
}

async fn kept_hashtags_and_mentions_follow_edits(app: TestApp) {
    app.create_user("alice").await;
    app.create_user("carol").await;
    let token = app.token_for("alice", "read write").await;
    let r = app
        .post(
            "/api/v1/statuses",
            Some(&token),
            json!({"status": "first #alpha for @carol"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let tags_and_mentions = || {
        let (app, token) = (&app, token.clone());
        async move {
            let home = app.get("/api/v1/timelines/home", Some(&token)).await.json();
            let s = &home[0];
            let tags: Vec<String> = s["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_string())
                .collect();
            let mentions: Vec<String> = s["mentions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["acct"].as_str().unwrap().to_string())
                .collect();
            (tags, mentions)
        }
    };
    assert_eq!(
        tags_and_mentions().await,
        (vec!["alpha".to_string()], vec!["carol".to_string()])
    );
    let r = app
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            Some(&token),
            Some(json!({"status": "edited #beta #gamma, nobody named"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        tags_and_mentions().await,
        (vec!["beta".to_string(), "gamma".to_string()], vec![])
    );
}

async fn kept_accounts_follow_posts_follows_and_profile_changes(app: TestApp) {
    app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let alice_t = app.token_for("alice", "read write follow").await;
    let bob_t = app.token_for("bob", "read write follow").await;
    let post = |token: String, text: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post("/api/v1/statuses", Some(&token), json!({"status": text}))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    };
    let newest_author = || {
        let (app, token) = (&app, alice_t.clone());
        async move {
            let public = app
                .get("/api/v1/timelines/public?local=true", Some(&token))
                .await
                .json();
            public[0]["account"].clone()
        }
    };
    let r = app
        .post(
            &format!("/api/v1/accounts/{bob}/follow"),
            Some(&alice_t),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    post(bob_t.clone(), "one").await;
    let a = newest_author().await;
    assert_eq!(
        (a["statuses_count"].as_i64(), a["followers_count"].as_i64()),
        (Some(1), Some(1))
    );
    // Kept now; each change shows on the next read.
    post(bob_t.clone(), "two").await;
    assert_eq!(newest_author().await["statuses_count"], 2);
    let r = app
        .post(
            &format!("/api/v1/accounts/{bob}/unfollow"),
            Some(&alice_t),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let account = app
        .get(&format!("/api/v1/accounts/{bob}"), Some(&alice_t))
        .await
        .json();
    assert_eq!(account["followers_count"], 0);
    let r = app
        .send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&bob_t),
            Some(json!({"display_name": "Robert"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let account = app
        .get(&format!("/api/v1/accounts/{bob}"), Some(&alice_t))
        .await
        .json();
    assert_eq!(account["display_name"], "Robert");
    assert_eq!(newest_author().await["display_name"], "Robert");
}
