//! ActivityPub documents served by Rookery (actors, collections, Notes) with content negotiation,
//! and parsing of documents from other servers (fixtures; no network is touched while parsing).

use reqwest::header::ACCEPT;
use rookery::federation::protocol::actor::Person;
use rookery::federation::protocol::note::Note;
use serde_json::{Value, json};

use crate::both_backends;
use crate::statuses::post;
use crate::support::TestApp;

const AP: &str = "application/activity+json";
const LD: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn fetch(
    app: &TestApp,
    path: &str,
    accept: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let r = app
        .http
        .get(app.url(path))
        .header(ACCEPT, accept)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

async fn doc(app: &TestApp, path: &str) -> Value {
    let (status, headers, body) = fetch(app, path, AP).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/activity+json"),
        "{path}"
    );
    serde_json::from_str(&body).unwrap()
}

async fn actors_and_negotiation(app: TestApp) {
    app.create_user("alice").await;
    let at = app.token_for("alice", "read write follow").await;
    app.send(
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&at),
        Some(json!({
            "display_name": "Alice", "note": "Birds & <code>", "locked": true,
            "fields_attributes": [{"name": "Site", "value": "https://alice.example"}]
        })),
    )
    .await;
    let base = app.state.config.base_url();

    let person = doc(&app, "/users/alice").await;
    assert_eq!(person["id"], format!("{base}/users/alice"));
    assert_eq!(person["type"], "Person");
    assert_eq!(person["preferredUsername"], "alice");
    assert_eq!(person["name"], "Alice");
    assert_eq!(person["inbox"], format!("{base}/users/alice/inbox"));
    assert_eq!(person["endpoints"]["sharedInbox"], format!("{base}/inbox"));
    assert_eq!(person["manuallyApprovesFollowers"], true);
    assert_eq!(person["attachment"][0]["type"], "PropertyValue");
    assert_eq!(
        person["publicKey"]["id"],
        format!("{base}/users/alice#main-key")
    );
    assert_eq!(person["publicKey"]["owner"], person["id"]);
    let pem = person["publicKey"]["publicKeyPem"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    assert!(person["@context"][0] == "https://www.w3.org/ns/activitystreams");
    // The key is generated once and kept.
    assert_eq!(
        doc(&app, "/users/alice").await["publicKey"]["publicKeyPem"],
        pem
    );
    // It parses as our own Person type too.
    let parsed: Person = serde_json::from_value(person.clone()).unwrap();
    assert_eq!(parsed.preferred_username, "alice");

    // ld+json with the ActivityStreams profile, and /@alice, give the same actor.
    let (s, _, body) = fetch(&app, "/users/alice", LD).await;
    assert_eq!(s, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["id"],
        person["id"]
    );
    assert_eq!(doc(&app, "/@alice").await["id"], person["id"]);

    // Browsers: /users/alice redirects to the profile page, which is HTML.
    let (s, h, _) = fetch(&app, "/users/alice", "text/html").await;
    assert_eq!(s, 302);
    assert_eq!(h["location"], format!("{base}/@alice"));
    post(&app, &at, json!({"status": "public hello"})).await;
    post(
        &app,
        &at,
        json!({"status": "secret hello", "visibility": "private"}),
    )
    .await;
    let (s, h, html) = fetch(&app, "/@alice", "text/html,application/xhtml+xml").await;
    assert_eq!(s, 200);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(
        html.contains("Alice") && html.contains("public hello"),
        "{html}"
    );
    assert!(
        !html.contains("secret hello"),
        "followers-only posts stay off the public page"
    );
    assert!(
        html.contains("Birds &amp; &lt;code&gt;"),
        "the bio is escaped: {html}"
    );

    // WebFinger's self link leads to this actor.
    let wf = app
        .get(
            &format!(
                "/.well-known/webfinger?resource=acct:alice@{}",
                app.state.config.server.domain
            ),
            None,
        )
        .await
        .json();
    let self_link = wf["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(self_link, person["id"].as_str().unwrap());

    for missing in [
        "/users/nobody",
        "/@nobody",
        "/users/nobody/outbox",
        "/users/nobody/statuses/1",
    ] {
        let (s, _, _) = fetch(&app, missing, AP).await;
        assert_eq!(s, 404, "{missing}");
    }
    let (s, _, _) = fetch(&app, "/not-an-at-path", "text/html").await;
    assert_eq!(s, 404);
}

async fn notes_and_collections(app: TestApp) {
    let alice = app.create_user("alice").await;
    let at = app.token_for("alice", "read write follow").await;
    let bob = app.create_user("bob").await;
    let bt = app.token_for("bob", "read write follow").await;
    app.post(
        &format!("/api/v1/accounts/{alice}/follow"),
        Some(&bt),
        json!({}),
    )
    .await;
    let base = app.state.config.base_url();

    let public = post(
        &app,
        &at,
        json!({"status": "Hi @bob #Birds", "language": "en", "spoiler_text": "cw"}),
    )
    .await;
    let unlisted = post(
        &app,
        &at,
        json!({"status": "quiet", "visibility": "unlisted"}),
    )
    .await;
    let private = post(
        &app,
        &at,
        json!({"status": "friends", "visibility": "private"}),
    )
    .await;
    let direct = post(
        &app,
        &at,
        json!({"status": "@bob psst", "visibility": "direct"}),
    )
    .await;
    let reply = post(
        &app,
        &bt,
        json!({"status": "@alice hi", "in_reply_to_id": public["id"]}),
    )
    .await;
    let path =
        |s: &Value, user: &str| format!("/users/{user}/statuses/{}", s["id"].as_str().unwrap());

    let note = doc(&app, &path(&public, "alice")).await;
    assert_eq!(note["type"], "Note");
    assert_eq!(note["id"], public["uri"]);
    assert_eq!(note["attributedTo"], format!("{base}/users/alice"));
    assert_eq!(note["to"], json!([PUBLIC]));
    assert_eq!(
        note["cc"],
        json!([
            format!("{base}/users/alice/followers"),
            format!("{base}/users/bob")
        ])
    );
    assert_eq!(note["summary"], "cw");
    assert_eq!(note["sensitive"], true);
    assert_eq!(note["contentMap"]["en"], note["content"]);
    let tags = note["tag"].as_array().unwrap();
    assert!(tags.iter().any(|t| t["type"] == "Mention"
        && t["name"] == format!("@bob@{}", app.state.config.server.domain)));
    assert!(
        tags.iter()
            .any(|t| t["type"] == "Hashtag" && t["name"] == "#birds")
    );
    let parsed: Note = serde_json::from_value(note.clone()).unwrap();
    assert_eq!(parsed.id.as_str(), public["uri"].as_str().unwrap());

    let un = doc(&app, &path(&unlisted, "alice")).await;
    assert_eq!(un["to"], json!([format!("{base}/users/alice/followers")]));
    assert_eq!(un["cc"][0], PUBLIC);
    let r = doc(&app, &path(&reply, "bob")).await;
    assert_eq!(r["inReplyTo"], public["uri"]);
    assert_eq!(r["conversation"], note["conversation"]);
    // Followers-only and direct posts are not served to anonymous fetches; nor via another name.
    for (s, user) in [(&private, "alice"), (&direct, "alice"), (&public, "bob")] {
        let (code, _, _) = fetch(&app, &path(s, user), AP).await;
        assert_eq!(code, 404, "{}", s["visibility"]);
    }
    let create = doc(&app, &format!("{}/activity", path(&public, "alice"))).await;
    assert_eq!(create["type"], "Create");
    assert_eq!(create["object"]["id"], public["uri"]);
    // Browsers following a status URI land on its page.
    let (code, h, _) = fetch(&app, &path(&public, "alice"), "text/html").await;
    assert_eq!(code, 302);
    assert_eq!(
        h["location"].to_str().unwrap(),
        public["url"].as_str().unwrap()
    );

    // Outbox: public posts and boosts only.
    app.post(
        &format!("/api/v1/statuses/{}/reblog", reply["id"].as_str().unwrap()),
        Some(&at),
        json!({}),
    )
    .await;
    let outbox = doc(&app, "/users/alice/outbox").await;
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 2);
    let first = outbox["first"].as_str().unwrap();
    let page = doc(&app, &first[first.find("/users").unwrap()..]).await;
    let items = page["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["type"], "Announce");
    assert_eq!(items[0]["object"], reply["uri"]);
    assert_eq!(items[1]["type"], "Create");
    assert_eq!(items[1]["object"]["id"], public["uri"]);

    // Followers and following.
    let followers = doc(&app, "/users/alice/followers").await;
    assert_eq!(followers["totalItems"], 1);
    let page = doc(&app, "/users/alice/followers?page=1").await;
    assert_eq!(page["orderedItems"], json!([format!("{base}/users/bob")]));
    assert_eq!(doc(&app, "/users/bob/following").await["totalItems"], 1);

    // Featured: pinned public posts.
    app.post(
        &format!("/api/v1/statuses/{}/pin", public["id"].as_str().unwrap()),
        Some(&at),
        json!({}),
    )
    .await;
    let featured = doc(&app, "/users/alice/collections/featured").await;
    assert_eq!(featured["totalItems"], 1);
    assert_eq!(featured["orderedItems"][0]["id"], public["uri"]);
    let _ = bob;
}

both_backends!(actors_and_negotiation, notes_and_collections);

fn fixture(path: &str) -> Value {
    let p = format!(
        "{}/tests/fixtures/activitypub/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .unwrap()
}

#[test]
fn mastodon_documents_parse() {
    let person: Person = serde_json::from_value(fixture("mastodon/person.json")).unwrap();
    assert_eq!(person.preferred_username, "wren");
    assert_eq!(
        person.endpoints.unwrap().shared_inbox.unwrap().as_str(),
        "https://bird.example/inbox"
    );
    assert_eq!(
        person.attachment.len(),
        1,
        "only PropertyValue attachments are kept"
    );
    assert_eq!(
        person.public_key.owner.as_str(),
        "https://bird.example/users/wren"
    );

    let note: Note = serde_json::from_value(fixture("mastodon/note.json")).unwrap();
    assert_eq!(note.summary, None);
    assert_eq!(note.cc.len(), 2);
    assert_eq!(note.in_reply_to.unwrap().host_str(), Some("nest.example"));
    let kinds: Vec<&str> = note.tag.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, vec!["Mention", "Hashtag", "Emoji"]);
    assert!(note.conversation.unwrap().starts_with("tag:nest.example"));
}

/// Every fixture parses into the type Rookery reads it as: actors into `Person`, Notes into
/// `Note`, activities into `InboxActivity` (what the inbox deserialises). Parsing is plain serde with
/// no client or runtime in reach, so no network request can happen during it.
#[test]
fn documents_from_other_servers_parse() {
    use rookery::federation::inbound::InboxActivity;
    let root = format!("{}/tests/fixtures/activitypub", env!("CARGO_MANIFEST_DIR"));
    let mut counts = (0, 0, 0);
    let mut servers = Vec::new();
    for server in std::fs::read_dir(&root).unwrap() {
        let server = server.unwrap().path();
        if !server.is_dir() {
            continue;
        }
        servers.push(server.file_name().unwrap().to_string_lossy().into_owned());
        for f in std::fs::read_dir(&server).unwrap() {
            let path = f.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let label = format!("{}/{name}", server.display());
            if name.starts_with("person") {
                let p: Person =
                    serde_json::from_value(doc).unwrap_or_else(|e| panic!("{label}: {e}"));
                assert!(!p.preferred_username.is_empty(), "{label}");
                assert_eq!(p.public_key.owner, p.id, "{label}");
                counts.0 += 1;
            } else if name.starts_with("note") {
                let n: Note =
                    serde_json::from_value(doc).unwrap_or_else(|e| panic!("{label}: {e}"));
                assert!(!n.content.is_empty(), "{label}");
                assert!(
                    !n.to.is_empty() || !n.cc.is_empty(),
                    "{label} has no addressing"
                );
                counts.1 += 1;
            } else if name == "story.json" {
                // A Story is fetched, not delivered: checked by the stories tests.
                assert_eq!(doc["type"], "Story", "{label}");
            } else {
                let a: InboxActivity =
                    serde_json::from_value(doc).unwrap_or_else(|e| panic!("{label}: {e}"));
                let _ = a;
                counts.2 += 1;
            }
        }
    }
    servers.sort();
    assert_eq!(
        servers,
        [
            "akkoma",
            "fedify",
            "gotosocial",
            "lemmy",
            "loops",
            "mastodon",
            "misskey",
            "peertube",
            "pixelfed",
            "pleroma",
            "snac"
        ]
    );
    assert!(
        counts.0 >= 7 && counts.1 >= 6 && counts.2 >= 11,
        "{counts:?}"
    );

    // A few shapes worth pinning down.
    let gts: Note = serde_json::from_value(fixture("gotosocial/note.json")).unwrap();
    assert_eq!(
        gts.to.len(),
        1,
        "GoToSocial may send a single URL for to/cc"
    );
    let pleroma: Value = fixture("pleroma/create_note.json");
    let InboxActivity::Create(c) = serde_json::from_value(pleroma).unwrap() else {
        panic!("not a Create")
    };
    assert_eq!(c.object.summary.as_deref(), Some(""));
    assert!(c.object.context.unwrap().contains("/contexts/"));
    let misskey: Person = serde_json::from_value(fixture("misskey/person.json")).unwrap();
    assert!(misskey.image.is_none(), "Misskey sends image: null");
    let InboxActivity::Undo(u) =
        serde_json::from_value(fixture("mastodon/undo_like.json")).unwrap()
    else {
        panic!()
    };
    assert_eq!(u.object.kind(), Some("Like"));
    assert!(u.object.url_field("object").is_some());
}

/// Each server's actor and Note go through the same checks and storage as fetched or delivered
/// ones: the actor is verified against its own origin and stored; the Note (when it is not a reply,
/// so nothing needs fetching) is stored with sanitised HTML and the visibility its addressing says.
async fn documents_from_other_servers_are_stored(app: TestApp) {
    use activitypub_federation::traits::Object;
    use rookery::service::activitypub::actors::ApAccount;
    let fed = rookery::service::activitypub::context::build(app.state.clone())
        .await
        .unwrap();
    let data = fed.to_request_data();
    for (server, note_visibility) in [
        ("mastodon", None),
        // Fedify addresses the public collection as `as:Public`.
        ("fedify", Some("public")),
        ("gotosocial", Some("public")),
        ("misskey", Some("public")),
        ("pixelfed", Some("public")),
        ("loops", Some("public")),
        ("peertube", None),
        ("snac", Some("public")),
        ("pleroma", None),
        ("lemmy", None),
    ] {
        let person: Person =
            serde_json::from_value(fixture(&format!("{server}/person.json"))).unwrap();
        ApAccount::verify(&person, &person.id, &data)
            .await
            .unwrap_or_else(|e| panic!("{server}: {e}"));
        let stored = ApAccount::from_json(person.clone(), &data)
            .await
            .unwrap_or_else(|e| panic!("{server}: {e}"));
        assert_eq!(stored.row.username, person.preferred_username);
        assert_eq!(
            stored.row.domain.as_deref(),
            person.id.host_str(),
            "{server}"
        );
        assert!(!stored.row.note.contains("<script"), "{server}");
        let Some(vis) = note_visibility else { continue };
        let note: Note = serde_json::from_value(fixture(&format!("{server}/note.json"))).unwrap();
        assert_eq!(note.attributed_to, person.id, "{server} fixture pair");
        let row = rookery::service::statuses::store_remote_note(
            &data,
            &stored.row,
            note.clone(),
            rookery::service::statuses::Arrival::Fetched,
        )
        .await
        .unwrap_or_else(|e| panic!("{server}: {e}"))
        .row()
        .unwrap();
        assert_eq!(row.visibility, vis, "{server}");
        assert!(!row.local);
        assert_eq!(row.uri, note.id.as_str());
        assert!(
            !row.content.contains("onclick") && !row.content.is_empty(),
            "{server}"
        );
        // Replays are no-ops.
        let again = store_fetched(&data, &stored.row, note).await;
        assert_eq!(again.id, row.id);
    }
    // A document claiming someone else's origin is refused.
    let mut forged: Person = serde_json::from_value(fixture("mastodon/person.json")).unwrap();
    forged.public_key.owner = url::Url::parse("https://evil.example/users/x").unwrap();
    assert!(ApAccount::verify(&forged, &forged.id, &data).await.is_err());
    let spoof: Person = serde_json::from_value(fixture("mastodon/person.json")).unwrap();
    assert!(
        ApAccount::verify(
            &spoof,
            &url::Url::parse("https://evil.example/").unwrap(),
            &data
        )
        .await
        .is_err()
    );
}

both_backends!(documents_from_other_servers_are_stored);

/// A remote account that deleted itself goes with its statuses, and local follow counters follow.
async fn deleted_remote_accounts_disappear(app: TestApp) {
    let (data, remote) = snac_account(&app).await;
    let note: Note = serde_json::from_value(fixture("snac/note.json")).unwrap();
    let status = store_fetched(&data, &remote, note).await;
    app.create_user("alice").await;
    let token = app.token_for("alice", "read write follow").await;
    follow_remote(&app, &token, remote.id).await;
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&token))
            .await
            .json()["following_count"],
        1
    );

    let gone = rookery::storage::accounts::delete_remote(&app.state.db, remote.id)
        .await
        .unwrap();
    assert_eq!(gone, vec![status.id]);
    app.get(&format!("/api/v1/statuses/{}", status.id), None)
        .await
        .assert_error(404);
    app.get(&format!("/api/v1/accounts/{}", remote.id), None)
        .await
        .assert_error(404);
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&token))
            .await
            .json()["following_count"],
        0
    );
}

