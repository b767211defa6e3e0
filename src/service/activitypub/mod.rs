//! The ActivityPub documents of local accounts and statuses: actors, outbox, followers,
//! following, featured, and Notes at their IDs. Only public and unlisted statuses are served to
//! unauthenticated fetches; followers-only and direct ones need a signed fetch from an addressed
//! actor or its server (see [`note_document`]).
//!
//! Below them, the binding of `activitypub_federation` to the instance: its configuration
//! (`context`), accounts and Notes as fetchable objects (`actors`, `notes`: remote ones are
//! fetched, checked and stored), local actors' keys (`keys`), who signed a GET (`signed_fetch`),
//! and queued outgoing activities (`stored`). Receiving activities is `federation::inbound`.

pub mod actors;
pub mod context;
pub mod keys;
pub mod notes;
pub mod signed_fetch;
pub mod stored;

use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::federation::objects::{self, NoteParts};
use crate::federation::protocol;
use crate::federation::protocol::actor::Person;
use crate::federation::protocol::collection::{OrderedCollection, OrderedCollectionPage};
use crate::federation::protocol::note::Note;
use crate::service::activitypub::context::FedData;
use crate::service::activitypub::signed_fetch::GetRequest;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::relationships::{self as rel, AccountList};
use crate::storage::sql::Page;
use crate::storage::statuses::{self, ANONYMOUS, AccountFilter, StatusRow};

/// Items per collection page.
const PAGE_SIZE: i64 = 20;

/// Adds the JSON-LD context to a document.
pub fn with_context(doc: impl serde::Serialize) -> AppResult<Value> {
    let mut v = serde_json::to_value(doc).map_err(anyhow::Error::from)?;
    if let Value::Object(map) = &mut v {
        let mut out = serde_json::Map::new();
        out.insert("@context".into(), protocol::context());
        out.extend(std::mem::take(map));
        return Ok(Value::Object(out));
    }
    Ok(v)
}

