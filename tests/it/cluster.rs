//! Several nodes as one instance (issue 28; docs/DEPLOY.md, "Several machines"): PostgreSQL with a
//! streaming replica (`scripts/pg-pair`, started by `scripts/test`: `ROOKERY_TEST_PG_PRIMARY` and
//! `ROOKERY_TEST_PG_REPLICA`), one moto S3 bucket, two `web` nodes and one `worker` node behind
//! Debian's nginx, all on loopback. Mastodon.py drives it through nginx
//! (`tests/clients/mastodon_py_cluster.py`); then a peer instance federates with it while nodes
//! are killed with SIGKILL.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::federation::eventually;
use crate::support::binary::{Server, create_account, free_port, start_node};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the suite with scripts/test, which starts a primary and a replica (scripts/pg-pair)")
    })
}

/// nginx: `proxy` balances over both web nodes, `pinned[i]` always reaches web node `i`. The
/// same configuration as docs/DEPLOY.md's example, on loopback.
struct Balancer {
    proxy: u16,
    pinned: [u16; 2],
    _nginx: crate::support::nginx::Nginx,
}

async fn balancer(web: [u16; 2]) -> Balancer {
    let (proxy, p1, p2) = (free_port(), free_port(), free_port());
    let [w1, w2] = web;
    let http = format!(
        r#"  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream rookery_web {{
    server 127.0.0.1:{w1} max_fails=1 fail_timeout=5s;
    server 127.0.0.1:{w2} max_fails=1 fail_timeout=5s;
  }}
  client_max_body_size 100m;
  proxy_http_version 1.1;
  proxy_set_header Host $http_host;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_set_header Upgrade $http_upgrade;
  proxy_set_header Connection $connection_upgrade;
  proxy_buffering off;
  proxy_read_timeout 1h;
  proxy_next_upstream error timeout http_502 http_503;
  server {{ listen 127.0.0.1:{proxy}; location / {{ proxy_pass http://rookery_web; }} }}
  server {{ listen 127.0.0.1:{p1}; location / {{ proxy_pass http://127.0.0.1:{w1}; }} }}
  server {{ listen 127.0.0.1:{p2}; location / {{ proxy_pass http://127.0.0.1:{w2}; }} }}"#
    );
    Balancer {
        proxy,
        pinned: [p1, p2],
        _nginx: crate::support::nginx::start(&http, proxy).await,
    }
}

/// One node's configuration: every node the same but for `bind`.
fn node_config(dir: &std::path::Path, shared: &str, port: u16, name: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, shared.replace("BIND", &format!("127.0.0.1:{port}"))).unwrap();
    path
}

async fn post_json(url: &str, token: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The JSON `GET url` answers for `token` (`null` when it is not JSON).
async fn get_json(url: &str, token: &str) -> Value {
    crate::support::binary::get_json(url, Some(token)).await.1
}

fn kill(server: &mut Server) {
    // SIGKILL: no shutdown, no claims released, nothing flushed.
    let _ = server.child.kill();
    let _ = server.child.wait();
}

fn count_in_log(server: &Server, needle: &str) -> usize {
    std::fs::read_to_string(&server.log)
        .unwrap_or_default()
        .matches(needle)
        .count()
}

#[tokio::test]
async fn three_nodes_behind_nginx_as_one_instance() {
    let primary = env("ROOKERY_TEST_PG_PRIMARY");
    let replica = env("ROOKERY_TEST_PG_REPLICA");
    // The replica follows the whole primary, so the new database is there too.
    let primary_db = crate::support::fresh_pg_database_on(&primary).await;
    let db = primary_db.rsplit('/').next().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (w1, w2, wk) = (free_port(), free_port(), free_port());
    let lb = balancer([w1, w2]).await;
    let media = crate::support::s3::media_toml(&format!(
        "dir = \"{}\"",
        dir.path().join("scratch").display()
    ))
    .await;
    let shared = format!(
        "[server]\ndomain = \"localhost:{proxy}\"\nbind = \"BIND\"\ntrusted_proxies = [\"127.0.0.1/32\"]\n\n\
         [database]\nurl = \"{primary}/{db}\"\nreplica_urls = [\"{replica}/{db}\"]\nmax_connections = 10\n\n\
         {media}\n\
         [federation]\nshared_queue = true\nallow_private_addresses = true\nretry_initial_seconds = 1\n\n\
         [metrics]\ntoken = \"cluster-metrics\"\n",
        proxy = lb.proxy
    );
    let cfg1 = node_config(dir.path(), &shared, w1, "web1");
    let cfg2 = node_config(dir.path(), &shared, w2, "web2");
    let cfgw = node_config(dir.path(), &shared, wk, "worker");
    // The three start at once: one migrates, the others wait for it (advisory lock).
    for sub in ["n1", "n2", "nw", "nw2"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let (d1, d2, dw) = (
        dir.path().join("n1"),
        dir.path().join("n2"),
        dir.path().join("nw"),
    );
    let (n1, mut n2, mut worker) = tokio::join!(
        start_node(&d1, &cfg1, w1, "web"),
        start_node(&d2, &cfg2, w2, "web"),
        start_node(&dw, &cfgw, wk, "worker"),
    );
    for name in ["ava", "bob"] {
        create_account(&cfg1, name, "a long password");
    }
    let proxy = format!("http://127.0.0.1:{}", lb.proxy);
    let pinned = lb.pinned.map(|p| format!("http://127.0.0.1:{p}"));
    let media_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media");

    // Mastodon.py through nginx: streaming, typing, presence, media, read-your-writes.
    let out = tokio::task::spawn_blocking({
        let (proxy, pinned, media_dir) = (proxy.clone(), pinned.clone(), media_dir.clone());
        move || {
            Command::new(crate::clients::python())
                .arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/clients/mastodon_py_cluster.py"
                ))
                .args([&proxy, &pinned[0], &pinned[1]])
                .arg(media_dir.join("photo.jpg"))
                .arg(media_dir.join("clip.webm"))
                .output()
                .expect("run Mastodon.py (scripts/test installs it)")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let logs = |servers: &[&Server]| {
        servers
            .iter()
            .map(|s| std::fs::read_to_string(&s.log).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "Mastodon.py failed:\n{stdout}\n{}\nnode logs:\n{}",
        String::from_utf8_lossy(&out.stderr),
        logs(&[&n1, &n2, &worker])
    );
    println!("{stdout}");

    // Timeline reads went to the replica (and reads after writes to the primary). The clients
    // above read right after their own writes (and a new token reads from the primary at first),
    // so anonymous readers are the ones a replica serves here.
    for _ in 0..3 {
        let r = reqwest::get(format!("{}/api/v1/timelines/public", n1.base))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", n1.base))
        .bearer_auth("cluster-metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reads = |to: &str| -> f64 {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("rookery_db_scoped_reads_total") && l.contains(&format!("to=\"{to}"))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let replica_host = replica.trim_start_matches("postgres://postgres@");
    assert!(
        reads(replica_host) > 0.0 && reads("primary") > 0.0,
        "node 1 read neither from the replica nor the primary:\n{metrics}"
    );
    assert!(metrics.contains("rookery_db_replica_usable"), "{metrics}");

    // A replica that stops replaying is skipped once it is further behind than the bound, and
    // used again when it catches up; reads stay right meanwhile.
    let replica_db = sqlx::PgPool::connect(&format!("{replica}/{db}"))
        .await
        .unwrap();
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&replica_db)
        .await
        .unwrap();
    let usable = |base: String| async move {
        reqwest::Client::new()
            .get(format!("{base}/metrics"))
            .bearer_auth("cluster-metrics")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .lines()
            .find(|l| l.starts_with("rookery_db_replica_usable"))
            .is_some_and(|l| l.ends_with(" 1"))
    };
    let bob_token = crate::operations::password_token(&n1.base, "bob").await;
    let mut fresh = Vec::new();
    for i in 0..5 {
        let (s, st) = post_json(
            &format!("{}/api/v1/statuses", n1.base),
            &bob_token,
            json!({"status": format!("while the replica waits {i}")}),
        )
        .await;
        assert_eq!(s, 200);
        fresh.push(st["id"].as_str().unwrap().to_string());
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(
        eventually(5, || async { !usable(n2.base.clone()).await }).await,
        "node 2 still reads from a replica 2 s behind"
    );
    for id in &fresh {
        // Anonymous (no read-your-writes): right only because the replica is skipped.
        let (s, _) =
            crate::support::binary::get_json(&format!("{}/api/v1/statuses/{id}", n2.base), None)
                .await;
        assert_eq!(s, 200, "a status posted 0-2 s ago is missing on node 2");
    }
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&replica_db)
        .await
        .unwrap();
    assert!(
        eventually(10, || usable(n2.base.clone())).await,
        "the replica was not used again after catching up"
    );
    replica_db.close().await;

    // A peer instance follows ava; she posts through the balancer while the worker is killed in
    // the middle of delivering: the peer gets every post once.
    let peer = crate::federation::Instance::start(
        crate::support::Backend::Sqlite,
        crate::federation::DEV_FEDERATION,
    )
    .await;
    let pia = peer.user("pia").await;
    let ava = crate::operations::password_token(&proxy, "ava").await;
    let ava_remote =
        crate::federation::resolve(&peer, &pia, &format!("ava@localhost:{}", lb.proxy)).await;
    let (s, _) = post_json(
        &format!("{}/api/v1/accounts/{ava_remote}/follow", peer.server.base),
        &pia,
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let (_, v) = crate::support::binary::get_json(
        &format!("{proxy}/api/v1/accounts/verify_credentials"),
        Some(&ava),
    )
    .await;
    assert!(
        eventually(20, || async {
            get_json(
                &format!(
                    "{proxy}/api/v1/accounts/{}/followers",
                    v["id"].as_str().unwrap()
                ),
                &ava,
            )
            .await
            .as_array()
            .is_some_and(|a| a.len() == 1)
        })
        .await,
        "the peer's follow did not arrive"
    );
    assert!(
        eventually(20, || async {
            get_json(
                &format!(
                    "{}/api/v1/accounts/relationships?id[]={ava_remote}",
                    peer.server.base
                ),
                &pia,
            )
            .await[0]["following"]
                == true
        })
        .await,
        "the peer did not hear that its follow was accepted"
    );
    let mut uris = Vec::new();
    for i in 0..30 {
        let (s, st) = post_json(
            &format!("{proxy}/api/v1/statuses"),
            &ava,
            json!({"status": format!("to the peer {i}")}),
        )
        .await;
        assert_eq!(s, 200, "{st}");
        uris.push(st["uri"].as_str().unwrap().to_string());
        if i == 10 {
            kill(&mut worker);
        }
    }
    // The queue waits: nothing delivers while no worker runs.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let worker2 = start_node(&dir.path().join("nw2"), &cfgw, wk, "worker").await;
    let pool = sqlx::PgPool::connect(&format!("{primary}/{db}"))
        .await
        .unwrap();
    // A delivery the killed worker had claimed waits for its lease (45 s) to lapse.
    let undelivered = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered'")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert!(
        eventually(120, || async { undelivered().await == 0 }).await,
        "{} deliveries left\n{}",
        undelivered().await,
        logs(&[&n1, &n2, &worker2])
    );
    // Each post once on the peer's home.
    let peer_home = || async {
        let home = get_json(
            &format!("{}/api/v1/timelines/home?limit=40", peer.server.base),
            &pia,
        )
        .await;
        home.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["uri"].as_str().map(String::from))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert!(
        eventually(15, || async {
            let mut got = peer_home().await;
            got.sort();
            let mut want = uris.clone();
            want.sort();
            got == want
        })
        .await,
        "the peer's home has {:?}, not the 30 posts once each\npeer log:\n{}",
        peer_home().await,
        peer.log()
    );

    // The peer's posts reach ava's home through the balancer's inboxes, each once.
    let pia_here = resolve_via(&proxy, &ava, &format!("pia@{}", peer.domain)).await;
    let (s, _) = post_json(
        &format!("{proxy}/api/v1/accounts/{pia_here}/follow"),
        &ava,
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        eventually(20, || async {
            get_json(
                &format!("{proxy}/api/v1/accounts/relationships?id[]={pia_here}"),
                &ava,
            )
            .await[0]["following"]
                == true
        })
        .await,
        "ava's follow of pia was not accepted"
    );
    for i in 0..10 {
        let (s, _) = post_json(
            &format!("{}/api/v1/statuses", peer.server.base),
            &pia,
            json!({"status": format!("from the peer {i}")}),
        )
        .await;
        assert_eq!(s, 200);
    }
    let from_peer = || async {
        get_json(&format!("{proxy}/api/v1/timelines/home?limit=40"), &ava)
            .await
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|s| {
                        s["content"]
                            .as_str()
                            .is_some_and(|c| c.contains("from the peer"))
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    assert!(
        eventually(30, || async { from_peer().await == 10 }).await,
        "ava's home has {} of the peer's 10 posts",
        from_peer().await
    );
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM statuses WHERE content LIKE '%from the peer%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(rows, 10, "each of the peer's posts stored once");

    // A status posted through node 2, which is then killed at once, still reaches a client
    // streaming on node 1: the answer left only after the event went to the other nodes.
    let mut stream = crate::operations::ws_connect(&n1.base, "public:local", &ava).await;
    let bob = crate::operations::password_token(&n2.base, "bob").await;
    let (s, last) = post_json(
        &format!("{}/api/v1/statuses", n2.base),
        &bob,
        json!({"status": "the last words of node 2"}),
    )
    .await;
    assert_eq!(s, 200);
    kill(&mut n2);
    let mut arrived = false;
    while let Some(msg) = crate::streaming::next(&mut stream, 5).await {
        if msg["event"] == "update" && crate::streaming::payload(&msg)["id"] == last["id"] {
            arrived = true;
            break;
        }
    }
    assert!(arrived, "the event of node 2's last status was lost");
    // The balancer carries on with node 1 alone.
    for _ in 0..4 {
        let (s, _) =
            crate::support::binary::get_json(&format!("{proxy}/api/v1/timelines/home"), Some(&ava))
                .await;
        assert_eq!(s, 200);
    }

    // The story sweep runs on one node at a time: a story past its time is removed once, by one
    // node, whichever holds the sweep.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(std::fs::read(media_dir.join("photo.jpg")).unwrap())
            .file_name("p.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let photo: Value = reqwest::Client::new()
        .post(format!("{proxy}/api/v1/media"))
        .bearer_auth(&ava)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (s, story) = post_json(
        &format!("{proxy}/api/v1/stories"),
        &ava,
        json!({"media_id": photo["id"]}),
    )
    .await;
    assert_eq!(s, 200, "{story}");
    sqlx::query("UPDATE stories SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(
        eventually(20, || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stories")
                .fetch_one(&pool)
                .await
                .unwrap()
                == 0
        })
        .await,
        "the expired story was not swept"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sweeps: usize = [&n1, &n2, &worker, &worker2]
        .iter()
        .map(|s| count_in_log(s, "expired stories removed"))
        .sum();
    assert_eq!(sweeps, 1, "the story was swept {sweeps} times");
    pool.close().await;
}

/// The local ID of `acct` as `base` resolves it for `token`'s account.
async fn resolve_via(base: &str, token: &str, acct: &str) -> String {
    let r = get_json(
        &format!(
            "{base}/api/v2/search?q={}&resolve=true&type=accounts",
            urlencoding::encode(acct)
        ),
        token,
    )
    .await;
    r["accounts"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("could not resolve {acct}: {r}"))
        .to_string()
}
