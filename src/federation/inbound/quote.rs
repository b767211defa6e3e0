//! `QuoteRequest` (FEP-044f): another server asks whether its Note may quote a status here. The
//! Accept/Reject of our own requests arrive with follows' (`follow`), stamp deletions with
//! `delete`.

use crate::federation::protocol::activities::QuoteRequest;
use crate::service::accounts::AccountRow;
use crate::service::activitypub::context::FedData;

/// Answers by the quoted status's policy (`service::quotes::inbound::receive_request`).
pub(super) async fn receive_request(
    data: &FedData,
    actor: &AccountRow,
    request: &QuoteRequest,
) -> anyhow::Result<bool> {
    let doc = serde_json::to_value(request)?;
    crate::service::quotes::inbound::receive_request(data, actor, &doc).await?;
    Ok(false)
}
