//! Account security pages for a signed-in browser: `GET/POST /auth/edit` (change the e-mail
//! address or the password, each with the current password) and `GET/POST /settings/two_factor`
//! (TOTP enrolment with a QR code, recovery codes, turning it off), and `GET/POST /settings/delete`
//! (deleting one's own account). Signed-out visitors are sent to `/auth/sign_in` and come back.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::AppError;
use crate::http::extract::Params;
use crate::http::oauth::{SignInRefused, csrf_token, html, open_session, with_cookies};
use crate::http::web::{see_other, signed_in, stale_form, with_new_cookie};
use crate::service::oauth::CurrentUser;
use crate::service::render;
use crate::service::{recovery, two_factor};
use crate::state::AppState;
use crate::web::app::{AppView, SettingsPage};
use crate::web::view::AccountView;
use crate::web::{AccountDeletePage, AccountEditPage, TwoFactorPage};

use super::app::{error_page, render_screen, shell};

/// The user posting a settings form from `here`: refused (403) when its CSRF token is stale or
/// foreign, sent to sign in when signed out.
async fn form_user(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
    here: &str,
) -> Result<CurrentUser, Response> {
    if let Some(refused) = stale_form(state, headers, csrf) {
        return Err(refused);
    }
    signed_in(state, headers, here).await
}

async fn account_page(
    state: &AppState,
    cu: &CurrentUser,
    csrf: &str,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (pending, two_factor) = match (
        crate::service::accounts::unconfirmed_email(state, cu.user.id).await,
        two_factor::status(state, cu.user.id).await,
    ) {
        (Ok(p), Ok((t, _))) => (p, t),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    html(
        status,
        AccountEditPage {
            instance_title: &state.config.instance.title,
            csrf,
            username: &cu.account.username,
            email: &cu.user.email,
            pending_email: pending.as_deref(),
            two_factor,
            error,
            notice,
        },
    )
}

/// `GET /auth/edit`: the account settings page.
pub async fn account_edit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let cu = match signed_in(&state, &headers, "/auth/edit").await {
        Ok(cu) => cu,
        Err(r) => return r,
    };
    let (csrf, new_cookie) = csrf_token(&state, &headers);
    let page = account_page(&state, &cu, &csrf, StatusCode::OK, None, None).await;
    with_new_cookie(page, new_cookie)
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

/// `POST /auth/edit`: `action=email` (`email`, `current_password`) or `action=password`
/// (`current_password`, `password`, `password_confirmation`). A password change signs out every
/// other session and token; this browser gets a fresh session. Refusals show the page again (422).
pub async fn account_update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params { value: form, .. }: Params<AccountForm>,
) -> Response {
    let cu = match form_user(&state, &headers, &form.authenticity_token, "/auth/edit").await {
        Ok(cu) => cu,
        Err(r) => return r,
    };
    let csrf = form.authenticity_token.as_str();
    let refused = |e: AppError| async {
        match e {
            AppError::Unprocessable { message, .. } => {
                account_page(
                    &state,
                    &cu,
                    csrf,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(message),
                    None,
                )
                .await
            }
            other => other.into_response(),
        }
    };
    match form.action.as_str() {
        "email" => {
            match recovery::change_email(
                &state,
                &cu.user,
                &cu.account.username,
                &form.current_password,
                &form.email,
            )
            .await
            {
                Ok(pending) => {
                    let cu = match signed_in(&state, &headers, "/auth/edit").await {
                        Ok(cu) => cu,
                        Err(r) => return r,
                    };
                    let notice = if pending {
                        "We mailed a confirmation link to the new address; the old one works until it is followed."
                    } else {
                        "Your e-mail address is changed."
                    };
                    account_page(&state, &cu, csrf, StatusCode::OK, None, Some(notice.into())).await
                }
                Err(e) => refused(e).await,
            }
        }
        "password" => {
            if let Err(e) = recovery::change_password(
                &state,
                &cu.user,
                &form.current_password,
                &form.password,
                &form.password_confirmation,
            )
            .await
            {
                return refused(e).await;
            }
            let user = match crate::service::accounts::user(&state, cu.user.id).await {
                Ok(u) => u,
                Err(e) => return e.into_response(),
            };
            match open_session(&state, &headers, &user, cu.account.clone()).await {
                Ok((_, set)) => {
                    let cu = CurrentUser {
                        user,
                        account: cu.account.clone(),
                    };
                    let page = account_page(
                        &state,
                        &cu,
                        csrf,
                        StatusCode::OK,
                        None,
                        Some(
                            "Your password is changed. Other apps and browsers are signed out."
                                .into(),
                        ),
                    )
                    .await;
                    with_cookies(page, &[set])
                }
                Err(SignInRefused::Error(e)) => e.into_response(),
                Err(_) => AppError::NotFound.into_response(),
            }
        }
        _ => AppError::bad_request("Unknown action").into_response(),
    }
}