/// The ID at `field` of an activity or object: the string, or the `id` of an object there.
pub fn str_at<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    match v.get(field)? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// A local account that may be shown (exists, approved, not disabled).
///
/// Errors: 404 unknown, unapproved or disabled; 410 suspended.
pub async fn local_account(state: &AppState, username: &str) -> AppResult<AccountRow> {
    let a = accounts::find_local_account_by_username(&state.db, username)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = accounts::find_user_by_account(&state.db, a.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !user.approved || user.disabled {
        return Err(AppError::NotFound);
    }
    if a.suspended_at.is_some() {
        return Err(AppError::Gone("This account is suspended".into()));
    }
    Ok(a)
}

/// The actor document (generating the account's key pair on first use).
pub async fn actor(state: &AppState, username: &str) -> AppResult<Person> {
    let a = local_account(state, username).await?;
    let pem = keys::public_key_pem(state, &a).await?;
    person_of(state, &a, &pem).await
}

/// The `Person` of a local account with its avatar (`icon`) and header (`image`).
pub async fn person_of(state: &AppState, a: &AccountRow, pem: &str) -> AppResult<Person> {
    let mut person = objects::person(&state.config, a, pem);
    let ids: Vec<i64> = [a.avatar_media_id, a.header_media_id]
        .into_iter()
        .flatten()
        .collect();
    let rows = crate::storage::media::find_many(&state.db, &ids).await?;
    let image_of = |id: Option<i64>| {
        let row = rows.iter().find(|r| Some(r.id) == id)?;
        Some(crate::federation::protocol::actor::Image {
            kind: "Image".into(),
            media_type: row.file_content_type.clone(),
            url: url::Url::parse(&state.media.url(row.file_key.as_deref()?)).ok()?,
        })
    };
    person.icon = image_of(a.avatar_media_id);
    person.image = image_of(a.header_media_id);
    person.also_known_as = crate::storage::account_moves::aliases(&state.db, a.id)
        .await?
        .iter()
        .filter_map(|alias| url::Url::parse(&alias.uri).ok())
        .collect();
    if let Some(target) = a.moved_to_account_id {
        person.moved_to = accounts::find_account(&state.db, target)
            .await?
            .and_then(|t| url::Url::parse(&t.uri).ok());
    }
    let mut texts: Vec<&str> = vec![&a.display_name, &a.note];
    texts.extend(
        a.fields
            .0
            .iter()
            .flat_map(|f| [f.name.as_str(), f.value.as_str()]),
    );
    let used = crate::service::emojis::local_rows_in(state, &texts).await?;
    person.tag = crate::service::emojis::tags(state, &used);
    Ok(person)
}

fn u(s: &str) -> AppResult<url::Url> {
    url::Url::parse(s).map_err(|e| AppError::Internal(e.into()))
}

/// The Note of a status (public or unlisted, by a local account), with its mentions, hashtags,
/// parent and thread.
pub async fn note_of(state: &AppState, s: &StatusRow) -> AppResult<Note> {
    let author = accounts::find_account(&state.db, s.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let facts = statuses::facts_of(&state.db, ANONYMOUS, &[s.id]).await?;
    let mention_ids: Vec<i64> = facts.mentions.iter().map(|(_, a)| *a).collect();
    let mentions = accounts::find_accounts(&state.db, &mention_ids).await?;
    let tags: Vec<String> = facts.tags.into_iter().map(|(_, t)| t).collect();
    let parent_uri = match s.in_reply_to_id {
        Some(p) => statuses::find(&state.db, p).await?.map(|p| p.uri),
        None => None,
    };
    let conversation_uri = match statuses::find(&state.db, s.conversation_id).await? {
        Some(root) => format!("{}#context", root.uri),
        None => format!("{}/contexts/{}", state.config.base_url(), s.conversation_id),
    };
    let media = crate::storage::media::of_statuses(&state.db, &[s.id]).await?;
    let attachments = crate::service::media::ap_attachments(state, &media);
    let poll = match s.poll_id {
        Some(id) => crate::storage::polls::find(&state.db, id).await?,
        None => None,
    };
    let emojis = note_emojis(state, s, poll.as_ref()).await?;
    let quote = crate::service::quotes::note_quote(state, s.id).await?;
    Ok(objects::note(
        &state.config,
        s,
        &NoteParts {
            author: &author,
            mentions: &mentions,
            tags: &tags,
            in_reply_to_uri: parent_uri.as_deref(),
            conversation_uri: &conversation_uri,
            attachments: &attachments,
            poll: poll.as_ref(),
            emojis: &emojis,
            quote: quote.as_ref().map(|(q, a)| (q.as_str(), a.as_deref())),
        },
    ))
}

/// `Emoji` tags for the local custom emojis a local status uses (text, content warning, poll
/// options).
pub async fn note_emojis(
    state: &AppState,
    s: &StatusRow,
    poll: Option<&crate::storage::polls::PollRow>,
) -> AppResult<Vec<crate::federation::protocol::note::Tag>> {
    let mut texts: Vec<&str> = vec![&s.content, &s.spoiler_text];
    if let Some(p) = poll {
        texts.extend(p.options.iter().map(String::as_str));
    }
    let used = crate::service::emojis::local_rows_in(state, &texts).await?;
    Ok(crate::service::emojis::tags(state, &used))
}

/// A status of `username` fetched at its ID by an anonymous requester: public or unlisted only.
pub async fn public_status(state: &AppState, username: &str, id: &str) -> AppResult<StatusRow> {
    let a = local_account(state, username).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let s = statuses::find_visible(&state.db, id, ANONYMOUS)
        .await?
        .ok_or(AppError::NotFound)?;
    if s.account_id != a.id || s.reblog_of_id.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(s)
}

/// The activity a local status appears as in the outbox: `Create` for posts, `Announce` for boosts.
async fn activity_of(state: &AppState, s: &StatusRow, author: &AccountRow) -> AppResult<Value> {
    match s.reblog_of_id {
        None => Ok(objects::create(&note_of(state, s).await?)),
        Some(orig) => {
            let o = statuses::find(&state.db, orig)
                .await?
                .ok_or(AppError::NotFound)?;
            let oa = accounts::find_account(&state.db, o.account_id)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(objects::announce(
                &s.uri,
                &s.visibility,
                s.created_at,
                author,
                &o.uri,
                &oa.uri,
            ))
        }
    }
}

/// Collection paging parameters (`page=true` plus Mastodon's `max_id`/`min_id`).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct CollectionQuery {
    pub page: Option<String>,
    pub max_id: Option<i64>,
    pub min_id: Option<i64>,
}

impl CollectionQuery {
    fn wants_page(&self) -> bool {
        self.page.is_some() || self.max_id.is_some() || self.min_id.is_some()
    }
}

/// The outbox: public posts and boosts, newest first, as `Create`/`Announce` activities.
pub async fn outbox(state: &AppState, username: &str, q: &CollectionQuery) -> AppResult<Value> {
    let a = local_account(state, username).await?;
    let id = format!("{}/outbox", a.uri);
    if !q.wants_page() {
        let total = statuses::count_public_by(&state.db, a.id).await?;
        return with_context(OrderedCollection {
            id: u(&id)?,
            kind: "OrderedCollection".into(),
            total_items: total,
            first: Some(u(&format!("{id}?page=true"))?),
            ordered_items: None,
        });
    }
    let page = Page {
        max_id: q.max_id,
        min_id: q.min_id,
        since_id: None,
        limit: PAGE_SIZE,
    };
    // Anonymous view, minus unlisted: the outbox is what the public sees.
    let rows: Vec<StatusRow> =
        statuses::by_account(&state.db, ANONYMOUS, a.id, &AccountFilter::default(), &page)
            .await?
            .into_iter()
            .filter(|s| s.visibility == "public")
            .collect();
    let mut items = Vec::new();
    for s in &rows {
        items.push(activity_of(state, s, &a).await?);
    }
    let this = match (q.max_id, q.min_id) {
        (Some(m), _) => format!("{id}?max_id={m}&page=true"),
        (_, Some(m)) => format!("{id}?min_id={m}&page=true"),
        _ => format!("{id}?page=true"),
    };
    with_context(OrderedCollectionPage {
        id: u(&this)?,
        kind: "OrderedCollectionPage".into(),
        part_of: u(&id)?,
        next: match rows.last() {
            Some(last) if rows.len() as i64 == PAGE_SIZE => {
                Some(u(&format!("{id}?max_id={}&page=true", last.id))?)
            }
            _ => None,
        },
        prev: rows
            .first()
            .map(|f| u(&format!("{id}?min_id={}&page=true", f.id)))
            .transpose()?,
        ordered_items: items,
    })
}

/// Followers or following: a count, and pages of actor IDs (`?page=N`, 1-based).
pub async fn follow_collection(
    state: &AppState,
    username: &str,
    followers: bool,
    page: Option<i64>,
) -> AppResult<Value> {
    let a = local_account(state, username).await?;
    let id = format!(
        "{}/{}",
        a.uri,
        if followers { "followers" } else { "following" }
    );
    let list = if followers {
        AccountList::Followers
    } else {
        AccountList::Following
    };
    let total = rel::count_list(&state.db, list, a.id).await?;
    let Some(n) = page.filter(|n| *n >= 1) else {
        return with_context(OrderedCollection {
            id: u(&id)?,
            kind: "OrderedCollection".into(),
            total_items: total,
            first: Some(u(&format!("{id}?page=1"))?),
            ordered_items: None,
        });
    };
    let ids = rel::list_account_uris(&state.db, list, a.id, PAGE_SIZE, (n - 1) * PAGE_SIZE).await?;
    with_context(OrderedCollectionPage {
        id: u(&format!("{id}?page={n}"))?,
        kind: "OrderedCollectionPage".into(),
        part_of: u(&id)?,
        next: (total > n * PAGE_SIZE)
            .then(|| u(&format!("{id}?page={}", n + 1)))
            .transpose()?,
        prev: (n > 1)
            .then(|| u(&format!("{id}?page={}", n - 1)))
            .transpose()?,
        ordered_items: ids.into_iter().map(Value::String).collect(),
    })
}

/// Pinned public posts, inline.
pub async fn featured(state: &AppState, username: &str) -> AppResult<Value> {
    let a = local_account(state, username).await?;
    let f = AccountFilter {
        pinned: true,
        ..AccountFilter::default()
    };
    let page = Page {
        limit: PAGE_SIZE,
        ..Page::default()
    };
    let rows = statuses::by_account(&state.db, ANONYMOUS, a.id, &f, &page).await?;
    let mut items = Vec::new();
    for s in rows
        .iter()
        .filter(|s| s.visibility == "public" || s.visibility == "unlisted")
    {
        items.push(serde_json::to_value(note_of(state, s).await?).map_err(anyhow::Error::from)?);
    }
    with_context(OrderedCollection {
        id: u(&format!("{}/collections/featured", a.uri))?,
        kind: "OrderedCollection".into(),
        total_items: items.len() as i64,
        first: None,
        ordered_items: Some(items),
    })
}

/// A Note document with context.
pub async fn note_document(
    data: &FedData,
    username: &str,
    id: &str,
    request: &GetRequest,
) -> AppResult<(Value, bool)> {
    let (s, public) = fetchable_status(data, username, id, request).await?;
    Ok((with_context(note_of(data, &s).await?)?, public))
}

/// The `Create` activity of a status, with context, under the same rules as [`note_document`].
pub async fn create_document(
    data: &FedData,
    username: &str,
    id: &str,
    request: &GetRequest,
) -> AppResult<(Value, bool)> {
    let (s, public) = fetchable_status(data, username, id, request).await?;
    Ok((
        with_context(objects::create(&note_of(data, &s).await?))?,
        public,
    ))
}

/// A status of `username` fetched over ActivityPub, and whether it is public (cacheable). Public
/// and unlisted statuses go to anyone. Followers-only and direct ones go only to a request signed
/// (HTTP signature) by an actor they are addressed to — a mentioned account, or for followers-only
/// a follower — or by a server actor (an `Application`, like Mastodon's instance actor) of a
/// server where such an actor lives. Everyone else gets 404, as if it did not exist; a signature
/// that does not verify gets 401.
async fn fetchable_status(
    data: &FedData,
    username: &str,
    id: &str,
    request: &GetRequest,
) -> AppResult<(StatusRow, bool)> {
    let a = local_account(data, username).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let s = statuses::find(&data.db, id)
        .await?
        .filter(|s| s.account_id == a.id && s.reblog_of_id.is_none())
        .ok_or(AppError::NotFound)?;
    if matches!(s.visibility.as_str(), "public" | "unlisted") {
        return Ok((s, true));
    }
    let signer = request.signer(data).await.map_err(|e| {
        tracing::info!(error = %e, "refused a signed status fetch");
        AppError::Unauthorized("The HTTP signature is not valid".into())
    })?;
    match signer {
        Some(signer) if may_fetch(data, &s, &signer).await? => Ok((s, false)),
        _ => Err(AppError::NotFound),
    }
}

/// May remote actor `signer` read non-public status `s`?
async fn may_fetch(state: &AppState, s: &StatusRow, signer: &AccountRow) -> AppResult<bool> {
    let Some(domain) = signer.domain.as_deref() else {
        return Ok(false);
    };
    let facts = statuses::facts_of(&state.db, ANONYMOUS, &[s.id]).await?;
    let mentioned: Vec<i64> = facts.mentions.iter().map(|(_, a)| *a).collect();
    let server_actor =
        accounts::actor_type(&state.db, signer.id).await?.as_deref() == Some("Application");
    if !server_actor {
        let follower = s.visibility == "private"
            && rel::find_follow(
                &state.db,
                rel::FollowTable::Follows,
                signer.id,
                s.account_id,
            )
            .await?
            .is_some();
        return Ok(mentioned.contains(&signer.id) || follower);
    }
    let on_server = accounts::find_accounts(&state.db, &mentioned)
        .await?
        .iter()
        .any(|m| {
            m.domain
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(domain))
        });
    Ok(on_server
        || (s.visibility == "private"
            && rel::has_follower_on_domain(&state.db, s.account_id, domain).await?))
}
