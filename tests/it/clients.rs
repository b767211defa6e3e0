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
