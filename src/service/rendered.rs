//! Statuses rendered once for nobody in particular and kept as JSON, and timeline pages assembled
//! from them with the viewer's flags (issue 23): a warm page costs one query for its IDs and the
//! viewer's flags, then only copies bytes, instead of reading every column of every row and
//! building and serializing each `Status` again.
//!
//! A kept status is its `Status` JSON (docs.joinmastodon.org/entities/Status/) as an anonymous
//! viewer gets it, up to but without its trailing `"reblog"` and viewer-specific fields, which
//! [`page`] writes per request. It is served while nothing it was built from changed since it was
//! read (`storage::changes`: the status's row, its author and mentioned accounts, its media, its
//! preview card, the author's avatar and header) and for at most [`RENDERED_TTL`], the bound for
//! writes by other processes. The cache is bounded by bytes ([`CAPACITY_BYTES`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::AppResult;
use crate::state::AppState;
use crate::storage::changes::{Kind, current, generation};
use crate::storage::statuses::{self, PageRow, ViewerState};

/// How long a rendered status is kept at most: as long as the accounts it embeds
/// (`render::ACCOUNTS_TTL`), the delay before another process's change (a favourite through
/// another node, a suspension by `rookery admin`) shows.
pub const RENDERED_TTL: Duration = crate::service::render::ACCOUNTS_TTL;

/// The most JSON kept, in bytes (about 5,000 statuses of 1.6 KB).
pub const CAPACITY_BYTES: u64 = 8 << 20;

/// What every serialized `Status` ends with when its `reblog` is empty and it has no viewer
/// fields (`api_types::status::Status` declares `reblog` last but for those).
const BARE_END: &[u8] = b",\"reblog\":null}";

/// Where the per-request tail of a kept status starts: `quote` and `quote_approval`, declared last
/// before `reblog`, change with the viewer and with the quote's approval.
const QUOTE_START: &[u8] = b",\"quote\":";

/// One status as kept: see the module's documentation.
pub struct Rendered {
    /// The `Status` JSON without its `quote`, `quote_approval` and [`BARE_END`]:
    /// `{"id":...,"quotes_count":N`.
    json: Box<[u8]>,
    id: i64,
    account_id: i64,
    conversation_id: i64,
    visibility: Box<str>,
    /// Who may quote it (`service::quotes::Policy` bits).
    quote_policy: i64,
    /// It quotes something: [`page`] renders the `Quote` afresh.
    has_quote: bool,
    /// Where its `Poll` lies in `json` (a byte range) and the poll's ID: [`page`] writes the poll
    /// afresh there, since its counts, `expired` and the viewer's votes change on their own.
    poll: Option<(std::ops::Range<usize>, i64)>,
    /// What the entry was built from, each as `storage::changes` marks it.
    sources: Box<[(Kind, i64)]>,
    generation: u64,
    at: Instant,
}

impl Rendered {
    fn current(&self) -> bool {
        self.at.elapsed() < RENDERED_TTL
            && self
                .sources
                .iter()
                .all(|(kind, key)| current(*kind, Some(*key), self.generation))
    }
}

/// Weighs an entry by its JSON's length.
#[derive(Clone)]
pub struct ByLength;

impl quick_cache::Weighter<i64, Arc<Rendered>> for ByLength {
    fn weight(&self, _: &i64, v: &Arc<Rendered>) -> u64 {
        v.json.len() as u64 + 64
    }
}

/// Rendered statuses by status ID (in `AppState`).
pub struct RenderedStatuses {
    entries: quick_cache::sync::Cache<i64, Arc<Rendered>, ByLength>,
}

impl Default for RenderedStatuses {
    fn default() -> Self {
        RenderedStatuses {
            entries: quick_cache::sync::Cache::with_weighter(
                (CAPACITY_BYTES / 1600) as usize,
                CAPACITY_BYTES,
                ByLength,
            ),
        }
    }
}

impl RenderedStatuses {
    fn get(&self, id: i64) -> Option<Arc<Rendered>> {
        self.entries.get(&id).filter(|r| r.current())
    }
}

