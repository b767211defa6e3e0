//! Posting a status through the client API (`POST /api/v1/statuses`): text, mentions, media, and
//! the one write that stores it with its feed entries and notifications.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::{AppError, AppResult};
use crate::realtime::{Event, StreamKey};
use crate::service::activitypub::context::FedData;
use crate::service::notifications::{self, Pending};
use crate::service::oauth::CurrentUser;
use crate::service::render;
use crate::state::AppState;
use crate::storage::accounts::AccountRow;
use crate::storage::statuses::{self as store, Counter, NewStatus, StatusRow};
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

/// Publishes a new or edited status: home streams of `feed` readers, the `list` streams of lists
/// showing it, and public and hashtag streams when it is a public post.
pub(super) async fn publish_status(
    state: &AppState,
    row: &StatusRow,
    feed: &[i64],
    event: &'static str,
    tags: &[String],
) {
    if !state.hub.has_listeners() {
        return;
    }
    let status = match render::status(state, None, row.clone()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = ?e, "could not render a status for streaming");
            return;
        }
    };
    let Ok(payload) = serde_json::to_string(&status) else {
        return;
    };
    let mut keys: Vec<StreamKey> = feed.iter().map(|a| StreamKey::User(*a)).collect();
    if row.visibility == "public" && row.reblog_of_id.is_none() {
        keys.push(StreamKey::Public);
        keys.push(if row.local {
            StreamKey::PublicLocal
        } else {
            StreamKey::PublicRemote
        });
        for t in tags {
            let t = t.to_lowercase();
            keys.push(StreamKey::Hashtag(t.clone()));
            if row.local {
                keys.push(StreamKey::HashtagLocal(t));
            }
        }
    }
    // Direct messages reach the `direct` stream as `conversation` events (service::conversations).
    if row.visibility != "direct" {
        match crate::storage::lists::showing(&state.db, row.id).await {
            Ok(lists) => keys.extend(
                lists
                    .into_iter()
                    .map(|(id, owner)| StreamKey::List { id, owner }),
            ),
            Err(e) => tracing::warn!(error = %e, "could not find the lists of a status"),
        }
    }
    state.hub.publish(Event {
        keys,
        event,
        payload,
        author_id: Some(row.account_id),
    });
}

/// Inserts a status with its mentions and tags, fans it out to home feeds and creates mention and
/// subscriber notifications, all in one transaction; streams after commit. Shared by local posting
/// and (later) incoming federation.
/// The attachments a new status gets: uploads of its author, or rows for a remote Note's media.
pub enum StatusMedia<'a> {
    Uploaded(&'a [i64]),
    Remote(&'a [crate::storage::media::NewMedia]),
}

/// [`StatusMedia`] with its data owned, to move into the write queue (`Db::write`).
pub(super) enum OwnedMedia {
    Uploaded(Vec<i64>),
    Remote(Vec<crate::storage::media::NewMedia>),
}

impl OwnedMedia {
    fn as_media(&self) -> StatusMedia<'_> {
        match self {
            OwnedMedia::Uploaded(ids) => StatusMedia::Uploaded(ids),
            OwnedMedia::Remote(rows) => StatusMedia::Remote(rows),
        }
    }
}

impl StatusMedia<'_> {
    fn owned(&self) -> OwnedMedia {
        match self {
            StatusMedia::Uploaded(ids) => OwnedMedia::Uploaded(ids.to_vec()),
            StatusMedia::Remote(rows) => OwnedMedia::Remote(rows.to_vec()),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            StatusMedia::Uploaded(ids) => ids.is_empty(),
            StatusMedia::Remote(rows) => rows.is_empty(),
        }
    }

    /// Gives `status_id` these attachments in place of any it had (in its transaction).
    pub(super) async fn apply(
        &self,
        state: &AppState,
        tx: &mut crate::storage::Tx,
        status_id: i64,
    ) -> AppResult<()> {
        match self {
            StatusMedia::Uploaded(ids) => crate::storage::media::attach(tx, status_id, ids).await?,
            StatusMedia::Remote(rows) => {
                // Earlier attachments are left unattached; the cleanup job deletes them.
                crate::storage::media::attach(tx, status_id, &[]).await?;
                let prefetch = state.config.media.remote_prefetch;
                crate::service::media::insert_remote(tx, status_id, rows, prefetch).await?;
            }
        }
        Ok(())
    }
}

/// Where a status being stored comes from, and what is written with it.
pub(super) enum Origin<'a> {
    /// Posted here: the request's `Idempotency-Key`, and the activity for other servers.
    Local {
        idempotency_key: Option<&'a str>,
        outgoing: Option<Outgoing>,
    },
    /// From another server; when it arrived in an inbox activity, that activity's receipt (see
    /// `storage::deliveries::record_receipt`), written in the same transaction.
    Remote { receipt: Option<&'a str> },
}

