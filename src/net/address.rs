//! Which destination addresses an outgoing request may reach, and address ranges from the
//! configuration (CIDR lists).
//!
//! An address is *global* when the IANA special-purpose registries
//! (iana.org/assignments/iana-ipv4-special-registry, …/iana-ipv6-special-registry) do not set it
//! aside: loopback, private, shared (CGNAT), link-local, documentation, benchmarking, multicast,
//! reserved and broadcast ranges are not. IPv6 forms that carry an IPv4 address — IPv4-mapped
//! (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) — are judged by the IPv4
//! address inside, because that is where the connection ends up; the deprecated IPv4-compatible
//! form (`::a.b.c.d`) is never global.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Whether `ip` is a globally routable unicast address.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_global_v4(a),
        IpAddr::V6(a) => is_global_v6(a),
    }
}

fn is_global_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, o2, _] = a.octets();
    !(o0 == 0 // "this network", 0.0.0.0/8
        || o0 == 10
        || (o0 == 100 && (o1 & 0xC0) == 64) // shared address space (CGNAT), 100.64.0.0/10
        || o0 == 127
        || (o0 == 169 && o1 == 254)
        || (o0 == 172 && (o1 & 0xF0) == 16)
        || (o0 == 192 && o1 == 0 && o2 == 0) // IETF protocol assignments, 192.0.0.0/24
        || (o0 == 192 && o1 == 0 && o2 == 2) // TEST-NET-1
        || (o0 == 192 && o1 == 88 && o2 == 99) // 6to4 relay anycast (deprecated)
        || (o0 == 192 && o1 == 168)
        || (o0 == 198 && (o1 & 0xFE) == 18) // benchmarking, 198.18.0.0/15
        || (o0 == 198 && o1 == 51 && o2 == 100) // TEST-NET-2
        || (o0 == 203 && o1 == 0 && o2 == 113) // TEST-NET-3
        || o0 >= 224) // multicast 224/4, reserved 240/4, broadcast
}

fn is_global_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    if let Some(v4) = a.to_ipv4_mapped() {
        return is_global_v4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 (RFC 6052): the last 32 bits are the IPv4 destination.
        return is_global_v4(embedded_v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        // 6to4 (RFC 3056): bits 16–47 are the IPv4 address of the relay that is reached.
        return is_global_v4(embedded_v4(s[1], s[2]));
    }
    // Global unicast is 2000::/3; everything outside it (loopback, unspecified, IPv4-compatible,
    // local-use NAT64 64:ff9b:1::/48, discard-only 100::/64, SRv6 5f00::/16, unique local
    // fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8) is not global.
    (s[0] & 0xE000) == 0x2000
        && (s[0] != 0x2001 || s[1] >= 0x0200) // IETF protocol assignments 2001::/23 (Teredo, …)
        && (s[0], s[1]) != (0x2001, 0x0db8) // documentation, 2001:db8::/32
        && (s[0] & 0xFFF0) != 0x3FF0 // documentation, 3fff::/20
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// A list of address ranges, as configured (`"10.0.0.0/8"`, `"::1"`; a bare address is a range of
/// one). IPv4-mapped IPv6 addresses match the IPv4 ranges, as a dual-stack socket reports IPv4
/// peers that way.
#[derive(Clone, Debug, Default)]
pub struct Ranges(Vec<IpNet>);

impl Ranges {
    /// Parses each entry of `list`.
    ///
    /// Errors: names the first entry that is neither an address nor a CIDR range.
    pub fn parse(list: &[String]) -> anyhow::Result<Ranges> {
        list.iter()
            .map(|entry| {
                let e = entry.trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| anyhow::anyhow!("{entry:?} is not an IP address or CIDR range"))
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map(Ranges)
    }

    /// Whether `ip` falls in one of the ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_purpose_addresses_are_not_global() {
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.5",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:0.0.0.0",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::8.8.8.8",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::8.8.8.8",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101::",
            "100::1",
            "2001::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            let ip: IpAddr = a.parse().unwrap();
            assert!(!is_global(ip), "{a} must not be global");
        }
    }

    #[test]
    fn public_addresses_are_global() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.254",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
            "2001:200::1",
            "2606:4700:4700::1111",
            "2a01:4f8::1",
        ] {
            let ip: IpAddr = a.parse().unwrap();
            assert!(is_global(ip), "{a} must be global");
        }
    }

    #[test]
    fn ranges_parse_and_match_mapped_addresses() {
        let r =
            Ranges::parse(&["127.0.0.1".into(), "10.0.0.0/8".into(), "fd00::/8".into()]).unwrap();
        assert!(r.contains("10.2.3.4".parse().unwrap()));
        assert!(r.contains("::ffff:10.2.3.4".parse().unwrap()));
        assert!(r.contains("127.0.0.1".parse().unwrap()));
        assert!(!r.contains("127.0.0.2".parse().unwrap()));
        assert!(r.contains("fd01::1".parse().unwrap()));
        assert!(!r.contains("8.8.8.8".parse().unwrap()));
        assert!(Ranges::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(Ranges::parse(&["example.com".into()]).is_err());
    }
}
