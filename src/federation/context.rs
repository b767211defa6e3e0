//! The `activitypub_federation` configuration: our domain, our HTTP client, and the security
//! switches mapped from Rookery's configuration.

use std::time::Duration;

use activitypub_federation::config::{Data, FederationConfig};
use activitypub_federation::resolver::ValidatingDnsResolver;

use crate::state::AppState;

/// Refuses URLs on suspended domains (fetching, sending and incoming activity IDs alike).
#[derive(Clone)]
struct DomainBlockVerifier(crate::storage::Db);

#[async_trait::async_trait]
impl activitypub_federation::config::UrlVerifier for DomainBlockVerifier {
    async fn verify(&self, url: &url::Url) -> Result<(), activitypub_federation::error::Error> {
        let Some(host) = crate::federation::actor::authority(url) else {
            return Ok(());
        };
        match crate::storage::domain_blocks::is_suspended(&self.0, &host).await {
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

/// Request data handed to federation code.
pub type FedData = Data<AppState>;

/// Longest wait for a remote server, connection and answer alike.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the federation configuration over `state`.
///
/// - Outgoing requests refuse loopback, private and link-local addresses (checked at DNS
///   resolution, so a name pointing inwards is refused too) unless
///   `federation.allow_private_addresses` is set; that setting is also the crate's "debug" mode,
///   which allows explicit ports and plain-http WebFinger for instances on one machine.
/// - Plain-http object URLs are accepted only with `federation.allow_http`.
/// - Redirects are not followed automatically (the crate follows one, after checking it).
/// - Every fetch is signed by the instance actor, for servers that require signed fetches.
pub async fn build(state: AppState) -> anyhow::Result<FederationConfig<AppState>> {
    let cfg = state.config.clone();
    let allow_private = cfg.federation.allow_private_addresses;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .dns_resolver(ValidatingDnsResolver::new(Vec::new(), !allow_private))
        .user_agent(format!(
            "Rookery/{} (+{})",
            env!("CARGO_PKG_VERSION"),
            cfg.base_url()
        ))
        .build()?;
    let verifier = DomainBlockVerifier(state.db.clone());
    let (public, private) = crate::federation::instance_actor::keys(&state.db).await?;
    let signer = crate::federation::instance_actor::signer(&cfg, &public, &private)?;
    let config = FederationConfig::builder()
        .domain(cfg.server.domain.clone())
        .url_verifier(Box::new(verifier))
        .signed_fetch_actor(&signer)
        .app_data(state)
        .client(client.into())
        .debug(allow_private)
        .allow_http_urls(cfg.allow_http())
        .http_fetch_limit(50)
        .request_timeout(TIMEOUT)
        .build()
        .await?;
    Ok(config)
}
