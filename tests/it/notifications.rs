//! Notifications of each type, filters, dismissal, unread counts and markers; followed hashtags
//! and the tag API.

use serde_json::json;

use crate::both_backends;
use crate::statuses::post;
use crate::support::TestApp;

async fn every_notification_type(app: TestApp) {
    let a = app.create_user("alice").await;
    let at = app.token_for("alice", "read write follow").await;
    app.create_user("bob").await;
    let bt = app.token_for("bob", "read write follow").await;

    app.post(
        &format!("/api/v1/accounts/{a}/follow"),
        Some(&bt),
        json!({"notify": true}),
    )
    .await; // follow
    let s = post(&app, &at, json!({"status": "a post"})).await; // status (to bob)
    let sid = s["id"].as_str().unwrap();
    post(&app, &bt, json!({"status": "hi @alice"})).await; // mention
    app.post(
        &format!("/api/v1/statuses/{sid}/favourite"),
        Some(&bt),
        json!({}),
    )
    .await; // favourite
    app.post(
        &format!("/api/v1/statuses/{sid}/reblog"),
        Some(&bt),
        json!({}),
    )
    .await; // reblog
    app.send(
        reqwest::Method::PUT,
        &format!("/api/v1/statuses/{sid}"),
        Some(&at),
        Some(json!({"status": "an edited post"})),
    )
    .await; // update (to bob)

    let mine = app.get("/api/v1/notifications", Some(&at)).await.json();
    let types: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec!["reblog", "favourite", "mention", "follow"],
        "{mine}"
    );
    for n in mine.as_array().unwrap() {
        assert_eq!(n["account"]["username"], "bob");
        assert!(n["id"].is_string() && n["created_at"].is_string());
    }
    assert!(
        mine[2]["status"]["content"]
            .as_str()
            .unwrap()
            .contains("@<span>alice</span>")
    );
    let bobs = app.get("/api/v1/notifications", Some(&bt)).await.json();
    let types: Vec<&str> = bobs
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["update", "status"], "{bobs}");

    // Filters.
    let only = app
        .get(
            "/api/v1/notifications?types[]=mention&types[]=follow",
            Some(&at),
        )
        .await
        .json();
    assert_eq!(only.as_array().unwrap().len(), 2);
    let except = app
        .get("/api/v1/notifications?exclude_types[]=favourite", Some(&at))
        .await
        .json();
    assert_eq!(except.as_array().unwrap().len(), 3);
    let page = app.get("/api/v1/notifications?limit=1", Some(&at)).await;
    assert!(page.header("link").unwrap().contains("max_id="));

    // Unread count follows the notifications marker.
    assert_eq!(
        app.get("/api/v1/notifications/unread_count", Some(&at))
            .await
            .json()["count"],
        4
    );
    let newest = mine[0]["id"].as_str().unwrap();
    let second = mine[1]["id"].as_str().unwrap();
    let m = app
        .post(
            "/api/v1/markers",
            Some(&at),
            json!({"notifications": {"last_read_id": second}}),
        )
        .await;
    assert_eq!(m.status, 200, "{}", m.text);
    assert_eq!(m.json()["notifications"]["last_read_id"], second);
    assert_eq!(
        app.get("/api/v1/notifications/unread_count", Some(&at))
            .await
            .json()["count"],
        1
    );
    let m = app
        .send_form(
            reqwest::Method::POST,
            "/api/v1/markers",
            Some(&at),
            &[
                ("notifications[last_read_id]", newest),
                ("home[last_read_id]", sid),
            ],
        )
        .await
        .json();
    assert_eq!(m["notifications"]["version"], 2);
    assert_eq!(m["home"]["last_read_id"], sid);
    let got = app
        .get(
            "/api/v1/markers?timeline[]=home&timeline[]=notifications",
            Some(&at),
        )
        .await
        .json();
    assert_eq!(got["home"]["last_read_id"], sid);
    assert_eq!(
        app.get("/api/v1/notifications/unread_count", Some(&at))
            .await
            .json()["count"],
        0
    );
    app.post(
        "/api/v1/markers",
        Some(&at),
        json!({"home": {"last_read_id": "x"}}),
    )
    .await
    .assert_error(422);

    // Show, dismiss, clear.
    assert_eq!(
        app.get(&format!("/api/v1/notifications/{newest}"), Some(&at))
            .await
            .json()["type"],
        "reblog"
    );
    app.get(&format!("/api/v1/notifications/{newest}"), Some(&bt))
        .await
        .assert_error(404);
    assert_eq!(
        app.post(
            &format!("/api/v1/notifications/{newest}/dismiss"),
            Some(&at),
            json!({})
        )
        .await
        .status,
        200
    );
    app.get(&format!("/api/v1/notifications/{newest}"), Some(&at))
        .await
        .assert_error(404);
    app.post("/api/v1/notifications/clear", Some(&at), json!({}))
        .await;
    assert_eq!(
        app.get("/api/v1/notifications", Some(&at)).await.json(),
        json!([])
    );

    // A muted thread stops notifying.
    let t = post(&app, &at, json!({"status": "thread root"})).await;
    let tid = t["id"].as_str().unwrap();
    let muted = app
        .post(
            &format!("/api/v1/statuses/{tid}/mute"),
            Some(&at),
            json!({}),
        )
        .await
        .json();
    assert_eq!(muted["muted"], true);
    post(
        &app,
        &bt,
        json!({"status": "@alice reply", "in_reply_to_id": tid}),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/notifications", Some(&at)).await.json(),
        json!([])
    );
}

