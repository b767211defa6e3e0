//! Shorts through the client API on one instance: what may be posted, the four feeds, an
//! account's and a tag's shorts, view counts deduplicated per viewer per day, and the `for_you`
//! ranking (engagement with time decay, no more than two in a row from one author).

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::media::{fixture, upload};
use crate::support::TestApp;

async fn user(app: &TestApp, name: &str) -> (i64, String) {
    let id = app.create_user(name).await;
    (id, app.token_for(name, "read write follow").await)
}

/// Uploads a fixture through `POST /api/v1/media` (which waits for processing); its ID.
async fn media(app: &TestApp, token: &str, file: &str, mime: &str) -> String {
    let a = upload(app, token, "/api/v1/media", file, mime, fixture(file), &[]).await;
    assert_eq!(a.status, 200, "{file}: {}", a.text);
    a.json()["id"].as_str().unwrap().to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn shorts_post_feed_and_count(app: TestApp) {
    let (alice_id, alice) = user(&app, "alice").await;
    let (_, bob) = user(&app, "bob").await;
    let (_, carol) = user(&app, "carol").await;
    let a = app
        .post(
            &format!("/api/v1/accounts/{alice_id}/follow"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(a.status, 200);

    // What is refused, each with its reason.
    let landscape = media(&app, &alice, "clip.webm", "video/webm").await;
    let photo = media(&app, &alice, "photo.jpg", "image/jpeg").await;
    let long = media(&app, &alice, "long.mp4", "video/mp4").await;
    let v1 = media(&app, &alice, "vertical.mp4", "video/mp4").await;
    let v2 = media(&app, &alice, "vertical.mp4", "video/mp4").await;
    let bobs = media(&app, &bob, "vertical.mp4", "video/mp4").await;
    for (ids, why) in [
        (json!([landscape]), "vertical"),
        (json!([photo]), "not an image"),
        (json!([long]), "180"),
        (json!([v1, v2]), "exactly one"),
        (json!([]), "exactly one"),
    ] {
        let a = app
            .post(
                "/api/v1/shorts",
                Some(&alice),
                json!({"status": "no", "media_ids": ids}),
            )
            .await;
        let e = a.assert_error(422);
        assert!(e["error"].as_str().unwrap().contains(why), "{ids}: {e}");
    }
    let a = app
        .post(
            "/api/v1/shorts",
            Some(&alice),
            json!({"status": "not mine", "media_ids": [bobs]}),
        )
        .await;
    let e = a.assert_error(422);
    assert!(
        e["error"].as_str().unwrap().contains("Unknown media"),
        "{e}"
    );
    let processing = upload(
        &app,
        &alice,
        "/api/v2/media",
        "vertical.mp4",
        "video/mp4",
        fixture("vertical.mp4"),
        &[],
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    rookery::on_db!(app.state.db, c => sqlx::query("UPDATE media_attachments SET state = 'processing' WHERE id = $1")
        .bind(processing.parse::<i64>().unwrap()).execute(c).await.map(|_| ()))
    .unwrap();
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "wait", "media_ids": [processing], "short": true}),
    )
    .await
    .assert_error(422);

    // Two shorts (one through each endpoint) and an ordinary post.
    let a = app
        .post(
            "/api/v1/shorts",
            Some(&alice),
            json!({"status": "first #dance", "media_ids": [v1]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let first = a.json();
    assert_eq!(first["short"], true);
    assert_eq!(first["views_count"], 0);
    assert_eq!(first["media_attachments"][0]["type"], "video");
    let a = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "second", "media_ids": [v2], "short": "true"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let second = a.json();
    let plain = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "just words"}),
        )
        .await
        .json();
    assert_eq!(plain["short"], false);
    let (s1, s2) = (
        first["id"].as_str().unwrap().to_string(),
        second["id"].as_str().unwrap().to_string(),
    );

    // An edit cannot turn a short into something else; a caption edit is fine.
    let a = app
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{s1}"),
            Some(&alice),
            Some(json!({"status": "now a photo", "media_ids": [photo]})),
        )
        .await;
    a.assert_error(422);
    let a = app
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{s1}"),
            Some(&alice),
            Some(json!({"status": "first #dance, edited"})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["short"], true);

    // The chronological feeds, the account's and the tag's shorts: shorts only, newest first.
    for (path, token) in [
        ("/api/v1/timelines/shorts?feed=following", Some(&bob)),
        ("/api/v1/timelines/shorts?feed=local", None),
        ("/api/v1/timelines/shorts?feed=federated", Some(&carol)),
        (&*format!("/api/v1/accounts/{alice_id}/shorts"), None),
    ] {
        let a = app.get(path, token.map(|t| t.as_str())).await;
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        assert_eq!(ids(&a.json()), vec![s2.clone(), s1.clone()], "{path}");
    }
    let tagged = app.get("/api/v1/tags/dance/shorts", None).await.json();
    assert_eq!(ids(&tagged), vec![s1.clone()]);
    let carols = app
        .get("/api/v1/timelines/shorts?feed=following", Some(&carol))
        .await
        .json();
    assert_eq!(carols, json!([]), "Carol follows nobody");
    app.get("/api/v1/timelines/shorts?feed=following", None)
        .await
        .assert_error(401);
    app.get("/api/v1/timelines/shorts?feed=sideways", None)
        .await
        .assert_error(422);
    // Shorts are posts too: in Bob's home timeline with the ordinary post.
    let home = app.get("/api/v1/timelines/home", Some(&bob)).await.json();
    assert_eq!(ids(&home).len(), 3);

    // for_you: the older short with engagement ranks above the newer one without.
    for action in ["favourite", "reblog"] {
        let a = app
            .post(
                &format!("/api/v1/statuses/{s1}/{action}"),
                Some(&bob),
                json!({}),
            )
            .await;
        assert_eq!(a.status, 200);
    }
    let a = app
        .get("/api/v1/timelines/shorts?feed=for_you", Some(&carol))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(ids(&a.json()), vec![s1.clone(), s2.clone()]);
    // Paged by offset.
    let a = app
        .get("/api/v1/timelines/shorts?feed=for_you&limit=1", None)
        .await;
    assert_eq!(ids(&a.json()), vec![s1.clone()]);
    let link = a.header("link").unwrap().to_string();
    assert!(link.contains("offset=1"), "{link}");
    let a = app
        .get(
            "/api/v1/timelines/shorts?feed=for_you&limit=1&offset=1",
            None,
        )
        .await;
    assert_eq!(ids(&a.json()), vec![s2.clone()]);

    // Views: once per viewer per day.
    let view = |token: String, id: String, secs: Value| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/statuses/{id}/view"),
                Some(&token),
                json!({"watched_seconds": secs}),
            )
            .await
        }
    };
    let a = view(bob.clone(), s2.clone(), json!(2.0)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["views_count"], 1);
    let a = view(bob.clone(), s2.clone(), json!("0.5")).await;
    assert_eq!(a.json()["views_count"], 1, "the same viewer the same day");
    let a = view(carol.clone(), s2.clone(), json!(0.4)).await;
    assert_eq!(a.json()["views_count"], 2);
    view(
        bob.clone(),
        plain["id"].as_str().unwrap().to_string(),
        json!(1),
    )
    .await
    .assert_error(422);
    view(bob.clone(), s2.clone(), json!(-3))
        .await
        .assert_error(422);
    let shown = app
        .get(&format!("/api/v1/statuses/{s2}"), None)
        .await
        .json();
    assert_eq!(shown["views_count"], 2);
    let completed: i64 = rookery::on_db!(app.state.db, c => sqlx::query_scalar(
        "SELECT completed_views_count FROM statuses WHERE id = $1")
        .bind(s2.parse::<i64>().unwrap()).fetch_one(c).await)
    .unwrap();
    assert_eq!(completed, 1, "Bob watched to the end; Carol did not");

    // Deleting a short works as for any status.
    let a = app
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{s2}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    let left = app
        .get("/api/v1/timelines/shorts?feed=local", None)
        .await
        .json();
    assert_eq!(ids(&left), vec![s1]);
}

