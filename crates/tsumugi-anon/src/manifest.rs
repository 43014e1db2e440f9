//! The release manifest: what is in the package, under which approval and opt-out registry.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// One file of a release package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// File name within the release folder.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

impl FileEntry {
    /// Hashes a file of the release folder.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn of(dir: &Path, name: &str) -> Result<FileEntry> {
        let path = dir.join(name);
        let file = File::open(&path).map_err(Error::io(&path))?;
        let mut reader = BufReader::new(file);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut bytes = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(Error::io(&path))?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            hasher.update(&buf[..n]);
        }
        Ok(FileEntry {
            name: name.to_owned(),
            bytes,
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

/// The committee approval a release rests on, as recorded in its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRef {
    /// The application.
    pub application_id: String,
    /// `anonymized` or `pseudonymized`.
    pub kind: String,
    /// When the committee decided (RFC 3339).
    pub decided_at: String,
    /// The conditions of the approval.
    pub conditions: Vec<String>,
}

/// `manifest.json` of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version of this manifest.
    pub manifest_version: u32,
    /// The release id.
    pub release_id: String,
    /// `anonymized` (匿名加工) or `pseudonymized` (仮名加工).
    pub kind: String,
    /// The committee approval the release rests on.
    pub approval: ApprovalRef,
    /// The opt-out registry version that filtered the release.
    pub optout_registry_version: i64,
    /// The configuration, as applied.
    pub config: serde_json::Value,
    /// Counts: persons, events, suppressed, excluded, classes, smallest class.
    pub counts: serde_json::Value,
    /// Every data file with its hash.
    pub files: Vec<FileEntry>,
}
