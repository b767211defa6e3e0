//! Read positions in the home timeline and notifications, kept across a user's apps
//! (docs.joinmastodon.org/methods/markers/).

use serde_json::{Map, Value, json};

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::notifications::{self as store, MarkerRow};

/// The timelines a marker can be kept for.
pub const TIMELINES: &[&str] = &["home", "notifications"];

/// The `Marker` entity.
fn marker_json(m: &MarkerRow) -> Value {
    json!({
        "last_read_id": m.last_read_id.to_string(),
        "version": m.version,
        "updated_at": m.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

/// `me`'s markers for `timelines` (all of [`TIMELINES`] when empty), as an object keyed by
/// timeline; timelines never marked are left out.
///
/// Errors: database errors.
pub async fn get(state: &AppState, me: i64, timelines: &[&str]) -> AppResult<Map<String, Value>> {
    let wanted = if timelines.is_empty() {
        TIMELINES
    } else {
        timelines
    };
    let mut out = Map::new();
    for m in store::markers(&state.db, me)
        .await?
        .iter()
        .filter(|m| wanted.contains(&m.timeline.as_str()))
    {
        out.insert(m.timeline.clone(), marker_json(m));
    }
    Ok(out)
}

/// Saves `me`'s read positions (`(timeline, last_read_id)`, timelines of [`TIMELINES`]) and
/// returns the saved markers as [`get`] does.
///
/// Errors: 422 when nothing is given.
pub async fn save(
    state: &AppState,
    me: i64,
    positions: &[(&str, i64)],
) -> AppResult<Map<String, Value>> {
    if positions.is_empty() {
        return Err(AppError::unprocessable(
            "Give home[last_read_id] or notifications[last_read_id]",
        ));
    }
    for (timeline, id) in positions {
        store::set_marker(&state.db, me, timeline, *id).await?;
    }
    let saved: Vec<&str> = positions.iter().map(|(t, _)| *t).collect();
    get(state, me, &saved).await
}
