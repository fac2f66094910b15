//! Bearer secrets (join tokens, API keys) and join challenges: random bytes from the OS,
//! hashed with SHA-256 for storage. A 256-bit random secret needs no slow password hash:
//! nobody can guess it, so a fast hash loses nothing and keeps lookups cheap.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// What every join-token secret starts with (so it is recognisable in a leak scanner).
pub const TOKEN_PREFIX: &str = "w4jt_";
/// What every API key starts with.
pub const API_KEY_PREFIX: &str = "w4k_";
/// Prefix of a private plan's invitation.
pub const INVITATION_PREFIX: &str = "w4i_";

/// A new secret: `prefix` and 32 random bytes (256 bits) from the OS's generator, base64url.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lowercase hex of `bytes`, in one allocation (hashing is on every key-authenticated request).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// The part of a secret shown in lists: its prefix (`prefix`) and six more characters.
pub fn display_prefix(secret: &str, prefix: &str) -> String {
    secret.chars().take(prefix.len() + 6).collect()
}

/// Base64url (no padding) of `bytes`.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url (no padding).
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim()).ok()
}

/// A 32-byte master key kept in a file of the data directory (mode 0600, never in the
/// database), from which per-resource secrets are derived by HMAC-SHA256 instead of being
/// stored: proxy secrets (`services::proxy_secret`) and webhook signing secrets
/// (`webhooks::signing`), each under its own file and label.
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// Loads the key from `data_dir/file`, or creates it there.
    pub fn load_or_create(data_dir: &std::path::Path, file: &str) -> anyhow::Result<Self> {
        let path = data_dir.join(file);
        if path.exists() {
            crate::mesh::identity::restrict_to_owner(&path)?;
            let bytes = std::fs::read(&path)?;
            let key = <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| anyhow::anyhow!("{} is not a 32-byte key", path.display()))?;
            return Ok(Self(key));
        }
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        crate::mesh::identity::write_private(data_dir, file, &key)?;
        tracing::info!(path = %path.display(), "created a master key");
        Ok(Self(key))
    }

    /// A key of these bytes (tests and benchmarks).
    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// HMAC-SHA256 under the key of `label`, `id`, a newline and `generation` (big-endian):
    /// the secret of one resource at one generation (rotation bumps the generation).
    pub fn derive(&self, label: &[u8], id: &str, generation: i32) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(label);
        mac.update(id.as_bytes());
        mac.update(b"\n");
        mac.update(&generation.to_be_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_recognisable() {
        let a = new_secret(TOKEN_PREFIX);
        let b = new_secret(TOKEN_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(unb64(&a[TOKEN_PREFIX.len()..]).unwrap().len(), 32);
    }

    #[test]
    fn the_stored_hash_never_contains_the_secret() {
        let secret = new_secret(API_KEY_PREFIX);
        let hash = hash_secret(&secret);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&secret[API_KEY_PREFIX.len()..]));
        assert_eq!(display_prefix(&secret, API_KEY_PREFIX).len(), API_KEY_PREFIX.len() + 6);
        assert_eq!(hash, hash_secret(&secret));
    }
}
