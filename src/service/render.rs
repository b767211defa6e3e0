//! Building API entities from rows in batches: one query per kind of fact (authors, counts,
//! mentions, tags, viewer state) for a whole page, never one per status.

use std::collections::HashMap;
use std::sync::Arc;

use crate::api_types::account::AccountStats;
use crate::api_types::status::{Mention, Notification, Status, StatusApplication, StatusTag};
use crate::api_types::{Account, CredentialAccount};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow, AccountWithStats, UserRow};
use crate::storage::notifications::NotificationRow;
use crate::storage::statuses::{self, ANONYMOUS, StatusRow};
use crate::storage::{oauth, relationships};

/// How long an account with its counters is kept at most: the delay before a change made by
/// another process (`rookery admin account suspend`) shows in rendered accounts. Changes made
/// in this process show at once (`storage::changes::Kind::Accounts`).
pub const ACCOUNTS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// What an account's entity needs besides its row and counters: avatar and header URLs, and the
/// custom emojis of its name, bio and fields, by account ID.
struct AccountExtras {
    images: HashMap<i64, (Option<String>, Option<String>)>,
    emojis: HashMap<i64, Vec<crate::api_types::CustomEmoji>>,
    /// `Account.moved` of the accounts that moved, by their ID.
    moved: HashMap<i64, Account>,
}

fn to_entity(state: &AppState, r: &AccountWithStats, extras: &AccountExtras) -> Account {
    let mut a = Account::from_row(&r.account, &state.config).with_stats(AccountStats {
        statuses_count: r.statuses_count.unwrap_or(0),
        followers_count: r.followers_count.unwrap_or(0),
        following_count: r.following_count.unwrap_or(0),
        last_status_at: r.last_status_at,
    });
    if let Some(e) = extras.emojis.get(&r.account.id) {
        a.emojis = e.clone();
    }
    if let Some(m) = r
        .account
        .moved_to_account_id
        .and_then(|t| extras.moved.get(&t))
    {
        a.moved = Some(Box::new(m.clone()));
    }
    if let Some((avatar, header)) = extras.images.get(&r.account.id) {
        if let Some(url) = avatar {
            a.avatar = url.clone();
            a.avatar_static = url.clone();
        }
        if let Some(url) = header {
            a.header = url.clone();
            a.header_static = url.clone();
        }
    }
    a
}

/// Avatar and header URLs of the accounts that have them (one query, none when no account has),
/// the emojis of those whose texts use any (one query per server among them), and the accounts
/// moved ones moved to (read only when one has moved; not nested further).
async fn image_urls(state: &AppState, found: &[Arc<AccountWithStats>]) -> AppResult<AccountExtras> {
    let mut extras = own_extras(state, found).await?;
    let targets: Vec<i64> = found
        .iter()
        .filter_map(|f| f.account.moved_to_account_id)
        .collect();
    if !targets.is_empty() {
        let moved = with_stats(state, &targets).await?;
        let moved_extras = own_extras(state, &moved).await?;
        extras.moved = moved
            .iter()
            .map(|m| (m.account.id, to_entity(state, m, &moved_extras)))
            .collect();
    }
    Ok(extras)
}

/// [`image_urls`] without the moved-to accounts.
async fn own_extras(state: &AppState, found: &[Arc<AccountWithStats>]) -> AppResult<AccountExtras> {
    let items: Vec<(i64, Option<&str>, String)> = found
        .iter()
        .map(|f| {
            let a = &f.account;
            let mut text = format!("{} {}", a.display_name, a.note);
            for field in &a.fields.0 {
                text.push(' ');
                text.push_str(&field.name);
                text.push(' ');
                text.push_str(&field.value);
            }
            (a.id, a.domain.as_deref(), text)
        })
        .filter(|(_, _, t)| t.contains(':'))
        .collect();
    let emojis = crate::service::emojis::used_in_many(state, &items).await?;
    Ok(AccountExtras {
        images: profile_images(state, found).await?,
        emojis,
        moved: HashMap::new(),
    })
}

async fn profile_images(
    state: &AppState,
    found: &[Arc<AccountWithStats>],
) -> AppResult<HashMap<i64, (Option<String>, Option<String>)>> {
    let pairs: Vec<(i64, Option<i64>, Option<i64>)> = found
        .iter()
        .filter(|f| f.account.avatar_media_id.is_some() || f.account.header_media_id.is_some())
        .map(|f| {
            (
                f.account.id,
                f.account.avatar_media_id,
                f.account.header_media_id,
            )
        })
        .collect();
    crate::service::media::profile_image_urls(state, &pairs).await
}

