//! Password rules and hashing: argon2id at OWASP's recommended parameters, run on the blocking
//! pool because each hash deliberately costs ~19 MiB of memory and tens of milliseconds.
//! At most one hash per CPU runs at a time; a request that cannot start one within
//! [`QUEUE_WAIT`] is refused as [`Busy`] instead of queueing memory without bound.
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use std::{sync::OnceLock, time::Duration};
use tokio::sync::Semaphore;

/// How long a request waits for a free hashing slot before it is refused.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Every hashing slot was taken for [`QUEUE_WAIT`]: the server is busy, try again shortly.
#[derive(Debug, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy;

/// Why hashing or verifying did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// Runs `work` on the blocking pool once one of `slots` is free, waiting at most `wait`.
async fn limited<T: Send + 'static>(
    slots: &Semaphore,
    wait: Duration,
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, HashError> {
    let _permit = tokio::time::timeout(wait, slots.acquire())
        .await
        .map_err(|_| Busy)?
        .map_err(|e| anyhow::anyhow!("hashing slots closed: {e}"))?;
    Ok(tokio::task::spawn_blocking(work).await.map_err(anyhow::Error::from)??)
}

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 10;
/// Most characters a password may have (bounds the hashing work an attacker can ask for).
pub const MAX_CHARS: usize = 1024;

/// OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// A password that satisfies the length rules. Deliberately not `Debug`/`Display`.
pub struct Password(String);

impl Password {
    /// Checks the length rules (counted in characters, not bytes); the error is a sentence.
    pub fn parse(raw: String) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(format!("Use at least {MIN_CHARS} characters."));
        }
        if chars > MAX_CHARS {
            return Err(format!("Use at most {MAX_CHARS} characters."));
        }
        Ok(Self(raw))
    }

    /// The password's characters (for hashing or verifying).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn hasher() -> Argon2<'static> {
    // The parameters are constants inside argon2's accepted ranges, so this cannot fail.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh salt.
pub async fn hash(password: Password) -> Result<String, HashError> {
    limited(slots(), QUEUE_WAIT, move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
    })
    .await
}

/// Checks `candidate` against a stored PHC string. With `stored = None` (no such account) it
/// verifies against a fixed dummy hash instead, so that an unknown email costs the same time
/// as a wrong password and timing does not reveal which emails have accounts.
pub async fn verify(candidate: String, stored: Option<String>) -> Result<bool, HashError> {
    limited(slots(), QUEUE_WAIT, move || {
        let has_account = stored.is_some();
        let phc = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let parsed = PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("stored hash is malformed: {e}"))?;
        let matched = hasher().verify_password(candidate.as_bytes(), &parsed).is_ok();
        Ok(matched && has_account)
    })
    .await
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(b"no account has this password, it only burns time", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_waits_for_a_free_slot_and_is_refused_as_busy_after_the_queue_wait() {
        let slots = Semaphore::new(1);
        let held = slots.acquire().await.unwrap();
        let refused = limited(&slots, Duration::from_millis(50), || Ok(1)).await;
        assert!(matches!(refused, Err(HashError::Busy(_))), "{refused:?}");
        drop(held);
        assert_eq!(limited(&slots, Duration::from_millis(50), || Ok(2)).await.unwrap(), 2);
    }

    #[test]
    fn parse_enforces_length_in_characters() {
        assert!(Password::parse("123456789".into()).is_err());
        assert!(Password::parse("1234567890".into()).is_ok());
        // Ten characters, twenty bytes: still long enough.
        assert!(Password::parse("éééééééééé".into()).is_ok());
        assert!(Password::parse("x".repeat(MAX_CHARS)).is_ok());
        assert!(Password::parse("x".repeat(MAX_CHARS + 1)).is_err());
    }

    #[tokio::test]
    async fn hash_uses_argon2id_with_owasp_parameters() {
        let phc = hash(Password::parse("correct horse battery".into()).unwrap()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    }

    #[tokio::test]
    async fn hashes_are_salted() {
        let a = hash(Password::parse("same password!".into()).unwrap()).await.unwrap();
        let b = hash(Password::parse("same password!".into()).unwrap()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn verify_accepts_the_right_password_only() {
        let phc = hash(Password::parse("correct horse battery".into()).unwrap()).await.unwrap();
        assert!(verify("correct horse battery".into(), Some(phc.clone())).await.unwrap());
        assert!(!verify("correct horse batterY".into(), Some(phc)).await.unwrap());
    }

    #[tokio::test]
    async fn verify_without_an_account_always_fails() {
        assert!(!verify("no account has this password, it only burns time".into(), None).await.unwrap());
    }
}
