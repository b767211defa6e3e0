//! Calls across servers (docs/FEDERATION.md, "Calls"): the signalling of a call between people
//! on two servers, as activities each side signs and sends to the other's inbox. The caller's
//! server names the call (`https://CALLER-SERVER/calls/ID`); the callee's keeps a row with that
//! `uri`.
//!
//! - `Invite` `{"actor": CALLER, "object": {"id": CALL, "type": "Call", "attributedTo": CALLER,
//!   "callType": "audio"|"video", "sdp": OFFER, "published"}, "target": CALLEE}` rings;
//! - `Accept` `{"actor": CALLEE, "object": CALL, "sdp": ANSWER}` answers, `Reject` declines;
//! - `Leave` `{"actor": EITHER, "object": CALL}` hangs up (or gives up while it rings);
//! - `Add` `{"actor": EITHER, "object": {"type": "IceCandidate", "candidate", "sdpMid",
//!   "sdpMLineIndex"}, "target": CALL}` sends an ICE candidate.

use chrono::Utc;
use serde_json::{Value, json};

use super::{
    RING_SECS, add_candidate, check_candidate, check_media, check_sdp, finish, may_call,
    publish_call, usable_local,
};
use crate::api_types::call::CallCandidate;
use crate::error::AppResult;
use crate::federation::origin::authority;
use crate::service::activitypub::context::FedData;
use crate::service::activitypub::str_at;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::calls::{self as store, CallRow};
use crate::storage::ids;

