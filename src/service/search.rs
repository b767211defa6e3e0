//! Search: accounts, statuses and hashtags, as `GET /api/v2/search` and
//! `GET /api/v1/accounts/search` find them (docs.joinmastodon.org/methods/search/). Full-text
//! search of direct messages is `service::conversations::search`.

use crate::api_types::status::Tag;
use crate::error::AppResult;
use crate::service::activitypub::context::FedData;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::statuses::{self, ANONYMOUS, StatusRow};
use crate::storage::tags;

/// Accounts matching `q`: an exact `user@domain` or URL (resolved over the network with
/// `resolve`), else local accounts by username or display name, `limit` from `offset`.
///
/// Errors: database errors; a failed resolution finds nothing.
pub async fn accounts(
    data: &FedData,
    q: &str,
    resolve: bool,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<AccountRow>> {
    let state: &AppState = data;
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let exact = q.starts_with("http://")
        || q.starts_with("https://")
        || matches!(
            crate::service::accounts::parse_acct(q, &state.config.server.domain),
            Some((_, Some(_)))
        );
    if exact {
        return Ok(crate::service::resolve::account(data, q, resolve)
            .await?
            .into_iter()
            .collect());
    }
    Ok(accounts::search_local(&state.db, q.trim_start_matches('@'), limit, offset).await?)
}

/// The known status whose ID or URL is `url`, when `viewer` (`None`: anonymous) may see it.
///
/// Errors: database errors.
pub async fn status_by_url(
    state: &AppState,
    viewer: Option<i64>,
    url: &str,
) -> AppResult<Option<StatusRow>> {
    let Some(s) = statuses::find_by_uri_or_url(&state.db, url).await? else {
        return Ok(None);
    };
    Ok(statuses::find_visible(&state.db, s.id, viewer.unwrap_or(ANONYMOUS)).await?)
}

/// Hashtags starting with `q` (a name as `service::tags::name_of` takes it, else none), `limit`
/// from `offset`, as `Tag` entities with their seven days of history (and, for a signed-in
/// `viewer`, whether they follow each).
///
/// Errors: database errors.
pub async fn hashtags(
    state: &AppState,
    viewer: Option<i64>,
    q: &str,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Tag>> {
    let Some(name) = crate::service::tags::name_of(q) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for row in tags::search_prefix(&state.db, name, limit, offset).await? {
        out.push(crate::service::tags::entity(state, &row, viewer).await?);
    }
    Ok(out)
}

/// Longest full-text query read, in characters, and most terms and operators in one.
pub const QUERY_MAX_CHARS: usize = 500;
pub const QUERY_MAX_TERMS: usize = 16;

/// Splits a query into tokens: words, `"quoted phrases"`, `key:value` operators (the value may be
/// quoted), each possibly negated with a leading `-`. Returns `(negated, key, value)`; `key` is
/// empty for words and phrases.
fn tokens(q: &str) -> Vec<(bool, String, String)> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let negated = c == '-';
        if negated {
            chars.next();
        }
        let mut key = String::new();
        let mut value = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c == '"' {
                chars.next();
                quoted = true;
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    value.push(c);
                }
                break;
            }
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == ':' && key.is_empty() && !value.is_empty() {
                let k = value.to_lowercase();
                if matches!(
                    k.as_str(),
                    "from" | "has" | "is" | "language" | "before" | "after" | "during" | "in"
                ) {
                    key = k;
                    value.clear();
                    continue;
                }
            }
            value.push(c);
        }
        let value = value.trim().to_string();
        if !value.is_empty() || quoted {
            out.push((negated, key, value));
        }
    }
    out
}

/// A day given as `YYYY-MM-DD`, as the UTC midnight that starts it.
fn day(v: &str) -> AppResult<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            crate::error::AppError::unprocessable(format!("{v:?} is not a date (YYYY-MM-DD)"))
        })
}

