//! Live signals around messages (docs/API.md, Conversations): typing events, presence (online,
//! offline) and custom statuses, and the messaging preferences that hide them.

use chrono::Utc;
use serde_json::json;

use super::own;
use crate::api_types::conversation::{CustomStatus, MessagingPreferences, Presence};
use crate::error::{AppError, AppResult};
use crate::realtime::{Event, StreamKey};
use crate::service::oauth::CurrentUser;
use crate::state::AppState;
use crate::storage::accounts;
use crate::storage::conversations as store;

/// Typing in a conversation (extension): an event `rookery.typing` on the `direct` stream of every
/// other local participant, unless the caller hides typing. Errors: 404 for a conversation that is
/// not the caller's.
pub async fn typing(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<()> {
    let row = own(state, user.account.id, id).await?;
    if user.user.settings.0.hide_typing {
        return Ok(());
    }
    for other in store::of_thread(&state.db, row.conversation_id).await? {
        if other.account_id == row.account_id {
            continue;
        }
        let payload = json!({
            "conversation_id": other.id.to_string(),
            "account_id": row.account_id.to_string(),
        });
        state.hub.publish(Event {
            keys: vec![StreamKey::Direct(other.account_id)],
            event: "rookery.typing",
            payload: payload.to_string(),
            author_id: Some(row.account_id),
        });
    }
    Ok(())
}

/// A streaming connection of a local account opened (`online`) or closed: when that changes
/// whether it is online, an event `rookery.presence` goes to the `direct` streams of local accounts
/// it shares a conversation with, unless it hides its presence.
pub async fn presence_changed(state: &AppState, user: &CurrentUser, online: bool) {
    let id = user.account.id;
    let mut changed = if online {
        state.presence.connect(id)
    } else {
        state.presence.disconnect(id)
    };
    // Several nodes: this node's row says so to the others; the account's state changes only if
    // no other node has it connected.
    if changed && state.clustered() {
        let node = crate::jobs::node_id();
        let recorded = if online {
            crate::storage::presence::renew(&state.db, node, &[id], Utc::now() + PRESENCE_TTL).await
        } else {
            crate::storage::presence::remove(&state.db, node, id).await
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "could not record presence for the other nodes");
        }
        changed = !crate::storage::presence::online_elsewhere(&state.db, node, id)
            .await
            .unwrap_or(false);
    }
    if !changed || user.user.settings.0.hide_presence {
        return;
    }
    let Ok(partners) = store::partners(&state.db, user.account.id).await else {
        return;
    };
    if partners.is_empty() {
        return;
    }
    let payload = json!({ "account_id": user.account.id.to_string(), "online": online });
    state.hub.publish(Event {
        keys: partners.into_iter().map(StreamKey::Direct).collect(),
        event: "rookery.presence",
        payload: payload.to_string(),
        author_id: Some(user.account.id),
    });
}

/// How long a node's presence row holds without renewal; nodes renew theirs every
/// [`PRESENCE_RENEW`].
pub const PRESENCE_TTL: chrono::Duration = chrono::Duration::seconds(90);
pub const PRESENCE_RENEW: std::time::Duration = std::time::Duration::from_secs(30);

/// Whether `account` has a streaming connection open here or, with several nodes, on another.
pub async fn is_online(state: &AppState, account: i64) -> bool {
    state.presence.is_online(account)
        || (state.clustered()
            && crate::storage::presence::online_elsewhere(
                &state.db,
                crate::jobs::node_id(),
                account,
            )
            .await
            .unwrap_or(false))
}

/// With several nodes: renews this node's presence rows every [`PRESENCE_RENEW`] (and drops
/// expired ones, left by nodes that died), so the others see who is connected here.
pub fn spawn_presence_renewal(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    if !state.clustered() {
        return None;
    }
    let state = state.clone();
    Some(tokio::spawn(async move {
        loop {
            tokio::time::sleep(PRESENCE_RENEW).await;
            let online = state.presence.online_accounts();
            let node = crate::jobs::node_id();
            let until = Utc::now() + PRESENCE_TTL;
            if let Err(e) = crate::storage::presence::renew(&state.db, node, &online, until).await {
                tracing::warn!(error = %e, "could not renew presence");
            }
            if let Err(e) = crate::storage::presence::prune(&state.db).await {
                tracing::warn!(error = %e, "could not drop expired presence");
            }
        }
    }))
}

/// Most accounts one `GET /api/v1/presence` asks about.
pub const PRESENCE_MAX_IDS: usize = 40;

/// `GET /api/v1/presence?id[]=` (extension): whether each account is online (422 for more than
/// [`PRESENCE_MAX_IDS`] IDs). Only local accounts
/// that share a conversation with the caller and do not hide their presence can show as online.
pub async fn presence(state: &AppState, me: i64, ids: &[String]) -> AppResult<Vec<Presence>> {
    if ids.len() > PRESENCE_MAX_IDS {
        return Err(AppError::unprocessable(format!(
            "Validation failed: at most {PRESENCE_MAX_IDS} id[] at once"
        )));
    }
    let partners = store::partners(&state.db, me).await?;
    let mut out = Vec::new();
    for raw in ids {
        let Ok(id) = raw.parse::<i64>() else {
            continue;
        };
        let user = accounts::find_user_by_account(&state.db, id).await?;
        let settings = user.as_ref().map(|u| &u.settings.0);
        let online = partners.contains(&id)
            && !settings.is_some_and(|s| s.hide_presence)
            && is_online(state, id).await;
        out.push(Presence {
            id: id.to_string(),
            online,
            custom_status: settings.and_then(custom_status_of),
        });
    }
    Ok(out)
}

