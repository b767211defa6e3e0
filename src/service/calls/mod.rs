//! One-to-one voice and video calls (issue 29; docs/API.md, "Calls"). The media go between the two
//! browsers (WebRTC); the server carries the signalling: the caller's SDP offer rings the callee,
//! the callee's answer (or decline) goes back, and both sides' ICE candidates go across until one
//! hangs up. Everything is kept with the call, so a page opened while it rings finds the offer and
//! the candidates sent so far.
//!
//! Live events go to both people's `user` streams: `rookery.call` (the call, whenever its state
//! changes) and `rookery.call.candidate` (the other side's next ICE candidate). A call to someone
//! on another server travels as signed activities (`remote`; docs/FEDERATION.md, "Calls").
//!
//! Calls are only between people who follow each other or share a conversation (a direct
//! message either wrote to the other, or a room both joined), neither blocking the other, and at
//! most `rate_limits.calls_per_account` started (or received from one remote account) in 10
//! minutes. A call nobody answers within [`RING_SECS`] is missed; the callee of a missed or
//! declined call gets a `missed_call` notification.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use crate::api_types::call::{Call, CallCandidate};
use crate::config::IceServer;
use crate::error::{AppError, AppResult};
use crate::realtime::{Event, StreamKey};
use crate::service::render;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::calls::{self as store, CallRow, CandidateRow};
use crate::storage::ids;

mod remote;
pub use remote::{concerns, receive};

/// Seconds a call rings before it counts as missed.
pub const RING_SECS: i64 = 45;
/// Longest SDP offer or answer, in bytes (a video call's is a few kilobytes).
pub const MAX_SDP: usize = 32 * 1024;
/// Longest ICE candidate line, in bytes.
pub const MAX_CANDIDATE: usize = 1024;
/// Longest `sdp_mid`, in bytes.
pub const MAX_MID: usize = 64;
/// Highest `sdp_m_line_index` (an SDP has a handful of media sections).
pub const MAX_M_LINE_INDEX: i32 = 63;
/// Most ICE candidates one side of a call may send.
pub const MAX_CANDIDATES: i64 = 64;
/// How often ringing calls are checked for a timed-out ring.
const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// A callee's server waits this much longer than [`RING_SECS`] before it counts a remote caller's
/// call as missed on its own, so that the caller's `Leave` normally decides.
const REMOTE_GRACE_SECS: i64 = 15;

/// Audio or video.
fn check_media(media: &str) -> AppResult<()> {
    if media == "audio" || media == "video" {
        Ok(())
    } else {
        Err(AppError::unprocessable("media must be audio or video"))
    }
}

/// An SDP offer or answer: present, bounded, and SDP (`v=0` first).
fn check_sdp(sdp: &str) -> AppResult<()> {
    if sdp.is_empty() {
        return Err(AppError::unprocessable("sdp is missing"));
    }
    if sdp.len() > MAX_SDP {
        return Err(AppError::unprocessable(format!(
            "sdp is longer than {MAX_SDP} bytes"
        )));
    }
    // SDP is lines of printable text; a NUL or other control byte (which PostgreSQL would not
    // store either) is not SDP.
    if !sdp.starts_with("v=0")
        || sdp
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t'))
    {
        return Err(AppError::unprocessable("sdp is not a session description"));
    }
    Ok(())
}

/// An ICE candidate within bounds.
fn check_candidate(c: &CallCandidate) -> AppResult<()> {
    if c.candidate.len() > MAX_CANDIDATE || c.candidate.chars().any(char::is_control) {
        return Err(AppError::unprocessable(format!(
            "candidate must be one line of at most {MAX_CANDIDATE} bytes"
        )));
    }
    if c.candidate.is_empty() && c.sdp_mid.is_none() && c.sdp_m_line_index.is_none() {
        return Err(AppError::unprocessable("candidate is missing"));
    }
    if c.sdp_mid
        .as_ref()
        .is_some_and(|m| m.len() > MAX_MID || m.chars().any(char::is_control))
    {
        return Err(AppError::unprocessable(format!(
            "sdp_mid is longer than {MAX_MID} bytes"
        )));
    }
    if c.sdp_m_line_index
        .is_some_and(|i| !(0..=MAX_M_LINE_INDEX).contains(&i))
    {
        return Err(AppError::unprocessable(format!(
            "sdp_m_line_index must be from 0 to {MAX_M_LINE_INDEX}"
        )));
    }
    Ok(())
}