pub(super) async fn insert_and_distribute(
    state: &AppState,
    new: &NewStatus<'_>,
    mention_ids: &[i64],
    tags: &[String],
    origin: Origin<'_>,
    media: StatusMedia<'_>,
    poll: Option<crate::service::polls::PollDraft>,
) -> AppResult<StatusRow> {
    let (idempotency_key, outgoing, receipt) = match origin {
        Origin::Local {
            idempotency_key,
            outgoing,
        } => (idempotency_key, outgoing, None),
        Origin::Remote { receipt } => (None, None, receipt),
    };
    let sends = outgoing.is_some();
    let write = StatusWrite {
        state: state.clone(),
        new: new.to_buf(),
        mention_ids: mention_ids.to_vec(),
        tags: tags.to_vec(),
        idempotency_key: idempotency_key.map(str::to_owned),
        outgoing,
        receipt: receipt.map(str::to_owned),
        media: media.owned(),
        poll,
    };
    let written = state.db.write(write).await?;
    if sends {
        state.delivery_wakeup.notify_one();
    }
    publish_status(state, &written.row, &written.feed, "update", tags).await;
    notifications::publish(state, &written.pending).await;
    crate::service::conversations::publish(state, &written.conversations).await;
    Ok(written.row)
}

/// What `insert_and_distribute` writes in its transaction, owned so that a write queue's worker
/// can run it (`Db::write`).
pub(super) struct StatusWrite {
    state: AppState,
    new: store::NewStatusBuf,
    mention_ids: Vec<i64>,
    tags: Vec<String>,
    idempotency_key: Option<String>,
    outgoing: Option<Outgoing>,
    receipt: Option<String>,
    media: OwnedMedia,
    poll: Option<crate::service::polls::PollDraft>,
}

/// What the transaction wrote that is announced after it commits.
pub(super) struct Written {
    row: StatusRow,
    /// Home feeds the status went to.
    feed: Vec<i64>,
    pending: Vec<Pending>,
    conversations: Vec<crate::storage::conversations::ConversationRow>,
}

impl crate::storage::writer::Write for StatusWrite {
    type Output = Written;
    type Error = AppError;

    fn write<'t>(
        &'t self,
        tx: &'t mut crate::storage::Tx,
    ) -> futures_util::future::BoxFuture<'t, AppResult<Written>> {
        Box::pin(async move {
            let mut written = Self::write_all(&[self], tx).await?;
            written
                .pop()
                .ok_or_else(|| anyhow::anyhow!("a status write wrote nothing").into())
        })
    }

    fn write_many<'t>(
        batch: &'t [&'t Self],
        tx: &'t mut crate::storage::Tx,
    ) -> futures_util::future::BoxFuture<'t, AppResult<Vec<Written>>> {
        Box::pin(Self::write_all(batch, tx))
    }
}