async fn two_factor_page(
    state: &AppState,
    cu: &CurrentUser,
    csrf: &str,
    status: StatusCode,
    error: Option<String>,
    recovery_codes: Vec<String>,
) -> Response {
    let built = async {
        let (enabled, codes_left) = two_factor::status(state, cu.user.id).await?;
        let enrolment = if enabled {
            None
        } else {
            two_factor::pending(state, &cu.user, &cu.account).await?
        };
        Ok::<_, AppError>((enabled, codes_left, enrolment))
    };
    match built.await {
        Ok((enabled, codes_left, enrolment)) => html(
            status,
            TwoFactorPage {
                instance_title: &state.config.instance.title,
                csrf,
                enabled,
                codes_left,
                enrolment,
                recovery_codes,
                error,
            },
        ),
        Err(e) => e.into_response(),
    }
}

/// `GET /settings/two_factor`: the two-factor page (its state, or the enrolment under way).
pub async fn two_factor_show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let cu = match signed_in(&state, &headers, "/settings/two_factor").await {
        Ok(cu) => cu,
        Err(r) => return r,
    };
    let (csrf, new_cookie) = csrf_token(&state, &headers);
    let page = two_factor_page(&state, &cu, &csrf, StatusCode::OK, None, Vec::new()).await;
    with_new_cookie(page, new_cookie)
}

#[derive(Deserialize)]
pub struct TwoFactorForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    code: String,
}

/// `POST /settings/two_factor`: `action=setup` (a new secret and QR code), `confirm` (`code`,
/// `current_password`: turns it on and shows the recovery codes once), `codes` (new recovery
/// codes) or `disable` (both with `current_password` and a `code`). Refusals show the page again
/// (422).
pub async fn two_factor_update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params { value: form, .. }: Params<TwoFactorForm>,
) -> Response {
    let cu = match form_user(
        &state,
        &headers,
        &form.authenticity_token,
        "/settings/two_factor",
    )
    .await
    {
        Ok(cu) => cu,
        Err(r) => return r,
    };
    let csrf = form.authenticity_token.as_str();
    let (pw, code) = (form.current_password.as_str(), form.code.as_str());
    let outcome = match form.action.as_str() {
        "setup" => two_factor::begin(&state, &cu.user)
            .await
            .map(|_| Vec::new()),
        "confirm" => two_factor::confirm(&state, &cu.user, &cu.account, pw, code).await,
        "codes" => two_factor::regenerate_codes(&state, &cu.user, &cu.account, pw, code).await,
        "disable" => two_factor::disable(&state, &cu.user, &cu.account, pw, code)
            .await
            .map(|_| Vec::new()),
        _ => Err(AppError::bad_request("Unknown action")),
    };
    match outcome {
        Ok(codes) => two_factor_page(&state, &cu, csrf, StatusCode::OK, None, codes).await,
        Err(AppError::Unprocessable { message, .. }) => {
            two_factor_page(
                &state,
                &cu,
                csrf,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
                Vec::new(),
            )
            .await
        }
        Err(e) => e.into_response(),
    }
}

fn delete_page(
    state: &AppState,
    cu: &CurrentUser,
    csrf: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    html(
        status,
        AccountDeletePage {
            instance_title: &state.config.instance.title,
            csrf,
            username: &cu.account.username,
            error,
        },
    )
}

/// `GET /settings/delete`: the page that deletes one's own account.
pub async fn delete_show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let cu = match signed_in(&state, &headers, "/settings/delete").await {
        Ok(cu) => cu,
        Err(r) => return r,
    };
    let (csrf, new_cookie) = csrf_token(&state, &headers);
    with_new_cookie(
        delete_page(&state, &cu, &csrf, StatusCode::OK, None),
        new_cookie,
    )
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    current_password: String,
}

