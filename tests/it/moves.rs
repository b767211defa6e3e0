//! Account migration (issue 27): aliases, `Move` between two real instances both ways, a move
//! between two accounts of one instance, and what a moved account may still do.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::federation::{DEV_FEDERATION, Instance, eventually, resolve};
use crate::support::{Backend, TestApp};

/// Whether `token`'s user follows account `id` on `inst` (`requested` counts when `pending`).
async fn follows(inst: &Instance, token: &str, id: &str) -> bool {
    let (_, r) = inst
        .get(&format!("/api/v1/accounts/relationships?id[]={id}"), token)
        .await;
    r[0]["following"] == true
}

async fn notification_types(inst: &Instance, token: &str) -> Vec<String> {
    let (_, r) = inst.get("/api/v1/notifications?types[]=move", token).await;
    r.as_array()
        .map(|a| {
            a.iter()
                .map(|n| {
                    format!(
                        "{} {}",
                        n["type"].as_str().unwrap_or(""),
                        n["account"]["acct"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn actor(inst: &Instance, user: &str) -> Value {
    inst.http
        .get(inst.url(&format!("/users/{user}")))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `POST /api/v1/migration` on `inst`: moves `token`'s account to `acct`.
async fn start_move(inst: &Instance, token: &str, acct: &str, password: &str) -> (u16, Value) {
    inst.send(
        Method::POST,
        "/api/v1/migration",
        token,
        json!({"acct": acct, "password": password}),
    )
    .await
}

async fn follow(inst: &Instance, token: &str, id: &str, body: Value) {
    let (s, r) = inst
        .send(
            Method::POST,
            &format!("/api/v1/accounts/{id}/follow"),
            token,
            body,
        )
        .await;
    assert_eq!(s, 200, "{r}\n{}", inst.log());
}

#[tokio::test]
async fn move_between_instances_carries_followers_both_ways() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let (a1, a2) = (a.user("ann").await, a.user("art").await);
    let alice2 = b.user("alice2").await;
    let b1 = b.user("ben").await;
    let alice_acct_on_a = a.get("/api/v1/accounts/verify_credentials", &alice).await.1;
    let alice_id = alice_acct_on_a["id"].as_str().unwrap().to_string();

    // Followers of alice@A: two on A (one with notifications on and alice in a list), one on B.
    follow(&a, &a1, &alice_id, json!({"notify": true})).await;
    follow(&a, &a2, &alice_id, json!({})).await;
    let (_, list) = a
        .send(
            Method::POST,
            "/api/v1/lists",
            &a1,
            json!({"title": "Friends"}),
        )
        .await;
    let list_id = list["id"].as_str().unwrap().to_string();
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/lists/{list_id}/accounts"),
            &a1,
            json!({"account_ids": [alice_id]}),
        )
        .await;
    assert_eq!(s, 200);
    let alice_on_b = resolve(&b, &b1, &format!("alice@{}", a.domain)).await;
    follow(&b, &b1, &alice_on_b, json!({})).await;
    assert!(
        eventually(20, || follows(&b, &b1, &alice_on_b)).await,
        "{}",
        a.log()
    );

    // A move to an account that does not list alice is refused; so is a wrong password.
    let target = format!("alice2@{}", b.domain);
    let (s, r) = start_move(&a, &alice, &target, "federation test").await;
    assert_eq!(s, 422, "{r}");
    assert!(r["error"].as_str().unwrap().contains("alias"), "{r}");
    // alice2 lists alice@A as an alias.
    let (s, alias) = b
        .send(
            Method::POST,
            "/api/v1/aliases",
            &alice2,
            json!({"acct": format!("alice@{}", a.domain)}),
        )
        .await;
    assert_eq!(s, 200, "{alias}\n{}", b.log());
    assert_eq!(alias["uri"], format!("http://{}/users/alice", a.domain));
    let actor = actor(&b, "alice2").await;
    assert_eq!(
        actor["alsoKnownAs"],
        json!([format!("http://{}/users/alice", a.domain)]),
        "{actor}"
    );
    let (s, r) = start_move(&a, &alice, &target, "wrong").await;
    assert_eq!(s, 422, "{r}");

    // The move.
    let (s, state) = start_move(&a, &alice, &target, "federation test").await;
    assert_eq!(s, 200, "{state}\n{}", a.log());
    assert_eq!(state["moved_to"]["acct"], target);
    assert!(state["cooldown_until"].is_string(), "{state}");
    let (_, shown) = a.get(&format!("/api/v1/accounts/{alice_id}"), &a1).await;
    assert_eq!(shown["moved"]["acct"], target, "{shown}");
    let actor = self::actor(&a, "alice").await;
    assert_eq!(
        actor["movedTo"],
        format!("http://{}/users/alice2", b.domain)
    );

    // Every follower now follows alice2@B and got a `move` notification.
    let alice2_on_a = resolve(&a, &a1, &target).await;
    for t in [&a1, &a2] {
        assert!(
            eventually(30, || follows(&a, t, &alice2_on_a)).await,
            "A:\n{}\nB:\n{}",
            a.log(),
            b.log()
        );
        assert!(!follows(&a, t, &alice_id).await);
        assert_eq!(
            notification_types(&a, t).await,
            vec!["move alice".to_string()]
        );
    }
    let (_, rel) = a
        .get(
            &format!("/api/v1/accounts/relationships?id[]={alice2_on_a}"),
            &a1,
        )
        .await;
    assert_eq!(rel[0]["notifying"], true, "{rel}");
    let (_, members) = a
        .get(&format!("/api/v1/lists/{list_id}/accounts"), &a1)
        .await;
    assert_eq!(members[0]["acct"], target, "{members}");
    let (_, me2) = b.get("/api/v1/accounts/verify_credentials", &alice2).await;
    let alice2_id = me2["id"].as_str().unwrap().to_string();
    assert!(
        eventually(30, || follows(&b, &b1, &alice2_id)).await,
        "B:\n{}",
        b.log()
    );
    assert!(!follows(&b, &b1, &alice_on_b).await);
    assert_eq!(
        notification_types(&b, &b1).await,
        vec![format!("move alice@{}", a.domain)]
    );
    let (_, old_on_b) = b.get(&format!("/api/v1/accounts/{alice_on_b}"), &b1).await;
    assert_eq!(old_on_b["moved"]["acct"], "alice2", "{old_on_b}");
    assert!(
        eventually(20, || async {
            b.get("/api/v1/accounts/verify_credentials", &alice2)
                .await
                .1["followers_count"]
                == 3
        })
        .await
    );

    // The moved account is read-only; it still reads, and may not move again within 30 days.
    let (s, r) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": "still here?"}),
        )
        .await;
    assert_eq!(s, 403, "{r}");
    let (s, _) = a.get("/api/v1/timelines/home", &alice).await;
    assert_eq!(s, 200);
    let (s, r) = start_move(&a, &alice, &format!("ben@{}", b.domain), "federation test").await;
    assert_eq!(s, 422, "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("moved recently"),
        "{r}"
    );
    // Nobody can follow a moved account.
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/accounts/{alice_id}/follow"),
            &a2,
            json!({}),
        )
        .await;
    assert_eq!(s, 403);

    // The reverse move: alice lifts the redirect on A and lists alice2@B; alice2 moves back.
    let (s, r) = a
        .send(Method::DELETE, "/api/v1/migration", &alice, json!({}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["moved_to"], Value::Null);
    let (s, _) = a
        .send(
            Method::POST,
            "/api/v1/aliases",
            &alice,
            json!({"acct": target}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, r) = start_move(
        &b,
        &alice2,
        &format!("alice@{}", a.domain),
        "federation test",
    )
    .await;
    assert_eq!(s, 200, "{r}\n{}", b.log());
    for t in [&a1, &a2] {
        assert!(
            eventually(30, || follows(&a, t, &alice_id)).await,
            "A:\n{}\nB:\n{}",
            a.log(),
            b.log()
        );
        assert!(!follows(&a, t, &alice2_on_a).await);
    }
    assert!(
        eventually(30, || follows(&b, &b1, &alice_on_b)).await,
        "B:\n{}",
        b.log()
    );
    assert!(!follows(&b, &b1, &alice2_id).await);
    let (_, shown) = b.get(&format!("/api/v1/accounts/{alice2_id}"), &b1).await;
    assert_eq!(
        shown["moved"]["acct"],
        format!("alice@{}", a.domain),
        "{shown}"
    );
    let (_, shown) = a.get(&format!("/api/v1/accounts/{alice2_on_a}"), &a1).await;
    assert_eq!(shown["moved"]["acct"], "alice", "{shown}");
}

/// Waits (10 s at most) until `token`'s relationships with `ids` satisfy `check`.
async fn until_relationships(
    app: &TestApp,
    token: &str,
    ids: &[&str],
    check: impl Fn(&Value) -> bool,
) -> bool {
    let query: Vec<String> = ids.iter().map(|i| format!("id[]={i}")).collect();
    for _ in 0..100 {
        let rel = app
            .get(
                &format!("/api/v1/accounts/relationships?{}", query.join("&")),
                Some(token),
            )
            .await
            .json();
        if check(&rel) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

async fn local_move(app: TestApp) {
    let alice = app.create_user("alice").await.to_string();
    let alice2 = app.create_user("alice2").await.to_string();
    for n in ["carol", "dave", "erin"] {
        app.create_user(n).await;
    }
    let mut tokens = Vec::new();
    for n in ["alice", "alice2", "carol", "dave", "erin"] {
        tokens.push(app.token_for(n, "read write follow").await);
    }
    let [alice_t, alice2_t, carol, dave, erin] = <[String; 5]>::try_from(tokens).unwrap();
    // alice2 is locked: followers carried over by the move it asked for skip the request.
    let r = app
        .send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice2_t),
            Some(json!({"locked": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    for (tok, body) in [(&carol, json!({"reblogs": false})), (&dave, json!({}))] {
        let r = app
            .post(&format!("/api/v1/accounts/{alice}/follow"), Some(tok), body)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // dave keeps a private note about alice: it is copied to alice2.
    let r = app
        .post(
            &format!("/api/v1/accounts/{alice}/note"),
            Some(&dave),
            json!({"comment": "met at the lake"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // erin blocks alice: the block carries over to alice2.
    assert_eq!(
        app.post(
            &format!("/api/v1/accounts/{alice}/block"),
            Some(&erin),
            json!({})
        )
        .await
        .status,
        200
    );

    // Aliases: validation.
    for (acct, status) in [("", 422), ("nobody", 422), ("alice2", 422)] {
        let r = app
            .post("/api/v1/aliases", Some(&alice2_t), json!({"acct": acct}))
            .await;
        assert_eq!(r.status, status, "{acct}: {}", r.text);
    }
    let r = app
        .post("/api/v1/aliases", Some(&alice2_t), json!({"acct": "alice"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let alias_id = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/api/v1/aliases",
            Some(&alice2_t),
            json!({"acct": "@alice"}),
        )
        .await;
    assert_eq!(
        r.json()["id"],
        alias_id.as_str(),
        "adding an alias twice keeps one"
    );
    assert_eq!(
        app.get("/api/v1/aliases", Some(&alice2_t))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Someone else's alias is not theirs to delete.
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("/api/v1/aliases/{alias_id}"),
            Some(&carol),
            None
        )
        .await
        .status,
        404
    );

    let r = app
        .post(
            "/api/v1/migration",
            Some(&alice_t),
            json!({"acct": "alice2", "password": "password-alice"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        until_relationships(&app, &carol, &[&alice2], |r| r[0]["following"] == true
            && r[0]["showing_reblogs"] == false)
        .await,
        "carol was not carried over with her reblogs setting"
    );
    assert!(
        until_relationships(&app, &dave, &[&alice2, &alice], |r| r[0]["following"]
            == true
            && r[1]["following"] == false)
        .await
    );
    assert!(
        until_relationships(&app, &erin, &[&alice2], |r| r[0]["blocking"] == true).await,
        "erin's block was not carried over"
    );
    assert!(
        until_relationships(&app, &dave, &[&alice2], |r| r[0]["note"]
            == "Moved from @alice:\nmet at the lake")
        .await,
        "dave's note was not copied"
    );
    let me2 = app
        .get("/api/v1/accounts/verify_credentials", Some(&alice2_t))
        .await
        .json();
    assert_eq!(me2["followers_count"], 2, "{me2}");
    let shown = app
        .get(&format!("/api/v1/accounts/{alice}"), None)
        .await
        .json();
    assert_eq!(shown["moved"]["id"], alice2.as_str(), "{shown}");
    assert_eq!(shown["moved"]["username"], "alice2");
    // The profile page says where the account went.
    let page = app.get("/@alice", None).await;
    assert!(
        page.text
            .contains("has moved to <a href=\"/@alice2\">@alice2</a>"),
        "{}",
        page.text
    );
    let n = app.get("/api/v1/notifications", Some(&dave)).await.json();
    assert_eq!(n[0]["type"], "move", "{n}");
    assert_eq!(n[0]["account"]["moved"]["id"], alice2.as_str());
    // The web app's notifications say where she went.
    let mut browser = crate::support::forms::FormClient::new();
    let page = browser.get(&app.url("/auth/sign_in")).await;
    let mut form = crate::support::forms::hidden_inputs(&page.text);
    use crate::support::forms::set;
    set(&mut form, "username", "dave");
    set(&mut form, "password", "password-dave");
    set(&mut form, "next", "/notifications");
    let r = browser.post_form(&app.url("/auth/sign_in"), &form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = browser.get(&app.url("/notifications")).await;
    assert!(
        page.text
            .contains("moved their account to <a href=\"/@alice2\">@alice2</a>"),
        "{}",
        page.text
    );
    // No follow request waits on alice2: the followers came in directly.
    assert_eq!(
        app.get("/api/v1/follow_requests", Some(&alice2_t))
            .await
            .json(),
        json!([])
    );

    // Read-only; the settings of the move itself stay usable.
    for (path, body) in [
        ("/api/v1/statuses", json!({"status": "hi"})),
        ("/api/v1/lists", json!({"title": "x"})),
    ] {
        let r = app.post(path, Some(&alice_t), body).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
        assert!(r.json()["error"].as_str().unwrap().contains("moved"));
    }
    let st = app.get("/api/v1/migration", Some(&alice_t)).await.json();
    assert_eq!(st["moved_to"]["id"], alice2.as_str());
    assert_eq!(
        st["migrations"][0]["acct"],
        format!("alice2@{}", app.state.config.server.domain)
    );
    assert_eq!(st["migrations"][0]["followers_count"], 2);
    let r = app
        .send(Method::DELETE, "/api/v1/migration", Some(&alice_t), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        app.post(
            "/api/v1/statuses",
            Some(&alice_t),
            json!({"status": "back"})
        )
        .await
        .status,
        200
    );
    let shown = app
        .get(&format!("/api/v1/accounts/{alice}"), None)
        .await
        .json();
    assert!(shown.get("moved").is_none(), "{shown}");
    // Undoing twice, or moving within the cooldown, is refused.
    app.send(Method::DELETE, "/api/v1/migration", Some(&alice_t), None)
        .await
        .assert_error(422);
    app.post(
        "/api/v1/migration",
        Some(&alice_t),
        json!({"acct": "alice2", "password": "password-alice"}),
    )
    .await
    .assert_error(422);
}

both_backends!(local_move);

/// The inbox's checks of a `Move`, with a stored remote actor: a target that does not list the
/// actor, and a `Move` of someone else, are refused and change nothing; a target listing it
/// (a local account with the actor as alias) takes its local followers.
async fn inbound_move_checks(app: TestApp) {
    use rookery::federation::inbound::{InboxActivity, receive};
    let (data, remote) = crate::activitypub::snac_account(&app).await;
    let alice = app.create_user("alice").await;
    app.create_user("fan").await;
    let fan = app.token_for("fan", "read write follow").await;
    crate::activitypub::follow_remote(&app, &fan, remote.id).await;
    let alice_uri = format!("http://{}/users/alice", app.state.config.server.domain);
    let moving = |n: u32, object: &str| -> InboxActivity {
        serde_json::from_value(json!({
            "id": format!("{}#moves/{n}", remote.uri), "type": "Move",
            "actor": remote.uri, "object": object, "target": alice_uri,
        }))
        .unwrap()
    };
    let err = receive(moving(1, &remote.uri), &data).await.unwrap_err();
    assert!(err.to_string().contains("alsoKnownAs"), "{err}");
    let err = receive(moving(2, &alice_uri), &data).await.unwrap_err();
    assert!(err.to_string().contains("another actor"), "{err}");
    let shown = app
        .get(&format!("/api/v1/accounts/{}", remote.id), None)
        .await
        .json();
    assert!(shown.get("moved").is_none(), "{shown}");

    rookery::storage::account_moves::insert_alias(
        &app.state.db,
        &rookery::storage::account_moves::AliasRow {
            id: rookery::storage::ids::new_id(),
            account_id: alice,
            acct: remote.username.clone(),
            uri: remote.uri.clone(),
            created_at: chrono::Utc::now(),
        },
    )
    .await
    .unwrap();
    receive(moving(3, &remote.uri), &data).await.unwrap();
    let shown = app
        .get(&format!("/api/v1/accounts/{}", remote.id), None)
        .await
        .json();
    assert_eq!(shown["moved"]["id"], alice.to_string(), "{shown}");
    let remote_id = remote.id.to_string();
    assert!(
        until_relationships(
            &app,
            &fan,
            &[&alice.to_string(), &remote_id],
            |r| r[0]["following"] == true && r[1]["following"] == false
        )
        .await,
        "the follower was not carried over"
    );
}

both_backends!(inbound_move_checks);
