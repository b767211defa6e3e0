//! Quotes other servers send (FEP-044f, as Mastodon 4.5 implements it): the quote in an incoming
//! Note (`quote`, or Misskey's `_misskey_quote`/`quoteUrl`, Fedibird's `quoteUri`) and its
//! stamp, verified before the quote shows as accepted; `interactionPolicy.canQuote`; a
//! `QuoteRequest` for a local status, answered by its policy; the `Accept`/`Reject` of our
//! requests; the `Delete` of a stamp (a revoked quote).

use serde_json::Value;
use url::Url;

use super::{Policy, QuoteWrite, current_user, outgoing};
use crate::federation::origin::same_origin;
use crate::federation::protocol::note::Note;
use crate::service::activitypub::context::FedData;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::quotes::{self as store, NewQuote};
use crate::storage::statuses::{self as statuses, StatusRow};

/// A remote Note's quote, ready to store with it.
pub struct RemoteQuote {
    pub write: QuoteWrite,
    /// It quotes a local status (the Note then concerns us).
    pub quotes_local: bool,
}

/// The quote policy a remote Note declares (`interactionPolicy.canQuote`), in Mastodon's bits:
/// the public, the author's followers or following collections, the author alone; any other
/// audience is "unsupported". No `interactionPolicy`: nobody (Mastodon's reading).
pub fn policy_of(note: &Note, author: &AccountRow) -> i64 {
    let Some(can) = note
        .interaction_policy
        .as_ref()
        .and_then(|p| p.get("canQuote"))
    else {
        return 0;
    };
    let half = |v: Option<&Value>| -> i64 {
        let list: Vec<&str> = match v {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).take(64).collect(),
            _ => Vec::new(),
        };
        let followers = format!("{}/followers", author.uri);
        let following = format!("{}/following", author.uri);
        let mut bits = 0;
        for a in list {
            if matches!(
                a,
                crate::federation::protocol::PUBLIC | "as:Public" | "Public"
            ) {
                bits |= Policy::PUBLIC;
            } else if a == followers {
                bits |= Policy::FOLLOWERS;
            } else if a == following {
                bits |= Policy::FOLLOWING;
            } else if a != author.uri {
                bits |= Policy::UNSUPPORTED;
            }
        }
        bits
    };
    (half(can.get("automaticApproval")) << 16) | half(can.get("manualApproval"))
}

/// The quote in a remote Note by `actor`, if it has one. The quoted status is looked up, or
/// fetched (a few levels at most, as a reply's parent). The quote is accepted when it quotes the
/// actor's own post; when it quotes a local post and that post's policy approves the actor
/// automatically (we are the authority: a later `QuoteRequest` is answered the same); when it
/// carries a stamp that verifies. A quote of a local post its policy denies is rejected; any
/// other stays pending (shown without the quoted post) until a stamp arrives in an `Update`.
pub async fn for_remote_note(
    data: &FedData,
    actor: &AccountRow,
    note: &Note,
) -> anyhow::Result<Option<RemoteQuote>> {
    let Some(quoted_uri) = note.quoted_id() else {
        return Ok(None);
    };
    let quoted = quoted_status(data, &quoted_uri).await?;
    let mut state = store::PENDING;
    let mut approval = None;
    let mut notify = None;
    if let Some(q) = &quoted {
        if q.account_id == actor.id {
            state = store::ACCEPTED;
        } else if q.local {
            match decide(data, q, actor).await? {
                "automatic" => {
                    state = store::ACCEPTED;
                    notify = Some(q.account_id);
                }
                "denied" => state = store::REJECTED,
                _ => {}
            }
        } else if let Some(stamp) = note.quote_authorization_id()
            && verify_stamp(data, &stamp, note.id.as_str(), q).await
        {
            state = store::ACCEPTED;
            approval = Some(stamp.to_string());
        }
    }
    Ok(Some(RemoteQuote {
        quotes_local: quoted.as_ref().is_some_and(|q| q.local),
        write: QuoteWrite {
            new: NewQuote {
                id: crate::storage::ids::new_id(),
                quoted_status_id: quoted.as_ref().map(|q| q.id),
                quoted_account_id: quoted.as_ref().map(|q| q.account_id),
                quoted_uri: quoted_uri.to_string(),
                state,
                approval_uri: approval,
            },
            notify,
            stamp: None,
        },
    }))
}

