//! Staged submissions: raw provider files, encrypted at rest, streamed in and out.
//!
//! A submission holds identifiers, so its staged copy belongs to the identity zone. It is
//! sealed in 64 KiB chunks (AES-256-GCM, key [`KeyName::Staging`]), each chunk's associated data
//! binding its index and whether it is the last, so chunks cannot be reordered, dropped or
//! truncated without detection (the STREAM construction). The plaintext's SHA-256 is computed on
//! the way in: it is the submission's identity for idempotence.
//!
//! Every chunk but the last holds exactly 64 KiB, so chunk `i` sits at a computable offset and
//! [`StagedReader`] seeks: it decrypts only the chunk a read lands in (a ZIP's central directory
//! is read from the end of the staged copy without decrypting the rest). The last chunk is
//! authenticated when the file is opened, so truncation is caught before any byte is used.

use std::fs::{self, File};
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, AeadInPlace, KeyInit, Payload};
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

/// Bytes of one sealed chunk record in the file: length prefix, ciphertext, tag.
const RECORD: u64 = 4 + CHUNK as u64 + 16;
/// Bytes of the file header: magic and nonce prefix.
const HEADER: u64 = 16;

/// Opens a staged file for reading its plaintext, sequentially or at any offset.
///
/// Chunk `i` sits at a computable offset (every chunk but the last is full), so a seek decrypts
/// and authenticates only the chunk it lands in. The last chunk is authenticated here, when the
/// file is opened, with its "last" flag: a truncated file (at a chunk boundary or inside one) is
/// refused before a byte is read. A tampered or reordered chunk fails with an `InvalidData` I/O
/// error when it is read.
///
/// # Errors
/// I/O and key errors; [`Error::Decrypt`] for a file that is not a staged file, is truncated or
/// whose last chunk does not authenticate.
pub fn open_staged(keys: &dyn KeyProvider, path: &Path) -> Result<StagedReader> {
    let key = keys.key(KeyName::Staging)?;
    let mut file = File::open(path).map_err(io_err(path))?;
    let not_staged = |what: &'static str| Error::Decrypt { column: what };
    let mut head = [0u8; HEADER as usize];
    file.read_exact(&mut head)
        .map_err(|_| not_staged("staging file header"))?;
    if &head[..8] != MAGIC {
        return Err(not_staged("staging file header"));
    }
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&head[8..]);
    let file_len = file.metadata().map_err(io_err(path))?.len();
    let body = file_len - HEADER;
    if body == 0 {
        return Err(not_staged("staging file (truncated)"));
    }
    let n_chunks = body.div_ceil(RECORD);
    let last_record = body - (n_chunks - 1) * RECORD;
    if last_record < 4 + 16 {
        return Err(not_staged("staging file (truncated)"));
    }
    let len = (n_chunks - 1) * CHUNK as u64 + (last_record - 4 - 16);
    let mut reader = StagedReader {
        file,
        aead: Aes256Gcm::new((&*key).into()),
        prefix,
        n_chunks,
        len,
        pos: 0,
        chunk: None,
        buf: Vec::with_capacity(RECORD as usize),
    };
    reader
        .load(n_chunks - 1)
        .map_err(|_| not_staged("staging file (truncated or last chunk tampered)"))?;
    Ok(reader)
}

/// The plaintext of a staged file: [`Read`], [`BufRead`] (one decrypted chunk is the buffer) and
/// [`Seek`]. Holds one chunk in memory, whatever the file's size.
pub struct StagedReader {
    file: File,
    aead: Aes256Gcm,
    prefix: [u8; 8],
    n_chunks: u64,
    /// Plaintext length.
    len: u64,
    /// Plaintext position.
    pos: u64,
    /// The chunk held in `buf`, decrypted.
    chunk: Option<u64>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for StagedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedReader")
            .field("len", &self.len)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl StagedReader {
    /// Plaintext length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the plaintext is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads, authenticates and decrypts chunk `index` into `buf`.
    fn load(&mut self, index: u64) -> io::Result<()> {
        if self.chunk == Some(index) {
            return Ok(());
        }
        self.chunk = None;
        let bad =
            |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("staged file {what}"));
        let last = index + 1 == self.n_chunks;
        self.file.seek(SeekFrom::Start(HEADER + index * RECORD))?;
        let mut len = [0u8; 4];
        self.file
            .read_exact(&mut len)
            .map_err(|_| bad("is truncated"))?;
        let len = u64::from(u32::from_be_bytes(len));
        let expected = if last {
            self.len - index * CHUNK as u64 + 16
        } else {
            CHUNK as u64 + 16
        };
        if len != expected {
            return Err(bad(
                "has a chunk of the wrong length (tampered or truncated)",
            ));
        }
        self.buf.resize(len as usize, 0);
        self.file
            .read_exact(&mut self.buf)
            .map_err(|_| bad("is truncated"))?;
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&index.to_be_bytes());
        self.aead
            .decrypt_in_place(
                &Nonce::from(nonce),
                &aad(&self.prefix, index, last),
                &mut self.buf,
            )
            .map_err(|_| bad("chunk does not authenticate (tampered, reordered or truncated)"))?;
        self.chunk = Some(index);
        Ok(())
    }
}

