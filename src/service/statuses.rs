//! Statuses: posting, editing, deleting, boosting, favouriting, bookmarking, pinning, muting a
//! thread, and reading threads. Every change inserts its rows, feed entries and notifications in
//! one transaction and streams after commit, whoever caused it.
//!
//! Source: docs.joinmastodon.org/methods/statuses/.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;

use crate::api_types::status::{Context, Status, StatusEdit, StatusSource};
use crate::error::{AppError, AppResult};
use crate::federation::context::FedData;
use crate::realtime::{Event, StreamKey};
use crate::service::notifications::{self, Pending};
use crate::service::oauth::CurrentUser;
use crate::service::{render, text};
use crate::state::AppState;
use crate::storage::accounts::AccountRow;
use crate::storage::statuses::{self as store, Counter, NewStatus, StatusRow};
use crate::storage::{accounts, ids};

pub const VISIBILITIES: &[&str] = &["public", "unlisted", "private", "direct"];

/// Longest content warning, in characters.
const SPOILER_MAX: usize = 500;
/// How many ancestors and descendants a thread shows.
const ANCESTORS_MAX: usize = 40;
const DESCENDANTS_MAX: i64 = 60;
/// Pins per account.
const PINS_MAX: i64 = 5;

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
    pub has_poll: bool,
    pub scheduled_at: Option<String>,
    pub idempotency_key: Option<String>,
    pub application_id: Option<i64>,
    /// A reply to a story: its row ID and ActivityPub id (the Note's `inReplyTo`).
    pub in_reply_to_story: Option<(i64, String)>,
    /// Post as a short (exactly one vertical video).
    pub short: bool,
}

/// Longest wait for one unknown mention's WebFinger lookup and actor fetch when a status is posted.
const MENTION_RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a mentioned handle that could not be looked up is not asked for again.
pub const MENTION_MISS_TTL: Duration = Duration::from_secs(300);

/// Most unknown remote handles one status looks up over the network; more stay plain text.
pub const MAX_RESOLVED_MENTIONS: usize = 20;

/// Mentions resolved to account IDs, and the rendered HTML.
struct Rendered {
    content: String,
    mention_ids: Vec<i64>,
    tags: Vec<String>,
    /// Mentions that name nobody found, as written (`@bob@other.example`); they stay plain text.
    unresolved: Vec<String>,
}