/// Whether `a` may call `b` (or receive `b`'s call): no block either way (of the account, or of
/// its server by the other), and they follow each other or share a conversation.
///
/// Errors: 422 saying why not.
async fn may_call(state: &AppState, a: i64, b: i64) -> AppResult<()> {
    let domain_blocked = !crate::storage::user_domain_blocks::blocked_among(&state.db, a, &[b])
        .await?
        .is_empty()
        || !crate::storage::user_domain_blocks::blocked_among(&state.db, b, &[a])
            .await?
            .is_empty();
    if domain_blocked || crate::storage::relationships::blocked_either_way(&state.db, a, b).await? {
        return Err(AppError::unprocessable("You cannot call this account"));
    }
    if !(store::mutual_follows(&state.db, a, b).await?
        || store::share_conversation(&state.db, a, b).await?)
    {
        return Err(AppError::unprocessable(
            "Calls are only between people who follow each other or share a conversation",
        ));
    }
    Ok(())
}

/// A local account that can take part in a call (approved, enabled, not suspended).
async fn usable_local(state: &AppState, account: &AccountRow) -> AppResult<bool> {
    if account.suspended_at.is_some() {
        return Ok(false);
    }
    Ok(accounts::find_user_by_account(&state.db, account.id)
        .await?
        .is_some_and(|u| u.approved && !u.disabled))
}

