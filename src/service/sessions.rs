//! Browser sessions: signing in with a password and, when the account has it, a second factor
//! (TOTP or recovery code, through a short-lived challenge), and the session tokens that the
//! `http` layer keeps in a cookie. Used by the sign-in page, `/oauth/authorize` and settings.

use http::StatusCode;

use crate::error::AppError;
use crate::service::accounts::{self as account_svc, ensure_functional};
use crate::service::secrets;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow, UserRow};
use crate::storage::{ids, oauth as store};

/// How long a session lasts, in seconds (30 days); also its cookie's `Max-Age`.
pub const SESSION_MAX_AGE: i64 = 30 * 24 * 3600;

/// How long the code step of a sign-in may take.
const CHALLENGE_MINUTES: i64 = 5;
const CHALLENGE_PURPOSE: &str = "sign_in";

/// Why a sign-in form is answered with the form again (status, message, `Retry-After` seconds),
/// or an error page.
pub enum SignInRefused {
    Page(StatusCode, String, Option<u64>),
    /// The password passed but the account has two-factor sign-in: ask for a code with this
    /// challenge (and say why when a code was wrong).
    SecondFactor {
        challenge: String,
        status: StatusCode,
        error: Option<String>,
    },
    Error(AppError),
}

/// Over the sign-in limits: the form again with when to retry; anything else is an error page.
impl From<AppError> for SignInRefused {
    fn from(e: AppError) -> SignInRefused {
        match e {
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => SignInRefused::Page(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many sign-in attempts. Try again in {} minutes.",
                    retry_after_secs.div_ceil(60)
                ),
                Some(retry_after_secs),
            ),
            e => SignInRefused::Error(e),
        }
    }
}

impl From<sqlx::Error> for SignInRefused {
    fn from(e: sqlx::Error) -> SignInRefused {
        SignInRefused::Error(AppError::from(e))
    }
}

/// Checks a login and password (rate-limited per IP and account) and opens a session, or asks
/// for the second factor. Returns the account and the new session's token; `user_agent` is kept
/// with the session.
pub async fn start(
    state: &AppState,
    ip: std::net::IpAddr,
    user_agent: Option<&str>,
    login: &str,
    password: &str,
) -> Result<(AccountRow, String), SignInRefused> {
    let user = account_svc::check_password(state, ip, login, password).await?;
    let Some(user) = user else {
        return Err(SignInRefused::Page(
            StatusCode::UNAUTHORIZED,
            "Invalid e-mail address, username or password.".into(),
            None,
        ));
    };
    if let Err(e) = ensure_functional(&user) {
        return Err(SignInRefused::Page(
            StatusCode::FORBIDDEN,
            e.to_string(),
            None,
        ));
    }
    let account = accounts::find_account(&state.db, user.account_id)
        .await?
        .ok_or(SignInRefused::Error(AppError::NotFound))?;
    if let Err(e) = account_svc::ensure_not_suspended(&account) {
        return Err(SignInRefused::Page(
            StatusCode::FORBIDDEN,
            e.to_string(),
            None,
        ));
    }
    if crate::storage::two_factor::enabled(&state.db, user.id).await? {
        let challenge = secrets::random_token();
        let mut tx = state.db.begin().await?;
        crate::storage::user_tokens::insert(
            &mut tx,
            &secrets::digest(&challenge),
            user.id,
            CHALLENGE_PURPOSE,
            chrono::Utc::now() + chrono::Duration::minutes(CHALLENGE_MINUTES),
        )
        .await?;
        tx.commit().await?;
        return Err(SignInRefused::SecondFactor {
            challenge,
            status: StatusCode::OK,
            error: None,
        });
    }
    open(state, user_agent, &user, account).await
}

