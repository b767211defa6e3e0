//! Timeline benchmark (issues 3 and 8): seeds 1,000 accounts, 200,000 statuses, 50,000 shorts (each
//! with its video attachment and some engagement, over the last 14 days) and one account following
//! 500 others, starts the real `rookery` binary (release build) as its own process, then measures
//! `GET /api/v1/timelines/home?limit=20`, `GET /api/v1/timelines/public?local=true`,
//! `GET /api/v1/timelines/shorts?feed=for_you` and `?feed=local` with 32 concurrent keep-alive
//! clients, then the web app's `/home`, `/explore?tab=local` and a profile (the newest home post's
//! author) as the same
//! viewer signed in by a session cookie. Prints p50/p99 latency, requests/s, idle and peak RSS of
//! the server.
//!
//! Usage: `cargo bench --bench timelines -- [--backend sqlite|postgres] [--seconds 10]
//! [--clients 32] [--accounts 1000] [--statuses 200000] [--shorts 50000] [--follows 500]`.
//!
//! `--workload small` instead measures what a new instance sees (issue 23), all through the API
//! of the release binary with its default configuration and the rate limits raised: 50 authors
//! and one reader sign in with passwords at once (8 client threads), the authors post 40 statuses
//! each (`post N with #perf and a link https://example.com/N`, 8 threads), the reader follows all
//! 50, then `wrk -t2 -c32` (when installed; else the built-in loader) reads the reader's home
//! timeline and the local public timeline for `--seconds` (default 15) each. Prints sign-in time,
//! posts/s, both timelines' req/s and p99, and RSS idle, after the sign-ins and after the run.
//! PostgreSQL: a fresh database on `ROOKERY_BENCH_PG` (default `postgres://postgres@127.0.0.1:5432`).
//!
//! `--workload cluster` (issue 28) seeds a fresh database on a PostgreSQL primary with a streaming
//! replica (`ROOKERY_BENCH_PG_PRIMARY` and `ROOKERY_BENCH_PG_REPLICA`, else a pair made by
//! `scripts/pg-pair`), then runs one node three ways, twice in turn: plain, with the several-nodes
//! features (`federation.shared_queue`: events, cache changes and presence through PostgreSQL,
//! shared rate limits, writes answered after their events went out), and with those plus the
//! replica. Each way reads home and the local public timeline (`--clients`) for `--seconds`, then,
//! once every way has been read twice, posts statuses (8 clients; posts grow the viewer's home, so
//! they come after the reads), first with no stream open, then with the poster's `user` stream
//! open (server-sent events, as an app that posts has), then with the stream open and
//! `--clients` posting (the machine saturated: work per post rather than latency); prints the
//! figures, where the scoped
//! reads went (`/metrics`), and the cost against the plain node (best of `--rounds` rounds each,
//! default 2: the machine's noise between rounds is as large as the differences measured).
//! `BENCH_ROOKERY_BIN` and `BENCH_SERVER_LOG` as in the federation bench.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rookery::service::oauth::issue_token;
use rookery::service::scopes::Scopes;
use rookery::storage::{Db, ids, oauth};

struct Opts {
    workload: String,
    backend: String,
    seconds: u64,
    clients: usize,
    accounts: usize,
    statuses: usize,
    shorts: usize,
    follows: usize,
    /// Server connection pool size (`database.max_connections`).
    pool: u32,
    /// Rounds of each setup in the cluster workload (the best counts).
    rounds: usize,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .unwrap_or_else(|| default.to_string())
    };
    let workload = get("--workload", "large");
    let seconds = if workload == "small" { "15" } else { "10" };
    Opts {
        workload,
        backend: get("--backend", "sqlite"),
        seconds: get("--seconds", seconds).parse().unwrap(),
        clients: get("--clients", "32").parse().unwrap(),
        rounds: get("--rounds", "2").parse().unwrap(),
        accounts: get("--accounts", "1000").parse().unwrap(),
        statuses: get("--statuses", "200000").parse().unwrap(),
        shorts: get("--shorts", "50000").parse().unwrap(),
        follows: get("--follows", "500").parse().unwrap(),
        pool: get("--pool", "16").parse().unwrap(),
    }
}

async fn exec(db: &Db, sql: String) {
    rookery::on_db!(db, c => sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).execute(c).await.map(|_| ())).expect("seed");
}

