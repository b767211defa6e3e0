//! Real Mastodon clients against the real binary. Python and Mastodon.py come from the virtualenv
//! `scripts/test` prepares (`ROOKERY_TEST_PYTHON`); without them this test fails and says so.

use std::process::Command;

use crate::support::Backend;
use crate::support::binary::{free_port, run_cli, start_server, write_config};

pub fn python() -> String {
    std::env::var("ROOKERY_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[tokio::test]
async fn mastodon_py_signs_in_and_uses_the_account_api() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = write_config(dir.path(), port, Backend::Sqlite, "").await;
    let (ok, _, err) = run_cli(
        &cfg,
        &[
            "admin",
            "account",
            "create",
            "--username",
            "pyalice",
            "--email",
            "pyalice@example.com",
            "--password",
            "python is fun",
        ],
    );
    assert!(ok, "{err}");
    let server = start_server(dir.path(), &cfg, port).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/mastodon_py.py");
    let out = Command::new(python())
        .arg(script)
        .arg(format!("http://localhost:{port}"))
        .args(["pyalice@example.com", "python is fun", "pyalice"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} (run scripts/test, which installs Mastodon.py): {e}",
                python()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "Mastodon.py failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );
}

async fn server_with_users(
    dir: &std::path::Path,
    names: &[&str],
) -> (crate::support::binary::Server, u16) {
    server_with_config(dir, names, "python is fun", "").await
}

/// As [`server_with_users`], with their `password` and `extra` configuration.
async fn server_with_config(
    dir: &std::path::Path,
    names: &[&str],
    password: &str,
    extra: &str,
) -> (crate::support::binary::Server, u16) {
    let port = free_port();
    let cfg = write_config(dir, port, Backend::Sqlite, extra).await;
    for name in names {
        let email = format!("{name}@example.com");
        let (ok, _, err) = run_cli(
            &cfg,
            &[
                "admin",
                "account",
                "create",
                "--username",
                name,
                "--email",
                &email,
                "--password",
                password,
            ],
        );
        assert!(ok, "{err}");
    }
    (start_server(dir, &cfg, port).await, port)
}

#[tokio::test]
async fn mastodon_py_posts_boosts_favourites_and_streams() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = server_with_users(dir.path(), &["pyalice", "pybob"]).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/mastodon_py_posting.py"
    );
    let out = Command::new(python())
        .arg(script)
        .arg(format!("http://localhost:{port}"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (run scripts/test): {e}", python()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "Mastodon.py failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );
}

/// `toot` (PyPI) signs in with the password form of its CLI, posts, and reads the home timeline.
#[tokio::test]
async fn toot_posts_and_reads_home() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = server_with_users(dir.path(), &["tooter"]).await;
    let toot = std::path::Path::new(&python()).with_file_name("toot");
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = Command::new(&toot);
        cmd.args(args)
            .env("XDG_CONFIG_HOME", dir.path().join("toot-config"))
            .env("NO_COLOR", "1")
            .env("COLUMNS", "200")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} (run scripts/test): {e}", toot.display()));
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let base = format!("http://localhost:{port}");
    let (ok, out) = run(
        &["login_cli", "-i", &base, "-e", "tooter@example.com"],
        Some("python is fun\n"),
    );
    assert!(ok && out.contains("Successfully logged in"), "{out}");
    let (ok, out) = run(&["post", "Tooted from the toot CLI"], None);
    assert!(
        ok,
        "{out}\n{}",
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );
    let (ok, out) = run(&["timelines", "home", "--no-pager", "--no-clear"], None);
    assert!(ok && out.contains("Tooted from the toot CLI"), "{out}");
}

