//! Per-service proxy secrets: every call and health check the platform sends to a service's
//! upstream carries `x-web4-proxy-secret`, so the upstream can refuse calls that did not come
//! through the platform (RapidAPI's `X-RapidAPI-Proxy-Secret` does the same). The secret is
//! never stored: it is an HMAC-SHA256, under a master key kept in the data directory (mode
//! 0600, never in the database), of the service's id and its secret's generation. Rotating
//! bumps the generation; the new secret is shown to the owner once, in the answer.
use app::types::ids::ServiceId;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use std::path::Path;

/// The request header the upstream reads.
pub const HEADER: &str = "x-web4-proxy-secret";
/// What every proxy secret starts with (recognisable in a leak scanner).
pub const PREFIX: &str = "w4ps_";
/// The master key's file in the data directory.
pub const KEY_FILE: &str = "proxy-secret.key";

/// The master key secrets are derived from.
pub struct ProxySecrets {
    master: crate::secrets::MasterKey,
}

impl ProxySecrets {
    /// Loads the master key from `data_dir`, or creates it there.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        Ok(Self { master: crate::secrets::MasterKey::load_or_create(data_dir, KEY_FILE)? })
    }

    /// A master key of these bytes (tests and benchmarks).
    pub fn from_key(master: [u8; 32]) -> Self {
        Self { master: crate::secrets::MasterKey::from_bytes(master) }
    }

    /// The secret of `service` at `generation`.
    pub fn secret(&self, service: &ServiceId, generation: i32) -> String {
        let key = self.master.derive(b"web4 proxy secret\n", service.as_str(), generation);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_depends_on_the_master_key_the_service_and_the_generation() {
        let secrets = ProxySecrets::from_key([1; 32]);
        let a = secrets.secret(&ServiceId::new("svc"), 1);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 43, "{a}");
        assert_eq!(a, secrets.secret(&ServiceId::new("svc"), 1), "derived, so the same every time");
        assert_ne!(a, secrets.secret(&ServiceId::new("svc"), 2), "rotation changes it");
        assert_ne!(a, secrets.secret(&ServiceId::new("svc2"), 1));
        assert_ne!(a, ProxySecrets::from_key([2; 32]).secret(&ServiceId::new("svc"), 1));
    }

    #[test]
    fn the_master_key_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = ProxySecrets::load_or_create(dir.path()).unwrap().secret(&ServiceId::new("s"), 1);
        let second = ProxySecrets::load_or_create(dir.path()).unwrap().secret(&ServiceId::new("s"), 1);
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