/// Reads Mastodon's status search syntax (docs.joinmastodon.org, "Search"): words, `"phrases"`,
/// `-exclusions`, `from:user`/`from:user@domain`/`from:me`, `has:media|poll|link`,
/// `is:reply|sensitive`, `language:xx`, `before:`/`after:`/`during:YYYY-MM-DD`, each operator
/// negatable with `-`. `None` when the query names an author who is not known here (nothing can
/// match).
///
/// Errors: 422 for a query over [`QUERY_MAX_CHARS`] characters or [`QUERY_MAX_TERMS`] terms, an
/// unknown `has:`/`is:` value, or a malformed date.
pub async fn parse_status_query(
    state: &AppState,
    viewer: Option<i64>,
    q: &str,
) -> AppResult<Option<statuses::StatusQuery>> {
    use crate::error::AppError;
    if q.chars().count() > QUERY_MAX_CHARS {
        return Err(AppError::unprocessable(format!(
            "Validation failed: a search is at most {QUERY_MAX_CHARS} characters"
        )));
    }
    let tokens = tokens(q);
    if tokens.len() > QUERY_MAX_TERMS {
        return Err(AppError::unprocessable(format!(
            "Validation failed: a search has at most {QUERY_MAX_TERMS} terms"
        )));
    }
    let mut out = statuses::StatusQuery::default();
    for (negated, key, value) in tokens {
        let lower = value.to_lowercase();
        let set = |slot: &mut Option<bool>| *slot = Some(!negated);
        match key.as_str() {
            "" => out.terms.push((value, negated)),
            "from" => {
                let handle = lower.trim_start_matches('@');
                let account = if handle == "me" {
                    viewer
                } else {
                    let (user, domain) = match handle.split_once('@') {
                        Some((u, d)) => (u, Some(d)),
                        None => (handle, None),
                    };
                    let own = state.config.server.domain.to_lowercase();
                    let domain = domain.filter(|d| *d != own);
                    accounts::find_account_by_acct(&state.db, user, domain)
                        .await?
                        .map(|a| a.id)
                };
                match (account, negated) {
                    (Some(id), false) => out.from.push(id),
                    (Some(id), true) => out.not_from.push(id),
                    (None, false) => return Ok(None),
                    (None, true) => {}
                }
            }
            "has" => match lower.as_str() {
                "media" | "image" | "video" | "audio" => set(&mut out.has_media),
                "poll" => set(&mut out.has_poll),
                "link" | "embed" => set(&mut out.has_link),
                other => {
                    return Err(AppError::unprocessable(format!(
                        "Validation failed: has:{other} is not one of media, poll, link"
                    )));
                }
            },
            "is" => match lower.as_str() {
                "reply" => set(&mut out.is_reply),
                "sensitive" => set(&mut out.is_sensitive),
                other => {
                    return Err(AppError::unprocessable(format!(
                        "Validation failed: is:{other} is not one of reply, sensitive"
                    )));
                }
            },
            "language" => out
                .language
                .push((lower.chars().take(16).collect(), negated)),
            "before" => out.before = Some(day(&value)?),
            "after" => out.after = Some(day(&value)? + chrono::Duration::days(1)),
            "during" => {
                let d = day(&value)?;
                out.after = Some(d);
                out.before = Some(d + chrono::Duration::days(1));
            }
            // `in:library` / `in:all`: every status the caller may find is searched anyway.
            _ => {}
        }
    }
    out.terms.retain(|(t, _)| !t.trim().is_empty());
    Ok(Some(out))
}

/// Full-text search of statuses for `GET /api/v2/search?type=statuses` (see
/// `storage::statuses::search_statuses` for who finds what), optionally by one account.
///
/// Errors: as [`parse_status_query`].
pub async fn statuses(
    state: &AppState,
    viewer: Option<i64>,
    q: &str,
    account_id: Option<i64>,
    (max_id, min_id): (Option<i64>, Option<i64>),
    limit: i64,
    offset: i64,
) -> AppResult<Vec<StatusRow>> {
    let page = crate::storage::sql::Page {
        max_id,
        since_id: None,
        min_id,
        limit,
    };
    let Some(mut query) = parse_status_query(state, viewer, q).await? else {
        return Ok(Vec::new());
    };
    if let Some(a) = account_id {
        if !query.from.is_empty() && !query.from.contains(&a) {
            return Ok(Vec::new());
        }
        query.from = vec![a];
    }
    let ids = statuses::search_statuses(
        &state.db,
        viewer.unwrap_or(ANONYMOUS),
        &query,
        &page,
        offset,
    )
    .await?;
    let mut rows = statuses::find_many(&state.db, &ids).await?;
    rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    Ok(rows)
}

/// Job kind: indexing, in batches, the statuses stored before the SQLite index existed.
pub const BACKFILL_JOB: &str = "status_search_backfill";
const BACKFILL_BATCH: i64 = 500;

/// Runs the backfill worker (its one job is queued by migration 0031 on SQLite).
pub fn spawn_backfill(state: &AppState) -> tokio::task::JoinHandle<()> {
    let s = state.clone();
    tokio::spawn(crate::jobs::run_worker(
        state.db.clone(),
        BACKFILL_JOB,
        1,
        10,
        state.jobs_wakeup.clone(),
        move |job| {
            let s = s.clone();
            async move {
                let after = job.payload["after"].as_i64().unwrap_or(0);
                match backfill(&s, after).await {
                    Ok(()) => crate::jobs::Outcome::Done,
                    Err(e) => crate::jobs::Outcome::Retry(e.to_string()),
                }
            }
        },
        |_, _| async {},
    ))
}

/// Indexes one batch after `after`, and queues the next while there is more.
async fn backfill(state: &AppState, after: i64) -> AppResult<()> {
    let rows = statuses::unindexed_after(&state.db, after, BACKFILL_BATCH).await?;
    let mut tx = state.db.begin().await?;
    for (id, content, spoiler) in &rows {
        statuses::index_search(&mut tx, *id, &statuses::indexed_text(content, spoiler)).await?;
    }
    if let Some((last, ..)) = rows.last()
        && rows.len() as i64 == BACKFILL_BATCH
    {
        crate::jobs::enqueue(&mut tx, BACKFILL_JOB, &serde_json::json!({ "after": last })).await?;
    }
    tx.commit().await?;
    if rows.len() as i64 == BACKFILL_BATCH {
        state.jobs_wakeup.notify_one();
    }
    Ok(())
}
