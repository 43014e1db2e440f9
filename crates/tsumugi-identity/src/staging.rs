//! Staged submissions: raw provider files, encrypted at rest, streamed in and out.
//!
//! A submission holds identifiers, so its staged copy belongs to the identity zone. It is
//! sealed in 64 KiB chunks (AES-256-GCM, key [`KeyName::Staging`]), each chunk's associated data
//! binding its index and whether it is the last, so chunks cannot be reordered, dropped or
//! truncated without detection (the STREAM construction). The plaintext's SHA-256 is computed on
//! the way in: it is the submission's identity for idempotence.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tsumugi_store::{KeyName, KeyProvider};

use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"TSGSTG01";
const CHUNK: usize = 64 * 1024;

/// A staged submission file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// Where the sealed copy is.
    pub path: PathBuf,
    /// Hex SHA-256 of the plaintext.
    pub sha256: String,
    /// Plaintext size in bytes.
    pub n_bytes: u64,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |e| {
        Error::Store(tsumugi_store::Error::Io {
            path: path.to_owned(),
            source: e,
        })
    }
}

fn aad(prefix: &[u8; 8], index: u64, last: bool) -> [u8; 17] {
    let mut a = [0u8; 17];
    a[..8].copy_from_slice(prefix);
    a[8..16].copy_from_slice(&index.to_be_bytes());
    a[16] = u8::from(last);
    a
}

/// Reads `src`, seals it into `dir/<sha256>.stg` (durably: temp file, fsync, rename, fsync dir)
/// and returns its hash. Staging the same content again rewrites the same file name.
///
/// # Errors
/// I/O and key errors.
pub fn stage_file(
    keys: &dyn KeyProvider,
    src: &mut dyn Read,
    dir: &Path,
    rng: &mut (dyn RngCore + Send),
) -> Result<StagedFile> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let key = keys.key(KeyName::Staging)?;
    let aead = Aes256Gcm::new((&*key).into());
    let mut prefix = [0u8; 8];
    rng.fill_bytes(&mut prefix);
    let tmp = dir.join(format!(".staging-{}.tmp", hex::encode(prefix)));
    let mut out = io::BufWriter::new(File::create(&tmp).map_err(io_err(&tmp))?);
    out.write_all(MAGIC).map_err(io_err(&tmp))?;
    out.write_all(&prefix).map_err(io_err(&tmp))?;
    let mut hasher = Sha256::new();
    let mut n_bytes = 0u64;
    let mut cur = vec![0u8; CHUNK];
    let mut cur_len = read_full(src, &mut cur).map_err(io_err(&tmp))?;
    let mut index = 0u64;
    loop {
        let mut next = vec![0u8; CHUNK];
        let next_len = if cur_len == CHUNK {
            read_full(src, &mut next).map_err(io_err(&tmp))?
        } else {
            0
        };
        let last = next_len == 0;
        let plain = &cur[..cur_len];
        hasher.update(plain);
        n_bytes += cur_len as u64;
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&index.to_be_bytes());
        let ct = aead
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: &aad(&prefix, index, last),
                },
            )
            .map_err(|_| Error::Internal("aes-gcm refused to encrypt"))?;
        out.write_all(&(ct.len() as u32).to_be_bytes())
            .map_err(io_err(&tmp))?;
        out.write_all(&ct).map_err(io_err(&tmp))?;
        if last {
            break;
        }
        cur = next;
        cur_len = next_len;
        index += 1;
    }
    let file = out.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    let sha256 = hex::encode(hasher.finalize());
    let path = dir.join(format!("{sha256}.stg"));
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))?;
    Ok(StagedFile {
        path,
        sha256,
        n_bytes,
    })
}

/// Removes temporary files left by staging that a crash interrupted (their submissions were
/// never acknowledged, so the provider's retry stages them again). Call it only while no other
/// ingest runs on this data directory. Returns how many were removed.
///
/// # Errors
/// I/O errors.
pub fn remove_partial_stages(dir: &Path) -> Result<usize> {
    let mut n = 0;
    if !dir.exists() {
        return Ok(0);
    }
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        let partial = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(".staging-") && n.ends_with(".tmp"));
        if partial {
            fs::remove_file(&path).map_err(io_err(&path))?;
            n += 1;
        }
    }
    Ok(n)
}

