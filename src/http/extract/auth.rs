//! `Auth`: the caller behind `Authorization: Bearer …` (or `?access_token=`), or the web app's
//! browser session (cookie and `X-CSRF-Token`), if any.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::error::{AppError, AppResult};
use crate::http::cookies;
use crate::service::oauth::{self, CurrentUser, Principal};
use crate::state::AppState;

/// The caller's token, resolved. `Auth(None)` when the request carries no token; a token that is
/// unknown or revoked is rejected with 401 before the handler runs.
pub struct Auth(pub Option<std::sync::Arc<Principal>>);

/// The bearer token from the `Authorization` header or the `access_token` query parameter.
pub fn bearer_token(parts: &Parts) -> Option<String> {
    if let Some(h) = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let mut it = h.splitn(2, ' ');
        if let (Some(scheme), Some(tok)) = (it.next(), it.next())
            && scheme.eq_ignore_ascii_case("bearer")
            && !tok.trim().is_empty()
        {
            return Some(tok.trim().to_string());
        }
    }
    let q = parts.uri.query()?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match bearer_token(parts) {
            None => Ok(Auth(session_principal(parts, state).await?)),
            Some(token) => Ok(Auth(Some(oauth::principal_for_token(state, &token).await?))),
        }
    }
}

/// The header the web app sends its CSRF token in when it calls the API with the session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The web app's caller: the browser session's cookie, accepted only with an `X-CSRF-Token` header
/// that matches the CSRF cookie (a cross-site page can send neither a custom header without a
/// CORS preflight nor read the cookie). `None` without both or for an ended session, so the
/// request reads as anonymous (and a write answers 401).
pub async fn session_principal(
    parts: &Parts,
    state: &AppState,
) -> AppResult<Option<std::sync::Arc<Principal>>> {
    let Some(session) = cookies::get(&parts.headers, cookies::SESSION) else {
        return Ok(None);
    };
    let given = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !cookies::csrf_matches(&parts.headers, given) {
        return Ok(None);
    }
    crate::service::sessions::api_principal(state, &session).await
}

fn missing_token() -> AppError {
    AppError::unauthorized("The access token is invalid")
}

impl Auth {
    /// Any token granting `scope` (user or app).
    ///
    /// Errors: 401 without a token; 403 without the scope.
    pub fn require(&self, scope: &str) -> AppResult<&Principal> {
        self.0
            .as_ref()
            .ok_or_else(missing_token)?
            .require_scope(scope)
    }

    /// A user token granting `scope`, whose user may act.
    ///
    /// Errors: 401 without a token; 403 without the scope or for a user who may not act; 422 for an
    /// app-only token.
    pub fn require_user(&self, scope: &str) -> AppResult<&CurrentUser> {
        self.0
            .as_ref()
            .ok_or_else(missing_token)?
            .require_user(scope)
    }

    /// Like [`Auth::require_user`], for a user whose account moved (aliases, undoing the move).
    pub fn require_user_even_moved(&self, scope: &str) -> AppResult<&CurrentUser> {
        self.0
            .as_ref()
            .ok_or_else(missing_token)?
            .require_user_even_moved(scope)
    }

    /// Like [`Auth::require_user`], for a user still waiting to confirm their e-mail address.
    pub fn require_user_awaiting_confirmation(&self, scope: &str) -> AppResult<&CurrentUser> {
        self.0
            .as_ref()
            .ok_or_else(missing_token)?
            .require_user_awaiting_confirmation(scope)
    }

    /// Like [`Auth::require_user`] with the first of `scopes` the token grants.
    pub fn require_user_any(&self, scopes: &[&str]) -> AppResult<&CurrentUser> {
        let p = self.0.as_ref().ok_or_else(missing_token)?;
        let scope = scopes
            .iter()
            .find(|s| p.scopes.allows(s))
            .copied()
            .unwrap_or(scopes[0]);
        p.require_user(scope)
    }

    /// The caller of an endpoint that anyone may read but that shows more to a signed-in user:
    /// `None` without a token (anonymous) or for an app-only token, else the token's user. A token
    /// never reads as anonymous to dodge its scopes: if one is given, it must grant `scope`.
    ///
    /// Errors: 403 for a token without `scope` or whose user may not act.
    pub fn viewer(&self, scope: &str) -> AppResult<Option<&CurrentUser>> {
        let Some(p) = self.0.as_ref() else {
            return Ok(None);
        };
        p.require_scope(scope)?;
        match p.user {
            None => Ok(None),
            Some(_) => p.require_user(scope).map(Some),
        }
    }

    /// [`Auth::viewer`]'s account ID.
    pub fn viewer_id(&self, scope: &str) -> AppResult<Option<i64>> {
        Ok(self.viewer(scope)?.map(|u| u.account.id))
    }
}
