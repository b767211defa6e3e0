//! The one place that makes outgoing HTTP requests: federation (through `activitypub_federation`,
//! which is handed [`Egress::federation_client`]), WebFinger, preview cards, remote media and
//! avatars, stories, NodeInfo and Web Push all go through clients built here. Mail (SMTP) is the
//! only other way out.
//!
//! Every request is checked against one rule, [`Egress::permits`]: the destination must be a
//! global address ([`address::is_global`]) unless `federation.allow_private_addresses` is set or
//! the address is in `federation.allowed_private_addresses`. The rule is applied
//! - to names, when they are resolved ([`GuardedResolver`]), so a name pointing inwards is refused;
//! - to IP literals, which never reach a resolver, before the request is sent ([`AddressCheck`]);
//! - to every redirect hop (the redirect policy of [`Egress::client`]; the federation client does
//!   not follow redirects itself).
//!
//! Answers are read with a size cap while they stream ([`read_limited`], [`json_limited`]), and
//! every client has a total time limit.

pub mod address;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest_middleware::{ClientWithMiddleware, Middleware, Next};
use serde::de::DeserializeOwned;

use crate::config::Config;
use address::Ranges;

/// The HTTP client type every outgoing request uses.
pub type Client = ClientWithMiddleware;

/// Redirects followed by [`Egress::client`] before giving up.
pub const MAX_REDIRECTS: usize = 3;

/// A request refused before it was sent, because its destination is not a public address.
#[derive(Debug)]
pub struct AddressRefused {
    /// The host (or host and address) that was refused.
    pub target: String,
}

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refusing to connect to {}: not a public address",
            self.target
        )
    }
}

impl std::error::Error for AddressRefused {}

/// An answer larger than the caller's limit.
#[derive(Debug)]
pub struct TooLarge {
    /// The limit, in bytes.
    pub max: usize,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the answer is larger than {} bytes", self.max)
    }
}

impl std::error::Error for TooLarge {}

/// The address rule and what the clients built from it share.
#[derive(Debug)]
struct Rule {
    allow_private: bool,
    exceptions: Ranges,
}

impl Rule {
    fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private || address::is_global(ip) || self.exceptions.contains(ip)
    }

    /// `Ok` unless `url` is not http(s) or names a refused IP literally (names are checked when
    /// they are resolved).
    fn check_url(&self, url: &url::Url) -> Result<(), AddressRefused> {
        let refused = || AddressRefused {
            target: url.host_str().unwrap_or_default().to_string(),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refused());
        }
        let ip: IpAddr = match url.host() {
            Some(url::Host::Ipv4(a)) => a.into(),
            Some(url::Host::Ipv6(a)) => a.into(),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(refused()),
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

/// Builds the outgoing HTTP clients and holds the address rule they apply.
#[derive(Clone, Debug)]
pub struct Egress {
    rule: Arc<Rule>,
    user_agent: String,
}

impl Egress {
    /// The rule from `federation.allow_private_addresses` and
    /// `federation.allowed_private_addresses`.
    ///
    /// Errors: an entry of `allowed_private_addresses` that is not an address or CIDR range.
    pub fn new(cfg: &Config) -> anyhow::Result<Egress> {
        Ok(Egress {
            rule: Arc::new(Rule {
                allow_private: cfg.federation.allow_private_addresses,
                exceptions: Ranges::parse(&cfg.federation.allowed_private_addresses)
                    .map_err(|e| anyhow::anyhow!("federation.allowed_private_addresses: {e}"))?,
            }),
            user_agent: format!(
                "Rookery/{} (+{})",
                env!("CARGO_PKG_VERSION"),
                cfg.base_url()
            ),
        })
    }

    /// Whether a connection to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.rule.permits(ip)
    }

    /// Checks a URL before it is stored for later requests (a Web Push endpoint) or requested:
    /// the scheme must be http(s) and an IP-literal host must be permitted. A name passes here and
    /// is checked when it is resolved.
    pub fn check_url(&self, url: &url::Url) -> Result<(), AddressRefused> {
        self.rule.check_url(url)
    }

    fn base(&self, timeout: Duration) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .dns_resolver(GuardedResolver(self.rule.clone()))
            // A proxy from the environment would be connected to instead of the checked address.
            .no_proxy()
            .user_agent(self.user_agent.clone())
    }

    /// The client for fetches from other servers outside ActivityPub (remote media and avatars,
    /// preview cards, stories, NodeInfo) and for Web Push: 30 s per request, at most
    /// [`MAX_REDIRECTS`] redirects, each hop checked.
    ///
    /// Errors: only if the TLS backend cannot start.
    pub fn client(&self) -> anyhow::Result<Client> {
        let rule = self.rule.clone();
        let inner = self
            .base(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if let Err(e) = rule.check_url(attempt.url()) {
                    attempt.error(e)
                } else {
                    attempt.follow()
                }
            }))
            .build()?;
        Ok(reqwest_middleware::ClientBuilder::new(inner)
            .with(AddressCheck(self.rule.clone()))
            .build())
    }

    /// The client `activitypub_federation` sends and fetches with, before the federation layer
    /// adds its own middleware: `timeout` per request, no redirects (the crate follows one itself,
    /// through this client, so that hop is checked too).
    ///
    /// Errors: only if the TLS backend cannot start.
    pub fn federation_client(
        &self,
        timeout: Duration,
    ) -> anyhow::Result<reqwest_middleware::ClientBuilder> {
        let inner = self
            .base(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(reqwest_middleware::ClientBuilder::new(inner).with(AddressCheck(self.rule.clone())))
    }
}

