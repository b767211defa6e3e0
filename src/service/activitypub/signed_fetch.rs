//! Signed GETs (draft-cavage HTTP signatures, as Mastodon signs its fetches, or RFC 9421): who is
//! asking, for documents only some servers may read (a story for its author's followers), and
//! for every document under authorized fetch.
//!
//! The signature is parsed and checked by `federation::signatures`, as inbox POSTs are.

use activitypub_federation::fetch::object_id::ObjectId;
use http::{HeaderMap, Method, Uri};

use crate::federation::signatures::UnverifiedGet;
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::FedData;
use crate::storage::accounts::AccountRow;

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
    if crate::federation::rfc9421::present(headers) {
        let signature = crate::federation::rfc9421::parse(headers, chrono::Utc::now().timestamp())?
            .ok_or_else(|| anyhow::anyhow!("no RFC 9421 signature"))?;
        let actor = key_owner(data, signature.key_id()).await?;
        let pem = actor
            .public_key_pem
            .clone()
            .ok_or_else(|| anyhow::anyhow!("{} has no public key", actor.uri))?;
        anyhow::ensure!(
            crate::federation::signatures::rfc9421_verifies(
                &data.config.base_url(),
                &signature,
                method,
                uri,
                headers,
                false,
                &pem
            ),
            "the RFC 9421 signature does not verify with {}'s key",
            actor.uri
        );
        return Ok(Some(actor));
    }
    let unverified = UnverifiedGet::parse(method, uri, headers, &data.config.server.domain)?;
    let actor = key_owner(data, unverified.key_id()).await?;
    let pem = actor
        .public_key_pem
        .clone()
        .ok_or_else(|| anyhow::anyhow!("{} has no public key", actor.uri))?;
    anyhow::ensure!(
        unverified.verify(&pem),
        "the signature does not verify with {}'s key",
        actor.uri
    );
    Ok(Some(actor))
}
/// The actor a `keyId` (`ACTOR#main-key`) names, fetched and stored when unknown.
async fn key_owner(data: &FedData, key_id: &str) -> anyhow::Result<AccountRow> {
    let mut actor_id = url::Url::parse(key_id)?;
    actor_id.set_fragment(None);
    Ok(ObjectId::<ApAccount>::from(actor_id)
        .dereference(data)
        .await?
        .row)
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