/// Mastodon.py subscribes to Web Push; a mention reaches the script's own push endpoint on
/// loopback, which decrypts it with the keys Mastodon.py generated.
#[tokio::test]
async fn mastodon_py_receives_a_web_push() {
    let dir = tempfile::tempdir().unwrap();
    // The push endpoint is on loopback, which only development setups may reach.
    let extra = "[federation]\nallow_private_addresses = true\n";
    let (server, port) =
        server_with_config(dir.path(), &["pyalice", "pybob"], "python is fun", extra).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/mastodon_py_push.py"
    );
    let out = Command::new(python())
        .arg(script)
        .arg(format!("http://localhost:{port}"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (run scripts/test): {e}", python()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "Mastodon.py push failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );
}

/// masto.js (under Elk and Phanpy), then megalodon, against one server: each signs in, reads home,
/// lists and filters, and gets a `user` stream event over its WebSocket. `scripts/test` installs
/// them (`npm ci` in tests/clients/js).
#[tokio::test]
async fn javascript_clients_sign_in_read_and_stream() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) =
        server_with_config(dir.path(), &["jsalice", "jsbob"], "javascript is fun", "").await;
    add_emoji(&server.config, "rookery");
    let node = std::env::var("ROOKERY_TEST_NODE").unwrap_or_else(|_| "node".into());
    let js = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/js");
    // megalodon reads the list and filter masto.js made.
    for script in ["masto.mjs", "megalodon.mjs"] {
        let out = Command::new(&node)
            .current_dir(js)
            .arg(script)
            .arg(format!("http://localhost:{port}"))
            .output()
            .unwrap_or_else(|e| panic!("cannot run {node} (run scripts/test): {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("all checks passed"),
            "{script} failed:\n{stdout}\n{stderr}\nserver log:\n{}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
    }
}

/// Mastodon.py posts a poll and votes in it, schedules, moves and cancels statuses; the test then
/// moves the poll's end and the scheduled time into the past, and Mastodon.py sees the poll ended
/// (with its notification) and the status published.
#[tokio::test]
async fn mastodon_py_polls_and_scheduled_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = server_with_users(dir.path(), &["pyalice", "pybob"]).await;
    add_emoji(&server.config, "rookery");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/mastodon_py_polls.py"
    );
    let run = |args: &[&str]| {
        let out = Command::new(python())
            .arg(script)
            .arg(format!("http://localhost:{port}"))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} (run scripts/test): {e}", python()));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("all checks passed"),
            "Mastodon.py failed:\n{stdout}\n{stderr}\nserver log:\n{}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
        stdout
    };
    let out = run(&["post"]);
    let value = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {out}"))
            .trim()
            .to_string()
    };
    let (poll, scheduled) = (value("POLL "), value("SCHEDULED "));
    let config = rookery::config::Config::load(Some(&server.config)).unwrap();
    let db = rookery::storage::Db::connect(&config.database.url, 1)
        .await
        .unwrap();
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    rookery::on_db!(db, c => sqlx::query("UPDATE scheduled_statuses SET scheduled_at = $1 WHERE id = $2")
        .bind(past).bind(scheduled.parse::<i64>().unwrap()).execute(c).await.map(|_| ()))
    .unwrap();
    crate::polls::due_now(&db, "scheduled_status").await;
    crate::polls::end_poll(&db, &poll).await;
    let done = crate::federation::eventually(20, || async {
        let published = rookery::on_db!(db, c => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM jobs WHERE kind IN ('scheduled_status', 'poll_end')")
            .fetch_one(c).await)
        .unwrap();
        published == 0
    })
    .await;
    assert!(
        done,
        "the jobs did not run:\n{}",
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );
    run(&["check", &poll, &scheduled]);
}

/// Adds a local custom emoji with the CLI (the fixture PNG).
fn add_emoji(config: &std::path::Path, shortcode: &str) {
    let png = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/media/photo.png"
    );
    let (ok, _, err) = run_cli(
        config,
        &[
            "admin",
            "emoji",
            "add",
            "--shortcode",
            shortcode,
            "--file",
            png,
        ],
    );
    assert!(ok, "{err}");
}
