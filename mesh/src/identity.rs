//! A node's Ed25519 key pair: created on first start, stored in the node's data directory
//! readable only by its owner, and loaded on every later start.
use super::NodeId;
use anyhow::Context;
use libp2p::identity::Keypair;
use std::{fs, io::Write, path::Path};

/// The file name of a node's key inside its directory.
pub const KEY_FILE: &str = "node.key";

/// Loads the key pair in `dir`, or creates one there (mode 0600, written atomically).
pub fn load_or_create(dir: &Path) -> anyhow::Result<Keypair> {
    let path = dir.join(KEY_FILE);
    if path.exists() {
        restrict_to_owner(&path)?;
        let bytes = fs::read(&path).with_context(|| format!("cannot read node key {}", path.display()))?;
        let key = Keypair::from_protobuf_encoding(&bytes)
            .with_context(|| format!("node key {} is corrupt", path.display()))?;
        anyhow::ensure!(key.clone().try_into_ed25519().is_ok(), "node key {} is not Ed25519", path.display());
        return Ok(key);
    }
    let key = Keypair::generate_ed25519();
    let encoded = key.to_protobuf_encoding().context("encoding the node key")?;
    write_private(dir, KEY_FILE, &encoded)?;
    tracing::info!(node_id = %NodeId::from(&key), path = %path.display(), "created a node key");
    Ok(key)
}

/// Writes `bytes` to `dir/name` readable only by its owner (mode 0600), atomically: a crash
/// leaves the old file or the new one, never half of one.
pub fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, dir.join(name))?;
    Ok(())
}

/// Tightens a key file that others can read back to 0600 (and says so): a key readable by
/// other users is a key that can be impersonated.
pub fn restrict_to_owner(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "key file was readable by others; restricting it to its owner");
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_and_loaded_after() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let second = load_or_create(dir.path()).unwrap();
        assert_eq!(NodeId::from(&first), NodeId::from(&second));
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_readable_only_by_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);

        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        load_or_create(dir.path()).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_not_a_new_identity() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(KEY_FILE), b"garbage").unwrap();
        let err = load_or_create(dir.path()).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err:#}");
    }

    #[test]
    fn node_ids_parse_back_and_carry_their_public_key() {
        let key = Keypair::generate_ed25519();
        let id = NodeId::from(&key);
        let parsed: NodeId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
        assert_eq!(id.public_key().unwrap(), key.public());
        assert_eq!(NodeId::from_bytes(&id.to_bytes()), Some(id));
    }
}
