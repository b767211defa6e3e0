//! Polls (docs.joinmastodon.org/methods/polls/, entities/Poll/): posting one with a status,
//! voting, the `Poll` entity, and their federation as Mastodon does it (docs/FEDERATION.md,
//! Polls): a poll travels as a `Question`, a vote as a `Create(Note)` whose `name` is the option
//! and whose `inReplyTo` is the question; new counts go out as `Update(Question)`, batched, and
//! once more when the poll ends. The end is a durable job (`poll_end`) that notifies the voters
//! here and a local poll's author.
//!
//! This file: parameters, the entity, voting and edits; `inbound` what other servers' votes and
//! `Update(Question)`s change; `outgoing` the `Update(Question)` we send and the two jobs.

mod inbound;
mod outgoing;

pub use inbound::*;
pub use outgoing::spawn_workers;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::api_types::status::{Poll, PollOption};
use crate::error::{AppError, AppResult};
use crate::federation::protocol::note::Note;
use crate::jobs;
use crate::service::activitypub::context::FedData;
use crate::service::oauth::CurrentUser;
use crate::state::AppState;
use crate::storage::db::Tx;
use crate::storage::polls::{self as store, NewPoll, PollRow};
use crate::storage::statuses::{self, StatusRow};
use crate::storage::{accounts, ids};

/// Most options a poll posted here has (Mastodon's default, advertised in `/api/v2/instance`).
pub const MAX_OPTIONS: usize = 4;
/// Longest option title, in characters.
pub const MAX_OPTION_CHARS: usize = 50;
/// Shortest and longest duration, in seconds (5 minutes; a month).
pub const MIN_EXPIRATION: i64 = 300;
pub const MAX_EXPIRATION: i64 = 2_629_746;
/// Most options kept of a remote poll, and the longest title kept, in characters.
const REMOTE_MAX_OPTIONS: usize = 32;
const REMOTE_MAX_OPTION_CHARS: usize = 500;
/// How long vote counts gather before an `Update(Question)` carries them to other servers.
pub const UPDATE_DELAY: chrono::Duration = chrono::Duration::seconds(30);

/// Job kinds.
pub const END_JOB: &str = "poll_end";
pub const UPDATE_JOB: &str = "poll_update";

/// `poll[…]` of `POST`/`PUT /api/v1/statuses`, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct PollParams {
    pub options: Vec<String>,
    /// Seconds from now.
    pub expires_in: i64,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// A poll about to be stored (with a new status, or replacing one on an edit).
