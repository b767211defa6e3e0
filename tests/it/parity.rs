//! Mastodon 4.5 parity (issue 26): the smaller endpoints apps call — several statuses or accounts
//! by ID, familiar followers, the instance's languages and extended description — and the
//! language check of posts.

use serde_json::json;

use crate::both_backends;
use crate::support::TestApp;

async fn lookups_by_id(app: TestApp) {
    let alice_id = app.create_user("alice").await;
    let bob_id = app.create_user("bob").await;
    let carol_id = app.create_user("carol").await;
    let dave_id = app.create_user("dave").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob = app.token_for("bob", "read write follow").await;
    let carol = app.token_for("carol", "read write follow").await;

    // Statuses: in the order asked; private ones only for those who may see them.
    let public = app
        .post("/api/v1/statuses", Some(&alice), json!({"status": "hello"}))
        .await
        .json();
    let private = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "followers only", "visibility": "private"}),
        )
        .await
        .json();
    let (p, q) = (
        public["id"].as_str().unwrap(),
        private["id"].as_str().unwrap(),
    );
    let url = format!("/api/v1/statuses?id[]={q}&id[]={p}&id[]=123&id[]=nope");
    let mine = app.get(&url, Some(&alice)).await.json();
    let ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![q, p]);
    let anon = app.get(&url, None).await.json();
    assert_eq!(
        anon.as_array().unwrap().len(),
        1,
        "a stranger sees the public one only"
    );
    let many: String = (0..21).map(|i| format!("id[]={i}&")).collect();
    app.get(&format!("/api/v1/statuses?{many}"), None)
        .await
        .assert_error(422);

    // Accounts: in the order asked, unknown ones left out, at most 40.
    let url = format!("/api/v1/accounts?id[]={bob_id}&id[]=999&id[]={alice_id}&id[]={bob_id}");
    let got = app.get(&url, None).await.json();
    let names: Vec<&str> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["bob", "alice"]);
    let many: String = (0..41).map(|i| format!("id[]={i}&")).collect();
    app.get(&format!("/api/v1/accounts?{many}"), None)
        .await
        .assert_error(422);

    // Familiar followers: of those Alice follows, who follows Dave.
    for (who, whom) in [
        (&alice, bob_id),
        (&alice, carol_id),
        (&bob, dave_id),
        (&carol, dave_id),
    ] {
        let r = app
            .post(
                &format!("/api/v1/accounts/{whom}/follow"),
                Some(who),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let ff = app
        .get(
            &format!("/api/v1/accounts/familiar_followers?id[]={dave_id}&id[]={bob_id}"),
            Some(&alice),
        )
        .await
        .json();
    assert_eq!(ff[0]["id"], dave_id.to_string());
    let mut known: Vec<&str> = ff[0]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    known.sort();
    assert_eq!(known, vec!["bob", "carol"]);
    assert!(ff[1]["accounts"].as_array().unwrap().is_empty());
    app.get(
        &format!("/api/v1/accounts/familiar_followers?id[]={dave_id}"),
        None,
    )
    .await
    .assert_error(401);
}

both_backends!(lookups_by_id);

async fn instance_languages_and_description(app: TestApp) {
    app.create_user("alice").await;
    let alice = app.token_for("alice", "read write").await;
    let langs = app.get("/api/v1/instance/languages", None).await.json();
    let langs = langs.as_array().unwrap();
    assert!(
        langs.len() > 150,
        "every ISO 639-1 language: {}",
        langs.len()
    );
    assert!(langs.contains(&json!({"code": "en", "name": "English"})));
    assert!(langs.contains(&json!({"code": "de", "name": "German"})));
    let d = app
        .get("/api/v1/instance/extended_description", None)
        .await
        .json();
    assert!(
        d["content"].as_str().unwrap().contains("A Rookery server."),
        "{d}"
    );
    assert!(d["updated_at"].as_str().unwrap().ends_with('Z'));
    // A post's language must be one of them.
    let ok = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "Hallo", "language": "de"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["language"], "de");
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "?", "language": "xq"}),
    )
    .await
    .assert_error(422);
}

both_backends!(instance_languages_and_description);