impl StatusWrite {
    /// Writes `batch` with one statement per table for what most statuses need (the rows, their
    /// authors' counts, mentions, the authors' notify subscribers, home feeds, notifications,
    /// inbox receipts) and statements of their own for the rest (media, deliveries, cards,
    /// conversations, hashtags, reply counts).
    async fn write_all(
        batch: &[&StatusWrite],
        tx: &mut crate::storage::Tx,
    ) -> AppResult<Vec<Written>> {
        let news: Vec<NewStatus<'_>> = batch.iter().map(|w| w.new.as_new()).collect();
        let mut rows = store::insert_many(tx, &news).await?;
        let mentions: Vec<(i64, i64)> = batch
            .iter()
            .zip(&news)
            .flat_map(|(w, new)| w.mention_ids.iter().map(|m| (new.id, *m)))
            .collect();
        store::insert_mentions_many(tx, &mentions).await?;
        let mut tag_ids: Vec<Vec<i64>> = Vec::with_capacity(batch.len());
        let mut conversations: Vec<Vec<crate::storage::conversations::ConversationRow>> =
            Vec::with_capacity(batch.len());
        for ((w, new), row) in batch.iter().zip(&news).zip(rows.iter_mut()) {
            let media = w.media.as_media();
            if !media.is_empty() {
                media.apply(&w.state, tx, new.id).await?;
                row.has_media = true;
            }
            if let Some(poll) = &w.poll {
                crate::service::polls::insert(tx, poll, new.id, new.account_id).await?;
                row.poll_id = Some(poll.id);
            }
            if let Some(out) = &w.outgoing {
                crate::service::delivery::enqueue(
                    tx,
                    &out.activity,
                    new.account_id,
                    &out.inboxes,
                    Some(new.id),
                )
                .await?;
            }
            if new.visibility != "direct" && new.reblog_of_id.is_none() {
                crate::service::cards::queue(tx, new.id, new.content).await?;
            }
            conversations.push(
                if new.visibility == "direct" && new.reblog_of_id.is_none() {
                    crate::service::conversations::on_direct_status(
                        tx,
                        new.id,
                        new.conversation_id,
                        new.account_id,
                        &w.mention_ids,
                        new.content,
                    )
                    .await?
                } else {
                    Vec::new()
                },
            );
            if new.reblog_of_id.is_none() {
                let text = store::indexed_text(new.content, new.spoiler_text);
                store::index_search(tx, new.id, &text).await?;
            }
            tag_ids.push(store::attach_tags(tx, new.id, &w.tags).await?);
            if let Some(parent) = new.in_reply_to_id {
                store::adjust_counter(tx, parent, Counter::Replies, 1).await?;
            }
        }
        // Direct messages go to the mentioned accounts that follow the author; the rest to the
        // author's followers, and public posts to followers of their hashtags too.
        let fan_outs: Vec<store::FanOut<'_>> = news
            .iter()
            .zip(&tag_ids)
            .map(|(new, tags)| store::FanOut {
                status_id: new.id,
                author: new.account_id,
                is_reblog: new.reblog_of_id.is_some(),
                to_followers: new.visibility != "direct",
                tag_ids: if new.visibility == "public" {
                    tags
                } else {
                    &[]
                },
                reply_to_other: new.in_reply_to_account_id.filter(|a| *a != new.account_id),
            })
            .collect();
        let mut feeds: Vec<(i64, i64)> = store::fan_out_many(tx, &fan_outs).await?;
        for new in news.iter().filter(|n| n.visibility == "direct") {
            let more = store::fan_out_to_mentioned_followers(tx, new.id, new.account_id).await?;
            feeds.extend(more.into_iter().map(|a| (a, new.id)));
        }
        // Followers who asked to be notified of the authors' posts (not of direct ones).
        let authors: Vec<i64> = news
            .iter()
            .filter(|n| n.visibility != "direct")
            .map(|n| n.account_id)
            .collect();
        let mut subscribers_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for (author, follower) in
            crate::storage::relationships::notify_subscribers(tx, &authors).await?
        {
            subscribers_of.entry(author).or_default().push(follower);
        }
        let mut wanted: Vec<crate::storage::notifications::NewNotification<'_>> = Vec::new();
        for (w, new) in batch.iter().zip(&news) {
            let about = crate::storage::notifications::About {
                status_id: Some(new.id),
                ..Default::default()
            };
            let notify = |account_id, kind| crate::storage::notifications::NewNotification {
                account_id,
                from: new.account_id,
                kind,
                about,
            };
            wanted.extend(w.mention_ids.iter().map(|m| notify(*m, "mention")));
            if new.visibility != "direct" {
                wanted.extend(
                    subscribers_of
                        .get(&new.account_id)
                        .into_iter()
                        .flatten()
                        .filter(|f| !w.mention_ids.contains(f))
                        .map(|f| notify(*f, "status")),
                );
            }
        }
        let made = notifications::create_many(tx, &wanted).await?;
        for (w, new) in batch.iter().zip(&news) {
            if let Some(key) = &w.idempotency_key {
                store::remember_idempotency_key(tx, new.account_id, key, new.id).await?;
            }
        }
        let receipts: Vec<&str> = batch.iter().filter_map(|w| w.receipt.as_deref()).collect();
        crate::storage::deliveries::record_receipts_in(tx, &receipts).await?;
        // What each status's caller streams once the transaction commits.
        let mut feed_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for (account, status) in feeds {
            feed_of.entry(status).or_default().push(account);
        }
        let mut pending_of: HashMap<i64, Vec<Pending>> = HashMap::new();
        for (n, p) in wanted.iter().zip(made) {
            if let (Some(status), Some(p)) = (n.about.status_id, p) {
                pending_of.entry(status).or_default().push(p);
            }
        }
        Ok(rows
            .into_iter()
            .zip(conversations)
            .map(|(row, conversations)| Written {
                feed: feed_of.remove(&row.id).unwrap_or_default(),
                pending: pending_of.remove(&row.id).unwrap_or_default(),
                row,
                conversations,
            })
            .collect())
    }
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
    if let Some(key) = c.idempotency_key.as_deref()
        && let Some(existing) = store::idempotent_status(&state.db, account_id, key).await?
        && let Some(row) = store::find(&state.db, existing).await?
    {
        return Ok(row);
    }
    // After the idempotency check: a retried request is not a new status.
    state
        .limits
        .statuses_per_account
        .check(&account_id.to_string())?;
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
    let state: &AppState = data;
    if let Some(key) = c.idempotency_key.as_deref()
        && let Some(existing) = store::idempotent_status(&state.db, author.account.id, key).await?
        && let Some(row) = store::find(&state.db, existing).await?
    {
        return Ok(row);
    }
    post(data, author, c).await
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
    let visibility = c
        .visibility
        .clone()
        .or_else(|| author.user.settings.0.privacy.clone())
        .unwrap_or_else(|| "public".into());
    if !VISIBILITIES.contains(&visibility.as_str()) {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Visibility {visibility:?} is unknown"
        )));
    }
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
    )
    .await?;
    if row.short {
        crate::service::shorts::invalidate(state).await;
    }
    Ok(row)
}