/// Bulk-loads the instance with multi-row INSERTs; returns the viewer's bearer token.
async fn seed(db: &Db, o: &Opts, base: &str) -> String {
    let t0 = Instant::now();
    let now = chrono::Utc::now();
    let ts = |t: chrono::DateTime<chrono::Utc>| match db {
        Db::Sqlite(..) => format!(
            "'{}'",
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
        ),
        Db::Postgres(..) => format!("'{}'::timestamptz", t.to_rfc3339()),
    };
    let (tru, fals) = match db {
        Db::Sqlite(..) => ("1", "0"),
        Db::Postgres(..) => ("TRUE", "FALSE"),
    };
    let account_ids: Vec<i64> = (0..o.accounts).map(|_| ids::new_id()).collect();
    for chunk in account_ids.chunks(500) {
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let name = format!("user{id}_{i}");
                format!("({id}, '{name}', NULL, 'User {i}', '<p>bio</p>', '[]', {fals}, {fals}, {tru}, '{base}/users/{name}', '{base}/@{name}', {now}, {now})", now = ts(now))
            })
            .collect();
        exec(db, format!("INSERT INTO accounts (id, username, domain, display_name, note, fields, locked, bot, discoverable, uri, url, created_at, updated_at) VALUES {}", rows.join(","))).await;
        let users: Vec<String> = chunk
            .iter()
            .map(|id| format!("({}, {id}, 'u{id}@example.com', 'x', 'user', {now}, {tru}, {fals}, '{{}}', {now}, {now})", id + 1, now = ts(now)))
            .collect();
        exec(db, format!("INSERT INTO users (id, account_id, email, password_hash, role, confirmed_at, approved, disabled, settings, created_at, updated_at) VALUES {}", users.join(","))).await;
    }
    // Statuses spread over the last 30 days, round-robin over accounts, every 10th one unlisted.
    let start = now - chrono::Duration::days(30);
    let step = 30.0 * 86_400_000.0 / o.statuses as f64;
    let mut batch = Vec::with_capacity(1000);
    for i in 0..o.statuses {
        let at = start + chrono::Duration::milliseconds((i as f64 * step) as i64);
        let id = ids::id_at(at);
        let author = account_ids[i % o.accounts];
        let vis = if i % 10 == 0 { "unlisted" } else { "public" };
        batch.push(format!(
            "({id}, '{base}/statuses/{id}', {author}, {id}, 'post {i}', '<p>post {i} with some text to render</p>', '', '{vis}', {fals}, 'en', {tru}, {})",
            ts(at)
        ));
        if batch.len() == 1000 || i + 1 == o.statuses {
            exec(db, format!("INSERT INTO statuses (id, uri, account_id, conversation_id, text, content, spoiler_text, visibility, sensitive, language, local, created_at) VALUES {}", batch.join(","))).await;
            batch.clear();
        }
    }
    seed_shorts(db, o, base, &account_ids, &ts, (tru, fals)).await;
    let viewer = account_ids[0];
    let followed: Vec<String> = account_ids[1..=o.follows]
        .iter()
        .map(|a| a.to_string())
        .collect();
    let rows: Vec<String> = followed
        .iter()
        .map(|t| {
            format!(
                "({}, {viewer}, {t}, {tru}, {fals}, {})",
                ids::new_id(),
                ts(now)
            )
        })
        .collect();
    exec(db, format!("INSERT INTO follows (id, account_id, target_account_id, show_reblogs, notify, created_at) VALUES {}", rows.join(","))).await;
    exec(db, format!("INSERT INTO home_feed (account_id, status_id) SELECT {viewer}, id FROM statuses WHERE account_id IN ({}) OR account_id = {viewer}", followed.join(","))).await;
    // The counters the server keeps in step on every write.
    exec(
        db,
        "INSERT INTO account_stats (account_id, statuses_count, last_status_at) \
              SELECT account_id, count(*), max(created_at) FROM statuses GROUP BY account_id"
            .into(),
    )
    .await;
    exec(
        db,
        format!(
            "UPDATE account_stats SET following_count = {} WHERE account_id = {viewer}",
            o.follows
        ),
    )
    .await;
    exec(
        db,
        format!(
            "UPDATE account_stats SET followers_count = 1 WHERE account_id IN ({})",
            followed.join(",")
        ),
    )
    .await;
    exec(db, "ANALYZE".into()).await;
    let app = oauth::insert_application(
        db,
        &oauth::NewApplication {
            id: ids::new_id(),
            name: "bench",
            website: None,
            redirect_uris: "urn:ietf:wg:oauth:2.0:oob",
            scopes: "read write",
            client_id: "bench",
            client_secret_hash: "x",
        },
    )
    .await
    .unwrap();
    // `write` too: the cluster workload posts as the viewer.
    let token = issue_token(
        db,
        app.id,
        Some(viewer + 1),
        Scopes::parse("read write").unwrap(),
    )
    .await
    .unwrap();
    eprintln!(
        "seeded {} accounts, {} statuses, {} follows in {:.1?}",
        o.accounts,
        o.statuses,
        o.follows,
        t0.elapsed()
    );
    token.access_token
}

