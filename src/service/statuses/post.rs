//! Posting a status through the client API (`POST /api/v1/statuses`): text, mentions, media, and
//! the one write that stores it with its feed entries and notifications.

use std::time::Duration;

use crate::error::{AppError, AppResult};
use crate::service::activitypub::context::FedData;
use crate::service::oauth::CurrentUser;
use crate::state::AppState;
use crate::storage::accounts::AccountRow;
use crate::storage::statuses::{self as store, NewStatus, StatusRow};
use crate::storage::{accounts, ids};
use crate::text;

use super::*;

/// `POST /api/v1/statuses` input.
#[derive(Clone, Debug, Default)]
pub struct CreateStatus {
    pub text: String,
    pub visibility: Option<String>,
    pub in_reply_to_id: Option<i64>,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub media_ids: Vec<String>,
    /// `poll[…]`, checked (`service::polls::params`).
    pub poll: Option<crate::service::polls::PollParams>,
    pub scheduled_at: Option<String>,
    pub idempotency_key: Option<String>,
    pub application_id: Option<i64>,
    /// A reply to a story: its row ID and ActivityPub id (the Note's `inReplyTo`).
    pub in_reply_to_story: Option<(i64, String)>,
    /// Post as a short (exactly one vertical video).
    pub short: bool,
    /// The status it quotes (`service::quotes::for_new_status`).
    pub quoted_status_id: Option<i64>,
    /// Who may quote it: public | followers | nobody (else the account's default).
    pub quote_approval_policy: Option<String>,
}

/// Longest wait for one unknown mention's WebFinger lookup and actor fetch when a status is posted.
pub(super) const MENTION_RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a mentioned handle that could not be looked up is not asked for again.
pub const MENTION_MISS_TTL: Duration = Duration::from_secs(300);

/// Most unknown remote handles one status looks up over the network; more stay plain text.
pub const MAX_RESOLVED_MENTIONS: usize = 20;

/// Mentions resolved to account IDs, and the rendered HTML.
pub(super) struct Rendered {
    pub(super) content: String,
    pub(super) mention_ids: Vec<i64>,
    pub(super) tags: Vec<String>,
    /// Mentions that name nobody found, as written (`@bob@other.example`); they stay plain text.
    pub(super) unresolved: Vec<String>,
}

/// Renders status text, resolving `@user` (local) and `@user@domain` to profile links. A remote
/// handle not known here is looked up as Mastodon does — WebFinger, then the actor document,
/// through the egress guard — all of a status's unknown handles at once, each for at most
/// [`MENTION_RESOLVE_TIMEOUT`]; a handle that failed is not asked again for a while
/// (`AppState::mention_misses`). Mentions that name nobody stay plain text.
pub(super) async fn render_text(data: &FedData, raw: &str) -> AppResult<Rendered> {
    let state: &AppState = data;
    let (mentions, tags) = text::extract(raw);
    let own = state.config.server.domain.to_lowercase();
    let mut resolved = Vec::new();
    let mut unknown: Vec<(text::MentionRef, String)> = Vec::new();
    for m in &mentions {
        let domain = m.domain.as_deref().filter(|d| d.to_lowercase() != own);
        if let Some(a) = accounts::find_account_by_acct(&state.db, &m.username, domain).await? {
            resolved.push((m.clone(), a));
        } else if let Some(d) = domain {
            let acct = format!("{}@{}", m.username, d).to_lowercase();
            if !unknown.iter().any(|(_, a)| *a == acct) {
                unknown.push((m.clone(), acct));
            }
        }
    }
    let lookups = unknown
        .iter()
        .take(MAX_RESOLVED_MENTIONS)
        .map(|(m, acct)| async move { (m, resolve_mention(data, acct).await) });
    for (m, found) in futures_util::future::join_all(lookups).await {
        if let Some(a) = found {
            resolved.push((m.clone(), a));
        }
    }
    let is_resolved = |m: &text::MentionRef| {
        resolved
            .iter()
            .any(|(r, _)| r.username.eq_ignore_ascii_case(&m.username) && r.domain == m.domain)
    };
    let mut unresolved: Vec<String> = mentions
        .iter()
        .filter(|m| !is_resolved(m))
        .map(|m| match &m.domain {
            Some(d) => format!("@{}@{d}", m.username),
            None => format!("@{}", m.username),
        })
        .collect();
    unresolved.dedup();
    let base = state.config.base_url();
    let content = text::render_status(raw, &base, |m| {
        resolved
            .iter()
            .find(|(r, _)| r.username.eq_ignore_ascii_case(&m.username) && r.domain == m.domain)
            .map(|(_, a)| a.url.clone().unwrap_or_else(|| a.uri.clone()))
    });
    let mut mention_ids: Vec<i64> = resolved.iter().map(|(_, a)| a.id).collect();
    mention_ids.sort_unstable();
    mention_ids.dedup();
    Ok(Rendered {
        content,
        mention_ids,
        tags,
        unresolved,
    })
}

