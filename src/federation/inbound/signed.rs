//! Receiving a signed activity: the steps of `activitypub_federation`'s
//! `receive_activity` (digest, the activity's id, the actor's key, the signature), with the
//! signature checks of `federation::signatures` (aws-lc-rs; docs/PERFORMANCE.md).

use activitypub_federation::error::Error as FedError;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_domains_match;
use activitypub_federation::traits::{Activity, Actor};
use http::{HeaderMap, Method, Uri};

use super::InboxActivity;
use crate::federation::signatures::{post_verifies, rfc9421_verifies, verify_digest};
use crate::service::activitypub::actors::ApAccount;
use crate::service::activitypub::context::FedData;

/// The checks `activitypub_federation` makes on an incoming activity's `id` before looking at its
/// actor: the id and the actor are on the same domain, the scheme is https (or http where the
/// configuration allows it), the id is not one of ours, and its server is not suspended here.
///
/// The library's production-only checks of the id (no explicit port, a host that resolves to a
/// public address) are left to what follows: the actor is fetched through the library, which
/// makes those checks on the actor's URL and resolves it with the validating resolver, and
/// `Activity::verify` requires the id on the actor's origin, port included.
async fn verify_id(data: &FedData, id: &url::Url, actor: &url::Url) -> Result<(), FedError> {
    verify_domains_match(id, actor)?;
    match id.scheme() {
        "https" => {}
        "http" if data.config.allow_http() => {}
        _ => return Err(FedError::UrlVerificationError("Invalid url scheme")),
    }
    let Some(host) = crate::federation::origin::authority(id) else {
        return Err(FedError::UrlVerificationError("Url must have a domain"));
    };
    if host == data.config.server.domain {
        return Err(FedError::UrlVerificationError(
            "Activity was sent from local instance",
        ));
    }
    match crate::service::moderation::domain_suspended(data, &host).await {
        Ok(false) => Ok(()),
        Ok(true) => Err(FedError::Other(format!("{host} is blocked"))),
        Err(e) => Err(FedError::Other(format!("checking domain blocks: {e}"))),
    }
}

/// Receives an activity POSTed to an inbox: the body's digest, the activity's id, its actor
/// (fetched and stored when unknown), the HTTP signature with that actor's key, then the
/// activity's own checks (`Activity::verify`) and its effects (`Activity::receive`). The steps of
/// `activitypub_federation::axum::inbox::receive_activity`, with the signature checked by
/// [`rsa_sha256_verifies`].
///
/// Errors: `ActivityBodyDigestInvalid` or `ActivitySignatureInvalid` (the caller answers 401), or
/// anything else that makes the activity unusable (400).
pub async fn receive_signed(
    data: &FedData,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> anyhow::Result<()> {
    verify_digest(headers, body)?;
    let activity: InboxActivity = serde_json::from_slice(body)
        .map_err(|e| anyhow::anyhow!("the activity does not parse: {e}"))?;
    signed_by(data, method, uri, headers, activity.id(), activity.actor()).await?;
    activity.verify(data).await?;
    activity.receive(data).await?;
    Ok(())
}

/// The checks of [`receive_signed`] short of the activity's own: `id` on `actor`'s origin and
/// not ours, the actor (fetched and stored when unknown), and the request's HTTP signature by the
/// actor's key (the digest is checked by the caller). Returns the actor.
///
/// Errors: `ActivitySignatureInvalid` (401), or why the id or the actor is unusable (400).
pub async fn signed_by(
    data: &FedData,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    id: &url::Url,
    actor: &url::Url,
) -> anyhow::Result<ApAccount> {
    verify_id(data, id, actor).await?;
    let actor = ObjectId::<ApAccount>::from(actor.clone())
        .dereference(data)
        .await?;
    let key = actor.public_key_pem();
    let verified = if crate::federation::rfc9421::present(headers) {
        // RFC 9421: checked with the actor's key, as draft-cavage signatures are.
        let signature = crate::federation::rfc9421::parse(headers, chrono::Utc::now().timestamp())
            .ok()
            .flatten()
            .ok_or(FedError::ActivitySignatureInvalid)?;
        let base = data.config.base_url();
        rfc9421_verifies(&base, &signature, method, uri, headers, true, key)
    } else {
        // No `Signature` header, a malformed one, one past its age, or a wrong one.
        post_verifies(method, uri, headers, &data.config.server.domain, key)
    };
    if !verified {
        return Err(FedError::ActivitySignatureInvalid.into());
    }
    Ok(actor)
}