/// Shorts over the last 14 days, round-robin over accounts, each with a ready 720×1280 video and
/// favourites, boosts, replies and completed views that vary from one to the next.
async fn seed_shorts(
    db: &Db,
    o: &Opts,
    base: &str,
    account_ids: &[i64],
    ts: &dyn Fn(chrono::DateTime<chrono::Utc>) -> String,
    (tru, fals): (&str, &str),
) {
    let now = chrono::Utc::now();
    let start = now - chrono::Duration::days(14);
    let step = 14.0 * 86_400_000.0 / o.shorts.max(1) as f64;
    let (mut statuses, mut media) = (Vec::with_capacity(500), Vec::with_capacity(500));
    for i in 0..o.shorts {
        let at = start + chrono::Duration::milliseconds((i as f64 * step) as i64 + 1);
        let id = ids::id_at(at);
        let author = account_ids[(i * 7) % account_ids.len()];
        let (fav, boosts, replies, done) = (
            (i * 7919) % 53,
            (i * 104729) % 11,
            (i * 31) % 7,
            (i * 17) % 97,
        );
        statuses.push(format!(
            "({id}, '{base}/statuses/{id}', {author}, {id}, 'short {i}', '<p>short {i} #dance</p>', '', 'public', {fals}, 'en', {tru}, {t}, {tru}, {tru}, {fav}, {boosts}, {replies}, {done}, {views})",
            t = ts(at),
            views = done * 3
        ));
        media.push(format!(
            "({mid}, {author}, {id}, 0, 'video', 'ready', 'attachments/{mid}/original.mp4', 'video/mp4', 1048576, 'attachments/{mid}/small.jpg', 'LEHV6nWB2yk8pyo0adR*.7kCMdnj', '{{\"original\":{{\"width\":720,\"height\":1280,\"duration\":15.0}}}}', {t}, {t})",
            mid = id + 1,
            t = ts(at)
        ));
        if statuses.len() == 500 || i + 1 == o.shorts {
            exec(db, format!("INSERT INTO statuses (id, uri, account_id, conversation_id, text, content, spoiler_text, visibility, sensitive, language, local, created_at, has_media, short, favourites_count, reblogs_count, replies_count, completed_views_count, views_count) VALUES {}", statuses.join(","))).await;
            exec(db, format!("INSERT INTO media_attachments (id, account_id, status_id, position, type, state, file_key, file_content_type, file_size, preview_key, blurhash, meta, created_at, updated_at) VALUES {}", media.join(","))).await;
            statuses.clear();
            media.clear();
        }
    }
}

fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Result {
    p50: Duration,
    p99: Duration,
    rps: f64,
    errors: usize,
}

impl Result {
    fn print(&self, name: &str) {
        println!(
            "{name:>14}: p50 {:>6.2} ms  p99 {:>6.2} ms  {:>7.0} req/s  errors {}",
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0,
            self.rps,
            self.errors
        );
    }
}

/// How a loaded request says who it is: a bearer token (the API) or a session cookie (the web app).
#[derive(Clone)]
enum Credential {
    Bearer(String),
    Cookie(String),
}

impl Credential {
    fn apply(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Credential::Bearer(t) => r.bearer_auth(t),
            Credential::Cookie(c) => r.header("cookie", format!("rookery_session={c}")),
        }
    }
}

async fn load(url: &str, token: Option<&str>, clients: usize, seconds: u64) -> Result {
    load_as(
        url,
        token.map(|t| Credential::Bearer(t.into())),
        clients,
        seconds,
    )
    .await
}

