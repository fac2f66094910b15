//! The limits of the memory context, and the checks of what callers send. Every limit here is
//! documented in the OpenAPI descriptions (`app::types::memory`, `http::memory`) too.
//!
//! | what | limit | answer |
//! | --- | --- | --- |
//! | key | 1–1024 bytes of `A-Z a-z 0-9 _ . = / -` | 422 `validation_failed` |
//! | bucket name | 1–64 characters of `A-Z a-z 0-9 _ -` | 422 |
//! | value | the bucket's `max_value_bytes`, at most 1 MiB | 413 `payload_too_large` |
//! | history | 1–64 revisions per key | 422 |
//! | TTL | 1 s – 365 days | 422 |
//! | buckets | 100 per account (configurable) | 409 `kv_bucket_limit_reached` |
//! | live keys | 100 000 per account (configurable) | 409 `kv_key_limit_reached` |
//! | watchers | 16 open per account (configurable) | 429 `kv_watcher_limit_reached` |
//! | watcher buffer | 256 changes waiting (configurable) | a final `lagged` event, then disconnected |
use super::MemoryError;
use base64::Engine;
use std::time::Duration;

/// Longest key, in bytes (JetStream's subjects allow more; this keeps an index entry small).
pub const MAX_KEY_BYTES: usize = 1024;
/// Longest bucket name.
pub const MAX_BUCKET_NAME: usize = 64;
/// Largest value any bucket takes (JetStream's default maximum message size).
pub const MAX_VALUE_BYTES: u32 = 1024 * 1024;
/// Most revisions a bucket keeps per key (JetStream's limit).
pub const MAX_HISTORY: u32 = 64;
/// Longest TTL.
pub const MAX_TTL_SECS: u64 = 365 * 24 * 3600;
/// The largest request body of the KV API: a 1 MiB value in base64 plus its JSON.
pub const BODY_LIMIT: usize = (MAX_VALUE_BYTES as usize).div_ceil(3) * 4 + 4096;

/// What one account may hold, and how often expired values get their tombstones.
#[derive(Clone, Copy, Debug)]
pub struct MemorySettings {
    pub max_buckets: u64,
    /// Keys whose newest entry is a value, over all the account's buckets.
    pub max_live_keys: u64,
    /// How often the sweeper writes expiry tombstones (reads treat expired values as absent
    /// at once; this is only how soon history shows the expiry).
    pub sweep_interval: Duration,
    /// Watchers (`GET …/watch`) one account may have open at once.
    pub max_watchers: u32,
    /// Changes one watcher may have waiting to be sent; past it the watcher is told it
    /// lagged and is disconnected (a client that stops reading holds at most this much).
    pub watch_buffer: usize,
    /// How often an idle watch stream gets a keep-alive comment (which is also how soon a
    /// closed connection is noticed and its watcher slot freed).
    pub watch_keep_alive: Duration,
}

impl Default for MemorySettings {
    fn default() -> Self {
        Self {
            max_buckets: 100,
            max_live_keys: 100_000,
            sweep_interval: Duration::from_secs(1),
            max_watchers: 16,
            watch_buffer: 256,
            watch_keep_alive: Duration::from_secs(15),
        }
    }
}

/// A key: 1–1024 bytes of `A-Z a-z 0-9 _ . = / -` (JetStream's key alphabet). Every byte is
/// ASCII below `DEL`, which the prefix listing relies on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    pub fn parse(key: &str) -> Result<Self, MemoryError> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(MemoryError::field("key", format!("A key is 1 to {MAX_KEY_BYTES} bytes long.")));
        }
        if !key.bytes().all(is_key_byte) {
            return Err(MemoryError::field("key", "A key holds only letters, digits and _ . = / -"));
        }
        Ok(Key(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'=' | b'/' | b'-')
}

/// A prefix to list keys by: empty, or the start of a key (same alphabet).
pub fn prefix(prefix: &str) -> Result<&str, MemoryError> {
    if prefix.len() > MAX_KEY_BYTES || !prefix.bytes().all(is_key_byte) {
        return Err(MemoryError::field(
            "prefix",
            "A prefix is the start of a key: letters, digits and _ . = / -",
        ));
    }
    Ok(prefix)
}

/// A bucket name: 1–64 characters of `A-Z a-z 0-9 _ -` (JetStream's bucket alphabet).
pub fn bucket_name(name: &str) -> Result<&str, MemoryError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_BUCKET_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(name)
    } else {
        Err(MemoryError::field(
            "name",
            format!("A bucket name is 1 to {MAX_BUCKET_NAME} letters, digits, _ or -."),
        ))
    }
}