#[derive(Clone, Debug)]
pub struct PollDraft {
    pub id: i64,
    pub options: Vec<String>,
    pub tallies: Vec<i64>,
    pub multiple: bool,
    pub hide_totals: bool,
    pub voters_count: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl PollDraft {
    /// A new local poll from checked parameters.
    pub fn local(p: &PollParams) -> PollDraft {
        PollDraft {
            id: ids::new_id(),
            options: p.options.clone(),
            tallies: vec![0; p.options.len()],
            multiple: p.multiple,
            hide_totals: p.hide_totals,
            voters_count: Some(0),
            expires_at: Some(Utc::now() + chrono::Duration::seconds(p.expires_in)),
        }
    }

    /// The poll a remote `Question` carries: `oneOf` (single choice) or `anyOf` (several), with
    /// counts from each option's `replies.totalItems`; `None` for anything else. Bounded:
    /// [`REMOTE_MAX_OPTIONS`] options of at most [`REMOTE_MAX_OPTION_CHARS`] characters.
    pub fn from_question(note: &Note) -> Option<PollDraft> {
        let (options, multiple) = if !note.any_of.is_empty() {
            (&note.any_of, true)
        } else if !note.one_of.is_empty() {
            (&note.one_of, false)
        } else {
            return None;
        };
        let options: Vec<_> = options.iter().take(REMOTE_MAX_OPTIONS).collect();
        let titles: Vec<String> = options
            .iter()
            .map(|o| {
                crate::text::clean_line(&o.name)
                    .chars()
                    .take(REMOTE_MAX_OPTION_CHARS)
                    .collect()
            })
            .collect();
        let closed_at = match &note.closed {
            Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            Some(Value::Bool(true)) => Some(Utc::now()),
            _ => None,
        };
        Some(PollDraft {
            id: ids::new_id(),
            tallies: options.iter().map(|o| o.votes()).collect(),
            options: titles,
            multiple,
            hide_totals: false,
            voters_count: note
                .voters_count
                .as_ref()
                .and_then(Value::as_i64)
                .map(|v| v.max(0)),
            expires_at: note.end_time.or(closed_at),
        })
    }

    /// The row it will be, for building the `Question` before the transaction.
    pub fn row(&self, status_id: i64, account_id: i64) -> PollRow {
        PollRow {
            id: self.id,
            status_id,
            account_id,
            options: sqlx::types::Json(self.options.clone()),
            tallies: sqlx::types::Json(self.tallies.clone()),
            multiple: self.multiple,
            hide_totals: self.hide_totals,
            votes_count: self.tallies.iter().sum(),
            voters_count: self.voters_count,
            expires_at: self.expires_at,
            ended: false,
            updated_at: Utc::now(),
        }
    }
}

/// Stores `draft` as the poll of `status_id` and queues its end (in the status's transaction).
pub async fn insert(
    tx: &mut Tx,
    draft: &PollDraft,
    status_id: i64,
    account_id: i64,
) -> AppResult<()> {
    store::insert(
        tx,
        &NewPoll {
            id: draft.id,
            status_id,
            account_id,
            options: &draft.options,
            tallies: &draft.tallies,
            multiple: draft.multiple,
            hide_totals: draft.hide_totals,
            voters_count: draft.voters_count,
            expires_at: draft.expires_at,
        },
    )
    .await?;
    queue_end(tx, draft.id, draft.expires_at).await
}

async fn queue_end(tx: &mut Tx, poll_id: i64, at: Option<DateTime<Utc>>) -> AppResult<()> {
    if let Some(at) = at {
        jobs::enqueue_at(tx, END_JOB, &json!({ "poll_id": poll_id }), at).await?;
    }
    Ok(())
}

/// A poll change an edit brings.
#[derive(Clone, Debug)]
pub enum PollEdit {
    Keep,
    Remove,
    Set(PollDraft),
}

/// The poll a status will have after `edit`, as [`apply_edit`] stores it (for the `Update`
/// built before the transaction).
pub fn after_edit(
    current: Option<&PollRow>,
    edit: &PollEdit,
    status_id: i64,
    account_id: i64,
) -> Option<PollRow> {
    match (edit, current) {
        (PollEdit::Keep, c) => c.cloned(),
        (PollEdit::Remove, _) => None,
        (PollEdit::Set(d), None) => Some(d.row(status_id, account_id)),
        (PollEdit::Set(d), Some(p)) => {
            if p.options.0 == d.options && p.multiple == d.multiple && d.voters_count == Some(0) {
                return Some(p.clone());
            }
            let mut row = d.row(status_id, account_id);
            row.id = p.id;
            Some(row)
        }
    }
}

/// Applies `edit` to `status_id` (in the edit's transaction): a poll whose options change loses
/// its votes, as on Mastodon; an unchanged one keeps them.
pub async fn apply_edit(
    tx: &mut Tx,
    status_id: i64,
    account_id: i64,
    current: Option<&PollRow>,
    edit: &PollEdit,
) -> AppResult<()> {
    match (edit, current) {
        (PollEdit::Keep, _) | (PollEdit::Remove, None) => {}
        (PollEdit::Remove, Some(p)) => store::remove(tx, p).await?,
        (PollEdit::Set(d), None) => insert(tx, d, status_id, account_id).await?,
        (PollEdit::Set(d), Some(p)) => {
            let same = p.options.0 == d.options && p.multiple == d.multiple;
            if same && d.voters_count == Some(0) {
                // A local edit that keeps the options keeps the poll as it is: votes, end, hidden
                // totals (apps send the poll again with every edit, and cannot read hide_totals).
                return Ok(());
            }
            let (tallies, voters) = (d.tallies.clone(), d.voters_count);
            store::replace(
                tx,
                p,
                &d.options,
                d.multiple,
                d.hide_totals,
                d.expires_at,
                &tallies,
                voters,
            )
            .await?;
            if d.expires_at != p.expires_at {
                queue_end(tx, p.id, d.expires_at).await?;
            }
        }
    }
    Ok(())
}

/// A status has a poll or media, never both (as Mastodon).
///
/// Errors: 422 when it would have both.
pub fn ensure_not_with_media(has_poll: bool, has_media: bool) -> AppResult<()> {
    if has_poll && has_media {
        return Err(AppError::unprocessable(
            "Validation failed: Media and poll cannot both be attached",
        ));
    }
    Ok(())
}

/// Reads and checks `poll` as a client sends it, JSON or form-encoded (numbers and booleans may be
/// strings). `None` when absent or null.
///
/// Errors: 422 for fewer than 2 or more than [`MAX_OPTIONS`] options, an empty, duplicate or
/// over-long ([`MAX_OPTION_CHARS`]) option, or `expires_in` missing or outside
/// [`MIN_EXPIRATION`]–[`MAX_EXPIRATION`] seconds.
pub fn params(v: Option<&Value>) -> AppResult<Option<PollParams>> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let bad = |m: &str| AppError::unprocessable(format!("Validation failed: Poll {m}"));
    let options: Vec<String> = match v.get("options") {
        Some(Value::Array(list)) => list
            .iter()
            .map(|o| match o {
                Value::String(s) => Ok(s.trim().to_string()),
                _ => Err(bad("options must be text")),
            })
            .collect::<AppResult<_>>()?,
        Some(Value::Object(map)) => {
            // `poll[options][0]=…` from some form encoders.
            let mut entries: Vec<(usize, String)> = map
                .iter()
                .map(|(k, o)| {
                    let i: usize = k.parse().map_err(|_| bad("options must be a list"))?;
                    let s = o.as_str().ok_or_else(|| bad("options must be text"))?;
                    Ok((i, s.trim().to_string()))
                })
                .collect::<AppResult<_>>()?;
            entries.sort();
            entries.into_iter().map(|(_, s)| s).collect()
        }
        Some(Value::String(s)) => vec![s.trim().to_string()],
        _ => Vec::new(),
    };
    if options.len() < 2 {
        return Err(bad("must have at least 2 options"));
    }
    if options.len() > MAX_OPTIONS {
        return Err(bad(&format!("can't have more than {MAX_OPTIONS} options")));
    }
    if options.iter().any(String::is_empty) {
        return Err(bad("options can't be blank"));
    }
    if options.iter().any(|o| o.chars().count() > MAX_OPTION_CHARS) {
        return Err(bad(&format!(
            "options can't be longer than {MAX_OPTION_CHARS} characters each"
        )));
    }
    let mut seen: Vec<String> = options.iter().map(|o| o.to_lowercase()).collect();
    seen.sort();
    seen.dedup();
    if seen.len() != options.len() {
        return Err(bad("options can't contain duplicates"));
    }
    let expires_in = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| bad("needs expires_in, in seconds"))?;
    if expires_in < MIN_EXPIRATION {
        return Err(bad(&format!(
            "duration is too short (at least {MIN_EXPIRATION} seconds)"
        )));
    }
    if expires_in > MAX_EXPIRATION {
        return Err(bad(&format!(
            "duration is too long (at most {MAX_EXPIRATION} seconds)"
        )));
    }
    let flag = |name: &str| match v.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "true" | "1" | "on"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    };
    Ok(Some(PollParams {
        options,
        expires_in,
        multiple: flag("multiple"),
        hide_totals: flag("hide_totals"),
    }))
}