/// The status at `uri`, known here or fetched (bounded like a reply's parent); boosts are not
/// quotable.
async fn quoted_status(data: &FedData, uri: &Url) -> anyhow::Result<Option<StatusRow>> {
    let found = match statuses::find_by_uri_or_url(&data.db, uri.as_str()).await? {
        Some(s) => Some(s),
        None if data.request_count() < crate::service::statuses::PARENT_FETCH_DEPTH => {
            use activitypub_federation::fetch::object_id::ObjectId;
            match ObjectId::<crate::service::activitypub::notes::ApNote>::from(uri.clone())
                .dereference(data)
                .await
            {
                Ok(n) => Some(n.row),
                Err(e) => {
                    tracing::info!(quoted = %uri, error = %e, "could not fetch a quoted status");
                    None
                }
            }
        }
        None => None,
    };
    Ok(found.filter(|s| s.reblog_of_id.is_none()))
}

/// What the policy of local status `q` says of `actor` quoting it.
async fn decide(
    state: &AppState,
    q: &StatusRow,
    actor: &AccountRow,
) -> anyhow::Result<&'static str> {
    let (following, followed_by) =
        store::follow_links(&state.db, actor.id, &[q.account_id]).await?;
    let blocked =
        crate::storage::relationships::blocked_either_way(&state.db, q.account_id, actor.id)
            .await?;
    if blocked {
        return Ok("denied");
    }
    Ok(current_user(
        q.quote_approval_policy,
        &q.visibility,
        q.account_id,
        Some(actor.id),
        !following.is_empty(),
        !followed_by.is_empty(),
    ))
}

/// Whether the stamp at `stamp` approves `quoting_uri` quoting `quoted`, as Mastodon verifies
/// it: fetched (signed, through the egress guard), on the quoted author's server, a
/// `QuoteAuthorization` attributed to the quoted author naming both objects.
async fn verify_stamp(data: &FedData, stamp: &Url, quoting_uri: &str, quoted: &StatusRow) -> bool {
    let Ok(Some(author)) = accounts::find_account(&data.db, quoted.account_id).await else {
        return false;
    };
    let Ok(author_url) = Url::parse(&author.uri) else {
        return false;
    };
    if !same_origin(stamp, &author_url) {
        tracing::info!(%stamp, "a quote's stamp is not on the quoted author's server");
        return false;
    }
    let doc = match activitypub_federation::fetch::fetch_object_http::<AppState, Value>(stamp, data)
        .await
    {
        Ok(r) => r.object,
        Err(e) => {
            tracing::info!(%stamp, error = %e, "could not fetch a quote's stamp");
            return false;
        }
    };
    let s = |k: &str| -> Option<String> {
        match doc.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).map(String::from),
            _ => None,
        }
    };
    let ok = s("id").as_deref() == Some(stamp.as_str())
        && s("type").as_deref() == Some("QuoteAuthorization")
        && s("attributedTo").as_deref() == Some(author.uri.as_str())
        && s("interactingObject").as_deref() == Some(quoting_uri)
        && s("interactionTarget").as_deref() == Some(quoted.uri.as_str());
    if !ok {
        tracing::info!(%stamp, "a quote's stamp does not approve this quote");
    }
    ok
}

