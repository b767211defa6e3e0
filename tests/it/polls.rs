//! Polls and scheduled statuses through the client API (issue 26): posting, voting, the `Poll`
//! entity on statuses and timelines, edits, the end and its notifications; scheduling, moving,
//! cancelling and publishing a status — on both backends — and a poll between two instances.

use serde_json::{Value, json};

use crate::both_backends;
use crate::federation::{DEV_FEDERATION, Instance, eventually, follow_across, local_id};
use crate::support::{Backend, TestApp};

/// Makes a poll end now: its end and its `poll_end` job are moved into the past.
pub async fn end_poll(db: &rookery::storage::Db, poll_id: &str) {
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let id: i64 = poll_id.parse().unwrap();
    rookery::on_db!(db, c => sqlx::query("UPDATE polls SET expires_at = $1 WHERE id = $2")
        .bind(past).bind(id).execute(c).await.map(|_| ()))
    .unwrap();
    due_now(db, "poll_end").await;
}

/// Makes every queued job of `kind` due.
pub async fn due_now(db: &rookery::storage::Db, kind: &str) {
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    rookery::on_db!(db, c => sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = $2")
        .bind(past).bind(kind).execute(c).await.map(|_| ()))
    .unwrap();
}

fn tallies(poll: &Value) -> Vec<i64> {
    poll["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["votes_count"].as_i64().unwrap_or(-1))
        .collect()
}

async fn polls_are_posted_voted_and_ended(app: TestApp) {
    app.create_user("alice").await;
    app.create_user("bob").await;
    app.create_user("carol").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob = app.token_for("bob", "read write follow").await;
    let carol = app.token_for("carol", "read write follow").await;

    // Bad polls are refused with Mastodon's error shape.
    for bad in [
        json!({"options": ["only one"], "expires_in": 600}),
        json!({"options": ["a", "b", "c", "d", "e"], "expires_in": 600}),
        json!({"options": ["a", "A"], "expires_in": 600}),
        json!({"options": ["a", ""], "expires_in": 600}),
        json!({"options": ["a", "x".repeat(51)], "expires_in": 600}),
        json!({"options": ["a", "b"], "expires_in": 10}),
        json!({"options": ["a", "b"], "expires_in": 99_999_999}),
        json!({"options": ["a", "b"]}),
    ] {
        let r = app
            .post(
                "/api/v1/statuses",
                Some(&alice),
                json!({"status": "q", "poll": bad}),
            )
            .await;
        let e = r.assert_error(422);
        assert!(e["error"].as_str().unwrap().contains("Poll"), "{e}");
    }

    // A poll posted form-encoded, as most apps send it.
    let r = app
        .send_form(
            reqwest::Method::POST,
            "/api/v1/statuses",
            Some(&alice),
            &[
                ("status", "Tea or coffee?"),
                ("poll[options][]", "Tea"),
                ("poll[options][]", "Coffee"),
                ("poll[options][]", "Neither"),
                ("poll[expires_in]", "3600"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let status = r.json();
    let poll = &status["poll"];
    assert_eq!(poll["multiple"], false);
    assert_eq!(poll["expired"], false);
    assert_eq!(poll["votes_count"], 0);
    assert_eq!(poll["voters_count"], 0);
    assert_eq!(poll["voted"], true, "the author counts as having voted");
    assert_eq!(poll["own_votes"], json!([]));
    assert_eq!(tallies(poll), vec![0, 0, 0]);
    assert_eq!(poll["options"][1]["title"], "Coffee");
    let expires: chrono::DateTime<chrono::Utc> =
        poll["expires_at"].as_str().unwrap().parse().unwrap();
    let lead = expires - chrono::Utc::now();
    assert!(lead > chrono::Duration::minutes(59) && lead <= chrono::Duration::minutes(60));
    let poll_id = poll["id"].as_str().unwrap().to_string();
    let status_id = status["id"].as_str().unwrap().to_string();

    // Anonymous readers get no viewer fields.
    let anon = app
        .get(&format!("/api/v1/polls/{poll_id}"), None)
        .await
        .json();
    assert!(
        anon.get("voted").is_none() && anon.get("own_votes").is_none(),
        "{anon}"
    );

    // Votes: checked, counted once, shown with the voter's own choices.
    let vote = |token: String, choices: Value| {
        let app = &app;
        let poll_id = poll_id.clone();
        async move {
            app.post(
                &format!("/api/v1/polls/{poll_id}/votes"),
                Some(&token),
                json!({ "choices": choices }),
            )
            .await
        }
    };
    vote(bob.clone(), json!([0, 1])).await.assert_error(422);
    vote(bob.clone(), json!([3])).await.assert_error(422);
    vote(bob.clone(), json!(["x"])).await.assert_error(422);
    vote(bob.clone(), json!([])).await.assert_error(422);
    let r = vote(bob.clone(), json!([1])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = r.json();
    assert_eq!(after["voted"], true);
    assert_eq!(after["own_votes"], json!([1]));
    assert_eq!(tallies(&after), vec![0, 1, 0]);
    assert_eq!(after["voters_count"], 1);
    let again = vote(bob.clone(), json!([0])).await.assert_error(422);
    assert!(
        again["error"].as_str().unwrap().contains("already voted"),
        "{again}"
    );
    let r = vote(carol.clone(), json!(["1"])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.post(
        "/api/v1/polls/123/votes",
        Some(&bob),
        json!({"choices": [0]}),
    )
    .await
    .assert_error(404);

    // Timelines (served from kept JSON) show current counts and each viewer's own votes.
    let r = app
        .post(
            &format!(
                "/api/v1/accounts/{}/follow",
                status["account"]["id"].as_str().unwrap()
            ),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    let public = app
        .get("/api/v1/timelines/public?local=true", None)
        .await
        .json();
    let shown = public
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == status_id.as_str())
        .expect("the poll on the local timeline");
    assert_eq!(tallies(&shown["poll"]), vec![0, 2, 0]);
    assert!(shown["poll"].get("own_votes").is_none());
    let mine = app
        .get("/api/v1/timelines/public?local=true", Some(&bob))
        .await
        .json();
    let shown = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == status_id.as_str())
        .unwrap();
    assert_eq!(shown["poll"]["own_votes"], json!([1]), "{shown}");
    let theirs = app
        .get("/api/v1/timelines/public?local=true", Some(&alice))
        .await
        .json();
    assert_eq!(theirs[0]["poll"]["own_votes"], json!([]));

    // Hidden totals: nobody but the author sees counts until the end.
    let hidden = crate::statuses::post(
        &app,
        &alice,
        json!({"status": "secret ballot", "poll": {"options": ["x", "y"], "expires_in": 600, "hide_totals": true, "multiple": true}}),
    )
    .await;
    let hidden_id = hidden["poll"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/polls/{hidden_id}/votes"),
            Some(&bob),
            json!({"choices": [0, 1]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.json()["options"][0]["votes_count"].is_null(),
        "{}",
        r.text
    );
    assert_eq!(r.json()["votes_count"], 2);
    let own = app
        .get(&format!("/api/v1/polls/{hidden_id}"), Some(&alice))
        .await
        .json();
    assert_eq!(tallies(&own), vec![1, 1]);

    // Editing the options resets the votes; keeping them keeps the votes.
    let edit = |options: Value| {
        let app = &app;
        let alice = alice.clone();
        let status_id = status_id.clone();
        async move {
            app.put(
                &format!("/api/v1/statuses/{status_id}"),
                Some(&alice),
                json!({"status": "Tea or coffee?", "poll": {"options": options, "expires_in": 3600}}),
            )
            .await
        }
    };
    let kept = edit(json!(["Tea", "Coffee", "Neither"])).await;
    assert_eq!(kept.status, 200, "{}", kept.text);
    assert_eq!(tallies(&kept.json()["poll"]), vec![0, 2, 0]);
    assert_eq!(
        kept.json()["poll"]["expires_at"],
        poll["expires_at"],
        "the same options keep the end"
    );
    let changed = edit(json!(["Tea", "Coffee", "Water"])).await;
    assert_eq!(tallies(&changed.json()["poll"]), vec![0, 0, 0]);
    let bob_sees = app
        .get(&format!("/api/v1/polls/{poll_id}"), Some(&bob))
        .await
        .json();
    assert_eq!(bob_sees["voted"], false, "{bob_sees}");
    assert_eq!(bob_sees["options"][2]["title"], "Water");
    assert_eq!(vote(bob.clone(), json!([2])).await.status, 200);

    // The end: voters and the author are notified once; voting is closed.
    end_poll(&app.state.db, &poll_id).await;
    let notified = eventually(20, || async {
        let n = app
            .get("/api/v1/notifications?types[]=poll", Some(&bob))
            .await
            .json();
        n.as_array().is_some_and(|l| !l.is_empty())
    })
    .await;
    assert!(notified, "the voter was not notified of the end");
    let n = app
        .get("/api/v1/notifications?types[]=poll", Some(&alice))
        .await
        .json();
    assert_eq!(n.as_array().unwrap().len(), 1, "{n}");
    assert_eq!(n[0]["status"]["id"], status_id.as_str());
    assert_eq!(n[0]["status"]["poll"]["expired"], true);
    let carol_n = app
        .get("/api/v1/notifications?types[]=poll", Some(&carol))
        .await
        .json();
    assert_eq!(
        carol_n.as_array().unwrap().len(),
        0,
        "carol's vote was reset: {carol_n}"
    );
    let late = vote(carol.clone(), json!([0])).await.assert_error(422);
    assert!(late["error"].as_str().unwrap().contains("ended"), "{late}");

    // Media and a poll together are refused.
    let media = crate::media::upload(
        &app,
        &alice,
        "/api/v2/media",
        "photo.png",
        "image/png",
        crate::media::fixture("photo.png"),
        &[],
    )
    .await
    .json();
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "q", "media_ids": [media["id"]], "poll": {"options": ["a", "b"], "expires_in": 600}}),
    )
    .await
    .assert_error(422);
    // Nor by an edit that adds a poll to a post that keeps its media.
    let pictured = crate::statuses::post(
        &app,
        &alice,
        json!({"status": "a photo", "media_ids": [media["id"]]}),
    )
    .await;
    app.put(
        &format!("/api/v1/statuses/{}", pictured["id"].as_str().unwrap()),
        Some(&alice),
        json!({"status": "a photo", "poll": {"options": ["a", "b"], "expires_in": 600}}),
    )
    .await
    .assert_error(422);
}

both_backends!(polls_are_posted_voted_and_ended);

async fn statuses_are_scheduled_and_published(app: TestApp) {
    app.create_user("alice").await;
    let alice = app.token_for("alice", "read write follow").await;
    let in_ = |d: chrono::Duration| (chrono::Utc::now() + d).to_rfc3339();

    for bad in [in_(chrono::Duration::minutes(1)), "tomorrow".into()] {
        app.post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "soon", "scheduled_at": bad}),
        )
        .await
        .assert_error(422);
    }
    let media = crate::media::upload(
        &app,
        &alice,
        "/api/v2/media",
        "photo.png",
        "image/png",
        crate::media::fixture("photo.png"),
        &[],
    )
    .await
    .json();
    let r = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "good morning", "visibility": "unlisted", "media_ids": [media["id"]],
                   "scheduled_at": in_(chrono::Duration::hours(3))}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let scheduled = r.json();
    let id = scheduled["id"].as_str().unwrap().to_string();
    assert_eq!(scheduled["params"]["text"], "good morning");
    assert_eq!(scheduled["params"]["visibility"], "unlisted");
    assert_eq!(scheduled["media_attachments"][0]["id"], media["id"]);
    assert!(
        scheduled.get("uri").is_none(),
        "a ScheduledStatus, not a Status"
    );
    let poll = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "vote later", "poll": {"options": ["a", "b"], "expires_in": 600},
                   "scheduled_at": in_(chrono::Duration::hours(4))}),
        )
        .await
        .json();
    assert_eq!(poll["params"]["poll"]["options"], json!(["a", "b"]));

    let list = app
        .get("/api/v1/scheduled_statuses", Some(&alice))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let moved = app
        .put(
            &format!("/api/v1/scheduled_statuses/{id}"),
            Some(&alice),
            json!({"scheduled_at": in_(chrono::Duration::hours(5))}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    app.put(
        &format!("/api/v1/scheduled_statuses/{id}"),
        Some(&alice),
        json!({"scheduled_at": in_(chrono::Duration::seconds(30))}),
    )
    .await
    .assert_error(422);
    let poll_id = poll["id"].as_str().unwrap();
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/scheduled_statuses/{poll_id}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(
        &format!("/api/v1/scheduled_statuses/{poll_id}"),
        Some(&alice),
    )
    .await
    .assert_error(404);

    // Nothing is posted before its time; at its time it is, with its media, once.
    async fn count(app: &TestApp, token: &str) -> i64 {
        app.get("/api/v1/accounts/verify_credentials", Some(token))
            .await
            .json()["statuses_count"]
            .as_i64()
            .unwrap()
    }
    assert_eq!(count(&app, &alice).await, 0);
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    rookery::on_db!(app.state.db, c => sqlx::query("UPDATE scheduled_statuses SET scheduled_at = $1 WHERE id = $2")
        .bind(past).bind(id.parse::<i64>().unwrap()).execute(c).await.map(|_| ()))
    .unwrap();
    due_now(&app.state.db, "scheduled_status").await;
    assert!(
        eventually(20, || async { count(&app, &alice).await == 1 }).await,
        "not published"
    );
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&alice))
        .await
        .json();
    let posted = app
        .get(
            &format!("/api/v1/accounts/{}/statuses", me["id"].as_str().unwrap()),
            Some(&alice),
        )
        .await
        .json();
    assert_eq!(posted[0]["content"], "<p>good morning</p>");
    assert_eq!(posted[0]["visibility"], "unlisted");
    assert_eq!(posted[0]["media_attachments"][0]["id"], media["id"]);
    let left = app
        .get("/api/v1/scheduled_statuses", Some(&alice))
        .await
        .json();
    assert_eq!(left, json!([]));
    // A second run of the same job (a crash after posting) posts nothing more.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(count(&app, &alice).await, 1);
}

