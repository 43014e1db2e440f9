//! Key providers: where the platform's symmetric keys and signing seeds come from.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::RngCore;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// 32 bytes of key material, wiped from memory when dropped.
pub type SecretKey = Zeroizing<[u8; 32]>;

/// The keys a data directory holds. Each has one purpose; none is reused for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyName {
    /// Key-encryption key of the identity vault (wraps the vault's data keys).
    VaultKek,
    /// Key of the vault's blind indexes (HMAC of normalized identifiers, for matching without
    /// decrypting).
    VaultIndex,
    /// Key of staged raw submissions (they hold identifiers, so they are identity-zone data).
    Staging,
    /// Key of the research store's Parquet files.
    Research,
    /// Ed25519 seed that signs audit-log checkpoints.
    AuditSigning,
}

impl KeyName {
    /// Every key, in creation order.
    pub const ALL: [KeyName; 5] = [
        KeyName::VaultKek,
        KeyName::VaultIndex,
        KeyName::Staging,
        KeyName::Research,
        KeyName::AuditSigning,
    ];

    /// The key's file stem and display name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyName::VaultKek => "vault-kek",
            KeyName::VaultIndex => "vault-index",
            KeyName::Staging => "staging",
            KeyName::Research => "research",
            KeyName::AuditSigning => "audit-signing",
        }
    }
}

/// A source of keys.
///
/// Contract: `key` returns the same bytes for the same name for the life of a data directory
/// (rotation is a new name or a re-encryption, never a silent change). An implementation must
/// refuse — not invent — a key it does not hold.
pub trait KeyProvider: Send + Sync {
    /// The key called `name`.
    ///
    /// # Errors
    /// [`Error::KeyUnavailable`] when the key is missing or unusable.
    fn key(&self, name: KeyName) -> Result<SecretKey>;
}

/// Keys kept as hex files `DIR/keys/<name>.key`, mode 0600, in a folder of mode 0700.
#[derive(Debug, Clone)]
pub struct FileKeyProvider {
    dir: PathBuf,
}

impl FileKeyProvider {
    /// Creates every key in `dir` from `rng` (which must be a CSPRNG outside tests). Existing key
    /// files are never overwritten.
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be created, including when it already exists.
    pub fn create(dir: &Path, rng: &mut dyn RngCore) -> Result<FileKeyProvider> {
        fs::create_dir_all(dir).map_err(Error::io(dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(Error::io(dir))?;
        for name in KeyName::ALL {
            let path = key_path(dir, name);
            let mut bytes = Zeroizing::new([0u8; 32]);
            rng.fill_bytes(bytes.as_mut());
            let text = Zeroizing::new(format!("{}\n", hex::encode(bytes.as_ref())));
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(Error::io(&path))?;
            f.write_all(text.as_bytes()).map_err(Error::io(&path))?;
            f.sync_all().map_err(Error::io(&path))?;
        }
        Ok(FileKeyProvider {
            dir: dir.to_owned(),
        })
    }

    /// Opens an existing key folder.
    pub fn open(dir: &Path) -> FileKeyProvider {
        FileKeyProvider {
            dir: dir.to_owned(),
        }
    }
}

impl KeyProvider for FileKeyProvider {
    fn key(&self, name: KeyName) -> Result<SecretKey> {
        let path = key_path(&self.dir, name);
        let unavailable = |reason: String| Error::KeyUnavailable {
            name: name.as_str(),
            reason,
        };
        let meta =
            fs::metadata(&path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(unavailable(format!(
                "{} is readable by group or others; chmod 600 it",
                path.display()
            )));
        }
        let text = Zeroizing::new(fs::read_to_string(&path).map_err(Error::io(&path))?);
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), key.as_mut())
            .map_err(|_| unavailable("not 64 hex digits".to_owned()))?;
        Ok(key)
    }
}

fn key_path(dir: &Path, name: KeyName) -> PathBuf {
    dir.join(format!("{}.key", name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn keys_are_private_distinct_and_stable() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys");
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let p = FileKeyProvider::create(&dir, &mut rng).unwrap();
        for name in KeyName::ALL {
            let mode = fs::metadata(key_path(&dir, name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", name.as_str());
        }
        assert_ne!(
            *p.key(KeyName::Research).unwrap(),
            *p.key(KeyName::VaultKek).unwrap()
        );
        let again = FileKeyProvider::open(&dir);
        assert_eq!(
            *again.key(KeyName::Staging).unwrap(),
            *p.key(KeyName::Staging).unwrap()
        );
        assert!(
            FileKeyProvider::create(&dir, &mut rng).is_err(),
            "must not overwrite"
        );
    }

    #[test]
    fn a_world_readable_key_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let p = FileKeyProvider::create(tmp.path(), &mut rng).unwrap();
        let path = key_path(tmp.path(), KeyName::Research);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = p.key(KeyName::Research).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