/// The remote account `acct` (`user@domain`, lower case) names, fetched now; `None` when it
/// cannot be found in time (logged, and remembered for a while so that the next status does not
/// wait for it again).
pub(super) async fn resolve_mention(data: &FedData, acct: &str) -> Option<AccountRow> {
    let state: &AppState = data;
    if state.mention_misses.recently_missed(acct) {
        return None;
    }
    let found = tokio::time::timeout(
        MENTION_RESOLVE_TIMEOUT,
        crate::service::resolve::account(data, acct, true),
    )
    .await;
    match found {
        Ok(Ok(Some(a))) => return Some(a),
        Ok(Ok(None)) => tracing::info!(acct, "a mentioned account was not found"),
        Ok(Err(e)) => tracing::warn!(acct, error = %e, "looking up a mentioned account failed"),
        Err(_) => tracing::info!(acct, "looking up a mentioned account took too long"),
    }
    state.mention_misses.missed(acct);
    None
}

/// A direct message must reach someone: when it mentions people and none of them could be found,
/// it is refused rather than stored for nobody.
///
/// Errors: 422 naming the handles.
pub(super) fn ensure_recipients(visibility: &str, rendered: &Rendered) -> AppResult<()> {
    if visibility == "direct" && rendered.mention_ids.is_empty() && !rendered.unresolved.is_empty()
    {
        return Err(AppError::unprocessable(format!(
            "Validation failed: no recipient could be found ({})",
            rendered.unresolved.join(", ")
        )));
    }
    Ok(())
}

pub(super) fn validate_text(
    state: &AppState,
    text: &str,
    spoiler: &str,
    has_media: bool,
) -> AppResult<()> {
    if text.trim().is_empty() && !has_media {
        return Err(AppError::unprocessable(
            "Validation failed: Text can't be blank",
        ));
    }
    let max = state.config.instance.max_characters as usize;
    if text::status_length(text) + spoiler.chars().count() > max {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Text character limit of {max} exceeded"
        )));
    }
    if spoiler.chars().count() > SPOILER_MAX {
        return Err(AppError::unprocessable(
            "Validation failed: Content warning is too long",
        ));
    }
    Ok(())
}

pub(super) fn validate_language(lang: &Option<String>) -> AppResult<()> {
    if let Some(l) = lang
        && !crate::text::is_language(l)
    {
        return Err(AppError::unprocessable(
            "Validation failed: Language is not an ISO 639-1 code",
        ));
    }
    Ok(())
}

/// Posts a status for the signed-in user. Unknown remote mentions are looked up first
/// ([`render_text`]).
///
/// Errors: 422 for empty text without media or poll, text over `instance.max_characters`, an
/// unknown visibility or language, media together with a poll, a direct message none of whose
/// mentions could be found; 404 when replying to a status the author cannot see.
pub async fn create(data: &FedData, author: &CurrentUser, c: CreateStatus) -> AppResult<StatusRow> {
    let state: &AppState = data;
    let account_id = author.account.id;
    if let Some(row) = already_posted(state, account_id, &c).await? {
        return Ok(row);
    }
    // After the idempotency check: a retried request is not a new status.
    state
        .limits
        .statuses_per_account
        .hit(state, &account_id.to_string())
        .await?;
    post(data, author, c).await
}

/// [`create`] without the rate limit, for a scheduled status coming due (its limits were checked
/// when it was scheduled). Honours the idempotency key too.
///
/// Errors: as [`create`].
pub async fn create_unlimited(
    data: &FedData,
    author: &CurrentUser,
    c: CreateStatus,
) -> AppResult<StatusRow> {
    if let Some(row) = already_posted(data, author.account.id, &c).await? {
        return Ok(row);
    }
    post(data, author, c).await
}

/// The status `account_id` already posted with the request's `Idempotency-Key`, if any.
async fn already_posted(
    state: &AppState,
    account_id: i64,
    c: &CreateStatus,
) -> AppResult<Option<StatusRow>> {
    let Some(key) = c.idempotency_key.as_deref() else {
        return Ok(None);
    };
    match store::idempotent_status(&state.db, account_id, key).await? {
        Some(existing) => Ok(store::find(&state.db, existing).await?),
        None => Ok(None),
    }
}

/// What posting checks before anything is stored, for a status scheduled for later: text,
/// language and visibility (media and polls are checked by their own services).
///
/// Errors: 422 as [`create`].
pub fn validate_for_schedule(state: &AppState, c: &CreateStatus, has_media: bool) -> AppResult<()> {
    validate_text(state, &c.text, &c.spoiler_text, has_media)?;
    validate_language(&c.language)?;
    if let Some(v) = &c.visibility
        && !VISIBILITIES.contains(&v.as_str())
    {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Visibility {v:?} is unknown"
        )));
    }
    Ok(())
}

