//! OAuth 2 as Mastodon does it: application registration, authorization codes (with PKCE S256 and
//! the out-of-band redirect), the password and client-credentials grants, revocation, and turning a
//! bearer token into the caller ([`Principal`]).
//!
//! Sources: RFC 6749, RFC 7636 (PKCE), RFC 7009 (revocation), docs.joinmastodon.org/methods/oauth/
//! and /methods/apps/.

use chrono::{Duration, Utc};
use http::StatusCode;

use crate::error::{AppError, AppResult};
use crate::service::accounts::ensure_functional;
use crate::service::scopes::Scopes;
use crate::service::secrets;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow, UserRow};
use crate::storage::oauth::{self, ApplicationRow, NewAccessToken, NewApplication};
use crate::storage::{Db, ids};

/// The redirect URI that shows the code on a page instead of redirecting.
pub const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";
/// How long an authorization code stays redeemable.
pub const CODE_TTL_MINUTES: i64 = 10;

/// A signed-in local user with their account.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: UserRow,
    pub account: AccountRow,
}

/// Who is calling: the token's application and scopes, and its user unless it is an app token.
#[derive(Clone, Debug)]
pub struct Principal {
    pub token_id: i64,
    pub application_id: i64,
    pub scopes: Scopes,
    pub user: Option<CurrentUser>,
}

/// `POST /api/v1/apps` input.
pub struct RegisterApp<'a> {
    pub client_name: &'a str,
    /// Each must be an absolute URI (custom schemes allowed) or [`OOB_REDIRECT`].
    pub redirect_uris: Vec<String>,
    pub scopes: Option<&'a str>,
    pub website: Option<&'a str>,
}

fn valid_redirect_uri(uri: &str) -> bool {
    if uri == OOB_REDIRECT {
        return true;
    }
    match url::Url::parse(uri) {
        Ok(u) => {
            u.fragment().is_none()
                && !matches!(
                    u.scheme(),
                    "javascript" | "data" | "file" | "vbscript" | "about"
                )
        }
        Err(_) => false,
    }
}

/// Registers an application; returns it with its client secret (shown only now).
///
/// Errors: 422 for a missing or over-long name, a missing or invalid redirect URI, an unknown scope,
/// or an invalid website.
pub async fn register_app(db: &Db, r: RegisterApp<'_>) -> AppResult<(ApplicationRow, String)> {
    let name = r.client_name.trim();
    if name.is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: Application name can't be blank",
        ));
    }
    if name.chars().count() > 60 {
        return Err(AppError::unprocessable(
            "Validation failed: Application name is too long (maximum is 60 characters)",
        ));
    }
    let uris: Vec<&str> = r
        .redirect_uris
        .iter()
        .flat_map(|s| s.split(['\n', ' ']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if uris.is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: Redirect URI can't be blank",
        ));
    }
    if let Some(bad) = uris
        .iter()
        .find(|u| u.len() > 2000 || !valid_redirect_uri(u))
    {
        return Err(AppError::unprocessable(format!(
            "Validation failed: Redirect URI must be an absolute URI ({bad:?})"
        )));
    }
    let scopes = Scopes::parse(r.scopes.unwrap_or("")).map_err(|s| {
        AppError::unprocessable(format!("Validation failed: Scope {s:?} is unknown"))
    })?;
    let website = r.website.map(str::trim).filter(|w| !w.is_empty());
    if let Some(w) = website
        && (w.len() > 2000 || url::Url::parse(w).map_or(true, |u| !u.scheme().starts_with("http")))
    {
        return Err(AppError::unprocessable(
            "Validation failed: Website must be an http(s) URL",
        ));
    }
    let client_id = secrets::random_token();
    let client_secret = secrets::random_token();
    let row = oauth::insert_application(
        db,
        &NewApplication {
            id: ids::new_id(),
            name,
            website,
            redirect_uris: &uris.join("\n"),
            scopes: &scopes.to_string(),
            client_id: &client_id,
            client_secret_hash: &secrets::digest(&client_secret),
        },
    )
    .await?;
    Ok((row, client_secret))
}

fn invalid_client() -> AppError {
    AppError::oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed due to unknown client, no client authentication included, \
         or unsupported authentication method.",
    )
}

