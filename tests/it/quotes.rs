//! Quote posts (issue 26, Mastodon 4.5 and FEP-044f): quoting through the client API with each
//! policy, `Quote` and `quote_approval` on statuses and timelines, the list of quotes, revoking,
//! changing a policy, `quote` and `quoted_update` notifications — on both backends; quotes as
//! Mastodon, Misskey, Akkoma and GoToSocial send them; and a quote between two instances,
//! approved by the quoted author's server and then revoked.

use serde_json::{Value, json};

use crate::both_backends;
use crate::federation::{DEV_FEDERATION, Instance, eventually, follow_across, local_id};
use crate::statuses::post;
use crate::support::{Backend, TestApp};

async fn notifications(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
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

/// `token`'s quote of `quoted` is refused with `status`.
async fn refused(app: &TestApp, token: &str, quoted: Value, status: u16) {
    app.post(
        "/api/v1/statuses",
        Some(token),
        json!({"status": "x", "quoted_status_id": quoted}),
    )
    .await
    .assert_error(status);
}

async fn quotes_are_made_listed_and_revoked(app: TestApp) {
    app.create_user("alice").await;
    app.create_user("bob").await;
    app.create_user("carol").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob = app.token_for("bob", "read write follow").await;
    let carol = app.token_for("carol", "read write follow").await;

    let original = post(&app, &alice, json!({"status": "Birds are dinosaurs"})).await;
    let oid = original["id"].as_str().unwrap().to_string();
    assert_eq!(
        original["quote_approval"],
        json!({"automatic": ["public"], "manual": [], "current_user": "automatic"})
    );
    assert_eq!(original["quote"], Value::Null);
    assert_eq!(original["quotes_count"], 0);
    // How it applies to others: bob may quote it, an anonymous reader may not.
    let seen = app
        .get(&format!("/api/v1/statuses/{oid}"), Some(&bob))
        .await
        .json();
    assert_eq!(seen["quote_approval"]["current_user"], "automatic");
    let anon = app
        .get(&format!("/api/v1/statuses/{oid}"), None)
        .await
        .json();
    assert_eq!(anon["quote_approval"]["current_user"], "denied");

    // Bob quotes it: approved at once, alice is told.
    let q = post(
        &app,
        &bob,
        json!({"status": "Indeed", "quoted_status_id": oid}),
    )
    .await;
    assert_eq!(q["quote"]["state"], "accepted", "{q}");
    assert_eq!(q["quote"]["quoted_status"]["id"], oid.as_str());
    assert_eq!(
        q["quote"]["quoted_status"]["quote_approval"]["current_user"],
        "automatic"
    );
    let qid = q["id"].as_str().unwrap().to_string();
    let told = notifications(&app, &alice, "quote").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["status"]["id"], qid.as_str());
    assert_eq!(told[0]["account"]["username"], "bob");
    let counted = app
        .get(&format!("/api/v1/statuses/{oid}"), Some(&alice))
        .await
        .json();
    assert_eq!(counted["quotes_count"], 1);
    // A second quote, deleted: the count (kept per status) goes back down at once.
    let brief = post(
        &app,
        &bob,
        json!({"status": "brief", "quoted_status_id": oid}),
    )
    .await;
    let counted = app
        .get(&format!("/api/v1/statuses/{oid}"), Some(&alice))
        .await
        .json();
    assert_eq!(counted["quotes_count"], 2, "{counted}");
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/statuses/{}", brief["id"].as_str().unwrap()),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let counted = app
        .get(&format!("/api/v1/statuses/{oid}"), Some(&alice))
        .await
        .json();
    assert_eq!(counted["quotes_count"], 1, "{counted}");
    let listed = app
        .get(&format!("/api/v1/statuses/{oid}/quotes"), None)
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], qid.as_str());
    // A quote of a quote shows the inner one shallowly.
    let qq = post(
        &app,
        &carol,
        json!({"status": "Quoting a quote", "quoted_status_id": qid}),
    )
    .await;
    assert_eq!(
        qq["quote"]["quoted_status"]["quote"],
        json!({"state": "accepted", "quoted_status_id": oid})
    );

    // Bad requests.
    let r = app
        .post(
            "/api/v1/statuses",
            Some(&bob),
            json!({"status": "x", "quote_approval_policy": "everyone"}),
        )
        .await;
    r.assert_error(422);
    refused(&app, &bob, json!("999999999999"), 404).await;
    // Nobody may quote a post whose author says nobody; followers only after following.
    let closed = post(
        &app,
        &alice,
        json!({"status": "mine alone", "quote_approval_policy": "nobody"}),
    )
    .await;
    assert_eq!(closed["quote_approval"]["automatic"], json!([]));
    refused(&app, &bob, json!(closed["id"]), 403).await;
    let followers = post(
        &app,
        &alice,
        json!({"status": "friends", "quote_approval_policy": "followers"}),
    )
    .await;
    refused(&app, &carol, json!(followers["id"]), 403).await;
    let alice_id = original["account"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/v1/accounts/{alice_id}/follow"),
        Some(&carol),
        json!({}),
    )
    .await;
    let seen = app
        .get(
            &format!("/api/v1/statuses/{}", followers["id"].as_str().unwrap()),
            Some(&carol),
        )
        .await
        .json();
    assert_eq!(seen["quote_approval"]["current_user"], "automatic");
    post(
        &app,
        &carol,
        json!({"status": "as a follower", "quoted_status_id": followers["id"]}),
    )
    .await;
    // Quotes of private posts are refused; the author may quote their own, privately.
    let private = post(
        &app,
        &alice,
        json!({"status": "followers only", "visibility": "private"}),
    )
    .await;
    assert_eq!(private["quote_approval"]["automatic"], json!([]));
    refused(&app, &carol, json!(private["id"]), 403).await;
    let own = post(
        &app,
        &alice,
        json!({"status": "me again", "quoted_status_id": private["id"], "visibility": "public"}),
    )
    .await;
    assert_eq!(own["visibility"], "private");
    assert_eq!(own["quote"]["state"], "accepted");
    // A private mention quoting someone must mention them.
    let r = app
        .post(
            "/api/v1/statuses",
            Some(&bob),
            json!({"status": "@carol look", "visibility": "direct", "quoted_status_id": oid}),
        )
        .await;
    r.assert_error(422);

    // Bob's home timeline (kept renderings) shows his quote; alice edits: bob is told.
    let home = app.get("/api/v1/timelines/home", Some(&bob)).await.json();
    let mine = home
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == qid.as_str())
        .expect("bob's quote on his home timeline");
    assert_eq!(mine["quote"]["state"], "accepted");
    let r = app
        .put(
            &format!("/api/v1/statuses/{oid}"),
            Some(&alice),
            json!({"status": "Birds are dinosaurs, really"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let edited = notifications(&app, &bob, "quoted_update").await;
    assert_eq!(edited.len(), 1, "{edited:?}");
    assert_eq!(edited[0]["status"]["id"], qid.as_str());

    // Only alice may revoke; then the quote shows revoked everywhere and leaves the list.
    let r = app
        .post(
            &format!("/api/v1/statuses/{oid}/quotes/{qid}/revoke"),
            Some(&bob),
            json!({}),
        )
        .await;
    r.assert_error(404);
    let r = app
        .post(
            &format!("/api/v1/statuses/{oid}/quotes/{qid}/revoke"),
            Some(&alice),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let revoked = r.json();
    assert_eq!(revoked["id"], qid.as_str());
    assert_eq!(
        revoked["quote"],
        json!({"state": "revoked", "quoted_status": null})
    );
    let home = app.get("/api/v1/timelines/home", Some(&bob)).await.json();
    let mine = home
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == qid.as_str())
        .unwrap();
    assert_eq!(mine["quote"]["state"], "revoked");
    let listed = app
        .get(&format!("/api/v1/statuses/{oid}/quotes"), None)
        .await
        .json();
    assert_eq!(listed, json!([]));
    let counted = app
        .get(&format!("/api/v1/statuses/{oid}"), None)
        .await
        .json();
    assert_eq!(counted["quotes_count"], 0);

    // The author changes the policy afterwards.
    let r = app
        .put(
            &format!("/api/v1/statuses/{oid}/interaction_policy"),
            Some(&alice),
            json!({"quote_approval_policy": "nobody"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["quote_approval"]["automatic"], json!([]));
    let r = app
        .put(
            &format!("/api/v1/statuses/{oid}/interaction_policy"),
            Some(&bob),
            json!({"quote_approval_policy": "public"}),
        )
        .await;
    r.assert_error(404);
    refused(&app, &carol, json!(oid), 403).await;

    // The account's default, as Mastodon's `source[quote_policy]`.
    let r = app
        .send(
            reqwest::Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice),
            Some(json!({"source": {"quote_policy": "followers"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["source"]["quote_policy"], "followers");
    let later = post(&app, &alice, json!({"status": "with my default"})).await;
    assert_eq!(later["quote_approval"]["automatic"], json!(["followers"]));
    let prefs = app.get("/api/v1/preferences", Some(&alice)).await.json();
    assert_eq!(prefs["posting:default:quote_policy"], "followers");

    // A deleted quoted post leaves its quotes `deleted` (also where the quote was rendered
    // just before, and kept).
    let before = app.get("/api/v1/timelines/home", Some(&carol)).await.json();
    let carols_quote = before
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["content"]
                .as_str()
                .unwrap_or("")
                .contains("as a follower")
        })
        .expect("carol's quote")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = app
        .get(&format!("/api/v1/statuses/{carols_quote}"), Some(&carol))
        .await
        .json();
    assert_eq!(shown["quote"]["state"], "accepted", "{shown}");
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/statuses/{}", followers["id"].as_str().unwrap()),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let carols = app.get("/api/v1/timelines/home", Some(&carol)).await.json();
    let quoting = carols
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["content"]
                .as_str()
                .unwrap_or("")
                .contains("as a follower")
        })
        .expect("carol's quote");
    assert_eq!(
        quoting["quote"],
        json!({"state": "deleted", "quoted_status": null})
    );
    let shown = app
        .get(&format!("/api/v1/statuses/{carols_quote}"), Some(&carol))
        .await
        .json();
    assert_eq!(
        shown["quote"],
        json!({"state": "deleted", "quoted_status": null}),
        "{shown}"
    );
}
both_backends!(quotes_are_made_listed_and_revoked);

fn fixture(path: &str, uri: &str) -> Value {
    let p = format!(
        "{}/tests/fixtures/activitypub/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    serde_json::from_str(
        &text
            .replace("LOCAL_STATUS_URI", uri)
            .replace("LOCAL_STATUS_URL", uri),
    )
    .unwrap()
}

/// Quotes as Mastodon 4.5, Misskey, Akkoma and GoToSocial send them, each of a local post whose
/// policy approves them: stored as accepted quotes, its author told; their own quote policies
/// read from `interactionPolicy.canQuote` (none: nobody). Mastodon's `QuoteRequest` is answered.
async fn quotes_from_other_servers(app: TestApp) {
    use activitypub_federation::traits::Object;
    use rookery::federation::inbound::InboxActivity;
    use rookery::service::activitypub::actors::ApAccount;
    use rookery::service::statuses::{Arrival, store_remote_note};
    let fed = rookery::service::activitypub::context::build(app.state.clone())
        .await
        .unwrap();
    let data = fed.to_request_data();
    app.create_user("robin").await;
    let robin = app.token_for("robin", "read write").await;
    let local = post(&app, &robin, json!({"status": "dawn chorus"})).await;
    let uri = local["uri"].as_str().unwrap();

    let cases = [
        ("mastodon", json!(["followers"]), json!([])),
        ("misskey", json!([]), json!([])),
        ("akkoma", json!([]), json!([])),
        ("gotosocial", json!(["public"]), json!(["followers"])),
    ];
    for (server, automatic, manual) in cases {
        let person =
            serde_json::from_value(fixture(&format!("{server}/person.json"), uri)).unwrap();
        let actor = ApAccount::from_json(person, &data).await.unwrap().row;
        let InboxActivity::Create(create) =
            serde_json::from_value(fixture(&format!("{server}/create_quote.json"), uri)).unwrap()
        else {
            panic!("{server}: not a Create")
        };
        let row = store_remote_note(&data, &actor, create.object, Arrival::Fetched)
            .await
            .unwrap()
            .row()
            .unwrap();
        let shown = app
            .get(&format!("/api/v1/statuses/{}", row.id), Some(&robin))
            .await
            .json();
        assert_eq!(shown["quote"]["state"], "accepted", "{server}: {shown}");
        assert_eq!(
            shown["quote"]["quoted_status"]["id"], local["id"],
            "{server}"
        );
        assert_eq!(shown["quote_approval"]["automatic"], automatic, "{server}");
        assert_eq!(shown["quote_approval"]["manual"], manual, "{server}");
    }
    let told = notifications(&app, &robin, "quote").await;
    assert_eq!(told.len(), 4, "{told:?}");
    let counted = app
        .get(
            &format!("/api/v1/statuses/{}", local["id"].as_str().unwrap()),
            None,
        )
        .await
        .json();
    assert_eq!(counted["quotes_count"], 4);

    // Mastodon's QuoteRequest for the quote it sent: answered with an Accept carrying our stamp.
    let request: InboxActivity =
        serde_json::from_value(fixture("mastodon/quote_request.json", uri)).unwrap();
    rookery::federation::inbound::receive(request, &data)
        .await
        .unwrap();
    let queued: Vec<String> = rookery::on_db!(&app.state.db, c => sqlx::query_scalar(
        "SELECT payload FROM deliveries WHERE inbox_url LIKE 'https://bird.example/%'")
        .fetch_all(c).await)
    .unwrap();
    let accept = queued
        .iter()
        .map(|p| serde_json::from_str::<Value>(p).unwrap())
        .find(|a| a["type"] == "Accept")
        .unwrap_or_else(|| panic!("no Accept queued: {queued:?}"));
    assert_eq!(
        accept["object"]["id"],
        "https://bird.example/users/wren#quote_requests/9002"
    );
    let stamp = accept["result"].as_str().unwrap();
    assert!(stamp.contains("/quote_authorizations/"), "{accept}");
    // The stamp is served at its URL.
    let path = url::Url::parse(stamp).unwrap().path().to_string();
    let r = app
        .http
        .get(app.url(&path))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["type"], "QuoteAuthorization");
    assert_eq!(doc["interactionTarget"], uri);
    assert_eq!(
        doc["interactingObject"],
        "https://bird.example/users/wren/statuses/115600000000000001"
    );
}
both_backends!(quotes_from_other_servers);

/// Alice on A (SQLite) quotes bob's post on B (PostgreSQL): pending until B's automatic approval
/// arrives, then accepted on both with B's stamp, which A verified; bob is told; when bob revokes,
/// both show it revoked and the stamp is gone.
#[tokio::test]
async fn a_quote_is_approved_and_revoked_across_instances() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    follow_across(&a, &alice, &b, "bob").await;
    let (s, original) = b
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": "Swifts sleep on the wing"}),
        )
        .await;
    assert_eq!(s, 200, "{original}");
    let uri = original["uri"].as_str().unwrap().to_string();
    assert!(
        eventually(20, || async { local_id(&a, &alice, &uri).await.is_some() }).await,
        "bob's post did not reach A\n{}",
        b.log()
    );
    let on_a = local_id(&a, &alice, &uri).await.unwrap();
    let (_, seen) = a.get(&format!("/api/v1/statuses/{on_a}"), &alice).await;
    assert_eq!(
        seen["quote_approval"]["current_user"], "automatic",
        "{seen}"
    );

    let (s, quoting) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": "Imagine that", "quoted_status_id": on_a}),
        )
        .await;
    assert_eq!(s, 200, "{quoting}");
    assert_eq!(quoting["quote"]["state"], "pending");
    let qid = quoting["id"].as_str().unwrap().to_string();
    let quoting_uri = quoting["uri"].as_str().unwrap().to_string();
    let accepted = eventually(30, || async {
        let (_, s) = a.get(&format!("/api/v1/statuses/{qid}"), &alice).await;
        s["quote"]["state"] == "accepted"
    })
    .await;
    assert!(
        accepted,
        "the quote was not approved\nA:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    let (_, s) = a.get(&format!("/api/v1/statuses/{qid}"), &alice).await;
    assert_eq!(s["quote"]["quoted_status"]["id"], on_a.as_str());

    // On B: bob was told, and the quote is listed.
    let bid = original["id"].as_str().unwrap();
    let told = eventually(20, || async {
        let (_, n) = b.get("/api/v1/notifications?types[]=quote", &bob).await;
        n.as_array().is_some_and(|l| l.len() == 1)
    })
    .await;
    assert!(told, "bob was not told\n{}", b.log());
    let (_, listed) = b.get(&format!("/api/v1/statuses/{bid}/quotes"), &bob).await;
    assert_eq!(listed[0]["uri"], quoting_uri.as_str(), "{listed}");
    let on_b = local_id(&b, &bob, &quoting_uri)
        .await
        .expect("alice's quote on B");

    // Bob revokes: B shows it at once, A once the stamp's Delete arrives.
    let (s, revoked) = b
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/statuses/{bid}/quotes/{on_b}/revoke"),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{revoked}");
    assert_eq!(revoked["quote"]["state"], "revoked");
    let gone = eventually(30, || async {
        let (_, s) = a.get(&format!("/api/v1/statuses/{qid}"), &alice).await;
        s["quote"]["state"] == "revoked"
    })
    .await;
    assert!(
        gone,
        "A still shows the quote\nA:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
}
