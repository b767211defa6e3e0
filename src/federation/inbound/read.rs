//! `Read`: a read receipt for a direct message (docs/FEDERATION.md, Direct messages).

use crate::federation::protocol::activities::Like;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;
use crate::service::conversations;

/// Marks the conversation seen by the actor, for its local participants.
pub(super) async fn receive(
    data: &FedData,
    actor: &AccountRow,
    read: &Like,
) -> anyhow::Result<bool> {
    conversations::receive_read(data, actor, &read.object).await?;
    Ok(false)
}
