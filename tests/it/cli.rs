//! The `rookery` binary as an operator uses it: the embedded default, `migrate`, `admin account …`,
//! `admin emoji …`, and environment overrides.

use std::process::Command;

use crate::support::Backend;
use crate::support::binary::{self, BIN, free_port, get_json, run_cli, start_server, write_config};

async fn admin_commands(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = write_config(dir.path(), port, backend, "").await;

    let (ok, out, err) = run_cli(&cfg, &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("migrations applied"));

    let (ok, out, err) = run_cli(
        &cfg,
        &[
            "admin",
            "account",
            "create",
            "--username",
            "root",
            "--email",
            "root@example.com",
            "--password",
            "a long password",
            "--role",
            "admin",
        ],
    );
    assert!(ok, "{err}");
    let id: i64 = out.trim().parse().expect("prints the account id");
    assert!(id > 0);

    // A duplicate fails with the reason, and a short password too.
    let (ok, _, err) = run_cli(
        &cfg,
        &[
            "admin",
            "account",
            "create",
            "--username",
            "ROOT",
            "--email",
            "x@example.com",
            "--password",
            "a long password",
        ],
    );
    assert!(!ok);
    assert!(err.contains("ERR_TAKEN"), "{err}");
    let (ok, _, err) = run_cli(
        &cfg,
        &[
            "admin",
            "account",
            "create",
            "--username",
            "shorty",
            "--email",
            "s@example.com",
            "--password",
            "short",
        ],
    );
    assert!(!ok);
    assert!(err.contains("ERR_TOO_SHORT"), "{err}");
    let (ok, _, _) = run_cli(
        &cfg,
        &[
            "admin",
            "account",
            "create",
            "--username",
            "x",
            "--email",
            "x@example.com",
            "--password",
            "a long password",
            "--role",
            "king",
        ],
    );
    assert!(!ok, "unknown roles are refused");

    let server = start_server(dir.path(), &cfg, port).await;
    let http = reqwest::Client::new();
    let app: serde_json::Value = http.post(format!("{}/api/v1/apps", server.base)).json(&serde_json::json!({"client_name": "cli", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"})).send().await.unwrap().json().await.unwrap();
    let grant = |login: &'static str| {
        let http = http.clone();
        let app = app.clone();
        let base = server.base.clone();
        async move {
            http.post(format!("{base}/oauth/token"))
                .json(&serde_json::json!({"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"], "username": login, "password": "a long password"}))
                .send().await.unwrap()
        }
    };
    let tok: serde_json::Value = grant("root").await.json().await.unwrap();
    let token = tok["access_token"].as_str().unwrap().to_string();
    let (_, me) = get_json(
        &format!("{}/api/v1/accounts/verify_credentials", server.base),
        Some(&token),
    )
    .await;
    assert_eq!(me["role"]["name"], "Admin");
    assert_eq!(me["id"], id.to_string());

    let (ok, out, err) = run_cli(
        &cfg,
        &[
            "admin",
            "account",
            "set-role",
            "--username",
            "root",
            "--role",
            "moderator",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("moderator"));
    // The server keeps resolved tokens for at most `PRINCIPAL_TTL` (1 s): a change made by another
    // process, as this command is, shows within that bound (docs/ARCHITECTURE.md, "Caches").
    let verify = || {
        let (base, token) = (server.base.clone(), token.clone());
        async move {
            get_json(
                &format!("{base}/api/v1/accounts/verify_credentials"),
                Some(&token),
            )
            .await
        }
    };
    let within_ttl = || std::time::Instant::now() + rookery::service::oauth::PRINCIPAL_TTL * 3;
    let deadline = within_ttl();
    let mut me = verify().await.1;
    while me["role"]["name"] != "Moderator" && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        me = verify().await.1;
    }
    assert_eq!(me["role"]["name"], "Moderator");

    // Disabling revokes the token and refuses new grants; enabling lets the account sign in again.
    assert!(run_cli(&cfg, &["admin", "account", "disable", "--username", "root"]).0);
    let deadline = within_ttl();
    let mut status = verify().await.0;
    while status != 401 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        status = verify().await.0;
    }
    assert_eq!(status, 401);
    assert_eq!(grant("root").await.status(), 400);
    assert!(run_cli(&cfg, &["admin", "account", "enable", "--username", "root"]).0);
    assert_eq!(grant("root").await.status(), 200);
    let (ok, _, err) = run_cli(
        &cfg,
        &["admin", "account", "disable", "--username", "ghost"],
    );
    assert!(!ok);
    assert!(err.contains("no local account"), "{err}");

    // Custom emojis.
    let png = dir.path().join("e.png");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/static/avatar.png"),
        &png,
    )
    .unwrap();
    let (ok, _, err) = run_cli(
        &cfg,
        &[
            "admin",
            "emoji",
            "add",
            "--shortcode",
            "rook",
            "--file",
            png.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let (_, list) = get_json(&format!("{}/api/v1/custom_emojis", server.base), None).await;
    assert_eq!(list[0]["shortcode"], "rook");
    assert!(run_cli(&cfg, &["admin", "emoji", "remove", "--shortcode", "rook"]).0);
    assert!(!run_cli(&cfg, &["admin", "emoji", "remove", "--shortcode", "rook"]).0);
    let (_, list) = get_json(&format!("{}/api/v1/custom_emojis", server.base), None).await;
    assert_eq!(list, serde_json::json!([]));
}

#[tokio::test]
async fn admin_commands_sqlite() {
    admin_commands(Backend::Sqlite).await;
}

#[tokio::test]
async fn admin_commands_postgres() {
    admin_commands(Backend::Postgres).await;
}

/// With no config file at all, `serve` uses SQLite at ./data/rookery.db and media under ./data/media
/// (only the port is moved, so tests can run beside a real instance). Environment overrides apply.
#[tokio::test]
async fn embedded_default_and_environment_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env("ROOKERY__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("ROOKERY__SERVER__DOMAIN", format!("localhost:{port}"))
        .env("ROOKERY__INSTANCE__TITLE", "Birdhouse")
        .env("ROOKERY__INSTANCE__MAX_CHARACTERS", "1000")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/api/v2/instance");
    let mut inst = None;
    for _ in 0..300 {
        if let Ok(r) = reqwest::get(&url).await {
            inst = Some(r.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let inst = inst.unwrap_or_else(|| {
        panic!(
            "no answer: {}",
            std::fs::read_to_string(dir.path().join("log")).unwrap()
        )
    });
    assert_eq!(inst["title"], "Birdhouse");
    assert_eq!(inst["configuration"]["statuses"]["max_characters"], 1000);
    assert_eq!(
        inst["configuration"]["urls"]["streaming"],
        format!("ws://localhost:{port}")
    );
    assert!(dir.path().join("data/rookery.db").exists());
    assert!(dir.path().join("data/media").is_dir());
    let logged = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert!(logged.contains("Rookery is listening"), "{logged}");

    // A bad value stops start-up with a message naming the key.
    let out = Command::new(BIN)
        .arg("migrate")
        .current_dir(dir.path())
        .env("ROOKERY__REGISTRATIONS__MODE", "sometimes")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sometimes"));
    let _ = binary::BIN;
}

/// `rookery admin account import` and `export`: a 10,000-row follows file (two accounts that
/// exist here, the rest unknown) finishes with its counts and reasons; the export is Mastodon's
/// file; a malformed file fails with its line and imports nothing.
#[tokio::test]
async fn import_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), free_port(), Backend::Sqlite, "").await;
    for name in ["ava", "bob", "cat"] {
        let (ok, _, err) = run_cli(
            &cfg,
            &[
                "admin",
                "account",
                "create",
                "--username",
                name,
                "--email",
                &format!("{name}@example.com"),
                "--password",
                "a long password",
            ],
        );
        assert!(ok, "{err}");
    }
    let mut csv = String::from("Account address,Show boosts,Notify on new posts,Languages\n");
    csv.push_str("bob,true,true,\n@cat,false,false,\n");
    for i in 0..9998 {
        csv.push_str(&format!("nobody{i},true,false,\n"));
    }
    let file = dir.path().join("following_accounts.csv");
    std::fs::write(&file, csv).unwrap();
    let args = |kind: &'static str, file: &std::path::Path| -> Vec<String> {
        [
            "admin",
            "account",
            "import",
            "--username",
            "ava",
            "--kind",
            kind,
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([file.display().to_string()])
        .collect()
    };
    let started = std::time::Instant::now();
    let a = args("following", &file);
    let (ok, out, err) = run_cli(&cfg, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{err}");
    assert!(
        out.contains("2 of 10000 rows imported, 9998 failed"),
        "{out}"
    );
    assert!(
        out.contains("line 4: nobody0 — no such account on this server"),
        "{out}"
    );
    assert!(out.contains("… and 9948 more"), "{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(120));

    let out_file = dir.path().join("out.csv");
    let (ok, _, err) = run_cli(
        &cfg,
        &[
            "admin",
            "account",
            "export",
            "--username",
            "ava",
            "--kind",
            "following",
            "--output",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let exported = std::fs::read_to_string(&out_file).unwrap();
    let domain = format!(
        "localhost:{}",
        exported
            .split("@localhost:")
            .nth(1)
            .unwrap_or("")
            .split(',')
            .next()
            .unwrap_or("")
    );
    assert_eq!(
        exported,
        format!(
            "Account address,Show boosts,Notify on new posts,Languages\ncat@{domain},false,false,\nbob@{domain},true,true,\n"
        )
    );

    let bad = dir.path().join("lists.csv");
    std::fs::write(&bad, "Friends,bob\nWork\n").unwrap();
    let a = args("lists", &bad);
    let (ok, _, err) = run_cli(&cfg, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!ok);
    assert!(err.contains("line 2"), "{err}");
}