/// Statuses by ID as kept, the others read and rendered (and kept unless they cannot be checked
/// for changes). IDs of statuses that no longer exist are left out.
async fn rendered(state: &AppState, ids: &[i64]) -> AppResult<HashMap<i64, Arc<Rendered>>> {
    let mut out = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for &id in ids {
        match state.rendered.get(id) {
            Some(r) => {
                out.insert(id, r);
            }
            None => missing.push(id),
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    missing.sort_unstable();
    missing.dedup();
    let generation = generation();
    let rows = statuses::find_many(&state.db, &missing).await?;
    let built = crate::service::render::unnested(state, &rows).await?;
    for (row, status) in rows.iter().zip(built) {
        let json =
            serde_json::to_vec(&status).map_err(|e| crate::error::AppError::Internal(e.into()))?;
        let Some(json) = json.strip_suffix(BARE_END) else {
            return Err(crate::error::AppError::Internal(anyhow::anyhow!(
                "status {} does not end with an empty reblog",
                row.id
            )));
        };
        // The first `,"quote":` is the field's: no field before it holds an object with that key,
        // and inside strings every quote mark is escaped.
        let Some(tail) = json
            .windows(QUOTE_START.len())
            .position(|w| w == QUOTE_START)
        else {
            return Err(crate::error::AppError::Internal(anyhow::anyhow!(
                "status {} has no quote field",
                row.id
            )));
        };
        let json = &json[..tail];
        let poll = match (&status.poll, row.poll_id) {
            (Some(p), Some(poll_id)) => {
                let mut needle = b"\"poll\":".to_vec();
                let start = needle.len();
                needle.extend(
                    serde_json::to_vec(p)
                        .map_err(|e| crate::error::AppError::Internal(e.into()))?,
                );
                json.windows(needle.len())
                    .position(|w| w == needle.as_slice())
                    .map(|at| (at + start..at + needle.len(), poll_id))
            }
            _ => None,
        };
        let mut sources = vec![(Kind::Statuses, row.id), (Kind::Accounts, row.account_id)];
        sources.extend(
            status
                .mentions
                .iter()
                .filter_map(|m| m.id.parse().ok())
                .map(|id| (Kind::Accounts, id)),
        );
        sources.extend(
            status
                .media_attachments
                .iter()
                .filter_map(|m| m.id.parse().ok())
                .map(|id| (Kind::Media, id)),
        );
        sources.extend(row.card_id.map(|id| (Kind::Cards, id)));
        // The author's avatar and header URLs come from their media rows; without the account
        // as kept (evicted meanwhile) those IDs are unknown, and the entry is used once only.
        let author = state.accounts.get(&row.account_id);
        if let Some(a) = &author {
            sources.extend(a.account.avatar_media_id.map(|id| (Kind::Media, id)));
            sources.extend(a.account.header_media_id.map(|id| (Kind::Media, id)));
        }
        let r = Arc::new(Rendered {
            json: json.into(),
            id: row.id,
            account_id: row.account_id,
            conversation_id: row.conversation_id,
            visibility: row.visibility.as_str().into(),
            quote_policy: row.quote_approval_policy,
            has_quote: status.quote.is_some(),
            poll,
            sources: sources.into(),
            generation,
            at: Instant::now(),
        });
        if author.is_some() {
            state.rendered.entries.insert(row.id, r.clone());
        }
        out.insert(row.id, r);
    }
    Ok(out)
}

/// The viewer-specific fields of a status, as `render::for_viewer` sets them: `target` is the
/// status whose favourite, boost and bookmark count (the boosted one for a boost), `own` the row
/// itself (pinned, muted thread).
fn write_viewer_fields(
    out: &mut Vec<u8>,
    viewer: i64,
    vs: &ViewerState,
    target: i64,
    own_id: i64,
    own: &Rendered,
) {
    let flag = |out: &mut Vec<u8>, name: &str, on: bool| {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(if on { b"\":true" } else { b"\":false" });
    };
    flag(out, "favourited", vs.favourited.contains(&target));
    flag(out, "reblogged", vs.reblogged.contains(&target));
    flag(
        out,
        "muted",
        vs.muted_conversations.contains(&own.conversation_id),
    );
    flag(out, "bookmarked", vs.bookmarked.contains(&target));
    if own.account_id == viewer {
        flag(out, "pinned", vs.pinned.contains(&own_id));
    }
    out.extend_from_slice(b",\"filtered\":[]");
}

/// What a page writes afresh into kept statuses: polls (by poll ID) and quotes (by quoting
/// status) as JSON, and the viewer's follows that quote policies ask about.
struct Fresh {
    viewer: Option<i64>,
    polls: HashMap<i64, Vec<u8>>,
    quotes: HashMap<i64, Vec<u8>>,
    following: std::collections::HashSet<i64>,
    followed_by: std::collections::HashSet<i64>,
}

/// One status of a page: the kept JSON, then `reblog` (the boosted status, itself with the
/// viewer's fields), then the viewer's fields (for a boost, favourited, boosted and bookmarked
/// are the boosted status's, as Mastodon shows them).
fn write_status(
    out: &mut Vec<u8>,
    viewer: Option<(i64, &ViewerState)>,
    id: i64,
    own: &Rendered,
    boosted: Option<(i64, &Rendered)>,
    fresh: &Fresh,
) {
    write_kept(out, own, boosted.map_or(own, |(_, b)| b), fresh);
    out.extend_from_slice(b",\"reblog\":");
    match boosted {
        Some((bid, b)) => {
            write_kept(out, b, b, fresh);
            out.extend_from_slice(b",\"reblog\":null");
            if let Some((v, vs)) = viewer {
                write_viewer_fields(out, v, vs, bid, bid, b);
            }
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    if let Some((v, vs)) = viewer {
        let target = boosted.map_or(id, |(bid, _)| bid);
        write_viewer_fields(out, v, vs, target, id, own);
    }
    out.push(b'}');
}

/// A kept status's JSON with its poll, if any, as it is now (from `fresh`), then its `quote` and
/// its `quote_approval` for the viewer (from `policy_of`: a boost's is the boosted status's).
fn write_kept(out: &mut Vec<u8>, r: &Rendered, policy_of: &Rendered, fresh: &Fresh) {
    match &r.poll {
        Some((range, poll_id)) => {
            let now = fresh
                .polls
                .get(poll_id)
                .map_or(&r.json[range.clone()], |p| p.as_slice());
            out.extend_from_slice(&r.json[..range.start]);
            out.extend_from_slice(now);
            out.extend_from_slice(&r.json[range.end..]);
        }
        None => out.extend_from_slice(&r.json),
    }
    out.extend_from_slice(QUOTE_START);
    match fresh.quotes.get(&r.id).filter(|_| r.has_quote) {
        Some(q) => out.extend_from_slice(q),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"quote_approval\":");
    let approval = crate::service::quotes::approval(
        policy_of.quote_policy,
        &policy_of.visibility,
        policy_of.account_id,
        fresh.viewer,
        fresh.following.contains(&policy_of.account_id),
        fresh.followed_by.contains(&policy_of.account_id),
    );
    // Serializing a struct of strings cannot fail.
    out.extend(serde_json::to_vec(&approval).unwrap_or_default());
}

/// A page of statuses as a JSON array of `Status`, in the order of `rows`, as `viewer` sees them
/// with their favourites, boosts, bookmarks, pins and thread mutes in `vs` (`None` for anonymous
/// viewers, who get no viewer fields). The same JSON as rendering each with `render::statuses`
/// for a viewer without filters. Rows whose status was deleted meanwhile are left out.
///
/// Errors: database errors while rendering statuses not kept.
pub async fn page(
    state: &AppState,
    viewer: Option<(i64, &ViewerState)>,
    rows: &[PageRow],
) -> AppResult<Vec<u8>> {
    let ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| std::iter::once(r.id).chain(r.reblog_of_id))
        .collect();
    let found = rendered(state, &ids).await?;
    let poll_ids: Vec<i64> = found
        .values()
        .filter_map(|r| r.poll.as_ref().map(|(_, p)| *p))
        .collect();
    let viewer_id = viewer.map(|(v, _)| v);
    let mut polls = HashMap::new();
    for (id, poll) in crate::service::polls::entities(state, viewer_id, &poll_ids).await? {
        let json =
            serde_json::to_vec(&poll).map_err(|e| crate::error::AppError::Internal(e.into()))?;
        polls.insert(id, json);
    }
    let quoting: Vec<i64> = found
        .values()
        .filter(|r| r.has_quote)
        .map(|r| r.id)
        .collect();
    let quote_rows = crate::storage::quotes::of_statuses(&state.db, &quoting).await?;
    let mut quotes = HashMap::new();
    for (id, q) in crate::service::render::quote_entities(state, viewer_id, &quote_rows, 0).await? {
        let json =
            serde_json::to_vec(&q).map_err(|e| crate::error::AppError::Internal(e.into()))?;
        quotes.insert(id, json);
    }
    let (following, followed_by) = crate::service::render::quote_follows(
        state,
        viewer_id,
        found.values().map(|r| (r.account_id, r.quote_policy)),
    )
    .await?;
    let fresh = Fresh {
        viewer: viewer_id,
        polls,
        quotes,
        following,
        followed_by,
    };
    let size: usize = found.values().map(|r| r.json.len() + 160).sum();
    let mut out = Vec::with_capacity(size + 2);
    out.push(b'[');
    for row in rows {
        let Some(own) = found.get(&row.id) else {
            continue;
        };
        if out.len() > 1 {
            out.push(b',');
        }
        let boosted = row
            .reblog_of_id
            .and_then(|b| found.get(&b).map(|r| (b, &**r)));
        write_status(&mut out, viewer, row.id, own, boosted, &fresh);
    }
    out.push(b']');
    Ok(out)
}