/// The second step of a sign-in with two-factor: `code` (TOTP or recovery) for the user of
/// `challenge`, counted against the same sign-in limits as passwords. A wrong code asks again with
/// the same challenge; an expired or used challenge starts over.
pub async fn finish_second_factor(
    state: &AppState,
    ip: std::net::IpAddr,
    user_agent: Option<&str>,
    challenge: &str,
    code: &str,
) -> Result<(AccountRow, String), SignInRefused> {
    let hash = secrets::digest(challenge);
    let expired = || {
        SignInRefused::Page(
            StatusCode::UNAUTHORIZED,
            "That took too long. Sign in again.".into(),
            None,
        )
    };
    let user_id = crate::storage::user_tokens::find_valid(&state.db, &hash, CHALLENGE_PURPOSE)
        .await?
        .ok_or_else(expired)?;
    let user = accounts::find_user(&state.db, user_id)
        .await?
        .ok_or_else(expired)?;
    let account = accounts::find_account(&state.db, user.account_id)
        .await?
        .ok_or_else(expired)?;
    state.sign_in_limiter.hit(state, ip, &user.email).await?;
    let ok = crate::service::two_factor::verify(state, &user, &account, code)
        .await
        .map_err(SignInRefused::Error)?;
    if !ok {
        return Err(SignInRefused::SecondFactor {
            challenge: challenge.to_string(),
            status: StatusCode::UNAUTHORIZED,
            error: Some("Invalid two-factor code.".into()),
        });
    }
    let mut tx = state.db.begin().await?;
    let consumed = crate::storage::user_tokens::consume(&mut tx, &hash, CHALLENGE_PURPOSE).await?;
    tx.commit().await?;
    if consumed.is_none() || ensure_functional(&user).is_err() || account.suspended_at.is_some() {
        return Err(expired());
    }
    open(state, user_agent, &user, account).await
}

/// Opens a session for a user who has passed every factor. Returns the account and the session's
/// token (only its digest is stored).
pub async fn open(
    state: &AppState,
    user_agent: Option<&str>,
    user: &UserRow,
    account: AccountRow,
) -> Result<(AccountRow, String), SignInRefused> {
    let token = secrets::random_token();
    store::insert_session(
        &state.db,
        ids::new_id(),
        &secrets::digest(&token),
        user.id,
        user_agent,
    )
    .await?;
    accounts::touch_sign_in(&state.db, user.id).await?;
    // With read replicas, the new session reads from the primary at first (see `issue_token`).
    crate::service::reads::fence(state, &token).await;
    Ok((account, token))
}

/// The user of the session with this token, if it is younger than [`SESSION_MAX_AGE`] and its
/// user may still act.
///
/// Errors: database errors.
pub async fn user_of(
    state: &AppState,
    token: &str,
) -> Result<Option<(UserRow, AccountRow)>, AppError> {
    let not_before = chrono::Utc::now() - chrono::Duration::seconds(SESSION_MAX_AGE);
    let Some(user_id) =
        store::find_session_user(&state.db, &secrets::digest(token), not_before).await?
    else {
        return Ok(None);
    };
    let Some(user) = accounts::find_user(&state.db, user_id).await? else {
        return Ok(None);
    };
    if ensure_functional(&user).is_err() {
        return Ok(None);
    }
    let Some(account) = accounts::find_account(&state.db, user.account_id).await? else {
        return Ok(None);
    };
    if account.suspended_at.is_some() {
        return Ok(None);
    }
    Ok(Some((user, account)))
}

/// Ends the session with this token (signing out), and the web app's API access of it.
///
/// Errors: database errors.
pub async fn revoke(state: &AppState, token: &str) -> Result<(), AppError> {
    store::revoke_session(&state.db, &secrets::digest(token)).await?;
    if let Some(app) = store::find_application_by_client_id(&state.db, WEB_CLIENT_ID).await? {
        store::revoke_token(&state.db, &secrets::digest(&api_token(token)), app.id).await?;
    }
    Ok(())
}

