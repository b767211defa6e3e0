//! The `activitypub_federation` configuration: our domain, our HTTP client, and the security
//! switches mapped from Rookery's configuration.

use std::time::Duration;

use activitypub_federation::config::{Data, FederationConfig};
use activitypub_federation::resolver::ValidatingDnsResolver;

use crate::state::AppState;

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
    let config = FederationConfig::builder()
        .domain(cfg.server.domain.clone())
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
