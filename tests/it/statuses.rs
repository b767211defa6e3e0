//! Posting and reading statuses through the client API: text rendering, visibility rules (a
//! matrix over viewers and endpoints), threads, edits, deletes, boosts, favourites, bookmarks,
//! pins, pagination and bad input.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;

pub struct Users {
    pub author: (i64, String),
    pub follower: (i64, String),
    pub mentioned: (i64, String),
    pub stranger: (i64, String),
    pub blocked: (i64, String),
}

/// alice (author), fred follows alice, mia is mentioned (not following), sam is a stranger, and
/// alice blocks bea.
pub async fn cast(app: &TestApp) -> Users {
    let mut ids = Vec::new();
    for name in ["alice", "fred", "mia", "sam", "bea"] {
        let id = app.create_user(name).await;
        let token = app.token_for(name, "read write follow").await;
        ids.push((id, token));
    }
    let users = Users {
        author: ids[0].clone(),
        follower: ids[1].clone(),
        mentioned: ids[2].clone(),
        stranger: ids[3].clone(),
        blocked: ids[4].clone(),
    };
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/follow", users.author.0),
            Some(&users.follower.1),
            json!({}),
        )
        .await;
    assert_eq!(r.json()["following"], true, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/block", users.blocked.0),
            Some(&users.author.1),
            json!({}),
        )
        .await;
    assert_eq!(r.json()["blocking"], true, "{}", r.text);
    users
}

pub async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/api/v1/statuses", Some(token), body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn visibility_matrix(app: TestApp) {
    let u = cast(&app).await;
    let mut posted = Vec::new();
    for vis in ["public", "unlisted", "private", "direct"] {
        let s = post(
            &app,
            &u.author.1,
            json!({"status": format!("{vis} post for @mia"), "visibility": vis}),
        )
        .await;
        assert_eq!(s["visibility"], vis);
        assert_eq!(s["mentions"][0]["username"], "mia");
        posted.push((vis, s["id"].as_str().unwrap().to_string()));
    }
    // Who may see each visibility by ID (author, follower, mentioned, stranger, blocked, anonymous).
    let expect: &[(&str, [bool; 6])] = &[
        ("public", [true, true, true, true, false, true]),
        ("unlisted", [true, true, true, true, false, true]),
        ("private", [true, true, true, false, false, false]),
        ("direct", [true, false, true, false, false, false]),
    ];
    let viewers: [Option<&str>; 6] = [
        Some(&u.author.1),
        Some(&u.follower.1),
        Some(&u.mentioned.1),
        Some(&u.stranger.1),
        Some(&u.blocked.1),
        None,
    ];
    let names = [
        "author",
        "follower",
        "mentioned",
        "stranger",
        "blocked",
        "anonymous",
    ];
    for (vis, id) in &posted {
        let row = expect.iter().find(|(v, _)| v == vis).unwrap().1;
        for (i, viewer) in viewers.iter().enumerate() {
            let by_id = app.get(&format!("/api/v1/statuses/{id}"), *viewer).await;
            assert_eq!(
                by_id.status == 200,
                row[i],
                "{vis} by id for {}: {}",
                names[i],
                by_id.text
            );
            if !row[i] {
                by_id.assert_error(404);
            }
            let ctx = app
                .get(&format!("/api/v1/statuses/{id}/context"), *viewer)
                .await;
            assert_eq!(ctx.status == 200, row[i], "{vis} context for {}", names[i]);
            let acct = app
                .get(
                    &format!("/api/v1/accounts/{}/statuses", u.author.0),
                    *viewer,
                )
                .await
                .json();
            assert_eq!(
                ids_of(&acct).contains(id),
                row[i],
                "{vis} in account statuses for {}",
                names[i]
            );
        }
    }
    let home = |t: String| {
        let app = &app;
        async move { ids_of(&app.get("/api/v1/timelines/home", Some(&t)).await.json()) }
    };
    let author_home = home(u.author.1.clone()).await;
    let follower_home = home(u.follower.1.clone()).await;
    let mentioned_home = home(u.mentioned.1.clone()).await;
    for (vis, id) in &posted {
        assert!(author_home.contains(id), "author's own {vis} post in home");
        assert_eq!(
            follower_home.contains(id),
            *vis != "direct",
            "{vis} in follower's home"
        );
        assert!(!mentioned_home.contains(id), "{vis} in non-follower's home");
    }
    assert!(home(u.stranger.1.clone()).await.is_empty());

    for (viewer, name) in [
        (Some(u.stranger.1.as_str()), "stranger"),
        (None, "anonymous"),
        (Some(u.blocked.1.as_str()), "blocked"),
    ] {
        let public = ids_of(&app.get("/api/v1/timelines/public", viewer).await.json());
        let expected: Vec<String> = if name == "blocked" {
            vec![]
        } else {
            vec![posted[0].1.clone()]
        };
        assert_eq!(public, expected, "public timeline for {name}");
    }
    let local = ids_of(
        &app.get("/api/v1/timelines/public?local=true", None)
            .await
            .json(),
    );
    assert_eq!(local, vec![posted[0].1.clone()]);
    assert!(
        ids_of(
            &app.get("/api/v1/timelines/public?remote=true", None)
                .await
                .json()
        )
        .is_empty()
    );
}