/// Queues `activity` from local `from` to remote `to`'s inbox.
async fn send(
    state: &AppState,
    from: &AccountRow,
    to: &AccountRow,
    activity: Value,
) -> AppResult<()> {
    let Some(inbox) = to.inbox_url.clone().or_else(|| to.shared_inbox_url.clone()) else {
        return Err(anyhow::anyhow!("{} has no inbox", to.uri).into());
    };
    let mut tx = state.db.begin().await?;
    crate::service::delivery::enqueue(&mut tx, &activity, from.id, &[inbox], None).await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

fn activity_id(actor: &AccountRow) -> String {
    format!("{}/activities/{}", actor.uri, ids::new_id())
}

/// Rings remote `callee`: an `Invite` of the call with the offer.
pub(super) async fn send_invite(
    state: &AppState,
    call: &CallRow,
    caller: &AccountRow,
    callee: &AccountRow,
) -> AppResult<()> {
    let activity = json!({
        "id": activity_id(caller),
        "type": "Invite",
        "actor": caller.uri,
        "object": {
            "id": call.uri,
            "type": "Call",
            "attributedTo": caller.uri,
            "to": [callee.uri],
            "callType": call.media,
            "sdp": call.offer,
            "published": call.created_at,
        },
        "target": callee.uri,
        "to": [callee.uri],
    });
    send(state, caller, callee, activity).await
}

/// Local `me`'s `kind` (`Accept` with the SDP `answer`, `Reject` or `Leave`) of `call`, to
/// remote `peer`.
pub(super) async fn send_about(
    state: &AppState,
    call: &CallRow,
    kind: &str,
    me: &AccountRow,
    peer: &AccountRow,
) -> AppResult<()> {
    let mut activity = json!({
        "id": activity_id(me),
        "type": kind,
        "actor": me.uri,
        "object": call.uri,
        "to": [peer.uri],
    });
    if kind == "Accept" {
        activity["sdp"] = json!(call.answer);
    }
    send(state, me, peer, activity).await
}

/// One of local `me`'s ICE candidates, to remote `peer`.
pub(super) async fn send_candidate(
    state: &AppState,
    call: &CallRow,
    me: &AccountRow,
    peer: &AccountRow,
    c: &CallCandidate,
) -> AppResult<()> {
    let activity = json!({
        "id": activity_id(me),
        "type": "Add",
        "actor": me.uri,
        "object": {
            "type": "IceCandidate",
            "candidate": c.candidate,
            "sdpMid": c.sdp_mid,
            "sdpMLineIndex": c.sdp_m_line_index,
        },
        "target": call.uri,
        "to": [peer.uri],
    });
    send(state, me, peer, activity).await
}

/// Whether an activity arriving at an inbox is call signalling: an `Invite` of a `Call`, an `Add`
/// of an `IceCandidate`, and an `Accept`, `Reject` or `Leave` of a call known here.
pub async fn concerns(state: &AppState, kind: &str, doc: &Value) -> AppResult<bool> {
    let object = doc.get("object").unwrap_or(&Value::Null);
    let object_type = object.get("type").and_then(Value::as_str);
    match kind {
        "Invite" => Ok(object_type == Some("Call")),
        "Add" => Ok(object_type == Some("IceCandidate")),
        "Accept" | "Reject" | "Leave" => match doc.get("object") {
            Some(Value::String(uri)) => Ok(store::find_by_uri(&state.db, uri).await?.is_some()),
            _ => Ok(false),
        },
        _ => Ok(false),
    }
}

/// The call an activity from `actor` names (`field` of `doc`), where `actor` is one of its two
/// people.
async fn named_call(
    state: &AppState,
    actor: &AccountRow,
    doc: &Value,
    field: &str,
) -> anyhow::Result<CallRow> {
    let uri = str_at(doc, field).ok_or_else(|| anyhow::anyhow!("no call named"))?;
    let call = store::find_by_uri(&state.db, uri)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no call {uri} here"))?;
    anyhow::ensure!(
        call.caller_id == actor.id || call.callee_id == actor.id,
        "{} is not in call {uri}",
        actor.uri
    );
    Ok(call)
}

/// Acts on verified call signalling from remote `actor` (see [`concerns`]). What does not apply
/// (someone who may not call, a call that is over, bad SDP) is refused with the reason, which the
/// inbox logs and answers with 400.
pub async fn receive(
    data: &FedData,
    actor: &AccountRow,
    kind: &str,
    doc: &Value,
) -> anyhow::Result<()> {
    let state: &AppState = data;
    match kind {
        "Invite" => receive_invite(state, actor, doc).await,
        "Accept" => {
            let call = named_call(state, actor, doc, "object").await?;
            anyhow::ensure!(call.callee_id == actor.id, "only the callee answers");
            let sdp = doc.get("sdp").and_then(Value::as_str).unwrap_or_default();
            check_sdp(sdp)?;
            anyhow::ensure!(
                store::answer(&state.db, call.id, sdp, Utc::now()).await?,
                "call {} is no longer ringing",
                call.uri
            );
            let call = store::find(&state.db, call.id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the call is gone"))?;
            publish_call(state, &call).await?;
            Ok(())
        }
        "Reject" | "Leave" => {
            let call = named_call(state, actor, doc, "object").await?;
            let outcome = match (call.state.as_str(), actor.id == call.caller_id) {
                (store::ACTIVE, _) => store::ENDED,
                (store::RINGING, true) => store::MISSED,
                (store::RINGING, false) => store::DECLINED,
                // Both hung up at once: the other end already counted.
                _ => return Ok(()),
            };
            finish(state, &call, outcome).await?;
            Ok(())
        }
        "Add" => {
            let call = named_call(state, actor, doc, "target").await?;
            anyhow::ensure!(call.live(), "call {} is over", call.uri);
            let o = doc.get("object").unwrap_or(&Value::Null);
            let c = CallCandidate {
                candidate: o
                    .get("candidate")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                sdp_mid: o.get("sdpMid").and_then(Value::as_str).map(str::to_string),
                sdp_m_line_index: o
                    .get("sdpMLineIndex")
                    .and_then(Value::as_i64)
                    .map(|i| i.clamp(-1, i64::from(i32::MAX)) as i32),
            };
            check_candidate(&c)?;
            add_candidate(state, &call, actor.id == call.caller_id, c).await?;
            Ok(())
        }
        _ => anyhow::bail!("{kind} is not call signalling"),
    }
}

/// A remote caller's `Invite`: the local callee's phone rings, if they may be called.
async fn receive_invite(state: &AppState, caller: &AccountRow, doc: &Value) -> anyhow::Result<()> {
    let object = doc.get("object").unwrap_or(&Value::Null);
    let uri = str_at(doc, "object").ok_or_else(|| anyhow::anyhow!("a Call without an id"))?;
    let call_url = url::Url::parse(uri)?;
    let caller_url = url::Url::parse(&caller.uri)?;
    anyhow::ensure!(
        authority(&call_url).is_some() && authority(&call_url) == authority(&caller_url),
        "the call {uri} is not on the caller's server"
    );
    if let Some(by) = str_at(object, "attributedTo") {
        anyhow::ensure!(by == caller.uri, "a Call attributed to someone else");
    }
    if store::find_by_uri(&state.db, uri).await?.is_some() {
        return Ok(());
    }
    let media = object
        .get("callType")
        .and_then(Value::as_str)
        .unwrap_or("video");
    check_media(media)?;
    let offer = object
        .get("sdp")
        .and_then(Value::as_str)
        .unwrap_or_default();
    check_sdp(offer)?;
    let target =
        str_at(doc, "target").ok_or_else(|| anyhow::anyhow!("an Invite without a target"))?;
    let (callee, _) = accounts::find_by_uri(&state.db, target)
        .await?
        .filter(|(a, _)| a.is_local())
        .ok_or_else(|| anyhow::anyhow!("no account {target} here"))?;
    anyhow::ensure!(
        usable_local(state, &callee).await?,
        "{target} cannot take calls"
    );
    may_call(state, callee.id, caller.id).await?;
    anyhow::ensure!(
        !store::live_between(&state.db, caller.id, callee.id).await?,
        "a call between {} and {target} is already ringing or going on",
        caller.uri
    );
    state
        .limits
        .calls_per_account
        .hit(state, &caller.id.to_string())
        .await?;
    // The ring starts now here, whatever the caller's clock says.
    let call = CallRow::ringing(
        ids::new_id(),
        uri.to_string(),
        caller.id,
        callee.id,
        media,
        offer,
    );
    store::insert(&state.db, &call).await?;
    tracing::debug!(call = %uri, ring_secs = RING_SECS, "a remote call rings");
    publish_call(state, &call).await?;
    Ok(())
}
