//! The in-memory caches in front of the database (docs/ARCHITECTURE.md, "Caches") never serve
//! what a committed write changed: each scenario reads a thing (so it is kept), changes it
//! through the API, and reads it again at once.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;

both_backends!(
    a_kept_token_follows_profile_changes_disabling_and_suspension,
    kept_hashtags_and_mentions_follow_edits,
    kept_accounts_follow_posts_follows_and_profile_changes,
    kept_renderings_match_fresh_ones_after_every_change
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
        .put(
            &format!("/api/v1/statuses/{id}"),
            Some(&token),
            json!({"status": "edited #beta #gamma, nobody named"}),
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

/// Checks that every status on `token`'s home page, on the public timeline and on hashtag #kept's
/// (kept renderings, `service::rendered`) equals the status rendered afresh by `GET /api/v1/statuses/:id` for the
/// same viewer (`None`: anonymous, public only); returns the home page (or the public one).
async fn pages_match_fresh(app: &TestApp, token: Option<&str>) -> Vec<Value> {
    let mut first = None;
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/kept",
    ] {
        if token.is_none() && path.ends_with("home") {
            continue;
        }
        let page = app.get(path, token).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        let page = page.json().as_array().unwrap().clone();
        for s in &page {
            let id = s["id"].as_str().unwrap();
            let fresh = app.get(&format!("/api/v1/statuses/{id}"), token).await;
            assert_eq!(fresh.status, 200, "{}", fresh.text);
            assert_eq!(s, &fresh.json(), "{path}, status {id}");
        }
        first.get_or_insert(page);
    }
    first.unwrap()
}

/// The status with `id` on `page`, and the boost of it if there is one.
fn on_page<'a>(page: &'a [Value], id: &str) -> (Option<&'a Value>, Option<&'a Value>) {
    (
        page.iter().find(|s| s["id"] == id),
        page.iter().find(|s| s["reblog"]["id"] == id),
    )
}

async fn kept_renderings_match_fresh_ones_after_every_change(app: TestApp) {
    app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let carol = app.create_user("carol").await;
    let alice_t = app.token_for("alice", "read write follow").await;
    let bob_t = app.token_for("bob", "read write follow").await;
    let carol_t = app.token_for("carol", "read write follow").await;
    for target in [bob, carol] {
        let r = app
            .post(
                &format!("/api/v1/accounts/{target}/follow"),
                Some(&alice_t),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let ok = |r: crate::support::Answer| {
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    };
    let media = ok(crate::media::upload(
        &app,
        &bob_t,
        "/api/v2/media",
        "photo.png",
        "image/png",
        crate::media::fixture("photo.png"),
        &[("description", "first words")],
    )
    .await);
    let media_id = media["id"].as_str().unwrap().to_string();
    let s1 = ok(app
        .post(
            "/api/v1/statuses",
            Some(&bob_t),
            json!({"status": "hello @carol #kept", "media_ids": [media_id]}),
        )
        .await);
    let s1 = s1["id"].as_str().unwrap().to_string();
    ok(app
        .post(
            &format!("/api/v1/statuses/{s1}/reblog"),
            Some(&carol_t),
            json!({}),
        )
        .await);
    let mine = ok(app
        .post(
            "/api/v1/statuses",
            Some(&alice_t),
            json!({"status": "mine"}),
        )
        .await);
    let mine = mine["id"].as_str().unwrap().to_string();
    ok(app
        .post(
            &format!("/api/v1/statuses/{mine}/pin"),
            Some(&alice_t),
            json!({}),
        )
        .await);

    // Read twice: the second read is served from what the first kept.
    pages_match_fresh(&app, Some(&alice_t)).await;
    let page = pages_match_fresh(&app, Some(&alice_t)).await;
    pages_match_fresh(&app, None).await;
    assert_eq!(on_page(&page, &mine).0.unwrap()["pinned"], true);
    let (Some(s), Some(boost)) = on_page(&page, &s1) else {
        panic!("the status and its boost are on the home page: {page:?}");
    };
    assert_eq!(s["media_attachments"][0]["description"], "first words");
    assert_eq!(boost["reblog"]["mentions"][0]["username"], "carol");
    assert_eq!(boost["favourited"], false);

    // The viewer's own actions and others' counters.
    for action in ["favourite", "bookmark", "mute"] {
        ok(app
            .post(
                &format!("/api/v1/statuses/{s1}/{action}"),
                Some(&alice_t),
                json!({}),
            )
            .await);
    }
    ok(app
        .post(
            "/api/v1/statuses",
            Some(&carol_t),
            json!({"status": "a reply", "in_reply_to_id": s1}),
        )
        .await);
    let page = pages_match_fresh(&app, Some(&alice_t)).await;
    let (Some(s), Some(boost)) = on_page(&page, &s1) else {
        panic!("{page:?}");
    };
    assert_eq!(
        (&s["favourites_count"], &s["replies_count"], &s["muted"]),
        (&json!(1), &json!(1), &json!(true))
    );
    assert_eq!(
        (
            &boost["favourited"],
            &boost["bookmarked"],
            &boost["reblog"]["bookmarked"]
        ),
        (&json!(true), &json!(true), &json!(true))
    );
    pages_match_fresh(&app, None).await;

    // The author's edits: the text, the attachment's description, the profile.
    ok(app
        .put(
            &format!("/api/v1/statuses/{s1}"),
            Some(&bob_t),
            json!({"status": "edited hello", "media_ids": [media_id]}),
        )
        .await);
    ok(app
        .put(
            &format!("/api/v1/media/{media_id}"),
            Some(&bob_t),
            json!({"description": "new words"}),
        )
        .await);
    ok(app
        .send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&bob_t),
            Some(json!({"display_name": "Robert"})),
        )
        .await);
    let page = pages_match_fresh(&app, Some(&alice_t)).await;
    let s = on_page(&page, &s1).0.unwrap();
    assert!(
        s["content"].as_str().unwrap().contains("edited hello"),
        "{s}"
    );
    assert_eq!(s["media_attachments"][0]["description"], "new words");
    assert_eq!(s["account"]["display_name"], "Robert");
    assert_eq!(s["mentions"], json!([]));
    pages_match_fresh(&app, None).await;

    // Undone and deleted.
    ok(app
        .post(
            &format!("/api/v1/statuses/{s1}/unfavourite"),
            Some(&alice_t),
            json!({}),
        )
        .await);
    let page = pages_match_fresh(&app, Some(&alice_t)).await;
    assert_eq!(on_page(&page, &s1).0.unwrap()["favourites_count"], 0);
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{s1}"),
            Some(&bob_t),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let page = pages_match_fresh(&app, Some(&alice_t)).await;
    assert_eq!(on_page(&page, &s1), (None, None), "{page:?}");
    pages_match_fresh(&app, None).await;
}