both_backends!(statuses_are_scheduled_and_published);

/// A poll on A (SQLite) gets votes from B (PostgreSQL); B sees new counts when A's batched
/// `Update(Question)` arrives, and the final ones when the poll ends.
#[tokio::test]
async fn a_poll_is_voted_on_across_instances() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let carol = a.user("carol").await;
    let bob = b.user("bob").await;
    follow_across(&b, &bob, &a, "alice").await;
    let (s, status) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": "Mountains or sea?", "poll": {"options": ["Mountains", "Sea"], "expires_in": 3600, "multiple": true}}),
        )
        .await;
    assert_eq!(s, 200, "{status}");
    let uri = status["uri"].as_str().unwrap().to_string();
    let poll_on_a = status["poll"]["id"].as_str().unwrap().to_string();

    // B has it as a poll.
    assert!(
        eventually(20, || async { local_id(&b, &bob, &uri).await.is_some() }).await,
        "the poll did not reach B\n{}",
        a.log()
    );
    let on_b = local_id(&b, &bob, &uri).await.unwrap();
    let (_, seen) = b.get(&format!("/api/v1/statuses/{on_b}"), &bob).await;
    let poll_on_b = seen["poll"]["id"]
        .as_str()
        .expect("a poll on B")
        .to_string();
    assert_eq!(seen["poll"]["multiple"], true);
    assert_eq!(seen["poll"]["options"][1]["title"], "Sea");

    // Bob votes on B: counted on A once.
    let (s, voted) = b
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/polls/{poll_on_b}/votes"),
            &bob,
            json!({"choices": [0, 1]}),
        )
        .await;
    assert_eq!(s, 200, "{voted}");
    assert_eq!(voted["own_votes"], json!([0, 1]));
    let counted = eventually(20, || async {
        let (_, p) = a.get(&format!("/api/v1/polls/{poll_on_a}"), &alice).await;
        p["votes_count"] == 2 && p["voters_count"] == 1
    })
    .await;
    assert!(
        counted,
        "B's vote was not counted on A\n{}\n{}",
        a.log(),
        b.log()
    );

    // Carol votes on A; A's batched update brings B both voters.
    let (s, _) = a
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/polls/{poll_on_a}/votes"),
            &carol,
            json!({"choices": [1]}),
        )
        .await;
    assert_eq!(s, 200);
    let a_db = {
        let config = rookery::config::Config::load(Some(&a.server.config)).unwrap();
        rookery::storage::Db::connect(&config.database.url, 1)
            .await
            .unwrap()
    };
    due_now(&a_db, "poll_update").await;
    let updated = eventually(20, || async {
        let (_, p) = b.get(&format!("/api/v1/polls/{poll_on_b}"), &bob).await;
        p["voters_count"] == 2 && tallies(&p) == vec![1, 2]
    })
    .await;
    assert!(updated, "B did not get the new counts\n{}", a.log());

    // The end: B's voter is told, and B shows the poll ended with the final counts.
    end_poll(&a_db, &poll_on_a).await;
    let ended = eventually(20, || async {
        let (_, p) = b.get(&format!("/api/v1/polls/{poll_on_b}"), &bob).await;
        p["expired"] == true && tallies(&p) == vec![1, 2]
    })
    .await;
    assert!(ended, "B does not show the end\n{}", a.log());
    let b_db = {
        let config = rookery::config::Config::load(Some(&b.server.config)).unwrap();
        rookery::storage::Db::connect(&config.database.url, 1)
            .await
            .unwrap()
    };
    due_now(&b_db, "poll_end").await;
    let told = eventually(20, || async {
        let (_, n) = b.get("/api/v1/notifications?types[]=poll", &bob).await;
        n.as_array().is_some_and(|l| l.len() == 1)
    })
    .await;
    assert!(told, "bob was not notified of the end on B\n{}", b.log());
    let (s, _) = b
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/polls/{poll_on_b}/votes"),
            &bob,
            json!({"choices": [0]}),
        )
        .await;
    assert_eq!(s, 422);
}

