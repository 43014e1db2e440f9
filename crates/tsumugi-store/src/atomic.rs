//! Crash-safe file replacement: write to a temporary sibling, fsync, rename, fsync the folder.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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

/// A file written a piece at a time that appears at its path only when [`AtomicFile::commit`]
/// succeeds (temporary sibling `<name>.tmp`, fsync, rename, fsync the folder). Dropped without
/// committing, it removes its temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing the file that will replace `path`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the temporary file.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let mut name = path.file_name().unwrap_or_default().to_owned();
        name.push(".tmp");
        let tmp = path.with_file_name(name);
        let file = File::create(&tmp).map_err(Error::io(&tmp))?;
        Ok(AtomicFile {
            path: path.to_owned(),
            tmp,
            out: Some(BufWriter::with_capacity(256 * 1024, file)),
        })
    }

    /// Appends bytes.
    ///
    /// # Errors
    /// [`Error::Io`] naming the temporary file.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.out {
            Some(out) => out.write_all(bytes).map_err(Error::io(&self.tmp)),
            None => Ok(()),
        }
    }

    /// Flushes, syncs and moves the file into place.
    ///
    /// # Errors
    /// [`Error::Io`]; the final path is untouched then.
    pub fn commit(mut self) -> Result<()> {
        if let Some(out) = self.out.take() {
            let file = out
                .into_inner()
                .map_err(|e| Error::io(&self.tmp)(e.into_error()))?;
            file.sync_all().map_err(Error::io(&self.tmp))?;
        }
        commit_file(&self.tmp, &self.path)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_file_appears_only_when_committed() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("r.csv");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"a,").unwrap();
        f.write_all(b"b\n").unwrap();
        assert!(!path.exists());
        f.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"a,b\n");
        let mut g = AtomicFile::create(&path).unwrap();
        g.write_all(b"other").unwrap();
        drop(g);
        assert_eq!(fs::read(&path).unwrap(), b"a,b\n");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
