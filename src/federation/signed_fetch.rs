//! Signed GETs (draft-cavage HTTP signatures, as Mastodon signs its fetches): who is asking, for
//! documents only some servers may read (a story for its author's followers).
//!
//! `activitypub_federation` verifies signatures on inbox POSTs but offers no GET check for axum;
//! the same parsing (`http-signature-normalization`) and RSA-SHA256 check are used here.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use activitypub_federation::fetch::object_id::ObjectId;
use axum::http::{HeaderMap, Method, Uri};
use base64::Engine;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};

use crate::federation::actor::ApAccount;
use crate::federation::context::FedData;
use crate::storage::accounts::AccountRow;

/// Signatures older than this (by their `Date` or `created`) are refused.
const MAX_AGE: Duration = Duration::from_secs(3600);

static CONFIG: LazyLock<http_signature_normalization::Config> =
    LazyLock::new(|| http_signature_normalization::Config::new().set_expiration(MAX_AGE));

/// The actor whose key signed this request, fetched and stored when unknown. `None` when the
/// request carries no `Signature` header.
///
/// Errors: a malformed or expired signature, an unknown or unreachable key, or a signature that
/// does not verify with it.
pub async fn signer(
    data: &FedData,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> anyhow::Result<Option<AccountRow>> {
    if !headers.contains_key("signature") {
        return Ok(None);
    }
    let mut map = BTreeMap::new();
    for (name, value) in headers {
        // A bearer token is not a signature; the parser would read `Authorization` first.
        if name == axum::http::header::AUTHORIZATION {
            continue;
        }
        if let Ok(v) = value.to_str() {
            map.insert(name.as_str().to_string(), v.to_string());
        }
    }
    // Behind a proxy or over HTTP/2 `Host` can be missing; it is our own domain then.
    map.entry("host".to_string())
        .or_insert_with(|| data.config.server.domain.clone());
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let unverified = CONFIG
        .begin_verify(method.as_str(), path, map)
        .map_err(|e| anyhow::anyhow!("bad signature header: {e}"))?;
    let key_id = url::Url::parse(unverified.key_id())?;
    let mut actor_id = key_id.clone();
    actor_id.set_fragment(None);
    let actor = ObjectId::<ApAccount>::from(actor_id)
        .dereference(data)
        .await?
        .row;
    let pem = actor
        .public_key_pem
        .clone()
        .ok_or_else(|| anyhow::anyhow!("{} has no public key", actor.uri))?;
    let key = RsaPublicKey::from_public_key_pem(&pem)?;
    let ok = unverified.verify(|signature, signing_string| {
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature) else {
            return false;
        };
        key.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing_string.as_bytes()),
            &sig,
        )
        .is_ok()
    });
    anyhow::ensure!(ok, "the signature does not verify with {}'s key", actor.uri);
    Ok(Some(actor))
}

/// A GET request as the service layer needs it to decide who is asking: the signer is verified
/// only when asked for (a public document needs no signature check).
pub struct GetRequest {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
}

impl GetRequest {
    /// See [`signer`].
    pub async fn signer(&self, data: &FedData) -> anyhow::Result<Option<AccountRow>> {
        signer(data, &self.method, &self.uri, &self.headers).await
    }
}