/// Finds the application and checks its secret. `secret = None` is accepted only where the caller
/// proves possession another way (a PKCE verifier).
///
/// Errors: 401 `invalid_client`.
pub async fn authenticate_client(
    db: &Db,
    client_id: &str,
    secret: Option<&str>,
    secret_required: bool,
) -> AppResult<ApplicationRow> {
    let app = oauth::find_application_by_client_id(db, client_id)
        .await?
        .ok_or_else(invalid_client)?;
    match secret {
        Some(s) => {
            let given = secrets::digest(s);
            if !secrets::constant_time_eq(given.as_bytes(), app.client_secret_hash.as_bytes()) {
                return Err(invalid_client());
            }
        }
        None if secret_required => return Err(invalid_client()),
        None => {}
    }
    Ok(app)
}

/// An authorization request that passed validation (`GET /oauth/authorize`).
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    pub app: ApplicationRow,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// Raw `/oauth/authorize` parameters.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub force_login: Option<String>,
    pub lang: Option<String>,
}

/// Checks an authorization request. Errors are meant for a page shown to the person, never for a
/// redirect: with an unknown client or unregistered redirect URI, redirecting would be unsafe.
///
/// Errors: 400 naming what is wrong (unknown client, redirect URI not registered, unsupported
/// response type, unknown or unregistered scope, bad PKCE method).
pub async fn validate_authorization(
    db: &Db,
    p: &AuthorizeParams,
) -> AppResult<AuthorizationRequest> {
    let client_id = p
        .client_id
        .as_deref()
        .ok_or_else(|| AppError::bad_request("client_id is missing"))?;
    let app = oauth::find_application_by_client_id(db, client_id)
        .await?
        .ok_or_else(|| AppError::bad_request("The client is unknown (client_id)"))?;
    let registered: Vec<&str> = app.redirect_uri_list().collect();
    let redirect_uri = match p.redirect_uri.as_deref() {
        Some(r) if registered.contains(&r) => r.to_string(),
        Some(_) => {
            return Err(AppError::bad_request(
                "The redirect URI is not one this application registered",
            ));
        }
        None if registered.len() == 1 => registered[0].to_string(),
        None => return Err(AppError::bad_request("redirect_uri is missing")),
    };
    if p.response_type.as_deref() != Some("code") {
        return Err(AppError::bad_request(
            "Only response_type=code is supported",
        ));
    }
    let scopes = Scopes::parse(p.scope.as_deref().unwrap_or(""))
        .map_err(|s| AppError::bad_request(format!("The scope {s:?} is unknown")))?;
    let app_scopes = Scopes::parse(&app.scopes)
        .map_err(|_| AppError::bad_request("The application's registered scopes are invalid"))?;
    if !app_scopes.covers_all(&scopes) {
        return Err(AppError::bad_request(
            "The requested scope is more than the application registered",
        ));
    }
    let (challenge, method) = match (&p.code_challenge, &p.code_challenge_method) {
        (None, _) => (None, None),
        (Some(c), m) => {
            let m = m.as_deref().unwrap_or("plain");
            if m != "S256" {
                return Err(AppError::bad_request(
                    "Only code_challenge_method=S256 is supported",
                ));
            }
            if c.len() < 43 || c.len() > 128 {
                return Err(AppError::bad_request("code_challenge has the wrong length"));
            }
            (Some(c.clone()), Some(m.to_string()))
        }
    };
    Ok(AuthorizationRequest {
        app,
        redirect_uri,
        scopes,
        state: p.state.clone(),
        code_challenge: challenge,
        code_challenge_method: method,
    })
}

/// Issues a single-use authorization code for `user_id`, valid [`CODE_TTL_MINUTES`].
pub async fn issue_code(db: &Db, req: &AuthorizationRequest, user_id: i64) -> AppResult<String> {
    let code = secrets::random_token();
    oauth::insert_authorization_code(
        db,
        &oauth::NewAuthorizationCode {
            code_hash: &secrets::digest(&code),
            application_id: req.app.id,
            user_id,
            redirect_uri: &req.redirect_uri,
            scopes: &req.scopes.to_string(),
            code_challenge: req.code_challenge.as_deref(),
            code_challenge_method: req.code_challenge_method.as_deref(),
            expires_at: Utc::now() + Duration::minutes(CODE_TTL_MINUTES),
        },
    )
    .await?;
    Ok(code)
}

