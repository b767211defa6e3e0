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
    pub mail: MailConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub calls: CallsConfig,
}

/// `[calls]`: one-to-one voice and video calls (docs/API.md, "Calls"). The media go between the
/// browsers; the server only carries the signalling.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallsConfig {
    /// STUN and TURN servers the browsers use to find a path to each other, as
    /// `RTCPeerConnection`'s `iceServers` (given to signed-in users by `GET
    /// /api/v1/calls/ice_servers`). Empty: host candidates only, which connect on a LAN.
    pub ice_servers: Vec<IceServer>,
}

/// One STUN or TURN server of `calls.ice_servers` (W3C WebRTC `RTCIceServer`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    /// `stun:HOST:PORT`, `turn:HOST:PORT?transport=udp`, `turns:HOST:PORT`.
    pub urls: Vec<String>,
    /// TURN only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// `[log]`: how the process logs (to standard output).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (for people) or `json` (one JSON object per line, for log shippers). Every line of a
    /// request carries its `request_id` (the `X-Request-Id` the client or proxy sent, else a new
    /// one, returned in the answer). `RUST_LOG` sets the levels.
    pub format: LogFormat,
}

/// `log.format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[metrics]`: Prometheus metrics at `GET /metrics`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// The bearer token a scraper sends (`Authorization: Bearer TOKEN`; Prometheus'
    /// `authorization` setting). Empty: `/metrics` answers 404.
    pub token: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// SMTP server, e.g. `smtp://user:pass@mail.example:587` (STARTTLS), `smtps://…:465` (TLS) or
    /// `smtp://127.0.0.1:2525` (plain, local only). Empty: mail is written as `.eml` files to `dir`.
    pub smtp_url: String,
    /// The sender, e.g. `Rookery <notifications@example.com>`. Empty: `Rookery <notifications@DOMAIN>`.
    pub from: String,
    /// Where mail is written when there is no SMTP server. Empty: `./data/mail`.
    pub dir: String,
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
    /// Addresses (or CIDR ranges) of the reverse proxies in front of the server. Only a connection
    /// from one of them may name the client's address, in `Forwarded` or `X-Forwarded-For`; the
    /// client is then the rightmost address in that chain that is not a trusted proxy. Rate limits
    /// per client address depend on it (docs/DEPLOY.md, docs/SECURITY.md).
    pub trusted_proxies: Vec<String>,
    /// The one header trusted proxies name the client in: `X-Forwarded-For` (nginx, HAProxy,
    /// Caddy, Traefik) or `Forwarded` (RFC 7239). The other is ignored, since a proxy passes it on
    /// as the client wrote it.
    pub forwarded_header: ForwardedHeader,
}

/// `server.forwarded_header`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum ForwardedHeader {
    #[default]
    #[serde(rename = "X-Forwarded-For")]
    XForwardedFor,
    #[serde(rename = "Forwarded")]
    Forwarded,
}

impl ForwardedHeader {
    /// The header's name, in lower case.
    pub fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            domain: "localhost:8080".into(),
            bind: "127.0.0.1:8080".into(),
            protocol: None,
            trusted_proxies: vec!["127.0.0.1/8".into(), "::1/128".into()],
            forwarded_header: ForwardedHeader::XForwardedFor,
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
    /// Server rules, in order, shown in apps (`/api/v1/instance/rules`, `rules` of the instance).
    pub rules: Vec<String>,
    /// Who may see the servers this one suspends or limits (`GET /api/v1/instance/domain_blocks`,
    /// the About page): `none` (the default), `users` (signed-in users) or `all`.
    pub show_domain_blocks: ShowDomainBlocks,
    /// With the list, each block's public comment.
    pub show_domain_blocks_rationale: bool,
    /// The privacy policy (plain text, paragraphs split by blank lines) served at
    /// `/api/v1/instance/privacy_policy`. Empty: Rookery's own account of what it keeps.
    pub privacy_policy: String,
    /// Terms of service (plain text) served at `/api/v1/instance/terms_of_service`. Empty: none
    /// (404, as Mastodon answers without terms).
    pub terms_of_service: String,
    /// The day the terms take effect (`YYYY-MM-DD`); needed with `terms_of_service`.
    pub terms_of_service_effective_date: String,
}

