//! Filters, v2 and v1: managing them, and their effect on the server — `filtered` on statuses in
//! the contexts they name, `hide` leaving statuses, notifications and stream events out, expiry,
//! keyword boundaries, filtered statuses — and someone else's filters as 404.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::statuses::post;
use crate::streaming::{connect, next, payload};
use crate::support::TestApp;

async fn count(app: &TestApp, token: &str) -> usize {
    let list = app.get("/api/v2/filters", Some(token)).await.json();
    list.as_array().unwrap().len()
}

fn find<'a>(list: &'a Value, id: &Value) -> Option<&'a Value> {
    list.as_array().unwrap().iter().find(|s| s["id"] == *id)
}

async fn filters_apply_everywhere(app: TestApp) {
    let alice_id = app.create_user("alice").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob_id = app.create_user("bob").await;
    let bob = app.token_for("bob", "read write follow").await;
    app.create_user("eve").await;
    let eve = app.token_for("eve", "read write follow").await;
    app.post(
        &format!("/api/v1/accounts/{bob_id}/follow"),
        Some(&alice),
        json!({}),
    )
    .await;

    // Create a v2 filter; check what is refused.
    let r = app
        .post(
            "/api/v2/filters",
            Some(&alice),
            json!({"title": "Spoilers", "context": ["home", "public"],
                   "keywords_attributes": [{"keyword": "finale", "whole_word": true}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let filter = r.json();
    assert_eq!(filter["filter_action"], "warn");
    assert_eq!(filter["context"], json!(["home", "public"]));
    assert_eq!(filter["keywords"][0]["keyword"], "finale");
    assert!(filter["expires_at"].is_null());
    let fid = filter["id"].as_str().unwrap().to_string();
    for bad in [
        json!({"title": "x", "context": []}),
        json!({"title": "x", "context": ["everywhere"]}),
        json!({"title": "x", "context": ["home"], "filter_action": "shout"}),
        json!({"title": " ", "context": ["home"]}),
        json!({"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": ""}]}),
    ] {
        app.post("/api/v2/filters", Some(&alice), bad.clone())
            .await
            .assert_error(422);
    }
    for path in [
        format!("/api/v2/filters/{fid}"),
        format!("/api/v2/filters/{fid}/keywords"),
    ] {
        app.get(&path, Some(&eve)).await.assert_error(404);
    }

    // warn: matching statuses carry `filtered` in the filter's contexts, whole words only.
    let hit = post(&app, &bob, json!({"status": "The FINALE was something"})).await;
    let miss = post(&app, &bob, json!({"status": "finales and semifinalempty"})).await;
    let home = app.get("/api/v1/timelines/home", Some(&alice)).await.json();
    let h = find(&home, &hit["id"]).expect("warned, not hidden");
    assert_eq!(h["filtered"][0]["filter"]["title"], "Spoilers", "{h}");
    assert_eq!(h["filtered"][0]["keyword_matches"], json!(["finale"]));
    assert!(h["filtered"][0]["status_matches"].is_null());
    assert_eq!(find(&home, &miss["id"]).unwrap()["filtered"], json!([]));
    let public = app
        .get("/api/v1/timelines/public", Some(&alice))
        .await
        .json();
    assert_eq!(
        find(&public, &hit["id"]).unwrap()["filtered"][0]["filter"]["id"],
        fid.as_str()
    );
    let profile = app
        .get(&format!("/api/v1/accounts/{bob_id}/statuses"), Some(&alice))
        .await
        .json();
    assert_eq!(
        find(&profile, &hit["id"]).unwrap()["filtered"],
        json!([]),
        "not in `account`"
    );
    let eves = app.get("/api/v1/timelines/public", Some(&eve)).await.json();
    assert_eq!(
        find(&eves, &hit["id"]).unwrap()["filtered"],
        json!([]),
        "filters are personal"
    );

    // Streams: a warned update carries `filtered`; once the filter hides, nothing comes.
    let mut ws = connect(&app, "?stream=user", Some(&alice)).await;
    let streamed = post(&app, &bob, json!({"status": "no finale spoilers here"})).await;
    let msg = next(&mut ws, 5).await.expect("an update");
    assert_eq!(payload(&msg)["id"], streamed["id"]);
    assert_eq!(
        payload(&msg)["filtered"][0]["keyword_matches"],
        json!(["finale"])
    );
    let r = app
        .put(
            &format!("/api/v2/filters/{fid}"),
            Some(&alice),
            json!({"filter_action": "hide"}),
        )
        .await;
    assert_eq!(r.json()["filter_action"], "hide", "{}", r.text);
    post(&app, &bob, json!({"status": "finale again"})).await;
    let plain = post(&app, &bob, json!({"status": "nothing to see"})).await;
    let msg = next(&mut ws, 5).await.expect("the unfiltered update");
    assert_eq!(
        payload(&msg)["id"],
        plain["id"],
        "the hidden one never came"
    );

    // hide: gone from home and public, still on the profile (`account` is not a context).
    let home = app.get("/api/v1/timelines/home", Some(&alice)).await.json();
    assert!(find(&home, &hit["id"]).is_none());
    assert!(find(&home, &miss["id"]).is_some());
    let profile = app
        .get(&format!("/api/v1/accounts/{bob_id}/statuses"), Some(&alice))
        .await
        .json();
    assert!(find(&profile, &hit["id"]).is_some());

    // Keywords: add, change, remove through `keywords_attributes` and the keyword endpoints.
    let r = app
        .post(
            &format!("/api/v2/filters/{fid}/keywords"),
            Some(&alice),
            json!({"keyword": "semifinal", "whole_word": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let kid = r.json()["id"].as_str().unwrap().to_string();
    let home = app.get("/api/v1/timelines/home", Some(&alice)).await.json();
    assert!(
        find(&home, &miss["id"]).is_none(),
        "a part-word keyword matches inside words"
    );
    let r = app
        .put(
            &format!("/api/v2/filters/keywords/{kid}"),
            Some(&alice),
            json!({"whole_word": true}),
        )
        .await;
    assert_eq!(r.json()["whole_word"], true);
    let home = app.get("/api/v1/timelines/home", Some(&alice)).await.json();
    assert!(find(&home, &miss["id"]).is_some());
    app.get(&format!("/api/v2/filters/keywords/{kid}"), Some(&eve))
        .await
        .assert_error(404);
    let r = app
        .put(
            &format!("/api/v2/filters/{fid}"),
            Some(&alice),
            json!({"keywords_attributes": [{"id": kid, "_destroy": true}]}),
        )
        .await;
    assert_eq!(
        r.json()["keywords"].as_array().unwrap().len(),
        1,
        "{}",
        r.text
    );

    // A filtered status (thread context), and notifications.
    let r = app
        .post(
            "/api/v2/filters",
            Some(&alice),
            json!({"title": "That one", "context": ["thread", "notifications"], "filter_action": "warn"}),
        )
        .await;
    let sfid = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v2/filters/{sfid}/statuses"),
            Some(&alice),
            json!({"status_id": plain["id"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status_id"], plain["id"]);
    let reply = post(
        &app,
        &bob,
        json!({"status": "replying", "in_reply_to_id": plain["id"]}),
    )
    .await;
    let ctx = app
        .get(
            &format!("/api/v1/statuses/{}/context", reply["id"].as_str().unwrap()),
            Some(&alice),
        )
        .await
        .json();
    assert_eq!(
        ctx["ancestors"][0]["filtered"][0]["status_matches"],
        json!([plain["id"]])
    );
    let r = app
        .post(
            "/api/v2/filters",
            Some(&alice),
            json!({"title": "Offers", "context": ["notifications"], "filter_action": "hide",
                   "keywords_attributes": [{"keyword": "offer"}]}),
        )
        .await;
    assert_eq!(r.status, 200);
    let spam = post(&app, &bob, json!({"status": "@alice a special offer"})).await;
    let fine = post(&app, &bob, json!({"status": "@alice lunch?"})).await;
    let notes = app.get("/api/v1/notifications", Some(&alice)).await.json();
    let about: Vec<&Value> = notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["status"]["id"])
        .collect();
    assert!(
        about.contains(&&fine["id"]) && !about.contains(&&spam["id"]),
        "{notes}"
    );

    // Expiry: an expired filter does nothing (but is still listed).
    let r = app
        .put(
            &format!("/api/v2/filters/{fid}"),
            Some(&alice),
            json!({"expires_in": 1}),
        )
        .await;
    assert!(r.json()["expires_at"].is_string(), "{}", r.text);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let home = app.get("/api/v1/timelines/home", Some(&alice)).await.json();
    assert!(find(&home, &hit["id"]).is_some(), "expired");
    assert_eq!(count(&app, &alice).await, 3);

    // v1: each keyword is a v1 filter; a v1 filter is a v2 filter with one keyword.
    let v1 = app.get("/api/v1/filters", Some(&alice)).await.json();
    assert!(
        v1.as_array()
            .unwrap()
            .iter()
            .any(|f| f["phrase"] == "finale"),
        "{v1}"
    );
    let r = app
        .post(
            "/api/v1/filters",
            Some(&alice),
            json!({"phrase": "lunch", "context": ["notifications"], "irreversible": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v1f = r.json();
    assert_eq!(v1f["irreversible"], true);
    assert_eq!(v1f["whole_word"], true);
    let notes = app.get("/api/v1/notifications", Some(&alice)).await.json();
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["status"]["id"] != fine["id"]),
        "{notes}"
    );
    let v1id = v1f["id"].as_str().unwrap();
    let r = app
        .put(
            &format!("/api/v1/filters/{v1id}"),
            Some(&alice),
            json!({"phrase": "dinner", "context": ["notifications"], "irreversible": false}),
        )
        .await;
    assert_eq!(r.json()["phrase"], "dinner", "{}", r.text);
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/filters/{v1id}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        count(&app, &alice).await,
        3,
        "its one-keyword filter went with it"
    );
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v2/filters/{fid}"),
            Some(&eve),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v2/filters/{fid}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(alice_id > 0);
}

both_backends!(filters_apply_everywhere);
