//! Rookery's call entities (docs/API.md, "Calls"): `Call` and `CallCandidate`; the ICE servers
//! are `config::IceServer`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Account;

/// `Call` (extension): a one-to-one voice or video call as one of its two people sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Call {
    pub id: String,
    /// The call's ID on the caller's server (the `Call` object of docs/FEDERATION.md, "Calls").
    pub uri: String,
    pub caller: Account,
    pub callee: Account,
    /// `audio` or `video`.
    pub media: String,
    /// `ringing`, `active`, `ended` (answered, then hung up), `declined` or `missed` (the caller
    /// gave up or the ring timed out).
    pub state: String,
    /// The caller's SDP offer (RFC 8866 text).
    pub offer: String,
    /// The callee's SDP answer, once accepted.
    pub answer: Option<String>,
    /// ICE candidates sent so far by the other person, in order.
    pub candidates: Vec<CallCandidate>,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "super::mastodon_time::option")]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(with = "super::mastodon_time::option")]
    pub ended_at: Option<DateTime<Utc>>,
}

/// `CallCandidate` (extension): one ICE candidate, as `RTCIceCandidate.toJSON()` gives it
/// (`candidate`, `sdpMid`, `sdpMLineIndex`), in the API's snake case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallCandidate {
    /// The `candidate:` line (RFC 8839), or `""` for the end of candidates.
    pub candidate: String,
    pub sdp_mid: Option<String>,
    pub sdp_m_line_index: Option<i32>,
}
