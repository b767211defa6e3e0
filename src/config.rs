//! Configuration: `config/*.toml` (or `--config FILE`) plus `ROOKERY__SECTION__KEY` environment
//! overrides, read with the `config` crate. Every key is listed with its doc comment in
//! `config/example.toml`; a test keeps the two in step.
//!
//! With no file and no variables the embedded default applies: SQLite at `./data/rookery.db`, media
//! under `./data/media`, bound to `127.0.0.1:8080` as domain `localhost:8080` over plain http.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub instance: InstanceConfig,
    pub database: DatabaseConfig,
    pub media: MediaConfig,
    pub registrations: RegistrationsConfig,
    pub federation: FederationConfig,
    pub rate_limits: RateLimitsConfig,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Public host name (with `:port` in development). Part of every actor ID: never change it once
    /// the instance has federated.
    pub domain: String,
    /// Address and port to listen on.
    pub bind: String,
    /// `https` or `http`. Unset: `http` when the domain is local (localhost, 127.0.0.1, *.localhost),
    /// otherwise `https`.
    pub protocol: Option<Protocol>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            domain: "localhost:8080".into(),
            bind: "127.0.0.1:8080".into(),
            protocol: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Https,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceConfig {
    /// Shown as the server's name in apps and on its pages.
    pub title: String,
    /// One paragraph about the server (plain text).
    pub description: String,
    /// Contact address shown in `/api/v1/instance`.
    pub contact_email: String,
    /// Longest status text, in characters.
    pub max_characters: u32,
    /// Most media attachments on one status.
    pub max_media_attachments: u32,
    /// Public address of this server's source code (AGPL-3.0 §13), shown as `source_url` in
    /// `/api/v2/instance` and in nodeinfo. Empty: not shown.
    pub source_url: String,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        InstanceConfig {
            title: "Rookery".into(),
            description: "A Rookery server.".into(),
            contact_email: String::new(),
            max_characters: 500,
            max_media_attachments: 4,
            source_url: String::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (created when missing) or `postgres://USER@HOST:PORT/NAME`.
    pub url: String,
    /// Largest number of pooled connections.
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://data/rookery.db".into(),
            max_connections: 16,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Folder for uploaded and cached media (local backend).
    pub dir: String,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            dir: "data/media".into(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationsConfig {
    /// `open` (anyone may sign up), `approval` (a moderator approves each sign-up) or `closed`.
    pub mode: RegistrationsMode,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationsMode {
    #[default]
    Open,
    Approval,
    Closed,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederationConfig {
    /// Talk to peers over plain http (development and tests only). Unset: allowed when the domain
    /// is local.
    pub allow_http: Option<bool>,
    /// Let outgoing fetches reach loopback, private and link-local addresses (development and tests
    /// only; the default `false` guards against request forgery).
    pub allow_private_addresses: bool,
    /// Seconds before the first retry of a failed delivery; each later retry waits twice as long,
    /// at most an hour.
    pub retry_initial_seconds: u64,
    /// Hours after which a delivery that keeps failing is given up.
    pub retry_max_hours: u64,
    /// Set when several Rookery processes share one PostgreSQL database. They then share the
    /// delivery queue safely, and a crashed node's claimed deliveries are taken over after 45 s;
    /// a single node instead releases its leftover claims at start.
    pub shared_queue: bool,
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            allow_http: None,
            allow_private_addresses: false,
            retry_initial_seconds: 60,
            retry_max_hours: 72,
            shared_queue: false,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitsConfig {
    /// Sign-in attempts allowed per client IP address in 5 minutes (HTML form and password grant).
    pub sign_in_per_ip: u32,
    /// Sign-in attempts allowed per account in 5 minutes, whatever the address.
    pub sign_in_per_account: u32,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        RateLimitsConfig {
            sign_in_per_ip: 25,
            sign_in_per_account: 10,
        }
    }
}

impl Config {
    /// Reads `file` when given (it must exist), else `config/rookery.toml` when present, then applies
    /// `ROOKERY__SECTION__KEY` variables.
    ///
    /// Errors: unreadable or malformed file, unknown key, value of the wrong type.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut builder = config::Config::builder();
        match file {
            Some(path) => {
                builder = builder.add_source(config::File::from(path).required(true));
            }
            None => {
                builder =
                    builder.add_source(config::File::with_name("config/rookery").required(false));
            }
        }
        builder = builder.add_source(
            config::Environment::with_prefix("ROOKERY")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        let cfg: Config = builder.build()?.try_deserialize()?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let d = &self.server.domain;
        anyhow::ensure!(
            !d.is_empty() && !d.contains('/') && !d.contains('@'),
            "server.domain must be a bare host name such as example.com or localhost:8080"
        );
        anyhow::ensure!(
            self.instance.max_characters > 0,
            "instance.max_characters must be positive"
        );
        Ok(())
    }

    /// True for localhost, loopback addresses and `*.localhost`, with or without a port.
    pub fn domain_is_local(&self) -> bool {
        let host = self.host();
        host == "localhost"
            || host.ends_with(".localhost")
            || host.starts_with("127.")
            || host == "[::1]"
    }

    /// The domain without its port.
    pub fn host(&self) -> &str {
        let d = self.server.domain.as_str();
        if d.starts_with('[') {
            return d.split_inclusive(']').next().unwrap_or(d);
        }
        d.split(':').next().unwrap_or(d)
    }

    pub fn protocol(&self) -> Protocol {
        self.server.protocol.unwrap_or(if self.domain_is_local() {
            Protocol::Http
        } else {
            Protocol::Https
        })
    }

    /// `https://domain` (or `http://` in development), no trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = match self.protocol() {
            Protocol::Http => "http",
            Protocol::Https => "https",
        };
        format!("{scheme}://{}", self.server.domain)
    }

    /// `wss://domain` or `ws://domain`, for `urls.streaming_api`.
    pub fn streaming_url(&self) -> String {
        match self.protocol() {
            Protocol::Http => format!("ws://{}", self.server.domain),
            Protocol::Https => format!("wss://{}", self.server.domain),
        }
    }

    pub fn allow_http(&self) -> bool {
        self.federation.allow_http.unwrap_or(self.domain_is_local())
    }
}