/// `POST /settings/delete` (`current_password`): deletes the account (see
/// `moderation::delete_own_account`), clears the session cookie and says so; the page again (422,
/// 403) when refused.
pub async fn delete_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params { value: form, .. }: Params<DeleteForm>,
) -> Response {
    let cu = match form_user(
        &state,
        &headers,
        &form.authenticity_token,
        "/settings/delete",
    )
    .await
    {
        Ok(cu) => cu,
        Err(r) => return r,
    };
    let csrf = form.authenticity_token.as_str();
    match crate::service::moderation::delete_own_account(&state, &cu, &form.current_password).await
    {
        Ok(()) => {
            let clear =
                crate::http::cookies::set(&state.config, crate::http::cookies::SESSION, "", 0);
            let page = crate::http::oauth::message(
                &state,
                StatusCode::OK,
                "Your account is deleted",
                "Everything you posted is gone from here, and other servers have been told to remove it too.",
            );
            with_cookies(page, &[clear])
        }
        Err(e @ (AppError::Unprocessable { .. } | AppError::Forbidden(_))) => {
            let status = e.status();
            let msg = e.to_string();
            delete_page(&state, &cu, csrf, status, Some(msg))
        }
        Err(e) => e.into_response(),
    }
}

/// Rows of the profile form: Mastodon allows four fields.
const PROFILE_FIELDS: usize = 4;

/// `GET /settings`: the profile form (saved by the page's script through
/// `PATCH /api/v1/accounts/update_credentials`), messaging preferences (`PUT
/// /api/v1/messaging/preferences`), and links to the account pages.
pub async fn settings_screen(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let user = match signed_in(&state, &headers, "/settings").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let cred = render::credential_account(&state, &user.account, &user.user).await?;
        let mut fields: Vec<(String, String)> = cred
            .source
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        fields.resize(PROFILE_FIELDS.max(fields.len()), Default::default());
        let policy = crate::service::notification_requests::policy(&state, user.account.id).await?;
        let mut scheduled: Vec<(String, String, String)> = crate::service::scheduled::list(
            &state,
            &user,
            &crate::service::Page {
                limit: 40,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .map(|s| {
            (
                s.id,
                s.scheduled_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                s.params.text,
            )
        })
        .collect();
        scheduled.sort_by(|a, b| a.1.cmp(&b.1));
        let (shell, cookie) = shell(&state, &headers, &uri, Some(&user), "settings").await?;
        Ok(render_screen(
            SettingsPage {
                scheduled,
                migration: crate::service::moves::migration_state(&state, &user.account).await?,
                imports: crate::service::imports::list(&state, user.account.id).await?,
                archives: crate::service::archives::list(&state, user.account.id).await?,
                policy: vec![
                    (
                        "for_not_following",
                        "From people you don't follow",
                        policy.for_not_following,
                    ),
                    (
                        "for_not_followers",
                        "From people not following you",
                        policy.for_not_followers,
                    ),
                    (
                        "for_new_accounts",
                        "From accounts created in the last 30 days",
                        policy.for_new_accounts,
                    ),
                    (
                        "for_private_mentions",
                        "Private mentions from people you don't follow",
                        policy.for_private_mentions,
                    ),
                    (
                        "for_limited_accounts",
                        "From accounts limited by moderators",
                        policy.for_limited_accounts,
                    ),
                ],
                shell,
                a: AccountView::new(&cred.account),
                display_name: cred.account.display_name.clone(),
                note: cred.source.note.clone(),
                fields,
                locked: cred.account.locked,
                bot: cred.account.bot,
                discoverable: cred.source.discoverable,
                indexable: cred.source.indexable,
                prefs: crate::service::conversations::preferences(&user),
                custom_status: crate::service::conversations::custom_status(
                    &state,
                    user.account.id,
                )
                .await?,
                filters: crate::service::filters::list(&state, user.account.id).await?,
                followed_tags: crate::service::tags::followed(&state, user.account.id)
                    .await?
                    .into_iter()
                    .map(|t| t.name)
                    .collect(),
                apps: crate::service::sessions::authorized_apps(&state, user.user.id)
                    .await?
                    .into_iter()
                    .map(|a| AppView {
                        id: a.application_id.to_string(),
                        name: a.name,
                        website: a.website.unwrap_or_default(),
                        scopes: a.scopes,
                        tokens: a.tokens,
                        since: a.first_at.format("%-d %b %Y").to_string(),
                    })
                    .collect(),
            },
            cookie,
        ))
    };
    result.await.unwrap_or_else(|e| error_page(&state, e))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    authenticity_token: String,
}

/// `POST /settings/applications/:id/revoke`: signs application `id` out of the account (every
/// token it holds is revoked), then back to Settings. A stale form gets the 403 page.
pub async fn revoke_application(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<RevokeForm>,
) -> Response {
    if let Some(r) = stale_form(&state, &headers, &form.authenticity_token) {
        return r;
    }
    let user = match signed_in(&state, &headers, "/settings").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else {
        return error_page(&state, AppError::NotFound);
    };
    match crate::service::sessions::revoke_app(&state, user.user.id, id).await {
        Ok(()) => see_other("/settings#apps"),
        Err(e) => error_page(&state, e),
    }
}
