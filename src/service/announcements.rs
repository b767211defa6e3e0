//! Announcements (docs.joinmastodon.org/methods/announcements/): notices admins publish (from the
//! CLI), shown in apps until they end; users dismiss them and react with emojis. Changes stream to
//! every `user` stream as `announcement`, `announcement.reaction` and `announcement.delete`.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::api_types::CustomEmoji;
use crate::api_types::announcement::{Announcement, AnnouncementReaction};
use crate::error::{AppError, AppResult};
use crate::realtime::{Event, StreamKey};
use crate::state::AppState;
use crate::storage::announcements::{self as store, AnnouncementRow};
use crate::storage::{emojis, ids};

/// Longest announcement text, in characters.
const MAX_TEXT: usize = 5000;

/// A new announcement, as the admin gives it.
pub struct NewAnnouncement<'a> {
    pub text: &'a str,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub all_day: bool,
}

fn publish(state: &AppState, event: &'static str, payload: String) {
    state.hub.publish(Event {
        keys: vec![StreamKey::Announcements],
        event,
        payload,
        author_id: None,
    });
}

/// Publishes an announcement now. Errors: 422 for empty or over-long text, or an end before its
/// start.
pub async fn create(state: &AppState, n: NewAnnouncement<'_>) -> AppResult<Announcement> {
    let text = n.text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Text must be 1 to {MAX_TEXT} characters"
        )));
    }
    if let (Some(s), Some(e)) = (n.starts_at, n.ends_at)
        && e <= s
    {
        return Err(AppError::unprocessable(
            "Validation failed: the end must come after the start",
        ));
    }
    let now = Utc::now();
    let row = AnnouncementRow {
        id: ids::new_id(),
        text: text.to_string(),
        content: crate::text::plain_to_html(text),
        starts_at: n.starts_at,
        ends_at: n.ends_at,
        all_day: n.all_day,
        published_at: now,
        updated_at: now,
    };
    let ended = row.ends_at.is_some_and(|e| e <= now);
    store::insert(&state.db, &row).await?;
    let a = render(state, None, vec![(row, false)]).await?.remove(0);
    if !ended && let Ok(payload) = serde_json::to_string(&a) {
        publish(state, "announcement", payload);
    }
    Ok(a)
}

/// Deletes an announcement. Errors: 404.
pub async fn delete(state: &AppState, id: i64) -> AppResult<()> {
    if !store::delete(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    publish(state, "announcement.delete", id.to_string());
    Ok(())
}

async fn render(
    state: &AppState,
    reader: Option<i64>,
    rows: Vec<(AnnouncementRow, bool)>,
) -> AppResult<Vec<Announcement>> {
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
    let reactions = store::reactions(&state.db, &ids, reader.unwrap_or(-1)).await?;
    let custom: Vec<CustomEmoji> = emojis::list_local(&state.db)
        .await?
        .iter()
        .map(|e| CustomEmoji::from_row(e, &state.config))
        .collect();
    let items: Vec<(i64, Option<&str>, String)> = rows
        .iter()
        .map(|(r, _)| (r.id, None, r.content.clone()))
        .collect();
    let mut used = crate::service::emojis::used_in_many(state, &items).await?;
    Ok(rows
        .into_iter()
        .map(|(r, read)| Announcement {
            emojis: used.remove(&r.id).unwrap_or_default(),
            id: r.id.to_string(),
            content: r.content,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            published: true,
            all_day: r.all_day,
            published_at: r.published_at,
            updated_at: r.updated_at,
            read: reader.map(|_| read),
            mentions: Vec::new(),
            statuses: Vec::new(),
            tags: Vec::new(),
            reactions: reactions
                .iter()
                .filter(|(a, ..)| *a == r.id)
                .map(|(_, name, count, me)| {
                    let e = custom.iter().find(|e| &e.shortcode == name);
                    AnnouncementReaction {
                        name: name.clone(),
                        count: *count,
                        me: *me,
                        url: e.map(|e| e.url.clone()),
                        static_url: e.map(|e| e.static_url.clone()),
                    }
                })
                .collect(),
        })
        .collect())
}

/// `GET /api/v1/announcements`: those that have not ended, oldest first; dismissed ones only
/// `with_dismissed`.
pub async fn list(
    state: &AppState,
    reader: i64,
    with_dismissed: bool,
) -> AppResult<Vec<Announcement>> {
    let rows = store::current(&state.db, reader, Utc::now(), with_dismissed).await?;
    render(state, Some(reader), rows).await
}

async fn existing(state: &AppState, id: &str) -> AppResult<AnnouncementRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    store::find(&state.db, id)
        .await?
        .filter(|a| a.ends_at.is_none_or(|e| e > Utc::now()))
        .ok_or(AppError::NotFound)
}

/// `POST /api/v1/announcements/:id/dismiss`. Errors: 404.
pub async fn dismiss(state: &AppState, reader: i64, id: &str) -> AppResult<()> {
    let a = existing(state, id).await?;
    store::mark_read(&state.db, a.id, reader).await?;
    Ok(())
}

/// A reaction name: a local custom emoji's shortcode, or one Unicode emoji (pictographs with
/// their joiners and modifiers; no letters, digits or spaces).
async fn valid_name(state: &AppState, name: &str) -> AppResult<bool> {
    if name.is_empty() || name.chars().count() > 16 {
        return Ok(false);
    }
    if emojis::list_local(&state.db)
        .await?
        .iter()
        .any(|e| e.shortcode == name)
    {
        return Ok(true);
    }
    Ok(name
        .chars()
        .all(|c| !c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace()))
}

/// `PUT` (`on`) or `DELETE /api/v1/announcements/:id/reactions/:name`. Errors: 404 for the
/// announcement, 422 for a name that is not an emoji.
pub async fn react(state: &AppState, reader: i64, id: &str, name: &str, on: bool) -> AppResult<()> {
    let a = existing(state, id).await?;
    if !valid_name(state, name).await? {
        return Err(AppError::unprocessable(
            "Validation failed: Name is not a recognized emoji",
        ));
    }
    if store::react(&state.db, a.id, reader, name, on).await? {
        let count = store::reactions(&state.db, &[a.id], reader)
            .await?
            .iter()
            .find(|(_, n, ..)| n == name)
            .map_or(0, |(_, _, c, _)| *c);
        let payload = json!({ "name": name, "count": count, "announcement_id": a.id.to_string() });
        publish(state, "announcement.reaction", payload.to_string());
    }
    Ok(())
}
