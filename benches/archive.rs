//! Archive benchmark (issue 27): one account with `--statuses` statuses (default 5,000) and
//! `--media` photos (default 30, each a 2000×1500 JPEG of noise, about 2 MB, so the media alone
//! outweigh the memory budget), posted through the API of the release binary; then "Request your
//! archive" is timed until the zip is ready. Prints the server's RSS before, its peak while the
//! archive was built (`VmHWM` after resetting it through `/proc/PID/clear_refs`), the growth, the
//! zip's size, and checks that `outbox.json` parses as an AS2 `OrderedCollection` of every status.
//! Exits with an error when the growth is 50 MB or more (the bound).
//!
//! Usage: `cargo bench --bench archive -- [--statuses 5000] [--media 30]`. `BENCH_ROOKERY_BIN`
//! runs another build of the server.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A JPEG of noise (incompressible, so the file is as large as a real photo).
fn noise_jpeg(seed: u64) -> Vec<u8> {
    let (w, h) = (2000u32, 1500u32);
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out.into_inner()
}

#[tokio::main]
async fn main() {
    let statuses: usize = arg("--statuses", "5000").parse().unwrap();
    let media: usize = arg("--media", "30").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = dir.path().join("bench.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\ndomain = \"localhost:{port}\"\nbind = \"127.0.0.1:{port}\"\n[database]\nurl = \"sqlite://{}\"\n[media]\ndir = \"{}\"\n[rate_limits]\nstatuses_per_account = 1000000\n",
            dir.path().join("bench.db").display(),
            dir.path().join("media").display()
        ),
    )
    .unwrap();
    let bin =
        std::env::var("BENCH_ROOKERY_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_rookery").into());
    let cli = |args: &[&str]| {
        let out = Command::new(&bin)
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli(&["migrate"]);
    cli(&[
        "admin",
        "account",
        "create",
        "--username",
        "ava",
        "--email",
        "ava@example.com",
        "--password",
        "bench password",
    ]);
    let mut server = Command::new(&bin)
        .args(["--config", cfg.to_str().unwrap(), "serve"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = server.id();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("{base}/api/v1/instance"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let app: Value = http.post(format!("{base}/api/v1/apps")).json(&json!({"client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})).send().await.unwrap().json().await.unwrap();
    let tok: Value = http.post(format!("{base}/oauth/token")).json(&json!({"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"], "username": "ava", "password": "bench password", "scope": "read write"})).send().await.unwrap().json().await.unwrap();
    let token = tok["access_token"].as_str().expect("a token").to_string();

    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            tokio::spawn(async move {
                for i in (t..statuses).step_by(8) {
                    let r = http.post(format!("{base}/api/v1/statuses")).bearer_auth(&token)
                        .json(&json!({"status": format!("status {i} with a few words of text, #archive and a link https://example.com/{i}")}))
                        .send().await.unwrap();
                    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let mut media_bytes = 0;
    for i in 0..media {
        let jpeg = noise_jpeg(i as u64 + 1);
        media_bytes += jpeg.len();
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(jpeg)
                .file_name("noise.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
        let m: Value = http
            .post(format!("{base}/api/v2/media"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = m["id"].as_str().expect("a media ID").to_string();
        loop {
            let r = http
                .post(format!("{base}/api/v1/statuses"))
                .bearer_auth(&token)
                .json(&json!({"status": format!("photo {i}"), "media_ids": [id]}))
                .send()
                .await
                .unwrap();
            if r.status().is_success() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    println!(
        "seeded {statuses} statuses and {media} photos ({:.1} MB uploaded) in {:.1} s",
        media_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = status_kb(pid, "VmRSS:");
    // Resets VmHWM to the current RSS, so the peak read afterwards is the build's.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let started = Instant::now();
    let r: Value = http
        .post(format!("{base}/api/v1/archives"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["id"].as_str().expect("an archive").to_string();
    let ready = loop {
        let list: Value = http
            .get(format!("{base}/api/v1/archives"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if list[0]["state"] == "ready" {
            break list[0].clone();
        }
        assert_ne!(list[0]["state"], "failed");
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "not ready after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let secs = started.elapsed().as_secs_f64();
    let peak = status_kb(pid, "VmHWM:");
    let zip = http
        .get(format!("{base}/api/v1/archives/{id}/download"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    let mut outbox = String::new();
    archive
        .by_name("outbox.json")
        .unwrap()
        .read_to_string(&mut outbox)
        .unwrap();
    let outbox: Value = serde_json::from_str(&outbox).expect("outbox.json is JSON");
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(
        outbox["orderedItems"].as_array().unwrap().len(),
        statuses + media
    );
    let growth = peak.saturating_sub(before);
    println!(
        "archive of {} statuses, {} files: {:.1} MB zip built in {secs:.1} s; server RSS before {:.1} MB, peak while building {:.1} MB, growth {:.1} MB",
        statuses + media,
        archive.len(),
        ready["size"].as_f64().unwrap_or(0.0) / 1e6,
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        growth as f64 / 1024.0
    );
    let _ = server.kill();
    assert!(
        growth < 50 * 1024,
        "peak RSS grew by {} KB while building",
        growth
    );
}
