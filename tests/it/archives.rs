//! "Request your archive" (issue 27): the zip holds the actor, an AS2 outbox of every status
//! (boosts as `Announce`), likes, bookmarks, the media files and the avatar; once a week; only the
//! owner downloads it.

use std::io::Read;

use serde_json::{Value, json};

use crate::both_backends;
use crate::media::{fixture, upload};
use crate::statuses::post;
use crate::support::TestApp;

async fn archive_of_an_account(app: TestApp) {
    app.create_user("ava").await;
    app.create_user("bea").await;
    let ava = app.token_for("ava", "read write follow").await;
    let bea = app.token_for("bea", "read write follow").await;
    let bea_post = post(&app, &bea, json!({"status": "by bea"})).await;
    let bea_id = bea_post["id"].as_str().unwrap();
    for i in 0..25 {
        post(&app, &ava, json!({"status": format!("post {i}")})).await;
    }
    let media = upload(
        &app,
        &ava,
        "/api/v2/media",
        "photo.jpg",
        "image/jpeg",
        fixture("photo.jpg"),
        &[],
    )
    .await;
    assert!(media.status.is_success(), "{}", media.text);
    let media_id = media.json()["id"].as_str().unwrap().to_string();
    let mut with_photo = Value::Null;
    for _ in 0..100 {
        let r = app
            .post(
                "/api/v1/statuses",
                Some(&ava),
                json!({"status": "a photo", "media_ids": [media_id]}),
            )
            .await;
        if r.status == 200 {
            with_photo = r.json();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(with_photo.is_object(), "the photo was not processed");
    post(
        &app,
        &ava,
        json!({"status": "@bea just us", "visibility": "direct"}),
    )
    .await;
    for action in ["reblog", "favourite", "bookmark"] {
        let r = app
            .post(
                &format!("/api/v1/statuses/{bea_id}/{action}"),
                Some(&ava),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{action}: {}", r.text);
    }

    // Request; once a week; only the owner sees or downloads it.
    let r = app.post("/api/v1/archives", Some(&ava), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["state"], "scheduled");
    let r = app.post("/api/v1/archives", Some(&ava), json!({})).await;
    assert_eq!(r.status, 422);
    assert!(r.json()["error"].as_str().unwrap().contains("7 days"));
    let mut ready = Value::Null;
    for _ in 0..300 {
        let list = app.get("/api/v1/archives", Some(&ava)).await.json();
        if list[0]["state"] == "ready" {
            ready = list[0].clone();
            break;
        }
        assert_ne!(list[0]["state"], "failed", "{list}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ready["id"], id.as_str(), "the archive was not built");
    let url = ready["url"].as_str().unwrap();
    assert!(url.ends_with(&format!("/api/v1/archives/{id}/download")));
    let path = format!("/api/v1/archives/{id}/download");
    app.get(&path, Some(&bea)).await.assert_error(404);
    app.get(&path, None).await.assert_error(401);
    let r = app
        .http
        .get(app.url(&path))
        .bearer_auth(&ava)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(bytes.len() as i64, ready["size"].as_i64().unwrap());

    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
    let read = |zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str| -> Vec<u8> {
        let mut out = Vec::new();
        zip.by_name(name)
            .unwrap_or_else(|_| panic!("{name} missing: {names:?}"))
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    let actor: Value = serde_json::from_slice(&read(&mut zip, "actor.json")).unwrap();
    assert_eq!(actor["type"], "Person");
    assert_eq!(actor["preferredUsername"], "ava");
    assert!(
        actor["@context"]
            .to_string()
            .contains("https://www.w3.org/ns/activitystreams")
    );

    let outbox: Value = serde_json::from_slice(&read(&mut zip, "outbox.json")).unwrap();
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(
        outbox["@context"][0],
        "https://www.w3.org/ns/activitystreams"
    );
    let items = outbox["orderedItems"].as_array().unwrap();
    // 25 posts, the photo, the direct message and the boost.
    assert_eq!(outbox["totalItems"], 28);
    assert_eq!(items.len(), 28);
    for item in items {
        assert!(
            item["id"].is_string() && item["actor"].is_string(),
            "{item}"
        );
        assert!(
            matches!(item["type"].as_str(), Some("Create" | "Announce")),
            "{item}"
        );
    }
    assert_eq!(items[0]["object"]["content"], "<p>post 0</p>");
    let boost = items.iter().find(|i| i["type"] == "Announce").unwrap();
    assert_eq!(boost["object"], bea_post["uri"]);
    let photo = items
        .iter()
        .find(|i| i["object"]["id"] == with_photo["uri"])
        .unwrap();
    let file = photo["object"]["attachment"][0]["url"].as_str().unwrap();
    assert!(names.iter().any(|n| n == file), "{file} not in {names:?}");
    assert!(read(&mut zip, file).starts_with(&[0xFF, 0xD8]), "a JPEG");
    let dm = items
        .iter()
        .find(|i| {
            i["object"]["content"]
                .as_str()
                .is_some_and(|c| c.contains("just us"))
        })
        .unwrap();
    assert!(dm["object"]["to"].to_string().contains("/users/bea"));

    for (name, uri) in [
        ("likes.json", &bea_post["uri"]),
        ("bookmarks.json", &bea_post["uri"]),
    ] {
        let doc: Value = serde_json::from_slice(&read(&mut zip, name)).unwrap();
        assert_eq!(doc["type"], "OrderedCollection", "{name}");
        assert_eq!(doc["orderedItems"], json!([uri]), "{name}");
    }
}

both_backends!(archive_of_an_account);
