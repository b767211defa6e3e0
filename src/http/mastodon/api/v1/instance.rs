//! `/api/v1/instance`, `/api/v1/instance/{peers,rules,activity,translation_languages}`
//! (docs.joinmastodon.org/methods/instance/).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::error::AppResult;
use crate::service::instance as svc;
use crate::service::instance::documents as instance;
use crate::state::AppState;

pub(crate) async fn contact(
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

/// `GET /api/v1/instance/languages`: `[{"code", "name"}]`, every ISO 639-1 language a status may
/// name (`language` on `POST /api/v1/statuses`), by code, with its English name.
pub async fn languages() -> Json<Vec<Value>> {
    Json(
        crate::text::languages()
            .into_iter()
            .map(|(code, name)| json!({"code": code, "name": name}))
            .collect(),
    )
}

/// `GET /api/v1/instance/extended_description`: `{"updated_at", "content"}` — the instance's
/// description as HTML paragraphs (Mastodon's longer "about" text; Rookery has one description).
/// `updated_at` is when this process read its configuration, where the description lives.
pub async fn extended_description(State(state): State<AppState>) -> Json<Value> {
    let cfg = &state.config.instance;
    Json(json!({
        "updated_at": state.started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "content": crate::text::plain_to_html(&cfg.description),
    }))
}

/// What Rookery keeps and sends, said as a privacy policy when `instance.privacy_policy` is empty.
const DEFAULT_PRIVACY_POLICY: &str = "This server keeps what it needs to run your account: your \
e-mail address, a hash of your password, your profile, and what you post, upload, follow, \
favourite, bookmark and block.

Posts you make public or for your followers are sent to the servers of the people who may see \
them. Those servers keep their own copies; when you delete a post, they are asked to delete it \
too, which this server cannot enforce. Direct and group messages are stored here without \
end-to-end encryption and are sent only to the servers of their participants.

Sign-in sessions and app tokens are kept until you sign out or revoke them. Client addresses are \
used to slow down repeated sign-in attempts and are not stored with your account.

You can delete your account in Settings: its posts and media are then deleted here and a deletion \
is sent to the servers that had them.";

/// `GET /api/v1/instance/privacy_policy` (Mastodon 4.0): `{"updated_at", "content"}` —
/// `instance.privacy_policy` (or Rookery's own account of what it keeps) as HTML paragraphs;
/// `updated_at` is when this process read its configuration.
pub async fn privacy_policy(State(state): State<AppState>) -> Json<Value> {
    let text = &state.config.instance.privacy_policy;
    let text = if text.trim().is_empty() {
        DEFAULT_PRIVACY_POLICY
    } else {
        text.as_str()
    };
    Json(json!({
        "updated_at": state.started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "content": crate::text::plain_to_html(text),
    }))
}

/// `TermsOfService` (Mastodon 4.4): `{"effective_date", "effective", "content", "succeeded_by"}`
/// from `instance.terms_of_service`; `None` when there are none. Rookery keeps one version, so
/// `succeeded_by` is always null.
fn terms(state: &AppState) -> Option<Value> {
    let cfg = &state.config.instance;
    if cfg.terms_of_service.trim().is_empty() {
        return None;
    }
    let date =
        chrono::NaiveDate::parse_from_str(&cfg.terms_of_service_effective_date, "%Y-%m-%d").ok()?;
    Some(json!({
        "effective_date": date.to_string(),
        "effective": date <= chrono::Utc::now().date_naive(),
        "content": crate::text::plain_to_html(&cfg.terms_of_service),
        "succeeded_by": null,
    }))
}

/// `GET /api/v1/instance/terms_of_service` (Mastodon 4.4) → `TermsOfService`. Errors: 404 when
/// the instance has none.
pub async fn terms_of_service(State(state): State<AppState>) -> AppResult<Json<Value>> {
    terms(&state)
        .map(Json)
        .ok_or(crate::error::AppError::NotFound)
}

/// `GET /api/v1/instance/terms_of_service/:date` (Mastodon 4.4) → the `TermsOfService` that take
/// effect on `date` (`YYYY-MM-DD`). Errors: 404 for any other date.
pub async fn terms_of_service_at(
    State(state): State<AppState>,
    axum::extract::Path(date): axum::extract::Path<String>,
) -> AppResult<Json<Value>> {
    terms(&state)
        .filter(|t| t["effective_date"] == date.as_str())
        .map(Json)
        .ok_or(crate::error::AppError::NotFound)
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

/// `GET /api/v1/instance/domain_blocks`: the servers this one suspends or limits, when
/// `instance.show_domain_blocks` publishes them (404 otherwise; 401 for anonymous callers when
/// it is `users`). See [`crate::service::moderation::published_domain_blocks`].
pub async fn domain_blocks(
    State(state): State<AppState>,
    auth: crate::http::extract::Auth,
) -> AppResult<Json<Vec<Value>>> {
    let signed_in = auth.0.as_ref().is_some_and(|p| p.user.is_some());
    Ok(Json(
        crate::service::moderation::published_domain_blocks(&state, signed_in).await?,
    ))
}
