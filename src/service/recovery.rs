//! Password recovery: `/auth/password/new` asks for a reset link by e-mail (the answer never says
//! whether the address exists), the link (`/auth/password/edit?reset_password_token=…`) works once
//! for an hour, and a new password signs the user out everywhere else (every token and browser
//! session is revoked).

use chrono::{Duration, Utc};

use crate::error::{AppError, AppResult};
use crate::service::mail::{self, LinkPurpose};
use crate::service::{passwords, secrets};
use crate::state::AppState;
use crate::storage::{accounts, oauth, user_tokens};

/// Most reset links mailed to one user in an hour (further requests are silently dropped).
const MAX_PER_HOUR: i64 = 5;

/// Mails a reset link to the user with this address, if there is one who may sign in. Always
/// succeeds the same way, so the answer reveals nothing — except a 429 when `ip` went over
/// `rate_limits.password_reset_per_ip`, whatever the address.
pub async fn request(state: &AppState, ip: std::net::IpAddr, email: &str) -> AppResult<()> {
    state
        .limits
        .password_reset_per_ip
        .hit(state, &ip.to_string())
        .await?;
    let email = email.trim();
    if !email.contains('@') {
        return Ok(());
    }
    let Some(user) = accounts::find_user_by_login(&state.db, email).await? else {
        return Ok(());
    };
    if user.disabled || !user.email.eq_ignore_ascii_case(email) {
        return Ok(());
    }
    let since = Utc::now() - Duration::hours(1);
    let purpose = LinkPurpose::Reset.as_str();
    if user_tokens::count_since(&state.db, user.id, purpose, since).await? >= MAX_PER_HOUR {
        tracing::info!(
            user = user.id,
            "password reset requests over the hourly limit"
        );
        return Ok(());
    }
    let account = accounts::find_account(&state.db, user.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin().await?;
    let (id, name, address) = (user.id, &account.username, &user.email);
    mail::queue_link(state, &mut tx, LinkPurpose::Reset, id, name, address).await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_waiters();
    Ok(())
}

/// Sets a new password with a reset link's token and revokes every token and session of the user.
///
/// Errors: 422 for a password that is too short or too long, or a confirmation that differs
/// (the link stays usable then); 404 for an unknown, used or expired link.
pub async fn reset(
    state: &AppState,
    token: &str,
    password: &str,
    confirmation: &str,
) -> AppResult<()> {
    passwords::check_new(password, confirmation)?;
    let hash = passwords::hash(password.to_string()).await?;
    let mut tx = state.db.begin().await?;
    let user = user_tokens::consume(
        &mut tx,
        &secrets::digest(token),
        LinkPurpose::Reset.as_str(),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    user_tokens::set_password(&mut tx, user, &hash).await?;
    tx.commit().await?;
    oauth::revoke_all_for_user(&state.db, user).await?;
    tracing::info!(user, "password reset; every session signed out");
    Ok(())
}

/// Changes the password of a signed-in user who gave the current one, then revokes every token and
/// session of theirs (the caller opens a new session for the browser that asked).
///
/// Errors: 422 wrong current password, a new one too short or too long, or a confirmation that
/// differs.
pub async fn change_password(
    state: &AppState,
    user: &crate::storage::accounts::UserRow,
    current: &str,
    password: &str,
    confirmation: &str,
) -> AppResult<()> {
    passwords::check_current(user, current).await?;
    passwords::check_new(password, confirmation)?;
    let hash = passwords::hash(password.to_string()).await?;
    let mut tx = state.db.begin().await?;
    user_tokens::set_password(&mut tx, user.id, &hash).await?;
    tx.commit().await?;
    oauth::revoke_all_for_user(&state.db, user.id).await?;
    tracing::info!(
        user = user.id,
        "password changed; other sessions signed out"
    );
    Ok(())
}

/// Changes the e-mail address of a signed-in user who gave the current password. Where addresses
/// must be confirmed, the new one waits (`unconfirmed_email`) until the link mailed to it is
/// followed, and the old one keeps working meanwhile; elsewhere it changes at once. Returns
/// whether a confirmation is pending.
///
/// Errors: 422 wrong password, an invalid address, or one another account uses.
pub async fn change_email(
    state: &AppState,
    user: &crate::storage::accounts::UserRow,
    username: &str,
    current: &str,
    email: &str,
) -> AppResult<bool> {
    passwords::check_current(user, current).await?;
    let email = email.trim();
    if email.len() > crate::service::accounts::EMAIL_MAX
        || !crate::service::accounts::looks_like_email(email)
    {
        return Err(AppError::unprocessable(
            "That is not a valid e-mail address",
        ));
    }
    if email.eq_ignore_ascii_case(&user.email) {
        return Err(AppError::unprocessable("That is already your address"));
    }
    if crate::storage::accounts::find_user_by_login(&state.db, email)
        .await?
        .is_some()
    {
        return Err(AppError::unprocessable("That address is already taken"));
    }
    let confirm = state.config.require_email_confirmation();
    let mut tx = state.db.begin().await?;
    user_tokens::set_email(&mut tx, user.id, email, confirm).await?;
    if confirm {
        crate::service::mail::queue_link(
            state,
            &mut tx,
            LinkPurpose::Confirm,
            user.id,
            username,
            email,
        )
        .await?;
    }
    tx.commit().await?;
    if confirm {
        state.jobs_wakeup.notify_one();
    }
    tracing::info!(user = user.id, pending = confirm, "e-mail address change");
    Ok(confirm)
}