/// Longest custom status text, in characters.
pub const CUSTOM_STATUS_MAX_CHARS: usize = 100;
/// Longest custom status emoji, in bytes (one emoji with its modifiers and joiners).
pub const CUSTOM_STATUS_EMOJI_MAX_BYTES: usize = 32;
/// Longest a custom status may be set for, in seconds (30 days).
pub const CUSTOM_STATUS_MAX_SECONDS: i64 = 30 * 24 * 3600;

/// A custom status as the API shows it, if set and not expired.
fn custom_status_of(s: &accounts::UserSettings) -> Option<CustomStatus> {
    let c = s.custom_status.as_ref()?;
    if c.expires_at.is_some_and(|t| t <= Utc::now()) {
        return None;
    }
    Some(CustomStatus {
        text: c.text.clone(),
        emoji: c.emoji.clone(),
        expires_at: c.expires_at,
    })
}

/// The custom status of local account `account_id`, if it has one (public: profiles show it).
///
/// Errors: database errors.
pub async fn custom_status(state: &AppState, account_id: i64) -> AppResult<Option<CustomStatus>> {
    Ok(accounts::find_user_by_account(&state.db, account_id)
        .await?
        .and_then(|u| custom_status_of(&u.settings.0)))
}

/// `PUT /api/v1/presence/status` (extension): sets the caller's custom status — `text` (at most
/// [`CUSTOM_STATUS_MAX_CHARS`] characters) and `emoji` (at most [`CUSTOM_STATUS_EMOJI_MAX_BYTES`]
/// bytes, no spaces), at least one of them, for `expires_in` seconds (60 to 30 days; `None`: until
/// cleared) — and tells the people the caller talks with (`rookery.presence` with it). `None`
/// text and emoji (both empty) clear it.
///
/// Errors: 422 for a text or emoji too long, an emoji with spaces, or an expiry out of range.
pub async fn set_custom_status(
    state: &AppState,
    user: &CurrentUser,
    text: &str,
    emoji: &str,
    expires_in: Option<i64>,
) -> AppResult<Option<CustomStatus>> {
    let (text, emoji) = (text.trim(), emoji.trim());
    if text.chars().count() > CUSTOM_STATUS_MAX_CHARS {
        return Err(AppError::unprocessable(format!(
            "Validation failed: a custom status is at most {CUSTOM_STATUS_MAX_CHARS} characters"
        )));
    }
    if emoji.len() > CUSTOM_STATUS_EMOJI_MAX_BYTES || emoji.contains(char::is_whitespace) {
        return Err(AppError::unprocessable(
            "Validation failed: emoji must be one emoji",
        ));
    }
    let expires_at = match expires_in {
        None => None,
        Some(s) if (60..=CUSTOM_STATUS_MAX_SECONDS).contains(&s) => {
            Some(Utc::now() + chrono::Duration::seconds(s))
        }
        Some(_) => {
            return Err(AppError::unprocessable(format!(
                "Validation failed: expires_in must be 60 to {CUSTOM_STATUS_MAX_SECONDS} seconds"
            )));
        }
    };
    let mut settings = user.user.settings.0.clone();
    settings.custom_status =
        (!text.is_empty() || !emoji.is_empty()).then(|| accounts::CustomStatusSetting {
            text: text.to_string(),
            emoji: emoji.to_string(),
            expires_at,
        });
    let mut tx = state.db.begin().await?;
    accounts::update_settings(&mut tx, user.user.id, &settings).await?;
    tx.commit().await?;
    let shown = custom_status_of(&settings);
    if let Ok(partners) = store::partners(&state.db, user.account.id).await
        && !partners.is_empty()
    {
        let online = !settings.hide_presence && is_online(state, user.account.id).await;
        let payload = json!({
            "account_id": user.account.id.to_string(),
            "online": online,
            "custom_status": shown,
        });
        state.hub.publish(Event {
            keys: partners.into_iter().map(StreamKey::Direct).collect(),
            event: "rookery.presence",
            payload: payload.to_string(),
            author_id: Some(user.account.id),
        });
    }
    Ok(shown)
}

/// The caller's messaging preferences.
pub fn preferences(user: &CurrentUser) -> MessagingPreferences {
    preferences_of(&user.user.settings.0)
}

fn preferences_of(s: &accounts::UserSettings) -> MessagingPreferences {
    MessagingPreferences {
        typing_indicators: !s.hide_typing,
        presence: !s.hide_presence,
        do_not_disturb: s.do_not_disturb,
    }
}

/// Changes in `PUT /api/v1/messaging/preferences`; absent fields keep their value.
#[derive(Default)]
pub struct PreferencesUpdate {
    pub typing_indicators: Option<bool>,
    pub presence: Option<bool>,
    pub do_not_disturb: Option<bool>,
}

/// Saves messaging preferences and returns them.
pub async fn update_preferences(
    state: &AppState,
    user: &CurrentUser,
    u: PreferencesUpdate,
) -> AppResult<MessagingPreferences> {
    let mut settings = user.user.settings.0.clone();
    if let Some(v) = u.typing_indicators {
        settings.hide_typing = !v;
    }
    if let Some(v) = u.presence {
        settings.hide_presence = !v;
    }
    if let Some(v) = u.do_not_disturb {
        settings.do_not_disturb = v;
    }
    let mut tx = state.db.begin().await?;
    accounts::update_settings(&mut tx, user.user.id, &settings).await?;
    tx.commit().await?;
    Ok(preferences_of(&settings))
}