both_backends!(deleted_remote_accounts_disappear);

/// Stores `note` by `author` as a fetched Note (kept whatever it concerns).
async fn store_fetched(
    data: &activitypub_federation::config::Data<rookery::state::AppState>,
    author: &rookery::storage::accounts::AccountRow,
    note: Note,
) -> rookery::storage::statuses::StatusRow {
    use rookery::service::statuses::{Arrival, store_remote_note};
    store_remote_note(data, author, note, Arrival::Fetched)
        .await
        .unwrap()
        .row()
        .expect("a fetched Note is stored")
}

/// Request data for calling federation code directly, and the snac fixture's actor stored as a
/// remote account.
pub(crate) async fn snac_account(
    app: &TestApp,
) -> (
    activitypub_federation::config::Data<rookery::state::AppState>,
    rookery::storage::accounts::AccountRow,
) {
    use activitypub_federation::traits::Object;
    use rookery::service::activitypub::actors::ApAccount;
    let fed = rookery::service::activitypub::context::build(app.state.clone())
        .await
        .unwrap();
    let data = fed.to_request_data();
    let person: Person = serde_json::from_value(fixture("snac/person.json")).unwrap();
    let remote = ApAccount::from_json(person, &data).await.unwrap().row;
    (data, remote)
}

/// Makes the owner of `token` follow the remote account `remote` (as after an `Accept`).
pub(crate) async fn follow_remote(app: &TestApp, token: &str, remote: i64) {
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(token))
        .await
        .json();
    let me_id: i64 = me["id"].as_str().unwrap().parse().unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    rookery::storage::relationships::upsert_follow(
        &mut tx,
        rookery::storage::relationships::FollowTable::Follows,
        me_id,
        remote,
        true,
        false,
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// A verified inbox activity is recorded as processed: a new status's receipt with the status
/// itself, anything else (here a Create nobody here follows) on its own. Replays of either find
/// the receipt, and a replayed Create stores nothing twice.
async fn inbox_receipts_are_recorded_with_the_status(app: TestApp) {
    use rookery::federation::inbound::InboxActivity;
    use rookery::storage::deliveries::already_received;
    let (data, remote) = snac_account(&app).await;
    let note = fixture("snac/note.json");
    let create = |note: &Value| -> InboxActivity {
        let id = format!("{}#create", note["id"].as_str().unwrap());
        serde_json::from_value(json!({
            "id": id, "type": "Create", "actor": remote.uri, "object": note,
        }))
        .unwrap()
    };
    let db = &app.state.db;
    let stored = || async {
        rookery::storage::statuses::find_by_uri_or_url(db, note["id"].as_str().unwrap())
            .await
            .unwrap()
            .is_some()
    };

    // Nobody here follows the author yet: dropped, but recorded as processed.
    let unfollowed = create(&note);
    let unfollowed_id = format!("{}#create", note["id"].as_str().unwrap());
    assert!(!already_received(db, &unfollowed_id).await.unwrap());
    rookery::federation::inbound::receive(unfollowed, &data)
        .await
        .unwrap();
    assert!(already_received(db, &unfollowed_id).await.unwrap());
    assert!(!stored().await, "a Note nobody here follows is not kept");

    // With a local follower, the same Note under a new activity ID is kept, once.
    app.create_user("alice").await;
    let token = app.token_for("alice", "read").await;
    follow_remote(&app, &token, remote.id).await;
    let mut again = note.clone();
    again["id"] = json!(format!("{}?v=2", note["id"].as_str().unwrap()));
    let kept_id = format!("{}#create", again["id"].as_str().unwrap());
    for _ in 0..2 {
        rookery::federation::inbound::receive(create(&again), &data)
            .await
            .unwrap();
        assert!(already_received(db, &kept_id).await.unwrap());
    }
    let home = app.get("/api/v1/timelines/home", Some(&token)).await.json();
    let uris: Vec<&str> = home
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, vec![again["id"].as_str().unwrap()], "{home}");
}

both_backends!(inbox_receipts_are_recorded_with_the_status);
