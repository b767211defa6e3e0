//! HTTP signatures on requests we receive — draft-cavage-http-signatures, as Mastodon signs its
//! deliveries and fetches, and RFC 9421 (`federation::rfc9421`) when a `Signature-Input` header
//! says so. `federation::inbound` receives signed activities with these checks;
//! `service::activitypub::signed_fetch` finds who signed a GET.
//!
//! Headers are parsed and the signing string rebuilt by `http-signature-normalization`, the
//! parser `activitypub_federation` uses; the RSA-SHA256 (PKCS#1 v1.5) check runs in aws-lc-rs.
//! `activitypub_federation::axum::inbox::receive_activity` checks with the pure-Rust `rsa` crate
//! instead, which cost about 0.25 ms per activity on the project machine (the largest single item
//! of the inbox's CPU time, docs/PERFORMANCE.md) and offers no hook to change it, so
//! `federation::inbound::receive_signed` does the same steps as that function with the faster
//! check.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use activitypub_federation::error::Error as FedError;
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, Method, Uri};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};

/// Signatures older than this (by their `Date` header or `created` parameter) are refused, as by
/// `activitypub_federation`.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// The parser for signed GETs: no body, so no `Digest` is required.
static GET_CONFIG: LazyLock<http_signature_normalization::Config> =
    LazyLock::new(|| http_signature_normalization::Config::new().set_expiration(MAX_AGE));

/// The parser for inbox POSTs: the signature must cover a `Digest` of the body.
static POST_CONFIG: LazyLock<http_signature_normalization::Config> = LazyLock::new(|| {
    http_signature_normalization::Config::new()
        .set_expiration(MAX_AGE)
        .require_digest()
});

/// True when `signature_base64` is `message` signed with RSA-SHA256 (PKCS#1 v1.5) by the key in
/// `public_key_pem` (a SubjectPublicKeyInfo PEM, as actors publish in `publicKey.publicKeyPem`).
/// Keys under 2048 bits, which aws-lc-rs refuses, are checked with the `rsa` crate. False for
/// an unreadable key or signature.
pub fn rsa_sha256_verifies(public_key_pem: &str, message: &[u8], signature_base64: &str) -> bool {
    let Ok(signature) = BASE64.decode(signature_base64) else {
        return false;
    };
    let Ok(key) = RsaPublicKey::from_public_key_pem(public_key_pem) else {
        return false;
    };
    if key.size() >= 256
        && let Ok(der) = key.to_pkcs1_der()
    {
        return UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_bytes())
            .verify(message, &signature)
            .is_ok();
    }
    key.verify(
        Pkcs1v15Sign::new::<Sha256>(),
        &Sha256::digest(message),
        &signature,
    )
    .is_ok()
}

/// Latest `created` or `expires` time a `Signature` header may carry, in Unix seconds (the year
/// 5138): `http-signature-normalization` adds these to `UNIX_EPOCH` unchecked, and a larger number
/// overflows `SystemTime` and panics (found by the `signature` fuzz target).
const MAX_SIGNATURE_TIME: u64 = 100_000_000_000;

/// Whether every `created` and `expires` parameter of a `Signature` header is a time the parser
/// can hold. The parameters are found as the parser finds them: split on `,`, then on the first
/// `=`, the key taken as it is and the value without quotes.
fn signature_times_in_range(signature: &str) -> bool {
    let s = signature.trim_start_matches("Signature").trim();
    s.split(',').all(|part| match part.split_once('=') {
        Some(("created" | "expires", value)) => value
            .trim_matches('"')
            .parse::<u64>()
            .map_or(true, |t| t <= MAX_SIGNATURE_TIME),
        _ => true,
    })
}

/// A request's headers as the signature parser takes them. `Host` is our own domain when missing
/// (behind a proxy, or over HTTP/2); a bearer token is left out, since the parser would read
/// `Authorization` as a signature.
///
/// Errors: a `Signature` header with a `created` or `expires` time past [`MAX_SIGNATURE_TIME`].
fn header_map(headers: &HeaderMap, our_domain: &str) -> anyhow::Result<BTreeMap<String, String>> {
    if let Some(sig) = headers.get("signature").and_then(|v| v.to_str().ok()) {
        anyhow::ensure!(
            signature_times_in_range(sig),
            "the signature's created or expires time is out of range"
        );
    }
    let mut map = BTreeMap::new();
    for (name, value) in headers {
        if name == http::header::AUTHORIZATION {
            continue;
        }
        if let Ok(v) = value.to_str() {
            map.insert(name.as_str().to_string(), v.to_string());
        }
    }
    map.entry("host".to_string())
        .or_insert_with(|| our_domain.to_string());
    Ok(map)
}