async fn text_threads_and_edits(app: TestApp) {
    let u = cast(&app).await;
    let s = post(&app, &u.author.1, json!({"status": "Hello @fred and @nobody! #Rust #rust https://example.com/x <b>", "spoiler_text": "cw", "language": "en"})).await;
    let content = s["content"].as_str().unwrap();
    assert!(
        content.contains("class=\"u-url mention\">@<span>fred</span>"),
        "{content}"
    );
    assert!(content.contains("@nobody"), "{content}");
    assert!(
        content.contains("rel=\"tag\">#<span>Rust</span>"),
        "{content}"
    );
    assert!(content.contains("&lt;b&gt;"), "{content}");
    assert_eq!(
        s["tags"],
        json!([{"name": "rust", "url": format!("http://{}/tags/rust", app.state.config.server.domain)}])
    );
    assert_eq!(s["sensitive"], true, "a content warning makes it sensitive");
    assert_eq!(s["spoiler_text"], "cw");
    assert_eq!(s["language"], "en");
    assert_eq!(s["application"]["name"], "Test app");
    assert_eq!(s["favourited"], false);
    for f in [
        "id",
        "uri",
        "url",
        "created_at",
        "account",
        "content",
        "visibility",
        "media_attachments",
        "mentions",
        "tags",
        "emojis",
        "reblogs_count",
        "favourites_count",
        "replies_count",
    ] {
        assert!(s.get(f).is_some(), "Status lacks {f}");
    }
    let id = s["id"].as_str().unwrap().to_string();
    // Anonymous viewers get no viewer-specific fields.
    let anon = app
        .get(&format!("/api/v1/statuses/{id}"), None)
        .await
        .json();
    assert!(anon.get("favourited").is_none());

    // A thread: fred replies, alice replies to fred.
    let r1 = post(
        &app,
        &u.follower.1,
        json!({"status": "@alice a reply", "in_reply_to_id": id}),
    )
    .await;
    let r2 = post(
        &app,
        &u.author.1,
        json!({"status": "@fred and back", "in_reply_to_id": r1["id"]}),
    )
    .await;
    assert_eq!(r1["in_reply_to_id"], id.as_str());
    assert_eq!(r1["in_reply_to_account_id"], u.author.0.to_string());
    let ctx = app
        .get(
            &format!("/api/v1/statuses/{}/context", r1["id"].as_str().unwrap()),
            None,
        )
        .await
        .json();
    assert_eq!(ids_of(&ctx["ancestors"]), vec![id.clone()]);
    assert_eq!(
        ids_of(&ctx["descendants"]),
        vec![r2["id"].as_str().unwrap().to_string()]
    );
    let root = app
        .get(&format!("/api/v1/statuses/{id}"), None)
        .await
        .json();
    assert_eq!(root["replies_count"], 1);
    // Replying to an invisible status is a 404.
    let dm = post(
        &app,
        &u.author.1,
        json!({"status": "secret", "visibility": "direct"}),
    )
    .await;
    app.post(
        "/api/v1/statuses",
        Some(&u.stranger.1),
        json!({"status": "hi", "in_reply_to_id": dm["id"]}),
    )
    .await
    .assert_error(404);

    // Edit: history keeps both versions, source gives the text, others may not edit.
    let e = app
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            Some(&u.author.1),
            Some(json!({"status": "Edited #Go", "spoiler_text": ""})),
        )
        .await;
    assert_eq!(e.status, 200, "{}", e.text);
    let e = e.json();
    assert!(e["content"].as_str().unwrap().contains("Edited"));
    assert!(e["edited_at"].is_string());
    assert_eq!(e["tags"][0]["name"], "go");
    let hist = app
        .get(&format!("/api/v1/statuses/{id}/history"), None)
        .await
        .json();
    assert_eq!(hist.as_array().unwrap().len(), 2);
    assert!(hist[0]["content"].as_str().unwrap().contains("Hello"));
    assert!(hist[1]["content"].as_str().unwrap().contains("Edited"));
    let src = app
        .get(&format!("/api/v1/statuses/{id}/source"), Some(&u.author.1))
        .await
        .json();
    assert_eq!(src["text"], "Edited #Go");
    app.send(
        Method::PUT,
        &format!("/api/v1/statuses/{id}"),
        Some(&u.follower.1),
        Some(json!({"status": "mine now"})),
    )
    .await
    .assert_error(403);
    app.send(
        Method::PUT,
        &format!("/api/v1/statuses/{}", dm["id"].as_str().unwrap()),
        Some(&u.stranger.1),
        Some(json!({"status": "x"})),
    )
    .await
    .assert_error(404);

    // Delete returns the source text for redrafting; the thread loses it.
    app.send(
        Method::DELETE,
        &format!("/api/v1/statuses/{id}"),
        Some(&u.follower.1),
        None,
    )
    .await
    .assert_error(403);
    let d = app
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{}", r1["id"].as_str().unwrap()),
            Some(&u.follower.1),
            None,
        )
        .await;
    assert_eq!(d.status, 200);
    assert_eq!(d.json()["text"], "@alice a reply");
    app.get(
        &format!("/api/v1/statuses/{}", r1["id"].as_str().unwrap()),
        None,
    )
    .await
    .assert_error(404);
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{id}"), None)
            .await
            .json()["replies_count"],
        0
    );
}

