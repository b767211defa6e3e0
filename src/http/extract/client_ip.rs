//! `ClientIp`: the address of the client behind the request, for rate limits per address.
//!
//! The TCP peer is the client unless it is one of `server.trusted_proxies`. A trusted proxy names
//! the addresses it forwards for in one header, `server.forwarded_header` (`X-Forwarded-For`, as
//! nginx, HAProxy, Caddy and Traefik send it, or RFC 7239 `Forwarded`); only that one is read,
//! because a proxy passes the other through as the client wrote it. The chain is read from the
//! right — the hop nearest to us, appended by our own proxy — and the client is the first address
//! that is not a trusted proxy. Anything before it was written by the client and could be forged.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::config::ForwardedHeader;
use crate::net::address::Ranges;
use crate::state::AppState;

/// Most hops read from the right of a forwarding chain.
const MAX_HOPS: usize = 32;

/// The client's address (`0.0.0.0` when the server was not started with connect info, as in some
/// in-process tests).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientIp(client_address(
            peer,
            &parts.headers,
            &state.trusted_proxies,
            state.config.server.forwarded_header,
        )))
    }
}

/// The client's address, from the TCP `peer` and, when the peer is a trusted proxy, the chain in
/// `header`. A hop that cannot be read (`unknown`, an obfuscated name, garbage) ends the walk: the
/// last address read is the client's.
pub fn client_address(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &Ranges,
    header: ForwardedHeader,
) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    let values = headers
        .get_all(header.name())
        .iter()
        .filter_map(|v| v.to_str().ok());
    let hops: Vec<&str> = values.flat_map(|v| v.split(',')).collect();
    for hop in hops.iter().rev().take(MAX_HOPS) {
        let parsed = match header {
            ForwardedHeader::XForwardedFor => parse_address(hop),
            ForwardedHeader::Forwarded => forwarded_for(hop).and_then(parse_address),
        };
        let Some(ip) = parsed else {
            break;
        };
        client = ip.to_canonical();
        if !trusted.contains(client) {
            break;
        }
    }
    client
}

/// The `for=` value of one RFC 7239 element (`for=192.0.2.60;proto=http;by=203.0.113.43`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim().eq_ignore_ascii_case("for").then_some(v.trim())
    })
}

/// An address as proxies write it: `192.0.2.43`, `192.0.2.43:47011`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, possibly in double quotes (RFC 7239).
fn parse_address(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    let inner = s.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = Ranges::parse(&["127.0.0.1/32".into(), "10.0.0.0/8".into()]).unwrap();
        let xff = ForwardedHeader::XForwardedFor;
        // A direct client's header is ignored.
        let h = headers("x-forwarded-for", &["6.6.6.6"]);
        assert_eq!(
            client_address(ip("203.0.113.5"), &h, &trusted, xff),
            ip("203.0.113.5")
        );
        // Behind our proxy: what the client wrote before its own address does not count.
        let h = headers("x-forwarded-for", &["6.6.6.6, 198.51.100.7"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, xff),
            ip("198.51.100.7")
        );
        // Two trusted proxies, over two header lines.
        let h = headers("x-forwarded-for", &["198.51.100.7", "10.1.2.3"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, xff),
            ip("198.51.100.7")
        );
        // A dual-stack socket's mapped address counts as the IPv4 proxy.
        let h = headers("x-forwarded-for", &["198.51.100.7"]);
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &h, &trusted, xff),
            ip("198.51.100.7")
        );
        // Garbage ends the walk at the last address read.
        let h = headers("x-forwarded-for", &["unknown, 10.1.2.3"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, xff),
            ip("10.1.2.3")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("127.0.0.1"), &HeaderMap::new(), &trusted, xff),
            ip("127.0.0.1")
        );
        // The other header is not read.
        let h = headers("forwarded", &["for=198.51.100.7"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, xff),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn rfc7239_forwarded() {
        let trusted = Ranges::parse(&["127.0.0.1/32".into()]).unwrap();
        let fwd = ForwardedHeader::Forwarded;
        let h = headers(
            "forwarded",
            &[r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https;by=127.0.0.1"#],
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, fwd),
            ip("2001:db8:cafe::17")
        );
        let h = headers("forwarded", &["For=\"192.0.2.43:47011\""]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, fwd),
            ip("192.0.2.43")
        );
        let h = headers("forwarded", &["for=_hidden"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, fwd),
            ip("127.0.0.1")
        );
    }
}
