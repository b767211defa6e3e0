//! Read receipts from other servers (`Read`, called by `federation::inbound`).

use super::*;

/// An incoming `Read` of one of our stored direct statuses by a remote participant: the status
/// and all before it in the thread count as seen by the reader. Anything else is ignored.
pub async fn receive_read(
    data: &crate::service::activitypub::context::FedData,
    actor: &AccountRow,
    object: &url::Url,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let Some(status) = statuses::find_by_uri_or_url(&state.db, object.as_str()).await? else {
        return Ok(());
    };
    if status.visibility != "direct" || status.account_id == actor.id {
        return Ok(());
    }
    // Not the author (above), so a participant only when mentioned.
    if !participants_of(state, &status).await?.contains(&actor.id) {
        tracing::info!(actor = %actor.uri, status = %status.uri, "ignoring a Read by a non-participant");
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let moved = store::record_read(
        &mut tx,
        actor.id,
        status.conversation_id,
        status.id,
        Utc::now(),
    )
    .await?;
    tx.commit().await?;
    if moved {
        publish_seen(state, &status, actor.id).await;
    }
    Ok(())
}
