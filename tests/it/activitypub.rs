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