async fn load_as(url: &str, cred: Option<Credential>, clients: usize, seconds: u64) -> Result {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let url = Arc::new(url.to_string());
    let token = cred.map(Arc::new);
    // Warm-up.
    for _ in 0..20 {
        let mut r = http.get(url.as_str());
        if let Some(t) = &token {
            r = t.apply(r);
        }
        let _ = r.send().await.unwrap().bytes().await;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                let mut r = http.get(url.as_str());
                if let Some(tok) = &token {
                    r = tok.apply(r);
                }
                match r.send().await {
                    Ok(resp) if resp.status().is_success() => {
                        let _ = resp.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    summarize(all, errors, started.elapsed().as_secs_f64())
}

/// Latencies `all` of requests that succeeded over `elapsed` seconds, as percentiles and a rate.
fn summarize(mut all: Vec<Duration>, errors: usize, elapsed: f64) -> Result {
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Result {
        p50: pct(0.50),
        p99: pct(0.99),
        rps: all.len() as f64 / elapsed,
        errors,
    }
}

/// The database URL for a fresh database of `backend`, in `dir` for SQLite.
async fn fresh_database(backend: &str, dir: &std::path::Path) -> String {
    match backend {
        "postgres" => {
            use sqlx::Connection;
            let server = std::env::var("ROOKERY_BENCH_PG")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let name = format!("rookery_bench_{}", std::process::id());
            let mut c = sqlx::PgConnection::connect(&format!("{server}/postgres"))
                .await
                .expect("PostgreSQL for the benchmark");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name}"
            )))
            .execute(&mut c)
            .await
            .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .unwrap();
            format!("{server}/{name}")
        }
        _ => format!("sqlite://{}", dir.join("bench.db").display()),
    }
}

