//! Running Rookery as operators of several machines do (issue 28): `/ready`, Prometheus
//! `/metrics` behind its token, request IDs in answers and JSON log lines, `serve --role web` and
//! `--role worker` sharing one PostgreSQL database, and concurrent migrations.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::Backend;
use crate::support::binary::{
    BIN, create_account, free_port, run_cli, start_node, start_server, write_config,
};

/// The configuration of a second node of the instance `cfg` describes (same database and
/// domain), listening on `port` (`cfg` listens on `first_port`).
fn second_node_config(
    dir: &std::path::Path,
    cfg: &std::path::Path,
    first_port: u16,
    port: u16,
    name: &str,
) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        std::fs::read_to_string(cfg).unwrap().replace(
            &format!("bind = \"127.0.0.1:{first_port}\""),
            &format!("bind = \"127.0.0.1:{port}\""),
        ),
    )
    .unwrap();
    path
}

/// Two nodes of one instance on a fresh PostgreSQL database with `federation.shared_queue` (and
/// `extra` configuration): node 1 (`all`) and node 2 (`web`), with node 1's configuration file.
async fn two_nodes(
    dir: &std::path::Path,
    extra: &str,
) -> (
    std::path::PathBuf,
    crate::support::binary::Server,
    crate::support::binary::Server,
) {
    let (p1, p2) = (free_port(), free_port());
    let cfg1 = write_config(
        dir,
        p1,
        Backend::Postgres,
        &format!("[federation]\nshared_queue = true\n{extra}"),
    )
    .await;
    let cfg2 = second_node_config(dir, &cfg1, p1, p2, "node2.toml");
    let n1 = start_node(dir, &cfg1, p1, "all").await;
    let n2 = start_node(dir, &cfg2, p2, "web").await;
    (cfg1, n1, n2)
}

#[tokio::test]
async fn readiness_metrics_request_ids_and_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = write_config(
        dir.path(),
        port,
        Backend::Sqlite,
        "[log]\nformat = \"json\"\n[metrics]\ntoken = \"scrape-secret\"\n",
    )
    .await;
    let server = start_server(dir.path(), &cfg, port).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/ready", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"ready": true}));

    // Request IDs: a usable one is kept, anything else replaced by a new one.
    let r = http
        .get(format!("{}/api/v1/instance", server.base))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-abc-123");
    for sent in [None, Some("<script>"), Some(&*"x".repeat(65))] {
        let mut req = http.get(format!("{}/api/v1/instance", server.base));
        if let Some(s) = sent {
            req = req.header("x-request-id", s);
        }
        let r = req.send().await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(
            id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }

    // Metrics: only with the token.
    let metrics = |token: Option<&'static str>| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            let mut req = http.get(format!("{base}/metrics"));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(metrics(None).await.0, 401);
    assert_eq!(metrics(Some("wrong")).await.0, 401);
    let (status, text) = metrics(Some("scrape-secret")).await;
    assert_eq!(status, 200, "{text}");
    for needle in [
        "rookery_http_requests_total{method=\"GET\",route=\"/api/v1/instance\",status=\"200\"}",
        "rookery_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/instance\"",
        "rookery_deliveries_pending 0",
        "rookery_db_pool_connections{state=\"max\"}",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }

    // Every log line is a JSON object; the request's lines carry its ID.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = std::fs::read_to_string(&server.log).unwrap();
    let mut tagged = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
        if v["span"]["request_id"] == "trace-abc-123" {
            tagged += 1;
        }
    }
    assert!(tagged >= 1, "no log line carries the request ID:\n{log}");
}

/// Without `metrics.token`, `/metrics` is not there.
#[tokio::test]
async fn metrics_are_off_without_a_token() {
    let app = crate::support::TestApp::start(Backend::Sqlite).await;
    app.get("/metrics", None).await.assert_error(404);
    assert_eq!(app.get("/ready", None).await.status, 200);
}

