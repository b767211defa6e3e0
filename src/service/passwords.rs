//! Password hashing with argon2id (the `argon2` crate's default parameters: 19 MiB, 2 passes).
//!
//! Hashing is bounded: at most one hash per core runs at a time (the rest wait their turn in
//! order), each on the blocking pool so a sign-in never stalls the async workers, and each into
//! one of a few 19 MiB block buffers that are allocated once and reused. Without the bound a burst
//! of 50 sign-ins grew the blocking pool by a thread per hash, and each thread's allocator arena
//! kept its 19 MiB after the hash (docs/PERFORMANCE.md, issue 23).

use std::sync::{Arc, LazyLock, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Shortest and longest accepted passwords, in characters.
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

/// The most memory a stored hash may ask for, in KiB (argon2 `m`): 256 MiB. A PHC string asking
/// for more never matches rather than allocating it.
const MAX_M_COST: u32 = 256 * 1024;

/// Hashes that may run at once, and the block buffers they reuse.
struct Hashers {
    permits: Arc<Semaphore>,
    buffers: Mutex<Vec<Vec<Block>>>,
}

static HASHERS: LazyLock<Hashers> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Hashers {
        permits: Arc::new(Semaphore::new(cores)),
        buffers: Mutex::new(Vec::with_capacity(cores)),
    }
});

/// Runs `f` with a block buffer of at least `blocks` blocks, once a hashing slot is free. The
/// slot is held until the hash ends, even when the caller stops waiting for it.
async fn with_blocks<T: Send + 'static>(
    blocks: usize,
    f: impl FnOnce(&mut [Block]) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let permit = HASHERS.permits.clone().acquire_owned().await?;
    let out = tokio::task::spawn_blocking(move || {
        let pooled = HASHERS.buffers.lock().ok().and_then(|mut b| b.pop());
        let default_blocks = Params::default().block_count();
        let mut buf = pooled.unwrap_or_default();
        if buf.len() < blocks {
            buf.resize(blocks, Block::default());
        }
        let out = f(&mut buf[..blocks]);
        // Only buffers of the default size are kept; a larger one (an old hash with other
        // parameters) is freed.
        if buf.len() == default_blocks
            && let Ok(mut pool) = HASHERS.buffers.lock()
        {
            pool.push(buf);
        }
        drop(permit);
        out
    })
    .await?;
    Ok(out)
}

/// The PHC string for `password` (`$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`).
///
/// Errors: only if argon2 refuses its own default parameters (it does not).
pub async fn hash(password: String) -> anyhow::Result<String> {
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let blocks = params.block_count();
    with_blocks(blocks, move |memory| {
        let mut salt_bytes = [0u8; 64];
        let raw_salt = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory)
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
        };
        Ok(phc.to_string())
    })
    .await?
}

/// True when `password` matches the stored PHC string (argon2id, argon2i or argon2d, any
/// version and parameters up to 256 MiB). A malformed stored hash never matches.
pub async fn verify(password: String, phc: String) -> anyhow::Result<bool> {
    let Some((algorithm, version, params)) = parse(&phc) else {
        return Ok(false);
    };
    with_blocks(params.block_count(), move |memory| {
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        let hasher = Argon2::new(algorithm, version, params);
        if hasher
            .hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory)
            .is_err()
        {
            return false;
        }
        // `Output`'s comparison is constant-time.
        Output::new(&out).is_ok_and(|computed| computed == expected)
    })
    .await
}

/// The algorithm, version and parameters of a stored PHC string, or `None` when it is not an
/// argon2 hash this server will compute (unknown algorithm, or more than [`MAX_M_COST`]).
fn parse(phc: &str) -> Option<(Algorithm, Version, Params)> {
    let parsed = PasswordHash::new(phc).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .ok()?
        .unwrap_or_default();
    let mut params = Params::try_from(&parsed).ok()?;
    if params.m_cost() > MAX_M_COST {
        // Not silent: an operator who imported such hashes needs to know why sign-ins fail.
        tracing::warn!(
            m_cost = params.m_cost(),
            "a stored password hash asks for more memory than allowed; it never matches"
        );
        return None;
    }
    let len = parsed.hash?.len();
    params = Params::new(params.m_cost(), params.t_cost(), params.p_cost(), Some(len)).ok()?;
    Some((algorithm, version, params))
}

/// A hash of a random password, verified against when the account does not exist so that
/// "no such user" and "wrong password" take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        use argon2::PasswordHasher;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_hashes_from_the_crate_defaults_still_verify() {
        let phc = hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse".into(), phc.clone()).await.unwrap());
        assert!(!verify("wrong horse".into(), phc).await.unwrap());
        // What earlier versions stored (the crate's own `hash_password`), and other parameters.
        use argon2::PasswordHasher;
        let salt = SaltString::generate(&mut OsRng);
        let old = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(verify("battery staple".into(), old.clone()).await.unwrap());
        assert!(!verify("battery stapler".into(), old).await.unwrap());
        let other = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(40_000, 1, 2, Some(16)).unwrap(),
        )
        .hash_password(b"battery staple", &salt)
        .unwrap()
        .to_string();
        assert!(verify("battery staple".into(), other).await.unwrap());
    }

    #[tokio::test]
    async fn malformed_or_oversized_stored_hashes_never_match() {
        for phc in [
            "",
            "plain",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
            "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
            "$scrypt$ln=16,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(
                !verify("whatever".into(), phc.into()).await.unwrap(),
                "{phc}"
            );
        }
    }
}