/// A newly issued access token (`Token` entity).
pub struct IssuedToken {
    pub access_token: String,
    pub scopes: Scopes,
    pub created_at: chrono::DateTime<Utc>,
}

impl From<IssuedToken> for crate::api_types::oauth::Token {
    fn from(t: IssuedToken) -> crate::api_types::oauth::Token {
        crate::api_types::oauth::Token {
            access_token: t.access_token,
            token_type: "Bearer",
            scope: t.scopes.to_string(),
            created_at: t.created_at.timestamp(),
        }
    }
}

/// Stores and returns a new bearer token.
pub async fn issue_token(
    db: &Db,
    application_id: i64,
    user_id: Option<i64>,
    scopes: Scopes,
) -> AppResult<IssuedToken> {
    let token = secrets::random_token();
    let created_at = Utc::now();
    oauth::insert_access_token(
        db,
        &NewAccessToken {
            id: ids::new_id(),
            token_hash: &secrets::digest(&token),
            application_id,
            user_id,
            scopes: &scopes.to_string(),
            created_at,
        },
    )
    .await?;
    if let Some(uid) = user_id {
        accounts::touch_sign_in(db, uid).await?;
    }
    // With read replicas, the new session's first reads stay on the primary: what it was issued
    // for (an account made a moment ago, say) may not have reached a replica yet.
    crate::storage::replicas::fence(db, crate::storage::replicas::session_key(&token)).await?;
    Ok(IssuedToken {
        access_token: token,
        scopes,
        created_at,
    })
}

fn invalid_grant(description: &str) -> AppError {
    AppError::oauth(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// Raw `POST /oauth/token` parameters.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub redirect_uri: Option<String>,
    pub code: Option<String>,
    pub code_verifier: Option<String>,
    pub scope: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The token endpoint for the `authorization_code`, `password` and `client_credentials` grants.
/// `basic` carries client credentials from an HTTP Basic header, which win over body fields.
///
/// Errors (RFC 6749 §5.2): 400 `invalid_request`, `unsupported_grant_type`, `invalid_grant`,
/// `invalid_scope`; 401 `invalid_client`; 429 when sign-in attempts are throttled.
pub async fn token(
    state: &AppState,
    ip: std::net::IpAddr,
    p: TokenParams,
    basic: Option<(String, String)>,
) -> AppResult<IssuedToken> {
    let db = &state.db;
    let (client_id, client_secret) = match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (p.client_id.clone(), p.client_secret.clone()),
    };
    let client_id = client_id.ok_or_else(invalid_client)?;
    let grant = p.grant_type.as_deref().unwrap_or("");
    match grant {
        "authorization_code" => {
            let has_verifier = p.code_verifier.is_some();
            let app = authenticate_client(db, &client_id, client_secret.as_deref(), !has_verifier)
                .await?;
            let code = p.code.as_deref().ok_or_else(|| {
                AppError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code is missing",
                )
            })?;
            let row = oauth::redeem_authorization_code(db, &secrets::digest(code))
                .await?
                .ok_or_else(|| {
                    invalid_grant("The authorization code is invalid, expired or already used.")
                })?;
            if row.application_id != app.id || row.expires_at < Utc::now() {
                return Err(invalid_grant(
                    "The authorization code is invalid, expired or already used.",
                ));
            }
            if p.redirect_uri
                .as_deref()
                .is_some_and(|r| r != row.redirect_uri)
            {
                return Err(invalid_grant(
                    "The redirect URI does not match the authorization request.",
                ));
            }
            match (&row.code_challenge, p.code_verifier.as_deref()) {
                (Some(challenge), Some(verifier)) => {
                    if !secrets::pkce_s256_matches(verifier, challenge) {
                        return Err(invalid_grant("The PKCE code verifier does not match."));
                    }
                }
                (Some(_), None) => return Err(invalid_grant("The PKCE code verifier is missing.")),
                // A verifier without a challenge proves nothing: the secret is required then.
                (None, Some(_)) if client_secret.is_none() => return Err(invalid_client()),
                (None, _) => {}
            }
            let user = accounts::find_user(db, row.user_id)
                .await?
                .ok_or_else(|| invalid_grant("The account no longer exists."))?;
            ensure_functional(&user).map_err(|e| invalid_grant(&e.to_string()))?;
            ensure_grantable(state, &user, false).await?;
            let scopes = Scopes::parse(&row.scopes).map_err(|_| invalid_grant("Bad scope."))?;
            issue_token(db, app.id, Some(user.id), scopes).await
        }
        "password" => {
            let app = authenticate_client(db, &client_id, client_secret.as_deref(), true).await?;
            let scopes = requested_scopes(&app, p.scope.as_deref())?;
            let (Some(login), Some(password)) = (p.username.as_deref(), p.password.as_deref())
            else {
                return Err(AppError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "username and password are required",
                ));
            };
            let user = crate::service::accounts::check_password(state, ip, login, password)
                .await?
                .ok_or_else(|| invalid_grant("The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."))?;
            ensure_functional(&user).map_err(|e| invalid_grant(&e.to_string()))?;
            ensure_grantable(state, &user, true).await?;
            issue_token(db, app.id, Some(user.id), scopes).await
        }
        "client_credentials" => {
            let app = authenticate_client(db, &client_id, client_secret.as_deref(), true).await?;
            let scopes = requested_scopes(&app, p.scope.as_deref())?;
            issue_token(db, app.id, None, scopes).await
        }
        "" => Err(AppError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is missing",
        )),
        _ => Err(AppError::oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )),
    }
}