impl BufRead for StagedReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.len {
            return Ok(&[]);
        }
        let index = self.pos / CHUNK as u64;
        self.load(index)?;
        let start = (self.pos - index * CHUNK as u64) as usize;
        Ok(self.buf.get(start..).unwrap_or_default())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt as u64).min(self.len);
    }
}

impl Read for StagedReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = out.len().min(avail.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl Seek for StagedReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let Some(target) = target else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of a staged file",
            ));
        };
        // Past the end reads nothing, as with a file.
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

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
        // Drop the last chunk entirely: the new last chunk was sealed as "not last", so the
        // file is refused when opened.
        let first_two = 16 + 2 * (4 + CHUNK + 16);
        fs::write(&staged.path, &raw[..first_two]).unwrap();
        assert!(open_staged(&keys, &staged.path).is_err());
        // Cut inside the last chunk, or inside a middle one.
        for cut in [raw.len() - 1, first_two - 7, 16 + 3, 10] {
            fs::write(&staged.path, &raw[..cut]).unwrap();
            assert!(open_staged(&keys, &staged.path).is_err(), "cut at {cut}");
        }
        // Bytes appended after the last chunk.
        let mut longer = raw.clone();
        longer.extend_from_slice(&[0u8; 40]);
        fs::write(&staged.path, &longer).unwrap();
        assert!(open_staged(&keys, &staged.path).is_err());
        // A flipped bit in the first chunk: opening checks the last chunk only, reading finds it.
        let mut flipped = raw.clone();
        flipped[100] ^= 1;
        fs::write(&staged.path, &flipped).unwrap();
        let mut out = Vec::new();
        assert!(
            open_staged(&keys, &staged.path)
                .unwrap()
                .read_to_end(&mut out)
                .is_err()
        );
        // Seeking past the damaged chunk reads the intact ones; seeking into it fails.
        let mut r = open_staged(&keys, &staged.path).unwrap();
        r.seek(SeekFrom::Start(CHUNK as u64 + 3)).unwrap();
        let mut two = [0u8; 2];
        r.read_exact(&mut two).unwrap();
        assert_eq!(two, [7, 7]);
        r.seek(SeekFrom::Start(5)).unwrap();
        assert!(r.read_exact(&mut two).is_err());
        // Two chunks swapped.
        let mut swapped = raw.clone();
        let (a, b) = (16, 16 + 4 + CHUNK + 16);
        let first: Vec<u8> = raw[a..b].to_vec();
        swapped[a..b].copy_from_slice(&raw[b..b + (b - a)]);
        swapped[b..b + (b - a)].copy_from_slice(&first);
        fs::write(&staged.path, &swapped).unwrap();
        let mut r = open_staged(&keys, &staged.path).unwrap();
        assert!(r.read_to_end(&mut out).is_err());
    }

    fn staged_of(
        size: usize,
        seed: u64,
    ) -> (
        tempfile::TempDir,
        tsumugi_store::FileKeyProvider,
        StagedFile,
        Vec<u8>,
    ) {
        let (tmp, keys, mut rng) = setup();
        let mut data = vec![0u8; size];
        rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut data);
        let staged = stage_file(&keys, &mut &data[..], &tmp.path().join("stg"), &mut rng).unwrap();
        (tmp, keys, staged, data)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn seek_then_read_equals_the_plaintext(
            size in proptest::prop_oneof![0usize..300, (CHUNK - 2)..(CHUNK + 2), 0usize..(4 * CHUNK + 100)],
            seed: u64,
            reads in proptest::collection::vec((0.0f64..1.1, 0usize..(CHUNK + 500), 0u8..3), 1..12),
        ) {
            let (_tmp, keys, staged, data) = staged_of(size, seed);
            let mut r = open_staged(&keys, &staged.path).unwrap();
            proptest::prop_assert_eq!(r.len(), size as u64);
            for (at, n, how) in reads {
                let target = (at * size as f64) as u64;
                let got = match how {
                    0 => r.seek(SeekFrom::Start(target)).unwrap(),
                    1 => r.seek(SeekFrom::End(target as i64 - size as i64)).unwrap(),
                    _ => {
                        let here = r.stream_position().unwrap();
                        r.seek(SeekFrom::Current(target as i64 - here as i64)).unwrap()
                    }
                };
                proptest::prop_assert_eq!(got, target);
                let mut out = Vec::new();
                (&mut r).take(n as u64).read_to_end(&mut out).unwrap();
                let from = (target as usize).min(size);
                let to = (from + n).min(size);
                proptest::prop_assert_eq!(&out[..], &data[from..to]);
            }
        }
    }
}