async fn bad_status_input(app: TestApp) {
    let u = cast(&app).await;
    let t = &u.author.1;
    for (body, why) in [
        (json!({"status": ""}), "empty"),
        (json!({"status": "   "}), "blank"),
        (json!({"status": "x".repeat(501)}), "too long"),
        (
            json!({"status": "hi", "visibility": "everyone"}),
            "visibility",
        ),
        (json!({"status": "hi", "language": "english"}), "language"),
        (
            json!({"status": "hi", "scheduled_at": "2020-01-01T00:00:00Z"}),
            "scheduled in the past",
        ),
        (json!({"status": "hi", "media_ids": ["1"]}), "media"),
        (
            json!({"status": "hi", "poll": {"options": ["a"], "expires_in": 3600}}),
            "a poll of one option",
        ),
    ] {
        let r = app.post("/api/v1/statuses", Some(t), body).await;
        assert_eq!(r.status, 422, "{why}: {}", r.text);
        r.assert_error(422);
    }
    // 500 characters exactly is fine, and a URL counts as 23.
    post(&app, t, json!({"status": "x".repeat(500)})).await;
    post(
        &app,
        t,
        json!({"status": format!("{} https://example.com/{}", "y".repeat(470), "z".repeat(200))}),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{}/statuses", u.author.0), None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Scopes: a read-only token cannot post.
    let ro = app.token_for("sam", "read").await;
    app.post("/api/v1/statuses", Some(&ro), json!({"status": "x"}))
        .await
        .assert_error(403);
    app.post("/api/v1/statuses", None, json!({"status": "x"}))
        .await
        .assert_error(401);
    app.get("/api/v1/statuses/999999", None)
        .await
        .assert_error(404);
    app.get("/api/v1/statuses/abc", None)
        .await
        .assert_error(404);

    // Idempotency-Key: the same key returns the same status.
    let send = || {
        app.http
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(t)
            .header("Idempotency-Key", "k-1")
            .json(&json!({"status": "once"}))
            .send()
    };
    let a: Value = send().await.unwrap().json().await.unwrap();
    let b: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(a["id"], b["id"]);
}

async fn boosts_favourites_bookmarks_pins(app: TestApp) {
    let u = cast(&app).await;
    let s = post(&app, &u.author.1, json!({"status": "boost me"})).await;
    let id = s["id"].as_str().unwrap().to_string();
    let private = post(
        &app,
        &u.author.1,
        json!({"status": "followers only", "visibility": "private"}),
    )
    .await;

    // Favourite twice: one favourite.
    for _ in 0..2 {
        let f = app
            .post(
                &format!("/api/v1/statuses/{id}/favourite"),
                Some(&u.follower.1),
                json!({}),
            )
            .await
            .json();
        assert_eq!(f["favourited"], true);
        assert_eq!(f["favourites_count"], 1);
    }
    let by = app
        .get(&format!("/api/v1/statuses/{id}/favourited_by"), None)
        .await
        .json();
    assert_eq!(by[0]["username"], "fred");
    let favs = app
        .get("/api/v1/favourites", Some(&u.follower.1))
        .await
        .json();
    assert_eq!(ids_of(&favs), vec![id.clone()]);

    // Boost twice: one boost, wrapped.
    let b1 = app
        .post(
            &format!("/api/v1/statuses/{id}/reblog"),
            Some(&u.stranger.1),
            json!({}),
        )
        .await
        .json();
    let b2 = app
        .post(
            &format!("/api/v1/statuses/{id}/reblog"),
            Some(&u.stranger.1),
            json!({}),
        )
        .await
        .json();
    assert_eq!(b1["id"], b2["id"]);
    assert_eq!(b1["reblog"]["id"], id.as_str());
    assert_eq!(b1["reblogged"], true);
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{id}"), None)
            .await
            .json()["reblogs_count"],
        1
    );
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{id}/reblogged_by"), None)
            .await
            .json()[0]["username"],
        "sam"
    );
    // A follower of the booster sees the boost at home.
    app.post(
        &format!("/api/v1/accounts/{}/follow", u.stranger.0),
        Some(&u.mentioned.1),
        json!({}),
    )
    .await;
    let b3 = post(&app, &u.author.1, json!({"status": "second"})).await;
    app.post(
        &format!("/api/v1/statuses/{}/reblog", b3["id"].as_str().unwrap()),
        Some(&u.stranger.1),
        json!({}),
    )
    .await;
    let mia_home = app
        .get("/api/v1/timelines/home", Some(&u.mentioned.1))
        .await
        .json();
    assert!(
        mia_home
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["reblog"]["id"] == b3["id"]),
        "{mia_home}"
    );
    // Private posts of others cannot be boosted; unreblog removes the boost.
    app.post(
        &format!(
            "/api/v1/statuses/{}/reblog",
            private["id"].as_str().unwrap()
        ),
        Some(&u.follower.1),
        json!({}),
    )
    .await
    .assert_error(422);
    let un = app
        .post(
            &format!("/api/v1/statuses/{id}/unreblog"),
            Some(&u.stranger.1),
            json!({}),
        )
        .await
        .json();
    assert_eq!(un["reblogged"], false);
    assert_eq!(un["reblogs_count"], 0);

    // Bookmarks.
    app.post(
        &format!("/api/v1/statuses/{id}/bookmark"),
        Some(&u.follower.1),
        json!({}),
    )
    .await;
    assert_eq!(
        ids_of(
            &app.get("/api/v1/bookmarks", Some(&u.follower.1))
                .await
                .json()
        ),
        vec![id.clone()]
    );
    let ub = app
        .post(
            &format!("/api/v1/statuses/{id}/unbookmark"),
            Some(&u.follower.1),
            json!({}),
        )
        .await
        .json();
    assert_eq!(ub["bookmarked"], false);
    assert_eq!(
        app.get("/api/v1/bookmarks", Some(&u.follower.1))
            .await
            .json(),
        json!([])
    );

    // Pins: own posts only; pinned filter.
    let p = app
        .post(
            &format!("/api/v1/statuses/{id}/pin"),
            Some(&u.author.1),
            json!({}),
        )
        .await
        .json();
    assert_eq!(p["pinned"], true);
    app.post(
        &format!("/api/v1/statuses/{id}/pin"),
        Some(&u.follower.1),
        json!({}),
    )
    .await
    .assert_error(422);
    let pinned = app
        .get(
            &format!("/api/v1/accounts/{}/statuses?pinned=true", u.author.0),
            None,
        )
        .await
        .json();
    assert_eq!(ids_of(&pinned), vec![id.clone()]);

    // Unfavourite.
    let uf = app
        .post(
            &format!("/api/v1/statuses/{id}/unfavourite"),
            Some(&u.follower.1),
            json!({}),
        )
        .await
        .json();
    assert_eq!(uf["favourites_count"], 0);
}