/// Accounts by ID with their counters (unknown IDs left out, in no particular order): from
/// [`AppState::accounts`], else one query for those not kept (which are kept then).
async fn with_stats(state: &AppState, ids: &[i64]) -> AppResult<Vec<Arc<AccountWithStats>>> {
    let mut found = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match state.accounts.get(id) {
            Some(a) => found.push(a),
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let generation = state.accounts.generation();
    for a in accounts::find_accounts_with_stats(&state.db, &missing).await? {
        let a = Arc::new(a);
        state.accounts.insert(a.account.id, a.clone(), generation);
        found.push(a);
    }
    Ok(found)
}

/// Accounts with their counters, in the order given.
pub async fn accounts(state: &AppState, rows: &[AccountRow]) -> AppResult<Vec<Account>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let found = with_stats(state, &ids).await?;
    let images = image_urls(state, &found).await?;
    Ok(rows
        .iter()
        .filter_map(|r| found.iter().find(|f| f.account.id == r.id))
        .map(|f| to_entity(state, f, &images))
        .collect())
}

pub async fn account(state: &AppState, row: &AccountRow) -> AppResult<Account> {
    // Not found when the account is gone meanwhile (or not yet on a replica that is behind).
    accounts(state, std::slice::from_ref(row))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

/// The signed-in user's own account, with `source` and `role`.
pub async fn credential_account(
    state: &AppState,
    row: &AccountRow,
    user: &UserRow,
) -> AppResult<CredentialAccount> {
    let account = account(state, row).await?;
    let requests = relationships::request_count(&state.db, row.id).await?;
    Ok(CredentialAccount::from_rows(account, row, user, requests))
}

/// Accounts by ID, in the order of `ids` (unknown IDs skipped).
pub async fn accounts_by_id(state: &AppState, ids: &[i64]) -> AppResult<Vec<Account>> {
    let found = with_stats(state, ids).await?;
    let images = image_urls(state, &found).await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|f| f.account.id == *id))
        .map(|f| to_entity(state, f, &images))
        .collect())
}

/// Statuses as `viewer` sees them (`None`: anonymous), in the order given.
pub async fn statuses(
    state: &AppState,
    viewer: Option<i64>,
    rows: Vec<StatusRow>,
) -> AppResult<Vec<Status>> {
    statuses_with(state, viewer, rows, None).await
}

/// [`statuses`] with the viewer's state of these rows already read (as
/// `storage::statuses::home_with_viewer_state` does with the page), so it is not read again.
pub async fn statuses_with(
    state: &AppState,
    viewer: Option<i64>,
    rows: Vec<StatusRow>,
    viewer_state: Option<statuses::ViewerState>,
) -> AppResult<Vec<Status>> {
    build_statuses(state, viewer, &rows, viewer_state, true, 0).await
}

/// Statuses as an anonymous viewer sees them, in the order given, each on its own: a boost's
/// `reblog` is left empty (`service::rendered` keeps statuses this way and nests them per page).
pub async fn unnested(state: &AppState, rows: &[StatusRow]) -> AppResult<Vec<Status>> {
    build_statuses(state, None, rows, Some(Default::default()), false, 0).await
}