fn fixture(path: &str) -> Value {
    let p = format!(
        "{}/tests/fixtures/activitypub/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .unwrap()
}

/// Polls and votes as Mastodon 4.5, Misskey, Akkoma and GoToSocial send them: each `Question` is
/// stored as a poll with its options, counts and end; each vote counts in a local poll; an
/// `Update(Question)` with new counts changes the counts without making an edit.
async fn polls_from_other_servers(app: TestApp) {
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
    let local = crate::statuses::post(
        &app,
        &robin,
        json!({"status": "first song?", "poll": {"options": ["Robin", "Blackbird"], "expires_in": 3600, "multiple": true}}),
    )
    .await;
    let local_poll = local["poll"]["id"].as_str().unwrap().to_string();

    let cases = [
        ("mastodon", false, vec![4, 2, 1], Some(7)),
        ("misskey", true, vec![3, 5, 0], None),
        ("akkoma", false, vec![6, 2], None),
        ("gotosocial", false, vec![1, 0], Some(1)),
    ];
    for (i, (server, multiple, counts, voters)) in cases.into_iter().enumerate() {
        let person = serde_json::from_value(fixture(&format!("{server}/person.json"))).unwrap();
        let actor = ApAccount::from_json(person, &data).await.unwrap().row;
        let InboxActivity::Create(create) =
            serde_json::from_value(fixture(&format!("{server}/create_question.json"))).unwrap()
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
        let poll = &shown["poll"];
        assert_eq!(poll["multiple"], multiple, "{server}: {poll}");
        assert_eq!(tallies(poll), counts, "{server}: {poll}");
        assert_eq!(poll["voters_count"], json!(voters), "{server}: {poll}");
        assert_eq!(poll["expired"], false, "{server}: {poll}");
        assert!(
            poll["expires_at"]
                .as_str()
                .unwrap()
                .starts_with("2099-12-0"),
            "{server}: {poll}"
        );

        // Their vote in Robin's poll counts, once.
        let InboxActivity::Create(vote) =
            serde_json::from_value(fixture(&format!("{server}/vote.json"))).unwrap()
        else {
            panic!("{server}: the vote is not a Create")
        };
        let mut note = vote.object;
        assert_eq!(note.name.as_deref(), Some("Blackbird"), "{server}");
        note.in_reply_to = Some(local["uri"].as_str().unwrap().parse().unwrap());
        assert!(
            rookery::service::polls::receive_vote(&app.state, &actor, &note)
                .await
                .unwrap()
        );
        assert!(
            rookery::service::polls::receive_vote(&app.state, &actor, &note)
                .await
                .unwrap()
        );
        let p = app
            .get(&format!("/api/v1/polls/{local_poll}"), Some(&robin))
            .await
            .json();
        assert_eq!(tallies(&p), vec![0, i as i64 + 1], "{server}: {p}");
        assert_eq!(p["voters_count"], i as i64 + 1, "{server}: {p}");
    }

    // Robin votes in Mastodon's poll, which then ends: its update at the end brings the final
    // counts, closes it, makes no edit in the history, and Robin hears of the end once, also
    // when another closing update moves the end again.
    let row = rookery::storage::statuses::find_by_uri_or_url(
        &app.state.db,
        "https://bird.example/users/wren/statuses/110000000000000077",
    )
    .await
    .unwrap()
    .unwrap();
    let r = app
        .post(
            &format!("/api/v1/polls/{}/votes", row.poll_id.unwrap()),
            Some(&robin),
            json!({"choices": [0]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let person = serde_json::from_value(fixture("mastodon/person.json")).unwrap();
    let actor = ApAccount::from_json(person, &data).await.unwrap().row;
    let closing = |end: &str| {
        let mut doc = fixture("mastodon/update_question.json");
        doc["object"]["endTime"] = json!(end);
        doc["object"]["closed"] = json!(end);
        let InboxActivity::Update(update) = serde_json::from_value(doc).unwrap() else {
            panic!("not an Update")
        };
        serde_json::from_value(update.object).unwrap()
    };
    let ended_notes = || async {
        app.get("/api/v1/notifications?types[]=poll", Some(&robin))
            .await
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    rookery::service::statuses::receive_update_note(&data, &actor, closing("2026-12-02T10:00:00Z"))
        .await
        .unwrap();
    assert!(
        crate::federation::eventually(10, || async { ended_notes().await == 1 }).await,
        "the voter was not told of the end"
    );
    rookery::service::statuses::receive_update_note(&data, &actor, closing("2026-12-02T10:00:07Z"))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(ended_notes().await, 1, "the end was announced twice");
    let shown = app
        .get(&format!("/api/v1/statuses/{}", row.id), Some(&robin))
        .await
        .json();
    assert_eq!(tallies(&shown["poll"]), vec![5, 3, 1], "{shown}");
    assert_eq!(shown["poll"]["voters_count"], 9);
    assert_eq!(shown["poll"]["expired"], true);
    assert!(
        shown["edited_at"].is_null(),
        "new counts are not an edit: {shown}"
    );
}

both_backends!(polls_from_other_servers);