/// Renders status text, resolving `@user` (local) and `@user@domain` to profile links. A remote
/// handle not known here is looked up as Mastodon does — WebFinger, then the actor document,
/// through the egress guard — all of a status's unknown handles at once, each for at most
/// [`MENTION_RESOLVE_TIMEOUT`]; a handle that failed is not asked again for a while
/// (`AppState::mention_misses`). Mentions that name nobody stay plain text.
async fn render_text(data: &FedData, raw: &str) -> AppResult<Rendered> {
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
async fn resolve_mention(data: &FedData, acct: &str) -> Option<AccountRow> {
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
fn ensure_recipients(visibility: &str, rendered: &Rendered) -> AppResult<()> {
    if visibility == "direct" && rendered.mention_ids.is_empty() && !rendered.unresolved.is_empty()
    {
        return Err(AppError::unprocessable(format!(
            "Validation failed: no recipient could be found ({})",
            rendered.unresolved.join(", ")
        )));
    }
    Ok(())
}

fn validate_text(state: &AppState, text: &str, spoiler: &str, has_media: bool) -> AppResult<()> {
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

fn validate_language(lang: &Option<String>) -> AppResult<()> {
    if let Some(l) = lang
        && !(l.len() == 2 && l.chars().all(|c| c.is_ascii_lowercase()))
    {
        return Err(AppError::unprocessable(
            "Validation failed: Language is not an ISO 639-1 code",
        ));
    }
    Ok(())
}

/// Publishes a new or edited status: home streams of `feed` readers, the `list` streams of lists
/// showing it, and public and hashtag streams when it is a public post.
async fn publish_status(
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
enum OwnedMedia {
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
    async fn apply(
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
enum Origin<'a> {
    /// Posted here: the request's `Idempotency-Key`, and the activity for other servers.
    Local {
        idempotency_key: Option<&'a str>,
        outgoing: Option<Outgoing>,
    },
    /// From another server; when it arrived in an inbox activity, that activity's receipt (see
    /// `storage::deliveries::record_receipt`), written in the same transaction.
    Remote { receipt: Option<&'a str> },
}

async fn insert_and_distribute(
    state: &AppState,
    new: &NewStatus<'_>,
    mention_ids: &[i64],
    tags: &[String],
    origin: Origin<'_>,
    media: StatusMedia<'_>,
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
struct StatusWrite {
    state: AppState,
    new: store::NewStatusBuf,
    mention_ids: Vec<i64>,
    tags: Vec<String>,
    idempotency_key: Option<String>,
    outgoing: Option<Outgoing>,
    receipt: Option<String>,
    media: OwnedMedia,
}

/// What the transaction wrote that is announced after it commits.
struct Written {
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
/// Errors: 422 for empty text without media, text over `instance.max_characters`, an unknown
/// visibility or language, media or polls (not supported yet), `scheduled_at`, a direct message
/// none of whose mentions could be found; 404 when replying to a status the author cannot see.
pub async fn create(data: &FedData, author: &CurrentUser, c: CreateStatus) -> AppResult<StatusRow> {
    let state: &AppState = data;
    let account_id = author.account.id;
    if let Some(key) = c.idempotency_key.as_deref()
        && let Some(existing) = store::idempotent_status(&state.db, account_id, key).await?
        && let Some(row) = store::find(&state.db, existing).await?
    {
        return Ok(row);
    }
    if c.scheduled_at.is_some() {
        return Err(AppError::unprocessable(
            "Scheduled statuses are not supported yet",
        ));
    }
    // After the idempotency check: a retried request is not a new status.
    state
        .limits
        .statuses_per_account
        .check(&account_id.to_string())?;
    if c.has_poll {
        return Err(AppError::unprocessable("Polls are not supported yet"));
    }
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
    let outgoing = outgoing_create(
        state,
        &author.account,
        &new,
        parent.as_ref(),
        &rendered.mention_ids,
        &rendered.tags,
        &attachments,
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
    )
    .await?;
    if row.short {
        crate::service::shorts::invalidate(state).await;
    }
    Ok(row)
}

/// An activity to queue with a change, and the inboxes it goes to.
pub struct Outgoing {
    pub activity: serde_json::Value,
    pub inboxes: Vec<String>,
}

/// Inboxes on other servers that should get a status: the author's remote followers (unless it is
/// direct) and the remote accounts it mentions; shared inboxes where servers have them.
async fn remote_audience(
    state: &AppState,
    author_id: i64,
    visibility: &str,
    mentions: &[crate::storage::accounts::AccountRow],
) -> AppResult<Vec<String>> {
    let mut inboxes = if visibility == "direct" {
        Vec::new()
    } else {
        crate::storage::relationships::remote_follower_inboxes(&state.db, author_id).await?
    };
    // Nothing goes to suspended accounts (their follows ended with the suspension).
    for m in mentions
        .iter()
        .filter(|m| !m.is_local() && m.suspended_at.is_none())
    {
        if let Some(i) = m.shared_inbox_url.clone().or_else(|| m.inbox_url.clone()) {
            inboxes.push(i);
        }
    }
    inboxes.sort();
    inboxes.dedup();
    Ok(inboxes)
}

/// The `Create` of a new local status, built before its transaction (it must not read rows that
/// are not committed yet), or `None` when no other server needs it.
async fn outgoing_create(
    state: &AppState,
    author: &crate::storage::accounts::AccountRow,
    new: &NewStatus<'_>,
    parent: Option<&StatusRow>,
    mention_ids: &[i64],
    tags: &[String],
    attachments: &[crate::federation::protocol::note::Attachment],
) -> AppResult<Option<Outgoing>> {
    let row = StatusRow {
        id: new.id,
        uri: new.uri.to_string(),
        url: new.url.map(String::from),
        account_id: new.account_id,
        in_reply_to_id: new.in_reply_to_id,
        in_reply_to_account_id: new.in_reply_to_account_id,
        reblog_of_id: None,
        conversation_id: new.conversation_id,
        text: new.text.to_string(),
        content: new.content.to_string(),
        spoiler_text: new.spoiler_text.to_string(),
        visibility: new.visibility.to_string(),
        sensitive: new.sensitive,
        language: new.language.map(String::from),
        local: true,
        application_id: new.application_id,
        replies_count: 0,
        reblogs_count: 0,
        favourites_count: 0,
        created_at: new.created_at,
        edited_at: None,
        has_media: !attachments.is_empty(),
        short: new.short,
        views_count: 0,
        completed_views_count: 0,
        card_id: None,
    };
    outgoing_note(
        state,
        author,
        &row,
        parent,
        mention_ids,
        tags,
        attachments,
        crate::federation::objects::create,
    )
    .await
}

/// A Note activity (`wrap` makes the `Create` or `Update`) for a local status as given in `row`,
/// addressed to its remote audience; `None` when no other server needs it.
async fn outgoing_note(
    state: &AppState,
    author: &crate::storage::accounts::AccountRow,
    row: &StatusRow,
    parent: Option<&StatusRow>,
    mention_ids: &[i64],
    tags: &[String],
    attachments: &[crate::federation::protocol::note::Attachment],
    wrap: fn(&crate::federation::protocol::note::Note) -> serde_json::Value,
) -> AppResult<Option<Outgoing>> {
    let mentions = accounts::find_accounts(&state.db, mention_ids).await?;
    let inboxes = remote_audience(state, author.id, &row.visibility, &mentions).await?;
    if inboxes.is_empty() {
        return Ok(None);
    }
    crate::federation::keys::public_key_pem(state, author).await?;
    let root_uri = match parent {
        Some(p) => store::find(&state.db, p.conversation_id)
            .await?
            .map_or_else(|| p.uri.clone(), |r| r.uri),
        None if row.conversation_id == row.id => row.uri.clone(),
        None => store::find(&state.db, row.conversation_id)
            .await?
            .map_or_else(|| row.uri.clone(), |r| r.uri),
    };
    let lowered: Vec<String> = tags.iter().map(|t| t.to_lowercase()).collect();
    let note = crate::federation::objects::note(
        &state.config,
        row,
        &crate::federation::objects::NoteParts {
            author,
            mentions: &mentions,
            tags: &lowered,
            in_reply_to_uri: parent.map(|p| p.uri.as_str()),
            conversation_uri: &format!("{root_uri}#context"),
            attachments,
        },
    );
    Ok(Some(Outgoing {
        activity: wrap(&note),
        inboxes,
    }))
}

/// The status if `viewer` (`None`: anonymous) may see it.
///
/// Errors: 404 when it does not exist or is not visible (never revealing which).
pub async fn visible(state: &AppState, viewer: Option<i64>, id: &str) -> AppResult<StatusRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    store::find_visible(&state.db, id, viewer.unwrap_or(store::ANONYMOUS))
        .await?
        .ok_or(AppError::NotFound)
}

fn ensure_owner(row: &StatusRow, user: &CurrentUser) -> AppResult<()> {
    if row.account_id != user.account.id {
        return Err(AppError::forbidden("This action is not allowed"));
    }
    Ok(())
}

/// Deletes one of the user's statuses; returns it with its source `text` (for "delete and
/// redraft"). Boosts of it go too; readers' streams get `delete` events.
///
/// Errors: 404 when not visible; 403 when it is someone else's.
pub async fn delete(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Status> {
    let row = visible(state, Some(user.account.id), id).await?;
    ensure_owner(&row, user)?;
    let mut rendered = render::status(state, Some(user.account.id), row.clone()).await?;
    rendered.text = Some(row.text.clone());
    let outgoing = if row.reblog_of_id.is_none() {
        let facts = store::facts_of(&state.db, store::ANONYMOUS, &[row.id]).await?;
        let mention_ids: Vec<i64> = facts.mentions.iter().map(|(_, a)| *a).collect();
        let mentions = accounts::find_accounts(&state.db, &mention_ids).await?;
        let inboxes = remote_audience(state, row.account_id, &row.visibility, &mentions).await?;
        (!inboxes.is_empty()).then(|| Outgoing {
            activity: serde_json::json!({
                "id": format!("{}#delete", row.uri),
                "type": "Delete",
                "actor": user.account.uri,
                "to": [crate::federation::protocol::PUBLIC],
                "object": { "id": row.uri, "type": "Tombstone" },
            }),
            inboxes,
        })
    } else {
        None
    };
    remove_status(state, &row, outgoing).await?;
    Ok(rendered)
}

/// A new version of a status: a local edit or a remote `Update`.
struct Revision<'a> {
    /// Source text (empty for remote statuses, whose source we do not have).
    text: &'a str,
    content: &'a str,
    spoiler_text: &'a str,
    sensitive: bool,
    language: Option<&'a str>,
    at: chrono::DateTime<Utc>,
    mention_ids: &'a [i64],
    tags: &'a [String],
    /// New attachments, when they change.
    media: Option<StatusMedia<'a>>,
}

/// Applies a revision in one transaction — the edit history (keeping the original at the first
/// edit), content, mentions, hashtags, `update` notifications to those who boosted it, and the
/// outgoing activity if any — then streams `status.update`. Shared by local edits and incoming
/// `Update`s. Returns the updated row.
async fn apply_revision(
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
    store::clear_mentions_and_tags(&mut tx, row.id).await?;
    store::insert_mentions(&mut tx, row.id, rev.mention_ids).await?;
    store::attach_tags(&mut tx, row.id, rev.tags).await?;
    if row.visibility == "direct" {
        let text = crate::service::text::html_to_text(rev.content);
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
    Ok(updated)
}

/// Removes a status with its boosts (counters adjusted, feeds emptied) in one transaction with the
/// outgoing activity if any, then streams `delete` to everyone who had them. Shared by local
/// deletions and incoming `Delete`s.
async fn remove_status(
    state: &AppState,
    row: &StatusRow,
    outgoing: Option<Outgoing>,
) -> AppResult<()> {
    let mut gone = vec![(row.clone(), store::feed_holders(&state.db, row.id).await?)];
    for b in store::boosts_of(&state.db, row.id).await? {
        let holders = store::feed_holders(&state.db, b.id).await?;
        gone.push((b, holders));
    }
    let mut tx = state.db.begin().await?;
    if let Some(parent) = row.in_reply_to_id {
        store::adjust_counter(&mut tx, parent, Counter::Replies, -1).await?;
    }
    if let Some(orig) = row.reblog_of_id {
        store::adjust_counter(&mut tx, orig, Counter::Reblogs, -1).await?;
    }
    if row.visibility == "direct" {
        crate::storage::conversations::remove_status(&mut tx, row.id).await?;
    }
    store::delete(&mut tx, row.id).await?;
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
    tx.commit().await?;
    if outgoing.is_some() {
        state.delivery_wakeup.notify_one();
    }
    for (s, holders) in gone {
        publish_delete(state, &s, &holders);
    }
    Ok(())
}

/// Removes every status of an account (a suspension), newest first, each as a delete would: boosts
/// of it, thread counters and readers' streams follow. Nothing is sent to other servers: the
/// account's own `Delete` covers them. Returns how many went.
pub async fn remove_all_of(state: &AppState, account_id: i64) -> AppResult<usize> {
    let mut gone = 0;
    loop {
        let ids = store::ids_of_account(&state.db, account_id, 200).await?;
        if ids.is_empty() {
            return Ok(gone);
        }
        for id in ids {
            // Read each one afresh: removing a status removes its boosts, which may be later in
            // this batch (the account's boosts of its own posts), and counters must move once.
            if let Some(row) = store::find(&state.db, id).await? {
                remove_status(state, &row, None).await?;
                gone += 1;
            }
        }
    }
}

fn publish_delete(state: &AppState, row: &StatusRow, holders: &[i64]) {
    let mut keys: Vec<StreamKey> = holders.iter().map(|a| StreamKey::User(*a)).collect();
    if row.visibility == "public" {
        keys.extend([
            StreamKey::Public,
            if row.local {
                StreamKey::PublicLocal
            } else {
                StreamKey::PublicRemote
            },
        ]);
    }
    state.hub.publish(Event {
        keys,
        event: "delete",
        payload: row.id.to_string(),
        author_id: Some(row.account_id),
    });
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
    pub has_poll: bool,
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
    if e.has_poll {
        return Err(AppError::unprocessable("Polls are not supported yet"));
    }
    let media = match &e.media_ids {
        Some(ids) => {
            crate::service::media::for_status(state, user.account.id, ids, Some(row.id)).await?
        }
        None => crate::storage::media::of_statuses(&state.db, &[row.id]).await?,
    };
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
    let outgoing = outgoing_note(
        state,
        &user.account,
        &edited,
        parent.as_ref(),
        &rendered.mention_ids,
        &rendered.tags,
        &crate::service::media::ap_attachments(state, &media),
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

/// Ancestors (up to 40, oldest first) and descendants (up to 60) the viewer may see.
pub async fn context(state: &AppState, viewer: Option<i64>, id: &str) -> AppResult<Context> {
    let row = visible(state, viewer, id).await?;
    let v = viewer.unwrap_or(store::ANONYMOUS);
    let mut ancestors = Vec::new();
    let mut next = row.in_reply_to_id;
    while let Some(pid) = next {
        if ancestors.len() >= ANCESTORS_MAX {
            break;
        }
        match store::find_visible(&state.db, pid, v).await? {
            Some(p) => {
                next = p.in_reply_to_id;
                ancestors.push(p);
            }
            None => break,
        }
    }
    ancestors.reverse();
    let descendants = store::descendants(&state.db, row.id, v, DESCENDANTS_MAX).await?;
    Ok(Context {
        ancestors: render::statuses(state, viewer, ancestors).await?,
        descendants: render::statuses(state, viewer, descendants).await?,
    })
}

/// Favourites a status (idempotent) and notifies its author.
pub async fn favourite(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    on: bool,
) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    let target = row.reblog_of_id.unwrap_or(row.id);
    let row = if target != row.id {
        store::find(&state.db, target)
            .await?
            .ok_or(AppError::NotFound)?
    } else {
        row
    };
    let author = accounts::find_account(&state.db, row.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !author.is_local() {
        crate::federation::keys::public_key_pem(state, &user.account).await?;
    }
    let mut tx = state.db.begin().await?;
    let mut pending = Vec::new();
    let mut sent = false;
    if on {
        if store::add_action(&mut tx, "favourites", me, row.id).await? {
            if let Some(inbox) = author.inbox_url.clone().filter(|_| !author.is_local()) {
                let like = crate::federation::objects::like(&user.account.uri, row.id, &row.uri);
                crate::service::delivery::enqueue(&mut tx, &like, me, &[inbox], None).await?;
                sent = true;
            }
            store::adjust_counter(&mut tx, row.id, Counter::Favourites, 1).await?;
            pending.extend(
                notifications::create(&mut tx, row.account_id, me, "favourite", Some(row.id))
                    .await?,
            );
        }
    } else if store::remove_action(&mut tx, "favourites", me, row.id).await? {
        store::adjust_counter(&mut tx, row.id, Counter::Favourites, -1).await?;
        if let Some(inbox) = author.inbox_url.clone().filter(|_| !author.is_local()) {
            let like = crate::federation::objects::like(&user.account.uri, row.id, &row.uri);
            let undo = crate::federation::objects::undo(&user.account.uri, like);
            crate::service::delivery::enqueue(&mut tx, &undo, me, &[inbox], None).await?;
            sent = true;
        }
    }
    tx.commit().await?;
    if sent {
        state.delivery_wakeup.notify_one();
    }
    notifications::publish(state, &pending).await;
    let fresh = store::find(&state.db, row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    render::status(state, Some(me), fresh).await
}

/// Boosts a public or unlisted status (idempotent: boosting twice returns the same boost), with
/// visibility `public`, `unlisted` or `private`; returns the boost wrapping the original.
///
/// Errors: 404 when not visible; 422 for private or direct statuses of others.
pub async fn reblog(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    visibility: Option<&str>,
) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    let orig = match row.reblog_of_id {
        Some(o) => store::find(&state.db, o).await?.ok_or(AppError::NotFound)?,
        None => row,
    };
    let allowed = matches!(orig.visibility.as_str(), "public" | "unlisted")
        || (orig.visibility == "private" && orig.account_id == me);
    if !allowed {
        return Err(AppError::unprocessable(
            "Validation failed: This status cannot be boosted",
        ));
    }
    if let Some(existing) = store::find_reblog(&state.db, me, orig.id).await? {
        return render::status(state, Some(me), existing).await;
    }
    let vis = visibility.unwrap_or("public");
    if !matches!(vis, "public" | "unlisted" | "private") {
        return Err(AppError::unprocessable(
            "Validation failed: Visibility must be public, unlisted or private",
        ));
    }
    // Boosting one's own followers-only post keeps it followers-only.
    let vis = if orig.visibility == "private" {
        "private"
    } else {
        vis
    };
    let id = ids::new_id();
    let uri = format!("{}/statuses/{id}/activity", user.account.uri);
    let new = NewStatus {
        id,
        uri: &uri,
        url: None,
        account_id: me,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        reblog_of_id: Some(orig.id),
        conversation_id: orig.conversation_id,
        text: "",
        content: "",
        spoiler_text: "",
        visibility: vis,
        sensitive: false,
        language: None,
        local: true,
        application_id: None,
        created_at: ids::time_of(id),
        in_reply_to_story_id: None,
        short: false,
    };
    let announce =
        boost_audience(state, &user.account, &orig)
            .await?
            .map(|(inboxes, author_uri)| Outgoing {
                activity: crate::federation::objects::announce(
                    &uri,
                    vis,
                    new.created_at,
                    &user.account,
                    &orig.uri,
                    &author_uri,
                ),
                inboxes,
            });
    let mut tx = state.db.begin().await?;
    store::insert(&mut tx, &new).await?;
    store::adjust_counter(&mut tx, orig.id, Counter::Reblogs, 1).await?;
    let feed = store::fan_out(&mut tx, id, me, true, true, &[], None).await?;
    let pending =
        notifications::create(&mut tx, orig.account_id, me, "reblog", Some(orig.id)).await?;
    if let Some(out) = &announce {
        crate::service::delivery::enqueue(&mut tx, &out.activity, me, &out.inboxes, None).await?;
    }
    tx.commit().await?;
    if announce.is_some() {
        state.delivery_wakeup.notify_one();
    }
    let boost = store::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    publish_status(state, &boost, &feed, "update", &[]).await;
    notifications::publish(state, &pending.into_iter().collect::<Vec<_>>()).await;
    render::status(state, Some(me), boost).await
}

/// Servers to tell about a local boost (the booster's remote followers and the boosted author's
/// server) and the boosted author's actor URI; `None` when no other server needs to know.
async fn boost_audience(
    state: &AppState,
    booster: &crate::storage::accounts::AccountRow,
    orig: &StatusRow,
) -> AppResult<Option<(Vec<String>, String)>> {
    let author = accounts::find_account(&state.db, orig.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut inboxes =
        crate::storage::relationships::remote_follower_inboxes(&state.db, booster.id).await?;
    if !author.is_local()
        && let Some(i) = author
            .shared_inbox_url
            .clone()
            .or_else(|| author.inbox_url.clone())
    {
        inboxes.push(i);
    }
    inboxes.sort();
    inboxes.dedup();
    if inboxes.is_empty() {
        return Ok(None);
    }
    crate::federation::keys::public_key_pem(state, booster).await?;
    Ok(Some((inboxes, author.uri)))
}

/// Removes the user's boost of a status (if any); returns the original.
pub async fn unreblog(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    let orig_id = row.reblog_of_id.unwrap_or(row.id);
    if let Some(boost) = store::find_reblog(&state.db, me, orig_id).await? {
        let holders = store::feed_holders(&state.db, boost.id).await?;
        let orig = store::find(&state.db, orig_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let undo =
            boost_audience(state, &user.account, &orig)
                .await?
                .map(|(inboxes, author_uri)| Outgoing {
                    activity: crate::federation::objects::undo(
                        &user.account.uri,
                        crate::federation::objects::announce(
                            &boost.uri,
                            &boost.visibility,
                            boost.created_at,
                            &user.account,
                            &orig.uri,
                            &author_uri,
                        ),
                    ),
                    inboxes,
                });
        let mut tx = state.db.begin().await?;
        store::adjust_counter(&mut tx, orig_id, Counter::Reblogs, -1).await?;
        store::delete(&mut tx, boost.id).await?;
        if let Some(out) = &undo {
            crate::service::delivery::enqueue(&mut tx, &out.activity, me, &out.inboxes, None)
                .await?;
        }
        tx.commit().await?;
        if undo.is_some() {
            state.delivery_wakeup.notify_one();
        }
        publish_delete(state, &boost, &holders);
    }
    let orig = store::find(&state.db, orig_id)
        .await?
        .ok_or(AppError::NotFound)?;
    render::status(state, Some(me), orig).await
}

/// Bookmarks or un-bookmarks a visible status (idempotent).
pub async fn bookmark(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    on: bool,
) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    let target = row.reblog_of_id.unwrap_or(row.id);
    let mut tx = state.db.begin().await?;
    if on {
        store::add_action(&mut tx, "bookmarks", me, target).await?;
    } else {
        store::remove_action(&mut tx, "bookmarks", me, target).await?;
    }
    tx.commit().await?;
    let fresh = store::find(&state.db, target)
        .await?
        .ok_or(AppError::NotFound)?;
    render::status(state, Some(me), fresh).await
}

/// Pins or unpins one of the user's own public, unlisted or private posts (at most 5 pins).
///
/// Errors: 422 for someone else's status, a boost, a direct message, or a sixth pin.
pub async fn pin(state: &AppState, user: &CurrentUser, id: &str, on: bool) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    if on {
        if row.account_id != me || row.reblog_of_id.is_some() || row.visibility == "direct" {
            return Err(AppError::unprocessable(
                "Validation failed: Only your own posts can be pinned, and not direct ones",
            ));
        }
        if store::pin_count(&state.db, me).await? >= PINS_MAX {
            return Err(AppError::unprocessable(
                "Validation failed: You have already pinned the maximum number of posts",
            ));
        }
    }
    let mut tx = state.db.begin().await?;
    if on {
        store::add_action(&mut tx, "status_pins", me, row.id).await?;
    } else {
        store::remove_action(&mut tx, "status_pins", me, row.id).await?;
    }
    tx.commit().await?;
    render::status(state, Some(me), row).await
}

/// Mutes or unmutes notifications from a status's thread.
pub async fn mute_thread(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    on: bool,
) -> AppResult<Status> {
    let me = user.account.id;
    let row = visible(state, Some(me), id).await?;
    store::mute_conversation(&state.db, me, row.conversation_id, on).await?;
    render::status(state, Some(me), row).await
}

/// Counts the statuses posted on this instance (boosts excluded), for instance statistics.
pub async fn local_count(state: &AppState) -> AppResult<i64> {
    Ok(store::count_local(&state.db).await?)
}

// --- Federation: incoming ------------------------------------------------------------------------

/// Visibility of a remote Note from its addressing, as Mastodon reads it: Public in `to` is
/// public, in `cc` unlisted; a followers collection makes it followers-only; otherwise direct.
fn remote_visibility(
    note: &crate::federation::protocol::note::Note,
    author_uri: &str,
) -> &'static str {
    let is_public = |u: &url::Url| u.as_str() == crate::federation::protocol::PUBLIC;
    if note.to.iter().any(is_public) {
        return "public";
    }
    if note.cc.iter().any(is_public) {
        return "unlisted";
    }
    let followers = format!("{author_uri}/followers");
    if note
        .to
        .iter()
        .chain(note.cc.iter())
        .any(|u| u.as_str() == followers || u.path().ends_with("/followers"))
    {
        return "private";
    }
    "direct"
}

/// A `Create(Note)` (activity `activity_id`) from another server: stored (sanitised) and
/// distributed like a local post when it concerns someone here (the author has local followers,
/// or it mentions or answers a local account); otherwise acknowledged and dropped. Duplicates are
/// ignored. Returns whether the activity's receipt was written (with the new status).
pub async fn receive_note(
    data: &crate::federation::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    note: crate::federation::protocol::note::Note,
    activity_id: &str,
) -> anyhow::Result<bool> {
    let stored = store_remote_note(data, actor, note, Arrival::Inbox { activity_id }).await?;
    Ok(matches!(stored, Stored::New(_)))
}

/// How a remote Note reached us.
#[derive(Clone, Copy, Debug)]
pub enum Arrival<'a> {
    /// In an activity posted to our inbox: kept only when it concerns someone here, and the
    /// activity's receipt is written with it.
    Inbox { activity_id: &'a str },
    /// Fetched by us (a reply's parent, a search, a boosted post): kept whatever it is.
    Fetched,
}

/// What [`store_remote_note`] did.
#[derive(Debug)]
pub enum Stored {
    New(StatusRow),
    /// Stored before (by its ID or URL).
    Known(StatusRow),
    /// Not kept: it concerns nobody here, its author is suspended, or it is a direct message to
    /// nobody here.
    Dropped,
}

impl Stored {
    pub fn row(self) -> Option<StatusRow> {
        match self {
            Stored::New(r) | Stored::Known(r) => Some(r),
            Stored::Dropped => None,
        }
    }
}

/// How many unknown participants of an incoming group message are fetched.
const MAX_FETCHED_PARTICIPANTS: usize = 10;

/// How many requests (missing ancestors of a reply, mostly) one incoming object may cause.
const PARENT_FETCH_DEPTH: u32 = 5;

/// Stores a remote Note by `actor` (already verified as its author) and distributes it (see
/// [`Arrival`] for when it is kept). A missing parent is fetched, a few levels up at most.
pub async fn store_remote_note(
    data: &crate::federation::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    note: crate::federation::protocol::note::Note,
    arrival: Arrival<'_>,
) -> anyhow::Result<Stored> {
    let state: &AppState = data;
    let db = &state.db;
    if let Some(known) = store::find_by_uri_or_url(db, note.id.as_str()).await? {
        return Ok(Stored::Known(known));
    }
    if actor.suspended_at.is_some() {
        return Ok(Stored::Dropped);
    }
    let visibility = remote_visibility(&note, &actor.uri);
    // Mentions: tagged actors, and every addressed account we know (direct messages often only
    // address their recipients). Public and collections are not accounts; one query for the rest.
    let mut candidates: Vec<String> = note
        .tag
        .iter()
        .filter(|t| t.kind == "Mention")
        .filter_map(|t| t.href.as_ref().map(|h| h.to_string()))
        .chain(note.to.iter().chain(note.cc.iter()).map(|u| u.to_string()))
        .filter(|u| u != crate::federation::protocol::PUBLIC && !u.ends_with("/followers"))
        .collect();
    candidates.sort();
    candidates.dedup();
    candidates.truncate(100);
    let mut mentioned = accounts::find_by_uris(db, &candidates).await?;
    if visibility == "direct" && mentioned.iter().any(|a| a.is_local()) {
        // A group message names people on other servers too; replies from here must reach them,
        // so the ones not known yet are fetched (a few at most).
        use activitypub_federation::fetch::object_id::ObjectId;
        let unknown: Vec<&String> = candidates
            .iter()
            .filter(|u| !mentioned.iter().any(|a| &a.uri == *u))
            .take(MAX_FETCHED_PARTICIPANTS)
            .collect();
        for uri in unknown {
            let Ok(url) = url::Url::parse(uri) else {
                continue;
            };
            match ObjectId::<crate::federation::actor::ApAccount>::from(url)
                .dereference(data)
                .await
            {
                Ok(a) => mentioned.push(a.row),
                Err(e) => tracing::info!(actor = %uri, error = %e, "could not fetch a participant"),
            }
        }
    }
    let mention_ids: Vec<i64> = mentioned
        .iter()
        .filter(|a| a.id != actor.id)
        .map(|a| a.id)
        .collect();
    // A reply to a story (a direct message) answers no status.
    let story = match &note.in_reply_to {
        Some(p) => crate::service::stories::find_for_reply(state, p.as_str()).await?,
        None => None,
    };
    let parent = match note.in_reply_to.as_ref().filter(|_| story.is_none()) {
        Some(p) => match store::find_by_uri_or_url(db, p.as_str()).await? {
            Some(known) => Some(known),
            None if data.request_count() < PARENT_FETCH_DEPTH => {
                use activitypub_federation::fetch::object_id::ObjectId;
                match ObjectId::<crate::federation::note::ApNote>::from(p.clone())
                    .dereference(data)
                    .await
                {
                    Ok(n) => Some(n.row),
                    Err(e) => {
                        tracing::info!(parent = %p, error = %e, "could not fetch the parent of a reply");
                        None
                    }
                }
            }
            None => None,
        },
        None => None,
    };
    let mentions_local = mentioned.iter().any(|a| a.is_local() && a.id != actor.id);
    if visibility == "direct" && !mentions_local {
        // A direct message is only ever for its addressees; none of them is here.
        tracing::debug!(note = %note.id, "dropping a direct Note that addresses nobody here");
        return Ok(Stored::Dropped);
    }
    let concerns_us = mentions_local
        || parent.as_ref().is_some_and(|p| p.local)
        || story.as_ref().is_some_and(|s| s.bearer_token.is_some())
        || crate::storage::relationships::has_local_followers(db, actor.id).await?;
    let receipt = match arrival {
        Arrival::Inbox { activity_id } => Some(activity_id),
        Arrival::Fetched => None,
    };
    if receipt.is_some() && !concerns_us {
        tracing::debug!(note = %note.id, "dropping a Note nobody here follows or is mentioned in");
        return Ok(Stored::Dropped);
    }
    let tags = note.hashtags();
    let published = note.published.min(chrono::Utc::now());
    let id = ids::id_at(published);
    let content = text::sanitize_html(&note.content);
    let spoiler = text::clean_line(note.summary.as_deref().unwrap_or(""));
    let language = note
        .content_map
        .as_ref()
        .and_then(|m| m.keys().next().cloned())
        .filter(|l| l.len() <= 16);
    let url = note.url.as_ref().map(|u| u.to_string());
    let short = crate::service::shorts::is_short_note(&note);
    let new = NewStatus {
        id,
        uri: note.id.as_str(),
        url: url.as_deref().or(Some(note.id.as_str())),
        account_id: actor.id,
        in_reply_to_id: parent.as_ref().map(|p| p.id),
        in_reply_to_account_id: parent.as_ref().map(|p| p.account_id),
        reblog_of_id: None,
        conversation_id: parent.as_ref().map_or(id, |p| p.conversation_id),
        text: "",
        content: &content,
        spoiler_text: &spoiler,
        visibility,
        sensitive: note.sensitive.unwrap_or(false) || !spoiler.is_empty(),
        language: language.as_deref(),
        local: false,
        application_id: None,
        created_at: published,
        in_reply_to_story_id: story.as_ref().map(|s| s.id),
        short,
    };
    let media_rows = crate::service::media::remote_rows(&state.config, actor.id, &note.attachment);
    let row = insert_and_distribute(
        state,
        &new,
        &mention_ids,
        &tags,
        Origin::Remote { receipt },
        StatusMedia::Remote(&media_rows),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(story) = &story {
        crate::service::stories::notify_remote_reply(state, story, actor, row.id).await?;
    }
    Ok(Stored::New(row))
}

/// A `Delete` from another server: removes the actor's status with that ID, if we have it.
pub async fn receive_delete(
    data: &crate::federation::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    object_id: &url::Url,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let Some(row) = store::find_by_uri_or_url(&state.db, object_id.as_str()).await? else {
        return Ok(());
    };
    if row.account_id != actor.id || row.local {
        return Ok(());
    }
    remove_status(state, &row, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// `Like` (or its `Undo`) of a known status by a remote actor: the favourite is recorded, counted,
/// and its local author notified — if the actor may see the status; otherwise it is ignored.
pub async fn receive_like(
    data: &crate::federation::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    object: &url::Url,
    on: bool,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let Some(row) = store::find_by_uri_or_url(&state.db, object.as_str()).await? else {
        return Ok(());
    };
    // A like of something the liker may not see (a followers-only or direct status, or one whose
    // author blocks them) is ignored: it would count and notify, and confirm that the status exists.
    if on
        && store::find_visible(&state.db, row.id, actor.id)
            .await?
            .is_none()
    {
        tracing::info!(actor = %actor.uri, status = row.id, "ignoring a Like of a status its actor cannot see");
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let mut pending = Vec::new();
    if on {
        if store::add_action(&mut tx, "favourites", actor.id, row.id).await? {
            store::adjust_counter(&mut tx, row.id, Counter::Favourites, 1).await?;
            pending.extend(
                notifications::create(&mut tx, row.account_id, actor.id, "favourite", Some(row.id))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            );
        }
    } else if store::remove_action(&mut tx, "favourites", actor.id, row.id).await? {
        store::adjust_counter(&mut tx, row.id, Counter::Favourites, -1).await?;
    }
    tx.commit().await?;
    notifications::publish(state, &pending).await;
    Ok(())
}

/// `Announce` by a remote actor: the boosted status (fetched when unknown) gets a boost row by
/// the actor, which reaches the actor's local followers; a local author is notified.
pub async fn receive_announce(
    data: &crate::federation::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    a: crate::federation::activities::Announce,
) -> anyhow::Result<()> {
    use activitypub_federation::fetch::object_id::ObjectId;
    let state: &AppState = data;
    if store::find_by_uri_or_url(&state.db, a.id.as_str())
        .await?
        .is_some()
    {
        return Ok(());
    }
    let Some(object) = a.object.id() else {
        return Ok(());
    };
    let orig = match store::find_by_uri_or_url(&state.db, object.as_str()).await? {
        Some(o) => o,
        None => {
            ObjectId::<crate::federation::note::ApNote>::from(object)
                .dereference(data)
                .await?
                .row
        }
    };
    if !matches!(orig.visibility.as_str(), "public" | "unlisted") {
        return Ok(());
    }
    let public = crate::federation::protocol::PUBLIC;
    let visibility = if a.to.iter().any(|u| u.as_str() == public) {
        "public"
    } else if a.cc.iter().any(|u| u.as_str() == public) {
        "unlisted"
    } else {
        "private"
    };
    let published = a
        .published
        .unwrap_or_else(chrono::Utc::now)
        .min(chrono::Utc::now());
    let id = ids::id_at(published);
    let new = NewStatus {
        id,
        uri: a.id.as_str(),
        url: None,
        account_id: actor.id,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        reblog_of_id: Some(orig.id),
        conversation_id: orig.conversation_id,
        text: "",
        content: "",
        spoiler_text: "",
        visibility,
        sensitive: false,
        language: None,
        local: false,
        application_id: None,
        created_at: published,
        in_reply_to_story_id: None,
        short: false,
    };
    let mut tx = state.db.begin().await?;
    store::insert(&mut tx, &new).await?;
    store::adjust_counter(&mut tx, orig.id, Counter::Reblogs, 1).await?;
    let feed = store::fan_out(&mut tx, id, actor.id, true, true, &[], None).await?;
    let pending =
        notifications::create(&mut tx, orig.account_id, actor.id, "reblog", Some(orig.id))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    if let Some(boost) = store::find(&state.db, id).await? {
        publish_status(state, &boost, &feed, "update", &[]).await;
    }
    notifications::publish(state, &pending.into_iter().collect::<Vec<_>>()).await;
    Ok(())
}

/// `Undo(Announce)`: removes the actor's boost with that ID.
pub async fn receive_undo_announce(
    data: &crate::federation::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    announce_id: &url::Url,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let Some(boost) = store::find_by_uri_or_url(&state.db, announce_id.as_str()).await? else {
        return Ok(());
    };
    let Some(orig) = boost.reblog_of_id.filter(|_| boost.account_id == actor.id) else {
        return Ok(());
    };
    let holders = store::feed_holders(&state.db, boost.id).await?;
    let mut tx = state.db.begin().await?;
    store::adjust_counter(&mut tx, orig, Counter::Reblogs, -1).await?;
    store::delete(&mut tx, boost.id).await?;
    tx.commit().await?;
    publish_delete(state, &boost, &holders);
    Ok(())
}

/// `Update(Note)`: an edit of a remote status by its author, kept in the edit history.
pub async fn receive_update_note(
    data: &crate::federation::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    note: crate::federation::protocol::note::Note,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let Some(row) = store::find_by_uri_or_url(&state.db, note.id.as_str()).await? else {
        return Ok(());
    };
    if row.account_id != actor.id || row.local {
        return Ok(());
    }
    let content = text::sanitize_html(&note.content);
    let spoiler = text::clean_line(note.summary.as_deref().unwrap_or(""));
    let sensitive = note.sensitive.unwrap_or(false) || !spoiler.is_empty();
    let now = note
        .updated
        .unwrap_or_else(chrono::Utc::now)
        .min(chrono::Utc::now());
    let tags = note.hashtags();
    let mut mention_ids = Vec::new();
    for href in note
        .tag
        .iter()
        .filter(|t| t.kind == "Mention")
        .filter_map(|t| t.href.as_ref())
    {
        if let Some((a, _)) = accounts::find_by_uri(&state.db, href.as_str()).await? {
            mention_ids.push(a.id);
        }
    }
    // Attachments are replaced only when their files change, so cached copies stay valid.
    let new_media = crate::service::media::remote_rows(&state.config, actor.id, &note.attachment);
    let old_media = crate::storage::media::of_statuses(&state.db, &[row.id]).await?;
    let unchanged = new_media.len() == old_media.len()
        && new_media
            .iter()
            .zip(&old_media)
            .all(|(n, o)| n.remote_url == o.remote_url);
    let media = (!unchanged).then_some(StatusMedia::Remote(&new_media));
    apply_revision(
        state,
        &row,
        Revision {
            text: "",
            content: &content,
            spoiler_text: &spoiler,
            sensitive,
            language: row.language.as_deref(),
            at: now,
            mention_ids: &mention_ids,
            tags: &tags,
            media,
        },
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
