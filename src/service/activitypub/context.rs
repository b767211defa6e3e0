//! The `activitypub_federation` configuration: our domain, our HTTP client, and the security
//! switches mapped from Rookery's configuration.

use std::time::Duration;

use activitypub_federation::config::{Data, FederationConfig};

use crate::state::AppState;

/// Refuses URLs on suspended domains (fetching, sending and incoming activity IDs alike).
#[derive(Clone)]
struct DomainBlockVerifier(AppState);

#[async_trait::async_trait]
impl activitypub_federation::config::UrlVerifier for DomainBlockVerifier {
    async fn verify(&self, url: &url::Url) -> Result<(), activitypub_federation::error::Error> {
        let Some(host) = crate::federation::origin::authority(url) else {
            return Ok(());
        };
        match crate::service::moderation::domain_suspended(&self.0, &host).await {
            Ok(false) => Ok(()),
            Ok(true) => Err(activitypub_federation::error::Error::Other(format!(
                "{host} is blocked"
            ))),
            Err(e) => Err(activitypub_federation::error::Error::Other(format!(
                "checking domain blocks: {e}"
            ))),
        }
    }
}

/// A delivery (a `POST` to an inbox) answered with a 4xx other than 408 or 429: the server heard
/// it and refused it, so it is final and must not count as delivered.
///
/// The crate treats such answers as success, so [`RefusalCheck`] turns them into this error before
/// the crate sees them; `service::delivery` finds it with `downcast_ref`.
#[derive(Clone, Debug)]
pub struct Refused {
    /// The HTTP status code.
    pub status: u16,
    /// The start of the answer body (at most 200 characters), for the admin's queue view.
    pub body: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused with {}", self.status)?;
        if !self.body.is_empty() {
            write!(f, ": {}", self.body)?;
        }
        Ok(())
    }
}

impl std::error::Error for Refused {}

/// Client middleware that reports refused deliveries as [`Refused`]. Fetches (`GET`) pass
/// untouched, so the crate still sees 404 and 410 answers as it expects.
struct RefusalCheck;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for RefusalCheck {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let is_delivery = req.method() == reqwest::Method::POST;
        let mut res = next.run(req, extensions).await?;
        let status = res.status();
        if !is_delivery
            || !status.is_client_error()
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            return Ok(res);
        }
        // One chunk is enough for an error message; a hostile server cannot make us read more.
        let chunk = res.chunk().await.ok().flatten().unwrap_or_default();
        let body: String = String::from_utf8_lossy(&chunk).chars().take(200).collect();
        Err(reqwest_middleware::Error::Middleware(anyhow::Error::new(
            Refused {
                status: status.as_u16(),
                body: body.trim().to_string(),
            },
        )))
    }
}

/// Request data handed to federation code.
pub type FedData = Data<AppState>;

/// Longest wait for a remote server, connection and answer alike.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The client every ActivityPub request goes out with: `net`'s federation client with the
/// [`RefusalCheck`] middleware. `activitypub_federation` sends draft-cavage deliveries and fetches
/// with it, and `service::delivery` its RFC 9421 deliveries.
///
/// Errors: only if the TLS backend cannot start.
pub fn client(egress: &crate::net::Egress) -> anyhow::Result<crate::net::Client> {
    Ok(egress
        .federation_client(TIMEOUT)?
        .with(RefusalCheck)
        .build())
}

/// Builds the federation configuration over `state`.
///
/// - Requests go through [`crate::net::Egress::federation_client`], which refuses every destination
///   that is not a public address (names when resolved, IP literals before sending) unless
///   `federation.allow_private_addresses` is set; that setting is also the crate's "debug" mode,
///   which allows explicit ports and plain-http WebFinger for instances on one machine.
/// - Plain-http object URLs are accepted only with `federation.allow_http`.
/// - Redirects are not followed automatically (the crate follows one, after checking it).
/// - Every fetch is signed by the instance actor, for servers that require signed fetches.
/// - A delivery refused with a 4xx (not 408 or 429) fails as [`Refused`] instead of counting as
///   delivered.
pub async fn build(state: AppState) -> anyhow::Result<FederationConfig<AppState>> {
    let cfg = state.config.clone();
    let allow_private = cfg.federation.allow_private_addresses;
    let client = state.federation_client.clone();
    let verifier = DomainBlockVerifier(state.clone());
    let (public, private) = crate::federation::instance_actor::keys(&state.db).await?;
    let signer =
        crate::service::activitypub::actors::ApAccount::instance_actor(&cfg, &public, &private)?;
    let config = FederationConfig::builder()
        .domain(cfg.server.domain.clone())
        .url_verifier(Box::new(verifier))
        .signed_fetch_actor(&signer)
        .app_data(state)
        .client(client)
        .debug(allow_private)
        .allow_http_urls(cfg.allow_http())
        .http_fetch_limit(50)
        .request_timeout(TIMEOUT)
        .build()
        .await?;
    Ok(config)
}
