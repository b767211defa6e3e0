//! Timeline benchmark (issues 3 and 8): seeds 1,000 accounts, 200,000 statuses, 50,000 shorts (each
//! with its video attachment and some engagement, over the last 14 days) and one account following
//! 500 others, starts the real `rookery` binary (release build) as its own process, then measures
//! `GET /api/v1/timelines/home?limit=20`, `GET /api/v1/timelines/public?local=true`,
//! `GET /api/v1/timelines/shorts?feed=for_you` and `?feed=local` with 32 concurrent keep-alive
//! clients. Prints p50/p99 latency, requests/s, idle and peak RSS of the server.
//!
//! Usage: `cargo bench --bench timelines -- [--backend sqlite|postgres] [--seconds 10]
//! [--clients 32] [--accounts 1000] [--statuses 200000] [--shorts 50000] [--follows 500]`.
//! PostgreSQL: a fresh database on `ROOKERY_BENCH_PG` (default `postgres://postgres@127.0.0.1:5432`).
//! `BENCH_ROOKERY_BIN` and `BENCH_SERVER_LOG` as in the federation bench.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rookery::service::oauth::issue_token;
use rookery::service::scopes::Scopes;
use rookery::storage::{Db, ids, oauth};

struct Opts {
    backend: String,
    seconds: u64,
    clients: usize,
    accounts: usize,
    statuses: usize,
    shorts: usize,
    follows: usize,
    /// Server connection pool size (`database.max_connections`).
    pool: u32,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .unwrap_or_else(|| default.to_string())
    };
    Opts {
        backend: get("--backend", "sqlite"),
        seconds: get("--seconds", "10").parse().unwrap(),
        clients: get("--clients", "32").parse().unwrap(),
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
            scopes: "read",
            client_id: "bench",
            client_secret_hash: "x",
        },
    )
    .await
    .unwrap();
    let token = issue_token(db, app.id, Some(viewer + 1), Scopes::parse("read").unwrap())
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

async fn load(url: &str, token: Option<&str>, clients: usize, seconds: u64) -> Result {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let url = Arc::new(url.to_string());
    let token = token.map(|t| Arc::new(t.to_string()));
    // Warm-up.
    for _ in 0..20 {
        let mut r = http.get(url.as_str());
        if let Some(t) = &token {
            r = r.bearer_auth(t.as_str());
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
                    r = r.bearer_auth(tok.as_str());
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
    let elapsed = started.elapsed().as_secs_f64();
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

#[tokio::main]
async fn main() {
    let o = opts();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://localhost:{port}");
    let db_url = match o.backend.as_str() {
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
        _ => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let db = Db::connect(&db_url, 4).await.unwrap();
    db.migrate().await.unwrap();
    let token = seed(&db, &o, &base).await;
    db.close().await;

    let cfg = dir.path().join("bench.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\ndomain = \"localhost:{port}\"\nbind = \"127.0.0.1:{port}\"\n[database]\nurl = \"{db_url}\"\nmax_connections = {pool}\n[media]\ndir = \"{}\"\n",
            dir.path().join("media").display(),
            pool = o.pool
        ),
    )
    .unwrap();
    // BENCH_ROOKERY_BIN runs another build of the server (two builds compared on the same day);
    // BENCH_SERVER_LOG sets its RUST_LOG and shows its output (e.g. `warn,sqlx::query=debug`).
    let bin =
        std::env::var("BENCH_ROOKERY_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_rookery").into());
    let log = std::env::var("BENCH_SERVER_LOG").ok();
    let mut server = Command::new(bin)
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
    let pid = server.id();
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
        println!(
            "{name:>14}: p50 {:>6.2} ms  p99 {:>6.2} ms  {:>7.0} req/s  errors {}",
            r.p50.as_secs_f64() * 1000.0,
            r.p99.as_secs_f64() * 1000.0,
            r.rps,
            r.errors
        );
    }
    println!(
        "peak RSS during the run: {:.1} MB",
        rss_kb(pid, "VmHWM:") as f64 / 1024.0
    );
    let _ = server.kill();
    let _ = server.wait();
}