both_backends!(shorts_post_feed_and_count);

fn stats(
    id: i64,
    author: i64,
    favourites: i64,
    hours_ago: i64,
) -> rookery::storage::statuses::ShortStats {
    rookery::storage::statuses::ShortStats {
        id,
        account_id: author,
        favourites_count: favourites,
        reblogs_count: 0,
        replies_count: 0,
        completed_views_count: 0,
        created_at: chrono::Utc::now() - chrono::Duration::hours(hours_ago),
    }
}

/// The ranking: engagement beats recency up to a point, and one author never has three in a row.
#[test]
fn for_you_ranking_decays_and_mixes_authors() {
    use rookery::service::shorts::rank;
    let now = chrono::Utc::now();
    // A day-old short with 40 favourites beats a fresh one without; a week-old one does not.
    let order = rank(vec![stats(1, 10, 40, 24), stats(2, 11, 0, 0)], now);
    assert_eq!(order[0].0, 1);
    let order = rank(vec![stats(1, 10, 40, 24 * 7), stats(2, 11, 0, 0)], now);
    assert_eq!(order[0].0, 2);
    // Author 10 has the four best; author 11 two weaker ones.
    let shorts = vec![
        stats(1, 10, 50, 1),
        stats(2, 10, 40, 1),
        stats(3, 10, 30, 1),
        stats(4, 10, 20, 1),
        stats(5, 11, 2, 1),
        stats(6, 11, 1, 1),
    ];
    let order: Vec<i64> = rank(shorts, now).iter().map(|(id, _)| *id).collect();
    assert_eq!(order, vec![1, 2, 5, 3, 4, 6]);
    let authors: Vec<i64> = rank(
        (0..9)
            .map(|i| stats(i, 10, 100 - i, 1))
            .chain([stats(99, 11, 0, 1)])
            .collect(),
        now,
    )
    .iter()
    .map(|(_, a)| *a)
    .collect();
    // With nobody else to mix in, the rest still comes (at the end).
    assert_eq!(authors.len(), 10);
    assert_eq!(&authors[..3], &[10, 10, 11]);
}

