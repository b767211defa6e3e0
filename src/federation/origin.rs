//! Which server a URL belongs to: the check behind "a server may only speak for its own objects"
//! (ActivityPub §3.1, as Mastodon applies it).

use url::Url;

/// `host` or `host:port`, as Rookery stores remote domains.
pub fn authority(u: &Url) -> Option<String> {
    let host = u.host_str()?.to_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// True when two URLs share scheme, host and port: the check behind "a server may only speak for
/// its own objects". Stricter than comparing domains, which would treat `localhost:8081` and
/// `localhost:8082` as one server.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}
