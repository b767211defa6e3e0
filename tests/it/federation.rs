//! Two (or more) real instances — separate processes, databases and `localhost:PORT` domains —
//! talking over HTTP, driven only through the client API.

use serde_json::{Value, json};

use crate::support::Backend;
use crate::support::binary::{Server, free_port, run_cli, start_server, write_config};

/// Lets instances on this machine reach each other (loopback, explicit ports, plain http).
pub const DEV_FEDERATION: &str = "[federation]\nallow_private_addresses = true\n";

pub struct Instance {
    pub server: Server,
    pub domain: String,
    /// Kept so the instance's files live as long as it does.
    pub _dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl Instance {
    pub async fn start(backend: Backend, extra: &str) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let cfg = write_config(dir.path(), port, backend, extra).await;
        let server = start_server(dir.path(), &cfg, port).await;
        Instance {
            server,
            domain: format!("localhost:{port}"),
            _dir: dir,
            http: reqwest::Client::new(),
        }
    }

    /// Creates a user with the CLI and returns a `read write follow` token for them.
    pub async fn user(&self, name: &str) -> String {
        self.user_with(name, "user", "read write follow").await
    }

    /// Creates a user with a role and returns a token with `scopes`.
    pub async fn user_with(&self, name: &str, role: &str, scopes: &str) -> String {
        let email = format!("{name}@example.com");
        let (ok, _, err) = run_cli(
            &self.server.config,
            &[
                "admin",
                "account",
                "create",
                "--username",
                name,
                "--email",
                &email,
                "--password",
                "federation test",
                "--role",
                role,
            ],
        );
        assert!(ok, "{err}");
        let app: Value = self.http.post(self.url("/api/v1/apps")).json(&json!({"client_name": "fed test", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": scopes})).send().await.unwrap().json().await.unwrap();
        let tok: Value = self.http.post(self.url("/oauth/token")).json(&json!({
            "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": name, "password": "federation test", "scope": scopes
        })).send().await.unwrap().json().await.unwrap();
        tok["access_token"].as_str().unwrap().to_string()
    }

    /// Kills the server with SIGKILL (no chance to finish anything).
    pub fn kill(&mut self) {
        let _ = self.server.child.kill();
        let _ = self.server.child.wait();
    }

    /// Starts the server again on the same port, database and files.
    pub async fn restart(&mut self) {
        self.kill();
        let (dir, config, port) = (
            self.server.dir.clone(),
            self.server.config.clone(),
            self.server.port,
        );
        // Keep the earlier log: the new process appends to a fresh file.
        let old = std::fs::read_to_string(&self.server.log).unwrap_or_default();
        std::fs::write(dir.join("server.before-restart.log"), old).unwrap();
        self.server = start_server(&dir, &config, port).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> (u16, Value) {
        let r = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The server's log without terminal colour codes.
    pub fn log(&self) -> String {
        let raw = std::fs::read_to_string(&self.server.log).unwrap_or_default();
        regex::Regex::new("\x1b\\[[0-9;]*m")
            .unwrap()
            .replace_all(&raw, "")
            .into_owned()
    }
}

#[tokio::test]
async fn an_instance_resolves_accounts_on_another() {
    // A on SQLite, B on PostgreSQL.
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let (s, _) = b
        .send(
            reqwest::Method::PATCH,
            "/api/v1/accounts/update_credentials",
            &bob,
            json!({
                "display_name": "Bob <script>", "note": "I <3 birds", "locked": true,
                "fields_attributes": [{"name": "Site", "value": "https://bob.example"}]
            }),
        )
        .await;
    assert_eq!(s, 200);

    // Unknown to A, and not looked up without `resolve`.
    let (s, r) = a
        .get(&format!("/api/v2/search?q=@bob@{}", b.domain), &alice)
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["accounts"], json!([]));

    let (s, r) = a
        .get(
            &format!(
                "/api/v2/search?q=@bob@{}&resolve=true&type=accounts",
                b.domain
            ),
            &alice,
        )
        .await;
    assert_eq!(s, 200, "{r}\n{}", a.log());
    let found = &r["accounts"][0];
    assert_eq!(
        found["acct"],
        format!("bob@{}", b.domain),
        "{r}\nA log:\n{}",
        a.log()
    );
    assert_eq!(found["username"], "bob");
    assert_eq!(
        found["display_name"], "Bob <script>",
        "display names are plain text, escaped by clients"
    );
    assert_eq!(found["locked"], true);
    assert_eq!(found["url"], format!("http://{}/@bob", b.domain));
    assert!(
        found["note"].as_str().unwrap().contains("I &lt;3 birds"),
        "{found}"
    );
    assert!(
        found["fields"][0]["value"]
            .as_str()
            .unwrap()
            .contains("href=\"https://bob.example\"")
    );
    let id = found["id"].as_str().unwrap().to_string();

    // Lookup and the actor URL find the same stored account; its page on A works.
    let (s, l) = a
        .get(
            &format!("/api/v1/accounts/lookup?acct=bob@{}", b.domain),
            &alice,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(l["id"], id.as_str());
    let (_, r) = a
        .get(
            &format!(
                "/api/v2/search?q=http://{}/users/bob&resolve=true",
                b.domain
            ),
            &alice,
        )
        .await;
    assert_eq!(r["accounts"][0]["id"], id.as_str());
    let (s, acct) = a.get(&format!("/api/v1/accounts/{id}"), &alice).await;
    assert_eq!(s, 200);
    assert_eq!(acct["acct"], format!("bob@{}", b.domain));
    // B is now a known peer of A.
    let (_, peers) = a.get("/api/v1/instance/peers", &alice).await;
    assert_eq!(peers, json!([b.domain]));

    // Someone who does not exist on B: no result, no error.
    let (s, r) = a
        .get(
            &format!("/api/v2/search?q=@nobody@{}&resolve=true", b.domain),
            &alice,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["accounts"], json!([]));
    let (s, _) = a
        .get(
            &format!("/api/v1/accounts/lookup?acct=nobody@{}", b.domain),
            &alice,
        )
        .await;
    assert_eq!(s, 404);
    // Resolving needs a signed-in user.
    let r = a
        .http
        .get(a.url(&format!("/api/v2/search?q=@bob@{}&resolve=true", b.domain)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn outgoing_fetches_to_private_addresses_are_refused_by_default() {
    let b = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    b.user("bob").await;
    // A keeps the default guard: loopback, private and link-local targets are refused.
    let a = Instance::start(Backend::Sqlite, "").await;
    let alice = a.user("alice").await;
    for q in [
        format!("@bob@{}", b.domain),
        format!("http://{}/users/bob", b.domain),
    ] {
        let (s, r) = a
            .get(
                &format!("/api/v2/search?q={}&resolve=true", urlencoding::encode(&q)),
                &alice,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(r["accounts"], json!([]), "{q}");
    }
    let log = b.log();
    assert!(
        !log.contains("/.well-known/webfinger") && !log.contains("path=/users/bob"),
        "B was contacted:\n{log}"
    );
}

/// Polls `check` every 100 ms for up to `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

pub async fn resolve(inst: &Instance, token: &str, acct: &str) -> String {
    let (_, r) = inst
        .get(
            &format!(
                "/api/v2/search?q={}&resolve=true&type=accounts",
                urlencoding::encode(acct)
            ),
            token,
        )
        .await;
    r["accounts"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("could not resolve {acct}: {r}\n{}", inst.log()))
        .to_string()
}

fn home_ids(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["uri"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn follow_across_instances_and_receive_posts() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let bob_on_a = resolve(&a, &alice, &format!("bob@{}", b.domain)).await;

    // Follow: pending until B accepts.
    let (s, rel) = a
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/accounts/{bob_on_a}/follow"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{rel}");
    assert!(
        rel["requested"] == true || rel["following"] == true,
        "{rel}"
    );
    let accepted = eventually(10, || async {
        let (_, r) = a
            .get(
                &format!("/api/v1/accounts/relationships?id[]={bob_on_a}"),
                &alice,
            )
            .await;
        r[0]["following"] == true
    })
    .await;
    assert!(
        accepted,
        "no Accept arrived\nA:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    // B sees alice as a follower, and bob got a follow notification.
    let (_, bob_me) = b.get("/api/v1/accounts/verify_credentials", &bob).await;
    assert_eq!(bob_me["followers_count"], 1);
    let (_, notes) = b.get("/api/v1/notifications", &bob).await;
    assert_eq!(notes[0]["type"], "follow");
    assert_eq!(notes[0]["account"]["acct"], format!("alice@{}", a.domain));

    // Bob posts: public, followers-only, and a direct message to someone else; alice's home on A
    // gets the first two.
    let (_, public) = b
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": "Hello from B #fedi"}),
        )
        .await;
    let (_, private) = b
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": "followers only", "visibility": "private"}),
        )
        .await;
    let arrived = eventually(10, || async {
        let (_, h) = a.get("/api/v1/timelines/home", &alice).await;
        let ids = home_ids(&h);
        ids.contains(&public["uri"].as_str().unwrap().to_string())
            && ids.contains(&private["uri"].as_str().unwrap().to_string())
    })
    .await;
    assert!(
        arrived,
        "posts did not arrive\nA:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    let (_, h) = a.get("/api/v1/timelines/home", &alice).await;
    let p = h
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uri"] == public["uri"])
        .unwrap();
    assert_eq!(p["account"]["acct"], format!("bob@{}", b.domain));
    assert_eq!(p["visibility"], "public");
    assert!(p["content"].as_str().unwrap().contains("Hello from B"));
    assert_eq!(p["tags"][0]["name"], "fedi");
    let q = h
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uri"] == private["uri"])
        .unwrap();
    assert_eq!(q["visibility"], "private");
    // The author sees where it went.
    let (s, d) = b
        .get(
            &format!(
                "/api/v1/statuses/{}/deliveries",
                public["id"].as_str().unwrap()
            ),
            &bob,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(d[0]["domain"], a.domain.as_str());
    assert_eq!(d[0]["state"], "delivered", "{d}");

    // A delete travels too.
    b.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/statuses/{}", public["id"].as_str().unwrap()),
        &bob,
        json!({}),
    )
    .await;
    let gone = eventually(10, || async {
        let (_, h) = a.get("/api/v1/timelines/home", &alice).await;
        !home_ids(&h).contains(&public["uri"].as_str().unwrap().to_string())
    })
    .await;
    assert!(gone, "the deletion did not arrive\nA:\n{}", a.log());

    // Unfollow: B forgets the follower.
    a.send(
        reqwest::Method::POST,
        &format!("/api/v1/accounts/{bob_on_a}/unfollow"),
        &alice,
        json!({}),
    )
    .await;
    let undone = eventually(10, || async {
        let (_, me) = b.get("/api/v1/accounts/verify_credentials", &bob).await;
        me["followers_count"] == 0
    })
    .await;
    assert!(undone, "the Undo did not arrive\nB:\n{}", b.log());
}

/// The local ID on `inst` of the status with ActivityPub ID `uri` (once it has arrived).
pub async fn local_id(inst: &Instance, token: &str, uri: &str) -> Option<String> {
    let (_, r) = inst
        .get(
            &format!(
                "/api/v2/search?q={}&type=statuses",
                urlencoding::encode(uri)
            ),
            token,
        )
        .await;
    r["statuses"][0]["id"].as_str().map(String::from)
}

pub async fn follow(inst: &Instance, token: &str, id: &str) {
    let (s, r) = inst
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/accounts/{id}/follow"),
            token,
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
}

/// The user of `token` on `inst` looks up `username` on `other`, follows them and waits until the
/// follow is accepted; returns the followed account's ID on `inst`.
pub async fn follow_across(
    inst: &Instance,
    token: &str,
    other: &Instance,
    username: &str,
) -> String {
    let id = resolve(inst, token, &format!("{username}@{}", other.domain)).await;
    follow(inst, token, &id).await;
    assert!(
        wait_following(inst, token, &id).await,
        "{username} not followed"
    );
    id
}

pub async fn wait_following(inst: &Instance, token: &str, id: &str) -> bool {
    eventually(10, || async {
        let (_, r) = inst
            .get(&format!("/api/v1/accounts/relationships?id[]={id}"), token)
            .await;
        r[0]["following"] == true
    })
    .await
}

#[tokio::test]
async fn interactions_travel_both_ways() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let carol = b.user("carol").await;
    let bob_on_a = resolve(&a, &alice, &format!("bob@{}", b.domain)).await;
    let alice_on_b = resolve(&b, &bob, &format!("alice@{}", a.domain)).await;
    follow(&a, &alice, &bob_on_a).await;
    follow(&b, &bob, &alice_on_b).await;
    assert!(
        wait_following(&a, &alice, &bob_on_a).await,
        "A: {}\nB: {}",
        a.log(),
        b.log()
    );
    assert!(wait_following(&b, &bob, &alice_on_b).await);

    // A mention across servers notifies; the post arrives.
    let (_, post) = b
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": format!("hello @alice@{}", a.domain)}),
        )
        .await;
    let uri = post["uri"].as_str().unwrap().to_string();
    assert!(
        eventually(10, || async { local_id(&a, &alice, &uri).await.is_some() }).await,
        "A: {}",
        a.log()
    );
    let on_a = local_id(&a, &alice, &uri).await.unwrap();
    let (_, notes) = a.get("/api/v1/notifications?types[]=mention", &alice).await;
    assert_eq!(notes[0]["status"]["uri"], uri.as_str(), "{notes}");

    // Like and boost from A reach B's author and counters.
    a.send(
        reqwest::Method::POST,
        &format!("/api/v1/statuses/{on_a}/favourite"),
        &alice,
        json!({}),
    )
    .await;
    a.send(
        reqwest::Method::POST,
        &format!("/api/v1/statuses/{on_a}/reblog"),
        &alice,
        json!({}),
    )
    .await;
    let bob_post = post["id"].as_str().unwrap().to_string();
    assert!(
        eventually(10, || async {
            let (_, s) = b.get(&format!("/api/v1/statuses/{bob_post}"), &bob).await;
            s["favourites_count"] == 1 && s["reblogs_count"] == 1
        })
        .await,
        "B: {}",
        b.log()
    );
    let (_, notes) = b
        .get(
            "/api/v1/notifications?types[]=favourite&types[]=reblog",
            &bob,
        )
        .await;
    assert_eq!(notes.as_array().unwrap().len(), 2, "{notes}");

    // A reply from A threads on B.
    let (_, reply) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": format!("@bob@{} hi back", b.domain), "in_reply_to_id": on_a}),
        )
        .await;
    assert!(
        eventually(10, || async {
            let (_, c) = b
                .get(&format!("/api/v1/statuses/{bob_post}/context"), &bob)
                .await;
            c["descendants"][0]["uri"] == reply["uri"]
        })
        .await,
        "B: {}",
        b.log()
    );

    // An edit on B reaches A, with history.
    b.send(
        reqwest::Method::PUT,
        &format!("/api/v1/statuses/{bob_post}"),
        &bob,
        json!({"status": "hello, edited"}),
    )
    .await;
    assert!(
        eventually(10, || async {
            let (_, s) = a.get(&format!("/api/v1/statuses/{on_a}"), &alice).await;
            s["content"].as_str().unwrap_or("").contains("edited") && s["edited_at"].is_string()
        })
        .await,
        "A: {}",
        a.log()
    );
    let (_, hist) = a
        .get(&format!("/api/v1/statuses/{on_a}/history"), &alice)
        .await;
    assert_eq!(hist.as_array().unwrap().len(), 2);

    // Undoing the like and the boost is reflected on B.
    a.send(
        reqwest::Method::POST,
        &format!("/api/v1/statuses/{on_a}/unfavourite"),
        &alice,
        json!({}),
    )
    .await;
    a.send(
        reqwest::Method::POST,
        &format!("/api/v1/statuses/{on_a}/unreblog"),
        &alice,
        json!({}),
    )
    .await;
    assert!(
        eventually(10, || async {
            let (_, s) = b.get(&format!("/api/v1/statuses/{bob_post}"), &bob).await;
            s["favourites_count"] == 0 && s["reblogs_count"] == 0
        })
        .await,
        "B: {}",
        b.log()
    );

    // A direct message reaches only its recipient.
    let (_, dm) = b
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": format!("@alice@{} secret", a.domain), "visibility": "direct"}),
        )
        .await;
    let dm_uri = dm["uri"].as_str().unwrap().to_string();
    assert!(
        eventually(10, || async {
            local_id(&a, &alice, &dm_uri).await.is_some()
        })
        .await
    );
    let dm_on_a = local_id(&a, &alice, &dm_uri).await.unwrap();
    let (_, s) = a.get(&format!("/api/v1/statuses/{dm_on_a}"), &alice).await;
    assert_eq!(s["visibility"], "direct");
    let other = a.user("other").await;
    let (code, _) = a.get(&format!("/api/v1/statuses/{dm_on_a}"), &other).await;
    assert_eq!(code, 404);

    // Profile changes travel.
    b.send(
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        &bob,
        json!({"display_name": "Robert"}),
    )
    .await;
    assert!(
        eventually(10, || async {
            let (_, acct) = a.get(&format!("/api/v1/accounts/{bob_on_a}"), &alice).await;
            acct["display_name"] == "Robert"
        })
        .await,
        "A: {}",
        a.log()
    );

    // A locked account's follow request is authorised across servers.
    b.send(
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        &carol,
        json!({"locked": true}),
    )
    .await;
    let carol_on_a = resolve(&a, &alice, &format!("carol@{}", b.domain)).await;
    follow(&a, &alice, &carol_on_a).await;
    assert!(
        eventually(10, || async {
            let (_, reqs) = b.get("/api/v1/follow_requests", &carol).await;
            reqs.as_array().is_some_and(|r| !r.is_empty())
        })
        .await,
        "B: {}",
        b.log()
    );
    let (_, rel) = a
        .get(
            &format!("/api/v1/accounts/relationships?id[]={carol_on_a}"),
            &alice,
        )
        .await;
    assert_eq!(rel[0]["requested"], true);
    assert_eq!(rel[0]["following"], false);
    let (_, reqs) = b.get("/api/v1/follow_requests", &carol).await;
    let requester = reqs[0]["id"].as_str().unwrap().to_string();
    b.send(
        reqwest::Method::POST,
        &format!("/api/v1/follow_requests/{requester}/authorize"),
        &carol,
        json!({}),
    )
    .await;
    assert!(
        wait_following(&a, &alice, &carol_on_a).await,
        "A: {}",
        a.log()
    );

    // A block ends the follow on both sides and stops delivery.
    b.send(
        reqwest::Method::POST,
        &format!("/api/v1/accounts/{alice_on_b}/block"),
        &bob,
        json!({}),
    )
    .await;
    assert!(
        eventually(10, || async {
            let (_, r) = a
                .get(
                    &format!("/api/v1/accounts/relationships?id[]={bob_on_a}"),
                    &alice,
                )
                .await;
            r[0]["following"] == false
        })
        .await,
        "A: {}",
        a.log()
    );
    let (_, after) = b
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": "after the block"}),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        local_id(&a, &alice, after["uri"].as_str().unwrap())
            .await
            .is_none(),
        "a post after the block arrived"
    );
    let (_, d) = b
        .get(
            &format!(
                "/api/v1/statuses/{}/deliveries",
                after["id"].as_str().unwrap()
            ),
            &bob,
        )
        .await;
    assert_eq!(
        d,
        json!([]),
        "nothing is queued for the blocked follower's server"
    );
}

/// Fast retries so crash tests finish quickly.
pub const FAST_RETRY: &str =
    "[federation]\nallow_private_addresses = true\nretry_initial_seconds = 1\n";

pub async fn statuses_of(inst: &Instance, token: &str) -> Vec<String> {
    let (_, h) = inst.get("/api/v1/timelines/home?limit=40", token).await;
    home_ids(&h)
}

#[tokio::test]
async fn deliveries_survive_a_dead_receiver_and_a_killed_sender() {
    let mut a = Instance::start(Backend::Postgres, FAST_RETRY).await;
    let mut b = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let alice_on_b = resolve(&b, &bob, &format!("alice@{}", a.domain)).await;
    follow(&b, &bob, &alice_on_b).await;
    assert!(wait_following(&b, &bob, &alice_on_b).await);

    // B is killed; alice posts while it is down.
    b.kill();
    let mut uris = Vec::new();
    let mut first_id = String::new();
    for i in 0..5 {
        let (_, s) = a
            .send(
                reqwest::Method::POST,
                "/api/v1/statuses",
                &alice,
                json!({"status": format!("while B was down {i}")}),
            )
            .await;
        if i == 0 {
            first_id = s["id"].as_str().unwrap().to_string();
        }
        uris.push(s["uri"].as_str().unwrap().to_string());
    }
    // A tried, failed, and keeps the delivery pending with the error.
    assert!(
        eventually(10, || async {
            let (_, d) = a
                .get(&format!("/api/v1/statuses/{first_id}/deliveries"), &alice)
                .await;
            d[0]["state"] == "pending"
                && d[0]["attempts"].as_i64().unwrap_or(0) >= 1
                && d[0]["last_error"].is_string()
        })
        .await,
        "A: {}",
        a.log()
    );

    // Then A is killed too, before B comes back; both restart.
    a.kill();
    b.restart().await;
    a.restart().await;
    assert!(
        eventually(20, || async {
            let got = statuses_of(&b, &bob).await;
            uris.iter().all(|u| got.contains(u))
        })
        .await,
        "posts were lost\nA: {}\nB: {}",
        a.log(),
        b.log()
    );
    let got = statuses_of(&b, &bob).await;
    for u in &uris {
        assert_eq!(
            got.iter().filter(|g| *g == u).count(),
            1,
            "{u} arrived more than once"
        );
    }
    let (_, d) = a
        .get(&format!("/api/v1/statuses/{first_id}/deliveries"), &alice)
        .await;
    assert_eq!(d[0]["state"], "delivered", "{d}");
}

#[tokio::test]
async fn a_sender_killed_during_fan_out_loses_nothing() {
    let mut a = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    let b = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    let c = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let carol = c.user("carol").await;
    for (inst, token) in [(&b, &bob), (&c, &carol)] {
        let id = resolve(inst, token, &format!("alice@{}", a.domain)).await;
        follow(inst, token, &id).await;
        assert!(wait_following(inst, token, &id).await);
    }
    // Twenty posts to two servers, then SIGKILL right after the last one is accepted.
    let mut uris = Vec::new();
    for i in 0..20 {
        let (_, s) = a
            .send(
                reqwest::Method::POST,
                "/api/v1/statuses",
                &alice,
                json!({"status": format!("fan-out {i}")}),
            )
            .await;
        uris.push(s["uri"].as_str().unwrap().to_string());
    }
    a.kill();
    a.restart().await;
    for (inst, token) in [(&b, &bob), (&c, &carol)] {
        assert!(
            eventually(20, || async {
                let got = statuses_of(inst, token).await;
                uris.iter().all(|u| got.contains(u))
            })
            .await,
            "posts were lost\nA: {}\nreceiver: {}",
            a.log(),
            inst.log()
        );
        let got = statuses_of(inst, token).await;
        for u in &uris {
            assert_eq!(
                got.iter().filter(|g| *g == u).count(),
                1,
                "{u} arrived more than once"
            );
        }
    }
}

#[tokio::test]
async fn a_blocked_domain_is_cut_off() {
    let a = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    let b = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    let admin = a
        .user_with("root", "admin", "read write follow admin:read admin:write")
        .await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let alice_on_b = resolve(&b, &bob, &format!("alice@{}", a.domain)).await;
    follow(&b, &bob, &alice_on_b).await;
    assert!(wait_following(&b, &bob, &alice_on_b).await);

    // Only admins, with the scope, and only real domain names.
    let (s, _) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/admin/domain_blocks",
            &alice,
            json!({"domain": b.domain}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/admin/domain_blocks",
            &admin,
            json!({"domain": "https://x.example/path"}),
        )
        .await;
    assert_eq!(s, 422);
    let (s, block) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/admin/domain_blocks",
            &admin,
            json!({"domain": b.domain, "severity": "suspend", "private_comment": "test"}),
        )
        .await;
    assert_eq!(s, 200, "{block}");
    assert_eq!(block["domain"], b.domain.as_str());
    assert_eq!(block["severity"], "suspend");
    let (_, list) = a.get("/api/v1/admin/domain_blocks", &admin).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // The follow is gone on A; a new post is not delivered to B.
    let (_, me) = a.get("/api/v1/accounts/verify_credentials", &alice).await;
    assert_eq!(me["followers_count"], 0);
    let (_, post) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": "not for B"}),
        )
        .await;
    let (_, d) = a
        .get(
            &format!(
                "/api/v1/statuses/{}/deliveries",
                post["id"].as_str().unwrap()
            ),
            &alice,
        )
        .await;
    assert_eq!(d, json!([]));
    // B's activities are refused at A's inbox: bob's follow attempt never becomes a follow.
    b.send(
        reqwest::Method::POST,
        &format!("/api/v1/accounts/{alice_on_b}/unfollow"),
        &bob,
        json!({}),
    )
    .await;
    follow(&b, &bob, &alice_on_b).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, me) = a.get("/api/v1/accounts/verify_credentials", &alice).await;
    assert_eq!(me["followers_count"], 0);
    let refused = a
        .log()
        .lines()
        .any(|l| l.contains("path=/users/alice/inbox") && l.contains("status=403"));
    assert!(refused, "A did not refuse B's activity:\n{}", a.log());
    // B records the refusal as a final failure, not as delivered, and A still counts as reachable.
    let b_admin = b.user_with("root", "admin", "admin:read").await;
    let (s, queue) = b
        .get(
            &format!("/api/v1/admin/deliveries?domain={}", a.domain),
            &b_admin,
        )
        .await;
    assert_eq!(s, 200, "{queue}");
    let refusals: Vec<&Value> = queue
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["last_error"]
                .as_str()
                .is_some_and(|e| e.starts_with("refused with 403"))
        })
        .collect();
    // The Undo of the old follow and the new Follow.
    assert_eq!(refusals.len(), 2, "{queue}");
    for d in refusals {
        assert_eq!(d["state"], "failed", "{d}");
        assert_eq!(d["attempts"], 1, "{d}");
    }
    let (_, servers) = b.get("/api/v1/admin/instances", &b_admin).await;
    let a_health = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["domain"] == a.domain.as_str())
        .expect("A is listed");
    assert_eq!(a_health["unreachable_since"], Value::Null);
    assert_eq!(a_health["failures"], 0);
    // Nothing is fetched from B.
    let (_, r) = a
        .get(
            &format!("/api/v2/search?q=@carl@{}&resolve=true", b.domain),
            &alice,
        )
        .await;
    assert_eq!(r["accounts"], json!([]));

    // Lifting the block with the CLI lets B follow again. (A refused activity is not retried, as
    // in Mastodon, so bob follows anew.)
    let (ok, out, err) = run_cli(&a.server.config, &["admin", "domain", "unblock", &b.domain]);
    assert!(ok, "{err}");
    assert!(out.contains("unblocked"));
    b.send(
        reqwest::Method::POST,
        &format!("/api/v1/accounts/{alice_on_b}/unfollow"),
        &bob,
        json!({}),
    )
    .await;
    follow(&b, &bob, &alice_on_b).await;
    assert!(
        eventually(15, || async {
            let (_, me) = a.get("/api/v1/accounts/verify_credentials", &alice).await;
            me["followers_count"] == 1
        })
        .await,
        "A: {}\nB: {}",
        a.log(),
        b.log()
    );
    let (ok, _, _) = run_cli(&a.server.config, &["admin", "domain", "unblock", &b.domain]);
    assert!(!ok, "unblocking twice fails");
}

