//! The one write that stores a new status — local or from another server — with its mentions,
//! tags, media, poll, feed entries, notifications and outgoing activity, and the streaming of it
//! once committed.

use std::collections::HashMap;

use crate::error::AppResult;
use crate::realtime::{Event, StreamKey};
use crate::service::notifications::{self, Pending};
use crate::service::render;
use crate::state::AppState;
use crate::storage::statuses::{self as store, Counter, NewStatus, StatusRow};

use super::*;

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

/// Inserts a status with its mentions, tags, media and poll, fans it out to home feeds and creates
/// mention and subscriber notifications, all in one transaction (batched with others by the write
/// queue); streams after commit. Shared by local posting and incoming federation.
pub(super) async fn insert_and_distribute(
    state: &AppState,
    new: &NewStatus<'_>,
    mention_ids: &[i64],
    tags: &[String],
    origin: Origin<'_>,
    media: StatusMedia<'_>,
    poll: Option<crate::service::polls::PollDraft>,
    quote: Option<crate::service::quotes::QuoteWrite>,
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
        quote,
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
    quote: Option<crate::service::quotes::QuoteWrite>,
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
            if let Some(q) = &w.quote {
                crate::storage::quotes::insert(tx, &q.new, new.id, new.account_id).await?;
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
            // The quoted author, when the quote is approved at once (a mention comes first).
            wanted.extend(
                w.quote
                    .as_ref()
                    .and_then(|q| q.notify)
                    .filter(|a| !w.mention_ids.contains(a))
                    .map(|a| notify(a, "quote")),
            );
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
