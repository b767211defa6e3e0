//! Editing a status, and its edit history and source.

use std::collections::HashMap;

use chrono::Utc;

use crate::api_types::status::{StatusEdit, StatusSource};
use crate::error::{AppError, AppResult};
use crate::service::activitypub::context::FedData;
use crate::service::notifications::{self};
use crate::service::oauth::CurrentUser;
use crate::service::render;
use crate::state::AppState;
use crate::storage::statuses::{self as store, StatusRow};
use crate::storage::{accounts, ids};

use super::*;

/// A new version of a status: a local edit or a remote `Update`.
pub(super) struct Revision<'a> {
    /// Source text (empty for remote statuses, whose source we do not have).
    pub(super) text: &'a str,
    pub(super) content: &'a str,
    pub(super) spoiler_text: &'a str,
    pub(super) sensitive: bool,
    pub(super) language: Option<&'a str>,
    pub(super) at: chrono::DateTime<Utc>,
    pub(super) mention_ids: &'a [i64],
    pub(super) tags: &'a [String],
    /// New attachments, when they change.
    pub(super) media: Option<StatusMedia<'a>>,
    /// What happens to its poll.
    pub(super) poll: crate::service::polls::PollEdit,
}

/// Applies a revision in one transaction — the edit history (keeping the original at the first
/// edit), content, mentions, hashtags, `update` notifications to those who boosted it, and the
/// outgoing activity if any — then streams `status.update`. Shared by local edits and incoming
/// `Update`s. Returns the updated row.
pub(super) async fn apply_revision(
    state: &AppState,
    row: &StatusRow,
    rev: Revision<'_>,
    outgoing: Option<Outgoing>,
) -> AppResult<StatusRow> {
    let never_edited = store::edits(&state.db, row.id).await?.is_empty();
    let boosts = store::boosts_of(&state.db, row.id).await?;
    let current_media: Vec<i64> = crate::storage::media::of_statuses(&state.db, &[row.id])
        .await?
        .iter()
        .map(|m| m.id)
        .collect();
    let new_media = match &rev.media {
        Some(StatusMedia::Uploaded(ids)) => ids.to_vec(),
        Some(StatusMedia::Remote(rows)) => rows.iter().map(|r| r.id).collect(),
        None => current_media.clone(),
    };
    let current_poll = match row.poll_id {
        Some(id) => crate::storage::polls::find(&state.db, id).await?,
        None => None,
    };
    let mut tx = state.db.begin().await?;
    if let Some(out) = &outgoing {
        crate::service::delivery::enqueue(
            &mut tx,
            &out.activity,
            row.account_id,
            &out.inboxes,
            None,
        )
        .await?;
    }
    crate::service::polls::apply_edit(
        &mut tx,
        row.id,
        row.account_id,
        current_poll.as_ref(),
        &rev.poll,
    )
    .await?;
    let version = |text: &str, content: &str, spoiler: &str, sensitive: bool, at| store::EditRow {
        id: ids::new_id(),
        status_id: row.id,
        account_id: row.account_id,
        text: text.to_string(),
        content: content.to_string(),
        spoiler_text: spoiler.to_string(),
        sensitive,
        created_at: at,
    };
    if never_edited {
        let original = version(
            &row.text,
            &row.content,
            &row.spoiler_text,
            row.sensitive,
            row.created_at,
        );
        store::insert_edit(&mut tx, &original).await?;
        crate::storage::media::record_version(&mut tx, original.id, &current_media).await?;
    }
    let latest = version(
        rev.text,
        rev.content,
        rev.spoiler_text,
        rev.sensitive,
        rev.at,
    );
    store::insert_edit(&mut tx, &latest).await?;
    store::update_content(
        &mut tx,
        row.id,
        rev.text,
        rev.content,
        rev.spoiler_text,
        rev.sensitive,
        rev.language,
        rev.at,
    )
    .await?;
    store::index_search(
        &mut tx,
        row.id,
        &store::indexed_text(rev.content, rev.spoiler_text),
    )
    .await?;
    store::clear_mentions_and_tags(&mut tx, row.id).await?;
    store::insert_mentions(&mut tx, row.id, rev.mention_ids).await?;
    store::attach_tags(&mut tx, row.id, rev.tags).await?;
    if row.visibility == "direct" {
        let text = crate::text::html_to_text(rev.content);
        crate::storage::conversations::index_text(&mut tx, row.id, &text).await?;
    } else {
        crate::service::cards::queue(&mut tx, row.id, rev.content).await?;
    }
    if let Some(media) = &rev.media {
        media.apply(state, &mut tx, row.id).await?;
    }
    // After `apply`: remote attachments are inserted there.
    crate::storage::media::record_version(&mut tx, latest.id, &new_media).await?;
    let mut pending = Vec::new();
    for b in &boosts {
        pending.extend(
            notifications::create(
                &mut tx,
                b.account_id,
                row.account_id,
                "update",
                Some(row.id),
            )
            .await?,
        );
    }
    tx.commit().await?;
    if outgoing.is_some() {
        state.delivery_wakeup.notify_one();
    }
    let updated = store::find(&state.db, row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let holders = store::feed_holders(&state.db, row.id).await?;
    publish_status(state, &updated, &holders, "status.update", rev.tags).await;
    notifications::publish(state, &pending).await;
    if let Err(e) = crate::service::quotes::quoted_edited(state, &updated).await {
        tracing::warn!(error = ?e, status = updated.id, "could not tell quoters of an edit");
    }
    Ok(updated)
}

/// `PUT /api/v1/statuses/:id` input.
#[derive(Clone, Debug, Default)]
pub struct EditStatus {
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    /// `None`: keep the attachments; `Some`: replace them (an empty list removes them).
    pub media_ids: Option<Vec<String>>,
    /// The poll as it should be; `None` removes it (Mastodon's rule: clients send it again).
    pub poll: Option<crate::service::polls::PollParams>,
}

/// Edits one of the user's statuses, keeping every version for `/history`; notifies accounts that
/// boosted it (`update`) and streams `status.update`.
///
/// Errors: 404 when not visible; 403 when it is someone else's; 422 as for posting, or for a boost.
pub async fn edit(
    data: &FedData,
    user: &CurrentUser,
    id: &str,
    e: EditStatus,
) -> AppResult<StatusRow> {
    let state: &AppState = data;
    let row = visible(state, Some(user.account.id), id).await?;
    ensure_owner(&row, user)?;
    if row.reblog_of_id.is_some() {
        return Err(AppError::unprocessable("A boost cannot be edited"));
    }
    let media = match &e.media_ids {
        Some(ids) => {
            crate::service::media::for_status(state, user.account.id, ids, Some(row.id)).await?
        }
        None => crate::storage::media::of_statuses(&state.db, &[row.id]).await?,
    };
    // The attachments it will have, kept or new.
    crate::service::polls::ensure_not_with_media(e.poll.is_some(), !media.is_empty())?;
    // A short stays a short: new attachments must be one vertical video again.
    if row.short && e.media_ids.is_some() {
        crate::service::shorts::validate(&media)?;
    }
    validate_text(state, &e.text, &e.spoiler_text, !media.is_empty())?;
    validate_language(&e.language)?;
    let mut rendered = render_text(data, &e.text).await?;
    if row.visibility == "direct" {
        // A message's recipients already have it: an edit reaches them all, and may add more.
        let facts = store::facts_of(&state.db, store::ANONYMOUS, &[row.id]).await?;
        rendered
            .mention_ids
            .extend(facts.mentions.iter().map(|(_, a)| *a));
        rendered.mention_ids.sort_unstable();
        rendered.mention_ids.dedup();
    }
    let now = Utc::now();
    let spoiler = e.spoiler_text.trim();
    let sensitive = e.sensitive || !spoiler.is_empty();
    let language = e.language.clone().or(row.language.clone());
    let edited = StatusRow {
        text: e.text.clone(),
        content: rendered.content.clone(),
        spoiler_text: spoiler.to_string(),
        sensitive,
        language: language.clone(),
        edited_at: Some(now),
        ..row.clone()
    };
    let parent = match row.in_reply_to_id {
        Some(p) => store::find(&state.db, p).await?,
        None => None,
    };
    let current_poll = match row.poll_id {
        Some(id) => crate::storage::polls::find(&state.db, id).await?,
        None => None,
    };
    let poll_edit = match &e.poll {
        Some(p) => crate::service::polls::PollEdit::Set(crate::service::polls::PollDraft::local(p)),
        None => crate::service::polls::PollEdit::Remove,
    };
    let poll_after = crate::service::polls::after_edit(
        current_poll.as_ref(),
        &poll_edit,
        row.id,
        row.account_id,
    );
    let edited = StatusRow {
        poll_id: poll_after.as_ref().map(|p| p.id),
        ..edited
    };
    let quote = crate::service::quotes::note_quote(state, row.id).await?;
    let outgoing = outgoing_note(
        state,
        &user.account,
        &edited,
        parent.as_ref(),
        &rendered.mention_ids,
        &rendered.tags,
        &crate::service::media::ap_attachments(state, &media),
        poll_after.as_ref(),
        quote.as_ref().map(|(q, a)| (q.as_str(), a.as_deref())),
        crate::federation::objects::update,
    )
    .await?;
    let media_ids: Vec<i64> = media.iter().map(|m| m.id).collect();
    apply_revision(
        state,
        &row,
        Revision {
            text: &e.text,
            content: &rendered.content,
            spoiler_text: spoiler,
            sensitive,
            language: language.as_deref(),
            at: now,
            mention_ids: &rendered.mention_ids,
            tags: &rendered.tags,
            media: e
                .media_ids
                .as_ref()
                .map(|_| StatusMedia::Uploaded(&media_ids[..])),
            poll: poll_edit,
        },
        outgoing,
    )
    .await
}

/// Every version of a status, oldest first (just the current one when never edited).
pub async fn history(
    state: &AppState,
    viewer: Option<i64>,
    id: &str,
) -> AppResult<Vec<StatusEdit>> {
    let row = visible(state, viewer, id).await?;
    let author = accounts::find_account(&state.db, row.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let account = render::account(state, &author).await?;
    let edits = store::edits(&state.db, row.id).await?;
    let render_media = |rows: Vec<crate::storage::media::MediaRow>| -> Vec<_> {
        rows.iter()
            .map(|m| crate::service::media::entity(state, m))
            .collect()
    };
    let versions: Vec<StatusEdit> = if edits.is_empty() {
        let media = crate::storage::media::of_statuses(&state.db, &[row.id]).await?;
        vec![StatusEdit {
            content: row.content,
            spoiler_text: row.spoiler_text,
            sensitive: row.sensitive,
            created_at: row.created_at,
            account,
            poll: None,
            media_attachments: render_media(media),
            emojis: vec![],
        }]
    } else {
        let ids: Vec<i64> = edits.iter().map(|e| e.id).collect();
        let mut media: HashMap<i64, Vec<_>> = HashMap::new();
        for (edit_id, m) in crate::storage::media::of_versions(&state.db, &ids).await? {
            media.entry(edit_id).or_default().push(m);
        }
        edits
            .into_iter()
            .map(|e| StatusEdit {
                media_attachments: render_media(media.remove(&e.id).unwrap_or_default()),
                content: e.content,
                spoiler_text: e.spoiler_text,
                sensitive: e.sensitive,
                created_at: e.created_at,
                account: account.clone(),
                poll: None,
                emojis: vec![],
            })
            .collect()
    };
    Ok(versions)
}

/// The source text of one of the user's statuses.
pub async fn source(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<StatusSource> {
    let row = visible(state, Some(user.account.id), id).await?;
    ensure_owner(&row, user)?;
    Ok(StatusSource {
        id: row.id.to_string(),
        text: row.text,
        spoiler_text: row.spoiler_text,
    })
}