/// The `client_id` of the built-in application the web app's API calls are made as. It has no
/// redirect URI, so no OAuth flow can use it; its tokens exist only through sessions.
const WEB_CLIENT_ID: &str = "rookery-web";
/// Its name, shown as a status's `application` and in the authorised apps.
const WEB_APP_NAME: &str = "Rookery Web";
/// What the web app may do with a session: everything but administration, as Mastodon's web UI.
const WEB_SCOPES: &str = "read write follow push";

/// The bearer token that stands for a session in the client API. It is derived from the session's
/// cookie (one-way), so it is never stored or shown: the browser proves it by the cookie, the
/// database keeps the token's digest like any other token's.
fn api_token(session_token: &str) -> String {
    secrets::digest(&format!("rookery-web-api:{session_token}"))
}

/// The API caller behind a browser session (the web app calls the client API with the session
/// cookie and a CSRF header instead of a bearer token): a user token of the application
/// "Rookery Web" with the scopes `read write follow push`, created the first time the session
/// calls the API and revoked with the session. `None` for a session that is unknown, expired or
/// revoked, or whose user may no longer act.
///
/// Errors: database errors.
pub async fn api_principal(
    state: &AppState,
    session_token: &str,
) -> Result<Option<std::sync::Arc<crate::service::oauth::Principal>>, AppError> {
    let Some((user, _)) = user_of(state, session_token).await? else {
        return Ok(None);
    };
    let token = api_token(session_token);
    if let Ok(p) = crate::service::oauth::principal_for_token(state, &token).await {
        return Ok(Some(p));
    }
    let app = web_application(state).await?;
    let inserted = store::insert_access_token(
        &state.db,
        &store::NewAccessToken {
            id: ids::new_id(),
            token_hash: &secrets::digest(&token),
            application_id: app.id,
            user_id: Some(user.id),
            scopes: WEB_SCOPES,
            created_at: chrono::Utc::now(),
        },
    )
    .await;
    if let Err(e) = inserted {
        // A concurrent first call of the same session inserted it: use that one.
        tracing::debug!(error = %e, "web session token insert");
    }
    Ok(Some(
        crate::service::oauth::principal_for_token(state, &token).await?,
    ))
}

/// The applications a user has authorised (live tokens), without the web app's own: Mastodon's
/// "Authorized apps" page.
///
/// Errors: database errors.
pub async fn authorized_apps(
    state: &AppState,
    user_id: i64,
) -> Result<Vec<store::AuthorizedApp>, AppError> {
    Ok(store::authorized_apps(&state.db, user_id, WEB_CLIENT_ID).await?)
}

/// Revokes every token `user_id` gave application `application_id` (the app is signed out and
/// must be authorised again). Errors: 404 when it holds none.
pub async fn revoke_app(
    state: &AppState,
    user_id: i64,
    application_id: i64,
) -> Result<(), AppError> {
    match store::revoke_app_for_user(&state.db, user_id, application_id).await? {
        0 => Err(AppError::NotFound),
        _ => Ok(()),
    }
}

/// The built-in "Rookery Web" application, created on first use.
async fn web_application(state: &AppState) -> Result<store::ApplicationRow, AppError> {
    if let Some(app) = store::find_application_by_client_id(&state.db, WEB_CLIENT_ID).await? {
        return Ok(app);
    }
    let created = store::insert_application(
        &state.db,
        &store::NewApplication {
            id: ids::new_id(),
            name: WEB_APP_NAME,
            website: None,
            redirect_uris: "",
            scopes: WEB_SCOPES,
            client_id: WEB_CLIENT_ID,
            client_secret_hash: &secrets::digest(&secrets::random_token()),
        },
    )
    .await;
    match created {
        Ok(app) => Ok(app),
        // Created meanwhile by another request.
        Err(_) => store::find_application_by_client_id(&state.db, WEB_CLIENT_ID)
            .await?
            .ok_or(AppError::NotFound),
    }
}
