//! RFC 9421 HTTP Message Signatures, with RFC 9530 `Content-Digest`, beside the draft-cavage
//! signatures of `federation::signatures`: verifying those other servers send (Fedify, Mastodon
//! 4.5) and signing our deliveries to servers that take them.
//!
//! The structured fields (`Signature-Input`, `Signature`, `Content-Digest`; RFC 8941) are parsed
//! and serialised by `sfv`. Only `rsa-v1_5-sha256` is used, since every actor key here is RSA;
//! signatures name their algorithm in `alg`, or leave it to the key.
//!
//! We sign what Fedify signs: `("@method" "@target-uri" "@authority" "host" "date"
//! "content-digest")` with `alg`, `keyid` and `created`, label `sig1`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, HeaderName, HeaderValue};
use sfv::{BareItem, Dictionary, FieldType, InnerList, Item, Key, ListEntry, Parameters, Parser};
use sha2::{Digest, Sha256, Sha512};

use crate::federation::signatures::rsa_sha256_verifies;

/// The algorithm of every signature made and checked here.
pub const ALGORITHM: &str = "rsa-v1_5-sha256";

/// Signatures created longer ago than this, or later than [`MAX_FUTURE`] from now, are refused
/// (seconds; the draft-cavage check allows the same hour).
const MAX_AGE: i64 = 3600;
const MAX_FUTURE: i64 = 300;

/// Bounds on what is read from a request: signatures per header, components per signature.
const MAX_LABELS: usize = 8;
const MAX_COMPONENTS: usize = 32;

/// One RFC 9421 signature of a request, parsed but not checked.
#[derive(Debug)]
pub struct Signature {
    components: Vec<String>,
    /// The `Signature-Input` member, serialised: the `@signature-params` line's value.
    params: String,
    key_id: String,
    alg: Option<String>,
    signature: Vec<u8>,
}

/// The request a signature is checked against: method, the full target URI as the sender named it
/// (`https://ourdomain/users/a/inbox`), and the headers.
pub struct Target<'a> {
    pub method: &'a str,
    pub uri: &'a url::Url,
    pub headers: &'a HeaderMap,
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// Whether the request carries an RFC 9421 signature (a `Signature-Input` header).
pub fn present(headers: &HeaderMap) -> bool {
    headers.contains_key("signature-input")
}

/// Parses the first signature of the request that has a `keyid` and a `created` time inside
/// the allowed window (`expires`, when given, not past). `Ok(None)` without `Signature-Input`.
///
/// Errors: malformed headers, too many labels or components, no usable signature, or one that is
/// too old, from the future, or expired.
pub fn parse(headers: &HeaderMap, now: i64) -> anyhow::Result<Option<Signature>> {
    let Some(input) = header_text(headers, "signature-input") else {
        return Ok(None);
    };
    let values = header_text(headers, "signature")
        .ok_or_else(|| anyhow::anyhow!("Signature-Input without Signature"))?;
    let inputs: Dictionary = Parser::new(&input)
        .parse()
        .map_err(|e| anyhow::anyhow!("Signature-Input: {e}"))?;
    let signatures: Dictionary = Parser::new(&values)
        .parse()
        .map_err(|e| anyhow::anyhow!("Signature: {e}"))?;
    anyhow::ensure!(inputs.len() <= MAX_LABELS, "too many signatures");
    let mut why = String::from("no signature with a keyid and a created time");
    for (label, entry) in &inputs {
        let ListEntry::InnerList(list) = entry else {
            continue;
        };
        let Some(ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(signature),
            ..
        })) = signatures.get(label)
        else {
            continue;
        };
        if list.items.len() > MAX_COMPONENTS {
            why = "too many covered components".into();
            continue;
        }
        let param = |name: &str| list.params.get(name);
        let Some(key_id) = param("keyid")
            .and_then(|v| v.as_string())
            .map(|s| s.as_str().to_string())
        else {
            continue;
        };
        let Some(created) = param("created").and_then(|v| v.as_integer()).map(i64::from) else {
            continue;
        };
        if created < now - MAX_AGE || created > now + MAX_FUTURE {
            why = format!("signature {label} was created at {created}, outside the allowed hour");
            continue;
        }
        if let Some(expires) = param("expires").and_then(|v| v.as_integer()).map(i64::from)
            && expires < now
        {
            why = format!("signature {label} expired at {expires}");
            continue;
        }
        let mut components = Vec::new();
        for item in &list.items {
            // Components with parameters (`;sf`, `;key=`, `;req`) are not used in ActivityPub.
            match (&item.bare_item, item.params.is_empty()) {
                (BareItem::String(s), true) => components.push(s.as_str().to_ascii_lowercase()),
                _ => anyhow::bail!("unsupported component in signature {label}"),
            }
        }
        let params = vec![ListEntry::InnerList(list.clone())]
            .serialize()
            .ok_or_else(|| anyhow::anyhow!("empty signature parameters"))?;
        return Ok(Some(Signature {
            components,
            params,
            key_id,
            alg: param("alg")
                .and_then(|v| v.as_string())
                .map(|s| s.as_str().to_string()),
            signature: signature.clone(),
        }));
    }
    anyhow::bail!(why)
}