/// A signed GET's parsed signature, not yet checked: its `keyId` says whose key to check it with.
pub struct UnverifiedGet(http_signature_normalization::verify::Unverified);

impl UnverifiedGet {
    /// Parses the `Signature` header of a GET. Errors: a malformed or expired signature.
    pub fn parse(
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        our_domain: &str,
    ) -> anyhow::Result<UnverifiedGet> {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        GET_CONFIG
            .begin_verify(method.as_str(), path, header_map(headers, our_domain)?)
            .map(UnverifiedGet)
            .map_err(|e| anyhow::anyhow!("bad signature header: {e}"))
    }

    /// The `keyId` parameter (the key's URL, `actor#main-key` on Mastodon).
    pub fn key_id(&self) -> &str {
        self.0.key_id()
    }

    /// True when the signature verifies with `public_key_pem`.
    pub fn verify(self, public_key_pem: &str) -> bool {
        self.0.verify(|signature, signing_string| {
            rsa_sha256_verifies(public_key_pem, signing_string.as_bytes(), signature)
        })
    }
}

/// Checks the body's digest: a `Content-Digest` (RFC 9530, `sha-256` or `sha-512`) and a `Digest`
/// (RFC 3230, `SHA-256`) header, whichever are present, must each match the body, and there must be
/// one of them.
pub fn verify_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), FedError> {
    let content_digest = headers.get("content-digest").and_then(|h| h.to_str().ok());
    let digest = headers.get("digest").and_then(|h| h.to_str().ok());
    if content_digest.is_none() && digest.is_none() {
        return Err(FedError::ActivityBodyDigestInvalid);
    }
    if let Some(value) = content_digest
        && !crate::federation::rfc9421::content_digest_matches(value, body)
    {
        return Err(FedError::ActivityBodyDigestInvalid);
    }
    let Some(header) = digest else {
        return Ok(());
    };
    let ours = BASE64.encode(Sha256::digest(body));
    let mut checked = false;
    for part in header.split(',') {
        let Some((algorithm, value)) = part.trim().split_once('=') else {
            continue;
        };
        if algorithm.eq_ignore_ascii_case("sha-256") {
            if value != ours {
                return Err(FedError::ActivityBodyDigestInvalid);
            }
            checked = true;
        }
    }
    if checked {
        Ok(())
    } else {
        Err(FedError::ActivityBodyDigestInvalid)
    }
}

/// The URL a request to us was sent to, as its signer named it: our base URL and the path.
pub fn target_uri(base_url: &str, uri: &Uri) -> anyhow::Result<url::Url> {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    Ok(url::Url::parse(&format!("{base_url}{path}"))?)
}

/// Checks an RFC 9421 signature of a request to us with `public_key_pem`: it must cover the
/// method, the target and (with a body) the `Content-Digest`, and verify.
pub fn rfc9421_verifies(
    base_url: &str,
    signature: &crate::federation::rfc9421::Signature,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    has_body: bool,
    public_key_pem: &str,
) -> bool {
    let Ok(target) = target_uri(base_url, uri) else {
        return false;
    };
    signature.covers_request(has_body)
        && signature.verify(
            &crate::federation::rfc9421::Target {
                method: method.as_str(),
                uri: &target,
                headers,
            },
            public_key_pem,
        )
}

/// Checks a draft-cavage signature of an inbox POST with `public_key_pem`: it must cover a
/// `Digest` and be at most [`MAX_AGE`] old. `our_domain` stands in for a missing `Host`.
pub fn post_verifies(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    our_domain: &str,
    public_key_pem: &str,
) -> bool {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let Ok(map) = header_map(headers, our_domain) else {
        return false;
    };
    let Ok(unverified) = POST_CONFIG.begin_verify(method.as_str(), path, map) else {
        return false;
    };
    unverified.verify(|signature, signing_string| {
        rsa_sha256_verifies(public_key_pem, signing_string.as_bytes(), signature)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `signature` fuzz target: a `created` time past what `SystemTime` holds made
    /// the parser panic; it is now a bad signature.
    #[test]
    fn huge_signature_times_are_refused_not_panicked_on() {
        for sig in [
            r#"keyId="h.c",created=000940250376202729699,signature="eated""#,
            r#"keyId="h.c",expires="18446744073709551615",signature="x""#,
            r#"Signature created=100000000001,keyId="k",signature="x""#,
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("signature", sig.parse().unwrap());
            let uri: Uri = "/users/a".parse().unwrap();
            assert!(UnverifiedGet::parse(&Method::GET, &uri, &headers, "example.com").is_err());
        }
        assert!(signature_times_in_range(
            r#"keyId="k",created=1700000000,signature="x""#
        ));
        assert!(signature_times_in_range(
            r#"keyId="k",created=abc,signature="x""#
        ));
    }
}