async fn account(state: &AppState, id: i64) -> AppResult<AccountRow> {
    accounts::find_account(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Call `id` if `me` is one of its two people (404 otherwise, as for a call that does not exist).
async fn own_call(state: &AppState, me: i64, id: &str) -> AppResult<CallRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    store::find(&state.db, id)
        .await?
        .filter(|c| c.caller_id == me || c.callee_id == me)
        .ok_or(AppError::NotFound)
}

/// What a call's entity is made of beyond its row: its two people (rows and entities) and every
/// ICE candidate sent, read once for both people's views.
struct CallParts {
    rows: [AccountRow; 2],
    people: [crate::api_types::Account; 2],
    candidates: Vec<CandidateRow>,
}

async fn parts(state: &AppState, call: &CallRow) -> AppResult<CallParts> {
    let rows = [
        account(state, call.caller_id).await?,
        account(state, call.callee_id).await?,
    ];
    let mut people = render::accounts(state, &rows).await?.into_iter();
    let (Some(caller), Some(callee)) = (people.next(), people.next()) else {
        return Err(AppError::NotFound);
    };
    Ok(CallParts {
        rows,
        people: [caller, callee],
        candidates: store::candidates(&state.db, call.id).await?,
    })
}

/// `call` as `viewer` sees it: the other side's candidates.
fn call_entity(call: &CallRow, parts: &CallParts, viewer: i64) -> Call {
    let theirs = viewer != call.caller_id;
    let [caller, callee] = parts.people.clone();
    Call {
        id: call.id.to_string(),
        uri: call.uri.clone(),
        caller,
        callee,
        media: call.media.clone(),
        state: call.state.clone(),
        offer: call.offer.clone(),
        answer: call.answer.clone(),
        candidates: parts
            .candidates
            .iter()
            .filter(|c| c.from_caller == theirs)
            .map(|c| CallCandidate {
                candidate: c.candidate.clone(),
                sdp_mid: c.sdp_mid.clone(),
                sdp_m_line_index: c.sdp_m_line_index,
            })
            .collect(),
        created_at: call.created_at,
        answered_at: call.answered_at,
        ended_at: call.ended_at,
    }
}

async fn render_call(state: &AppState, viewer: i64, call: &CallRow) -> AppResult<Call> {
    Ok(call_entity(call, &parts(state, call).await?, viewer))
}

/// Sends `rookery.call` (the call as each sees it) to the call's local people.
async fn publish_call(state: &AppState, call: &CallRow) -> AppResult<()> {
    let parts = parts(state, call).await?;
    for row in parts.rows.iter().filter(|r| r.domain.is_none()) {
        let payload = serde_json::to_string(&call_entity(call, &parts, row.id))
            .map_err(anyhow::Error::from)?;
        state.hub.publish(Event {
            keys: vec![StreamKey::User(row.id)],
            event: "rookery.call",
            payload,
            author_id: None,
        });
    }
    Ok(())
}

/// Ends live `call` as `outcome` (`ended`, `declined` or `missed`); a local callee of a call that
/// was never answered gets `missed_call`. False when the call had already ended (someone else's
/// end counted).
async fn finish(state: &AppState, call: &CallRow, outcome: &str) -> AppResult<bool> {
    let now = Utc::now();
    if !store::end(&state.db, call.id, outcome, now).await? {
        return Ok(false);
    }
    if outcome != store::ENDED && account(state, call.callee_id).await?.domain.is_none() {
        let mut tx = state.db.begin().await?;
        let about = crate::storage::notifications::About {
            call_id: Some(call.id),
            ..Default::default()
        };
        let pending = crate::service::notifications::create_about(
            &mut tx,
            call.callee_id,
            call.caller_id,
            "missed_call",
            about,
        )
        .await?;
        tx.commit().await?;
        crate::service::notifications::publish(state, &pending.into_iter().collect::<Vec<_>>())
            .await;
    }
    let ended = store::find(&state.db, call.id)
        .await?
        .ok_or(AppError::NotFound)?;
    publish_call(state, &ended).await?;
    Ok(true)
}

/// `POST /api/v1/calls`: `me` calls `account_id` with `media` (`audio` or `video`) and the SDP
/// `offer`; the callee's phone rings (`rookery.call`). Returns the call, `ringing`.
///
/// Errors: 404 unknown account; 422 for oneself, bad media or SDP, someone one may not call
/// ([`may_call`]), a call between the two already ringing or going on, or a remote account
/// without an inbox; 429 past `rate_limits.calls_per_account`.
pub async fn start(
    state: &AppState,
    me: &AccountRow,
    account_id: &str,
    media: &str,
    offer: &str,
) -> AppResult<Call> {
    check_media(media)?;
    check_sdp(offer)?;
    let callee_id: i64 = account_id.parse().map_err(|_| AppError::NotFound)?;
    let callee = account(state, callee_id).await?;
    if callee.id == me.id {
        return Err(AppError::unprocessable("You cannot call yourself"));
    }
    let reachable = match callee.domain {
        None => usable_local(state, &callee).await?,
        Some(ref domain) => {
            callee.suspended_at.is_none()
                && callee.inbox_url.is_some()
                && !crate::service::moderation::domain_suspended(state, domain).await?
        }
    };
    if !reachable {
        return Err(AppError::unprocessable(format!(
            "@{} cannot take calls",
            callee.username
        )));
    }
    may_call(state, me.id, callee.id).await?;
    if store::live_between(&state.db, me.id, callee.id).await? {
        return Err(AppError::unprocessable(format!(
            "A call with @{} is already ringing or going on",
            callee.username
        )));
    }
    state
        .limits
        .calls_per_account
        .hit(state, &me.id.to_string())
        .await?;
    let id = ids::new_id();
    let uri = format!("{}/calls/{id}", state.config.base_url());
    let call = CallRow::ringing(id, uri, me.id, callee.id, media, offer);
    store::insert(&state.db, &call).await?;
    if callee.domain.is_some() {
        remote::send_invite(state, &call, me, &callee).await?;
    }
    publish_call(state, &call).await?;
    render_call(state, me.id, &call).await
}

/// `POST /api/v1/calls/:id/accept`: the callee answers with the SDP `answer`; the call is
/// `active` and the caller gets it (`rookery.call`).
///
/// Errors: 404 not one's call; 403 for the caller; 422 bad SDP or no longer ringing.
pub async fn accept(state: &AppState, me: &AccountRow, id: &str, answer: &str) -> AppResult<Call> {
    let call = own_call(state, me.id, id).await?;
    if call.callee_id != me.id {
        return Err(AppError::forbidden("Only the person called answers a call"));
    }
    check_sdp(answer)?;
    if !store::answer(&state.db, call.id, answer, Utc::now()).await? {
        return Err(AppError::unprocessable("This call is no longer ringing"));
    }
    let call = store::find(&state.db, call.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let caller = account(state, call.caller_id).await?;
    if caller.domain.is_some() {
        remote::send_about(state, &call, "Accept", me, &caller).await?;
    }
    publish_call(state, &call).await?;
    render_call(state, me.id, &call).await
}

/// `POST /api/v1/calls/:id/decline`: the callee declines a ringing call (`declined`; it shows as
/// a missed call in their notifications).
///
/// Errors: 404 not one's call; 403 for the caller; 422 no longer ringing.
pub async fn decline(state: &AppState, me: &AccountRow, id: &str) -> AppResult<Call> {
    let call = own_call(state, me.id, id).await?;
    if call.callee_id != me.id {
        return Err(AppError::forbidden(
            "Only the person called declines a call; the caller hangs up",
        ));
    }
    if call.state != store::RINGING || !finish(state, &call, store::DECLINED).await? {
        return Err(AppError::unprocessable("This call is no longer ringing"));
    }
    let caller = account(state, call.caller_id).await?;
    if caller.domain.is_some() {
        remote::send_about(state, &call, "Reject", me, &caller).await?;
    }
    show(state, me.id, id).await
}

/// `POST /api/v1/calls/:id/hang_up`: either person ends the call: `ended` once answered; while
/// it rings, `missed` when the caller gives up and `declined` when the callee does. A call
/// already over is returned as it is.
///
/// Errors: 404 not one's call.
pub async fn hang_up(state: &AppState, me: &AccountRow, id: &str) -> AppResult<Call> {
    let call = own_call(state, me.id, id).await?;
    let outcome = match (call.state.as_str(), me.id == call.caller_id) {
        (store::ACTIVE, _) => store::ENDED,
        (store::RINGING, true) => store::MISSED,
        (store::RINGING, false) => store::DECLINED,
        _ => return render_call(state, me.id, &call).await,
    };
    if finish(state, &call, outcome).await? {
        let peer = account(state, call.peer_of(me.id)).await?;
        if peer.domain.is_some() {
            remote::send_about(state, &call, "Leave", me, &peer).await?;
        }
    }
    show(state, me.id, id).await
}

/// `POST /api/v1/calls/:id/candidates` (and the streaming WebSocket's `call.candidate`): one of
/// `me`'s ICE candidates goes to the other person (`rookery.call.candidate`), and is kept with the
/// call.
///
/// Errors: 404 not one's call; 422 bad candidate, a call that is over, or more than
/// [`MAX_CANDIDATES`] from one side.
pub async fn candidate(
    state: &AppState,
    me: &AccountRow,
    id: &str,
    c: CallCandidate,
) -> AppResult<()> {
    let call = own_call(state, me.id, id).await?;
    check_candidate(&c)?;
    if !call.live() {
        return Err(AppError::unprocessable("This call is over"));
    }
    add_candidate(state, &call, me.id == call.caller_id, c.clone()).await?;
    let peer = account(state, call.peer_of(me.id)).await?;
    if peer.domain.is_some() {
        remote::send_candidate(state, &call, me, &peer, &c).await?;
    }
    Ok(())
}

/// Stores candidate `c` of `call` (sent by the caller when `from_caller`) and streams it to the
/// other side when they are local.
async fn add_candidate(
    state: &AppState,
    call: &CallRow,
    from_caller: bool,
    c: CallCandidate,
) -> AppResult<()> {
    let row = CandidateRow {
        id: ids::new_id(),
        call_id: call.id,
        from_caller,
        candidate: c.candidate,
        sdp_mid: c.sdp_mid,
        sdp_m_line_index: c.sdp_m_line_index,
    };
    if !store::add_candidate(&state.db, &row, MAX_CANDIDATES).await? {
        return Err(AppError::unprocessable(format!(
            "A call takes at most {MAX_CANDIDATES} candidates from each side"
        )));
    }
    let to = if from_caller {
        call.callee_id
    } else {
        call.caller_id
    };
    if account(state, to).await?.domain.is_none() {
        state.hub.publish(Event {
            keys: vec![StreamKey::User(to)],
            event: "rookery.call.candidate",
            payload: json!({
                "call_id": call.id.to_string(),
                "candidate": row.candidate,
                "sdp_mid": row.sdp_mid,
                "sdp_m_line_index": row.sdp_m_line_index,
            })
            .to_string(),
            author_id: None,
        });
    }
    Ok(())
}

/// `GET /api/v1/calls/:id`.
///
/// Errors: 404 not one's call.
pub async fn show(state: &AppState, me: i64, id: &str) -> AppResult<Call> {
    let call = own_call(state, me, id).await?;
    render_call(state, me, &call).await
}

/// `GET /api/v1/calls`: `me`'s calls, made and received, newest first (at most `limit`, 1–40,
/// older than `max_id`).
pub async fn list(
    state: &AppState,
    me: i64,
    max_id: Option<&str>,
    limit: Option<i64>,
) -> AppResult<Vec<Call>> {
    let max_id = max_id.and_then(|m| m.parse::<i64>().ok());
    let limit = limit.unwrap_or(20).clamp(1, 40);
    let mut out = Vec::new();
    for call in store::list(&state.db, me, max_id, limit).await? {
        out.push(render_call(state, me, &call).await?);
    }
    Ok(out)
}

/// `GET /api/v1/calls/ice_servers`: `calls.ice_servers` from the configuration.
pub fn ice_servers(state: &AppState) -> Vec<IceServer> {
    state.config.calls.ice_servers.clone()
}

/// Ends calls whose ring timed out as `missed` (and tells a remote callee's server): those of a
/// local caller after [`RING_SECS`], those of a remote caller [`REMOTE_GRACE_SECS`] later.
async fn expire_rings(state: &AppState) -> AppResult<usize> {
    let now = Utc::now();
    let mut n = 0;
    for call in store::ringing_since(&state.db, now - chrono::Duration::seconds(RING_SECS)).await? {
        let caller = account(state, call.caller_id).await?;
        let grace = chrono::Duration::seconds(RING_SECS + REMOTE_GRACE_SECS);
        if caller.domain.is_some() && call.created_at > now - grace {
            continue;
        }
        if finish(state, &call, store::MISSED).await? {
            n += 1;
            let callee = account(state, call.callee_id).await?;
            if caller.domain.is_none() && callee.domain.is_some() {
                remote::send_about(state, &call, "Leave", &caller, &callee).await?;
            }
        }
    }
    Ok(n)
}

/// Runs [`expire_rings`] every few seconds on one node.
pub fn spawn_ring_expiry(state: &AppState) -> tokio::task::JoinHandle<()> {
    let s = state.clone();
    crate::jobs::singleton::spawn_periodic(state.db.clone(), "call_rings", SWEEP_EVERY, move || {
        let state = s.clone();
        async move {
            if let Err(e) = expire_rings(&state).await {
                tracing::warn!(error = ?e, "expiring unanswered calls failed");
            }
        }
    })
}
