//! Rooms on one instance (docs/API.md, "Rooms"): invitations, live messages on the `direct`
//! stream, roles, removal, deletion by an admin, mutes, history from the join, search, hand-over,
//! and outsiders who find nothing of it.

use serde_json::{Value, json};

use crate::both_backends;
use crate::streaming::{Ws, connect, next, payload};
use crate::support::TestApp;

/// The next event named `event` on `ws` within 5 s, skipping others (presence and the like).
async fn event(ws: &mut Ws, name: &str) -> Value {
    for _ in 0..20 {
        match next(ws, 5).await {
            Some(m) if m["event"] == name => return payload(&m),
            Some(_) => continue,
            None => break,
        }
    }
    panic!("no {name} event");
}

/// Nothing about rooms reaches `ws` within a second.
async fn no_room_event(ws: &mut Ws) {
    while let Some(m) = next(ws, 1).await {
        let name = m["event"].as_str().unwrap_or("");
        assert!(!name.starts_with("rookery.room"), "unexpected {m}");
    }
}

async fn ok(r: crate::support::Answer) -> Value {
    assert!(r.status.is_success(), "{} {}", r.status, r.text);
    r.json()
}

async fn rooms_have_members_roles_and_live_messages(app: TestApp) {
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let id = app.create_user(name).await;
        people.push((id, app.token_for(name, "read write follow").await));
    }
    let [(_alice, at), (bob, bt), (carol, ct), (dave, dt)] =
        <[(i64, String); 4]>::try_from(people).unwrap();
    let mut bob_ws = connect(&app, "?stream=direct", Some(&bt)).await;
    let mut carol_ws = connect(&app, "?stream=direct", Some(&ct)).await;
    let mut dave_ws = connect(&app, "?stream=direct", Some(&dt)).await;

    // Bad input first: clear errors, nothing made.
    app.post("/api/v1/rooms", Some(&at), json!({"name": "  "}))
        .await
        .assert_error(422);
    app.post("/api/v1/rooms", Some(&at), json!({"name": "x".repeat(101)}))
        .await
        .assert_error(422);
    let e = app
        .post(
            "/api/v1/rooms",
            Some(&at),
            json!({"name": "far", "invite": ["someone@elsewhere.example"]}),
        )
        .await
        .assert_error(422);
    assert!(
        e["error"].as_str().unwrap().contains("another server"),
        "{e}"
    );
    assert_eq!(
        ok(app.get("/api/v1/rooms", Some(&at)).await).await,
        json!([])
    );

    let room = ok(app
        .post(
            "/api/v1/rooms",
            Some(&at),
            json!({"name": "Birders", "topic": "herons mostly", "invite": ["bob"]}),
        )
        .await)
    .await;
    let id = room["id"].as_str().unwrap().to_string();
    assert_eq!(
        (room["role"].as_str(), room["state"].as_str()),
        (Some("owner"), Some("joined"))
    );
    assert_eq!(room["members_count"], 1);
    let invitation = event(&mut bob_ws, "rookery.room.invitation").await;
    assert_eq!(
        (invitation["id"].as_str(), invitation["state"].as_str()),
        (Some(id.as_str()), Some("invited"))
    );
    // An invitee sees the room, not its messages, until it accepts.
    app.get(&format!("/api/v1/rooms/{id}/messages"), Some(&bt))
        .await
        .assert_error(404);
    let mine = ok(app.get("/api/v1/rooms", Some(&bt)).await).await;
    assert_eq!(mine[0]["state"], "invited");
    ok(app
        .post(
            &format!("/api/v1/rooms/{id}/invitations"),
            Some(&at),
            json!({"acct": "@carol"}),
        )
        .await)
    .await;
    event(&mut carol_ws, "rookery.room.invitation").await;
    // Nobody is invited by someone they block (a clear refusal, not a silent drop).
    let r = app
        .post(
            &format!("/api/v1/accounts/{_alice}/block"),
            Some(&dt),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let e = app
        .post(
            &format!("/api/v1/rooms/{id}/invitations"),
            Some(&at),
            json!({"acct": "dave"}),
        )
        .await
        .assert_error(422);
    assert!(e["error"].as_str().unwrap().contains("blocks"), "{e}");
    let r = app
        .post(
            &format!("/api/v1/accounts/{_alice}/unblock"),
            Some(&dt),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Only admins invite; outsiders find no room at all.
    app.post(
        &format!("/api/v1/rooms/{id}/invitations"),
        Some(&bt),
        json!({"acct": "dave"}),
    )
    .await
    .assert_error(404);
    for path in ["", "/members", "/messages"] {
        app.get(&format!("/api/v1/rooms/{id}{path}"), Some(&dt))
            .await
            .assert_error(404);
    }
    app.post(&format!("/api/v1/rooms/{id}/accept"), Some(&dt), json!({}))
        .await
        .assert_error(404);
    app.post(
        &format!("/api/v1/rooms/{id}/messages"),
        Some(&dt),
        json!({"text": "let me in"}),
    )
    .await
    .assert_error(404);

    ok(app
        .post(&format!("/api/v1/rooms/{id}/accept"), Some(&bt), json!({}))
        .await)
    .await;
    ok(app
        .post(&format!("/api/v1/rooms/{id}/accept"), Some(&ct), json!({}))
        .await)
    .await;
    let members = ok(app
        .get(&format!("/api/v1/rooms/{id}/members"), Some(&ct))
        .await)
    .await;
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["account"]["username"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![("alice", "owner"), ("bob", "member"), ("carol", "member")]
    );

    // Live messages reach every member; a mention of a member counts for them.
    let m1 = ok(app
        .post(
            &format!("/api/v1/rooms/{id}/messages"),
            Some(&at),
            json!({"text": "hello @bob, look: a heron"}),
        )
        .await)
    .await;
    assert_eq!(m1["mentions"], json!([bob.to_string()]));
    assert!(
        m1["content"]
            .as_str()
            .unwrap()
            .contains("class=\"u-url mention\""),
        "{m1}"
    );
    for ws in [&mut bob_ws, &mut carol_ws] {
        let got = event(ws, "rookery.room.message").await;
        assert_eq!(
            (got["id"].clone(), got["room_id"].as_str()),
            (m1["id"].clone(), Some(id.as_str()))
        );
    }
    let bob_view = ok(app.get(&format!("/api/v1/rooms/{id}"), Some(&bt)).await).await;
    assert_eq!(
        (
            bob_view["unread_count"].as_i64(),
            bob_view["unread_mentions"].as_i64()
        ),
        (Some(1), Some(1))
    );
    // A read mark must name a message of the room (a number past the newest would mark every
    // later message read); searches are bounded.
    app.post(
        &format!("/api/v1/rooms/{id}/read"),
        Some(&bt),
        json!({"last_read_id": i64::MAX.to_string()}),
    )
    .await
    .assert_error(422);
    app.get(
        &format!("/api/v1/rooms/{id}/messages?q={}", "a".repeat(201)),
        Some(&bt),
    )
    .await
    .assert_error(422);
    let read = ok(app
        .post(&format!("/api/v1/rooms/{id}/read"), Some(&bt), json!({}))
        .await)
    .await;
    assert_eq!(read["unread_count"], 0);
    no_room_event(&mut dave_ws).await;

    // Alice makes Bob an admin; Bob removes Carol, who then gets nothing more.
    let promoted = ok(app
        .post(
            &format!("/api/v1/rooms/{id}/members/{bob}/role"),
            Some(&at),
            json!({"role": "admin"}),
        )
        .await)
    .await;
    assert_eq!(promoted["role"], "admin");
    app.post(
        &format!("/api/v1/rooms/{id}/members/{bob}/role"),
        Some(&ct),
        json!({"role": "member"}),
    )
    .await
    .assert_error(403);
    ok(app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/rooms/{id}/members/{carol}"),
            Some(&bt),
            None,
        )
        .await)
    .await;
    let removed = event(&mut carol_ws, "rookery.room.removed").await;
    assert_eq!(removed["room_id"], json!(id));
    app.get(&format!("/api/v1/rooms/{id}"), Some(&ct))
        .await
        .assert_error(404);
    let m2 = ok(app
        .post(
            &format!("/api/v1/rooms/{id}/messages"),
            Some(&at),
            json!({"text": "carol is gone"}),
        )
        .await)
    .await;
    event(&mut bob_ws, "rookery.room.message").await;
    no_room_event(&mut carol_ws).await;
    no_room_event(&mut dave_ws).await;

    // An admin deletes someone else's message: gone for everyone.
    ok(app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/rooms/{id}/messages/{}", m1["id"].as_str().unwrap()),
            Some(&bt),
            None,
        )
        .await)
    .await;
    let deleted = event(&mut bob_ws, "rookery.room.message.delete").await;
    assert_eq!(deleted["id"], m1["id"]);
    let left = ok(app
        .get(&format!("/api/v1/rooms/{id}/messages"), Some(&at))
        .await)
    .await;
    let ids: Vec<&Value> = left.as_array().unwrap().iter().map(|m| &m["id"]).collect();
    assert_eq!(ids, vec![&m2["id"]]);

    // History starts at the join: Dave, invited now, sees only what comes after.
    ok(app
        .post(
            &format!("/api/v1/rooms/{id}/invitations"),
            Some(&bt),
            json!({"acct": "dave"}),
        )
        .await)
    .await;
    ok(app
        .post(&format!("/api/v1/rooms/{id}/accept"), Some(&dt), json!({}))
        .await)
    .await;
    assert_eq!(
        ok(app
            .get(&format!("/api/v1/rooms/{id}/messages"), Some(&dt))
            .await)
        .await,
        json!([])
    );
    let m3 = ok(app
        .post(
            &format!("/api/v1/rooms/{id}/messages"),
            Some(&bt),
            json!({"text": "welcome dave"}),
        )
        .await)
    .await;
    let seen = ok(app
        .get(&format!("/api/v1/rooms/{id}/messages"), Some(&dt))
        .await)
    .await;
    assert_eq!(seen.as_array().unwrap().len(), 1);
    assert_eq!(seen[0]["id"], m3["id"]);
    // Search within the room, from the caller's join.
    let found = ok(app
        .get(&format!("/api/v1/rooms/{id}/messages?q=GONE"), Some(&at))
        .await)
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], m2["id"]);
    assert_eq!(
        ok(app
            .get(&format!("/api/v1/rooms/{id}/messages?q=gone"), Some(&dt))
            .await)
        .await,
        json!([])
    );

    // A mute by an admin stops posting until lifted; bounds are checked.
    app.post(
        &format!("/api/v1/rooms/{id}/members/{dave}/mute"),
        Some(&bt),
        json!({"duration": 0}),
    )
    .await
    .assert_error(422);
    let muted = ok(app
        .post(
            &format!("/api/v1/rooms/{id}/members/{dave}/mute"),
            Some(&bt),
            json!({"duration": 600}),
        )
        .await)
    .await;
    assert!(muted["silenced_until"].is_string(), "{muted}");
    app.post(
        &format!("/api/v1/rooms/{id}/messages"),
        Some(&dt),
        json!({"text": "hm"}),
    )
    .await
    .assert_error(403);
    ok(app
        .post(
            &format!("/api/v1/rooms/{id}/members/{dave}/unmute"),
            Some(&bt),
            json!({}),
        )
        .await)
    .await;
    ok(app
        .post(
            &format!("/api/v1/rooms/{id}/messages"),
            Some(&dt),
            json!({"text": "thanks"}),
        )
        .await)
    .await;
    // An admin may not act on the owner.
    app.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/rooms/{id}/members/{_alice}"),
        Some(&bt),
        None,
    )
    .await
    .assert_error(403);

    // The owner cannot just leave; it hands the room to Bob, then leaves; Bob deletes the room.
    app.post(&format!("/api/v1/rooms/{id}/leave"), Some(&at), json!({}))
        .await
        .assert_error(422);
    ok(app
        .post(
            &format!("/api/v1/rooms/{id}/members/{bob}/role"),
            Some(&at),
            json!({"role": "owner"}),
        )
        .await)
    .await;
    ok(app
        .post(&format!("/api/v1/rooms/{id}/leave"), Some(&at), json!({}))
        .await)
    .await;
    app.get(&format!("/api/v1/rooms/{id}"), Some(&at))
        .await
        .assert_error(404);
    app.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/rooms/{id}"),
        Some(&dt),
        None,
    )
    .await
    .assert_error(403);
    ok(app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/rooms/{id}"),
            Some(&bt),
            None,
        )
        .await)
    .await;
    event(&mut dave_ws, "rookery.room.removed").await;
    app.get(&format!("/api/v1/rooms/{id}"), Some(&bt))
        .await
        .assert_error(404);
}

both_backends!(rooms_have_members_roles_and_live_messages);