async fn hashtags(app: TestApp) {
    app.create_user("alice").await;
    let at = app.token_for("alice", "read write follow").await;
    app.create_user("bob").await;
    let bt = app.token_for("bob", "read write follow").await;
    let t = app
        .post("/api/v1/tags/Birds/follow", Some(&bt), json!({}))
        .await
        .json();
    assert_eq!(t["following"], true);
    assert_eq!(t["name"], "Birds");
    let s = post(&app, &at, json!({"status": "look #birds"})).await;
    let sid = s["id"].as_str().unwrap().to_string();
    post(
        &app,
        &at,
        json!({"status": "quiet #birds", "visibility": "unlisted"}),
    )
    .await;

    // A followed tag brings public posts into the home feed (bob does not follow alice).
    let home = app.get("/api/v1/timelines/home", Some(&bt)).await.json();
    assert_eq!(home.as_array().unwrap().len(), 1);
    assert_eq!(home[0]["id"], sid.as_str());
    let followed = app.get("/api/v1/followed_tags", Some(&bt)).await.json();
    assert_eq!(followed[0]["name"], "Birds");

    let tl = app.get("/api/v1/timelines/tag/birds", None).await.json();
    assert_eq!(
        tl.as_array().unwrap().len(),
        1,
        "unlisted posts stay off tag timelines"
    );
    assert_eq!(
        app.get("/api/v1/timelines/tag/BIRDS?local=true", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let tag = app.get("/api/v1/tags/birds", Some(&bt)).await.json();
    assert_eq!(tag["history"].as_array().unwrap().len(), 7);
    assert_eq!(tag["history"][0]["uses"], "1");
    assert_eq!(tag["history"][0]["accounts"], "1");
    assert_eq!(tag["following"], true);
    app.get("/api/v1/tags/nosuchtag", None)
        .await
        .assert_error(404);
    let un = app
        .post("/api/v1/tags/birds/unfollow", Some(&bt), json!({}))
        .await
        .json();
    assert_eq!(un["following"], false);
    assert_eq!(
        app.get("/api/v1/followed_tags", Some(&bt)).await.json(),
        json!([])
    );
}

both_backends!(every_notification_type, hashtags);

/// `/api/v2/notifications`: favourites of one post and follows group; mentions do not; a group can
/// be read, its accounts listed and dismissed; unread groups are counted after the marker.
async fn grouped_notifications(app: TestApp) {
    use serde_json::json;
    let ana = app.create_user("gana").await;
    let ana_t = app.token_for("gana", "read write follow").await;
    let mut fans = Vec::new();
    for name in ["gbo", "gcy", "gdi"] {
        app.create_user(name).await;
        fans.push(app.token_for(name, "read write follow").await);
    }
    let post = crate::statuses::post(&app, &ana_t, json!({"status": "like me"})).await;
    let pid = post["id"].as_str().unwrap();
    for t in &fans {
        app.post(
            &format!("/api/v1/statuses/{pid}/favourite"),
            Some(t),
            json!({}),
        )
        .await;
        app.post(
            &format!("/api/v1/accounts/{ana}/follow"),
            Some(t),
            json!({}),
        )
        .await;
    }
    crate::statuses::post(&app, &fans[0], json!({"status": "@gana hi"})).await;
    crate::statuses::post(&app, &fans[1], json!({"status": "@gana hello"})).await;

    let r = app.get("/api/v2/notifications", Some(&ana_t)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    let groups = v["notification_groups"].as_array().unwrap();
    let kinds: Vec<&str> = groups.iter().map(|g| g["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["mention", "mention", "follow", "favourite"], "{v}");
    let fav = &groups[3];
    assert_eq!(fav["notifications_count"], 3);
    assert_eq!(fav["status_id"], pid);
    assert_eq!(fav["sample_account_ids"].as_array().unwrap().len(), 3);
    assert!(
        groups[0]["group_key"]
            .as_str()
            .unwrap()
            .starts_with("ungrouped-")
    );
    assert_eq!(
        v["accounts"].as_array().unwrap().len(),
        3,
        "each account once"
    );
    assert!(
        v["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == pid)
    );
    // v1 notifications carry the same keys.
    let v1 = app
        .get("/api/v1/notifications?types[]=favourite", Some(&ana_t))
        .await
        .json();
    assert_eq!(v1[0]["group_key"], fav["group_key"]);

    // Without grouping favourites, each is its own group; limit counts groups.
    let ungrouped = app
        .get(
            "/api/v2/notifications?grouped_types[]=follow&limit=3",
            Some(&ana_t),
        )
        .await;
    let u = ungrouped.json();
    let kinds: Vec<&str> = u["notification_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["mention", "mention", "follow"]);
    assert!(ungrouped.header("link").unwrap().contains("max_id="));

    // One group: read, its accounts, dismiss.
    let key = fav["group_key"].as_str().unwrap();
    let one = app
        .get(&format!("/api/v2/notifications/{key}"), Some(&ana_t))
        .await
        .json();
    assert_eq!(one["notification_groups"][0]["notifications_count"], 3);
    let who = app
        .get(
            &format!("/api/v2/notifications/{key}/accounts"),
            Some(&ana_t),
        )
        .await
        .json();
    assert_eq!(who.as_array().unwrap().len(), 3);
    assert_eq!(
        app.get("/api/v2/notifications/unread_count", Some(&ana_t))
            .await
            .json()["count"],
        4
    );
    let r = app
        .post(
            &format!("/api/v2/notifications/{key}/dismiss"),
            Some(&ana_t),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    app.get(&format!("/api/v2/notifications/{key}"), Some(&ana_t))
        .await
        .assert_error(404);
    assert_eq!(
        app.get("/api/v2/notifications/unread_count", Some(&ana_t))
            .await
            .json()["count"],
        3
    );
    app.get("/api/v2/notifications/favourite-1-2", Some(&ana_t))
        .await
        .assert_error(404);
}

both_backends!(grouped_notifications);

/// The notification policy (Mastodon 4.3): private mentions from strangers are filtered by
/// default into a request per sender; filtered notifications stay out of lists, counts and groups
/// until accepted; `filter` and `drop` for strangers; bulk accept and dismiss.
async fn notification_policy_and_requests(app: TestApp) {
    app.create_user("ana").await;
    let ana = app.token_for("ana", "read write follow").await;
    app.create_user("bob").await;
    let bob = app.token_for("bob", "read write follow").await;
    app.create_user("cat").await;
    let cat = app.token_for("cat", "read write follow").await;
    let dan_id = app.create_user("dan").await;
    let dan = app.token_for("dan", "read write follow").await;

    let policy = app
        .get("/api/v2/notifications/policy", Some(&ana))
        .await
        .json();
    assert_eq!(policy["for_not_following"], "accept", "{policy}");
    assert_eq!(policy["for_private_mentions"], "filter");
    assert_eq!(policy["for_limited_accounts"], "filter");
    assert_eq!(policy["summary"]["pending_requests_count"], 0);
    let v1 = app
        .get("/api/v1/notifications/policy", Some(&ana))
        .await
        .json();
    assert_eq!(v1["filter_private_mentions"], true, "{v1}");
    assert_eq!(v1["filter_not_following"], false);

    // A direct mention from a stranger is held back; a public one is not.
    let dm = post(
        &app,
        &bob,
        json!({"status": "@ana psst", "visibility": "direct"}),
    )
    .await;
    post(&app, &bob, json!({"status": "hello @ana"})).await;
    let list = app.get("/api/v1/notifications", Some(&ana)).await.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_ne!(list[0]["status"]["id"], dm["id"]);
    assert_eq!(
        app.get("/api/v1/notifications/unread_count", Some(&ana))
            .await
            .json()["count"],
        1
    );
    let groups = app.get("/api/v2/notifications", Some(&ana)).await.json();
    assert_eq!(
        groups["notification_groups"].as_array().unwrap().len(),
        1,
        "{groups}"
    );
    let all = app
        .get("/api/v1/notifications?include_filtered=true", Some(&ana))
        .await
        .json();
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let requests = app
        .get("/api/v1/notifications/requests", Some(&ana))
        .await
        .json();
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["account"]["username"], "bob");
    assert_eq!(requests[0]["notifications_count"], "1");
    assert_eq!(requests[0]["last_status"]["id"], dm["id"]);
    let bob_request = requests[0]["id"].as_str().unwrap().to_string();
    let one = app
        .get(
            &format!("/api/v1/notifications/requests/{bob_request}"),
            Some(&ana),
        )
        .await
        .json();
    assert_eq!(one["id"], bob_request.as_str());
    // Someone else's request is not found.
    app.get(
        &format!("/api/v1/notifications/requests/{bob_request}"),
        Some(&cat),
    )
    .await
    .assert_error(404);
    app.post(
        &format!("/api/v1/notifications/requests/{bob_request}/accept"),
        Some(&cat),
        json!({}),
    )
    .await
    .assert_error(404);
    let policy = app
        .get("/api/v2/notifications/policy", Some(&ana))
        .await
        .json();
    assert_eq!(policy["summary"]["pending_requests_count"], 1);
    assert_eq!(policy["summary"]["pending_notifications_count"], 1);

    // Strangers filtered and new accounts dropped: nothing is stored from Dan at all.
    app.send(
        reqwest::Method::PATCH,
        "/api/v2/notifications/policy",
        Some(&ana),
        Some(json!({"for_not_following": "maybe"})),
    )
    .await
    .assert_error(422);
    let changed = app
        .send(
            reqwest::Method::PATCH,
            "/api/v2/notifications/policy",
            Some(&ana),
            Some(json!({"for_not_following": "filter"})),
        )
        .await
        .json();
    assert_eq!(changed["for_not_following"], "filter", "{changed}");
    assert_eq!(changed["for_private_mentions"], "filter");
    let mine = post(&app, &ana, json!({"status": "a post"})).await;
    let mine_id = mine["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/statuses/{mine_id}/favourite"),
        Some(&cat),
        json!({}),
    )
    .await;
    let requests = app
        .get("/api/v1/notifications/requests", Some(&ana))
        .await
        .json();
    assert_eq!(requests.as_array().unwrap().len(), 2, "{requests}");
    let cat_request = requests[0]["id"].as_str().unwrap().to_string();
    assert_eq!(requests[0]["account"]["username"], "cat");
    assert!(requests[0]["last_status"].is_null(), "{requests}");
    app.send(
        reqwest::Method::PUT,
        "/api/v2/notifications/policy",
        Some(&ana),
        Some(json!({"for_new_accounts": "drop"})),
    )
    .await;
    app.post(
        &format!("/api/v1/statuses/{mine_id}/favourite"),
        Some(&dan),
        json!({}),
    )
    .await;
    let all = app
        .get(
            &format!("/api/v1/notifications?include_filtered=true&account_id={dan_id}"),
            Some(&ana),
        )
        .await
        .json();
    assert_eq!(all.as_array().unwrap().len(), 0, "{all}");
    assert_eq!(
        app.get("/api/v1/notifications/requests", Some(&ana))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Accepting Bob brings his mention in and lets later ones through; dismissing Cat drops hers.
    let r = app
        .post(
            &format!("/api/v1/notifications/requests/{bob_request}/accept"),
            Some(&ana),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            "/api/v1/notifications/requests/dismiss",
            Some(&ana),
            json!({"id": [cat_request]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = app.get("/api/v1/notifications", Some(&ana)).await.json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["status"]["id"].as_str())
        .collect();
    assert!(ids.contains(&dm["id"].as_str().unwrap()), "{list}");
    let later = post(
        &app,
        &bob,
        json!({"status": "@ana again", "visibility": "direct"}),
    )
    .await;
    let list = app.get("/api/v1/notifications", Some(&ana)).await.json();
    assert_eq!(list[0]["status"]["id"], later["id"], "{list}");
    let policy = app
        .get("/api/v2/notifications/policy", Some(&ana))
        .await
        .json();
    assert_eq!(policy["summary"]["pending_requests_count"], 0, "{policy}");
    assert_eq!(policy["summary"]["pending_notifications_count"], 0);
    assert_eq!(
        app.get("/api/v1/notifications/requests/merged", Some(&ana))
            .await
            .json()["merged"],
        true
    );
    let many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    app.post(
        "/api/v1/notifications/requests/accept",
        Some(&ana),
        json!({ "id": many }),
    )
    .await
    .assert_error(422);
    // v1 policy: booleans map to filter/accept.
    let v1 = app
        .put(
            "/api/v1/notifications/policy",
            Some(&ana),
            json!({"filter_not_following": false, "filter_private_mentions": false}),
        )
        .await
        .json();
    assert_eq!(v1["filter_not_following"], false, "{v1}");
    assert_eq!(v1["filter_private_mentions"], false);
    assert_eq!(v1["filter_new_accounts"], true);
}

both_backends!(notification_policy_and_requests);