/// The scopes asked for in a token request, which must be within the application's.
fn requested_scopes(app: &ApplicationRow, asked: Option<&str>) -> AppResult<Scopes> {
    let invalid = || {
        AppError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed.",
        )
    };
    let scopes = Scopes::parse(asked.unwrap_or("")).map_err(|_| invalid())?;
    let app_scopes = Scopes::parse(&app.scopes).map_err(|_| invalid())?;
    if !app_scopes.covers_all(&scopes) {
        return Err(invalid());
    }
    Ok(scopes)
}

/// `POST /oauth/revoke`: revokes `token` if it belongs to the authenticated client. Unknown tokens
/// succeed silently (RFC 7009 §2.2).
///
/// Errors: 401 `invalid_client`.
pub async fn revoke(
    db: &Db,
    client_id: &str,
    client_secret: Option<&str>,
    token: &str,
) -> AppResult<()> {
    let app = authenticate_client(db, client_id, client_secret, true).await?;
    oauth::revoke_token(db, &secrets::digest(token), app.id).await?;
    Ok(())
}

/// Resolved bearer tokens by digest, so a request does not read its token, user and account each
/// time: at most [`PRINCIPALS_KEPT`] tokens, each kept while nothing a `Principal` holds changed
/// in this process (`storage::changes::Kind::SignIns`: tokens, users, local accounts) and for at
/// most [`PRINCIPAL_TTL`], the bound for writes by another process (`rookery admin`). Unknown
/// tokens are not kept.
pub type PrincipalCache = crate::service::cache::Kept<String, std::sync::Arc<Principal>>;

/// Tokens kept (about 2 KB each).
pub const PRINCIPALS_KEPT: usize = 4096;
/// How long a token's answer is kept at most: the delay before a change made by another
/// process (`rookery admin account disable`) applies. Under load a token is still read only once
/// a second.
pub const PRINCIPAL_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// An empty [`PrincipalCache`].
pub fn principal_cache() -> PrincipalCache {
    PrincipalCache::new(
        crate::storage::changes::Kind::SignIns,
        PRINCIPALS_KEPT,
        Some(PRINCIPAL_TTL),
    )
}

/// The caller behind a bearer token, from [`AppState::principals`] or the database.
///
/// Errors: 401 "The access token is invalid" for an unknown or revoked token, or one whose user
/// or account is gone.
pub async fn principal_for_token(
    state: &AppState,
    token: &str,
) -> AppResult<std::sync::Arc<Principal>> {
    let digest = secrets::digest(token);
    if let Some(p) = state.principals.get(&digest) {
        return Ok(p);
    }
    let generation = state.principals.generation();
    let principal = std::sync::Arc::new(read_principal(&state.db, &digest).await?);
    state
        .principals
        .insert(digest, principal.clone(), generation);
    Ok(principal)
}

