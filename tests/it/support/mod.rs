//! Test support: `TestApp` runs the real router on a loopback socket over a fresh database (a
//! SQLite file in a temporary folder, or a new PostgreSQL database per test), and helpers drive it
//! over HTTP as a client would.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use rookery::config::Config;
use rookery::state::AppState;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub mod binary;
pub mod browser;
pub mod forms;
pub mod nginx;
pub mod s3;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Server URL of the PostgreSQL used by tests (database name is added per test).
pub fn pg_server_url() -> String {
    std::env::var("ROOKERY_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Creates a new, empty PostgreSQL database and returns its URL. Databases are named
/// `rookery_test_*`; `scripts/test` drops leftovers from earlier runs.
pub async fn fresh_pg_database() -> String {
    fresh_pg_database_on(&pg_server_url()).await
}

/// A new, empty database on the PostgreSQL server at `server` (`postgres://user@host:port`); its
/// URL.
pub async fn fresh_pg_database_on(server: &str) -> String {
    use sqlx::Connection;
    let name = format!(
        "rookery_test_{}",
        rookery::service::secrets::random_token()[..16]
            .to_lowercase()
            .replace('-', "_")
    );
    let admin_url = format!("{server}/postgres");
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin_url} is needed for tests (run scripts/test): {e}")
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    format!("{server}/{name}")
}

/// A database URL of the requested kind under `dir`.
pub async fn database_url(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("rookery.db").display()),
        Backend::Postgres => fresh_pg_database().await,
    }
}

/// A running in-process instance.
pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub state: AppState,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A test's view of one HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a Mastodon error: the status, a JSON content type and an `error` string.
    pub fn assert_error(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        let ct = self.header("content-type").unwrap_or("");
        assert!(
            ct.starts_with("application/json"),
            "content-type {ct:?} for {}",
            self.text
        );
        let body = self.json();
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "no error: {body}"
        );
        body
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, |_| {}).await
    }

    /// Starts with the default test configuration changed by `tweak`.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut cfg = Config::default();
        cfg.server.domain = format!("localhost:{}", addr.port());
        cfg.server.bind = addr.to_string();
        cfg.database.url = database_url(backend, dir.path()).await;
        cfg.database.max_connections = 5;
        cfg.media.dir = dir.path().join("media").display().to_string();
        // Every test signs up from 127.0.0.1; the limit itself has its own test.
        cfg.rate_limits.sign_up_per_ip = 1000;
        tweak(&mut cfg);
        let db = rookery::server::open_db(&cfg).await.expect("open db");
        let state = AppState::new(cfg, db).expect("app state");
        let (tx, rx) = oneshot::channel::<()>();
        let st = state.clone();
        tokio::spawn(async move {
            rookery::server::serve_on(st, listener, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestApp {
            base: format!("http://{addr}"),
            addr,
            state,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            dir,
            shutdown: Some(tx),
        }
    }

    /// The database this app runs on.
    pub fn backend(&self) -> Backend {
        match self.state.db {
            rookery::storage::Db::Sqlite(..) => Backend::Sqlite,
            rookery::storage::Db::Postgres(..) => Backend::Postgres,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn media_dir(&self) -> PathBuf {
        PathBuf::from(&self.state.config.media.dir)
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        Answer {
            status: resp.status(),
            headers: resp.headers().clone(),
            text: resp.text().await.expect("body"),
        }
    }

    /// Sends a form-encoded body.
    pub async fn send_form(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        form: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.http.request(method, self.url(path)).form(form);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        Answer {
            status: resp.status(),
            headers: resp.headers().clone(),
            text: resp.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(Method::PUT, path, token, Some(body)).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(Method::POST, path, token, Some(body)).await
    }

    /// Creates an approved, confirmed local user through the service layer; the password is
    /// `"password-{username}"`.
    pub async fn create_user(&self, username: &str) -> i64 {
        self.create_user_with_role(username, rookery::service::accounts::Role::User)
            .await
    }

    pub async fn create_user_with_role(
        &self,
        username: &str,
        role: rookery::service::accounts::Role,
    ) -> i64 {
        let password = format!("password-{username}");
        let (account, _) = rookery::service::accounts::create_local(
            &self.state,
            &rookery::service::accounts::CreateLocalAccount {
                username,
                email: &format!("{username}@example.com"),
                password: &password,
                role,
                approved: true,
                locale: None,
                reason: None,
                allow_reserved: true,
                confirmed: true,
            },
        )
        .await
        .expect("create user");
        account.id
    }

    /// Registers an app through the API; returns `(client_id, client_secret)`.
    pub async fn register_app(&self, scopes: &str, redirect_uri: &str) -> (String, String) {
        let a = self
            .post(
                "/api/v1/apps",
                None,
                serde_json::json!({"client_name": "Test app", "redirect_uris": redirect_uri, "scopes": scopes}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        let j = a.json();
        (
            j["client_id"].as_str().unwrap().to_string(),
            j["client_secret"].as_str().unwrap().to_string(),
        )
    }

    /// A user token for `username` (created beforehand with [`TestApp::create_user`]) through the
    /// password grant.
    pub async fn token_for(&self, username: &str, scopes: &str) -> String {
        let client = self.register_app(scopes, "urn:ietf:wg:oauth:2.0:oob").await;
        let a = self
            .password_grant(
                &client,
                &format!("{username}@example.com"),
                &format!("password-{username}"),
                scopes,
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        a.json()["access_token"].as_str().unwrap().to_string()
    }

    /// `POST /oauth/token` with the password grant for the app `client` (`(client_id,
    /// client_secret)` from [`TestApp::register_app`]); the answer, whatever it is.
    pub async fn password_grant(
        &self,
        client: &(String, String),
        login: &str,
        password: &str,
        scopes: &str,
    ) -> Answer {
        self.post(
            "/oauth/token",
            None,
            serde_json::json!({
                "grant_type": "password", "client_id": client.0, "client_secret": client.1,
                "username": login, "password": password, "scope": scopes,
            }),
        )
        .await
    }

    /// An app-only token (client credentials).
    pub async fn app_token(&self, scopes: &str) -> String {
        let (id, secret) = self.register_app(scopes, "urn:ietf:wg:oauth:2.0:oob").await;
        let a = self
            .send_form(
                Method::POST,
                "/oauth/token",
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("scope", scopes),
                ],
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        a.json()["access_token"].as_str().unwrap().to_string()
    }
}

/// Runs an `async fn(TestApp)` scenario once per backend, as two tests named `sqlite` and
/// `postgres` inside a module named after the scenario.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::support::TestApp::start($crate::support::Backend::Sqlite).await).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::support::TestApp::start($crate::support::Backend::Postgres).await).await
            }
        }
    )+};
}