/// Resolves names with the system resolver and keeps only the permitted addresses; a name with
/// none left is refused.
struct GuardedResolver(Arc<Rule>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let rule = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| rule.permits(a.ip()))
                .collect();
            if kept.is_empty() {
                let target = match found.first() {
                    Some(a) => format!("{host} ({})", a.ip()),
                    None => host,
                };
                return Err(Box::new(AddressRefused { target }) as _);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// Refuses requests to IP literals the rule does not permit, before they are sent (literals never
/// reach the resolver).
struct AddressCheck(Arc<Rule>);

#[async_trait::async_trait]
impl Middleware for AddressCheck {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.0
            .check_url(req.url())
            .map_err(|e| reqwest_middleware::Error::Middleware(anyhow::Error::new(e)))?;
        next.run(req, extensions).await
    }
}

/// Whether a request failed because [`Egress`] refused its destination (an IP literal, a redirect
/// hop, or a name that resolves only inwards), rather than because the server failed.
pub fn is_refused(err: &reqwest_middleware::Error) -> bool {
    match err {
        reqwest_middleware::Error::Middleware(e) => e.is::<AddressRefused>(),
        reqwest_middleware::Error::Reqwest(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
            while let Some(s) = source {
                if s.is::<AddressRefused>() {
                    return true;
                }
                source = s.source();
            }
            false
        }
    }
}

/// Reads the whole answer, refusing it as soon as it passes `max` bytes (a `Content-Length` over
/// `max` is refused before reading; one under it is not trusted).
///
/// Errors: [`TooLarge`], or the connection's error.
pub async fn read_limited(mut res: reqwest::Response, max: usize) -> anyhow::Result<Bytes> {
    if res.content_length().is_some_and(|l| l > max as u64) {
        return Err(TooLarge { max }.into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        if body.len() + chunk.len() > max {
            return Err(TooLarge { max }.into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// [`read_limited`], then parsed as JSON.
///
/// Errors: as [`read_limited`], or the body is not JSON of type `T`.
pub async fn json_limited<T: DeserializeOwned>(
    res: reqwest::Response,
    max: usize,
) -> anyhow::Result<T> {
    let body = read_limited(res, max).await?;
    Ok(serde_json::from_slice(&body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(allow_private: bool, exceptions: &[&str]) -> Rule {
        Rule {
            allow_private,
            exceptions: Ranges::parse(
                &exceptions.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
            .unwrap(),
        }
    }

    /// Every literal form of an inward address is refused, however it is spelled.
    #[test]
    fn literal_urls_are_checked() {
        let r = rule(false, &[]);
        for u in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://0.0.0.0:8080/x",
            "http://[::]/",
            "http://[::1]:9000/",
            "http://[::ffff:0.0.0.0]:9000/x",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:169.254.169.254]/latest/meta-data",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::]/",
            "http://[2002:a9fe:a9fe::]/",
            "http://100.64.0.1/",
            "http://169.254.169.254/",
            "https://10.0.0.5:8443/push",
            "http://192.168.0.1/",
            "http://172.16.0.1/",
            "http://224.0.0.1/",
            "http://240.0.0.1/",
            "http://255.255.255.255/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[ff02::1]/",
            "file:///etc/passwd",
            "gopher://example.com/",
        ] {
            let url = url::Url::parse(u).unwrap();
            assert!(r.check_url(&url).is_err(), "{u} must be refused");
        }
        for u in [
            "https://example.com/",
            "https://8.8.8.8/",
            "https://[2606:4700:4700::1111]/",
        ] {
            assert!(r.check_url(&url::Url::parse(u).unwrap()).is_ok(), "{u}");
        }
        let open = rule(true, &[]);
        assert!(
            open.check_url(&url::Url::parse("http://127.0.0.1:8080/").unwrap())
                .is_ok()
        );
        let excepted = rule(false, &["127.0.0.1/32"]);
        assert!(
            excepted
                .check_url(&url::Url::parse("http://127.0.0.1:8080/").unwrap())
                .is_ok()
        );
        assert!(
            excepted
                .check_url(&url::Url::parse("http://127.0.0.2:8080/").unwrap())
                .is_err()
        );
    }

    #[tokio::test]
    async fn names_resolving_inwards_are_refused() {
        let resolver = GuardedResolver(Arc::new(rule(false, &[])));
        let err = resolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost must be refused");
        assert!(err.to_string().contains("not a public address"), "{err}");
        let open = GuardedResolver(Arc::new(rule(true, &[])));
        assert!(open.resolve("localhost".parse().unwrap()).await.is_ok());
    }
}
