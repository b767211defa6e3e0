//! RSA-2048 key pairs of local actors, for HTTP signatures (draft-cavage, as Mastodon signs).
//!
//! A key pair is made the first time an account federates (its actor document is served or it
//! sends an activity) rather than at sign-up: generation takes tens of milliseconds even in an
//! optimised build, and most test and local accounts never federate.

use crate::error::AppResult;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};

/// The account's public key PEM, generating and storing a pair first when it has none.
///
/// Errors: remote accounts without a key (nothing to generate), database failures.
pub async fn public_key_pem(state: &AppState, account: &AccountRow) -> AppResult<String> {
    if let Some(pem) = &account.public_key_pem {
        return Ok(pem.clone());
    }
    if !account.is_local() {
        return Err(anyhow::anyhow!("remote account {} has no public key", account.uri).into());
    }
    let pair = tokio::task::spawn_blocking(
        activitypub_federation::http_signatures::generate_actor_keypair,
    )
    .await
    .map_err(anyhow::Error::from)?
    .map_err(|e| anyhow::anyhow!("generating a key pair: {e}"))?;
    accounts::set_keys_if_missing(&state.db, account.id, &pair.public_key, &pair.private_key)
        .await?;
    let fresh = accounts::find_account(&state.db, account.id)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    fresh
        .public_key_pem
        .ok_or_else(|| anyhow::anyhow!("key pair was not stored").into())
}