async fn read_principal(db: &Db, digest: &str) -> AppResult<Principal> {
    let invalid = || AppError::unauthorized("The access token is invalid");
    if let Some(tu) = accounts::find_token_user(db, digest).await? {
        let scopes = Scopes::parse(&tu.token_scopes).map_err(|_| invalid())?;
        let user = tu.user();
        return Ok(Principal {
            token_id: tu.token_id,
            application_id: tu.token_application_id,
            scopes,
            user: Some(CurrentUser {
                user,
                account: tu.account,
            }),
        });
    }
    // Not a user token: an app-only (client credentials) token, or nothing.
    let row = oauth::find_live_token(db, digest)
        .await?
        .ok_or_else(invalid)?;
    if row.user_id.is_some() {
        // The user or account is gone.
        return Err(invalid());
    }
    let scopes = Scopes::parse(&row.scopes).map_err(|_| invalid())?;
    Ok(Principal {
        token_id: row.id,
        application_id: row.application_id,
        scopes,
        user: None,
    })
}

/// Refuses a grant for a suspended account, and a password grant for an account with two-factor
/// sign-in (its second factor can only be asked for on the sign-in page, as on Mastodon).
async fn ensure_grantable(state: &AppState, user: &UserRow, password_grant: bool) -> AppResult<()> {
    let account = accounts::find_account(&state.db, user.account_id)
        .await?
        .ok_or_else(|| invalid_grant("The account no longer exists."))?;
    crate::service::accounts::ensure_not_suspended(&account)
        .map_err(|e| invalid_grant(&e.to_string()))?;
    if password_grant && crate::storage::two_factor::enabled(&state.db, user.id).await? {
        return Err(invalid_grant(
            "This account uses two-factor authentication: sign in through the browser instead.",
        ));
    }
    Ok(())
}

impl Principal {
    /// The caller when the token grants `scope`.
    ///
    /// Errors: 403 "This action is outside the authorized scopes".
    pub fn require_scope(&self, scope: &str) -> AppResult<&Principal> {
        if self.scopes.allows(scope) {
            Ok(self)
        } else {
            Err(AppError::forbidden(
                "This action is outside the authorized scopes",
            ))
        }
    }

    /// The signed-in user when the token grants `scope`, belongs to a user and that user may act.
    ///
    /// Errors: 403 for a missing scope or a disabled/unapproved/unconfirmed user; 422 "This method
    /// requires an authenticated user" for app-only tokens (Mastodon's wording and status).
    pub fn require_user(&self, scope: &str) -> AppResult<&CurrentUser> {
        let cu = self.require_user_even_moved(scope)?;
        // A moved account is read-only (docs/API.md, "Aliases and moves").
        if scope.starts_with("write") || scope.starts_with("follow") {
            crate::service::moves::ensure_not_moved(&cu.account)?;
        }
        Ok(cu)
    }

    /// As [`Principal::require_user`], but a user whose account moved may write too: for the
    /// endpoints that manage aliases and undo a move.
    pub fn require_user_even_moved(&self, scope: &str) -> AppResult<&CurrentUser> {
        let cu = self.require_user_awaiting_confirmation(scope)?;
        ensure_functional(&cu.user)?;
        crate::service::accounts::ensure_not_suspended(&cu.account)?;
        Ok(cu)
    }

    /// As [`Principal::require_user`], but a user whose e-mail address is not confirmed yet passes
    /// (for resending the confirmation); a disabled one does not.
    pub fn require_user_awaiting_confirmation(&self, scope: &str) -> AppResult<&CurrentUser> {
        self.require_scope(scope)?;
        let cu = self
            .user
            .as_ref()
            .ok_or_else(|| AppError::unprocessable("This method requires an authenticated user"))?;
        if cu.user.disabled {
            return Err(AppError::forbidden("Your login is currently disabled"));
        }
        Ok(cu)
    }
}

/// The registered application `id` (`GET /api/v1/apps/verify_credentials`).
///
/// Errors: 404 when it is gone.
pub async fn application(state: &AppState, id: i64) -> AppResult<ApplicationRow> {
    oauth::find_application(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}
