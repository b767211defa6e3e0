pub mod accounts;
pub mod deliveries;
pub mod domain_blocks;
pub mod instances;
pub mod reports;

use crate::error::{AppError, AppResult};
use crate::http::extract::Auth;
use crate::service::oauth::CurrentUser;

/// A moderator or admin whose token grants `scope`.
///
/// Errors: 403 for other users and missing scopes.
pub(crate) fn staff<'a>(auth: &'a Auth, scope: &str) -> AppResult<&'a CurrentUser> {
    let cu = auth.require_user(scope)?;
    if !crate::service::moderation::is_staff(&cu.user.role) {
        return Err(AppError::forbidden("This action is not allowed"));
    }
    Ok(cu)
}

/// An admin (not a moderator) whose token grants `scope`.
///
/// Errors: 403 for other users and missing scopes.
pub(crate) fn admin(auth: &Auth, scope: &str) -> AppResult<()> {
    let cu = auth.require_user(scope)?;
    if cu.user.role != "admin" {
        return Err(AppError::forbidden("This action is not allowed"));
    }
    Ok(())
}