fn read_full(src: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Opens a staged file for streaming reads of its plaintext. A tampered, reordered or
/// truncated file fails with an `InvalidData` I/O error at the damaged chunk.
///
/// # Errors
/// I/O and key errors, or a file that is not a staged file.
pub fn open_staged(keys: &dyn KeyProvider, path: &Path) -> Result<impl BufRead + use<>> {
    let key = keys.key(KeyName::Staging)?;
    let mut file = BufReader::new(File::open(path).map_err(io_err(path))?);
    let mut head = [0u8; 16];
    file.read_exact(&mut head).map_err(io_err(path))?;
    if &head[..8] != MAGIC {
        return Err(Error::Decrypt {
            column: "staging file header",
        });
    }
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&head[8..]);
    Ok(BufReader::with_capacity(
        CHUNK,
        StagedReader {
            file,
            aead: Aes256Gcm::new((&*key).into()),
            prefix,
            index: 0,
            buf: Vec::new(),
            pos: 0,
            done: false,
        },
    ))
}

struct StagedReader {
    file: BufReader<File>,
    aead: Aes256Gcm,
    prefix: [u8; 8],
    index: u64,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl StagedReader {
    fn next_chunk(&mut self) -> io::Result<()> {
        let bad =
            |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("staged file {what}"));
        let mut len = [0u8; 4];
        self.file
            .read_exact(&mut len)
            .map_err(|_| bad("is truncated"))?;
        let len = u32::from_be_bytes(len) as usize;
        if len > CHUNK + 16 {
            return Err(bad("has an oversized chunk"));
        }
        let mut ct = vec![0u8; len];
        self.file
            .read_exact(&mut ct)
            .map_err(|_| bad("is truncated"))?;
        let last = self.file.fill_buf()?.is_empty();
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&self.index.to_be_bytes());
        self.buf = self
            .aead
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &ct,
                    aad: &aad(&self.prefix, self.index, last),
                },
            )
            .map_err(|_| bad("chunk does not authenticate (tampered, reordered or truncated)"))?;
        self.pos = 0;
        self.index += 1;
        self.done = last;
        Ok(())
    }
}

impl Read for StagedReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn setup() -> (
        tempfile::TempDir,
        tsumugi_store::FileKeyProvider,
        rand::rngs::StdRng,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let keys =
            tsumugi_store::FileKeyProvider::create(&tmp.path().join("keys"), &mut rng).unwrap();
        (tmp, keys, rng)
    }

    #[test]
    fn round_trips_any_size_and_hides_plaintext() {
        let (tmp, keys, mut rng) = setup();
        for size in [0usize, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..size)
                .map(|i| "CANARY-山田".as_bytes()[i % 13])
                .collect();
            let staged =
                stage_file(&keys, &mut &data[..], &tmp.path().join("stg"), &mut rng).unwrap();
            assert_eq!(staged.n_bytes, size as u64);
            assert_eq!(staged.sha256, hex::encode(Sha256::digest(&data)));
            let raw = fs::read(&staged.path).unwrap();
            assert!(size < 6 || !raw.windows(6).any(|w| w == b"CANARY"));
            let mut back = Vec::new();
            open_staged(&keys, &staged.path)
                .unwrap()
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data, "size {size}");
        }
    }

    #[test]
    fn truncation_and_tampering_are_detected() {
        let (tmp, keys, mut rng) = setup();
        let data = vec![7u8; 2 * CHUNK + 5];
        let staged = stage_file(&keys, &mut &data[..], &tmp.path().join("stg"), &mut rng).unwrap();
        let raw = fs::read(&staged.path).unwrap();
        // Drop the last chunk entirely: the new last chunk was sealed as "not last".
        let first_two = 16 + 2 * (4 + CHUNK + 16);
        fs::write(&staged.path, &raw[..first_two]).unwrap();
        let mut out = Vec::new();
        assert!(
            open_staged(&keys, &staged.path)
                .unwrap()
                .read_to_end(&mut out)
                .is_err()
        );
        let mut flipped = raw.clone();
        flipped[100] ^= 1;
        fs::write(&staged.path, &flipped).unwrap();
        assert!(
            open_staged(&keys, &staged.path)
                .unwrap()
                .read_to_end(&mut out)
                .is_err()
        );
    }
}
