//! Lists: create, rename, members (followed accounts only), the list timeline with each replies
//! policy, exclusive lists kept out of home, the `list` stream, and other people's lists as 404.

use futures_util::SinkExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::statuses::post;
use crate::streaming::{connect, next, payload};
use crate::support::TestApp;

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn lists_and_their_timelines(app: TestApp) {
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let id = app.create_user(name).await;
        users.push((
            id.to_string(),
            app.token_for(name, "read write follow").await,
        ));
    }
    let [alice, bob, carol, dave] = [&users[0], &users[1], &users[2], &users[3]];
    for target in [bob, carol] {
        let r = app
            .post(
                &format!("/api/v1/accounts/{}/follow", target.0),
                Some(&alice.1),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200);
    }

    // Create, with Mastodon's defaults and validation.
    let r = app
        .post("/api/v1/lists", Some(&alice.1), json!({"title": "Birders"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.json();
    assert_eq!(list["title"], "Birders");
    assert_eq!(list["replies_policy"], "list");
    assert_eq!(list["exclusive"], false);
    let id = list["id"].as_str().unwrap().to_string();
    for bad in [
        json!({"title": "  "}),
        json!({"title": "x", "replies_policy": "all"}),
    ] {
        app.post("/api/v1/lists", Some(&alice.1), bad)
            .await
            .assert_error(422);
    }
    assert_eq!(
        ids(&app.get("/api/v1/lists", Some(&alice.1)).await.json()),
        [id.as_str()]
    );
    for path in [
        format!("/api/v1/lists/{id}"),
        format!("/api/v1/timelines/list/{id}"),
    ] {
        app.get(&path, Some(&dave.1)).await.assert_error(404);
    }

    // Members: only followed accounts.
    let add = |who: &str| json!({"account_ids": [who]});
    let r = app
        .post(
            &format!("/api/v1/lists/{id}/accounts"),
            Some(&alice.1),
            add(&bob.0),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.post(
        &format!("/api/v1/lists/{id}/accounts"),
        Some(&alice.1),
        add(&dave.0),
    )
    .await
    .assert_error(422);
    app.post(
        &format!("/api/v1/lists/{id}/accounts"),
        Some(&alice.1),
        add("999999"),
    )
    .await
    .assert_error(404);
    let members = app
        .get(
            &format!("/api/v1/lists/{id}/accounts?limit=0"),
            Some(&alice.1),
        )
        .await
        .json();
    assert_eq!(ids(&members), [bob.0.as_str()]);
    let of_bob = app
        .get(&format!("/api/v1/accounts/{}/lists", bob.0), Some(&alice.1))
        .await
        .json();
    assert_eq!(ids(&of_bob), [id.as_str()]);

    // The list stream (WebSocket subscribe with `list`); Dave cannot listen to Alice's list.
    let mut ws = connect(&app, "", Some(&alice.1)).await;
    let sub = json!({"type": "subscribe", "stream": "list", "list": id}).to_string();
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        sub.clone().into(),
    ))
    .await
    .unwrap();
    let mut spy = connect(&app, "", Some(&dave.1)).await;
    spy.send(tokio_tungstenite::tungstenite::Message::Text(sub.into()))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let hello = post(&app, &bob.1, json!({"status": "hello list"})).await;
    let msg = next(&mut ws, 5).await.expect("a list update");
    assert_eq!(msg["event"], "update");
    assert_eq!(msg["stream"], json!(["list", id]));
    assert_eq!(payload(&msg)["id"], hello["id"]);
    assert!(
        next(&mut spy, 1).await.is_none(),
        "someone else's list is silent"
    );

    let other = post(&app, &carol.1, json!({"status": "not a member"})).await;
    let dave_post = post(&app, &dave.1, json!({"status": "who's there"})).await;
    let to_dave = post(
        &app,
        &bob.1,
        json!({"status": "@dave me", "in_reply_to_id": dave_post["id"]}),
    )
    .await;
    let to_carol = post(
        &app,
        &bob.1,
        json!({"status": "@carol agreed", "in_reply_to_id": other["id"]}),
    )
    .await;
    let thread = post(
        &app,
        &bob.1,
        json!({"status": "and another thing", "in_reply_to_id": hello["id"]}),
    )
    .await;
    let secret = post(
        &app,
        &bob.1,
        json!({"status": "@alice psst", "visibility": "direct"}),
    )
    .await;
    let list_ids = |v: Value| ids(&v);
    let read = |policy: &'static str| {
        let (token, id) = (alice.1.clone(), id.clone());
        let app = &app;
        async move {
            let r = app
                .put(
                    &format!("/api/v1/lists/{id}"),
                    Some(&token),
                    json!({"replies_policy": policy}),
                )
                .await;
            assert_eq!(r.json()["replies_policy"], policy);
            list_ids(
                app.get(&format!("/api/v1/timelines/list/{id}"), Some(&token))
                    .await
                    .json(),
            )
        }
    };
    let s = |v: &Value| v["id"].as_str().unwrap().to_string();
    // `list`: replies to members only (and a member's own thread).
    assert_eq!(read("list").await, [s(&thread), s(&hello)]);
    // `followed`: replies to anyone Alice follows.
    assert_eq!(
        read("followed").await,
        [s(&thread), s(&to_carol), s(&hello)]
    );
    // `none`: no replies to others.
    assert_eq!(read("none").await, [s(&thread), s(&hello)]);
    let all = read("followed").await;
    assert!(!all.contains(&s(&to_dave)) && !all.contains(&s(&secret)) && !all.contains(&s(&other)));

    // Exclusive: Bob's new posts leave Alice's home but stay in the list.
    let r = app
        .put(
            &format!("/api/v1/lists/{id}"),
            Some(&alice.1),
            json!({"exclusive": true, "title": "Close birders"}),
        )
        .await;
    assert_eq!(r.json()["exclusive"], true);
    assert_eq!(r.json()["title"], "Close birders");
    let quiet = post(&app, &bob.1, json!({"status": "only in the list"})).await;
    let loud = post(&app, &carol.1, json!({"status": "in the home"})).await;
    let home = ids(&app
        .get("/api/v1/timelines/home", Some(&alice.1))
        .await
        .json());
    assert!(
        home.contains(&s(&loud)) && !home.contains(&s(&quiet)),
        "{home:?}"
    );
    let list_tl = ids(&app
        .get(&format!("/api/v1/timelines/list/{id}"), Some(&alice.1))
        .await
        .json());
    assert_eq!(list_tl[0], s(&quiet));

    // Unfollowing takes Bob out; deleting the list removes it.
    app.post(
        &format!("/api/v1/accounts/{}/unfollow", bob.0),
        Some(&alice.1),
        json!({}),
    )
    .await;
    let members = app
        .get(&format!("/api/v1/lists/{id}/accounts"), Some(&alice.1))
        .await
        .json();
    assert_eq!(members, json!([]));
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/lists/{id}"),
            Some(&dave.1),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/lists/{id}"),
            Some(&alice.1),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        app.get("/api/v1/lists/", Some(&alice.1)).await.json(),
        json!([])
    );
    app.get(&format!("/api/v1/timelines/list/{id}"), Some(&alice.1))
        .await
        .assert_error(404);
}

both_backends!(lists_and_their_timelines);
