//! Direct and group messages on one instance: Mastodon's conversations API, replies that keep the
//! group together, receipts, search, streaming (`conversation`, typing, presence), do-not-disturb,
//! and outsiders who see none of it. A Mastodon-shaped direct message from a fixture lands in a
//! conversation.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::statuses::post;
use crate::streaming::{connect, next, payload};
use crate::support::TestApp;

struct People {
    alice: (i64, String),
    bob: (i64, String),
    carol: (i64, String),
    /// Never addressed: must see nothing.
    dave: (i64, String),
}

async fn people(app: &TestApp) -> People {
    let mut v = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let id = app.create_user(name).await;
        v.push((id, app.token_for(name, "read write follow").await));
    }
    // Dave follows everyone: following does not open anyone's messages.
    for i in 0..3 {
        let r = app
            .post(
                &format!("/api/v1/accounts/{}/follow", v[i].0),
                Some(&v[3].1),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    People {
        alice: v[0].clone(),
        bob: v[1].clone(),
        carol: v[2].clone(),
        dave: v[3].clone(),
    }
}

async fn conversations(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.get("/api/v1/conversations", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json().as_array().unwrap().clone()
}

fn usernames(c: &Value) -> Vec<String> {
    let mut v: Vec<String> = c["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// Everything an outsider could try: the status, its thread, timelines, search, conversations.
async fn sees_nothing(app: &TestApp, token: &str, status_id: &str, word: &str) {
    for path in [
        format!("/api/v1/statuses/{status_id}"),
        format!("/api/v1/statuses/{status_id}/context"),
        format!("/api/v1/statuses/{status_id}/receipts"),
    ] {
        assert_eq!(app.get(&path, Some(token)).await.status, 404, "{path}");
    }
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/astronomy",
        "/api/v1/conversations",
    ] {
        let r = app.get(path, Some(token)).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(!r.text.contains(status_id), "{path}: {}", r.text);
    }
    let r = app
        .get(
            &format!("/api/v2/search?q={word}&type=statuses&in=conversations"),
            Some(token),
        )
        .await;
    assert_eq!(r.json()["statuses"], json!([]), "{}", r.text);
}

async fn direct_and_group_conversations(app: TestApp) {
    let p = people(&app).await;
    let (alice, bob, carol, dave) = (&p.alice.1, &p.bob.1, &p.carol.1, &p.dave.1);

    // One to one.
    let first = post(
        &app,
        alice,
        json!({"status": "@bob are you free for the heron walk?", "visibility": "direct"}),
    )
    .await;
    let first_id = first["id"].as_str().unwrap();
    let bobs = conversations(&app, bob).await;
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0]["unread"], true);
    assert_eq!(usernames(&bobs[0]), ["alice"]);
    assert_eq!(bobs[0]["last_status"]["id"], first_id);
    assert_eq!(bobs[0]["last_status"]["visibility"], "direct");
    let alices = conversations(&app, alice).await;
    assert_eq!(alices[0]["unread"], false, "the author has read her own");
    assert_eq!(usernames(&alices[0]), ["bob"]);
    assert_ne!(
        alices[0]["id"], bobs[0]["id"],
        "each participant has their own"
    );

    // Bob answers without naming anyone: the answer still reaches Alice, in the same conversation.
    let answer = post(
        &app,
        bob,
        json!({"status": "yes, Saturday works", "visibility": "direct", "in_reply_to_id": first_id}),
    )
    .await;
    let alices = conversations(&app, alice).await;
    assert_eq!(alices.len(), 1);
    assert_eq!(alices[0]["unread"], true);
    assert_eq!(alices[0]["last_status"]["id"], answer["id"]);
    let ctx = app
        .get(
            &format!(
                "/api/v1/statuses/{}/context",
                answer["id"].as_str().unwrap()
            ),
            Some(alice),
        )
        .await
        .json();
    assert_eq!(
        ctx["ancestors"][0]["id"], first_id,
        "the thread is the conversation"
    );

    // Receipts: Bob is sent and delivered (local) until he reads; then seen.
    let receipts = app
        .get(
            &format!("/api/v1/statuses/{first_id}/receipts"),
            Some(alice),
        )
        .await;
    assert_eq!(receipts.status, 200, "{}", receipts.text);
    let r = receipts.json();
    assert_eq!(r[0]["account"]["username"], "bob");
    assert_eq!(r[0]["state"], "seen", "bob answered after reading: {r}");
    // Alice has not read Bob's answer yet.
    let answer_id = answer["id"].as_str().unwrap();
    let r = app
        .get(&format!("/api/v1/statuses/{answer_id}/receipts"), Some(bob))
        .await
        .json();
    assert_eq!(r[0]["state"], "delivered", "{r}");
    assert!(r[0]["seen_at"].is_null());
    let conv = alices[0]["id"].as_str().unwrap();
    let read = app
        .post(
            &format!("/api/v1/conversations/{conv}/read"),
            Some(alice),
            json!({}),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json()["unread"], false);
    let r = app
        .get(&format!("/api/v1/statuses/{answer_id}/receipts"), Some(bob))
        .await
        .json();
    assert_eq!(r[0]["state"], "seen", "{r}");
    assert!(r[0]["seen_at"].is_string());
    assert_eq!(conversations(&app, alice).await[0]["unread"], false);
    // Only the author asks for receipts, and only of a direct message.
    let other = app
        .get(&format!("/api/v1/statuses/{first_id}/receipts"), Some(bob))
        .await;
    assert_eq!(other.status, 404);
    other.assert_error(404);

    // A group of three: a reply that names only Alice still reaches Bob.
    let group = post(
        &app,
        alice,
        json!({"status": "@bob @carol who brings the telescope? #astronomy", "visibility": "direct"}),
    )
    .await;
    let carols = conversations(&app, carol).await;
    assert_eq!(carols.len(), 1);
    assert_eq!(usernames(&carols[0]), ["alice", "bob"]);
    let carol_reply = post(
        &app,
        carol,
        json!({"status": "@alice I will", "visibility": "direct", "in_reply_to_id": group["id"]}),
    )
    .await;
    let mentioned: Vec<&str> = carol_reply["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert!(
        mentioned.contains(&"bob") && mentioned.contains(&"alice"),
        "{carol_reply}"
    );
    let bobs = conversations(&app, bob).await;
    assert_eq!(bobs.len(), 2, "{bobs:?}");
    assert_eq!(
        bobs[0]["last_status"]["id"], carol_reply["id"],
        "latest first"
    );
    assert_eq!(usernames(&bobs[0]), ["alice", "carol"]);

    // Pagination by the last message, with a Link header.
    let page = app.get("/api/v1/conversations?limit=1", Some(bob)).await;
    assert_eq!(page.json().as_array().unwrap().len(), 1);
    let link = page.header("link").expect("Link header").to_string();
    let max_id = carol_reply["id"].as_str().unwrap();
    assert!(link.contains(&format!("max_id={max_id}")), "{link}");
    let older = app
        .get(&format!("/api/v1/conversations?max_id={max_id}"), Some(bob))
        .await
        .json();
    assert_eq!(older.as_array().unwrap().len(), 1);
    assert_eq!(older[0]["last_status"]["id"], answer["id"]);

    // Deleting a conversation hides it until the next message.
    let gone = bobs[1]["id"].as_str().unwrap();
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/conversations/{gone}"),
            Some(bob),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(conversations(&app, bob).await.len(), 1);
    post(
        &app,
        alice,
        json!({"status": "see you there", "visibility": "direct", "in_reply_to_id": answer["id"]}),
    )
    .await;
    assert_eq!(conversations(&app, bob).await.len(), 2);
    // Someone else's conversation, or none, is 404.
    for who in [alice, dave] {
        let r = app
            .post(
                &format!("/api/v1/conversations/{gone}/read"),
                Some(who),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 404);
        let r = app
            .send(
                Method::DELETE,
                &format!("/api/v1/conversations/{gone}"),
                Some(who),
                None,
            )
            .await;
        assert_eq!(r.status, 404);
    }

    // Search: words in one's own messages only; query syntax is taken literally.
    let found = app
        .get(
            "/api/v2/search?q=telescope&type=statuses&in=conversations",
            Some(bob),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    let found = found.json();
    assert_eq!(found["statuses"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["statuses"][0]["id"], group["id"]);
    let both = app
        .get(
            "/api/v2/search?q=heron%20walk&in=conversations",
            Some(alice),
        )
        .await
        .json();
    assert_eq!(both["statuses"][0]["id"], first_id, "{both}");
    for hostile in ["%22telescope%20OR", "NEAR(", "*", "telescope%20AND%20NOT"] {
        let r = app
            .get(
                &format!("/api/v2/search?q={hostile}&in=conversations"),
                Some(bob),
            )
            .await;
        assert_eq!(r.status, 200, "{hostile}: {}", r.text);
    }
    assert_eq!(
        app.get("/api/v2/search?q=telescope&in=conversations", None)
            .await
            .status,
        401
    );
    let bad = app
        .get("/api/v2/search?q=telescope&in=elsewhere", Some(bob))
        .await;
    bad.assert_error(400);

    // Dave, who follows them all, sees none of it.
    for s in [first_id, answer_id, group["id"].as_str().unwrap()] {
        sees_nothing(&app, dave, s, "telescope").await;
    }
    assert!(conversations(&app, dave).await.is_empty());

    // Deleting the latest message falls back to the one before; deleting all removes it.
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{}", carol_reply["id"].as_str().unwrap()),
            Some(carol),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let carols = conversations(&app, carol).await;
    assert_eq!(carols[0]["last_status"]["id"], group["id"]);
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{}", group["id"].as_str().unwrap()),
            Some(alice),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(conversations(&app, carol).await.is_empty());
    let gone = app
        .get("/api/v2/search?q=telescope&in=conversations", Some(bob))
        .await
        .json();
    assert_eq!(
        gone["statuses"],
        json!([]),
        "deleted messages leave the index"
    );

    // An edit is searchable by its new words.
    let first_id = first_id.to_string();
    let r = app
        .put(
            &format!("/api/v1/statuses/{first_id}"),
            Some(alice),
            json!({"status": "@bob are you free for the egret walk?"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let edited = app
        .get("/api/v2/search?q=egret&in=conversations", Some(bob))
        .await
        .json();
    assert_eq!(edited["statuses"][0]["id"], first_id.as_str(), "{edited}");
}

both_backends!(direct_and_group_conversations);

async fn streaming_messages(app: TestApp) {
    let p = people(&app).await;
    let (alice, bob) = (&p.alice.1, &p.bob.1);
    let mut bob_ws = connect(&app, "?stream=direct", Some(bob)).await;
    let mut dave_ws = connect(&app, "?stream=direct", Some(&p.dave.1)).await;
    // Bob's own socket makes him online; nobody shares a conversation with him yet.
    let sent = post(
        &app,
        alice,
        json!({"status": "@bob the owl is back", "visibility": "direct"}),
    )
    .await;
    let msg = next(&mut bob_ws, 5).await.expect("a conversation event");
    assert_eq!(msg["event"], "conversation", "{msg}");
    assert_eq!(msg["stream"], json!(["direct"]));
    let conv = payload(&msg);
    assert_eq!(conv["unread"], true);
    assert_eq!(conv["last_status"]["id"], sent["id"]);
    assert_eq!(usernames(&conv), ["alice"]);
    let bob_conv = conv["id"].as_str().unwrap().to_string();

    // Alice comes online over WebSocket: Bob, who shares a conversation with her, is told.
    let mut alice_ws = connect(&app, "?stream=direct", Some(alice)).await;
    let msg = next(&mut bob_ws, 5).await.expect("a presence event");
    assert_eq!(msg["event"], "rookery.presence", "{msg}");
    assert_eq!(payload(&msg)["online"], true);
    assert_eq!(payload(&msg)["account_id"], p.alice.0.to_string());
    let pres = app
        .get(
            &format!("/api/v1/presence?id[]={}&id[]={}", p.alice.0, p.carol.0),
            Some(bob),
        )
        .await
        .json();
    assert_eq!(pres[0]["online"], true, "{pres}");
    assert_eq!(pres[1]["online"], false);
    // Dave shares nothing with Alice: she never shows as online to him.
    let pres = app
        .get(
            &format!("/api/v1/presence?id[]={}", p.alice.0),
            Some(&p.dave.1),
        )
        .await
        .json();
    assert_eq!(pres[0]["online"], false);

    // Bob types (WebSocket message); Alice sees it against her own conversation ID.
    let alice_conv = conversations(&app, alice).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    use futures_util::SinkExt;
    bob_ws
        .send(tokio_tungstenite::tungstenite::Message::Text(
            json!({"type": "typing", "conversation_id": bob_conv})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let msg = next(&mut alice_ws, 5).await.expect("a typing event");
    assert_eq!(msg["event"], "rookery.typing", "{msg}");
    assert_eq!(payload(&msg)["conversation_id"], alice_conv.as_str());
    assert_eq!(payload(&msg)["account_id"], p.bob.0.to_string());
    // Typing in someone else's conversation is refused on the socket.
    bob_ws
        .send(tokio_tungstenite::tungstenite::Message::Text(
            json!({"type": "typing", "conversation_id": alice_conv})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let err = next(&mut bob_ws, 5).await.expect("an error");
    assert_eq!(err["status"], 404, "{err}");

    // Reading sends Alice a receipt event.
    let r = app
        .post(
            &format!("/api/v1/conversations/{bob_conv}/read"),
            Some(bob),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    let msg = next(&mut alice_ws, 5).await.expect("a receipt event");
    assert_eq!(msg["event"], "rookery.receipt", "{msg}");
    assert_eq!(payload(&msg)["status_id"], sent["id"]);
    assert_eq!(payload(&msg)["state"], "seen");

    // Hidden typing and presence: nothing goes out.
    let prefs = app
        .put(
            "/api/v1/messaging/preferences",
            Some(alice),
            json!({"typing_indicators": false, "presence": false}),
        )
        .await;
    assert_eq!(prefs.status, 200, "{}", prefs.text);
    assert_eq!(
        prefs.json(),
        json!({"typing_indicators": false, "presence": false, "do_not_disturb": false})
    );
    let r = app
        .post(
            &format!("/api/v1/conversations/{alice_conv}/typing"),
            Some(alice),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    let pres = app
        .get(&format!("/api/v1/presence?id[]={}", p.alice.0), Some(bob))
        .await
        .json();
    assert_eq!(pres[0]["online"], false, "hidden presence: {pres}");
    assert!(next(&mut bob_ws, 1).await.is_none(), "nothing about alice");

    // Do-not-disturb: notifications are kept but not streamed.
    let mut bob_user = connect(&app, "?stream=user", Some(bob)).await;
    // Alice is a stranger to Bob: without this her direct mention would wait in a request.
    app.send(
        reqwest::Method::PATCH,
        "/api/v2/notifications/policy",
        Some(bob),
        Some(json!({"for_private_mentions": "accept"})),
    )
    .await;
    let r = app
        .put(
            "/api/v1/messaging/preferences",
            Some(bob),
            json!({"do_not_disturb": true}),
        )
        .await;
    assert_eq!(r.json()["do_not_disturb"], true);
    post(
        &app,
        alice,
        json!({"status": "@bob quiet please", "visibility": "direct"}),
    )
    .await;
    let mut got = Vec::new();
    while let Some(m) = next(&mut bob_user, 1).await {
        got.push(m["event"].as_str().unwrap_or("").to_string());
    }
    assert!(!got.contains(&"notification".to_string()), "{got:?}");
    let n = app.get("/api/v1/notifications", Some(bob)).await.json();
    assert!(
        n.as_array().unwrap().iter().any(|n| n["status"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("quiet please"))),
        "{n}"
    );
    let got = app
        .get("/api/v1/messaging/preferences", Some(bob))
        .await
        .json();
    assert_eq!(got["do_not_disturb"], true);

    // Dave's direct stream heard nothing at all.
    assert!(next(&mut dave_ws, 1).await.is_none());
}

both_backends!(streaming_messages);

/// A direct message as Mastodon sends it (tests/fixtures/activitypub/mastodon/create_direct.json,
/// with the recipient pointed at a local account) lands in that account's conversations; the same
/// message addressed to nobody here is dropped.
async fn mastodon_direct_message_lands(app: TestApp) {
    use activitypub_federation::traits::Object;
    use rookery::service::activitypub::actors::ApAccount;
    let robin = app.create_user("robin").await;
    let robin_token = app.token_for("robin", "read write").await;
    let fed = rookery::service::activitypub::context::build(app.state.clone())
        .await
        .unwrap();
    let data = fed.to_request_data();
    let person: rookery::federation::protocol::actor::Person =
        serde_json::from_str(&fixture("mastodon/person.json")).unwrap();
    ApAccount::from_json(person, &data).await.unwrap();
    let robin_uri = format!("http://{}/users/robin", app.state.config.server.domain);
    let raw = fixture("mastodon/create_direct.json");
    let here: rookery::federation::inbound::InboxActivity =
        serde_json::from_str(&raw.replace("https://nest.example/users/robin", &robin_uri)).unwrap();
    rookery::federation::inbound::receive(here, &data)
        .await
        .unwrap();

    let convs = conversations(&app, &robin_token).await;
    assert_eq!(convs.len(), 1, "{convs:?}");
    assert_eq!(convs[0]["unread"], true);
    assert_eq!(convs[0]["accounts"][0]["acct"], "wren@bird.example");
    let last = &convs[0]["last_status"];
    assert_eq!(last["visibility"], "direct");
    assert_eq!(
        last["uri"],
        "https://bird.example/users/wren/statuses/110000000000000777"
    );
    assert!(
        last["content"]
            .as_str()
            .unwrap()
            .contains("count on Saturday")
    );
    // Wren is a stranger to Robin: the mention waits in a request (the default policy).
    let n = app
        .get(
            "/api/v1/notifications?include_filtered=true",
            Some(&robin_token),
        )
        .await
        .json();
    assert_eq!(n[0]["type"], "mention", "{n}");
    let requests = app
        .get("/api/v1/notifications/requests", Some(&robin_token))
        .await
        .json();
    assert_eq!(
        requests[0]["account"]["acct"], "wren@bird.example",
        "{requests}"
    );
    assert_eq!(requests[0]["last_status"]["id"], last["id"]);
    let found = app
        .get(
            "/api/v2/search?q=saturday&in=conversations",
            Some(&robin_token),
        )
        .await
        .json();
    assert_eq!(found["statuses"].as_array().unwrap().len(), 1, "{found}");
    assert!(robin > 0);

    // The same message for someone elsewhere: not stored at all.
    let elsewhere = raw.replace("110000000000000777", "110000000000000778");
    let away: rookery::federation::inbound::InboxActivity =
        serde_json::from_str(&elsewhere).unwrap();
    rookery::federation::inbound::receive(away, &data)
        .await
        .unwrap();
    let stored = rookery::storage::statuses::find_by_uri_or_url(
        &app.state.db,
        "https://bird.example/users/wren/statuses/110000000000000778",
    )
    .await
    .unwrap();
    assert!(
        stored.is_none(),
        "a direct message for nobody here is dropped"
    );
}

both_backends!(mastodon_direct_message_lands);

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/activitypub/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The conversation of `token`'s user whose last status has this `uri`, polled for 20 s.
async fn conversation_with(
    inst: &crate::federation::Instance,
    token: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    crate::federation::poll_get(inst, token, "/api/v1/conversations", |v| {
        v.as_array().is_some_and(|a| a.iter().any(&check))
    })
    .await
    .and_then(|v| v.as_array().unwrap().iter().find(|c| check(c)).cloned())
    .unwrap_or_else(|| panic!("no such conversation on {}:\n{}", inst.domain, inst.log()))
}

/// The receipt state of `account_acct` for one of `token`'s messages.
async fn receipt_state(inst: &crate::federation::Instance, token: &str, id: &str) -> String {
    let (s, r) = inst
        .get(&format!("/api/v1/statuses/{id}/receipts"), token)
        .await;
    assert_eq!(s, 200, "{r}");
    r[0]["state"].as_str().unwrap_or("").to_string()
}

async fn private_key_of(inst: &crate::federation::Instance, username: &str) -> String {
    // The key pair is made when the account first federates: serving its actor does that.
    let r = inst
        .http
        .get(inst.url(&format!("/users/{username}")))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let config = rookery::config::Config::load(Some(&inst.server.config)).unwrap();
    let db = rookery::storage::Db::connect(&config.database.url, 1)
        .await
        .unwrap();
    let pem: Option<String> = rookery::on_db!(db, c => sqlx::query_scalar(
        "SELECT private_key_pem FROM accounts WHERE username = $1 AND domain IS NULL")
        .bind(username).fetch_one(c).await)
    .unwrap();
    db.close().await;
    pem.unwrap()
}

/// The status code of a GET of `url` signed with `key` as `key_id`.
async fn status_as(url: &str, key_id: &str, key: &str) -> u16 {
    crate::federation::signed_get(url, key_id, key, false)
        .await
        .status()
        .as_u16()
}

async fn instance_key(inst: &crate::federation::Instance) -> String {
    let config = rookery::config::Config::load(Some(&inst.server.config)).unwrap();
    let db = rookery::storage::Db::connect(&config.database.url, 1)
        .await
        .unwrap();
    let (_, private) = rookery::federation::instance_actor::keys(&db)
        .await
        .unwrap();
    db.close().await;
    private
}

/// alice@A and bob@B exchange messages; unread state, `Read` receipts and delivery state
/// (`sent → delivered → seen`) follow on both sides; a group of three spans both instances and a
/// reply from B that names nobody reaches everyone; carol@A and carl@B (and a third server) see
/// none of it through the API, search or any ActivityPub fetch.
#[tokio::test]
async fn messages_travel_between_instances_and_stay_private() {
    use crate::federation::{
        DEV_FEDERATION, FAST_RETRY, Instance, eventually, resolve, signed_get,
    };
    use crate::support::Backend;
    let a = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    let mut b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let dan = a.user("dan").await;
    let carol = a.user("carol").await;
    let bob = b.user("bob").await;
    let carl = b.user("carl").await;
    let bob_acct = format!("bob@{}", b.domain);
    resolve(&a, &alice, &bob_acct).await;

    // Alice writes; Bob finds it in his conversations on B.
    let (s, first) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": format!("@{bob_acct} the swifts are back"), "visibility": "direct"}),
        )
        .await;
    assert_eq!(s, 200, "{first}");
    let first_id = first["id"].as_str().unwrap();
    let first_uri = first["uri"].as_str().unwrap().to_string();
    let bobs = conversation_with(&b, &bob, |c| c["last_status"]["uri"] == first_uri.as_str()).await;
    assert_eq!(bobs["unread"], true);
    assert_eq!(bobs["accounts"][0]["acct"], format!("alice@{}", a.domain));
    let delivered = eventually(20, || async {
        receipt_state(&a, &alice, first_id).await == "delivered"
    })
    .await;
    assert!(delivered, "{}", a.log());

    // Bob reads it: a Read goes to A (Rookery advertises receipts in NodeInfo) and Alice sees it.
    let bob_conv = bobs["id"].as_str().unwrap();
    let (s, read) = b
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{bob_conv}/read"),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{read}");
    assert_eq!(read["unread"], false);
    let seen = eventually(20, || async {
        receipt_state(&a, &alice, first_id).await == "seen"
    })
    .await;
    assert!(seen, "the Read did not reach A\n{}\n{}", a.log(), b.log());

    // Bob answers without naming Alice: it still goes to her, into the same conversation.
    let bob_copy = bobs["last_status"]["id"].as_str().unwrap();
    let (s, answer) = b
        .send(
            Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": "twelve over the church", "visibility": "direct", "in_reply_to_id": bob_copy}),
        )
        .await;
    assert_eq!(s, 200, "{answer}");
    let answer_id = answer["id"].as_str().unwrap();
    let answer_uri = answer["uri"].as_str().unwrap().to_string();
    let alices = conversation_with(&a, &alice, |c| {
        c["last_status"]["uri"] == answer_uri.as_str()
    })
    .await;
    assert_eq!(alices["unread"], true);
    let (_, all) = a.get("/api/v1/conversations", &alice).await;
    assert_eq!(
        all.as_array().unwrap().len(),
        1,
        "replies thread into one conversation: {all}"
    );
    let (_, ctx) = a
        .get(
            &format!(
                "/api/v1/statuses/{}/context",
                alices["last_status"]["id"].as_str().unwrap()
            ),
            &alice,
        )
        .await;
    assert_eq!(ctx["ancestors"][0]["id"], first_id, "{ctx}");
    assert!(
        eventually(20, || async {
            receipt_state(&b, &bob, answer_id).await == "delivered"
        })
        .await,
        "{}",
        b.log()
    );
    let alice_conv = alices["id"].as_str().unwrap();
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{alice_conv}/read"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        eventually(20, || async {
            receipt_state(&b, &bob, answer_id).await == "seen"
        })
        .await,
        "the Read did not reach B\n{}\n{}",
        a.log(),
        b.log()
    );

    // While B is down a message is `sent`; once B is back it becomes `delivered`.
    b.kill();
    let (s, later) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": format!("@{bob_acct} are you there?"), "visibility": "direct"}),
        )
        .await;
    assert_eq!(s, 200);
    let later_id = later["id"].as_str().unwrap();
    assert_eq!(receipt_state(&a, &alice, later_id).await, "sent");
    b.restart().await;
    assert!(
        eventually(30, || async {
            receipt_state(&a, &alice, later_id).await == "delivered"
        })
        .await,
        "{}",
        a.log()
    );

    // A group of three across both instances: Bob's answer, naming nobody, reaches Alice and Dan.
    let (s, group) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": format!("@{bob_acct} @dan count on Saturday?"), "visibility": "direct"}),
        )
        .await;
    assert_eq!(s, 200, "{group}");
    let group_uri = group["uri"].as_str().unwrap().to_string();
    let bob_group =
        conversation_with(&b, &bob, |c| c["last_status"]["uri"] == group_uri.as_str()).await;
    let mut names: Vec<String> = bob_group["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["acct"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [format!("alice@{}", a.domain), format!("dan@{}", a.domain)]
    );
    let (s, group_answer) = b
        .send(
            Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": "I'll bring the scope", "visibility": "direct",
                   "in_reply_to_id": bob_group["last_status"]["id"]}),
        )
        .await;
    assert_eq!(s, 200, "{group_answer}");
    let ga_uri = group_answer["uri"].as_str().unwrap().to_string();
    let dans = conversation_with(&a, &dan, |c| c["last_status"]["uri"] == ga_uri.as_str()).await;
    assert_eq!(dans["unread"], true);
    conversation_with(&a, &alice, |c| c["last_status"]["uri"] == ga_uri.as_str()).await;

    // Carol (A) and Carl (B) see none of it through the API or search.
    for (inst, token) in [(&a, &carol), (&b, &carl)] {
        let (_, convs) = inst.get("/api/v1/conversations", token).await;
        assert_eq!(convs, json!([]));
        for q in ["swifts", "church", "scope"] {
            let (_, found) = inst
                .get(
                    &format!("/api/v2/search?q={q}&type=statuses&in=conversations"),
                    token,
                )
                .await;
            assert_eq!(found["statuses"], json!([]), "{q} on {}", inst.domain);
            let (_, found) = inst
                .get(
                    &format!(
                        "/api/v2/search?q={}&resolve=true",
                        urlencoding::encode(&first_uri)
                    ),
                    token,
                )
                .await;
            assert_eq!(found["statuses"], json!([]), "{found}");
        }
        for path in ["/api/v1/timelines/home", "/api/v1/timelines/public"] {
            let (_, tl) = inst.get(path, token).await;
            let text = tl.to_string();
            assert!(
                !text.contains("swifts") && !text.contains("scope"),
                "{path}: {text}"
            );
        }
    }
    let (s, _) = b.get(&format!("/api/v1/statuses/{bob_copy}"), &carl).await;
    assert_eq!(s, 404, "B's copy is Bob's alone");
    let (s, _) = a.get(&format!("/api/v1/statuses/{first_id}"), &carol).await;
    assert_eq!(s, 404);

    // ActivityPub: unsigned, signed by Carl, signed by a third server: 404. Signed by Bob or by
    // B's instance actor (Bob lives there): the Note.
    let get = |url: String| async move {
        reqwest::Client::new()
            .get(url)
            .header("accept", "application/activity+json")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(get(first_uri.clone()).await, 404);
    assert_eq!(get(format!("{first_uri}/activity")).await, 404);
    let carl_key = private_key_of(&b, "carl").await;
    let carl_id = format!("http://{}/users/carl#main-key", b.domain);
    assert_eq!(status_as(&first_uri, &carl_id, &carl_key).await, 404);
    let c = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let c_key = instance_key(&c).await;
    let c_id = format!("http://{}/actor#main-key", c.domain);
    assert_eq!(status_as(&first_uri, &c_id, &c_key).await, 404);
    let carol_key = private_key_of(&a, "carol").await;
    let carol_id = format!("http://{}/users/carol#main-key", a.domain);
    assert_eq!(status_as(&first_uri, &carol_id, &carol_key).await, 404);
    let bob_key = private_key_of(&b, "bob").await;
    let bob_id = format!("http://{}/users/bob#main-key", b.domain);
    let ok = signed_get(&first_uri, &bob_id, &bob_key, false).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["cache-control"], "private, no-store");
    let note: Value = ok.json().await.unwrap();
    assert_eq!(note["type"], "Note");
    assert!(
        note["to"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t != "https://www.w3.org/ns/activitystreams#Public")
    );
    let b_key = instance_key(&b).await;
    let b_id = format!("http://{}/actor#main-key", b.domain);
    assert_eq!(status_as(&first_uri, &b_id, &b_key).await, 200);
    assert_eq!(
        signed_get(&first_uri, &bob_id, &bob_key, true)
            .await
            .status(),
        401
    );
    // Followers-only: Bob's signature opens it only once he follows Alice; B's server actor only
    // once someone there does; Carl never.
    let (s, private) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": "for my followers", "visibility": "private"}),
        )
        .await;
    assert_eq!(s, 200, "{private}");
    let private_uri = private["uri"].as_str().unwrap().to_string();
    assert_eq!(status_as(&private_uri, &bob_id, &bob_key).await, 404);
    assert_eq!(status_as(&private_uri, &b_id, &b_key).await, 404);
    let alice_on_b = resolve(&b, &bob, &format!("alice@{}", a.domain)).await;
    crate::federation::follow(&b, &bob, &alice_on_b).await;
    assert!(
        crate::federation::wait_following(&b, &bob, &alice_on_b).await,
        "{}",
        b.log()
    );
    assert_eq!(status_as(&private_uri, &bob_id, &bob_key).await, 200);
    assert_eq!(status_as(&private_uri, &b_id, &b_key).await, 200);
    assert_eq!(status_as(&private_uri, &carl_id, &carl_key).await, 404);
    assert_eq!(get(private_uri.clone()).await, 404);

    // Nor do messages show in the outbox.
    let r = reqwest::Client::new()
        .get(a.url("/users/alice/outbox?page=true"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!r.contains("swifts"), "{r}");
}
