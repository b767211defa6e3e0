//! `/api/v1/instance`, `/api/v1/instance/peers`, `/api/v1/custom_emojis`, `/api/v1/preferences`
//! (docs.joinmastodon.org/methods/instance/, /methods/custom_emojis/, /methods/preferences/).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::api_types::{CustomEmoji, instance};
use crate::error::AppResult;
use crate::http::extract::Auth;
use crate::service::instance as svc;
use crate::state::AppState;
use crate::storage::emojis;

async fn contact(
    state: &AppState,
    facts: &svc::Facts,
) -> AppResult<Option<crate::api_types::Account>> {
    match &facts.contact {
        Some(row) => Ok(Some(crate::service::render::account(state, row).await?)),
        None => Ok(None),
    }
}

/// `GET /api/v1/instance` (also with a trailing slash).
pub async fn show(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let facts = svc::facts(&state).await?;
    let contact = contact(&state, &facts).await?;
    Ok(Json(instance::v1(&state.config, &facts.stats, contact)))
}

/// `GET /api/v2/instance` (also with a trailing slash).
pub async fn show_v2(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let facts = svc::facts(&state).await?;
    let contact = contact(&state, &facts).await?;
    let vapid = crate::service::push::vapid(&state).await?;
    Ok(Json(instance::v2(
        &state.config,
        &facts.stats,
        contact,
        &vapid.public_key,
    )))
}

/// `GET /api/v1/instance/peers`: domains this instance knows accounts on.
pub async fn peers(State(state): State<AppState>) -> AppResult<Json<Vec<String>>> {
    Ok(Json(svc::peers(&state).await?))
}

/// `GET /api/v1/instance/rules`: `instance.rules` as `Rule` entities.
pub async fn rules(State(state): State<AppState>) -> Json<Vec<Value>> {
    Json(instance::rules(&state.config))
}

/// `GET /api/v1/instance/translation_languages`: which languages can be translated into which.
/// No translator is configured, so none: an empty map, as Mastodon answers then.
pub async fn translation_languages() -> Json<Value> {
    Json(json!({}))
}

/// `GET /api/v1/instance/activity`: the last 12 weeks, newest first, each
/// `{"week" (UNIX seconds of its start, as a string), "statuses", "logins", "registrations"}`
/// (counts as strings, as Mastodon sends them).
pub async fn activity(State(state): State<AppState>) -> AppResult<Json<Vec<Value>>> {
    let weeks = svc::activity(&state).await?;
    Ok(Json(
        weeks
            .iter()
            .map(|w| {
                json!({
                    "week": w.start.timestamp().to_string(),
                    "statuses": w.statuses.to_string(),
                    "logins": w.logins.to_string(),
                    "registrations": w.registrations.to_string(),
                })
            })
            .collect(),
    ))
}

/// `GET /api/v1/custom_emojis`: this instance's own emojis.
pub async fn custom_emojis(State(state): State<AppState>) -> AppResult<Json<Vec<CustomEmoji>>> {
    let rows = emojis::list_local(&state.db).await?;
    Ok(Json(
        rows.iter()
            .map(|r| CustomEmoji::from_row(r, &state.config))
            .collect(),
    ))
}

/// `GET /api/v1/preferences` (`read:accounts`).
pub async fn preferences(auth: Auth) -> AppResult<Json<Value>> {
    let cu = auth.require_user("read:accounts")?;
    let s = &cu.user.settings.0;
    Ok(Json(json!({
        "posting:default:visibility": s.privacy.as_deref().unwrap_or("public"),
        "posting:default:sensitive": s.sensitive,
        "posting:default:language": s.language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    })))
}
