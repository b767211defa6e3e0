//! Running the real `rookery` binary: a server process with its own config file, and CLI commands.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Backend;

pub const BIN: &str = env!("CARGO_BIN_EXE_rookery");

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A server process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub base: String,
    pub config: PathBuf,
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a config file for an instance on `port` under `dir`.
pub async fn write_config(dir: &Path, port: u16, backend: Backend, extra: &str) -> PathBuf {
    let db = super::database_url(backend, dir).await;
    // `extra` may bring its own `[media]` table (an S3 bucket, say); the folder joins it.
    let media = format!("[media]\ndir = \"{}\"\n", dir.join("media").display());
    let (media, extra) = match extra.split_once("[media]\n") {
        Some((before, after)) => (String::new(), format!("{before}{media}{after}")),
        None => (media, extra.to_string()),
    };
    let cfg = format!(
        "[server]\ndomain = \"localhost:{port}\"\nbind = \"127.0.0.1:{port}\"\n\n[database]\nurl = \"{db}\"\n\n{media}\n{extra}\n"
    );
    let path = dir.join("rookery.toml");
    std::fs::write(&path, cfg).expect("write config");
    path
}

/// Runs `rookery --config CONFIG ARGS…`; returns (success, stdout, stderr).
pub fn run_cli(config: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run rookery");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Creates the user `name` (e-mail `name@example.com`) with `password` through
/// `rookery admin account create`; panics with the CLI's error if it fails.
pub fn create_account(config: &Path, name: &str, password: &str) {
    let email = format!("{name}@example.com");
    let (ok, _, err) = run_cli(
        config,
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
    assert!(ok, "creating {name}: {err}");
}

/// Starts `rookery serve` with `config` and waits until it answers.
pub async fn start_server(dir: &Path, config: &Path, port: u16) -> Server {
    start_node(dir, config, port, "all").await
}

/// Starts `rookery serve --role ROLE` with `config` (logging to `server-ROLE.log` for other roles
/// than `all`) and waits until its `/health` answers.
pub async fn start_node(dir: &Path, config: &Path, port: u16, role: &str) -> Server {
    let log = if role == "all" {
        dir.join("server.log")
    } else {
        dir.join(format!("server-{role}.log"))
    };
    let child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(["serve", "--role", role])
        .stdout(Stdio::from(std::fs::File::create(&log).expect("log")))
        .stderr(Stdio::from(
            std::fs::File::options()
                .append(true)
                .open(&log)
                .expect("log"),
        ))
        .spawn()
        .expect("spawn rookery serve");
    let base = format!("http://127.0.0.1:{port}");
    let server = Server {
        child,
        port,
        base: base.clone(),
        config: config.to_path_buf(),
        dir: dir.to_path_buf(),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await
            && r.status().is_success()
        {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "server did not start: {}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `GET url` (with a bearer token when given); returns the status and the JSON body (`null` when
/// the body is not JSON).
pub async fn get_json(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}