/// [`statuses_with`], nesting boosted statuses (read when not among `rows`) only when `nest`.
/// `depth` 0 renders quotes in full (the quoted status inside); quoted statuses themselves are
/// rendered at depth 1, with shallow quotes.
async fn build_statuses(
    state: &AppState,
    viewer: Option<i64>,
    rows: &[StatusRow],
    viewer_state: Option<statuses::ViewerState>,
    nest: bool,
    depth: u8,
) -> AppResult<Vec<Status>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let db = &state.db;
    // The page's rows and the boosted statuses not on it, by ID (borrowed: a page's rows are not
    // copied).
    let on_page: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
    let missing: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.reblog_of_id)
        .filter(|id| nest && !on_page.contains(id))
        .collect();
    let boosted = statuses::find_many(db, &missing).await?;
    let all: HashMap<i64, &StatusRow> = rows
        .iter()
        .chain(boosted.iter())
        .map(|r| (r.id, r))
        .collect();
    let status_ids: Vec<i64> = all.keys().copied().collect();
    let links = status_links(state, &status_ids).await?;
    let vs = &match viewer_state {
        Some(vs) => vs,
        None => statuses::viewer_state(db, viewer.unwrap_or(ANONYMOUS), &status_ids).await?,
    };
    let mut account_ids: Vec<i64> = all.values().map(|s| s.account_id).collect();
    account_ids.extend(links.values().flat_map(|l| l.mentions.iter().copied()));
    account_ids.sort_unstable();
    account_ids.dedup();
    let found = with_stats(state, &account_ids).await?;
    let images = image_urls(state, &found).await?;
    let rendered: Vec<Account> = found.iter().map(|f| to_entity(state, f, &images)).collect();
    let with_media: Vec<i64> = all.values().filter(|s| s.has_media).map(|s| s.id).collect();
    let media = crate::service::media::of_statuses(state, &with_media).await?;
    let acc: HashMap<i64, (&AccountRow, &Account)> = found
        .iter()
        .zip(rendered.iter())
        .map(|(r, a)| (r.account.id, (&r.account, a)))
        .collect();
    let mut apps: HashMap<i64, StatusApplication> = HashMap::new();
    for app_id in all.values().filter_map(|s| s.application_id) {
        if apps.contains_key(&app_id) {
            continue;
        }
        if let Some(a) = application(state, app_id).await? {
            apps.insert(app_id, a);
        }
    }
    let card_ids: Vec<i64> = all.values().filter_map(|s| s.card_id).collect();
    let cards: HashMap<i64, serde_json::Value> = crate::storage::cards::find_many(db, &card_ids)
        .await?
        .iter()
        .map(|c| (c.id, crate::service::cards::entity(c)))
        .collect();
    let poll_ids: Vec<i64> = all.values().filter_map(|s| s.poll_id).collect();
    let polls = crate::service::polls::entities(state, viewer, &poll_ids).await?;
    // Custom emojis of each status: its text, content warning and poll options, looked up among
    // its author's server's emojis (one query per server, none when no text names any).
    let emoji_items: Vec<(i64, Option<&str>, String)> = all
        .values()
        .map(|s| {
            let domain = acc
                .get(&s.account_id)
                .and_then(|(r, _)| r.domain.as_deref());
            let mut text = format!("{} {}", s.content, s.spoiler_text);
            if let Some(p) = s.poll_id.and_then(|p| polls.get(&p)) {
                for o in &p.options {
                    text.push(' ');
                    text.push_str(&o.title);
                }
            }
            (s.id, domain, text)
        })
        .filter(|(_, _, t)| t.contains(':'))
        .collect();
    let status_emojis = crate::service::emojis::used_in_many(state, &emoji_items).await?;
    // Quotes: what each status quotes, how often each is quoted, and the viewer's follows with
    // the authors whose quote policies ask for them.
    let facts = quote_facts(state, &status_ids).await?;
    let quote_rows: Vec<crate::storage::quotes::QuoteRow> =
        facts.values().filter_map(|f| f.quote.clone()).collect();
    let quotes = quote_entities(state, viewer, &quote_rows, depth).await?;
    let quote_counts: HashMap<i64, i64> =
        facts.iter().map(|(id, f)| (*id, f.quotes_count)).collect();
    let (following, followed_by) = quote_follows(
        state,
        viewer,
        all.values()
            .map(|s| (s.account_id, s.quote_approval_policy)),
    )
    .await?;
    let base = state.config.base_url();
    let build = |s: &StatusRow| -> AppResult<Status> {
        let (_, author) = acc.get(&s.account_id).ok_or(AppError::NotFound)?;
        let no_links = StatusLinks::default();
        let l = links.get(&s.id).map_or(&no_links, |l| &**l);
        let ms = l
            .mentions
            .iter()
            .filter_map(|a| acc.get(a))
            .map(|(row, a)| Mention {
                id: a.id.clone(),
                username: a.username.clone(),
                url: row.url.clone().unwrap_or_else(|| row.uri.clone()),
                acct: a.acct.clone(),
            })
            .collect();
        let ts = l
            .tags
            .iter()
            .map(|name| StatusTag {
                url: format!("{base}/tags/{}", urlencoding::encode(name)),
                name: name.clone(),
            })
            .collect();
        let st = Status {
            id: s.id.to_string(),
            uri: s.uri.clone(),
            url: s.url.clone(),
            created_at: s.created_at,
            account: (*author).clone(),
            content: s.content.clone(),
            visibility: s.visibility.clone(),
            sensitive: s.sensitive,
            spoiler_text: s.spoiler_text.clone(),
            media_attachments: media.get(&s.id).cloned().unwrap_or_default(),
            application: s.application_id.and_then(|id| apps.get(&id).cloned()),
            mentions: ms,
            tags: ts,
            emojis: status_emojis.get(&s.id).cloned().unwrap_or_default(),
            reblogs_count: s.reblogs_count,
            favourites_count: s.favourites_count,
            replies_count: s.replies_count,
            in_reply_to_id: s.in_reply_to_id.map(|i| i.to_string()),
            in_reply_to_account_id: s.in_reply_to_account_id.map(|i| i.to_string()),
            reblog: None,
            poll: s.poll_id.and_then(|p| polls.get(&p).cloned()),
            card: s.card_id.and_then(|c| cards.get(&c).cloned()),
            language: s.language.clone(),
            text: None,
            edited_at: s.edited_at,
            favourited: None,
            reblogged: None,
            muted: None,
            bookmarked: None,
            pinned: None,
            filtered: None,
            short: s.short,
            views_count: s.views_count,
            quotes_count: quote_counts.get(&s.id).copied().unwrap_or(0),
            quote: quotes.get(&s.id).cloned(),
            quote_approval: crate::service::quotes::approval(
                s.quote_approval_policy,
                &s.visibility,
                s.account_id,
                viewer,
                following.contains(&s.account_id),
                followed_by.contains(&s.account_id),
            ),
        };
        Ok(match viewer {
            Some(v) => for_viewer(st, v, s.conversation_id, vs),
            None => st,
        })
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut st = build(r)?;
        if let Some(orig) = r.reblog_of_id.filter(|_| nest).and_then(|id| all.get(&id)) {
            let inner = build(orig)?;
            // A boost shows the original's state for the viewer, as Mastodon does.
            st.favourited = inner.favourited;
            st.reblogged = inner.reblogged;
            st.bookmarked = inner.bookmarked;
            // Who may quote a boost is who may quote what it boosts (Mastodon's `proper`).
            st.quote_approval = inner.quote_approval.clone();
            st.reblog = Some(Box::new(inner));
        }
        out.push(st);
    }
    Ok(out)
}

