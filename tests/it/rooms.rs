//! Rooms on one instance (docs/API.md, "Rooms"): invitations, live messages on the `direct`
//! stream, roles, removal, deletion by an admin, mutes, history from the join, search, hand-over,
//! and outsiders who find nothing of it.

use serde_json::{Value, json};

use reqwest::Method;

use crate::both_backends;
use crate::federation::{DEV_FEDERATION, Instance};
use crate::streaming::{Ws, connect, connect_to, next, payload};
use crate::support::{Backend, TestApp};

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
    assert!(e["error"].as_str().unwrap().contains("was found"), "{e}");
    let e = app
        .post(
            "/api/v1/rooms",
            Some(&at),
            json!({"name": "far", "invite": [format!("{}@example.org", "a".repeat(5000))]}),
        )
        .await
        .assert_error(422);
    assert!(e["error"].as_str().unwrap().contains("at most 320"), "{e}");
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

/// A suspended owner (self-deletion suspends too): their messages leave the room, the
/// longest-standing member takes it over, and a room with nobody else goes.
async fn a_suspended_owner_hands_rooms_over(app: TestApp) {
    app.create_user_with_role("root", rookery::service::accounts::Role::Admin)
        .await;
    let admin = app
        .token_for("root", "read write admin:read admin:write")
        .await;
    let alice = app.create_user("alice").await;
    let at = app.token_for("alice", "read write").await;
    app.create_user("bob").await;
    let bt = app.token_for("bob", "read write").await;
    let shared = ok(app
        .post(
            "/api/v1/rooms",
            Some(&at),
            json!({"name": "Shared", "invite": ["bob"]}),
        )
        .await)
    .await;
    let shared = shared["id"].as_str().unwrap().to_string();
    let alone = ok(app
        .post("/api/v1/rooms", Some(&at), json!({"name": "Alone"}))
        .await)
    .await;
    let alone = alone["id"].as_str().unwrap().to_string();
    ok(app
        .post(
            &format!("/api/v1/rooms/{shared}/accept"),
            Some(&bt),
            json!({}),
        )
        .await)
    .await;
    for text in ["from alice", "one more"] {
        ok(app
            .post(
                &format!("/api/v1/rooms/{shared}/messages"),
                Some(&at),
                json!({"text": text}),
            )
            .await)
        .await;
    }
    ok(app
        .post(
            &format!("/api/v1/rooms/{shared}/messages"),
            Some(&bt),
            json!({"text": "from bob"}),
        )
        .await)
    .await;
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{alice}/action"),
            Some(&admin),
            json!({"type": "suspend"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let room = ok(app.get(&format!("/api/v1/rooms/{shared}"), Some(&bt)).await).await;
    assert_eq!(
        (room["role"].as_str(), room["members_count"].as_i64()),
        (Some("owner"), Some(1))
    );
    let messages = ok(app
        .get(&format!("/api/v1/rooms/{shared}/messages"), Some(&bt))
        .await)
    .await;
    let texts: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["from bob"]);
    // Nobody inherits a room of one: it is gone (checked from the database, as nobody can see it).
    let gone = rookery::storage::rooms::find(&app.state.db, alone.parse().unwrap())
        .await
        .unwrap();
    assert!(gone.is_none());
}

both_backends!(a_suspended_owner_hands_rooms_over);

/// `path`'s JSON on `inst` as `token`, asserting success.
async fn get_ok(inst: &Instance, path: &str, token: &str) -> Value {
    let (s, v) = inst.get(path, token).await;
    assert_eq!(s, 200, "GET {path}: {v}");
    v
}

/// POSTs (or DELETEs) `body` to `path` on `inst`, asserting success.
async fn send_ok(inst: &Instance, method: Method, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = inst.send(method, path, token, body).await;
    assert_eq!(s, 200, "{path}: {v}\n{}", inst.log());
    v
}

/// The next `rookery.room.message` on `ws` whose text is `text`, skipping others (the member's own
/// messages come back to them too).
async fn message(ws: &mut Ws, text: &str) -> Value {
    for _ in 0..10 {
        let m = event(ws, "rookery.room.message").await;
        if m["text"] == text {
            return m;
        }
    }
    panic!("no message {text:?}");
}

/// Posts `text` in room `id` on `inst`.
async fn say(inst: &Instance, token: &str, id: &str, text: &str) -> Value {
    let path = format!("/api/v1/rooms/{id}/messages");
    send_ok(inst, Method::POST, &path, token, json!({"text": text})).await
}

/// The account ID of the member whose `acct` starts with `name` in `members`.
fn member_id(members: &Value, name: &str) -> String {
    members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["account"]["acct"]
                .as_str()
                .unwrap_or("")
                .split('@')
                .next()
                == Some(name)
        })
        .map(|m| m["account"]["id"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {name} in {members}"))
}

/// Who is joined in `members`, by username, sorted.
fn joined(members: &Value) -> Vec<String> {
    let mut v: Vec<String> = members
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|m| m["state"] == "joined")
                .map(|m| m["account"]["username"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Rooms across servers (issue 29; docs/FEDERATION.md, "Rooms"): alice@A makes a room and invites
/// bob@B and carol@A; all three talk live; alice makes bob admin; bob, from B, removes carol, who
/// hears nothing more, and deletes a message of alice's for everyone; dave@B, never a member, finds
/// nothing of it; the room's Group document is not shown to an unsigned fetch.
#[tokio::test]
async fn rooms_span_two_servers() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let carol = a.user("carol").await;
    let erin = a.user("erin").await;
    let bob = b.user("bob").await;
    let dave = b.user("dave").await;
    let addr = |i: &Instance| i.server.base.trim_start_matches("http://").to_string();
    let mut alice_ws = connect_to(&addr(&a), "?stream=direct", Some(&alice)).await;
    let mut carol_ws = connect_to(&addr(&a), "?stream=direct", Some(&carol)).await;
    let mut bob_ws = connect_to(&addr(&b), "?stream=direct", Some(&bob)).await;
    let mut dave_ws = connect_to(&addr(&b), "?stream=direct", Some(&dave)).await;

    let bob_handle = format!("bob@{}", b.domain);
    let room = send_ok(
        &a,
        Method::POST,
        "/api/v1/rooms",
        &alice,
        json!({"name": "Herons", "topic": "grey ones", "invite": [bob_handle, "carol"]}),
    )
    .await;
    let on_a = room["id"].as_str().unwrap().to_string();
    let invitation = event(&mut bob_ws, "rookery.room.invitation").await;
    assert_eq!(
        (
            invitation["uri"].as_str(),
            invitation["name"].as_str(),
            invitation["state"].as_str()
        ),
        (room["uri"].as_str(), Some("Herons"), Some("invited")),
        "{invitation}"
    );
    let on_b = invitation["id"].as_str().unwrap().to_string();
    event(&mut carol_ws, "rookery.room.invitation").await;
    send_ok(
        &b,
        Method::POST,
        &format!("/api/v1/rooms/{on_b}/accept"),
        &bob,
        json!({}),
    )
    .await;
    send_ok(
        &a,
        Method::POST,
        &format!("/api/v1/rooms/{on_a}/accept"),
        &carol,
        json!({}),
    )
    .await;
    let everyone = vec!["alice".to_string(), "bob".into(), "carol".into()];
    for (inst, token, id) in [(&a, &alice, &on_a), (&b, &bob, &on_b)] {
        let path = format!("/api/v1/rooms/{id}/members");
        assert!(
            crate::federation::eventually(10, || async {
                joined(&inst.get(&path, token).await.1) == everyone
            })
            .await,
            "{:?}\n{}",
            inst.get(&path, token).await,
            inst.log()
        );
    }

    // Messages, live on both servers.
    say(&a, &alice, &on_a, "hello @carol, bob").await;
    let m = message(&mut bob_ws, "hello @carol, bob").await;
    assert_eq!(m["room_id"], on_b.as_str());
    message(&mut carol_ws, "hello @carol, bob").await;
    say(&b, &bob, &on_b, "hi from B").await;
    for ws in [&mut alice_ws, &mut carol_ws] {
        let m = message(ws, "hi from B").await;
        assert_eq!(m["account"]["acct"], bob_handle.as_str());
    }
    say(&a, &carol, &on_a, "carol here").await;
    message(&mut bob_ws, "carol here").await;
    // A member elsewhere named by handle: linked and tagged, so B counts it as bob's mention.
    let look = format!("@bob@{} look up", b.domain);
    let sent = say(&a, &alice, &on_a, &look).await;
    assert_eq!(sent["mentions"].as_array().map(Vec::len), Some(1), "{sent}");
    assert!(
        sent["content"]
            .as_str()
            .unwrap()
            .contains("class=\"u-url mention\""),
        "{sent}"
    );
    let got = message(&mut bob_ws, &look).await;
    let (_, bob_self) = b.get("/api/v1/accounts/verify_credentials", &bob).await;
    assert_eq!(got["mentions"], json!([bob_self["id"]]), "{got}");
    let history = get_ok(&b, &format!("/api/v1/rooms/{on_b}/messages"), &bob).await;
    let texts: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            look.as_str(),
            "carol here",
            "hi from B",
            "hello @carol, bob"
        ]
    );

    // Alice makes bob admin; B's copy follows.
    let members_a = get_ok(&a, &format!("/api/v1/rooms/{on_a}/members"), &alice).await;
    send_ok(
        &a,
        Method::POST,
        &format!(
            "/api/v1/rooms/{on_a}/members/{}/role",
            member_id(&members_a, "bob")
        ),
        &alice,
        json!({"role": "admin"}),
    )
    .await;
    assert!(
        crate::federation::eventually(10, || async {
            b.get(&format!("/api/v1/rooms/{on_b}"), &bob).await.1["role"] == "admin"
        })
        .await,
        "{}",
        b.log()
    );
    // The room's image reaches B's copy (the Group's `icon`), shown through B's media proxy.
    let part = reqwest::multipart::Part::bytes(crate::media::fixture("photo.png"))
        .file_name("photo.png")
        .mime_str("image/png")
        .unwrap();
    let media: Value = a
        .http
        .post(a.url("/api/v2/media"))
        .bearer_auth(&alice)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    send_ok(
        &a,
        Method::PATCH,
        &format!("/api/v1/rooms/{on_a}"),
        &alice,
        json!({"avatar_media_id": media["id"]}),
    )
    .await;
    let b_base = format!("http://{}/media_proxy/", b.domain);
    assert!(
        crate::federation::eventually(10, || async {
            b.get(&format!("/api/v1/rooms/{on_b}"), &bob).await.1["avatar"]
                .as_str()
                .is_some_and(|u| u.starts_with(&b_base))
        })
        .await,
        "{:?}\n{}",
        b.get(&format!("/api/v1/rooms/{on_b}"), &bob).await,
        b.log()
    );
    // As an admin, bob renames the room from B (the host applies it); its image is the host's.
    send_ok(
        &b,
        Method::PATCH,
        &format!("/api/v1/rooms/{on_b}"),
        &bob,
        json!({"name": "Grey herons", "topic": "from B"}),
    )
    .await;
    assert!(
        crate::federation::eventually(10, || async {
            let r = get_ok(&a, &format!("/api/v1/rooms/{on_a}"), &alice).await;
            r["name"] == "Grey herons" && r["topic"] == "from B"
        })
        .await,
        "{}",
        a.log()
    );
    let (s, e) = b
        .send(
            Method::PATCH,
            &format!("/api/v1/rooms/{on_b}"),
            &bob,
            json!({"avatar_media_id": ""}),
        )
        .await;
    assert_eq!(s, 422, "{e}");

    // As an admin, bob invites and mutes from B: the host does it.
    let mut erin_ws = connect_to(&addr(&a), "?stream=direct", Some(&erin)).await;
    send_ok(
        &b,
        Method::POST,
        &format!("/api/v1/rooms/{on_b}/invitations"),
        &bob,
        json!({"acct": format!("erin@{}", a.domain)}),
    )
    .await;
    let invited = event(&mut erin_ws, "rookery.room.invitation").await;
    assert_eq!(invited["id"], on_a.as_str(), "{invited}");
    // erin joins; bob, from B, makes her an admin.
    send_ok(
        &a,
        Method::POST,
        &format!("/api/v1/rooms/{on_a}/accept"),
        &erin,
        json!({}),
    )
    .await;
    let members_b = get_ok(&b, &format!("/api/v1/rooms/{on_b}/members"), &bob).await;
    assert!(
        crate::federation::eventually(10, || async {
            joined(&get_ok(&b, &format!("/api/v1/rooms/{on_b}/members"), &bob).await)
                .contains(&"erin".to_string())
        })
        .await,
        "{}",
        b.log()
    );
    let erin_on_b = member_id(
        &get_ok(&b, &format!("/api/v1/rooms/{on_b}/members"), &bob).await,
        "erin",
    );
    send_ok(
        &b,
        Method::POST,
        &format!("/api/v1/rooms/{on_b}/members/{erin_on_b}/role"),
        &bob,
        json!({"role": "admin"}),
    )
    .await;
    assert!(
        crate::federation::eventually(10, || async {
            get_ok(&a, &format!("/api/v1/rooms/{on_a}"), &erin).await["role"] == "admin"
        })
        .await,
        "{}",
        a.log()
    );
    let carol_on_b = member_id(&members_b, "carol");
    let carol_on_a = member_id(
        &get_ok(&a, &format!("/api/v1/rooms/{on_a}/members"), &alice).await,
        "carol",
    );
    let muted = send_ok(
        &b,
        Method::POST,
        &format!("/api/v1/rooms/{on_b}/members/{carol_on_b}/mute"),
        &bob,
        json!({"duration": 600}),
    )
    .await;
    assert!(muted["silenced_until"].is_string(), "{muted}");
    let carol_muted_on_a = || async {
        let m = get_ok(&a, &format!("/api/v1/rooms/{on_a}/members"), &alice).await;
        m.as_array()
            .unwrap()
            .iter()
            .find(|x| x["account"]["id"] == carol_on_a.as_str())
            .is_some_and(|x| x["silenced_until"].is_string())
    };
    assert!(
        crate::federation::eventually(10, carol_muted_on_a).await,
        "{}",
        a.log()
    );
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/rooms/{on_a}/messages"),
            &carol,
            json!({"text": "can I?"}),
        )
        .await;
    assert_eq!(s, 403);
    send_ok(
        &b,
        Method::POST,
        &format!("/api/v1/rooms/{on_b}/members/{carol_on_b}/unmute"),
        &bob,
        json!({}),
    )
    .await;
    assert!(
        crate::federation::eventually(10, || async { !carol_muted_on_a().await }).await,
        "{}",
        a.log()
    );

    // Bob, from B, removes carol: she is told, and hears nothing more.
    let members_b = get_ok(&b, &format!("/api/v1/rooms/{on_b}/members"), &bob).await;
    send_ok(
        &b,
        Method::DELETE,
        &format!(
            "/api/v1/rooms/{on_b}/members/{}",
            member_id(&members_b, "carol")
        ),
        &bob,
        json!({}),
    )
    .await;
    let gone = event(&mut carol_ws, "rookery.room.removed").await;
    assert_eq!(gone["room_id"], on_a.as_str());
    let (s, _) = a.get(&format!("/api/v1/rooms/{on_a}"), &carol).await;
    assert_eq!(s, 404);
    say(&a, &alice, &on_a, "after carol").await;
    message(&mut bob_ws, "after carol").await;
    no_room_event(&mut carol_ws).await;

    // Bob deletes alice's first message from B: gone on both servers.
    let history = get_ok(&b, &format!("/api/v1/rooms/{on_b}/messages"), &bob).await;
    let hello = history
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "hello @carol, bob")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    send_ok(
        &b,
        Method::DELETE,
        &format!("/api/v1/rooms/{on_b}/messages/{hello}"),
        &bob,
        json!({}),
    )
    .await;
    event(&mut alice_ws, "rookery.room.message.delete").await;
    let on_a_texts = get_ok(&a, &format!("/api/v1/rooms/{on_a}/messages"), &alice).await;
    assert!(
        !on_a_texts.to_string().contains("hello @carol"),
        "{on_a_texts}"
    );
    let on_b_texts = get_ok(&b, &format!("/api/v1/rooms/{on_b}/messages"), &bob).await;
    assert!(
        !on_b_texts.to_string().contains("hello @carol"),
        "{on_b_texts}"
    );

    // Dave, on B but never a member: 404 for everything, nothing in his stream.
    for path in ["", "/messages", "/members"] {
        let (s, _) = b.get(&format!("/api/v1/rooms/{on_b}{path}"), &dave).await;
        assert_eq!(s, 404, "{path}");
    }
    assert_eq!(get_ok(&b, "/api/v1/rooms", &dave).await, json!([]));
    no_room_event(&mut dave_ws).await;

    // The Group document is for members' servers only.
    let r = reqwest::Client::new()
        .get(room["uri"].as_str().unwrap())
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The owner deletes the room: gone on B too.
    send_ok(
        &a,
        Method::DELETE,
        &format!("/api/v1/rooms/{on_a}"),
        &alice,
        json!({}),
    )
    .await;
    assert_eq!(
        event(&mut bob_ws, "rookery.room.removed").await["room_id"],
        on_b.as_str()
    );
    assert_eq!(get_ok(&b, "/api/v1/rooms", &bob).await, json!([]));
}
