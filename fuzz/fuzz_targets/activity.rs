//! Incoming activity JSON, as the inbox parses it before anything is verified: the activity enum,
//! and the Note, actor and PeerTube Video shapes fetched objects are read into.
#![no_main]

use activitypub_federation::traits::Activity;
use libfuzzer_sys::fuzz_target;
use rookery::federation::activities::InboxActivity;
use rookery::federation::protocol::{actor::Person, note::Note, peertube};

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = serde_json::from_slice::<InboxActivity>(data) {
        let _ = a.actor();
        let _ = serde_json::to_vec(&a);
    }
    let _ = serde_json::from_slice::<Note>(data);
    let _ = serde_json::from_slice::<Person>(data);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = peertube::video_to_note(&v);
    }
});
