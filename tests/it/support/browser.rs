//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`, installed by
//! `scripts/test`), for testing pages as a person sees them.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

use super::binary::free_port;

/// A chromedriver process and a browser session on it; both end when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // Chromium outlives its driver (and a page playing video keeps a core busy): end every
        // process of this session's profile.
        let _ = Command::new("pkill")
            .args(["-9", "-f", &self._profile.path().display().to_string()])
            .status();
    }
}

fn find(cands: &[&str]) -> Option<String> {
    cands
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

impl Browser {
    pub async fn start() -> Browser {
        Browser::start_with(&[]).await
    }

    /// As [`Browser::start`], with extra Chromium flags (such as fake camera and microphone).
    pub async fn start_with(extra_args: &[&str]) -> Browser {
        let driver_bin = std::env::var("ROOKERY_TEST_CHROMEDRIVER")
            .ok()
            .or_else(|| find(&["/usr/bin/chromedriver"]))
            .expect(
                "chromedriver is needed for page tests (scripts/test installs chromium-driver)",
            );
        let chromium = std::env::var("ROOKERY_TEST_CHROMIUM")
            .ok()
            .or_else(|| find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]))
            .expect("chromium is needed for page tests (scripts/test installs it)");
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        // Console messages, for `console_errors`.
        caps.insert(
            "goog:loggingPrefs".into(),
            serde_json::json!({"browser": "ALL"}),
        );
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1000,900",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra_args.iter().map(|a| a.to_string()));
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": args,
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("tls")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                Err(e) => panic!("cannot start a Chromium session: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Saves a screenshot under the target folder (for people reading a failure) and returns its path.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = std::env::temp_dir().join("rookery-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// The console's errors since the last call (ChromeDriver's `se/log`, browser type): uncaught
    /// exceptions, failed loads, CSP violations.
    pub async fn console_errors(&self) -> Vec<String> {
        let v = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("the browser's log");
        v.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Types `text` into the field with this `id`.
    pub async fn fill(&self, id: &str, text: &str) {
        self.client
            .find(fantoccini::Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no #{id}: {e}"))
            .send_keys(text)
            .await
            .unwrap();
    }

    /// Clicks the page's first submit button.
    pub async fn submit(&self) {
        self.client
            .find(fantoccini::Locator::Css("button[type=submit]"))
            .await
            .expect("a submit button")
            .click()
            .await
            .unwrap();
    }
}

/// ChromeDriver's log command (`POST /session/:id/se/log {"type": "browser"}`).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type": "browser"}"#.into()))
    }
}