async fn pagination_and_link_headers(app: TestApp) {
    let u = cast(&app).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            post(&app, &u.author.1, json!({"status": format!("post {i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.reverse(); // newest first
    let first = app
        .get("/api/v1/timelines/home?limit=2", Some(&u.author.1))
        .await;
    assert_eq!(ids_of(&first.json()), ids[0..2].to_vec());
    let link = first.header("link").unwrap().to_string();
    assert!(
        link.contains(&format!("max_id={}", ids[1])) && link.contains("rel=\"next\""),
        "{link}"
    );
    assert!(
        link.contains(&format!("min_id={}", ids[0])) && link.contains("rel=\"prev\""),
        "{link}"
    );
    assert!(
        link.contains("limit=2"),
        "other parameters are kept: {link}"
    );
    let next_url = link.split('<').nth(1).unwrap().split('>').next().unwrap();
    let next_path = &next_url[next_url.find("/api").unwrap()..];
    let second = app.get(next_path, Some(&u.author.1)).await.json();
    assert_eq!(ids_of(&second), ids[2..4].to_vec());
    // min_id pages forward from the oldest side and still returns newest first.
    let newer = app
        .get(
            &format!("/api/v1/timelines/home?min_id={}&limit=2", ids[4]),
            Some(&u.author.1),
        )
        .await
        .json();
    assert_eq!(ids_of(&newer), vec![ids[2].clone(), ids[3].clone()]);
    let since = app
        .get(
            &format!("/api/v1/timelines/home?since_id={}&limit=2", ids[4]),
            Some(&u.author.1),
        )
        .await
        .json();
    assert_eq!(ids_of(&since), ids[0..2].to_vec());
    let all = app
        .get(
            &format!("/api/v1/accounts/{}/statuses?limit=500", u.author.0),
            None,
        )
        .await
        .json();
    assert_eq!(all.as_array().unwrap().len(), 5);
}

both_backends!(
    visibility_matrix,
    text_threads_and_edits,
    bad_status_input,
    boosts_favourites_bookmarks_pins,
    pagination_and_link_headers
);
