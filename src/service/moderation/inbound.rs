//! Reports forwarded by other servers (`Flag`, called by `federation::inbound`).

use super::*;

/// A `Flag` from another server: a report about one of our accounts (and some of its statuses),
/// kept with the sender as reporter. Objects that are not ours are ignored; a Flag naming none of
/// our accounts is dropped.
pub async fn receive_flag(
    data: &crate::service::activitypub::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    flag: crate::federation::protocol::activities::Flag,
) -> anyhow::Result<()> {
    use crate::storage::reports::{self, ReportRow};
    let state: &AppState = data;
    if reports::find_by_uri(&state.db, flag.id.as_str())
        .await?
        .is_some()
    {
        return Ok(());
    }
    let base = state.config.base_url();
    let ours: Vec<&url::Url> = flag
        .object
        .iter()
        .take(FLAG_OBJECTS_LIMIT)
        .filter(|u| u.as_str().starts_with(&format!("{base}/")))
        .collect();
    let mut target = None;
    for u in &ours {
        if let Some((a, _)) = crate::storage::accounts::find_by_uri(&state.db, u.as_str()).await?
            && a.is_local()
        {
            target = Some(a);
            break;
        }
    }
    let mut status_ids = Vec::new();
    for u in &ours {
        if let Some(s) = statuses::find_by_uri_or_url(&state.db, u.as_str()).await?
            && s.local
        {
            if target.is_none() {
                target = crate::storage::accounts::find_account(&state.db, s.account_id).await?;
            }
            if target.as_ref().is_some_and(|t| t.id == s.account_id) {
                status_ids.push(s.id);
            }
        }
    }
    let Some(target) = target else {
        tracing::debug!(flag = %flag.id, "Flag names none of our accounts");
        return Ok(());
    };
    let text = crate::text::html_to_text(flag.content.as_deref().unwrap_or_default());
    let now = chrono::Utc::now();
    let row = ReportRow {
        id: crate::storage::ids::new_id(),
        account_id: actor.id,
        target_account_id: target.id,
        status_ids: sqlx::types::Json(status_ids),
        rule_ids: sqlx::types::Json(Vec::new()),
        comment: text.trim().chars().take(COMMENT_LIMIT).collect(),
        category: "other".into(),
        forwarded: false,
        uri: Some(flag.id.to_string()),
        assigned_account_id: None,
        action_taken_at: None,
        action_taken_by_account_id: None,
        created_at: now,
        updated_at: now,
    };
    let staff = crate::storage::accounts::staff_account_ids(&state.db).await?;
    let mut tx = state.db.begin().await?;
    reports::insert(&mut tx, &row).await?;
    let pending = crate::service::notifications::notify_staff_in(
        &mut tx,
        &staff,
        "admin.report",
        actor.id,
        Some(row.id),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    crate::service::notifications::publish(state, &pending).await;
    tracing::info!(report = row.id, from = %actor.uri, target = %target.uri, "report received");
    Ok(())
}
