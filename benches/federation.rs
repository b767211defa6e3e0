//! Federation benchmark (issue 4).
//!
//! 0. The database gets the history of a running server first (20,000 statuses and received
//!    activities, analysed; see `seed_history`).
//! 1. Inbox throughput: this process plays 100 remote actors on `localhost:PORT` (actor documents
//!    with real RSA keys, served over HTTP), then posts signed `Create(Note)` activities mentioning a
//!    local account to the real `rookery` binary's shared inbox with 32 concurrent senders. Each 202
//!    means the digest and signature were verified and the Note stored and distributed. Reports
//!    activities per second.
//! 2. Fan-out: the server gets 1,000 remote followers spread over 200 instances (5 each, one
//!    shared inbox per instance, seeded straight into its database); this process runs the 200
//!    inboxes and records when each receives the post. Reports the seconds from `POST
//!    /api/v1/statuses` to the last arrival.
//!
//! Usage: `cargo bench --bench federation -- [--backend sqlite|postgres] [--activities 3000]
//! [--max-connections 16]`. `BENCH_ROOKERY_BIN` runs another build of the server (to compare two
//! builds on the same day); `BENCH_SERVER_LOG` sets the server's `RUST_LOG` and shows its output.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use activitypub_federation::activity_sending::SendActivityTask;
use activitypub_federation::config::FederationConfig;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use rookery::service::activitypub::actors::ApAccount;
use rookery::service::activitypub::stored::StoredActivity;
use rookery::storage::accounts::AccountRow;
use rookery::storage::{Db, ids};
use serde_json::json;
use tokio::sync::Mutex;

/// Gives the database the history of a server that has been running for a while: `n` earlier
/// statuses by the local account and `n` received activities, then `ANALYZE`, as autovacuum
/// would have done by then. From empty tables, PostgreSQL keeps the plans it made while they
/// held a page or two (sequential scans) on each connection until the next analysis, long after
/// the tables have grown, and the bench would measure those instead of the server.
async fn seed_history(db_url: &str, n: i64) {
    let db = Db::connect(db_url, 2).await.unwrap();
    let author: i64 = rookery::on_db!(db, c => sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'target'").fetch_one(c).await).unwrap();
    let since = chrono::Utc::now() - chrono::Duration::days(30);
    let first_id = ids::min_id_at(since);
    rookery::on_db!(db, c => {
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
             INSERT INTO statuses (id, uri, url, account_id, conversation_id, text, content, visibility, local, created_at) \
             SELECT $2 + i, $3 || i, $4 || i, $5, $2 + i, 'earlier', '<p>earlier</p>', 'public', $6, $7 FROM n",
        )
        .bind(n).bind(first_id).bind("http://bench.invalid/statuses/").bind("http://bench.invalid/@target/")
        .bind(author).bind(true).bind(since)
        .execute(c).await.unwrap();
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
             INSERT INTO received_activities (activity_id, received_at) \
             SELECT $2 || i, $3 FROM n",
        )
        .bind(n).bind("http://bench.invalid/activities/").bind(since)
        .execute(c).await.unwrap();
        sqlx::query("ANALYZE").execute(c).await.unwrap();
    });
    db.close().await;
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.into())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Remote {
    domain: String,
    keys: Vec<activitypub_federation::http_signatures::Keypair>,
}

/// A request body with its `Date`, `Digest` and draft-cavage `Signature` headers
/// (`(request-target) host date digest`, RSA-SHA256), made ahead of sending.
struct Presigned {
    body: String,
    date: String,
    digest: String,
    signature: String,
}

fn presign(host: &str, path: &str, key_id: &str, private_pem: &str, body: String) -> Presigned {
    use base64::Engine;
    use rsa::pkcs8::DecodePrivateKey;
    use sha2::{Digest, Sha256};
    let b64 = &base64::engine::general_purpose::STANDARD;
    let digest = format!("SHA-256={}", b64.encode(Sha256::digest(body.as_bytes())));
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let signing =
        format!("(request-target): post {path}\nhost: {host}\ndate: {date}\ndigest: {digest}");
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem).unwrap();
    let sig = key
        .sign(
            rsa::Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing.as_bytes()),
        )
        .unwrap();
    let signature = format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"{}\"",
        b64.encode(sig)
    );
    Presigned {
        body,
        date,
        digest,
        signature,
    }
}