/// Of the authors of statuses with these `(author, quote policy)`, those `viewer` follows and
/// those following `viewer`, asked only about policies that depend on it.
pub async fn quote_follows(
    state: &AppState,
    viewer: Option<i64>,
    statuses: impl Iterator<Item = (i64, i64)>,
) -> AppResult<(
    std::collections::HashSet<i64>,
    std::collections::HashSet<i64>,
)> {
    let Some(v) = viewer else {
        return Ok(Default::default());
    };
    let mut authors: Vec<i64> = statuses
        .filter(|(a, p)| *a != v && crate::service::quotes::Policy::asks_follows(*p))
        .map(|(a, _)| a)
        .collect();
    authors.sort_unstable();
    authors.dedup();
    if authors.is_empty() {
        return Ok(Default::default());
    }
    let (f, b) = crate::storage::quotes::follow_links(&state.db, v, &authors).await?;
    Ok((f.into_iter().collect(), b.into_iter().collect()))
}

/// `Quote` entities (docs.joinmastodon.org/entities/Quote/) of these quotes as `viewer` sees
/// them, by quoting status: at `depth` 0 with the quoted status rendered inside when accepted and
/// shown to the viewer, deeper as a `ShallowQuote` (its ID only). An accepted quote whose quoted
/// status is gone is `deleted`, one the viewer may not see `unauthorized`, one whose author the
/// viewer blocks or mutes (or the reverse) `blocked_account`.
pub async fn quote_entities(
    state: &AppState,
    viewer: Option<i64>,
    rows: &[crate::storage::quotes::QuoteRow],
    depth: u8,
) -> AppResult<HashMap<i64, serde_json::Value>> {
    use crate::storage::quotes::ACCEPTED;
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let v = viewer.unwrap_or(ANONYMOUS);
    let accepted: Vec<i64> = rows
        .iter()
        .filter(|q| q.state == ACCEPTED)
        .filter_map(|q| q.quoted_status_id)
        .collect();
    let standing: HashMap<i64, (bool, bool)> =
        crate::storage::quotes::standing(&state.db, v, &accepted)
            .await?
            .into_iter()
            .map(|(id, visible, filtered)| (id, (visible, filtered)))
            .collect();
    let shown: Vec<i64> = standing
        .iter()
        .filter(|(_, (visible, filtered))| *visible && !*filtered)
        .map(|(id, _)| *id)
        .collect();
    let mut nested: HashMap<i64, Status> = HashMap::new();
    if depth == 0 && !shown.is_empty() {
        let quoted = statuses::find_many(&state.db, &shown).await?;
        for st in Box::pin(build_statuses(state, viewer, &quoted, None, true, 1)).await? {
            nested.insert(st.id.parse().unwrap_or_default(), st);
        }
    }
    let mut out = HashMap::with_capacity(rows.len());
    for q in rows {
        let shown_state = match (q.state.as_str(), q.quoted_status_id) {
            (ACCEPTED, None) => "deleted",
            (ACCEPTED, Some(id)) => match standing.get(&id) {
                Some((true, false)) => ACCEPTED,
                Some((true, true)) => "blocked_account",
                _ => "unauthorized",
            },
            (other, _) => other,
        };
        let quoted = q.quoted_status_id.filter(|_| shown_state == ACCEPTED);
        let value = if depth == 0 {
            serde_json::json!({
                "state": shown_state,
                "quoted_status": quoted.and_then(|id| nested.get(&id)),
            })
        } else {
            serde_json::json!({
                "state": shown_state,
                "quoted_status_id": quoted.map(|id| id.to_string()),
            })
        };
        out.insert(q.status_id, value);
    }
    Ok(out)
}