async fn account_notes(app: TestApp) {
    app.create_user("alice").await;
    let bob_id = app.create_user("bob").await;
    let alice = app.token_for("alice", "read write follow").await;
    let carol = {
        app.create_user("carol").await;
        app.token_for("carol", "read write follow").await
    };
    let set = app
        .post(
            &format!("/api/v1/accounts/{bob_id}/note"),
            Some(&alice),
            json!({"comment": "Met at the allotment"}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.json()["note"], "Met at the allotment");
    let rel = app
        .get(
            &format!("/api/v1/accounts/relationships?id[]={bob_id}"),
            Some(&alice),
        )
        .await
        .json();
    assert_eq!(rel[0]["note"], "Met at the allotment");
    let other = app
        .get(
            &format!("/api/v1/accounts/relationships?id[]={bob_id}"),
            Some(&carol),
        )
        .await
        .json();
    assert_eq!(other[0]["note"], "", "a note is its writer's only");
    app.post(
        &format!("/api/v1/accounts/{bob_id}/note"),
        Some(&alice),
        json!({"comment": "x".repeat(2001)}),
    )
    .await
    .assert_error(422);
    app.post(
        "/api/v1/accounts/424242/note",
        Some(&alice),
        json!({"comment": "?"}),
    )
    .await
    .assert_error(404);
    let cleared = app
        .post(
            &format!("/api/v1/accounts/{bob_id}/note"),
            Some(&alice),
            json!({"comment": ""}),
        )
        .await;
    assert_eq!(cleared.json()["note"], "");
}

both_backends!(account_notes);

async fn delete_with_media(app: TestApp) {
    app.create_user("alice").await;
    let alice = app.token_for("alice", "read write").await;
    let mut media = Vec::new();
    for _ in 0..2 {
        let m = crate::media::upload(
            &app,
            &alice,
            "/api/v2/media",
            "photo.png",
            "image/png",
            crate::media::fixture("photo.png"),
            &[],
        )
        .await;
        media.push(m.json()["id"].as_str().unwrap().to_string());
    }
    let kept = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "kept", "media_ids": [media[0]]}),
        )
        .await
        .json();
    let gone = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "gone", "media_ids": [media[1]]}),
        )
        .await
        .json();
    let d = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/statuses/{}", kept["id"].as_str().unwrap()),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(d.status, 200);
    assert_eq!(
        app.get(&format!("/api/v1/media/{}", media[0]), Some(&alice))
            .await
            .status,
        200,
        "kept a day for a redraft"
    );
    let files = |dir: &std::path::Path| -> usize {
        fn walk(d: &std::path::Path) -> usize {
            std::fs::read_dir(d).map_or(0, |es| {
                es.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
        }
        walk(dir)
    };
    let before = files(&app.media_dir());
    let d = app
        .send(
            reqwest::Method::DELETE,
            &format!(
                "/api/v1/statuses/{}?delete_media=true",
                gone["id"].as_str().unwrap()
            ),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(
        d.json()["media_attachments"][0]["id"],
        media[1].as_str(),
        "the answer still names it"
    );
    app.get(&format!("/api/v1/media/{}", media[1]), Some(&alice))
        .await
        .assert_error(404);
    assert!(files(&app.media_dir()) < before, "its files are gone too");
}

both_backends!(delete_with_media);

async fn hashtag_timeline_any_all_none(app: TestApp) {
    app.create_user("alice").await;
    let alice = app.token_for("alice", "read write").await;
    let mut ids = std::collections::HashMap::new();
    for text in [
        "one #apple",
        "two #apple #pear",
        "three #pear",
        "four #apple #plum",
    ] {
        let s = app
            .post("/api/v1/statuses", Some(&alice), json!({"status": text}))
            .await
            .json();
        ids.insert(
            s["id"].as_str().unwrap().to_string(),
            text.split(' ').next().unwrap().to_string(),
        );
    }
    let words = |path: &str| {
        let app = &app;
        let ids = ids.clone();
        let path = path.to_string();
        async move {
            let got = app.get(&path, None).await;
            assert_eq!(got.status, 200, "{path}: {}", got.text);
            let mut w: Vec<String> = got
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|s| ids[s["id"].as_str().unwrap()].clone())
                .collect();
            w.sort();
            w
        }
    };
    assert_eq!(
        words("/api/v1/timelines/tag/apple").await,
        ["four", "one", "two"]
    );
    assert_eq!(
        words("/api/v1/timelines/tag/apple?any[]=pear").await,
        ["four", "one", "three", "two"]
    );
    assert_eq!(
        words("/api/v1/timelines/tag/apple?all[]=pear").await,
        ["two"]
    );
    assert_eq!(
        words("/api/v1/timelines/tag/apple?none[]=plum&none[]=pear").await,
        ["one"]
    );
    assert_eq!(
        words("/api/v1/timelines/tag/APPLE?any[]=Pear&none[]=plum").await,
        ["one", "three", "two"]
    );
    let five: String = (0..5).map(|i| format!("any[]=t{i}&")).collect();
    app.get(&format!("/api/v1/timelines/tag/apple?{five}"), None)
        .await
        .assert_error(422);
    app.get("/api/v1/timelines/tag/apple?all[]=no%20way", None)
        .await
        .assert_error(422);
}

both_backends!(hashtag_timeline_any_all_none);

async fn published_domain_blocks_check(
    published: crate::support::TestApp,
    hidden: crate::support::TestApp,
) {
    for app in [&published, &hidden] {
        let admin_id = app
            .create_user_with_role("root", rookery::service::accounts::Role::Admin)
            .await;
        let _ = admin_id;
        let admin = app
            .token_for("root", "read write admin:read admin:write")
            .await;
        for (domain, severity, obfuscate, comment) in [
            ("spam.example", "suspend", false, "Spam"),
            ("loud.example", "silence", true, ""),
            ("watch.example", "noop", false, ""),
        ] {
            let r = app
                .post(
                    "/api/v1/admin/domain_blocks",
                    Some(&admin),
                    json!({"domain": domain, "severity": severity, "obfuscate": obfuscate, "public_comment": comment}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    }
    hidden
        .get("/api/v1/instance/domain_blocks", None)
        .await
        .assert_error(404);
    let list = published
        .get("/api/v1/instance/domain_blocks", None)
        .await
        .json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "noop notes are not limitations: {list:?}");
    let spam = list
        .iter()
        .find(|b| b["domain"] == "spam.example")
        .expect("spam listed");
    assert_eq!(spam["severity"], "suspend");
    assert_eq!(spam["comment"], "Spam");
    assert_eq!(spam["digest"].as_str().unwrap().len(), 64);
    let loud = list.iter().find(|b| b["severity"] == "silence").unwrap();
    assert_eq!(loud["domain"], "l*u*.example", "obfuscated");
    let about = published.get("/about", None).await;
    assert!(about.text.contains("Moderated servers") && about.text.contains("spam.example"));
    assert!(
        !hidden
            .get("/about", None)
            .await
            .text
            .contains("Moderated servers")
    );
}

#[tokio::test]
async fn published_domain_blocks() {
    use crate::support::Backend;
    let published = TestApp::start_with(Backend::Sqlite, |c| {
        c.instance.show_domain_blocks = rookery::config::ShowDomainBlocks::All;
        c.instance.show_domain_blocks_rationale = true;
    })
    .await;
    let hidden = TestApp::start(Backend::Sqlite).await;
    published_domain_blocks_check(published, hidden).await;
}

async fn hashtag_search_has_history(app: TestApp) {
    app.create_user("alice").await;
    let alice = app.token_for("alice", "read write follow").await;
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "#applepie"}),
    )
    .await;
    app.post("/api/v1/tags/applepie/follow", Some(&alice), json!({}))
        .await;
    let found = app
        .get("/api/v2/search?q=apple&type=hashtags", Some(&alice))
        .await
        .json();
    let tag = &found["hashtags"][0];
    assert_eq!(tag["name"], "applepie");
    assert_eq!(tag["history"].as_array().unwrap().len(), 7, "{tag}");
    assert_eq!(tag["history"][0]["uses"], "1");
    assert_eq!(tag["following"], true);
    let anon = app
        .get("/api/v2/search?q=apple&type=hashtags", None)
        .await
        .json();
    assert!(anon["hashtags"][0].get("following").is_none());
}

