//! What another server supports of Rookery's extensions, as its NodeInfo `metadata.features`
//! says (`read_receipts`: docs/FEDERATION.md "Direct messages"; `rooms`: "Rooms"), read at most
//! once a day per server and kept in `instances`.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use crate::state::AppState;
use crate::storage::instances;

/// The NodeInfo `metadata.features` entry by which a server says it takes `Read` receipts.
pub const READ_RECEIPTS_FEATURE: &str = "read_receipts";
/// The entry by which a server says it takes part in rooms across servers.
pub const ROOMS_FEATURE: &str = "rooms";

/// How long a server's NodeInfo answer is trusted.
const NODEINFO_TTL: chrono::Duration = chrono::Duration::hours(24);
/// Largest NodeInfo document (or link list) read from another server, in bytes.
const NODEINFO_MAX_BYTES: usize = 64 * 1024;

/// Rookery's extensions a server takes. A server never reached takes none; one unreachable now
/// keeps what it last said.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    pub read_receipts: bool,
    pub rooms: bool,
}

/// What `domain` (where actor `actor_uri` lives) takes, from its NodeInfo (cached for a day).
pub async fn of_server(state: &AppState, domain: &str, actor_uri: &str) -> Features {
    let known = match instances::features(&state.db, domain).await {
        Ok((Some(read_receipts), Some(rooms), Some(at))) => Some((
            Features {
                read_receipts,
                rooms,
            },
            at,
        )),
        _ => None,
    };
    if let Some((f, at)) = known
        && Utc::now() - at < NODEINFO_TTL
    {
        return f;
    }
    let listed = match fetch(state, domain, actor_uri).await {
        Ok(listed) => listed,
        Err(e) => {
            tracing::info!(domain, error = %e, "could not read NodeInfo");
            // A server down for a moment keeps what it said before (asked again next time); one
            // that answers without NodeInfo features has none.
            let transient = e.downcast_ref::<reqwest::Error>().is_some_and(|r| {
                r.is_connect() || r.is_timeout() || r.status().is_some_and(|s| s.is_server_error())
            });
            if transient {
                return known.map(|(f, _)| f).unwrap_or_default();
            }
            Vec::new()
        }
    };
    let f = Features {
        read_receipts: listed.iter().any(|x| x == READ_RECEIPTS_FEATURE),
        rooms: listed.iter().any(|x| x == ROOMS_FEATURE),
    };
    if let Err(e) = instances::set_features(&state.db, domain, f.read_receipts, f.rooms).await {
        tracing::warn!(domain, error = %e, "could not record NodeInfo features");
    }
    f
}

/// The `metadata.features` strings of `domain`'s NodeInfo 2.x.
async fn fetch(state: &AppState, domain: &str, actor_uri: &str) -> anyhow::Result<Vec<String>> {
    // The actor's own scheme: plain http only where federation allowed it to be stored.
    let scheme = url::Url::parse(actor_uri)?.scheme().to_string();
    let client = &state.http_client;
    let timeout = Duration::from_secs(5);
    let get = |url: String| async move {
        let res = client.get(url).timeout(timeout).send().await?;
        crate::net::json_limited::<Value>(res.error_for_status()?, NODEINFO_MAX_BYTES).await
    };
    let links = get(format!("{scheme}://{domain}/.well-known/nodeinfo")).await?;
    let href = links["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| {
            l["rel"]
                .as_str()
                .is_some_and(|r| r.starts_with("http://nodeinfo.diaspora.software/ns/schema/2."))
        })
        .filter_map(|l| l["href"].as_str())
        .next_back()
        .ok_or_else(|| anyhow::anyhow!("no NodeInfo 2.x link"))?;
    let href = url::Url::parse(href)?;
    anyhow::ensure!(
        href.host_str() == domain.split(':').next(),
        "NodeInfo link points at another host"
    );
    let doc = get(href.to_string()).await?;
    Ok(doc["metadata"]["features"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .take(64)
        .map(str::to_string)
        .collect())
}
