//! `Move` (account migration): a remote account moved; its followers here follow it where it went.

use crate::federation::protocol::activities::Move;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;

/// A `Move` must move its own actor (`object` = `actor`); the target must list the actor in
/// `alsoKnownAs` (`service::moves::receive_move` checks, fetching the target again).
///
/// Errors: an `object` other than the actor, or what the service refuses.
pub(super) async fn receive(data: &FedData, actor: &AccountRow, m: &Move) -> anyhow::Result<bool> {
    let object = m.object.id();
    anyhow::ensure!(
        object.as_ref().map(url::Url::as_str) == Some(actor.uri.as_str()),
        "a Move by {} of another actor",
        actor.uri
    );
    let target = m
        .target
        .id()
        .ok_or_else(|| anyhow::anyhow!("a Move without a target"))?;
    crate::service::moves::receive_move(data, actor, &target).await?;
    Ok(false)
}