/// An `Update` of a known remote status: its quote policy as now declared, and a pending quote
/// whose stamp now verifies becomes accepted.
pub async fn on_update(
    data: &FedData,
    actor: &AccountRow,
    row: &StatusRow,
    note: &Note,
) -> anyhow::Result<()> {
    let policy = policy_of(note, actor);
    if policy != row.quote_approval_policy {
        store::set_policy(&data.db, row.id, policy).await?;
    }
    let Some(q) = store::of_status(&data.db, row.id).await? else {
        return Ok(());
    };
    if q.state != store::PENDING {
        return Ok(());
    }
    let Some(quoted) = match q.quoted_status_id {
        Some(id) => statuses::find(&data.db, id).await?,
        None => None,
    }
    .filter(|s| !s.local) else {
        return Ok(());
    };
    if let Some(stamp) = note.quote_authorization_id()
        && verify_stamp(data, &stamp, &row.uri, &quoted).await
    {
        super::accepted(data, &q, Some(stamp.as_str()), None).await?;
    }
    Ok(())
}

/// A `QuoteRequest` from `actor`: may its Note (`instrument`, inline or by id) quote our status
/// (`object`)? Its policy answers: automatic approval accepts (the stamp goes back in an
/// `Accept`; the author is notified), a denial rejects; anything else waits. The quoting Note is
/// stored when new (inline only when on the actor's server, else fetched).
pub async fn receive_request(
    data: &FedData,
    actor: &AccountRow,
    doc: &Value,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    let Some(object) = outgoing::id_of(doc.get("object"))
        .as_str()
        .map(String::from)
    else {
        return Ok(());
    };
    let Some(quoted) = statuses::find_by_uri_or_url(&state.db, &object)
        .await?
        .filter(|s| s.local && s.reblog_of_id.is_none())
    else {
        return Ok(());
    };
    let Some(author) = accounts::find_account(&state.db, quoted.account_id).await? else {
        return Ok(());
    };
    let Some(quoting) = instrument(data, actor, doc.get("instrument")).await? else {
        tracing::info!(actor = %actor.uri, "a QuoteRequest without a usable instrument");
        return Ok(());
    };
    let quote = store::of_status(&state.db, quoting.id).await?.filter(|q| {
        q.account_id == actor.id
            && (q.quoted_status_id == Some(quoted.id) || q.quoted_uri == quoted.uri)
    });
    let Some(q) = quote else {
        outgoing::answer(state, &author, actor, doc, None).await?;
        return Ok(());
    };
    if q.quoted_status_id.is_none() {
        store::set_quoted(&state.db, &q, quoted.id, quoted.account_id).await?;
    }
    let q = store::find(&state.db, q.id).await?.unwrap_or(q);
    let request = outgoing::id_of(doc.get("id"));
    match decide(state, &quoted, actor).await? {
        "automatic" => {
            if q.state != store::ACCEPTED {
                super::accepted(state, &q, None, request.as_str()).await?;
            }
            let q = store::find(&state.db, q.id).await?.unwrap_or(q);
            outgoing::answer(state, &author, actor, doc, Some(&q)).await?;
        }
        "denied" => {
            store::set_state(&state.db, &q, store::REJECTED, None, request.as_str()).await?;
            outgoing::answer(state, &author, actor, doc, None).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The quoting status a `QuoteRequest` names: known, stored from the inline Note (when on the
/// actor's server), or fetched.
async fn instrument(
    data: &FedData,
    actor: &AccountRow,
    v: Option<&Value>,
) -> anyhow::Result<Option<StatusRow>> {
    let Some(id) = outgoing::id_of(v).as_str().and_then(|s| Url::parse(s).ok()) else {
        return Ok(None);
    };
    let Ok(actor_url) = Url::parse(&actor.uri) else {
        return Ok(None);
    };
    if !same_origin(&id, &actor_url) {
        return Ok(None);
    }
    if let Some(known) = statuses::find_by_uri_or_url(&data.db, id.as_str()).await? {
        return Ok(Some(known).filter(|s| s.account_id == actor.id));
    }
    if let Some(Value::Object(_)) = v
        && let Ok(note) = serde_json::from_value::<Note>(v.cloned().unwrap_or_default())
        && note.attributed_to.as_str() == actor.uri
        && note.id == id
    {
        let stored = crate::service::statuses::store_remote_note(
            data,
            actor,
            note,
            crate::service::statuses::Arrival::Fetched,
        )
        .await?;
        return Ok(stored.row());
    }
    Ok(quoted_status(data, &id)
        .await?
        .filter(|s| s.account_id == actor.id))
}

/// `Accept` (`accepted`) or `Reject` of a `QuoteRequest` we sent, by the quoted author: the
/// quote is accepted with the stamp named in `result` (on the actor's server), or rejected; the
/// quoting status goes out again to its audience. Returns false when `object` is no request of
/// ours.
pub async fn receive_answer(
    data: &FedData,
    actor: &AccountRow,
    doc: &Value,
    accepted: bool,
) -> anyhow::Result<bool> {
    let state: &AppState = data;
    let object = doc.get("object");
    let is_request = object.and_then(|o| o.get("type")).and_then(Value::as_str)
        == Some("QuoteRequest")
        || outgoing::id_of(object)
            .as_str()
            .is_some_and(|s| s.contains("#quote_requests/"));
    if !is_request {
        return Ok(false);
    }
    let request = outgoing::id_of(object);
    let instrument = object.and_then(|o| o.get("instrument"));
    let quote_id = request
        .as_str()
        .and_then(|s| s.rsplit_once("#quote_requests/"))
        .and_then(|(_, id)| id.parse::<i64>().ok());
    let mut q = match quote_id {
        Some(id) => store::find(&state.db, id).await?,
        None => None,
    };
    if q.is_none()
        && let Some(uri) = outgoing::id_of(instrument).as_str()
        && let Some(s) = statuses::find_by_uri_or_url(&state.db, uri).await?
    {
        q = store::of_status(&state.db, s.id).await?;
    }
    let Some(q) = q else {
        tracing::info!(actor = %actor.uri, request = %request, "an answer to a QuoteRequest of no quote here");
        return Ok(true);
    };
    let Some(quoted_account) = q.quoted_account_id else {
        tracing::info!(actor = %actor.uri, quote = q.id, "an answer about a quote whose quoted post is unknown here");
        return Ok(true);
    };
    if quoted_account != actor.id {
        tracing::info!(actor = %actor.uri, "an answer to a QuoteRequest from someone else");
        return Ok(true);
    }
    let Some(quoting) = statuses::find(&state.db, q.status_id)
        .await?
        .filter(|s| s.local)
    else {
        return Ok(true);
    };
    let Some(author) = accounts::find_account(&state.db, quoting.account_id).await? else {
        return Ok(true);
    };
    if accepted {
        let Some(stamp) = outgoing::id_of(doc.get("result"))
            .as_str()
            .and_then(|s| Url::parse(s).ok())
        else {
            return Ok(true);
        };
        let Ok(actor_url) = Url::parse(&actor.uri) else {
            return Ok(true);
        };
        if !same_origin(&stamp, &actor_url) || q.state == store::ACCEPTED {
            return Ok(true);
        }
        super::accepted(state, &q, Some(stamp.as_str()), None).await?;
    } else {
        if q.state == store::REJECTED {
            return Ok(true);
        }
        store::set_state(&state.db, &q, store::REJECTED, None, None).await?;
        super::republish(state, &quoting).await;
    }
    let quoting = statuses::find(&state.db, quoting.id)
        .await?
        .unwrap_or(quoting);
    crate::service::statuses::send_note_update(state, &author, &quoting).await?;
    Ok(true)
}

/// A `Delete` of a stamp by the quoted author: the quote is revoked. Returns false when
/// `object` is no stamp we know.
pub async fn receive_stamp_delete(
    data: &FedData,
    actor: &AccountRow,
    object: &str,
) -> anyhow::Result<bool> {
    let state: &AppState = data;
    let Some(q) = store::by_approval_uri(&state.db, object).await? else {
        return Ok(false);
    };
    if q.quoted_account_id != Some(actor.id) {
        return Ok(true);
    }
    if q.state != store::REVOKED {
        store::set_state(&state.db, &q, store::REVOKED, None, None).await?;
        if let Some(s) = statuses::find(&state.db, q.status_id).await? {
            super::republish(state, &s).await;
        }
    }
    Ok(true)
}