/// Our fetches are signed by the instance actor, which is served at /actor and found by WebFinger.
/// The peer here is a small recording server: what is tested is the request Rookery makes.
#[tokio::test]
async fn fetches_are_signed_by_the_instance_actor() {
    use axum::routing::get;
    use std::sync::{Arc, Mutex};
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let alice = a.user("alice").await;

    // The instance actor.
    let r = a
        .http
        .get(a.url("/actor"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/activity+json")
    );
    let actor: Value = r.json().await.unwrap();
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["id"], format!("http://{}/actor", a.domain));
    assert!(
        actor["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    let host = a.domain.split(':').next().unwrap();
    let wf: Value = a
        .http
        .get(a.url(&format!(
            "/.well-known/webfinger?resource=acct:{host}@{}",
            a.domain
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wf["links"][0]["href"], actor["id"]);
    // The same key after a restart-free second look.
    let again: Value = a
        .http
        .get(a.url("/actor"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["publicKey"], actor["publicKey"]);

    // A recording peer.
    let seen: Arc<Mutex<Vec<(String, Option<String>)>>> = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = format!("http://localhost:{port}");
    let (s1, s2, p1, p2) = (seen.clone(), seen.clone(), peer.clone(), peer.clone());
    let app = axum::Router::new()
        .route("/.well-known/webfinger", get(move |req: axum::extract::Request| {
            let (seen, peer) = (s1.clone(), p1.clone());
            async move {
                let sig = req.headers().get("signature").map(|v| v.to_str().unwrap().to_string());
                seen.lock().unwrap().push(("webfinger".into(), sig));
                let port = peer.rsplit(':').next().unwrap().to_string();
                (
                    [("content-type", "application/jrd+json")],
                    json!({"subject": format!("acct:peer@localhost:{port}"), "links": [{"rel": "self", "type": "application/activity+json", "href": format!("{peer}/users/peer")}]}).to_string(),
                )
            }
        }))
        .route("/users/peer", get(move |req: axum::extract::Request| {
            let (seen, peer) = (s2.clone(), p2.clone());
            async move {
                let sig = req.headers().get("signature").map(|v| v.to_str().unwrap().to_string());
                seen.lock().unwrap().push(("actor".into(), sig));
                let id = format!("{peer}/users/peer");
                (
                    [("content-type", "application/activity+json")],
                    json!({"id": id, "type": "Person", "preferredUsername": "peer", "inbox": format!("{id}/inbox"),
                           "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n"}}).to_string(),
                )
            }
        }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (_, r) = a
        .get(
            &format!("/api/v2/search?q=@peer@localhost:{port}&resolve=true"),
            &alice,
        )
        .await;
    assert_eq!(
        r["accounts"][0]["acct"],
        format!("peer@localhost:{port}"),
        "{r}\n{}",
        a.log()
    );
    let seen = seen.lock().unwrap().clone();
    let actor_fetch = seen
        .iter()
        .find(|(what, _)| what == "actor")
        .expect("the actor was fetched");
    let sig = actor_fetch
        .1
        .as_deref()
        .expect("the actor fetch was signed");
    assert!(
        sig.contains(&format!("keyId=\"http://{}/actor#main-key\"", a.domain)),
        "{sig}"
    );
}

/// Two nodes of one instance (same domain and PostgreSQL database, different ports) share the
/// delivery queue: every delivery is sent once, by one of them.
#[tokio::test]
async fn two_nodes_share_the_delivery_queue() {
    let shared = format!("{FAST_RETRY}shared_queue = true\n");
    let a1 = Instance::start(Backend::Postgres, &shared).await;
    let b = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    let alice = a1.user("alice").await;
    let admin = a1.user_with("root", "admin", "read write admin:read").await;
    let bob = b.user("bob").await;
    let alice_on_b = resolve(&b, &bob, &format!("alice@{}", a1.domain)).await;
    follow(&b, &bob, &alice_on_b).await;
    assert!(wait_following(&b, &bob, &alice_on_b).await);

    // A second node: same configuration file but another listening port.
    let port2 = free_port();
    let cfg = std::fs::read_to_string(&a1.server.config).unwrap();
    let old_bind = format!("bind = \"127.0.0.1:{}\"", a1.server.port);
    assert!(cfg.contains(&old_bind));
    let dir2 = tempfile::tempdir().unwrap();
    let cfg2 = dir2.path().join("rookery.toml");
    std::fs::write(
        &cfg2,
        cfg.replace(&old_bind, &format!("bind = \"127.0.0.1:{port2}\"")),
    )
    .unwrap();
    let _node2 = start_server(dir2.path(), &cfg2, port2).await;

    let mut uris = Vec::new();
    for i in 0..20 {
        let (_, s) = a1
            .send(
                reqwest::Method::POST,
                "/api/v1/statuses",
                &alice,
                json!({"status": format!("two nodes {i}")}),
            )
            .await;
        uris.push(s["uri"].as_str().unwrap().to_string());
    }
    assert!(
        eventually(20, || async {
            let got = statuses_of(&b, &bob).await;
            uris.iter().all(|u| got.contains(u))
        })
        .await,
        "A: {}",
        a1.log()
    );
    let (_, rows) = a1
        .get(
            &format!("/api/v1/admin/deliveries?domain={}&limit=500", b.domain),
            &admin,
        )
        .await;
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 20);
    for r in rows {
        assert_eq!(r["state"], "delivered", "{r}");
        assert_eq!(r["attempts"], 1, "sent more than once: {r}");
    }
}

#[tokio::test]
async fn a_silenced_domain_is_hidden_from_those_who_do_not_follow_it() {
    // A on PostgreSQL: the filters under test run there.
    let a = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let admin = a.user_with("root", "admin", "admin:write").await;
    let alice = a.user("alice").await;
    let carol = a.user("carol").await;
    let bob = b.user("bob").await;
    let bob_on_a = resolve(&a, &carol, &format!("bob@{}", b.domain)).await;
    follow(&a, &carol, &bob_on_a).await;
    assert!(wait_following(&a, &carol, &bob_on_a).await);

    let (s, r) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/admin/domain_blocks",
            &admin,
            json!({"domain": b.domain, "severity": "silence"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");

    // Federation goes on: bob's post and mentions still arrive.
    let alice_acct = format!("@alice@{}", a.domain);
    let carol_acct = format!("@carol@{}", a.domain);
    let (_, post) = b
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": format!("hello {alice_acct} and {carol_acct}")}),
        )
        .await;
    let uri = post["uri"].as_str().unwrap().to_string();
    assert!(
        eventually(15, || async { local_id(&a, &carol, &uri).await.is_some() }).await,
        "the post never arrived\nA: {}\nB: {}",
        a.log(),
        b.log()
    );
    let public = |token: String| {
        let a = &a;
        async move {
            let (s, r) = a.get("/api/v1/timelines/public?remote=true", &token).await;
            assert_eq!(s, 200, "{r}");
            home_ids(&r)
        }
    };
    // carol follows bob: she sees him in public timelines and is notified of his mention.
    assert!(public(carol.clone()).await.contains(&uri));
    let (_, n) = a.get("/api/v1/notifications?types[]=mention", &carol).await;
    assert_eq!(n.as_array().unwrap().len(), 1, "{n}");
    // alice does not: bob is hidden from her, and his mention does not notify her.
    assert!(!public(alice.clone()).await.contains(&uri));
    let (_, n) = a.get("/api/v1/notifications", &alice).await;
    assert_eq!(n, json!([]));
    // Nor from visitors who are not signed in.
    let anon: Value = reqwest::get(a.url("/api/v1/timelines/public"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!home_ids(&anon).contains(&uri), "{anon}");
    // The post itself stays reachable by ID: limiting is not suspension.
    let id = local_id(&a, &alice, &uri).await.expect("alice can open it");
    let (s, _) = a.get(&format!("/api/v1/statuses/{id}"), &alice).await;
    assert_eq!(s, 200);

    // bob's follow of alice (not locked) needs her approval while B is silenced.
    let alice_on_b = resolve(&b, &bob, &format!("alice@{}", a.domain)).await;
    follow(&b, &bob, &alice_on_b).await;
    let requests = poll_get(&a, &alice, "/api/v1/follow_requests", |r| {
        r.as_array().is_some_and(|r| r.len() == 1)
    })
    .await
    .unwrap_or_else(|| panic!("no follow request on A\n{}", a.log()));
    assert_eq!(requests[0]["username"], "bob");
    let (_, me) = a.get("/api/v1/accounts/verify_credentials", &alice).await;
    assert_eq!(me["followers_count"], 0);
    let (_, rel) = b
        .get(
            &format!("/api/v1/accounts/relationships?id[]={alice_on_b}"),
            &bob,
        )
        .await;
    assert_eq!(rel[0]["requested"], true, "{rel}");

    // Once the silence is lifted, bob shows for everyone again.
    let (ok, _, err) = run_cli(&a.server.config, &["admin", "domain", "unblock", &b.domain]);
    assert!(ok, "{err}");
    assert!(public(alice.clone()).await.contains(&uri));
}

/// Uploads a fixture to an instance with `POST /api/v1/media` (waits for processing).
async fn upload_media(inst: &Instance, token: &str, name: &str, mime: &str) -> Value {
    let form = reqwest::multipart::Form::new()
        .text("description", format!("alt for {name}"))
        .part(
            "file",
            reqwest::multipart::Part::bytes(crate::media::fixture(name))
                .file_name(name.to_string())
                .mime_str(mime)
                .unwrap(),
        );
    let r = inst
        .http
        .post(inst.url("/api/v1/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn photos_and_a_video_travel_with_their_post() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    photos_and_a_video_travel(a, b, false).await
}

/// Both instances keep media in S3 buckets: A's URLs point into its bucket, and B, which
/// prefetches remote media, copies A's files into its own before anyone looks.
#[tokio::test]
async fn photos_and_a_video_travel_between_s3_buckets() {
    use crate::support::s3::media_toml;
    let on_s3 = |toml: String| format!("{DEV_FEDERATION}\n{toml}");
    let a = Instance::start(Backend::Postgres, &on_s3(media_toml("").await)).await;
    let b = Instance::start(
        Backend::Sqlite,
        &on_s3(media_toml("remote_prefetch = true").await),
    )
    .await;
    photos_and_a_video_travel(a, b, true).await
}

async fn photos_and_a_video_travel(a: Instance, b: Instance, b_prefetches: bool) {
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    // Alice's avatar travels with her actor document.
    let form = reqwest::multipart::Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(crate::media::fixture("photo.jpg"))
            .file_name("me.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let r = a
        .http
        .patch(a.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let alice_on_b = resolve(&b, &bob, &format!("alice@{}", a.domain)).await;
    follow(&b, &bob, &alice_on_b).await;
    assert!(wait_following(&b, &bob, &alice_on_b).await, "{}", a.log());

    let media = [
        upload_media(&a, &alice, "photo.jpg", "image/jpeg").await,
        upload_media(&a, &alice, "photo.png", "image/png").await,
        upload_media(&a, &alice, "clip.webm", "video/webm").await,
    ];
    let ids: Vec<&str> = media.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let (s, post) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": "holiday pictures", "media_ids": ids}),
        )
        .await;
    assert_eq!(s, 200, "{post}");
    let uri = post["uri"].as_str().unwrap().to_string();

    let mut seen = Value::Null;
    for _ in 0..200 {
        let (_, home) = b.get("/api/v1/timelines/home", &bob).await;
        if let Some(s) = home
            .as_array()
            .and_then(|h| h.iter().find(|s| s["uri"] == uri.as_str()))
        {
            seen = s.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        !seen.is_null(),
        "the post did not reach B:\n{}\n{}",
        a.log(),
        b.log()
    );
    let got = seen["media_attachments"].as_array().unwrap();
    assert_eq!(got.len(), 3, "{seen}");
    if b_prefetches {
        // Each original and its preview reach B's store without anyone viewing them.
        let config = rookery::config::Config::load(Some(&b.server.config)).unwrap();
        let mut cached = Vec::new();
        for _ in 0..300 {
            cached = crate::support::s3::stored_keys(&config)
                .await
                .into_iter()
                .filter(|k| k.starts_with("cache/"))
                .collect();
            if cached.len() >= 6 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(cached.len(), 6, "{cached:?}\n{}", b.log());
    }
    for (theirs, ours) in got.iter().zip(media.iter()) {
        assert_eq!(theirs["type"], ours["type"]);
        assert_eq!(theirs["blurhash"], ours["blurhash"], "{theirs}");
        assert_eq!(theirs["description"], ours["description"]);
        assert_eq!(theirs["remote_url"], ours["url"]);
        assert_eq!(
            theirs["meta"]["original"]["width"], ours["meta"]["original"]["width"],
            "{theirs}"
        );
        // B's URL is its own: its media proxy, where the first view fetches the file from A and
        // caches it — or, when B's prefetch finished before the post was read, B's own bucket.
        let url = theirs["url"].as_str().unwrap();
        let mut own = vec![format!("http://{}/", b.domain)];
        if b_prefetches {
            let s3 = rookery::config::Config::load(Some(&b.server.config))
                .unwrap()
                .media
                .s3;
            own.push(format!(
                "{}/{}/",
                s3.endpoint.trim_end_matches('/'),
                s3.bucket
            ));
        }
        assert!(
            own.iter().any(|p| url.starts_with(p.as_str())),
            "{url} not in {own:?}"
        );
        let (status, ct, bytes) = crate::media::fetch(url).await;
        assert_eq!(status, 200, "{url}\n{}", b.log());
        let (_, original_ct, original) = crate::media::fetch(ours["url"].as_str().unwrap()).await;
        assert_eq!(ct, original_ct);
        if ours["type"] == "video" {
            assert_eq!(bytes, original, "the video is kept as sent");
        }
        let (status, ct, _) = crate::media::fetch(theirs["preview_url"].as_str().unwrap()).await;
        assert_eq!(status, 200, "preview of {theirs}");
        assert!(ct.starts_with("image/"), "{ct}");
    }
    // The avatar is shown from B too.
    let (_, account) = b.get(&format!("/api/v1/accounts/{alice_on_b}"), &bob).await;
    let avatar = account["avatar"].as_str().unwrap();
    assert!(!avatar.ends_with("missing.png"), "{account}");
    let (status, ct, _) = crate::media::fetch(avatar).await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "image/jpeg"),
        "{avatar}\n{}",
        b.log()
    );
}

/// The stories a followed account on B posts reach its follower on A (an `Add` with a bearcap, the
/// Story fetched with it); views, replies and reactions travel back; nobody else can see or fetch
/// them; expiry and deletion on B remove them on A too (a `Delete`), files included.
#[tokio::test]
async fn stories_reach_followers_and_expire_everywhere() {
    use reqwest::Method;
    let a = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let carol = a.user("carol").await;
    let bob = b.user("bob").await;
    let bob_on_a = resolve(&a, &alice, &format!("bob@{}", b.domain)).await;
    follow(&a, &alice, &bob_on_a).await;
    assert!(wait_following(&a, &alice, &bob_on_a).await, "{}", a.log());

    let photo = upload_media(&b, &bob, "photo.jpg", "image/jpeg").await;
    let video = upload_media(&b, &bob, "vertical.mp4", "video/mp4").await;
    let mut posted = Vec::new();
    for m in [&photo, &video] {
        let (s, story) = b
            .send(
                Method::POST,
                "/api/v1/stories",
                &bob,
                json!({"media_id": m["id"]}),
            )
            .await;
        assert_eq!(s, 200, "{story}");
        posted.push(story);
    }

    // Alice's tray on A shows Bob with both, in order, with media served from A.
    let tray = poll_get(&a, &alice, "/api/v1/stories", |tray| {
        tray.as_array().is_some_and(|t| {
            t.iter().any(|e| {
                e["account"]["id"] == bob_on_a.as_str()
                    && e["stories"].as_array().is_some_and(|s| s.len() == 2)
            })
        })
    })
    .await
    .unwrap_or_else(|| panic!("stories did not reach A:\n{}\n{}", a.log(), b.log()));
    let entry = tray[0].clone();
    let theirs: Vec<Value> = entry["stories"].as_array().unwrap().clone();
    for (t, ours) in theirs.iter().zip(&posted) {
        assert_eq!(t["uri"], ours["uri"]);
        assert_eq!(t["duration"], ours["duration"]);
        assert_eq!(
            t["media_attachment"]["type"],
            ours["media_attachment"]["type"]
        );
        let (status, _, _) =
            crate::media::fetch(t["media_attachment"]["url"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{t}\n{}", a.log());
    }
    let story_a = theirs[0]["id"].as_str().unwrap().to_string();

    // Carol, who does not follow Bob, sees nothing; the story document needs the capability.
    let (s, _) = a.get(&format!("/api/v1/stories/{story_a}"), &carol).await;
    assert_eq!(s, 404);
    let (_, tray) = a.get("/api/v1/stories", &carol).await;
    assert_eq!(tray, json!([]));
    let uri = posted[0]["uri"].as_str().unwrap();
    for auth in [None, Some("Bearer not-the-token-at-all")] {
        let mut req = reqwest::Client::new()
            .get(uri)
            .header("accept", "application/activity+json");
        if let Some(h) = auth {
            req = req.header("authorization", h);
        }
        assert_eq!(req.send().await.unwrap().status(), 404, "{auth:?}");
    }

    // A server with a follower of Bob may fetch it by signing the request (A's instance actor);
    // a signature that does not verify is refused.
    let a_config = rookery::config::Config::load(Some(&a.server.config)).unwrap();
    let a_db = rookery::storage::Db::connect(&a_config.database.url, 1)
        .await
        .unwrap();
    let (_, a_private) = rookery::federation::instance_actor::keys(&a_db)
        .await
        .unwrap();
    let key_id = format!("http://{}/actor#main-key", a.domain);
    let signed = signed_get(uri, &key_id, &a_private, false).await;
    assert_eq!(signed.status(), 200, "{}", b.log());
    let doc: Value = signed.json().await.unwrap();
    assert_eq!(doc["type"], "Story");
    assert_eq!(
        doc["attributedTo"],
        format!("http://{}/users/bob", b.domain)
    );
    assert_eq!(doc["attachment"]["type"], "Image");
    let forged = signed_get(uri, &key_id, &a_private, true).await;
    assert_eq!(forged.status(), 401);
    // Nobody on A follows Erin: A's signature does not open her story.
    let erin = b.user("erin").await;
    let erins = upload_media(&b, &erin, "photo.png", "image/png").await;
    let (s, erin_story) = b
        .send(
            Method::POST,
            "/api/v1/stories",
            &erin,
            json!({"media_id": erins["id"]}),
        )
        .await;
    assert_eq!(s, 200);
    let other = signed_get(
        erin_story["uri"].as_str().unwrap(),
        &key_id,
        &a_private,
        false,
    )
    .await;
    assert_eq!(other.status(), 404);

    // Alice sees, replies and reacts; Bob learns of each on B.
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/stories/{story_a}/seen"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, dm) = a
        .send(
            Method::POST,
            &format!("/api/v1/stories/{story_a}/reply"),
            &alice,
            json!({"status": "wish I were there"}),
        )
        .await;
    assert_eq!(s, 200, "{dm}");
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/stories/{story_a}/react"),
            &alice,
            json!({"emoji": "😍"}),
        )
        .await;
    assert_eq!(s, 200);
    let story_b = posted[0]["id"].as_str().unwrap().to_string();
    let seen = eventually(20, || async {
        let (_, v) = b
            .get(&format!("/api/v1/stories/{story_b}/viewers"), &bob)
            .await;
        v.as_array()
            .is_some_and(|v| v.iter().any(|x| x["account"]["username"] == "alice"))
    })
    .await;
    assert!(seen, "the View did not reach B:\n{}", b.log());
    let notes = poll_get(
        &b,
        &bob,
        "/api/v1/notifications?types[]=story_reply&types[]=story_reaction",
        |n| n.as_array().is_some_and(|n| n.len() == 2),
    )
    .await
    .unwrap_or_else(|| panic!("replies and reactions did not reach B\n{}", b.log()));
    let reply = notes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "story_reply")
        .unwrap();
    assert_eq!(reply["story"]["id"], story_b.as_str());
    assert!(
        reply["status"]["content"]
            .as_str()
            .unwrap()
            .contains("wish I were there")
    );
    assert_eq!(reply["status"]["visibility"], "direct");
    let reaction = notes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "story_reaction")
        .unwrap();
    assert_eq!(reaction["emoji"], "😍");

    // Stories stay out of Alice's timelines.
    let (_, home) = a.get("/api/v1/timelines/home", &alice).await;
    assert!(
        home.as_array()
            .unwrap()
            .iter()
            .all(|s| s["account"]["id"] != bob_on_a.as_str()),
        "{home}"
    );

    // The first expires on B (its clock moved on): gone on B, its files too, and on A by the Delete.
    let config = rookery::config::Config::load(Some(&b.server.config)).unwrap();
    let db = rookery::storage::Db::connect(&config.database.url, 1)
        .await
        .unwrap();
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    rookery::on_db!(db, c => sqlx::query("UPDATE stories SET expires_at = $1 WHERE id = $2")
        .bind(past).bind(story_b.parse::<i64>().unwrap()).execute(c).await.map(|_| ()))
    .unwrap();
    let (s, _) = b.get(&format!("/api/v1/stories/{story_b}"), &bob).await;
    assert_eq!(s, 404, "an expired story is hidden before the sweep");
    let photo_url = posted[0]["media_attachment"]["url"].as_str().unwrap();
    let swept = eventually(20, || async {
        crate::media::fetch(photo_url).await.0 == 404
    })
    .await;
    assert!(
        swept,
        "the expired story's file is still served\n{}",
        b.log()
    );
    let one_left = eventually(20, || async {
        let (_, tray) = a.get("/api/v1/stories", &alice).await;
        tray[0]["stories"].as_array().is_some_and(|s| s.len() == 1)
    })
    .await;
    assert!(
        one_left,
        "the Delete did not reach A\n{}\n{}",
        a.log(),
        b.log()
    );
    let (s, _) = a.get(&format!("/api/v1/stories/{story_a}"), &alice).await;
    assert_eq!(s, 404);
    // A's cached copy went with it.
    let cached = theirs[0]["media_attachment"]["url"].as_str().unwrap();
    assert_eq!(crate::media::fetch(cached).await.0, 404, "{cached}");

    // Bob deletes the second: gone on A as well.
    let (s, _) = b
        .send(
            Method::DELETE,
            &format!("/api/v1/stories/{}", posted[1]["id"].as_str().unwrap()),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let empty = eventually(20, || async {
        a.get("/api/v1/stories", &alice).await.1 == json!([])
    })
    .await;
    assert!(empty, "{}", a.log());
}

/// GETs `path` until `check` accepts the JSON (20 s at most).
pub async fn poll_get(
    inst: &Instance,
    token: &str,
    path: &str,
    check: impl Fn(&Value) -> bool,
) -> Option<Value> {
    for _ in 0..200 {
        let (_, v) = inst.get(path, token).await;
        if check(&v) {
            return Some(v);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

/// A GET of `url` signed draft-cavage style (`(request-target) host date`, RSA-SHA256) with the
/// PKCS#8 `private_pem` as `key_id`; with `tamper`, the signature is made over another path.
pub async fn signed_get(
    url: &str,
    key_id: &str,
    private_pem: &str,
    tamper: bool,
) -> reqwest::Response {
    let u = url::Url::parse(url).unwrap();
    let (host, date) = (host_of(&u), http_date(chrono::Utc::now()));
    let path = if tamper { "/somewhere/else" } else { u.path() };
    let signing = format!("(request-target): get {path}\nhost: {host}\ndate: {date}");
    let key = private_key(private_pem);
    reqwest::Client::new()
        .get(url)
        .header("accept", "application/activity+json")
        .header("host", host)
        .header("date", date)
        .header(
            "signature",
            signature_header(&key, key_id, "(request-target) host date", &signing),
        )
        .send()
        .await
        .unwrap()
}

/// `host:port` of `u`, as the `Host` header carries it.
fn host_of(u: &url::Url) -> String {
    format!("{}:{}", u.host_str().unwrap(), u.port().unwrap())
}

/// An HTTP `Date` header value.
fn http_date(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn private_key(pkcs8_pem: &str) -> rsa::RsaPrivateKey {
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_pem(pkcs8_pem).unwrap()
}

/// A draft-cavage `Signature` header value: `signing` signed RSA-SHA256 with `key`, which covers
/// `headers` and is named `key_id`.
fn signature_header(
    key: &rsa::RsaPrivateKey,
    key_id: &str,
    headers: &str,
    signing: &str,
) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let sig = key
        .sign(
            rsa::Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing.as_bytes()),
        )
        .unwrap();
    format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{headers}\",signature=\"{}\"",
        base64::engine::general_purpose::STANDARD.encode(sig)
    )
}

/// A short travels as Loops shapes it (a Note with one `video/mp4` Document, its size and poster),
/// arrives on A as a short in Alice's `following` feed, and Alice's favourite from A lifts the older
/// of Bob's two shorts above the newer one in B's `for_you`.
#[tokio::test]
async fn shorts_travel_and_engagement_ranks_them() {
    use reqwest::Method;
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let bob_on_a = resolve(&a, &alice, &format!("bob@{}", b.domain)).await;
    follow(&a, &alice, &bob_on_a).await;
    assert!(wait_following(&a, &alice, &bob_on_a).await, "{}", a.log());

    let mut posted = Vec::new();
    for caption in ["older #waves", "newer"] {
        let video = upload_media(&b, &bob, "vertical.mp4", "video/mp4").await;
        let (s, short) = b
            .send(
                Method::POST,
                "/api/v1/shorts",
                &bob,
                json!({"status": caption, "media_ids": [video["id"]]}),
            )
            .await;
        assert_eq!(s, 200, "{short}");
        posted.push(short);
    }
    // The Note as other servers get it.
    let note: Value = reqwest::Client::new()
        .get(posted[0]["uri"].as_str().unwrap())
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(note["type"], "Note");
    let att = &note["attachment"][0];
    assert_eq!(att["type"], "Document");
    assert_eq!(att["mediaType"], "video/mp4");
    assert!(
        att["height"].as_u64().unwrap() > att["width"].as_u64().unwrap(),
        "{att}"
    );
    assert_eq!(att["preview"]["type"], "Image");
    assert_eq!(note["tag"][0]["type"], "Hashtag");

    // On A: both in Alice's following feed, as shorts.
    let feed = poll_get(&a, &alice, "/api/v1/timelines/shorts?feed=following", |f| {
        f.as_array().is_some_and(|f| f.len() == 2)
    })
    .await
    .unwrap_or_else(|| panic!("the shorts did not reach A\n{}\n{}", a.log(), b.log()));
    assert!(feed.as_array().unwrap().iter().all(|s| s["short"] == true));
    assert!(
        feed[0]["content"].as_str().unwrap().contains("newer"),
        "{feed}"
    );
    let older_on_a = feed[1]["id"].as_str().unwrap().to_string();
    let (s, _) = a
        .send(
            Method::POST,
            &format!("/api/v1/statuses/{older_on_a}/favourite"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let older_on_b = posted[0]["id"].as_str().unwrap().to_string();
    let liked = poll_get(&b, &bob, &format!("/api/v1/statuses/{older_on_b}"), |s| {
        s["favourites_count"] == 1
    })
    .await;
    assert!(liked.is_some(), "the Like did not reach B\n{}", b.log());
    let (_, ranked) = b.get("/api/v1/timelines/shorts?feed=for_you", &bob).await;
    let order: Vec<&str> = ranked
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        vec![older_on_b.as_str(), posted[1]["id"].as_str().unwrap()]
    );
}

/// How [`signed_post`] spoils its request, if at all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spoil {
    Nothing,
    /// The `Digest` header is of another body.
    Digest,
    /// Signed by another key than the one `key_id` names.
    Key,
    /// Dated two hours ago (signatures last one hour).
    Stale,
    /// No `Signature` header.
    Unsigned,
}

/// A POST of `body` to `url`, signed draft-cavage style as Mastodon delivers
/// (`(request-target) host date digest`, RSA-SHA256) with the PKCS#8 `private_pem` as `key_id`.
pub async fn signed_post(
    url: &str,
    key_id: &str,
    private_pem: &str,
    body: &Value,
    spoil: Spoil,
) -> reqwest::Response {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let u = url::Url::parse(url).unwrap();
    let at = if spoil == Spoil::Stale {
        chrono::Utc::now() - chrono::Duration::hours(2)
    } else {
        chrono::Utc::now()
    };
    let (host, date) = (host_of(&u), http_date(at));
    let bytes = serde_json::to_vec(body).unwrap();
    let digested: &[u8] = if spoil == Spoil::Digest {
        b"{}"
    } else {
        &bytes
    };
    let digest = format!(
        "SHA-256={}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(digested))
    );
    let signing = format!(
        "(request-target): post {}\nhost: {host}\ndate: {date}\ndigest: {digest}",
        u.path()
    );
    let key = if spoil == Spoil::Key {
        rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap()
    } else {
        private_key(private_pem)
    };
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/activity+json")
        .header("host", host)
        .header("date", date)
        .header("digest", digest)
        .body(bytes);
    if spoil != Spoil::Unsigned {
        let headers = "(request-target) host date digest";
        req = req.header(
            "signature",
            signature_header(&key, key_id, headers, &signing),
        );
    }
    req.send().await.unwrap()
}

/// B's inbox takes a `Follow` signed with Alice's key on A and refuses, with 401, the same kind of
/// activity with a digest of another body, signed with another key, signed two hours ago or not
/// signed; an activity whose id is on another server than its actor is refused with 400. Only the
/// good one makes Alice a follower of Bob.
#[tokio::test]
async fn inbox_checks_signatures_and_digests() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    a.user("alice").await;
    let bob = b.user("bob").await;
    let alice_uri = format!("http://{}/users/alice", a.domain);
    // Serving Alice's actor document makes her key pair.
    let actor = reqwest::Client::new()
        .get(&alice_uri)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(actor.status(), 200);
    let a_config = rookery::config::Config::load(Some(&a.server.config)).unwrap();
    let a_db = rookery::storage::Db::connect(&a_config.database.url, 1)
        .await
        .unwrap();
    let alice_key: String = rookery::on_db!(a_db, c => sqlx::query_scalar(
        "SELECT private_key_pem FROM accounts WHERE username = 'alice' AND domain IS NULL")
        .fetch_one(c).await)
    .unwrap();
    let key_id = format!("{alice_uri}#main-key");
    let inbox = format!("http://{}/users/bob/inbox", b.domain);
    let follow = |n: &str, id_domain: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("http://{id_domain}/follows/{n}"),
            "type": "Follow",
            "actor": alice_uri,
            "object": format!("http://{}/users/bob", b.domain),
        })
    };
    let bob_id = {
        let (_, me) = b.get("/api/v1/accounts/verify_credentials", &bob).await;
        me["id"].as_str().unwrap().to_string()
    };
    let followers = || async {
        b.get(&format!("/api/v1/accounts/{bob_id}/followers"), &bob)
            .await
            .1
    };
    for (n, spoil) in [Spoil::Digest, Spoil::Key, Spoil::Stale, Spoil::Unsigned]
        .into_iter()
        .enumerate()
    {
        let r = signed_post(
            &inbox,
            &key_id,
            &alice_key,
            &follow(&format!("bad{n}"), &a.domain),
            spoil,
        )
        .await;
        assert_eq!(r.status(), 401, "{spoil:?}: {}", b.log());
    }
    let elsewhere = signed_post(
        &inbox,
        &key_id,
        &alice_key,
        &follow("elsewhere", "elsewhere.example"),
        Spoil::Nothing,
    )
    .await;
    assert_eq!(elsewhere.status(), 400, "{}", b.log());
    assert_eq!(followers().await, json!([]));
    let good = signed_post(
        &inbox,
        &key_id,
        &alice_key,
        &follow("good", &a.domain),
        Spoil::Nothing,
    )
    .await;
    assert_eq!(good.status(), 202, "{}", b.log());
    let list = followers().await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["acct"], format!("alice@{}", a.domain));
}