/// A `web` node and a `worker` node on one PostgreSQL database: the web node serves the API and
/// runs no job; the worker serves only health, readiness and metrics, and processes the web
/// node's jobs. Three nodes migrating one fresh database at once all succeed.
#[tokio::test]
async fn web_and_worker_nodes_share_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let (web_port, worker_port) = (free_port(), free_port());
    let cfg = write_config(dir.path(), web_port, Backend::Postgres, "").await;
    let worker_cfg = second_node_config(dir.path(), &cfg, web_port, worker_port, "worker.toml");
    let children: Vec<_> = (0..3)
        .map(|_| {
            std::process::Command::new(BIN)
                .args(["--config", worker_cfg.to_str().unwrap(), "migrate"])
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let web = start_node(dir.path(), &cfg, web_port, "web").await;
    create_account(&cfg, "ava", "a long password");
    let http = reqwest::Client::new();
    let token = password_token(&web.base, "ava").await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(crate::media::fixture("clip.webm"))
            .file_name("clip.webm")
            .mime_str("video/webm")
            .unwrap(),
    );
    let r = http
        .post(format!("{}/api/v2/media", web.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let media_status = || {
        let (http, url, token) = (
            http.clone(),
            format!("{}/api/v1/media/{id}", web.base),
            token.clone(),
        );
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // No worker yet: the video waits.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(media_status().await, 206);

    let worker = start_node(dir.path(), &worker_cfg, worker_port, "worker").await;
    for (path, status) in [
        ("/health", 200),
        ("/ready", 200),
        ("/api/v1/instance", 404),
        ("/metrics", 404),
    ] {
        let r = http
            .get(format!("{}{path}", worker.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{path} on the worker");
    }
    let mut processed = false;
    for _ in 0..300 {
        if media_status().await == 200 {
            processed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        processed,
        "the worker did not process the web node's job:\n{}",
        std::fs::read_to_string(&worker.log).unwrap_or_default()
    );
}

/// Periodic work runs once per interval across nodes: while one node holds a task, or within the
/// interval after it finished, no other takes it; a holder that dies (its lease lapsing) is
/// replaced.
async fn singletons_run_once_per_interval(app: crate::support::TestApp) {
    use rookery::jobs::singleton::{done, try_take};
    let db = &app.state.db;
    let hour = chrono::Duration::hours(1);
    assert!(try_take(db, "t", hour, "node-1").await.unwrap());
    assert!(
        !try_take(db, "t", hour, "node-2").await.unwrap(),
        "held by node-1"
    );
    done(db, "t", "node-1").await.unwrap();
    assert!(
        !try_take(db, "t", hour, "node-2").await.unwrap(),
        "ran less than an hour ago"
    );
    assert!(
        try_take(db, "t", chrono::Duration::zero(), "node-2")
            .await
            .unwrap(),
        "due again"
    );

    // node-1 takes another task and dies: once its lease lapses, node-2 takes over.
    assert!(try_take(db, "u", hour, "node-1").await.unwrap());
    assert!(!try_take(db, "u", hour, "node-2").await.unwrap());
    rookery::on_db!(db, c => sqlx::query("UPDATE singletons SET leased_until = $1 WHERE name = 'u'")
        .bind(chrono::Utc::now() - chrono::Duration::seconds(1)).execute(c).await.map(|_| ()))
    .unwrap();
    assert!(
        try_take(db, "u", hour, "node-2").await.unwrap(),
        "taken over"
    );
    // The story sweep itself is such a task on PostgreSQL (SQLite has one node and no lease).
    if app.backend() == crate::support::Backend::Sqlite {
        return;
    }
    let mut seen = false;
    for _ in 0..50 {
        let n: i64 = rookery::on_db!(db, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM singletons WHERE name = 'story_expiry' AND last_run_at IS NOT NULL")
            .fetch_one(c).await)
        .unwrap();
        if n == 1 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the story sweep did not run as a singleton");
}

crate::both_backends!(singletons_run_once_per_interval);

pub(crate) async fn ws_connect(base: &str, stream: &str, token: &str) -> crate::streaming::Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!(
        "{}/api/v1/streaming?stream={stream}",
        base.replace("http://", "ws://")
    )
    .into_client_request()
    .unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", token.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket");
    tokio::time::sleep(Duration::from_millis(100)).await;
    ws
}

pub(crate) async fn password_token(base: &str, user: &str) -> String {
    let http = reqwest::Client::new();
    let app: Value = http.post(format!("{base}/api/v1/apps")).json(&json!({"client_name": "ops", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})).send().await.unwrap().json().await.unwrap();
    let tok: Value = http.post(format!("{base}/oauth/token")).json(&json!({"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"], "username": user, "password": "a long password", "scope": "read write"})).send().await.unwrap().json().await.unwrap();
    tok["access_token"].as_str().unwrap().to_string()
}

/// Two nodes on one PostgreSQL database (`federation.shared_queue`): a client streaming on node 1
/// receives, in order and once, what is posted through node 2 — a large status too (sent by
/// reference) — and an announcement made from the command line; presence is right across nodes.
#[tokio::test]
async fn streaming_events_cross_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg1, n1, n2) = two_nodes(dir.path(), "").await;
    for name in ["ava", "bob"] {
        create_account(&cfg1, name, "a long password");
    }
    let ava = password_token(&n1.base, "ava").await;
    let bob = password_token(&n2.base, "bob").await;
    let mut public = ws_connect(&n1.base, "public:local", &ava).await;
    let mut user = ws_connect(&n1.base, "user", &ava).await;
    let http = reqwest::Client::new();
    let post = |text: String, media: Vec<String>| {
        let (http, base, bob) = (http.clone(), n2.base.clone(), bob.clone());
        async move {
            let r = http
                .post(format!("{base}/api/v1/statuses"))
                .bearer_auth(&bob)
                .json(&json!({"status": text, "media_ids": media}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let started = std::time::Instant::now();
    let first = post("one".into(), vec![]).await;
    let second = post("two".into(), vec![]).await;
    for expected in [&first, &second] {
        let msg = crate::streaming::next(&mut public, 5)
            .await
            .expect("an event from the other node");
        assert_eq!(msg["event"], "update");
        assert_eq!(
            crate::streaming::payload(&msg)["id"],
            expected["id"],
            "in order"
        );
    }
    println!("two statuses crossed nodes in {:?}", started.elapsed());

    // A status whose JSON is over the NOTIFY limit: four photos with long descriptions.
    let mut ids = Vec::new();
    for i in 0..4 {
        let form = reqwest::multipart::Form::new()
            .text(
                "description",
                format!("{i} {}", "a heron standing in the reeds ".repeat(45)),
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(crate::media::fixture("photo.jpg"))
                    .file_name("p.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        let r = http
            .post(format!("{}/api/v1/media", n2.base))
            .bearer_auth(&bob)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let big = post("herons".into(), ids).await;
    assert!(big.to_string().len() > 7000, "{}", big.to_string().len());
    let msg = crate::streaming::next(&mut public, 5)
        .await
        .expect("the large status");
    assert_eq!(crate::streaming::payload(&msg)["id"], big["id"]);
    assert_eq!(
        crate::streaming::payload(&msg)["media_attachments"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert!(
        crate::streaming::next(&mut public, 1).await.is_none(),
        "each event once"
    );

    // An announcement made from the command line (a third process).
    let (ok, _, err) = run_cli(
        &cfg1,
        &[
            "admin",
            "announcement",
            "create",
            "--text",
            "Maintenance at noon",
        ],
    );
    assert!(ok, "{err}");
    let mut announced = false;
    while let Some(msg) = crate::streaming::next(&mut user, 5).await {
        if msg["event"] == "announcement" {
            assert!(
                crate::streaming::payload(&msg)["content"]
                    .as_str()
                    .unwrap()
                    .contains("Maintenance")
            );
            announced = true;
            break;
        }
    }
    assert!(
        announced,
        "the command line's announcement did not reach node 1"
    );

    // Presence: ava is connected to node 1; bob, on node 2, shares a conversation with her.
    let ava_id = http
        .get(format!("{}/api/v1/accounts/verify_credentials", n1.base))
        .bearer_auth(&ava)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .post(format!("{}/api/v1/statuses", n2.base))
        .bearer_auth(&bob)
        .json(&json!({"status": "@ava hello", "visibility": "direct"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let online = || {
        let (http, base, bob, id) = (http.clone(), n2.base.clone(), bob.clone(), ava_id.clone());
        async move {
            let r: Value = http
                .get(format!("{base}/api/v1/presence?id[]={id}"))
                .bearer_auth(&bob)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r[0]["online"] == true
        }
    };
    assert!(online().await, "node 2 does not see ava online on node 1");
    let mut direct = ws_connect(&n2.base, "direct", &bob).await;
    drop(public);
    drop(user);
    assert!(
        crate::federation::eventually(10, || async { !online().await }).await,
        "still online"
    );
    let _again = ws_connect(&n1.base, "user", &ava).await;
    let mut told = false;
    while let Some(msg) = crate::streaming::next(&mut direct, 5).await {
        if msg["event"] == "rookery.presence" {
            let p = crate::streaming::payload(&msg);
            if p["account_id"] == ava_id.as_str() && p["online"] == true {
                told = true;
                break;
            }
        }
    }
    assert!(
        told,
        "bob's stream on node 2 was not told ava came online on node 1"
    );

    // Caches: node 1 keeps accounts for 5 s; a change made through node 2 shows there at once.
    let name_on_node1 = || {
        let (http, url, ava) = (
            http.clone(),
            format!("{}/api/v1/accounts/{ava_id}", n1.base),
            ava.clone(),
        );
        async move {
            http.get(url)
                .bearer_auth(ava)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["display_name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    assert_eq!(name_on_node1().await, "");
    let ava_on_n2 = password_token(&n2.base, "ava").await;
    let r = http
        .patch(format!("{}/api/v1/accounts/update_credentials", n2.base))
        .bearer_auth(&ava_on_n2)
        .json(&json!({"display_name": "Ava Heron"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let changed_at = std::time::Instant::now();
    assert!(
        crate::federation::eventually(6, || async { name_on_node1().await == "Ava Heron" }).await
    );
    let took = changed_at.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "node 1 kept the old name for {took:?}"
    );
    println!("a profile change on node 2 showed on node 1 after {took:?}");
    drop(n2);
}

/// Sign-in attempts count across nodes: a budget of 3 per address spent on node 1 refuses the
/// next attempt on node 2 (each node's own limiter would still allow it).
#[tokio::test]
async fn rate_limits_hold_across_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let (_cfg1, n1, n2) = two_nodes(dir.path(), "[rate_limits]\nsign_in_per_ip = 3\n").await;
    let http = reqwest::Client::new();
    let app: Value = http.post(format!("{}/api/v1/apps", n1.base)).json(&json!({"client_name": "ops", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"})).send().await.unwrap().json().await.unwrap();
    let attempt = |base: String| {
        let (http, app) = (http.clone(), app.clone());
        async move {
            http.post(format!("{base}/oauth/token"))
                .json(&json!({"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"], "username": "nobody", "password": "wrong guess", "scope": "read"}))
                .send().await.unwrap().status().as_u16()
        }
    };
    for _ in 0..3 {
        assert_eq!(attempt(n1.base.clone()).await, 400);
    }
    let r = attempt(n2.base.clone()).await;
    assert_eq!(r, 429, "node 2 did not count node 1's attempts");
}

/// The statuses budget is shared with a one-second local window: three statuses posted on node 1
/// spend a budget of 3, which node 2 refuses once node 1 has added them (within the window); a
/// fourth on node 1 is refused by its own limiter at once.
#[tokio::test]
async fn statuses_limit_holds_across_nodes_after_one_window() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg1, n1, n2) = two_nodes(dir.path(), "[rate_limits]\nstatuses_per_account = 3\n").await;
    create_account(&cfg1, "ava", "a long password");
    let on1 = password_token(&n1.base, "ava").await;
    let on2 = password_token(&n2.base, "ava").await;
    let http = reqwest::Client::new();
    let post = |base: String, token: String, n: u32| {
        let http = http.clone();
        async move {
            http.post(format!("{base}/api/v1/statuses"))
                .bearer_auth(token)
                .json(&json!({"status": format!("post {n}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for n in 0..3 {
        assert_eq!(post(n1.base.clone(), on1.clone(), n).await, 200);
    }
    assert_eq!(post(n1.base.clone(), on1.clone(), 3).await, 429);
    // Node 1 adds what it allowed within a window (1 s); node 2 reads the budget afresh.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        post(n2.base.clone(), on2.clone(), 4).await,
        429,
        "node 2 did not count node 1's statuses"
    );
}
