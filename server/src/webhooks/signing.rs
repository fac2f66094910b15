//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): a delivery carries
//! `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 of
//! HMAC-SHA256 of "{id}.{timestamp}.{body}">`; the secret shown to the owner is
//! `whsec_<base64 of the key>`. Keys are derived, never stored: HMAC-SHA256 under a master key
//! kept in the data directory (`webhook-secret.key`, mode 0600) of the endpoint's id and its
//! secret's generation; rotating bumps the generation.
use crate::secrets::MasterKey;
use app::types::ids::WebhookId;
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

/// What every signing secret starts with.
pub const PREFIX: &str = "whsec_";
/// The master key's file in the data directory.
pub const KEY_FILE: &str = "webhook-secret.key";
/// The headers of a delivery.
pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The master key endpoints' signing keys are derived from.
pub struct WebhookSecrets {
    master: MasterKey,
}

impl WebhookSecrets {
    /// Loads the master key from `data_dir`, or creates it there.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        Ok(Self { master: MasterKey::load_or_create(data_dir, KEY_FILE)? })
    }

    /// A master key of these bytes (tests and benchmarks).
    pub fn from_key(master: [u8; 32]) -> Self {
        Self { master: MasterKey::from_bytes(master) }
    }

    /// The signing key of `endpoint` at `generation`.
    pub fn key(&self, endpoint: &WebhookId, generation: i32) -> [u8; 32] {
        self.master.derive(b"web4 webhook secret\n", endpoint.as_str(), generation)
    }

    /// The secret shown to the owner: `whsec_<base64 of the key>`.
    pub fn secret(&self, endpoint: &WebhookId, generation: i32) -> String {
        format!("{PREFIX}{}", STANDARD.encode(self.key(endpoint, generation)))
    }
}

/// The `webhook-signature` value of `body` sent as `msg_id` at `timestamp` (Unix seconds).
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The key of a `whsec_…` secret (its base64 part decoded).
pub fn key_of(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_specifications_test_vector() {
        // From the Standard Webhooks specification's reference libraries.
        let key = key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // Any change to the id, the time or the body changes it.
        assert_ne!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, br#"{"test": 2432232314}"#),
            signature
        );
        assert_ne!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJel", 1614265330, br#"{"test": 2432232314}"#),
            signature
        );
        assert_ne!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232315}"#),
            signature
        );
    }

    #[test]
    fn a_secret_is_derived_from_the_master_key_the_endpoint_and_the_generation() {
        let secrets = WebhookSecrets::from_key([7; 32]);
        let id = WebhookId::new("wh");
        let secret = secrets.secret(&id, 1);
        assert!(secret.starts_with(PREFIX));
        assert_eq!(key_of(&secret).unwrap(), secrets.key(&id, 1));
        assert_eq!(secret, secrets.secret(&id, 1), "derived, so the same every time");
        assert_ne!(secret, secrets.secret(&id, 2), "rotation changes it");
        assert_ne!(secret, secrets.secret(&WebhookId::new("wh2"), 1));
        assert_ne!(secret, WebhookSecrets::from_key([8; 32]).secret(&id, 1));
        assert_eq!(key_of("nope"), None);
    }
}