/// The accounts a status mentions and its hashtags (by name), as kept in
/// [`AppState::status_links`].
#[derive(Debug, Default)]
pub struct StatusLinks {
    pub mentions: Vec<i64>,
    pub tags: Vec<String>,
}

/// [`StatusLinks`] of these statuses, from [`AppState::status_links`] or one query for those not
/// kept (which are kept then).
async fn status_links(
    state: &AppState,
    ids: &[i64],
) -> AppResult<HashMap<i64, std::sync::Arc<StatusLinks>>> {
    let mut out = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match state.status_links.get(id) {
            Some(l) => {
                out.insert(*id, l);
            }
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let generation = state.status_links.generation();
    let (mentions, tags) = statuses::links_of(&state.db, &missing).await?;
    for id in missing {
        let l = std::sync::Arc::new(StatusLinks {
            mentions: mentions
                .iter()
                .filter(|(s, _)| *s == id)
                .map(|(_, a)| *a)
                .collect(),
            tags: tags
                .iter()
                .filter(|(s, _)| *s == id)
                .map(|(_, t)| t.clone())
                .collect(),
        });
        state.status_links.insert(id, l.clone(), generation);
        out.insert(id, l);
    }
    Ok(out)
}

/// How long [`QuoteFacts`] are kept at most: changes to quotes mark both statuses changed, this
/// bounds what a cascade in the database (a quoted account deleted) leaves stale.
pub const QUOTE_FACTS_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// What a status quotes (its quote row, whatever its state) and how many accepted quotes of it
/// there are: read once per status and kept ([`AppState::quote_facts`]), since nearly every
/// status has neither and asking costs two queries per page.
#[derive(Debug)]
pub struct QuoteFacts {
    pub quote: Option<crate::storage::quotes::QuoteRow>,
    pub quotes_count: i64,
}

/// [`QuoteFacts`] of these statuses, from [`AppState::quote_facts`] or two queries for those not
/// kept (which are kept then).
async fn quote_facts(
    state: &AppState,
    ids: &[i64],
) -> AppResult<HashMap<i64, std::sync::Arc<QuoteFacts>>> {
    let mut out = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match state.quote_facts.get(id) {
            Some(f) => {
                out.insert(*id, f);
            }
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let generation = state.quote_facts.generation();
    let mut rows = crate::storage::quotes::of_statuses(&state.db, &missing).await?;
    let counts = crate::storage::quotes::accepted_counts(&state.db, &missing).await?;
    for id in missing {
        let f = std::sync::Arc::new(QuoteFacts {
            quote: rows
                .iter()
                .position(|q| q.status_id == id)
                .map(|i| rows.swap_remove(i)),
            quotes_count: counts.iter().find(|(s, _)| *s == id).map_or(0, |(_, n)| *n),
        });
        state.quote_facts.insert(id, f.clone(), generation);
        out.insert(id, f);
    }
    Ok(out)
}

/// The application a status was posted with, by ID: from [`AppState::applications`], else read
/// and kept. Applications never change once registered and are never deleted, so a kept one is
/// never stale.
async fn application(state: &AppState, id: i64) -> AppResult<Option<StatusApplication>> {
    if let Some(a) = state.applications.get(&id) {
        return Ok(Some(a));
    }
    let Some(a) = oauth::find_application(&state.db, id).await? else {
        return Ok(None);
    };
    let app = StatusApplication {
        name: a.name,
        website: a.website,
    };
    state.applications.insert(id, app.clone());
    Ok(Some(app))
}

pub async fn status(state: &AppState, viewer: Option<i64>, row: StatusRow) -> AppResult<Status> {
    statuses(state, viewer, vec![row])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// A status rendered for nobody in particular (see [`statuses`] with `None`), made `viewer`'s: its
/// favourited, boosted, bookmarked, muted and pinned flags from `vs`. `conversation_id` is the
/// status's thread. Not for boosts (their flags come from the boosted status).
pub fn for_viewer(
    mut s: Status,
    viewer: i64,
    conversation_id: i64,
    vs: &crate::storage::statuses::ViewerState,
) -> Status {
    let id: i64 = s.id.parse().unwrap_or_default();
    s.favourited = Some(vs.favourited.contains(&id));
    s.reblogged = Some(vs.reblogged.contains(&id));
    s.bookmarked = Some(vs.bookmarked.contains(&id));
    s.muted = Some(vs.muted_conversations.contains(&conversation_id));
    s.pinned = (s.account.id == viewer.to_string()).then(|| vs.pinned.contains(&id));
    s.filtered = Some(Vec::new());
    s
}

/// Notifications with their accounts and statuses (as the recipient sees them).
pub async fn notifications(
    state: &AppState,
    viewer: i64,
    rows: Vec<NotificationRow>,
) -> AppResult<Vec<Notification>> {
    let account_ids: Vec<i64> = rows.iter().map(|n| n.from_account_id).collect();
    let accounts = accounts_by_id(state, &account_ids).await?;
    let status_ids: Vec<i64> = rows.iter().filter_map(|n| n.status_id).collect();
    let status_rows = statuses::find_many(&state.db, &status_ids).await?;
    let rendered = statuses(state, Some(viewer), status_rows).await?;
    let now = chrono::Utc::now();
    let mut story_rows = Vec::new();
    for sid in rows.iter().filter_map(|n| n.story_id) {
        if let Some(s) = crate::storage::stories::find_live(&state.db, sid, now).await? {
            story_rows.push(s);
        }
    }
    let stories = crate::service::stories::render(state, Some(viewer), story_rows).await?;
    let grouped: Vec<String> = crate::service::grouped_notifications::GROUPED_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect();
    let mut out = Vec::new();
    for n in rows {
        let Some(account) = accounts
            .iter()
            .find(|a| a.id == n.from_account_id.to_string())
        else {
            continue;
        };
        let status = n
            .status_id
            .and_then(|sid| rendered.iter().find(|s| s.id == sid.to_string()).cloned());
        if n.status_id.is_some() && status.is_none() {
            continue;
        }
        let report = match n.report_id {
            Some(rid) => match crate::storage::reports::find(&state.db, rid).await? {
                Some(r) => Some(crate::service::moderation::report_entity(state, &r).await?),
                None => continue,
            },
            None => None,
        };
        out.push(Notification {
            id: n.id.to_string(),
            group_key: crate::service::grouped_notifications::group_key(&n, &grouped),
            r#type: n.r#type.clone(),
            created_at: n.created_at,
            account: account.clone(),
            status,
            story: n
                .story_id
                .and_then(|sid| stories.iter().find(|s| s.id == sid.to_string()).cloned()),
            emoji: n.emoji.clone(),
            report,
        });
    }
    Ok(out)
}
