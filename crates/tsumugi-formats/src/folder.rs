//! A folder as one byte stream, so a folder submission (SS-MIX2 storage) is staged, hashed
//! and re-read like any file.
//!
//! Layout: the magic `TSGDIR01`, then for every regular file in path order
//! `u32 BE path length · path (UTF-8, `/`-separated, relative) · u64 BE content length ·
//! content`. The same folder always gives the same bytes, so re-sending it is a no-op.
//! Symbolic links are not followed.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The first bytes of a folder stream.
pub const FOLDER_MAGIC: &[u8; 8] = b"TSGDIR01";

/// Largest single file taken into a folder stream (an SS-MIX2 message is a few KiB).
const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// Longest entry path read back (a real one is under `PATH_MAX`, 4 KiB).
const MAX_PATH_BYTES: u64 = 64 * 1024;

/// Reads exactly `n` bytes, allocating only as they arrive: a length field of a truncated or
/// forged stream must not make the reader allocate gigabytes up front.
fn read_n(source: &mut impl Read, n: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    source.take(n).read_to_end(&mut out)?;
    if (out.len() as u64) < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(out)
}

/// Streams a folder's files (see the module docs); reads each file only when its turn comes.
#[derive(Debug)]
pub struct FolderStream {
    files: Vec<(String, PathBuf)>,
    next: usize,
    pending: io::Cursor<Vec<u8>>,
    current: Option<io::Take<File>>,
}

/// Lists `root`'s files in path order and returns a stream over them.
///
/// # Errors
/// I/O errors while listing.
pub fn folder_stream(root: &Path) -> io::Result<FolderStream> {
    let mut files = Vec::new();
    walk(root, "", &mut files)?;
    files.sort();
    Ok(FolderStream {
        files,
        next: 0,
        pending: io::Cursor::new(FOLDER_MAGIC.to_vec()),
        current: None,
    })
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if kind.is_dir() {
            walk(&entry.path(), &rel, out)?;
        } else if kind.is_file() {
            out.push((rel, entry.path()));
        }
    }
    Ok(())
}

impl Read for FolderStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.pending.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if let Some(f) = self.current.as_mut() {
                let n = f.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.current = None;
            }
            let Some((rel, path)) = self.files.get(self.next) else {
                return Ok(0);
            };
            self.next += 1;
            let file = File::open(path)?;
            let len = file.metadata()?.len();
            if len > MAX_ENTRY_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{rel}: file too large for a folder submission"),
                ));
            }
            let mut head = Vec::with_capacity(rel.len() + 12);
            head.extend_from_slice(&(rel.len() as u32).to_be_bytes());
            head.extend_from_slice(rel.as_bytes());
            head.extend_from_slice(&len.to_be_bytes());
            self.pending = io::Cursor::new(head);
            self.current = Some(file.take(len));
        }
    }
}

/// Reads the entries of a folder stream back, one at a time.
#[derive(Debug)]
pub struct FolderEntries<R: Read> {
    source: R,
    done: bool,
}

impl<R: Read> FolderEntries<R> {
    /// Reads the magic and returns the entries that follow.
    ///
    /// # Errors
    /// `InvalidData` when the stream is not a folder stream.
    pub fn new(mut source: R) -> io::Result<FolderEntries<R>> {
        let mut magic = [0u8; 8];
        source.read_exact(&mut magic)?;
        if &magic != FOLDER_MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a folder stream",
            ));
        }
        Ok(FolderEntries {
            source,
            done: false,
        })
    }
}

impl<R: Read> Iterator for FolderEntries<R> {
    type Item = io::Result<(String, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut len = [0u8; 4];
        match self.source.read(&mut len[..1]) {
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(_) => {}
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        }
        let mut entry = || -> io::Result<(String, Vec<u8>)> {
            self.source.read_exact(&mut len[1..])?;
            let path_len = u64::from(u32::from_be_bytes(len));
            if path_len > MAX_PATH_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "entry path too long",
                ));
            }
            let path = read_n(&mut self.source, path_len)?;
            let mut size = [0u8; 8];
            self.source.read_exact(&mut size)?;
            let size = u64::from_be_bytes(size);
            if size > MAX_ENTRY_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "entry too large",
                ));
            }
            let content = read_n(&mut self.source, size)?;
            let path = String::from_utf8(path).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "entry path is not UTF-8")
            })?;
            Ok((path, content))
        };
        let res = entry();
        if res.is_err() {
            self.done = true;
        }
        Some(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_round_trips_in_path_order_and_deterministically() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("b/c")).unwrap();
        fs::write(tmp.path().join("b/c/x"), b"hello").unwrap();
        fs::write(tmp.path().join("a"), b"").unwrap();
        let mut bytes = Vec::new();
        folder_stream(tmp.path())
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        let mut again = Vec::new();
        folder_stream(tmp.path())
            .unwrap()
            .read_to_end(&mut again)
            .unwrap();
        assert_eq!(bytes, again);
        let entries: Vec<_> = FolderEntries::new(&bytes[..])
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(
            entries,
            vec![
                ("a".to_owned(), vec![]),
                ("b/c/x".to_owned(), b"hello".to_vec())
            ]
        );
        // A truncated stream ends in an error, not a panic or a silent loss.
        let cut: Vec<_> = FolderEntries::new(&bytes[..bytes.len() - 2])
            .unwrap()
            .collect();
        assert!(cut.last().unwrap().is_err());
    }
}