fn ap_fixture(path: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/activitypub/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A Loops-shaped Note and a PeerTube `Video` of at most 180 s become shorts; a longer PeerTube
/// video stays an ordinary video post.
async fn remote_shorts_from_loops_and_peertube(app: TestApp) {
    use activitypub_federation::traits::Object;
    use rookery::federation::inbound::InboxActivity;
    use rookery::service::activitypub::actors::ApAccount;
    use rookery::service::statuses::{Arrival, store_remote_note};
    let fed = rookery::service::activitypub::context::build(app.state.clone())
        .await
        .unwrap();
    let data = fed.to_request_data();
    let actor = |server: &str| {
        serde_json::from_value(ap_fixture(&format!("{server}/person.json"))).unwrap()
    };
    let tern = ApAccount::from_json(actor("loops"), &data)
        .await
        .unwrap()
        .row;
    let heron = ApAccount::from_json(actor("peertube"), &data)
        .await
        .unwrap()
        .row;

    let note = serde_json::from_value(ap_fixture("loops/note.json")).unwrap();
    let row = store_remote_note(&data, &tern, note, Arrival::Fetched)
        .await
        .unwrap()
        .row()
        .unwrap();
    assert!(row.short, "a Loops video is a short");
    let media = rookery::storage::media::of_statuses(&app.state.db, &[row.id])
        .await
        .unwrap();
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].r#type, "video");

    let create = ap_fixture("peertube/create_video.json");
    let InboxActivity::Create(c) = serde_json::from_value(create.clone()).unwrap() else {
        panic!("not a Create")
    };
    assert_eq!(
        c.object.attributed_to.as_str(),
        heron.uri,
        "the account, not the channel"
    );
    let row = store_remote_note(&data, &heron, c.object, Arrival::Fetched)
        .await
        .unwrap()
        .row()
        .unwrap();
    assert!(row.short, "a 42 s PeerTube video is a short");
    assert!(row.content.contains("Heron takes off"));
    assert!(
        !row.content.contains("<b>"),
        "PeerTube's markdown is shown as text"
    );
    let m = &rookery::storage::media::of_statuses(&app.state.db, &[row.id])
        .await
        .unwrap()[0];
    assert_eq!(
        m.remote_url.as_deref(),
        Some("https://peertube.example/static/web-videos/5b2f9a2e-1080.mp4"),
        "the tallest progressive MP4 up to 1080 lines"
    );
    assert_eq!(
        m.remote_preview_url.as_deref(),
        Some("https://peertube.example/lazy-static/previews/5b2f9a2e.jpg")
    );
    let shown = app
        .get(&format!("/api/v1/statuses/{}", row.id), None)
        .await
        .json();
    assert_eq!(shown["short"], true);
    assert_eq!(shown["media_attachments"][0]["type"], "video");

    // Four minutes long: an ordinary video post.
    let mut long = create;
    long["object"]["id"] = json!("https://peertube.example/videos/watch/long");
    long["object"]["duration"] = json!("PT4M");
    let InboxActivity::Create(c) = serde_json::from_value(long).unwrap() else {
        panic!()
    };
    let row = store_remote_note(&data, &heron, c.object, Arrival::Fetched)
        .await
        .unwrap()
        .row()
        .unwrap();
    assert!(!row.short);
    assert!(row.has_media);
}

both_backends!(remote_shorts_from_loops_and_peertube);

