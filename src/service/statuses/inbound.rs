//! Statuses and status activities other servers send: notes, deletes, likes, boosts, edits.

use crate::service::notifications::{self};
use crate::state::AppState;
use crate::storage::statuses::{self as store, Counter, NewStatus, StatusRow};
use crate::storage::{accounts, ids};
use crate::text;

use super::*;

/// Visibility of a remote Note from its addressing, as Mastodon reads it: Public in `to` is
/// public, in `cc` unlisted; a followers collection makes it followers-only; otherwise direct.
pub(super) fn remote_visibility(
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
    data: &crate::service::activitypub::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    note: crate::federation::protocol::note::Note,
    activity_id: &str,
) -> anyhow::Result<bool> {
    if crate::service::polls::receive_vote(data, actor, &note).await? {
        return Ok(false);
    }
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
pub(super) const MAX_FETCHED_PARTICIPANTS: usize = 10;

/// How many requests (missing ancestors of a reply, mostly) one incoming object may cause.
pub const PARENT_FETCH_DEPTH: u32 = 5;

/// Stores a remote Note by `actor` (already verified as its author) and distributes it (see
/// [`Arrival`] for when it is kept). A missing parent is fetched, a few levels up at most.
pub async fn store_remote_note(
    data: &crate::service::activitypub::context::FedData,
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
            match ObjectId::<crate::service::activitypub::actors::ApAccount>::from(url)
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
                match ObjectId::<crate::service::activitypub::notes::ApNote>::from(p.clone())
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
    let quote = crate::service::quotes::inbound::for_remote_note(data, actor, &note).await?;
    let mentions_local = mentioned.iter().any(|a| a.is_local() && a.id != actor.id);
    if visibility == "direct" && !mentions_local {
        // A direct message is only ever for its addressees; none of them is here.
        tracing::debug!(note = %note.id, "dropping a direct Note that addresses nobody here");
        return Ok(Stored::Dropped);
    }
    let concerns_us = mentions_local
        || parent.as_ref().is_some_and(|p| p.local)
        || quote.as_ref().is_some_and(|q| q.quotes_local)
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
        quote_approval_policy: crate::service::quotes::inbound::policy_of(&note, actor),
    };
    let media_rows = crate::service::media::remote_rows(&state.config, actor.id, &note.attachment);
    let poll = crate::service::polls::PollDraft::from_question(&note);
    if let Some(domain) = &actor.domain {
        crate::service::emojis::store_remote(state, domain, &note.tag).await;
    }
    let row = insert_and_distribute(
        state,
        &new,
        &mention_ids,
        &tags,
        Origin::Remote { receipt },
        StatusMedia::Remote(&media_rows),
        poll,
        quote.map(|q| q.write),
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
    data: &crate::service::activitypub::context::FedData,
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
    data: &crate::service::activitypub::context::FedData,
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
    data: &crate::service::activitypub::context::FedData,
    actor: &crate::storage::accounts::AccountRow,
    a: crate::federation::protocol::activities::Announce,
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
            ObjectId::<crate::service::activitypub::notes::ApNote>::from(object)
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
        quote_approval_policy: 0,
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
    data: &crate::service::activitypub::context::FedData,
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
    data: &crate::service::activitypub::context::FedData,
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
    if let Some(domain) = &actor.domain {
        crate::service::emojis::store_remote(state, domain, &note.tag).await;
    }
    // A Question's update is most often new counts only, and an update may only bring a quote's
    // approval or a new quote policy: no new version then.
    crate::service::polls::receive_counts(state, &row, &note).await?;
    crate::service::quotes::inbound::on_update(data, actor, &row, &note).await?;
    if unchanged
        && content == row.content
        && spoiler == row.spoiler_text
        && sensitive == row.sensitive
    {
        return Ok(());
    }
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
            poll: crate::service::polls::PollEdit::Keep,
        },
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