async fn actor_doc(State(r): State<Arc<Remote>>, Path(name): Path<String>) -> impl IntoResponse {
    let n: usize = name.trim_start_matches('a').parse().unwrap_or(0);
    let id = format!("http://{}/users/a{n}", r.domain);
    let doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id, "type": "Person", "preferredUsername": format!("a{n}"),
        "inbox": format!("{id}/inbox"),
        "endpoints": {"sharedInbox": format!("http://{}/inbox", r.domain)},
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": r.keys[n].public_key},
    });
    (
        [("content-type", "application/activity+json; charset=utf-8")],
        doc.to_string(),
    )
}

fn account_row(id: i64, uri: &str, pem: &str) -> AccountRow {
    AccountRow {
        id,
        username: "a".into(),
        domain: Some("remote".into()),
        display_name: String::new(),
        note: String::new(),
        fields: sqlx::types::Json(vec![]),
        locked: false,
        bot: false,
        discoverable: true,
        indexable: false,
        uri: uri.into(),
        url: None,
        inbox_url: None,
        shared_inbox_url: None,
        public_key_pem: Some(pem.into()),
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
        avatar_media_id: None,
        header_media_id: None,
        silenced_at: None,
        suspended_at: None,
        moved_to_account_id: None,
    }
}

async fn start_rookery(dir: &std::path::Path, port: u16, db_url: &str) -> std::process::Child {
    let cfg = dir.join("bench.toml");
    std::fs::write(&cfg, format!(
        "[server]\ndomain = \"localhost:{port}\"\nbind = \"127.0.0.1:{port}\"\n[database]\nurl = \"{db_url}\"\nmax_connections = {}\n[media]\ndir = \"{}\"\n[federation]\nallow_private_addresses = true\nretry_initial_seconds = 1\n",
        arg("--max-connections", "16"),
        dir.join("media").display()
    )).unwrap();
    // BENCH_ROOKERY_BIN runs another build of the server (two builds compared on the same day).
    let bin =
        std::env::var("BENCH_ROOKERY_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_rookery").into());
    let child = Command::new(bin)
        .args(["--config", cfg.to_str().unwrap(), "serve"])
        .env(
            "RUST_LOG",
            std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(if std::env::var("BENCH_SERVER_LOG").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("http://127.0.0.1:{port}/api/v1/instance"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child
}

fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rookery"))
        .arg("--config")
        .arg(dir.join("bench.toml"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn token(base: &str, user: &str) -> String {
    let http = reqwest::Client::new();
    let app: serde_json::Value = http.post(format!("{base}/api/v1/apps")).json(&json!({"client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})).send().await.unwrap().json().await.unwrap();
    let tok: serde_json::Value = http.post(format!("{base}/oauth/token")).json(&json!({"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"], "username": user, "password": "bench password", "scope": "read write"})).send().await.unwrap().json().await.unwrap();
    tok["access_token"].as_str().unwrap().to_string()
}

#[tokio::main]
async fn main() {
    let backend = arg("--backend", "sqlite");
    let total: usize = arg("--activities", "3000").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db_url = match backend.as_str() {
        "postgres" => {
            let server = std::env::var("ROOKERY_BENCH_PG")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let name = format!("rookery_bench_fed_{}", std::process::id());
            pg_admin(&server, &format!("CREATE DATABASE {name}")).await;
            format!("{server}/{name}")
        }
        _ => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_rookery(dir.path(), port, &db_url).await;
    let pid = server.id();
    cli(
        dir.path(),
        &[
            "admin",
            "account",
            "create",
            "--username",
            "target",
            "--email",
            "t@example.com",
            "--password",
            "bench password",
        ],
    );
    let target_uri = format!("http://localhost:{port}/users/target");
    // The local actor's key exists once its document has been served.
    reqwest::Client::new()
        .get(&target_uri)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();

    seed_history(&db_url, 20_000).await;

    // --- 1. Inbox throughput --------------------------------------------------------------------
    let t0 = Instant::now();
    let keys: Vec<_> = futures_util::future::join_all((0..100).map(|_| {
        tokio::task::spawn_blocking(|| {
            activitypub_federation::http_signatures::generate_actor_keypair().unwrap()
        })
    }))
    .await
    .into_iter()
    .map(|k| k.unwrap())
    .collect();
    eprintln!("generated 100 actor keys in {:.1?}", t0.elapsed());
    let rport = free_port();
    let remote = Arc::new(Remote {
        domain: format!("localhost:{rport}"),
        keys,
    });
    let app = Router::new()
        .route("/users/{n}", get(actor_doc))
        .with_state(remote.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", rport))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let fed = FederationConfig::builder()
        .domain(remote.domain.clone())
        .app_data(())
        .debug(true)
        .build()
        .await
        .unwrap();
    let data = fed.to_request_data();
    let actors: Vec<ApAccount> = (0..100)
        .map(|n| {
            let uri = format!("http://{}/users/a{n}", remote.domain);
            let mut a = ApAccount::new(
                account_row(n as i64 + 1, &uri, &remote.keys[n].public_key),
                None,
            )
            .unwrap();
            a.private_key_pem = Some(remote.keys[n].private_key.clone());
            a
        })
        .collect();
    let inbox = url::Url::parse(&format!("http://localhost:{port}/inbox")).unwrap();
    let make = |i: usize| {
        let n = i % 100;
        let actor = &actors[n].row.uri;
        let nid = format!("{actor}/statuses/{i}");
        let doc = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{nid}/activity"), "type": "Create", "actor": actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [target_uri],
            "object": {"id": nid, "type": "Note", "attributedTo": actor, "content": format!("<p>hello {i} @target</p>"),
                "published": chrono::Utc::now(), "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [target_uri],
                "tag": [{"type": "Mention", "href": target_uri, "name": format!("@target@localhost:{port}")}]},
        });
        StoredActivity::parse(&doc.to_string()).unwrap()
    };
    // Warm-up: one activity per actor, so every actor document has been fetched once.
    for i in 0..100 {
        let a = make(1_000_000 + i);
        for t in SendActivityTask::prepare(&a, &actors[i], vec![inbox.clone()], &data)
            .await
            .unwrap()
        {
            t.sign_and_send(&data).await.unwrap();
        }
    }
    // Sign everything first (digest and draft-cavage signature, as the library would at send
    // time): the measurement is the receiver's work, not this process's RSA signing, which on a
    // 2-core machine would otherwise take most of a core from the server.
    let t0 = Instant::now();
    let host = format!("localhost:{port}");
    let jobs: Vec<(usize, String, String)> = (0..total)
        .map(|i| {
            let doc = make(i).document.to_string();
            (i, doc, remote.keys[i % 100].private_key.clone())
        })
        .collect();
    let chunks: Vec<Vec<(usize, String, String)>> = {
        let mut c: Vec<Vec<_>> = vec![Vec::new(), Vec::new()];
        for (k, j) in jobs.into_iter().enumerate() {
            c[k % 2].push(j);
        }
        c
    };
    let mut signed = Vec::with_capacity(total);
    for part in futures_util::future::join_all(chunks.into_iter().map(|chunk| {
        let (host, domain) = (host.clone(), remote.domain.clone());
        tokio::task::spawn_blocking(move || {
            chunk
                .into_iter()
                .map(|(i, body, pem)| {
                    let key_id = format!("http://{domain}/users/a{}#main-key", i % 100);
                    presign(&host, "/inbox", &key_id, &pem, body)
                })
                .collect::<Vec<_>>()
        })
    }))
    .await
    {
        signed.extend(part.unwrap());
    }
    eprintln!("signed {total} activities in {:.1?}", t0.elapsed());
    let client = reqwest::Client::new();
    let queue = Arc::new(Mutex::new(signed));
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..32 {
        let (queue, done, client, inbox) =
            (queue.clone(), done.clone(), client.clone(), inbox.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let Some(r) = queue.lock().await.pop() else {
                    break;
                };
                let resp = client
                    .post(inbox.clone())
                    .header("content-type", "application/activity+json")
                    .header("date", r.date)
                    .header("digest", r.digest)
                    .header("signature", r.signature)
                    .body(r.body)
                    .send()
                    .await;
                if resp.is_ok_and(|r| r.status().is_success()) {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    // The sending library reports refusals (4xx) as sent too, so count what the server stored.
    let db = Db::connect(&db_url, 2).await.unwrap();
    let stored: i64 = rookery::on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM statuses WHERE local = $1").bind(false).fetch_one(c).await).unwrap();
    let measured = stored - 100; // minus the warm-up
    db.close().await;
    let tok = token(&base, "target").await;
    println!("backend: {backend}");
    println!(
        "inbox: {measured} of {} signed Create(Note) from 100 actors verified and stored, 32 senders: {:.0} activities/s ({:.2} s)",
        done.load(Ordering::Relaxed),
        measured as f64 / secs,
        secs
    );

    // --- 2. Fan-out -----------------------------------------------------------------------------
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let mut inboxes = Vec::new();
    for _ in 0..200 {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = l.local_addr().unwrap();
        let arr = arrivals.clone();
        let app = Router::new().route(
            "/inbox",
            post(move || {
                let arr = arr.clone();
                async move {
                    arr.lock().await.push(Instant::now());
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        );
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        inboxes.push(format!("http://localhost:{}/inbox", addr.port()));
    }
    let db = Db::connect(&db_url, 2).await.unwrap();
    let author_id: i64 = rookery::on_db!(db, c => sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'target'").fetch_one(c).await).unwrap();
    let now = chrono::Utc::now();
    for (i, inbox) in inboxes.iter().enumerate() {
        let host = url::Url::parse(inbox).unwrap();
        let domain = format!("localhost:{}", host.port().unwrap());
        for j in 0..5 {
            let id = ids::new_id();
            let uri = format!("http://{domain}/users/f{j}");
            rookery::on_db!(db, c => {
                sqlx::query("INSERT INTO accounts (id, username, domain, uri, inbox_url, shared_inbox_url, public_key_pem, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'x', $7, $7)")
                    .bind(id).bind(format!("f{j}")).bind(&domain).bind(&uri).bind(format!("{uri}/inbox")).bind(inbox).bind(now).execute(c).await.unwrap();
                sqlx::query("INSERT INTO follows (id, account_id, target_account_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(ids::new_id()).bind(id).bind(author_id).bind(now).execute(c).await.unwrap();
            });
        }
        let _ = i;
    }
    db.close().await;
    let posted = Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/statuses"))
        .bearer_auth(&tok)
        .json(&json!({"status": "to two hundred servers"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let deadline = posted + Duration::from_secs(60);
    loop {
        let n = arrivals.lock().await.len();
        if n >= 200 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let got = arrivals.lock().await.clone();
    let last = got
        .iter()
        .max()
        .map(|t| t.duration_since(posted))
        .unwrap_or_default();
    println!(
        "fan-out: 1 post to 1,000 followers on 200 instances: {} of 200 inboxes reached, the last after {:.2} s",
        got.len(),
        last.as_secs_f64()
    );
    let hwm = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .map(str::to_string)
        .unwrap_or_default();
    println!(
        "server peak RSS: {}",
        hwm.split_whitespace()
            .nth(1)
            .map(|kb| format!("{:.1} MB", kb.parse::<f64>().unwrap_or(0.0) / 1024.0))
            .unwrap_or_default()
    );
    let _ = server.kill();
    let _ = server.wait();
    if let Some((server, name)) = db_url.rsplit_once('/')
        && backend == "postgres"
    {
        pg_admin(server, &format!("DROP DATABASE {name}")).await;
    }
}

/// Runs `sql` (creating or dropping the bench's database) on the `postgres` database of `server`.
async fn pg_admin(server: &str, sql: &str) {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .unwrap();
}