/// Who may see the instance's domain blocks (Mastodon's `show_domain_blocks` setting).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ShowDomainBlocks {
    #[default]
    None,
    Users,
    All,
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
            rules: Vec::new(),
            show_domain_blocks: ShowDomainBlocks::None,
            show_domain_blocks_rationale: false,
            privacy_policy: String::new(),
            terms_of_service: String::new(),
            terms_of_service_effective_date: String::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (created when missing) or `postgres://USER@HOST:PORT/NAME`.
    pub url: String,
    /// Largest number of pooled connections (to the primary, and to each replica).
    pub max_connections: u32,
    /// PostgreSQL streaming replicas (`postgres://…` each) for the reads of timelines, accounts
    /// and statuses in `GET` API requests (`storage::replicas`). Empty: every read goes to `url`.
    pub replica_urls: Vec<String>,
    /// A replica further behind the primary than this, in milliseconds, is skipped until it
    /// catches up; a client session reads from the primary for this long plus one lag check
    /// (500 ms) after each request of it that may have written (read-your-writes).
    pub replica_max_lag_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://data/rookery.db".into(),
            max_connections: 16,
            replica_urls: Vec::new(),
            replica_max_lag_ms: 1000,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Where media files live: `local` (the folder `dir`, served by Rookery under `/media/`) or
    /// `s3` (an S3-compatible bucket, see `[media.s3]`).
    pub backend: MediaBackend,
    /// Folder for uploaded and cached media (local backend), and for scratch files while videos
    /// are transcoded (both backends).
    pub dir: String,
    /// Largest image upload, in bytes.
    pub image_max_bytes: u64,
    /// Largest image accepted, in pixels (width × height); bigger ones are refused before they are
    /// decoded, so a decompression bomb costs nothing.
    pub image_max_pixels: u64,
    /// Largest video or audio upload, in bytes.
    pub video_max_bytes: u64,
    /// Longest video or audio accepted, in seconds.
    pub video_max_seconds: u32,
    /// Largest video frame accepted, in pixels (width × height).
    pub video_max_pixels: u64,
    /// Highest video frame rate accepted, in frames per second.
    pub video_max_fps: u32,
    /// Videos transcoded at once by this process (each ffmpeg uses every core).
    pub transcode_concurrency: usize,
    /// Largest remote file cached here, in bytes; bigger ones are shown from their origin.
    pub remote_max_bytes: u64,
    /// Days after which cached copies of remote media are evicted (fetched again when viewed).
    pub remote_cache_days: u32,
    /// Cache remote attachments as soon as their post arrives (a background job), rather than on
    /// first view. Off by default: it spends disk and bandwidth on posts nobody may open.
    pub remote_prefetch: bool,
    /// The S3-compatible bucket used when `backend = "s3"`.
    pub s3: S3Config,
}