/// The `Poll` entity of `p` for `viewer` (with their choices in `own`; `None`: anonymous, who
/// get neither `voted` nor `own_votes`). Totals stay hidden from all but the author until the end
/// when the author asked (`hide_totals`).
pub fn entity(p: &PollRow, viewer: Option<(i64, &[i64])>, now: DateTime<Utc>) -> Poll {
    let expired = p.expired(now);
    let hidden = p.hide_totals && !expired && viewer.is_none_or(|(v, _)| v != p.account_id);
    Poll {
        id: p.id.to_string(),
        expires_at: p.expires_at,
        expired,
        multiple: p.multiple,
        votes_count: p.votes_count,
        voters_count: p.voters_count,
        options: p
            .options
            .iter()
            .enumerate()
            .map(|(i, title)| PollOption {
                title: title.clone(),
                votes_count: (!hidden).then(|| p.tallies.get(i).copied().unwrap_or(0)),
            })
            .collect(),
        emojis: Vec::new(),
        voted: viewer.map(|(v, own)| !own.is_empty() || v == p.account_id),
        own_votes: viewer.map(|(_, own)| own.to_vec()),
    }
}

/// `Poll` entities of these polls for `viewer`, by poll ID: one query for the polls and, for a
/// signed-in viewer, one for their votes.
pub async fn entities(
    state: &AppState,
    viewer: Option<i64>,
    poll_ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, Poll>> {
    let mut out = std::collections::HashMap::new();
    if poll_ids.is_empty() {
        return Ok(out);
    }
    let rows = store::find_many(&state.db, poll_ids).await?;
    let votes = match viewer {
        Some(v) => store::own_votes(&state.db, v, poll_ids).await?,
        None => Vec::new(),
    };
    // Custom emojis in option titles, among the poll author's server's emojis.
    let with_codes: Vec<&PollRow> = rows
        .iter()
        .filter(|p| p.options.iter().any(|o| o.contains(':')))
        .collect();
    let mut emojis = std::collections::HashMap::new();
    if !with_codes.is_empty() {
        let author_ids: Vec<i64> = with_codes.iter().map(|p| p.account_id).collect();
        let authors = accounts::find_accounts(&state.db, &author_ids).await?;
        let items: Vec<(i64, Option<&str>, String)> = with_codes
            .iter()
            .map(|p| {
                let domain = authors
                    .iter()
                    .find(|a| a.id == p.account_id)
                    .and_then(|a| a.domain.as_deref());
                (p.id, domain, p.options.join(" "))
            })
            .collect();
        emojis = crate::service::emojis::used_in_many(state, &items).await?;
    }
    let now = Utc::now();
    for p in &rows {
        let own: Vec<i64> = votes
            .iter()
            .filter(|(id, _)| *id == p.id)
            .map(|(_, c)| *c)
            .collect();
        let mut poll = entity(p, viewer.map(|v| (v, own.as_slice())), now);
        poll.emojis = emojis.remove(&p.id).unwrap_or_default();
        out.insert(p.id, poll);
    }
    Ok(out)
}

/// The poll with this ID and its status, if `viewer` may see the status.
///
/// Errors: 404 when either does not exist or is hidden.
async fn visible(
    state: &AppState,
    viewer: Option<i64>,
    id: &str,
) -> AppResult<(PollRow, StatusRow)> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let poll = store::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let status = statuses::find_visible(
        &state.db,
        poll.status_id,
        viewer.unwrap_or(statuses::ANONYMOUS),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((poll, status))
}

/// `GET /api/v1/polls/:id`.
///
/// Errors: 404 when the poll or its status is not visible to `viewer`.
pub async fn show(state: &AppState, viewer: Option<i64>, id: &str) -> AppResult<Poll> {
    let (poll, _) = visible(state, viewer, id).await?;
    let own = match viewer {
        Some(v) => store::own_votes(&state.db, v, &[poll.id]).await?,
        None => Vec::new(),
    };
    let own: Vec<i64> = own.into_iter().map(|(_, c)| c).collect();
    Ok(entity(
        &poll,
        viewer.map(|v| (v, own.as_slice())),
        Utc::now(),
    ))
}

/// `POST /api/v1/polls/:id/votes` with `choices` (option indices). A vote in a local poll is
/// counted at once and its new counts go out in the next batched `Update`; a vote in a remote
/// poll is sent to its author's server as one `Create(Note)` per choice and counted here until
/// that server's next `Update` says otherwise.
///
/// Errors: 404 when the poll is not visible; 422 when it has ended, the caller already voted, a
/// choice is not an option, there is none, or several in a single-choice poll.
pub async fn vote(
    data: &FedData,
    user: &CurrentUser,
    id: &str,
    choices: &[String],
) -> AppResult<Poll> {
    let state: &AppState = data;
    let voter = &user.account;
    let (poll, status) = visible(state, Some(voter.id), id).await?;
    let now = Utc::now();
    if poll.expired(now) {
        return Err(AppError::unprocessable(
            "Validation failed: The poll has already ended",
        ));
    }
    let mut picked: Vec<i64> = Vec::new();
    for c in choices {
        let i: i64 = c.trim().parse().map_err(|_| {
            AppError::unprocessable(format!("Validation failed: {c:?} is not a choice"))
        })?;
        if i < 0 || i as usize >= poll.options.len() {
            return Err(AppError::unprocessable(format!(
                "Validation failed: {i} is not a choice of this poll"
            )));
        }
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    if picked.is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: choices are missing",
        ));
    }
    if !poll.multiple && picked.len() > 1 {
        return Err(AppError::unprocessable(
            "Validation failed: This poll allows only one choice",
        ));
    }
    let author = accounts::find_account(&state.db, poll.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !author.is_local() {
        crate::service::activitypub::keys::public_key_pem(state, voter).await?;
    }
    let mut tx = state.db.begin().await?;
    store::lock(&mut tx, poll.id).await?;
    if !store::choices_of(&mut tx, poll.id, voter.id)
        .await?
        .is_empty()
    {
        return Err(AppError::unprocessable(
            "Validation failed: You have already voted on this poll",
        ));
    }
    let mut vote_uris = Vec::new();
    for c in &picked {
        let vote_id = ids::new_id();
        let uri = format!("{}#votes/{vote_id}", voter.uri);
        store::add_vote(&mut tx, vote_id, poll.id, voter.id, *c, Some(&uri)).await?;
        vote_uris.push((uri, *c));
    }
    if author.is_local() {
        store::recount(&mut tx, &poll).await?;
        queue_update(&mut tx, poll.id).await?;
    } else {
        let mut tallies = poll.tallies.0.clone();
        tallies.resize(poll.options.len(), 0);
        for c in &picked {
            tallies[*c as usize] = tallies[*c as usize].saturating_add(1);
        }
        let voters = poll.voters_count.map(|v| v.saturating_add(1));
        store::set_counts(&mut tx, &poll, &tallies, voters).await?;
        let inbox = author
            .inbox_url
            .clone()
            .or_else(|| author.shared_inbox_url.clone())
            .ok_or_else(|| anyhow::anyhow!("the poll's author has no inbox"))?;
        for (note_id, c) in &vote_uris {
            let activity = crate::federation::objects::vote(
                note_id,
                &voter.uri,
                &author.uri,
                &poll.options[*c as usize],
                &status.uri,
            );
            crate::service::delivery::enqueue(
                &mut tx,
                &activity,
                voter.id,
                std::slice::from_ref(&inbox),
                None,
            )
            .await?;
        }
    }
    tx.commit().await?;
    if !author.is_local() {
        state.delivery_wakeup.notify_one();
    }
    state.jobs_wakeup.notify_one();
    // The counts as they now stand; the caller's choices are the ones just made.
    let poll = store::find(&state.db, poll.id)
        .await?
        .ok_or(AppError::NotFound)?;
    picked.sort_unstable();
    Ok(entity(&poll, Some((voter.id, &picked)), Utc::now()))
}

/// Queues an `Update(Question)` with new counts, unless one is queued already.
async fn queue_update(tx: &mut Tx, poll_id: i64) -> AppResult<()> {
    if store::queue_update(tx, poll_id).await? {
        jobs::enqueue_at(
            tx,
            UPDATE_JOB,
            &json!({ "poll_id": poll_id }),
            Utc::now() + UPDATE_DELAY,
        )
        .await?;
    }
    Ok(())
}