both_backends!(hashtag_search_has_history);

/// Full-text search of statuses (Mastodon 4.2's rules) on both backends: a group message is found
/// by its participants only; a post of an account that did not opt in only by those who
/// interacted with it; an opted-in (`indexable`) public post by anyone; operators narrow it.
async fn full_text_search(app: TestApp) {
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        app.create_user(name).await;
    }
    let t = |n: &'static str| {
        let app = &app;
        async move { app.token_for(n, "read write follow").await }
    };
    let (alice, bob, carol, dave, erin) = (
        t("alice").await,
        t("bob").await,
        t("carol").await,
        t("dave").await,
        t("erin").await,
    );
    let post = |token: String, body: serde_json::Value| {
        let app = &app;
        async move { crate::statuses::post(app, &token, body).await }
    };
    let found = |token: Option<String>, q: &str| {
        let app = &app;
        let url = format!("/api/v2/search?type=statuses&q={}", urlencoding::encode(q));
        async move {
            let r = app.get(&url, token.as_deref()).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.json()["statuses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["content"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };

    post(
        alice.clone(),
        json!({"status": "@bob @carol secret picnic plans by the lake", "visibility": "direct"}),
    )
    .await;
    assert_eq!(found(Some(bob.clone()), "picnic").await.len(), 1);
    assert_eq!(found(Some(carol.clone()), "PICNIC lake").await.len(), 1);
    assert_eq!(
        found(Some(alice.clone()), "picnic").await.len(),
        1,
        "the sender"
    );
    assert!(
        found(Some(dave.clone()), "picnic").await.is_empty(),
        "a stranger"
    );

    let heron = post(dave.clone(), json!({"status": "A heron sighting at dawn"})).await;
    assert!(
        found(Some(alice.clone()), "heron").await.is_empty(),
        "not opted in"
    );
    assert_eq!(
        found(Some(dave.clone()), "heron").await.len(),
        1,
        "one's own"
    );
    app.post(
        &format!(
            "/api/v1/statuses/{}/favourite",
            heron["id"].as_str().unwrap()
        ),
        Some(&bob),
        json!({}),
    )
    .await;
    assert_eq!(
        found(Some(bob.clone()), "heron").await.len(),
        1,
        "favourited"
    );

    let me = app
        .send_form(
            reqwest::Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&erin),
            &[("indexable", "true")],
        )
        .await
        .json();
    assert_eq!(me["indexable"], true, "{me}");
    post(
        erin.clone(),
        json!({"status": "Heron migration season", "language": "en"}),
    )
    .await;
    post(erin.clone(), json!({"status": "Which heron is best?", "poll": {"options": ["grey", "purple"], "expires_in": 600}})).await;
    post(
        erin.clone(),
        json!({"status": "herons only in private", "visibility": "private"}),
    )
    .await;
    let anyone = found(Some(alice.clone()), "heron").await;
    assert_eq!(anyone.len(), 2, "opted-in public posts: {anyone:?}");
    assert_eq!(found(None, "heron").await.len(), 2, "anonymous readers too");
    assert_eq!(
        found(Some(alice.clone()), "\"heron migration\"")
            .await
            .len(),
        1
    );
    assert_eq!(
        found(Some(alice.clone()), "\"migration heron\"")
            .await
            .len(),
        0,
        "a phrase keeps its order"
    );
    assert_eq!(
        found(Some(alice.clone()), "heron -migration").await,
        vec!["<p>Which heron is best?</p>"]
    );
    assert_eq!(found(Some(alice.clone()), "heron has:poll").await.len(), 1);
    assert_eq!(
        found(Some(alice.clone()), "heron -has:poll language:en")
            .await
            .len(),
        1
    );
    assert_eq!(found(Some(bob.clone()), "heron from:dave").await.len(), 1);
    assert_eq!(found(Some(bob.clone()), "heron -from:dave").await.len(), 2);
    assert!(
        found(Some(bob.clone()), "heron from:nobody")
            .await
            .is_empty()
    );
    assert_eq!(
        found(Some(dave.clone()), "from:me").await.len(),
        1,
        "operators alone"
    );
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        found(Some(alice.clone()), &format!("heron during:{today}"))
            .await
            .len(),
        2
    );
    assert!(
        found(Some(alice.clone()), &format!("heron before:{today}"))
            .await
            .is_empty()
    );
    let erin_id = me["id"].as_str().unwrap();
    let r = app
        .get(
            &format!("/api/v2/search?type=statuses&q=heron&account_id={erin_id}&limit=1"),
            Some(&alice),
        )
        .await
        .json();
    assert_eq!(r["statuses"].as_array().unwrap().len(), 1);
    let second = app
        .get(
            &format!("/api/v2/search?type=statuses&q=heron&account_id={erin_id}&limit=1&offset=1"),
            Some(&alice),
        )
        .await
        .json();
    assert_ne!(r["statuses"][0]["id"], second["statuses"][0]["id"]);
    // FTS syntax in input is literal; bad operators and oversized queries are refused.
    assert!(
        found(Some(alice.clone()), "heron OR NEAR(\"x\" *")
            .await
            .is_empty()
    );
    for bad in [
        "heron has:gold".to_string(),
        "x ".repeat(300),
        "before:yesterday".into(),
    ] {
        app.get(
            &format!(
                "/api/v2/search?type=statuses&q={}",
                urlencoding::encode(&bad)
            ),
            Some(&alice),
        )
        .await
        .assert_error(422);
    }
    // Edits are searched as they now read; deletions are gone.
    let st = post(dave.clone(), json!({"status": "kingfisher"})).await;
    let id = st["id"].as_str().unwrap();
    app.put(
        &format!("/api/v1/statuses/{id}"),
        Some(&dave),
        json!({"status": "cormorant"}),
    )
    .await;
    assert!(found(Some(dave.clone()), "kingfisher").await.is_empty());
    assert_eq!(found(Some(dave.clone()), "cormorant").await.len(), 1);
    app.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/statuses/{id}"),
        Some(&dave),
        None,
    )
    .await;
    assert!(found(Some(dave.clone()), "cormorant").await.is_empty());

    // SQLite: statuses stored before the index are indexed by the backfill job, without markup.
    if app.backend() == crate::support::Backend::Sqlite {
        rookery::on_db!(app.state.db, c => sqlx::query("DELETE FROM status_search").execute(c).await.map(|_| ())).unwrap();
        assert!(found(Some(alice.clone()), "heron").await.is_empty());
        let mut tx = app.state.db.begin().await.unwrap();
        rookery::jobs::enqueue(
            &mut tx,
            rookery::service::search::BACKFILL_JOB,
            &json!({"after": 0}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        app.state.jobs_wakeup.notify_one();
        let back = crate::federation::eventually(10, || async {
            found(Some(alice.clone()), "heron").await.len() == 2
        })
        .await;
        assert!(back, "the backfill did not index the statuses");
        assert!(
            found(Some(dave.clone()), "p").await.is_empty(),
            "markup is not indexed"
        );
    }
}

both_backends!(full_text_search);

/// Endpoints of Mastodon 4.2 to 4.4 that apps call once a server says 4.5: removing the avatar
/// and header, deleting an unused upload, endorsing by the 4.4 names, featuring a hashtag from
/// its page, marking a conversation unread, checking the address is confirmed, the privacy
/// policy and terms of service, and the link timeline.
async fn smaller_4_x_endpoints(app: TestApp) {
    let alice_id = app.create_user("alice").await;
    let bob_id = app.create_user("bob").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob = app.token_for("bob", "read write follow").await;

    // Avatar and header: set, then removed back to the defaults.
    let form = reqwest::multipart::Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(crate::media::fixture("photo.png"))
            .file_name("a.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = app
        .http
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.unwrap();
    assert!(
        !me["avatar"].as_str().unwrap().ends_with("missing.png"),
        "{me}"
    );
    let me = app
        .send(
            reqwest::Method::DELETE,
            "/api/v1/profile/avatar",
            Some(&alice),
            None,
        )
        .await
        .json();
    assert!(
        me["avatar"].as_str().unwrap().ends_with("missing.png"),
        "{me}"
    );
    assert!(me["source"].is_object(), "a CredentialAccount: {me}");
    let r = app
        .send(
            reqwest::Method::DELETE,
            "/api/v1/profile/header",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // An unused upload can be deleted; one on a status cannot.
    let upload = |name: &'static str| {
        let app = &app;
        let alice = alice.clone();
        async move {
            crate::media::upload(
                app,
                &alice,
                "/api/v2/media",
                name,
                "image/png",
                crate::media::fixture("photo.png"),
                &[],
            )
            .await
            .json()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let unused = upload("photo.png").await;
    let used = upload("photo.png").await;
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "with media", "media_ids": [used]}),
    )
    .await;
    app.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/media/{used}"),
        Some(&alice),
        None,
    )
    .await
    .assert_error(422);
    app.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/media/{unused}"),
        Some(&bob),
        None,
    )
    .await
    .assert_error(404);
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/media/{unused}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(&format!("/api/v1/media/{unused}"), Some(&alice))
        .await
        .assert_error(404);

    // Endorsements by the 4.4 names, listed on the profile for anyone.
    app.post(
        &format!("/api/v1/accounts/{bob_id}/endorse"),
        Some(&alice),
        json!({}),
    )
    .await
    .assert_error(422);
    app.post(
        &format!("/api/v1/accounts/{bob_id}/follow"),
        Some(&alice),
        json!({}),
    )
    .await;
    let rel = app
        .post(
            &format!("/api/v1/accounts/{bob_id}/endorse"),
            Some(&alice),
            json!({}),
        )
        .await
        .json();
    assert_eq!(rel["endorsed"], true, "{rel}");
    let listed = app
        .get(&format!("/api/v1/accounts/{alice_id}/endorsements"), None)
        .await
        .json();
    assert_eq!(listed[0]["id"], bob_id.to_string(), "{listed}");
    let rel = app
        .post(
            &format!("/api/v1/accounts/{bob_id}/unendorse"),
            Some(&alice),
            json!({}),
        )
        .await
        .json();
    assert_eq!(rel["endorsed"], false);
    app.get("/api/v1/accounts/12345/endorsements", None)
        .await
        .assert_error(404);

    // Featuring a hashtag from its page.
    let tag = app
        .post("/api/v1/tags/Herons/feature", Some(&alice), json!({}))
        .await
        .json();
    assert_eq!(tag["featured"], true, "{tag}");
    let featured = app.get("/api/v1/featured_tags", Some(&alice)).await.json();
    assert_eq!(featured[0]["name"], "Herons", "{featured}");
    let tag = app
        .post("/api/v1/tags/herons/unfeature", Some(&alice), json!({}))
        .await
        .json();
    assert_eq!(tag["featured"], false, "{tag}");
    assert_eq!(
        app.get("/api/v1/featured_tags", Some(&alice))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    app.post("/api/v1/tags/never-used/unfeature", Some(&alice), json!({}))
        .await
        .assert_error(404);

    // A conversation marked unread again.
    app.post(
        "/api/v1/statuses",
        Some(&bob),
        json!({"status": "@alice hi", "visibility": "direct"}),
    )
    .await;
    let convs = app.get("/api/v1/conversations", Some(&alice)).await.json();
    let cid = convs[0]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/v1/conversations/{cid}/read"),
        Some(&alice),
        json!({}),
    )
    .await;
    let c = app
        .post(
            &format!("/api/v1/conversations/{cid}/unread"),
            Some(&alice),
            json!({}),
        )
        .await
        .json();
    assert_eq!(c["unread"], true, "{c}");
    app.post(
        &format!("/api/v1/conversations/{cid}/unread"),
        Some(&bob),
        json!({}),
    )
    .await
    .assert_error(404);

    // The address check, the privacy policy, no terms of service.
    assert_eq!(
        app.get("/api/v1/emails/check_confirmation", Some(&alice))
            .await
            .json(),
        json!(true)
    );
    let policy = app
        .get("/api/v1/instance/privacy_policy", None)
        .await
        .json();
    assert!(
        policy["content"].as_str().unwrap().starts_with("<p>"),
        "{policy}"
    );
    assert!(policy["updated_at"].is_string());
    app.get("/api/v1/instance/terms_of_service", None)
        .await
        .assert_error(404);
    app.get("/api/v1/instance/terms_of_service/2026-01-01", None)
        .await
        .assert_error(404);

    // The link timeline: unknown links are 404.
    app.get("/api/v1/timelines/link?url=https://example.com/a", None)
        .await
        .assert_error(404);
    app.get("/api/v1/timelines/link", None)
        .await
        .assert_error(404);

    // What the instance advertises.
    let v2 = app.get("/api/v2/instance", None).await.json();
    assert!(
        v2["version"].as_str().unwrap().starts_with("4.5.0 "),
        "{v2}"
    );
    assert_eq!(v2["api_versions"]["mastodon"], 7);
}

both_backends!(smaller_4_x_endpoints);

/// Terms of service from the configuration, effective from their date.
async fn terms_of_service(app: TestApp) {
    let t = app
        .get("/api/v1/instance/terms_of_service", None)
        .await
        .json();
    assert_eq!(t["effective_date"], "2026-01-01", "{t}");
    assert_eq!(t["effective"], true);
    assert_eq!(t["content"], "<p>Be kind.</p>");
    assert!(t["succeeded_by"].is_null());
    let same = app
        .get("/api/v1/instance/terms_of_service/2026-01-01", None)
        .await
        .json();
    assert_eq!(same, t);
    app.get("/api/v1/instance/terms_of_service/2025-01-01", None)
        .await
        .assert_error(404);
}

#[tokio::test]
async fn terms_of_service_sqlite() {
    let app = TestApp::start_with(crate::support::Backend::Sqlite, |c| {
        c.instance.terms_of_service = "Be kind.".into();
        c.instance.terms_of_service_effective_date = "2026-01-01".into();
    })
    .await;
    terms_of_service(app).await;
}