/// Revisions kept per key: 1–64, default 1.
pub fn history(history: Option<u32>) -> Result<u32, MemoryError> {
    match history.unwrap_or(1) {
        h @ 1..=MAX_HISTORY => Ok(h),
        _ => Err(MemoryError::field("history", format!("Keep 1 to {MAX_HISTORY} revisions per key."))),
    }
}

/// The largest value of a bucket: 1 B – 1 MiB, default 1 MiB.
pub fn max_value_bytes(max: Option<u32>) -> Result<u32, MemoryError> {
    match max.unwrap_or(MAX_VALUE_BYTES) {
        m @ 1..=MAX_VALUE_BYTES => Ok(m),
        _ => Err(MemoryError::field("max_value_bytes", format!("Between 1 and {MAX_VALUE_BYTES} bytes."))),
    }
}

/// A TTL: 1 s – 365 days.
pub fn ttl(seconds: Option<u64>) -> Result<Option<Duration>, MemoryError> {
    match seconds {
        None => Ok(None),
        Some(s @ 1..=MAX_TTL_SECS) => Ok(Some(Duration::from_secs(s))),
        Some(_) => Err(MemoryError::field("ttl_seconds", format!("A TTL is 1 to {MAX_TTL_SECS} seconds."))),
    }
}

/// A value sent as standard base64, within the bucket's limit.
pub fn value(encoded: &str, limit: u32) -> Result<Vec<u8>, MemoryError> {
    // Refuse before decoding what cannot fit (base64 is 4 characters per 3 bytes).
    if encoded.len() / 4 * 3 > limit as usize + 3 {
        return Err(MemoryError::ValueTooLarge { size: encoded.len() / 4 * 3, limit });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| MemoryError::field("value", "The value must be standard base64 (with padding)."))?;
    if bytes.len() > limit as usize {
        return Err(MemoryError::ValueTooLarge { size: bytes.len(), limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_take_the_jetstream_alphabet_up_to_1024_bytes() {
        for good in ["a", "users/42/name", "v1.config=on", "A-Z_0-9", &"k".repeat(MAX_KEY_BYTES)] {
            assert!(Key::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "with space", "star*", "gt>", "ünï", "a\u{7f}", &"k".repeat(MAX_KEY_BYTES + 1)] {
            assert!(
                matches!(Key::parse(bad), Err(MemoryError::Invalid(f)) if f.contains_key("key")),
                "{bad:?}"
            );
        }
        assert!(prefix("").is_ok());
        assert!(prefix("users/").is_ok());
        assert!(prefix("users *").is_err());
    }

    #[test]
    fn bucket_names_history_and_sizes_are_bounded() {
        assert!(bucket_name("sessions_v2-eu").is_ok());
        for bad in ["", "a.b", "a/b", &"b".repeat(MAX_BUCKET_NAME + 1)] {
            assert!(bucket_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(history(None).unwrap(), 1);
        assert_eq!(history(Some(64)).unwrap(), 64);
        assert!(history(Some(0)).is_err() && history(Some(65)).is_err());
        assert_eq!(max_value_bytes(None).unwrap(), MAX_VALUE_BYTES);
        assert!(max_value_bytes(Some(0)).is_err() && max_value_bytes(Some(MAX_VALUE_BYTES + 1)).is_err());
        assert!(ttl(Some(0)).is_err() && ttl(Some(MAX_TTL_SECS + 1)).is_err());
        assert_eq!(ttl(Some(5)).unwrap(), Some(Duration::from_secs(5)));
    }

    #[test]
    fn values_are_base64_within_the_bucket_limit() {
        assert_eq!(value("aGVsbG8=", 5).unwrap(), b"hello");
        assert!(matches!(value("aGVsbG8=", 4), Err(MemoryError::ValueTooLarge { size: 5, limit: 4 })));
        assert!(matches!(value("not base64!", 100), Err(MemoryError::Invalid(_))));
        let huge = "A".repeat(4 * 1024 * 1024);
        assert!(matches!(value(&huge, MAX_VALUE_BYTES), Err(MemoryError::ValueTooLarge { .. })));
        assert!(BODY_LIMIT > (MAX_VALUE_BYTES as usize) * 4 / 3);
    }
}
