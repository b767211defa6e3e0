//! Stories through the client API on one instance: posting (and what is refused), the tray, who
//! may see them, seen state and viewers, replies and reactions with their notifications, deletion,
//! and expiry (hidden at once, files gone after the sweep); stories never reach timelines. The
//! Pixelfed-shaped documents another server sends are checked here too.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::media::{fixture, upload};
use crate::support::{Backend, TestApp};

async fn user(app: &TestApp, name: &str) -> (i64, String) {
    let id = app.create_user(name).await;
    (id, app.token_for(name, "read write follow").await)
}

async fn follow(app: &TestApp, token: &str, target: i64) {
    let a = app
        .post(
            &format!("/api/v1/accounts/{target}/follow"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

/// Uploads a fixture and returns the processed attachment's ID.
async fn media(app: &TestApp, token: &str, file: &str, mime: &str) -> String {
    let a = upload(app, token, "/api/v1/media", file, mime, fixture(file), &[]).await;
    assert_eq!(a.status, 200, "{file}: {}", a.text);
    a.json()["id"].as_str().unwrap().to_string()
}

async fn post_story(app: &TestApp, token: &str, body: Value) -> crate::support::Answer {
    app.post("/api/v1/stories", Some(token), body).await
}

async fn notifications_of(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
    app.get(
        &format!("/api/v1/notifications?types[]={kind}"),
        Some(token),
    )
    .await
    .json()
    .as_array()
    .unwrap()
    .clone()
}

async fn stories_live_and_expire(app: TestApp) {
    let (alice_id, alice) = user(&app, "alice").await;
    let (_, bob) = user(&app, "bob").await;
    let (_, carol) = user(&app, "carol").await;
    let (dave_id, dave) = user(&app, "dave").await;
    follow(&app, &bob, alice_id).await;
    follow(&app, &bob, dave_id).await;

    // What is refused.
    let photo = media(&app, &alice, "photo.jpg", "image/jpeg").await;
    let long = media(&app, &alice, "long.mp4", "video/mp4").await;
    let sound = media(&app, &alice, "sound.mp3", "audio/mpeg").await;
    let bobs = media(&app, &bob, "photo.png", "image/png").await;
    for (body, status, why) in [
        (json!({}), 422, "media_id"),
        (json!({"media_id": long}), 422, "60 seconds"),
        (json!({"media_id": sound}), 422, "photo or a video"),
        (json!({"media_id": photo, "duration": 0}), 422, "1 to 300"),
        (json!({"media_id": photo, "duration": 301}), 422, "1 to 300"),
        (json!({"media_id": bobs}), 404, ""),
    ] {
        let a = post_story(&app, &alice, body.clone()).await;
        let e = a.assert_error(status);
        assert!(e["error"].as_str().unwrap().contains(why), "{body}: {e}");
    }
    // Media still processing, or already on a status, cannot be a story.
    let processing = upload(
        &app,
        &alice,
        "/api/v2/media",
        "clip.webm",
        "video/webm",
        fixture("clip.webm"),
        &[],
    )
    .await;
    let pid = processing.json()["id"].as_str().unwrap().to_string();
    rookery::on_db!(app.state.db, c => sqlx::query("UPDATE media_attachments SET state = 'processing' WHERE id = $1")
        .bind(pid.parse::<i64>().unwrap()).execute(c).await.map(|_| ()))
    .unwrap();
    post_story(&app, &alice, json!({"media_id": pid}))
        .await
        .assert_error(422);
    let posted = media(&app, &alice, "photo.png", "image/png").await;
    let s = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "a post", "media_ids": [posted]}),
        )
        .await;
    assert_eq!(s.status, 200);
    post_story(&app, &alice, json!({"media_id": posted}))
        .await
        .assert_error(422);

    // A photo (5 s by default) and a video (its own length), oldest first.
    let a = post_story(&app, &alice, json!({"media_id": photo})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let first = a.json();
    assert_eq!(first["duration"], 5);
    assert_eq!(first["media_attachment"]["type"], "image");
    assert_eq!(first["can_reply"], true);
    assert_eq!(first["seen"], false);
    let created: chrono::DateTime<chrono::Utc> =
        first["created_at"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        first["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!((expires - created).num_hours(), 24);
    let video = media(&app, &alice, "vertical.mp4", "video/mp4").await;
    let a = post_story(
        &app,
        &alice,
        json!({"media_id": video, "can_reply": false, "can_react": "false"}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let second = a.json();
    assert_eq!(second["duration"], 2, "{second}");
    assert_eq!(second["media_attachment"]["type"], "video");
    let (id1, id2) = (
        first["id"].as_str().unwrap().to_string(),
        second["id"].as_str().unwrap().to_string(),
    );
    // The same media cannot be a second story.
    post_story(&app, &alice, json!({"media_id": photo}))
        .await
        .assert_error(422);
    let a = post_story(
        &app,
        &dave,
        json!({"media_id": media(&app, &dave, "photo.webp", "image/webp").await}),
    )
    .await;
    assert_eq!(a.status, 200);

    // Bob's tray: Alice (the latest) and Dave, both unseen, stories in order.
    let tray = app.get("/api/v1/stories", Some(&bob)).await.json();
    let tray = tray.as_array().unwrap();
    assert_eq!(tray.len(), 2, "{tray:?}");
    let alice_entry = tray
        .iter()
        .find(|e| e["account"]["username"] == "alice")
        .unwrap();
    let ids: Vec<&str> = alice_entry["stories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id1.as_str(), id2.as_str()]);
    assert_eq!(alice_entry["seen"], false);
    // Carol follows nobody: an empty tray, and Alice's stories are not hers to see.
    let tray = app.get("/api/v1/stories", Some(&carol)).await.json();
    assert_eq!(tray, json!([]));
    app.get(&format!("/api/v1/stories/{id1}"), Some(&carol))
        .await
        .assert_error(404);
    let theirs = app
        .get(
            &format!("/api/v1/accounts/{alice_id}/stories"),
            Some(&carol),
        )
        .await;
    assert_eq!(theirs.json(), json!([]));
    app.post(
        &format!("/api/v1/stories/{id1}/seen"),
        Some(&carol),
        json!({}),
    )
    .await
    .assert_error(404);
    app.post(
        &format!("/api/v1/stories/{id1}/reply"),
        Some(&carol),
        json!({"status": "hi"}),
    )
    .await
    .assert_error(404);
    let mine = app
        .get(&format!("/api/v1/accounts/{alice_id}/stories"), Some(&bob))
        .await
        .json();
    assert_eq!(mine.as_array().unwrap().len(), 2);

    // Seen: Bob sees both; Dave's unseen entry now comes first; Alice sees Bob among viewers.
    for id in [&id1, &id2] {
        let a = app
            .post(&format!("/api/v1/stories/{id}/seen"), Some(&bob), json!({}))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.json()["seen"], true);
    }
    let tray = app.get("/api/v1/stories", Some(&bob)).await.json();
    assert_eq!(tray[0]["account"]["username"], "dave", "{tray}");
    assert_eq!(tray[1]["seen"], true);
    let viewers = app
        .get(&format!("/api/v1/stories/{id1}/viewers"), Some(&alice))
        .await
        .json();
    assert_eq!(viewers.as_array().unwrap().len(), 1, "{viewers}");
    assert_eq!(viewers[0]["account"]["username"], "bob");
    assert!(viewers[0]["viewed_at"].is_string());
    app.get(&format!("/api/v1/stories/{id1}/viewers"), Some(&bob))
        .await
        .assert_error(404);

    // A reply is a direct message to Alice that names the story; she is notified with both.
    let a = app
        .post(
            &format!("/api/v1/stories/{id1}/reply"),
            Some(&bob),
            json!({"status": "lovely light"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let dm = a.json();
    assert_eq!(dm["visibility"], "direct");
    assert!(dm["content"].as_str().unwrap().contains("lovely light"));
    assert!(
        dm["content"]
            .as_str()
            .unwrap()
            .contains(&format!("/stories/alice/{id1}")),
        "{dm}"
    );
    assert_eq!(dm["mentions"][0]["username"], "alice");
    let n = notifications_of(&app, &alice, "story_reply").await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0]["status"]["id"], dm["id"]);
    assert_eq!(n[0]["story"]["id"], id1.as_str());
    // Replies and reactions can be turned off; one's own story takes neither.
    app.post(
        &format!("/api/v1/stories/{id2}/reply"),
        Some(&bob),
        json!({"status": "no"}),
    )
    .await
    .assert_error(422);
    app.post(
        &format!("/api/v1/stories/{id2}/react"),
        Some(&bob),
        json!({"emoji": "🔥"}),
    )
    .await
    .assert_error(422);
    app.post(
        &format!("/api/v1/stories/{id1}/react"),
        Some(&alice),
        json!({"emoji": "🔥"}),
    )
    .await
    .assert_error(422);
    app.post(
        &format!("/api/v1/stories/{id1}/react"),
        Some(&bob),
        json!({"emoji": "not an emoji"}),
    )
    .await
    .assert_error(422);
    let a = app
        .post(
            &format!("/api/v1/stories/{id1}/react"),
            Some(&bob),
            json!({"emoji": "🔥"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let n = notifications_of(&app, &alice, "story_reaction").await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0]["emoji"], "🔥");
    assert_eq!(n[0]["story"]["id"], id1.as_str());
    assert_eq!(n[0]["account"]["username"], "bob");
    // Apps that do not ask for Rookery's types do not get them (the reply still shows as a mention).
    let plain = app.get("/api/v1/notifications", Some(&alice)).await.json();
    let kinds: Vec<&str> = plain
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"mention"), "{kinds:?}");
    assert!(kinds.iter().all(|k| !k.starts_with("story_")), "{kinds:?}");

    // Stories never reach timelines.
    for path in [
        "/api/v1/timelines/home".to_string(),
        "/api/v1/timelines/public".to_string(),
        format!("/api/v1/accounts/{alice_id}/statuses"),
    ] {
        let list = app.get(&path, Some(&bob)).await.json();
        let story_media = [
            first["media_attachment"]["id"].clone(),
            second["media_attachment"]["id"].clone(),
        ];
        for s in list.as_array().unwrap() {
            assert!(
                s["id"] != first["id"] && s["id"] != second["id"],
                "{path}: {s}"
            );
            assert!(
                s["media_attachments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|m| !story_media.contains(&m["id"])),
                "{path}: {s}"
            );
        }
    }

    // Expired: hidden at once, before any sweep; the sweep then deletes rows and files.
    let files_of = |s: &Value| {
        let m = &s["media_attachment"];
        [
            m["url"].as_str().unwrap().to_string(),
            m["preview_url"].as_str().unwrap().to_string(),
        ]
    };
    let gone_files = files_of(&first);
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    rookery::on_db!(app.state.db, c => sqlx::query("UPDATE stories SET expires_at = $1 WHERE id = $2")
        .bind(past).bind(id1.parse::<i64>().unwrap()).execute(c).await.map(|_| ()))
    .unwrap();
    app.get(&format!("/api/v1/stories/{id1}"), Some(&bob))
        .await
        .assert_error(404);
    app.post(
        &format!("/api/v1/stories/{id1}/seen"),
        Some(&bob),
        json!({}),
    )
    .await
    .assert_error(404);
    let tray = app.get("/api/v1/stories", Some(&bob)).await.json();
    let alice_entry = tray
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["account"]["username"] == "alice")
        .unwrap();
    assert_eq!(alice_entry["stories"].as_array().unwrap().len(), 1);
    rookery::service::stories::expire_due(&app.state, 100)
        .await
        .unwrap();
    for url in &gone_files {
        let (status, _, _) = crate::media::fetch(url).await;
        assert_eq!(status, 404, "{url} outlived its story");
    }
    assert!(
        notifications_of(&app, &alice, "story_reaction")
            .await
            .is_empty(),
        "notifications about an expired story go with it"
    );
    // The reply stays, a direct message like any other.
    let a = app
        .get(
            &format!("/api/v1/statuses/{}", dm["id"].as_str().unwrap()),
            Some(&bob),
        )
        .await;
    assert_eq!(a.status, 200);

    // Deleting: only the author, and the files go.
    app.send(
        Method::DELETE,
        &format!("/api/v1/stories/{id2}"),
        Some(&bob),
        None,
    )
    .await
    .assert_error(404);
    let a = app
        .send(
            Method::DELETE,
            &format!("/api/v1/stories/{id2}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    app.get(&format!("/api/v1/stories/{id2}"), Some(&alice))
        .await
        .assert_error(404);
    for url in files_of(&second) {
        let (status, _, _) = crate::media::fetch(&url).await;
        assert_eq!(status, 404, "{url} outlived its story");
    }
}

both_backends!(stories_live_and_expire);

/// Stories of an account that posts while others are connected arrive as `story` events.
#[tokio::test]
async fn followers_are_told_of_new_stories() {
    let app = TestApp::start(Backend::Sqlite).await;
    let (alice_id, alice) = user(&app, "alice").await;
    let (_, bob) = user(&app, "bob").await;
    follow(&app, &bob, alice_id).await;
    let mut ws = crate::streaming::connect(&app, "?stream=user", Some(&bob)).await;
    let photo = media(&app, &alice, "photo.jpg", "image/jpeg").await;
    let a = post_story(&app, &alice, json!({"media_id": photo})).await;
    assert_eq!(a.status, 200);
    let event = loop {
        let msg = crate::streaming::next(&mut ws, 10)
            .await
            .expect("a story event");
        if msg["event"] == "story" {
            break msg;
        }
    };
    assert_eq!(event["stream"], json!(["user"]));
    let story = crate::streaming::payload(&event);
    assert_eq!(story["id"], a.json()["id"]);
    assert_eq!(story["account"]["username"], "alice");
}

fn pixelfed(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/activitypub/pixelfed/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Pixelfed's `Add` carries a bearcap; its `Story` document is stored with its expiry clamped to
/// a day, and a document that is not the sender's is refused.
async fn pixelfed_stories_are_accepted(app: TestApp) {
    use activitypub_federation::traits::Object;
    use rookery::service::activitypub::actors::ApAccount;
    use rookery::service::stories;
    let fed = rookery::service::activitypub::context::build(app.state.clone())
        .await
        .unwrap();
    let data = fed.to_request_data();
    let person = serde_json::from_value(pixelfed("person.json")).unwrap();
    let actor = ApAccount::from_json(person, &data).await.unwrap().row;

    let add = pixelfed("add_story.json");
    assert_eq!(add["actor"], actor.uri.as_str());
    let (url, token) = stories::decode_bearcap(add["object"]["object"].as_str().unwrap()).unwrap();
    assert_eq!(url.as_str(), add["object"]["id"].as_str().unwrap());
    assert!(token.len() >= 10);

    // Published now, expiring in a week: kept for a day at most.
    let mut doc = pixelfed("story.json");
    let now = chrono::Utc::now();
    doc["published"] = json!(now.to_rfc3339());
    doc["expiresAt"] = json!((now + chrono::Duration::days(7)).to_rfc3339());
    let row = stories::store_remote(&app.state, &actor, &doc)
        .await
        .unwrap()
        .unwrap();
    assert!(row.expires_at <= now + chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    assert_eq!(row.duration, doc["duration"].as_i64().unwrap());
    assert!(!row.can_react);
    let m = rookery::storage::media::find(&app.state.db, row.media_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.r#type, "image");
    assert_eq!(m.remote_url.as_deref(), doc["attachment"]["url"].as_str());
    // Replays are no-ops.
    let again = stories::store_remote(&app.state, &actor, &doc)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, row.id);
    // Already expired: not kept.
    let mut old = doc.clone();
    old["id"] = json!("https://pixelfed.example/stories/plover/2");
    old["published"] = json!((now - chrono::Duration::days(2)).to_rfc3339());
    old["expiresAt"] = json!((now + chrono::Duration::days(1)).to_rfc3339());
    assert!(
        stories::store_remote(&app.state, &actor, &old)
            .await
            .unwrap()
            .is_none()
    );
    // Someone else's story, or one on another server, is refused.
    let mut forged = doc.clone();
    forged["id"] = json!("https://pixelfed.example/stories/plover/3");
    forged["attributedTo"] = json!("https://pixelfed.example/users/someone");
    assert!(
        stories::store_remote(&app.state, &actor, &forged)
            .await
            .is_err()
    );
    let mut elsewhere = doc.clone();
    elsewhere["id"] = json!("https://evil.example/stories/plover/4");
    assert!(
        stories::store_remote(&app.state, &actor, &elsewhere)
            .await
            .is_err()
    );
    let mut two = doc.clone();
    two["id"] = json!("https://pixelfed.example/stories/plover/5");
    two["attachment"] = json!([doc["attachment"], doc["attachment"]]);
    assert!(
        stories::store_remote(&app.state, &actor, &two)
            .await
            .is_err()
    );
}

both_backends!(pixelfed_stories_are_accepted);
