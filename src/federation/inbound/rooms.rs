//! Activities about rooms (docs/FEDERATION.md, "Rooms"): those a room hosted elsewhere sends this
//! server's members, and those remote members send a room hosted here; and call signalling
//! ("Calls"). They are read as JSON by the rooms or calls service (`service::rooms::receive`,
//! `service::calls::receive`), after the same digest and signature checks as every other
//! activity.

use serde_json::Value;
use url::Url;

use super::signed::signed_by;
use crate::federation::signatures::verify_digest;
use crate::service::activitypub::context::FedData;

/// Which service reads an activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    Rooms,
    Calls,
}

/// Verifies and acts on room or call activity `doc` (`id`, `kind`: its `id` and `type`), then records
/// its receipt.
///
/// Errors: a bad digest or signature (`ActivitySignatureInvalid`, `ActivityBodyDigestInvalid`),
/// an actor that is suspended, or what the rooms service refuses (not a member, a role too low).
pub async fn receive(
    data: &FedData,
    request: &http::request::Parts,
    body: &[u8],
    doc: &Value,
    id: &str,
    kind: &str,
    handler: Handler,
) -> anyhow::Result<()> {
    verify_digest(&request.headers, body)?;
    let id_url = Url::parse(id)?;
    let actor_url = doc
        .get("actor")
        .and_then(Value::as_str)
        .map(Url::parse)
        .transpose()?
        .ok_or_else(|| anyhow::anyhow!("an activity without an actor"))?;
    let actor = signed_by(
        data,
        &request.method,
        &request.uri,
        &request.headers,
        &id_url,
        &actor_url,
    )
    .await?
    .row;
    anyhow::ensure!(actor.suspended_at.is_none(), "the actor is suspended here");
    match handler {
        Handler::Rooms => crate::service::rooms::receive(data, &actor, kind, doc).await?,
        Handler::Calls => crate::service::calls::receive(data, &actor, kind, doc).await?,
    }
    crate::service::delivery::record_receipt(data, id).await?;
    Ok(())
}
