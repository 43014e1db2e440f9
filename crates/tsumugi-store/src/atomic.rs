//! Crash-safe file replacement: write to a temporary sibling, fsync, rename, fsync the folder.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one, never a
/// torn file, and the new one is durable when this returns.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(Error::io(&tmp))?;
    f.write_all(bytes).map_err(Error::io(&tmp))?;
    f.sync_all().map_err(Error::io(&tmp))?;
    drop(f);
    commit_file(&tmp, path)
}

/// Renames a fully written and synced temporary file over `path` and syncs the folder.
pub(crate) fn commit_file(tmp: &Path, path: &Path) -> Result<()> {
    fs::rename(tmp, path).map_err(Error::io(path))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(Error::io(dir))?;
    }
    Ok(())
}
