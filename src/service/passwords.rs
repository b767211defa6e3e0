//! Password hashing with argon2id (the `argon2` crate's default parameters: 19 MiB, 2 passes),
//! run on the blocking pool so a sign-in never stalls the async workers.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest and longest accepted passwords, in characters.
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

/// The PHC string for `password`.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await?
}

/// True when `password` matches the stored PHC string. A malformed stored hash never matches.
pub async fn verify(password: String, phc: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return Ok(false);
        };
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

/// A hash of a random password, verified against when the account does not exist so that
/// "no such user" and "wrong password" take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(crate::service::secrets::random_token().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// For changes a signed-in user makes (new password or address, two-factor, deletion): the
/// password they typed must be their current one.
///
/// Errors: 422 "The current password is wrong".
pub async fn check_current(
    user: &crate::storage::accounts::UserRow,
    password: &str,
) -> crate::error::AppResult<()> {
    if !verify(password.to_string(), user.password_hash.clone()).await? {
        return Err(crate::error::AppError::unprocessable(
            "The current password is wrong",
        ));
    }
    Ok(())
}

/// A new password as typed twice on a form: 8 to 128 characters, and the same both times.
///
/// Errors: 422 naming what is wrong.
pub fn check_new(password: &str, confirmation: &str) -> crate::error::AppResult<()> {
    let len = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return Err(crate::error::AppError::unprocessable(format!(
            "The password must be {MIN_LEN} to {MAX_LEN} characters long"
        )));
    }
    if password != confirmation {
        return Err(crate::error::AppError::unprocessable(
            "The two passwords differ",
        ));
    }
    Ok(())
}
