//! `Create` of a Note (or Question, Article, a PeerTube Video read as a Note).

use crate::federation::origin::same_origin;
use crate::federation::protocol::activities::Create;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::statuses;

/// The Note must be the actor's own and on the actor's server.
pub(super) fn verify(create: &Create) -> anyhow::Result<()> {
    anyhow::ensure!(
        create.object.attributed_to == create.actor,
        "a Create must be by the Note's author"
    );
    anyhow::ensure!(
        same_origin(&create.object.id, &create.actor),
        "the Note is not on the author's server"
    );
    Ok(())
}

/// Stores the Note when it concerns someone here (the statuses service decides); its receipt is
/// written in the status's transaction.
pub(super) async fn receive(
    data: &FedData,
    actor: &AccountRow,
    create: Create,
    activity_id: &str,
) -> anyhow::Result<bool> {
    statuses::receive_note(data, actor, create.object, activity_id).await
}