/// Where media files are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaBackend {
    Local,
    S3,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Endpoint URL, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000`.
    pub endpoint: String,
    /// Bucket name (it must exist).
    pub bucket: String,
    /// Region name (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// Access key ID.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Public address files are served from (a CDN or the bucket's website address), without a
    /// trailing slash. Empty: `endpoint/bucket`.
    pub public_base_url: String,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            backend: MediaBackend::Local,
            dir: "data/media".into(),
            image_max_bytes: 16 * 1024 * 1024,
            image_max_pixels: 33_177_600,
            video_max_bytes: 99 * 1024 * 1024,
            video_max_seconds: 600,
            video_max_pixels: 8_294_400,
            video_max_fps: 120,
            transcode_concurrency: 1,
            remote_max_bytes: 40 * 1024 * 1024,
            remote_cache_days: 7,
            remote_prefetch: false,
            s3: S3Config::default(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationsConfig {
    /// `open` (anyone may sign up), `approval` (a moderator approves each sign-up) or `closed`.
    pub mode: RegistrationsMode,
    /// New accounts must confirm their e-mail address before they can sign in. Unset: on when
    /// `mail.smtp_url` is set.
    pub require_email_confirmation: Option<bool>,
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
    /// Private addresses (or CIDR ranges) that outgoing requests may reach all the same, such as a
    /// media server on the local network; every other non-public address stays refused.
    pub allowed_private_addresses: Vec<String>,
    /// Seconds before the first retry of a failed delivery; each later retry waits twice as long,
    /// at most an hour.
    pub retry_initial_seconds: u64,
    /// Hours after which a delivery that keeps failing is given up.
    pub retry_max_hours: u64,
    /// Hours a server may fail without a single success before it counts as unreachable (it then
    /// gets one probe at a time, at most an hour apart, until it answers or talks to us). Until
    /// then each delivery keeps its own back-off. Fractions are allowed (tests shrink it).
    pub unreachable_after_hours: f64,
    /// Sign deliveries with RFC 9421 HTTP message signatures where a server takes them, learnt per
    /// server by double-knocking (RFC 9421 first; after a 400 or 401, draft-cavage, remembered).
    /// Off: draft-cavage only, as Mastodon before 4.5 signs. Incoming requests are checked in
    /// both schemes either way.
    pub rfc9421_signing: bool,
    /// Authorized fetch (Mastodon's "secure mode"): every ActivityPub document (actors, statuses,
    /// collections) is served only to requests signed by an actor whose server is not suspended
    /// here; the instance actor stays public. Off by default.
    pub authorized_fetch: bool,
    /// Set when several Rookery processes share one PostgreSQL database. They then share the
    /// delivery and job queues safely (a crashed node's claims are taken over within a minute),
    /// and streaming events cross nodes through PostgreSQL `LISTEN/NOTIFY`; a single node instead
    /// releases its leftover claims at start.
    pub shared_queue: bool,
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            allow_http: None,
            allow_private_addresses: false,
            allowed_private_addresses: Vec::new(),
            retry_initial_seconds: 60,
            retry_max_hours: 72,
            unreachable_after_hours: 24.0,
            authorized_fetch: false,
            rfc9421_signing: true,
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
    /// Sign-ups allowed per client IP address in 30 minutes (API and web page).
    pub sign_up_per_ip: u32,
    /// Password reset requests allowed per client IP address in 30 minutes.
    pub password_reset_per_ip: u32,
    /// Statuses an account may post in 3 hours (as Mastodon's default).
    pub statuses_per_account: u32,
    /// Calls an account may start in 10 minutes; also the calls one remote account may place to
    /// this server's users in 10 minutes.
    pub calls_per_account: u32,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        RateLimitsConfig {
            sign_in_per_ip: 25,
            sign_in_per_account: 10,
            sign_up_per_ip: 5,
            password_reset_per_ip: 5,
            statuses_per_account: 300,
            calls_per_account: 20,
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
        let i = &self.instance;
        anyhow::ensure!(
            i.terms_of_service.trim().is_empty()
                || chrono::NaiveDate::parse_from_str(
                    &i.terms_of_service_effective_date,
                    "%Y-%m-%d"
                )
                .is_ok(),
            "instance.terms_of_service needs instance.terms_of_service_effective_date as YYYY-MM-DD"
        );
        // Both end up in date arithmetic; ten years is plenty and cannot overflow it.
        let f = &self.federation;
        anyhow::ensure!(
            f.retry_max_hours <= 87_600,
            "federation.retry_max_hours must be at most 87600 (ten years)"
        );
        anyhow::ensure!(
            f.unreachable_after_hours.is_finite()
                && f.unreachable_after_hours > 0.0
                && f.unreachable_after_hours <= 87_600.0,
            "federation.unreachable_after_hours must be more than 0 and at most 87600 (ten years)"
        );
        anyhow::ensure!(
            f.retry_initial_seconds >= 1 && f.retry_initial_seconds <= 86_400,
            "federation.retry_initial_seconds must be from 1 to 86400"
        );
        anyhow::ensure!(
            self.calls.ice_servers.iter().all(|s| !s.urls.is_empty()
                && s.urls.iter().all(|u| ["stun:", "stuns:", "turn:", "turns:"]
                    .iter()
                    .any(|p| u.starts_with(p)))),
            "calls.ice_servers: each needs urls, each starting with stun:, stuns:, turn: or turns:"
        );
        let db = &self.database;
        anyhow::ensure!(
            db.replica_urls.is_empty()
                || (db.url.starts_with("postgres:") || db.url.starts_with("postgresql:")),
            "database.replica_urls needs a PostgreSQL database.url"
        );
        anyhow::ensure!(
            db.replica_urls
                .iter()
                .all(|u| u.starts_with("postgres:") || u.starts_with("postgresql:")),
            "database.replica_urls must each start with postgres://"
        );
        anyhow::ensure!(
            (1..=3_600_000).contains(&db.replica_max_lag_ms),
            "database.replica_max_lag_ms must be from 1 to 3600000 (an hour)"
        );
        Ok(())
    }

    /// True for localhost, loopback addresses and `*.localhost`, with or without a port.
    /// Whether new accounts must confirm their e-mail address (see `registrations`).
    pub fn require_email_confirmation(&self) -> bool {
        self.registrations
            .require_email_confirmation
            .unwrap_or(!self.mail.smtp_url.is_empty())
    }

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