async fn post(data: &FedData, author: &CurrentUser, c: CreateStatus) -> AppResult<StatusRow> {
    let state: &AppState = data;
    let account_id = author.account.id;
    crate::service::polls::ensure_not_with_media(c.poll.is_some(), !c.media_ids.is_empty())?;
    let media = crate::service::media::for_status(state, account_id, &c.media_ids, None).await?;
    if c.short {
        crate::service::shorts::validate(&media)?;
    }
    validate_text(state, &c.text, &c.spoiler_text, !media.is_empty())?;
    validate_language(&c.language)?;
    let mut visibility = c
        .visibility
        .clone()
        .or_else(|| author.user.settings.0.privacy.clone())
        .unwrap_or_else(|| "public".into());
    if !VISIBILITIES.contains(&visibility.as_str()) {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Visibility {visibility:?} is unknown"
        )));
    }
    // Checked before anything is looked up; applied once the quote fixed the visibility.
    let asked_policy = crate::service::quotes::Policy::parse(c.quote_approval_policy.as_deref())?;
    let parent = match c.in_reply_to_id {
        Some(pid) => Some(
            store::find_visible(&state.db, pid, account_id)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let mut rendered = render_text(data, &c.text).await?;
    if let Some(p) = &parent {
        let kept =
            crate::service::conversations::kept_participants(state, p, &visibility, account_id)
                .await?;
        rendered.mention_ids.extend(kept);
        rendered.mention_ids.sort_unstable();
        rendered.mention_ids.dedup();
    }
    ensure_recipients(&visibility, &rendered)?;
    let quote = match c.quoted_status_id {
        Some(q) => Some(
            crate::service::quotes::for_new_status(
                state,
                &author.account,
                q,
                &mut visibility,
                &rendered.mention_ids,
            )
            .await?,
        ),
        None => None,
    };
    let quote_approval_policy = crate::service::quotes::Policy::for_visibility(
        &visibility,
        asked_policy,
        author.user.settings.0.quote_policy.as_deref(),
    );
    let id = ids::new_id();
    let base = state.config.base_url();
    let uri = format!("{}/statuses/{id}", author.account.uri);
    let url = format!("{base}/@{}/{id}", author.account.username);
    let language = c
        .language
        .clone()
        .or_else(|| author.user.settings.0.language.clone());
    let new = NewStatus {
        id,
        uri: &uri,
        url: Some(&url),
        account_id,
        in_reply_to_id: parent.as_ref().map(|p| p.id),
        in_reply_to_account_id: parent.as_ref().map(|p| p.account_id),
        reblog_of_id: None,
        conversation_id: parent.as_ref().map_or(id, |p| p.conversation_id),
        text: &c.text,
        content: &rendered.content,
        spoiler_text: c.spoiler_text.trim(),
        visibility: &visibility,
        sensitive: c.sensitive || !c.spoiler_text.trim().is_empty(),
        language: language.as_deref(),
        local: true,
        application_id: c.application_id,
        created_at: ids::time_of(id),
        in_reply_to_story_id: c.in_reply_to_story.as_ref().map(|s| s.0),
        short: c.short,
        quote_approval_policy,
    };
    let attachments = crate::service::media::ap_attachments(state, &media);
    let poll = c.poll.as_ref().map(crate::service::polls::PollDraft::local);
    let poll_row = poll.as_ref().map(|p| p.row(id, account_id));
    let outgoing = outgoing_create(
        state,
        &author.account,
        &new,
        parent.as_ref(),
        &rendered.mention_ids,
        &rendered.tags,
        &attachments,
        poll_row.as_ref(),
        quote
            .as_ref()
            .map(|q| (q.new.quoted_uri.as_str(), q.stamp.as_deref())),
    )
    .await?;
    // A story reply answers the story, not a status.
    let outgoing = match (outgoing, &c.in_reply_to_story) {
        (Some(mut out), Some((_, story_uri))) => {
            out.activity["object"]["inReplyTo"] = serde_json::json!(story_uri);
            Some(out)
        }
        (out, _) => out,
    };
    let media_ids: Vec<i64> = media.iter().map(|m| m.id).collect();
    let row = insert_and_distribute(
        state,
        &new,
        &rendered.mention_ids,
        &rendered.tags,
        Origin::Local {
            idempotency_key: c.idempotency_key.as_deref(),
            outgoing,
        },
        StatusMedia::Uploaded(&media_ids),
        poll,
        quote.clone(),
    )
    .await?;
    if quote.is_some() {
        crate::service::quotes::after_local_post(state, &row).await?;
    }
    if row.short {
        crate::service::shorts::invalidate(state).await;
    }
    Ok(row)
}