impl Signature {
    /// The `keyid` parameter: the key's URL (`ACTOR#main-key`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Whether `component` (`"@method"`, `"content-digest"`) is covered.
    pub fn covers(&self, component: &str) -> bool {
        self.components.iter().any(|c| c == component)
    }

    /// Whether the signature covers what an ActivityPub request must: the method, the target
    /// (`@target-uri`, or `@authority` with `@path`), and for a request with a body its
    /// `content-digest`.
    pub fn covers_request(&self, has_body: bool) -> bool {
        self.covers("@method")
            && (self.covers("@target-uri") || (self.covers("@authority") && self.covers("@path")))
            && (!has_body || self.covers("content-digest"))
    }

    /// The signature base (RFC 9421 §2.5) of `target` for this signature's components.
    ///
    /// Errors: a component the request does not have, or one not supported.
    pub fn base(&self, target: &Target) -> anyhow::Result<String> {
        signature_base(&self.components, &self.params, target)
    }

    /// True when the signature verifies over `target` with `public_key_pem`.
    pub fn verify(&self, target: &Target, public_key_pem: &str) -> bool {
        if self.alg.as_deref().is_some_and(|a| a != ALGORITHM) {
            return false;
        }
        let Ok(base) = self.base(target) else {
            return false;
        };
        rsa_sha256_verifies(
            public_key_pem,
            base.as_bytes(),
            &BASE64.encode(&self.signature),
        )
    }
}

fn component_value(name: &str, target: &Target) -> anyhow::Result<String> {
    let uri = target.uri;
    let authority = match uri.port() {
        Some(p) => format!("{}:{p}", uri.host_str().unwrap_or_default()),
        None => uri.host_str().unwrap_or_default().to_string(),
    }
    .to_ascii_lowercase();
    Ok(match name {
        "@method" => target.method.to_ascii_uppercase(),
        "@target-uri" => uri.to_string(),
        "@authority" => authority,
        "@scheme" => uri.scheme().to_string(),
        "@path" => uri.path().to_string(),
        "@query" => format!("?{}", uri.query().unwrap_or("")),
        "@request-target" => match uri.query() {
            Some(q) => format!("{}?{q}", uri.path()),
            None => uri.path().to_string(),
        },
        "host" => header_text(target.headers, "host").unwrap_or(authority),
        n if n.starts_with('@') => anyhow::bail!("unsupported component {n}"),
        n => header_text(target.headers, n)
            .ok_or_else(|| anyhow::anyhow!("the signature covers {n}, which the request lacks"))?,
    })
}

