//! Two-factor sign-in: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock skew
//! either way) enrolled with a QR code, plus ten single-use recovery codes. Once on, the HTML
//! sign-in pages ask for a code after the password, and the OAuth password grant refuses the
//! account (as Mastodon's does), since it cannot ask.

use totp_rs::{Builder, Secret, Totp};

use crate::error::{AppError, AppResult};
use crate::service::{passwords, secrets};
use crate::state::AppState;
use crate::storage::accounts::{AccountRow, UserRow};
use crate::storage::two_factor as store;

/// Recovery codes made at enrolment (and on regeneration).
pub const RECOVERY_CODES: usize = 10;

/// What the enrolment page shows: the secret as text and as a QR code of its `otpauth://` URL.
pub struct Enrolment {
    /// Base32, for typing into an authenticator by hand.
    pub secret: String,
    pub url: String,
    /// An SVG image of the QR code.
    pub qr_svg: String,
}

/// The TOTP of a base32 secret, labelled `user@domain` by the instance's title (`:` is not allowed
/// in either, so it becomes a space).
fn totp(state: &AppState, account: &AccountRow, secret_b32: &str) -> AppResult<Totp> {
    let secret = Secret::try_from_base32(secret_b32)
        .map_err(|e| anyhow::anyhow!("stored TOTP secret: {e:?}"))?;
    let label = |s: &str| s.replace(':', " ");
    Builder::new()
        .with_secret(secret)
        .with_account_name(label(&format!(
            "{}@{}",
            account.username, state.config.server.domain
        )))
        .with_issuer(Some(label(&state.config.instance.title)))
        .build()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("TOTP: {e:?}")))
}

/// Starts (or restarts) enrolment with a new secret, kept aside until a code confirms it; the
/// settings page then shows it with [`pending`].
pub async fn begin(state: &AppState, user: &UserRow) -> AppResult<()> {
    let secret = Secret::generate().to_base32();
    store::set_pending(&state.db, user.id, &secret).await?;
    Ok(())
}

/// The enrolment being set up, as the settings page shows it.
pub async fn pending(
    state: &AppState,
    user: &UserRow,
    account: &AccountRow,
) -> AppResult<Option<Enrolment>> {
    let Some(secret) = store::state(&state.db, user.id).await?.otp_pending_secret else {
        return Ok(None);
    };
    let url = totp(state, account, &secret)?
        .to_url()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("otpauth URL: {e:?}")))?;
    let qr_svg = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Ok(Some(Enrolment {
        secret,
        url,
        qr_svg,
    }))
}

fn new_codes() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let t = secrets::random_token().to_lowercase();
            let t: String = t
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(10)
                .collect();
            format!("{}-{}", &t[..5], &t[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| secrets::digest(c)).collect();
    (codes, hashes)
}

/// Confirms enrolment with the current password and a code from the authenticator; returns the
/// recovery codes, shown once.
///
/// Errors: 422 wrong password, wrong code, or no enrolment under way.
pub async fn confirm(
    state: &AppState,
    user: &UserRow,
    account: &AccountRow,
    password: &str,
    code: &str,
) -> AppResult<Vec<String>> {
    passwords::check_current(user, password).await?;
    let pending = store::state(&state.db, user.id)
        .await?
        .otp_pending_secret
        .ok_or_else(|| AppError::unprocessable("Start the set-up first"))?;
    let step = totp(state, account, &pending)?
        .check_current(code.trim())
        .ok_or_else(|| {
            AppError::unprocessable("The code is wrong; check the time on your device")
        })?;
    let (codes, hashes) = new_codes();
    store::enable(&state.db, user.id, step as i64, &hashes).await?;
    tracing::info!(user_id = user.id, "two-factor sign-in enabled");
    Ok(codes)
}

/// Whether `code` — a current TOTP code not used before, or an unused recovery code — passes the
/// second factor. An accepted code is used up.
pub async fn verify(
    state: &AppState,
    user: &UserRow,
    account: &AccountRow,
    code: &str,
) -> AppResult<bool> {
    let code = code.trim();
    let st = store::state(&state.db, user.id).await?;
    let Some(secret) = st.otp_secret else {
        return Ok(false);
    };
    if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(match totp(state, account, &secret)?.check_current(code) {
            Some(step) => store::advance_step(&state.db, user.id, step as i64).await?,
            None => false,
        });
    }
    // Recovery codes are shown as `abcde-fghij`; case and the dash do not matter.
    let plain: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    if plain.len() != 10 {
        return Ok(false);
    }
    let normalized = format!("{}-{}", &plain[..5], &plain[5..]);
    Ok(store::use_recovery_code(&state.db, user.id, &secrets::digest(&normalized)).await?)
}

/// Turns two-factor sign-in off, with the current password and a code.
///
/// Errors: 422 wrong password or code.
pub async fn disable(
    state: &AppState,
    user: &UserRow,
    account: &AccountRow,
    password: &str,
    code: &str,
) -> AppResult<()> {
    check_password_and_code(state, user, account, password, code).await?;
    store::disable(&state.db, user.id).await?;
    tracing::info!(user_id = user.id, "two-factor sign-in disabled");
    Ok(())
}

/// New recovery codes in place of the old ones, with the current password and a code.
///
/// Errors: 422 wrong password or code.
pub async fn regenerate_codes(
    state: &AppState,
    user: &UserRow,
    account: &AccountRow,
    password: &str,
    code: &str,
) -> AppResult<Vec<String>> {
    check_password_and_code(state, user, account, password, code).await?;
    let (codes, hashes) = new_codes();
    store::replace_codes(&state.db, user.id, &hashes).await?;
    Ok(codes)
}

/// The checks before changing an enrolled account's two-factor settings: its current password
/// and a code (or recovery code) from it.
///
/// Errors: 422 wrong password or code.
async fn check_password_and_code(
    state: &AppState,
    user: &UserRow,
    account: &AccountRow,
    password: &str,
    code: &str,
) -> AppResult<()> {
    passwords::check_current(user, password).await?;
    if !verify(state, user, account, code).await? {
        return Err(AppError::unprocessable("The code is wrong"));
    }
    Ok(())
}

/// Whether `user_id` signs in with a second factor, and how many unused recovery codes are left.
///
/// Errors: database errors.
pub async fn status(state: &AppState, user_id: i64) -> AppResult<(bool, i64)> {
    let enabled = crate::storage::two_factor::enabled(&state.db, user_id).await?;
    let codes_left = crate::storage::two_factor::codes_left(&state.db, user_id).await?;
    Ok((enabled, codes_left))
}