/// Starts the release binary (or `BENCH_ROOKERY_BIN`) with `config` and waits until it answers.
async fn start_server(dir: &std::path::Path, port: u16, config: String) -> std::process::Child {
    let cfg = dir.join("bench.toml");
    std::fs::write(&cfg, config).unwrap();
    // BENCH_ROOKERY_BIN runs another build of the server (two builds compared on the same day);
    // BENCH_SERVER_LOG sets its RUST_LOG and shows its output (e.g. `warn,sqlx::query=debug`).
    let bin =
        std::env::var("BENCH_ROOKERY_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_rookery").into());
    let log = std::env::var("BENCH_SERVER_LOG").ok();
    let server = Command::new(bin)
        .args(["--config", cfg.to_str().unwrap(), "serve"])
        .env("RUST_LOG", log.as_deref().unwrap_or("warn"))
        .stdout(if log.is_some() {
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
    tokio::time::sleep(Duration::from_millis(500)).await;
    server
}

#[tokio::main]
async fn main() {
    let o = opts();
    let dir = tempfile::tempdir().unwrap();
    if o.workload == "cluster" {
        cluster::run(&o, dir.path()).await;
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://localhost:{port}");
    let db_url = fresh_database(&o.backend, dir.path()).await;
    let db = Db::connect(&db_url, 4).await.unwrap();
    db.migrate().await.unwrap();
    let config = format!(
        "[server]\ndomain = \"localhost:{port}\"\nbind = \"127.0.0.1:{port}\"\n[database]\nurl = \"{db_url}\"\nmax_connections = {pool}\n[media]\ndir = \"{}\"\n",
        dir.path().join("media").display(),
        pool = o.pool
    );
    if o.workload == "small" {
        small::run(&o, db, dir.path(), port, config).await;
        return;
    }
    let token = seed(&db, &o, &base).await;
    // The viewer's browser session, for the web app's pages.
    let session = rookery::service::secrets::random_token();
    let viewer_user = oauth::find_live_token(&db, &rookery::service::secrets::digest(&token))
        .await
        .unwrap()
        .and_then(|t| t.user_id)
        .expect("the viewer's token");
    oauth::insert_session(
        &db,
        ids::new_id(),
        &rookery::service::secrets::digest(&session),
        viewer_user,
        None,
    )
    .await
    .unwrap();
    db.close().await;
    let mut server = start_server(dir.path(), port, config).await;
    let pid = server.id();
    let idle = rss_kb(pid, "VmRSS:");
    println!(
        "backend: {}  ({} accounts, {} statuses, {} shorts, viewer follows {}; {} clients, {} s per endpoint)",
        o.backend, o.accounts, o.statuses, o.shorts, o.follows, o.clients, o.seconds
    );
    println!("idle RSS after start-up: {:.1} MB", idle as f64 / 1024.0);
    for (name, path, auth) in [
        ("home", "/api/v1/timelines/home?limit=20", true),
        ("public local", "/api/v1/timelines/public?local=true", false),
        (
            "shorts for_you",
            "/api/v1/timelines/shorts?feed=for_you",
            true,
        ),
        ("shorts local", "/api/v1/timelines/shorts?feed=local", false),
    ] {
        let url = format!("http://127.0.0.1:{port}{path}");
        let r = load(&url, auth.then_some(token.as_str()), o.clients, o.seconds).await;
        r.print(name);
    }
    // The web app's pages of the same data, signed in by the session cookie (issue 25).
    // A profile: the author of the newest post on the viewer's home.
    let newest: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/api/v1/timelines/home?limit=1"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let profile = format!("/@{}", newest[0]["account"]["acct"].as_str().unwrap());
    for (name, path) in [
        ("web /home", "/home"),
        ("web /explore local", "/explore?tab=local"),
        ("web profile", profile.as_str()),
    ] {
        let url = format!("http://127.0.0.1:{port}{path}");
        let cookie = Credential::Cookie(session.clone());
        // The page itself, signed in (not a redirect to the sign-in form).
        let page = cookie
            .apply(
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap()
                    .get(&url),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(
            page.text().await.unwrap().contains("data-me="),
            "{path} is not signed in"
        );
        // One client at a time: the server's time per page (plus loopback).
        load_as(&url, Some(cookie.clone()), 1, 3)
            .await
            .print(&format!("{name} (1 client)"));
        load_as(&url, Some(cookie), o.clients, o.seconds)
            .await
            .print(name);
    }
    println!(
        "peak RSS during the run: {:.1} MB",
        rss_kb(pid, "VmHWM:") as f64 / 1024.0
    );
    let _ = server.kill();
    let _ = server.wait();
}

/// `--workload cluster` (issue 28): the cost of the several-nodes features on one node, and how
/// timeline reads spread over a read replica (see the file's header).
mod cluster {
    use super::*;

    /// `clients` keep posting statuses as the viewer for `seconds`.
    async fn post_load(url: &str, token: &str, clients: usize, seconds: u64) -> Result {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (http, url, token) = (http.clone(), url.to_string(), token.to_string());
            tasks.push(tokio::spawn(async move {
                let (mut lat, mut errors, mut n) = (Vec::new(), 0, 0u64);
                while Instant::now() < deadline {
                    n += 1;
                    let t = Instant::now();
                    let r = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&serde_json::json!({"status": format!("bench {c} {n}")}))
                        .send()
                        .await;
                    match r {
                        Ok(resp) if resp.status().is_success() => {
                            let _ = resp.bytes().await;
                            lat.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        let (mut all, mut errors) = (Vec::new(), 0);
        for t in tasks {
            let (l, e) = t.await.unwrap();
            all.extend(l);
            errors += e;
        }
        summarize(all, errors, started.elapsed().as_secs_f64())
    }

    /// Reads the server-sent events of `url` until `until`; returns how many `update`s came.
    async fn count_updates(url: String, token: String, until: Instant) -> usize {
        let Ok(mut resp) = reqwest::Client::new()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
        else {
            return 0;
        };
        let (mut n, mut tail) = (0, String::new());
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(until.into(), resp.chunk()).await {
            tail.push_str(&String::from_utf8_lossy(&chunk));
            n += tail.matches("event: update\n").count();
            // Keep only what may start an unfinished line.
            let cut = tail.rfind('\n').map_or(0, |i| i + 1);
            tail.drain(..cut);
        }
        n
    }

    /// The primary and replica: `ROOKERY_BENCH_PG_PRIMARY` and `ROOKERY_BENCH_PG_REPLICA`, else a
    /// pair made by `scripts/pg-pair` under `dir` (stopped by the caller).
    fn pair(dir: &std::path::Path) -> (String, String, Option<std::path::PathBuf>) {
        if let (Ok(p), Ok(r)) = (
            std::env::var("ROOKERY_BENCH_PG_PRIMARY"),
            std::env::var("ROOKERY_BENCH_PG_REPLICA"),
        ) {
            return (p, r, None);
        }
        let at = dir.join("pg-pair");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-pair");
        let out = Command::new(script)
            .arg("start")
            .arg(&at)
            .output()
            .expect("scripts/pg-pair");
        assert!(
            out.status.success(),
            "scripts/pg-pair: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        (
            lines.next().unwrap().to_string(),
            lines.next().unwrap().to_string(),
            Some(at),
        )
    }

    pub async fn run(o: &Opts, dir: &std::path::Path) {
        let (primary, replica, made) = pair(dir);
        let name = format!("rookery_bench_cluster_{}", std::process::id());
        {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&format!("{primary}/postgres"))
                .await
                .expect("the primary");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .unwrap();
        }
        let db_url = format!("{primary}/{name}");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let db = Db::connect(&db_url, 4).await.unwrap();
        db.migrate().await.unwrap();
        let token = seed(&db, o, &format!("http://localhost:{port}")).await;
        db.close().await;
        let base = format!(
            "[server]\ndomain = \"localhost:{port}\"\nbind = \"127.0.0.1:{port}\"\n\
             [media]\ndir = \"{}\"\n[rate_limits]\nstatuses_per_account = 1000000\n\
             [metrics]\ntoken = \"bench\"\n[database]\nurl = \"{db_url}\"\nmax_connections = {}\n",
            dir.join("media").display(),
            o.pool
        );
        let setups = [
            ("one node", String::new()),
            (
                "cluster features",
                "[federation]\nshared_queue = true\n".to_string(),
            ),
            (
                "features + replica",
                format!(
                    "replica_urls = [\"{replica}/{name}\"]\n[federation]\nshared_queue = true\n"
                ),
            ),
        ];
        println!(
            "backend: postgres with one streaming replica ({} accounts, {} statuses, {} shorts; {} clients reading, 8 posting, {} s each)",
            o.accounts, o.statuses, o.shorts, o.clients, o.seconds
        );
        // best[setup][measure]: home, public, posting, posting with a stream open; each the best
        // of two rounds.
        let mut best: Vec<[Option<Result>; 5]> = (0..setups.len())
            .map(|_| [None, None, None, None, None])
            .collect();
        // Reads first, every setup twice in turn (the machine's own noise is larger than the
        // difference measured), then posting the same way: posts grow the viewer's home, so they
        // must not run between reads.
        for posting in [false, true] {
            for round in 0..o.rounds {
                for (i, (label, extra)) in setups.iter().enumerate() {
                    let mut server = start_server(dir, port, format!("{base}{extra}")).await;
                    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
                    println!("round {} {label}:", round + 1);
                    let measured = if posting {
                        let quiet = post_load(&url("/api/v1/statuses"), &token, 8, o.seconds).await;
                        // The poster's app streaming its home, as a client that posts has open.
                        let stream = tokio::spawn(count_updates(
                            url("/api/v1/streaming/user"),
                            token.clone(),
                            Instant::now() + Duration::from_secs(o.seconds + 2),
                        ));
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        let streamed =
                            post_load(&url("/api/v1/statuses"), &token, 8, o.seconds).await;
                        let updates = stream.await.unwrap();
                        println!("    the stream received {updates} updates");
                        // As many clients as reading: the machine saturated, so what is measured
                        // is the work per post rather than the wait for its events to go out.
                        let stream = tokio::spawn(count_updates(
                            url("/api/v1/streaming/user"),
                            token.clone(),
                            Instant::now() + Duration::from_secs(o.seconds + 2),
                        ));
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        let saturated =
                            post_load(&url("/api/v1/statuses"), &token, o.clients, o.seconds).await;
                        stream.abort();
                        vec![(2, quiet), (3, streamed), (4, saturated)]
                    } else {
                        vec![
                            (
                                0,
                                load(
                                    &url("/api/v1/timelines/home?limit=20"),
                                    Some(&token),
                                    o.clients,
                                    o.seconds,
                                )
                                .await,
                            ),
                            (
                                1,
                                load(
                                    &url("/api/v1/timelines/public?local=true"),
                                    None,
                                    o.clients,
                                    o.seconds,
                                )
                                .await,
                            ),
                        ]
                    };
                    for (k, r) in measured {
                        r.print(
                            [
                                "home",
                                "public local",
                                "post status",
                                "post, streamed",
                                "post, saturated",
                            ][k],
                        );
                        if best[i][k].as_ref().is_none_or(|b| r.rps > b.rps) {
                            best[i][k] = Some(r);
                        }
                    }
                    if i == 2 {
                        let metrics = reqwest::Client::new()
                            .get(url("/metrics"))
                            .bearer_auth("bench")
                            .send()
                            .await
                            .unwrap()
                            .text()
                            .await
                            .unwrap();
                        for l in metrics.lines().filter(|l| {
                            l.starts_with("rookery_db_scoped_reads_total")
                                || l.starts_with("rookery_db_replica_lag_ms")
                        }) {
                            println!("    {l}");
                        }
                    }
                    let _ = server.kill();
                    let _ = server.wait();
                }
            }
        }
        let rps = |i: usize, k: usize| best[i][k].as_ref().map_or(0.0, |r| r.rps);
        for (i, (label, _)) in setups.iter().enumerate().skip(1) {
            let cost = |k: usize| (rps(0, k) - rps(i, k)) / rps(0, k) * 100.0;
            println!(
                "{label} against one node (best of {}): home {:+.1} %, public {:+.1} %, posting {:+.1} %, posting with a stream open {:+.1} %, posting saturated ({} clients) {:+.1} % fewer req/s",
                o.rounds,
                cost(0),
                cost(1),
                cost(2),
                cost(3),
                o.clients,
                cost(4)
            );
        }
        if let Some(at) = made {
            let _ = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-pair"))
                .arg("stop")
                .arg(&at)
                .status();
        }
    }
}

/// `--workload small`: a new instance's first hour, all through the API (see the file's header).
mod small {
    use super::*;
    use serde_json::Value;

    const AUTHORS: usize = 50;
    const POSTS_EACH: usize = 40;
    const THREADS: usize = 8;
    const PASSWORD: &str = "bench-password-1";

    /// 50 authors and a reader with confirmed, approved users and one password (hashed once).
    async fn seed_users(db: &Db) -> Vec<String> {
        use argon2::PasswordHasher;
        let salt = argon2::password_hash::SaltString::generate(
            &mut argon2::password_hash::rand_core::OsRng,
        );
        let phc = argon2::Argon2::default()
            .hash_password(PASSWORD.as_bytes(), &salt)
            .unwrap()
            .to_string();
        let now = chrono::Utc::now();
        let mut names = Vec::new();
        for i in 0..=AUTHORS {
            let name = if i == AUTHORS {
                "reader".to_string()
            } else {
                format!("author{i}")
            };
            let id = ids::new_id();
            rookery::on_db!(db, c => sqlx::query(
                "INSERT INTO accounts (id, username, domain, display_name, note, fields, locked, bot, discoverable, uri, url, created_at, updated_at) \
                 VALUES ($1, $2, NULL, $2, '', '[]', $3, $3, $4, $5, $6, $7, $7)")
                .bind(id).bind(&name).bind(false).bind(true)
                .bind(format!("http://localhost/users/{name}")).bind(format!("http://localhost/@{name}"))
                .bind(now)
                .execute(c).await.map(|_| ())).expect("account");
            rookery::on_db!(db, c => sqlx::query(
                "INSERT INTO users (id, account_id, email, password_hash, role, confirmed_at, approved, disabled, settings, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'user', $5, $6, $7, '{}', $5, $5)")
                .bind(id + 1).bind(id).bind(format!("{name}@example.com")).bind(&phc)
                .bind(now).bind(true).bind(false)
                .execute(c).await.map(|_| ())).expect("user");
            names.push(name);
        }
        names
    }

    pub async fn run(o: &Opts, db: Db, dir: &std::path::Path, port: u16, config: String) {
        let names = seed_users(&db).await;
        db.close().await;
        // The default configuration, with the abuse limits raised so the server is measured.
        let config = format!(
            "{}\n[rate_limits]\nsign_in_per_ip = 1000000\nsign_in_per_account = 1000000\nstatuses_per_account = 1000000\n",
            config
                .lines()
                .filter(|l| !l.starts_with("max_connections"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        // The URLs must match the configured domain for links; the accounts were seeded with
        // placeholders, which only profile links use.
        let mut server = start_server(dir, port, config).await;
        let pid = server.id();
        let api = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let idle = rss_kb(pid, "VmRSS:");
        let app: Value = http
            .post(format!("{api}/api/v1/apps"))
            .form(&[
                ("client_name", "bench"),
                ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
                ("scopes", "read write follow"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (client_id, client_secret) = (
            app["client_id"].as_str().unwrap().to_string(),
            app["client_secret"].as_str().unwrap().to_string(),
        );

        // 51 password sign-ins, 8 at a time.
        let t0 = Instant::now();
        let tokens = Arc::new(tokio::sync::Mutex::new(vec![String::new(); names.len()]));
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..THREADS {
            let (http, api, names, tokens, next) = (
                http.clone(),
                api.clone(),
                names.clone(),
                tokens.clone(),
                next.clone(),
            );
            let (cid, secret) = (client_id.clone(), client_secret.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    let r: Value = http
                        .post(format!("{api}/oauth/token"))
                        .form(&[
                            ("grant_type", "password"),
                            ("client_id", cid.as_str()),
                            ("client_secret", secret.as_str()),
                            ("username", &format!("{name}@example.com")),
                            ("password", PASSWORD),
                            ("scope", "read write follow"),
                        ])
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let token = r["access_token"]
                        .as_str()
                        .unwrap_or_else(|| panic!("sign-in refused: {r}"));
                    tokens.lock().await[i] = token.to_string();
                }
            }));
        }
        for t in tasks.drain(..) {
            t.await.unwrap();
        }
        let sign_in = t0.elapsed();
        let after_sign_in = rss_kb(pid, "VmRSS:");
        let tokens = tokens.lock().await.clone();

        // 2,000 posts: thread k posts for authors k, k+8, …, 40 each.
        let t0 = Instant::now();
        for k in 0..THREADS {
            let (http, api) = (http.clone(), api.clone());
            let mine: Vec<String> = (k..AUTHORS)
                .step_by(THREADS)
                .map(|a| tokens[a].clone())
                .collect();
            tasks.push(tokio::spawn(async move {
                for n in 0..POSTS_EACH {
                    for token in &mine {
                        let text =
                            format!("post {n} with #perf and a link https://example.com/{n}");
                        let r = http
                            .post(format!("{api}/api/v1/statuses"))
                            .bearer_auth(token)
                            .form(&[("status", text.as_str())])
                            .send()
                            .await
                            .unwrap();
                        assert!(r.status().is_success(), "post refused: {}", r.status());
                    }
                }
            }));
        }
        for t in tasks.drain(..) {
            t.await.unwrap();
        }
        let posting = t0.elapsed();
        let posts = AUTHORS * POSTS_EACH;

        // The reader follows all 50.
        let reader = tokens[AUTHORS].clone();
        for token in &tokens[..AUTHORS] {
            let me: Value = http
                .get(format!("{api}/api/v1/accounts/verify_credentials"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let r = http
                .post(format!(
                    "{api}/api/v1/accounts/{}/follow",
                    me["id"].as_str().unwrap()
                ))
                .bearer_auth(&reader)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "follow refused: {}", r.status());
        }
        let home: Vec<Value> = http
            .get(format!("{api}/api/v1/timelines/home?limit=20"))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(home.len(), 20, "the reader's home timeline is not full");

        println!(
            "backend: {}  (small workload: {AUTHORS} authors x {POSTS_EACH} posts, reader follows {AUTHORS}; 32 connections, {} s per endpoint)",
            o.backend, o.seconds
        );
        println!("idle RSS after start-up: {:.1} MB", idle as f64 / 1024.0);
        println!(
            "{} password sign-ins, {THREADS} at a time: {:.2} s; RSS after: {:.1} MB",
            names.len(),
            sign_in.as_secs_f64(),
            after_sign_in as f64 / 1024.0
        );
        println!(
            "posting: {posts} statuses in {:.2} s = {:.0} posts/s",
            posting.as_secs_f64(),
            posts as f64 / posting.as_secs_f64()
        );
        for (name, path, auth) in [
            ("home", "/api/v1/timelines/home?limit=20", true),
            (
                "public local",
                "/api/v1/timelines/public?local=true&limit=20",
                false,
            ),
        ] {
            let url = format!("{api}{path}");
            let token = auth.then_some(reader.as_str());
            let r = match which_wrk() {
                Some(wrk) => wrk_load(&wrk, &url, token, o.seconds),
                None => load(&url, token, 32, o.seconds).await,
            };
            r.print(name);
        }
        println!(
            "RSS after the run: {:.1} MB (peak {:.1} MB)",
            rss_kb(pid, "VmRSS:") as f64 / 1024.0,
            rss_kb(pid, "VmHWM:") as f64 / 1024.0
        );
        let _ = server.kill();
        let _ = server.wait();
    }

    fn which_wrk() -> Option<String> {
        std::env::var("PATH").ok()?.split(':').find_map(|d| {
            let p = std::path::Path::new(d).join("wrk");
            p.is_file().then(|| p.display().to_string())
        })
    }

    /// `wrk -t2 -c32 -d{seconds}s --latency`, as the issue measured GoToSocial.
    fn wrk_load(wrk: &str, url: &str, token: Option<&str>, seconds: u64) -> Result {
        let mut cmd = Command::new(wrk);
        cmd.args(["-t2", "-c32", &format!("-d{seconds}s"), "--latency"]);
        if let Some(t) = token {
            cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        let out = cmd.arg(url).output().expect("wrk");
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |prefix: &str| -> Option<String> {
            text.lines()
                .map(str::trim)
                .find(|l| l.starts_with(prefix))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        };
        let ms = |v: Option<String>| -> Duration {
            let v = v.unwrap_or_default();
            let (num, unit) =
                v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
            let n: f64 = num.parse().unwrap_or(0.0);
            Duration::from_secs_f64(match unit {
                "us" => n / 1e6,
                "ms" => n / 1e3,
                "s" => n,
                _ => n / 1e3,
            })
        };
        let errors = text
            .lines()
            .find(|l| l.contains("Non-2xx or 3xx responses:"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        Result {
            p50: ms(field("50%")),
            p99: ms(field("99%")),
            rps: field("Requests/sec:")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0),
            errors,
        }
    }
}