fn signature_base(components: &[String], params: &str, target: &Target) -> anyhow::Result<String> {
    let mut base = String::new();
    for c in components {
        let value = component_value(c, target)?;
        anyhow::ensure!(!value.contains('\n'), "a line break in {c}");
        base.push_str(&format!("\"{c}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    Ok(base)
}

/// `Content-Digest` (RFC 9530) of `body`: `sha-256=:BASE64:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", BASE64.encode(Sha256::digest(body)))
}

/// Checks a `Content-Digest` value against `body`: every `sha-256` or `sha-512` member must be
/// the body's digest, and there must be one (other algorithms are ignored).
pub fn content_digest_matches(header: &str, body: &[u8]) -> bool {
    let Ok(dict) = Parser::new(header).parse::<Dictionary>() else {
        return false;
    };
    let mut checked = false;
    for (alg, entry) in &dict {
        let ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(given),
            ..
        }) = entry
        else {
            return false;
        };
        let ours: Vec<u8> = match alg.as_str() {
            "sha-256" => Sha256::digest(body).to_vec(),
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        if *given != ours {
            return false;
        }
        checked = true;
    }
    checked
}

/// Signs a request as Fedify does: sets `Host`, `Date` and (with a body) `Content-Digest` when
/// missing, then `Signature-Input` and `Signature` (label `sig1`) over `@method`, `@target-uri`,
/// `@authority`, `host`, `date` and `content-digest`, with `keyid` and `created` = `now`.
///
/// Errors: an unreadable private key (PKCS#8 or PKCS#1 PEM).
pub fn sign(
    method: &str,
    uri: &url::Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    key_id: &str,
    private_key_pem: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let host = match uri.port() {
        Some(p) => format!("{}:{p}", uri.host_str().unwrap_or_default()),
        None => uri.host_str().unwrap_or_default().to_string(),
    };
    headers
        .entry("host")
        .or_insert(HeaderValue::from_str(&host)?);
    headers.entry("date").or_insert(HeaderValue::from_str(
        &now.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
    )?);
    let mut components = vec!["@method", "@target-uri", "@authority", "host", "date"];
    if let Some(body) = body {
        headers.insert(
            HeaderName::from_static("content-digest"),
            HeaderValue::from_str(&content_digest(body))?,
        );
        components.push("content-digest");
    }
    let key = |k: &str| Key::from_string(k.to_string()).map_err(|(e, _)| anyhow::anyhow!("{e}"));
    let mut params = Parameters::new();
    let string = |s: &str| -> anyhow::Result<BareItem> {
        Ok(BareItem::String(
            sfv::String::from_string(s.to_string()).map_err(|(e, _)| anyhow::anyhow!("{e}"))?,
        ))
    };
    params.insert(key("alg")?, string(ALGORITHM)?);
    params.insert(key("keyid")?, string(key_id)?);
    params.insert(
        key("created")?,
        BareItem::Integer(sfv::Integer::try_from(now.timestamp())?),
    );
    let items = components
        .iter()
        .map(|c| string(c).map(Item::new))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let list = InnerList::with_params(items, params);
    let serialized = vec![ListEntry::InnerList(list.clone())]
        .serialize()
        .ok_or_else(|| anyhow::anyhow!("empty signature parameters"))?;
    let owned: Vec<String> = components.iter().map(|c| c.to_string()).collect();
    let base = signature_base(
        &owned,
        &serialized,
        &Target {
            method,
            uri,
            headers,
        },
    )?;
    let signature = rsa_sha256_sign(private_key_pem, base.as_bytes())?;
    let label = key("sig1")?;
    let mut input = Dictionary::new();
    input.insert(label.clone(), ListEntry::InnerList(list));
    let mut value = Dictionary::new();
    value.insert(
        label,
        ListEntry::Item(Item::new(BareItem::ByteSequence(signature))),
    );
    headers.insert(
        HeaderName::from_static("signature-input"),
        HeaderValue::from_str(&input.serialize().unwrap_or_default())?,
    );
    headers.insert(
        HeaderName::from_static("signature"),
        HeaderValue::from_str(&value.serialize().unwrap_or_default())?,
    );
    Ok(())
}

/// RSA PKCS#1 v1.5 with SHA-256 over `message` with the key in `private_key_pem`.
fn rsa_sha256_sign(private_key_pem: &str, message: &[u8]) -> anyhow::Result<Vec<u8>> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_key_pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(private_key_pem))
        .map_err(|e| anyhow::anyhow!("unreadable private key: {e}"))?;
    Ok(key.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9421 Appendix B.1.1's RSA key is RSA-PSS; so the round trip uses a fresh key, and the
    /// base of the RFC's example B.2.1 ("minimal") is checked literally.
    #[test]
    fn signature_base_as_the_rfc_builds_it() {
        let mut headers = HeaderMap::new();
        headers.insert("signature-input", HeaderValue::from_static(
            r#"sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#));
        headers.insert("signature", HeaderValue::from_static("sig-b21=:YQ==:"));
        let sig = parse(&headers, 1618884473).unwrap().unwrap();
        let uri = url::Url::parse("https://example.com/foo?param=Value&Pet=dog").unwrap();
        let base = sig
            .base(&Target {
                method: "POST",
                uri: &uri,
                headers: &headers,
            })
            .unwrap();
        assert_eq!(
            base,
            r#""@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#
        );
        assert!(parse(&headers, 1618884473 + 7200).is_err(), "too old");
    }

    #[test]
    fn what_we_sign_verifies_and_tampering_does_not() {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let private = key.to_pkcs8_pem(Default::default()).unwrap().to_string();
        let public = key
            .to_public_key()
            .to_public_key_pem(Default::default())
            .unwrap();
        let uri = url::Url::parse("https://peer.example/users/bob/inbox").unwrap();
        let body = br#"{"type":"Follow"}"#;
        let now = chrono::Utc::now();
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/activity+json"),
        );
        sign(
            "POST",
            &uri,
            &mut headers,
            Some(body),
            "https://us.example/users/a#main-key",
            &private,
            now,
        )
        .unwrap();
        let sig = parse(&headers, now.timestamp()).unwrap().unwrap();
        assert_eq!(sig.key_id(), "https://us.example/users/a#main-key");
        assert!(sig.covers_request(true));
        let target = Target {
            method: "POST",
            uri: &uri,
            headers: &headers,
        };
        assert!(sig.verify(&target, &public));
        assert!(content_digest_matches(
            headers.get("content-digest").unwrap().to_str().unwrap(),
            body
        ));
        assert!(!content_digest_matches(
            headers.get("content-digest").unwrap().to_str().unwrap(),
            b"{}"
        ));
        let other = url::Url::parse("https://peer.example/users/eve/inbox").unwrap();
        assert!(!sig.verify(
            &Target {
                method: "POST",
                uri: &other,
                headers: &headers
            },
            &public
        ));
        assert!(!sig.verify(
            &Target {
                method: "GET",
                uri: &uri,
                headers: &headers
            },
            &public
        ));
        let mut changed = headers.clone();
        changed.insert(
            "date",
            HeaderValue::from_static("Mon, 01 Jan 2024 00:00:00 GMT"),
        );
        assert!(!sig.verify(
            &Target {
                method: "POST",
                uri: &uri,
                headers: &changed
            },
            &public
        ));
    }

    #[test]
    fn content_digest_forms() {
        let body = b"hello";
        let sha512 = format!("sha-512=:{}:", BASE64.encode(Sha512::digest(body)));
        assert!(content_digest_matches(&sha512, body));
        assert!(content_digest_matches(
            &format!("{}, md5=:AAAA:", content_digest(body)),
            body
        ));
        assert!(!content_digest_matches("md5=:AAAA:", body));
        assert!(!content_digest_matches("sha-256=abc", body));
    }
}