/// A remote short's video is fetched with the media guards: not from a private address unless the
/// dev setting allows it, and never past `media.remote_max_bytes` however the size is declared.
#[tokio::test]
async fn remote_short_videos_are_fetched_with_limits() {
    use activitypub_federation::traits::Object;
    use rookery::service::activitypub::actors::ApAccount;
    // An origin on loopback that streams 64 KiB without declaring a length.
    let origin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = origin.local_addr().unwrap();
    let router = axum::Router::new().route(
        "/big.mp4",
        axum::routing::get(|| async {
            let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![0u8; 1024]));
            (
                [("content-type", "video/mp4")],
                axum::body::Body::from_stream(futures_util::stream::iter(chunks)),
            )
        }),
    );
    tokio::spawn(async move { axum::serve(origin, router).await.unwrap() });
    for (allow_private, expect) in [(false, "refused"), (true, "too large")] {
        let app = TestApp::start_with(crate::support::Backend::Sqlite, |c| {
            c.federation.allow_private_addresses = allow_private;
            c.media.remote_max_bytes = 16 * 1024;
        })
        .await;
        let fed = rookery::service::activitypub::context::build(app.state.clone())
            .await
            .unwrap();
        let data = fed.to_request_data();
        let person = serde_json::from_value(ap_fixture("loops/person.json")).unwrap();
        let tern = ApAccount::from_json(person, &data).await.unwrap().row;
        let mut note = ap_fixture("loops/note.json");
        note["attachment"][0]["url"] = json!(format!("http://{addr}/big.mp4"));
        let row = rookery::service::statuses::store_remote_note(
            &data,
            &tern,
            serde_json::from_value(note).unwrap(),
            rookery::service::statuses::Arrival::Fetched,
        )
        .await
        .unwrap()
        .row()
        .unwrap();
        assert!(row.short);
        let m = &rookery::storage::media::of_statuses(&app.state.db, &[row.id])
            .await
            .unwrap()[0];
        let a = app
            .get(&format!("/media_proxy/{}/original", m.id), None)
            .await;
        match expect {
            // Not fetched at all.
            "refused" => {
                a.assert_error(404);
            }
            // Read up to the limit, then given up: shown from its origin, nothing kept.
            _ => {
                assert_eq!(a.status, 303, "{}", a.text);
                assert_eq!(
                    a.header("location").unwrap(),
                    format!("http://{addr}/big.mp4")
                );
            }
        };
        let after = rookery::storage::media::find(&app.state.db, m.id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            after.file_key.is_none() && after.cached_at.is_none(),
            "{expect}"
        );
    }
}

/// A PeerTube `Video` reached by its id (as a channel's `Announce` or a search does) is read the
/// same way as a delivered one.
#[tokio::test]
async fn peertube_videos_are_fetched_by_id() {
    use activitypub_federation::fetch::object_id::ObjectId;
    let origin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // The federation library wants a domain name, not an address.
    let base = format!("http://localhost:{}", origin.local_addr().unwrap().port());
    let local = |v: Value| -> Value {
        serde_json::from_str(&v.to_string().replace("https://peertube.example", &base)).unwrap()
    };
    let video = local(ap_fixture("peertube/create_video.json")["object"].clone());
    let person = local(ap_fixture("peertube/person.json"));
    let video_id = video["id"].as_str().unwrap().to_string();
    let doc = |v: Value| {
        move || {
            let v = v.clone();
            async move {
                (
                    [("content-type", "application/activity+json")],
                    v.to_string(),
                )
            }
        }
    };
    let router = axum::Router::new()
        .route(
            "/videos/watch/5b2f9a2e-3c1d-4f7e-9a61-1c2d3e4f5a6b",
            axum::routing::get(doc(video)),
        )
        .route("/accounts/heron", axum::routing::get(doc(person)));
    tokio::spawn(async move { axum::serve(origin, router).await.unwrap() });
    let app = TestApp::start_with(crate::support::Backend::Sqlite, |c| {
        c.federation.allow_private_addresses = true;
    })
    .await;
    let fed = rookery::service::activitypub::context::build(app.state.clone())
        .await
        .unwrap();
    let data = fed.to_request_data();
    let note = ObjectId::<rookery::service::activitypub::notes::ApNote>::from(
        url::Url::parse(&video_id).unwrap(),
    )
    .dereference(&data)
    .await
    .unwrap();
    assert!(note.row.short);
    assert_eq!(note.row.uri, video_id);
    let author = rookery::storage::accounts::find_account(&app.state.db, note.row.account_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(author.uri, format!("{base}/accounts/heron"));
}
