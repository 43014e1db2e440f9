//! ZIP archives read in place, with memory bounded by one entry whatever the number of entries.
//!
//! `zip::ZipArchive` keeps the whole central directory in memory (some 300 bytes per entry: a
//! 2 GB 特定健診 ZIP of deflated CDA documents holds millions). Here the central directory is
//! walked record by record ([`DirCursor`]) — a pass costs a read of the directory, not memory —
//! and one entry is opened at a time ([`read_entry`], through `zip`'s local-header reader, with
//! the sizes and CRC of the directory). Decompressed bytes are capped per entry.
//!
//! Walking the directory and reading entries alternate between two places of the source;
//! [`BlockCache`] keeps a few 64 KiB blocks of it so that both stay cheap (a seek into a cached
//! block costs nothing, and on a staged copy a block is exactly one sealed chunk).

use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom};

/// Bytes per cached block (the staged copy's chunk size, so a block is one chunk).
const BLOCK: u64 = 64 * 1024;
/// Blocks kept: the directory's, the entry's, and one on either side of a boundary.
const BLOCKS: usize = 4;

/// A read cache of a few aligned blocks over a seekable source; seeks are free.
pub(crate) struct BlockCache<R> {
    inner: R,
    len: u64,
    pos: u64,
    /// Most recently used first.
    blocks: VecDeque<(u64, Vec<u8>)>,
}

impl<R: Read + Seek> BlockCache<R> {
    /// Wraps `inner`; its length is found by seeking to its end.
    pub(crate) fn new(mut inner: R) -> io::Result<BlockCache<R>> {
        let len = inner.seek(SeekFrom::End(0))?;
        Ok(BlockCache {
            inner,
            len,
            pos: 0,
            blocks: VecDeque::with_capacity(BLOCKS),
        })
    }

    fn block(&mut self, start: u64) -> io::Result<&[u8]> {
        if let Some(i) = self.blocks.iter().position(|(s, _)| *s == start) {
            if i > 0
                && let Some(b) = self.blocks.remove(i)
            {
                self.blocks.push_front(b);
            }
        } else {
            let mut buf = if self.blocks.len() >= BLOCKS {
                self.blocks.pop_back().map(|(_, b)| b).unwrap_or_default()
            } else {
                Vec::new()
            };
            let want = BLOCK.min(self.len - start) as usize;
            buf.resize(want, 0);
            self.inner.seek(SeekFrom::Start(start))?;
            self.inner.read_exact(&mut buf)?;
            self.blocks.push_front((start, buf));
        }
        Ok(self
            .blocks
            .front()
            .map(|(_, b)| b.as_slice())
            .unwrap_or_default())
    }
}

impl<R: Read + Seek> Read for BlockCache<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || out.is_empty() {
            return Ok(0);
        }
        let start = self.pos - self.pos % BLOCK;
        let at = (self.pos - start) as usize;
        let block = self.block(start)?;
        let n = out.len().min(block.len().saturating_sub(at));
        out[..n].copy_from_slice(&block[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for BlockCache<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = target;
        Ok(target)
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zip: {what}"))
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

/// Where the central directory is and how many entries it lists.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ZipDir {
    start: u64,
    end: u64,
    count: u64,
}

const EOCD: u32 = 0x0605_4b50;
const EOCD64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;
const CENTRAL: u32 = 0x0201_4b50;

/// Finds the central directory from the end of `r` (ZIP64 included).
pub(crate) fn find_dir<R: Read + Seek>(r: &mut R) -> io::Result<ZipDir> {
    let len = r.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 0xFFFF);
    let tail_start = len - tail_len;
    let mut tail = vec![0u8; tail_len as usize];
    r.seek(SeekFrom::Start(tail_start))?;
    r.read_exact(&mut tail)?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == EOCD)
        .ok_or_else(|| bad("no end of central directory"))?;
    let mut count = u64::from(u16_at(&tail, eocd + 10));
    let mut size = u64::from(u32_at(&tail, eocd + 12));
    let mut start = u64::from(u32_at(&tail, eocd + 16));
    let eocd_pos = tail_start + eocd as u64;
    if count == 0xFFFF || size == 0xFFFF_FFFF || start == 0xFFFF_FFFF {
        let locator = eocd_pos
            .checked_sub(20)
            .ok_or_else(|| bad("no ZIP64 locator"))?;
        let mut loc = [0u8; 20];
        r.seek(SeekFrom::Start(locator))?;
        r.read_exact(&mut loc)?;
        if u32_at(&loc, 0) != LOCATOR64 {
            return Err(bad("no ZIP64 locator"));
        }
        let mut rec = [0u8; 56];
        r.seek(SeekFrom::Start(u64_at(&loc, 8)))?;
        r.read_exact(&mut rec)?;
        if u32_at(&rec, 0) != EOCD64 {
            return Err(bad("no ZIP64 end of central directory"));
        }
        count = u64_at(&rec, 32);
        size = u64_at(&rec, 40);
        start = u64_at(&rec, 48);
    }
    let end = start
        .checked_add(size)
        .filter(|e| *e <= len)
        .ok_or_else(|| bad("central directory outside the file"))?;
    Ok(ZipDir { start, end, count })
}

/// One central-directory entry: what is needed to classify and to read it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Its name (UTF-8, or decoded lossily: names are classified, never shown).
    pub(crate) name: String,
    /// Its 0-based position in the directory.
    pub(crate) index: usize,
    compressed: u64,
    uncompressed: u64,
    crc: u32,
    local: u64,
}

/// A pass over the central directory, one record at a time.
#[derive(Debug, Clone)]
pub(crate) struct DirCursor {
    next: u64,
    end: u64,
    remaining: u64,
    index: usize,
}

impl DirCursor {
    /// A pass from the first entry.
    pub(crate) fn new(dir: &ZipDir) -> DirCursor {
        DirCursor {
            next: dir.start,
            end: dir.end,
            remaining: dir.count,
            index: 0,
        }
    }

    /// The 0-based position of the next entry.
    pub(crate) fn position(&self) -> usize {
        self.index
    }

    /// The next entry, or `None` at the end; after an error the pass is over.
    pub(crate) fn next<R: Read + Seek>(&mut self, r: &mut R) -> Option<io::Result<Entry>> {
        if self.remaining == 0 {
            return None;
        }
        let got = self.read(r);
        if got.is_err() {
            self.remaining = 0;
        }
        Some(got)
    }

    fn read<R: Read + Seek>(&mut self, r: &mut R) -> io::Result<Entry> {
        let mut head = [0u8; 46];
        if self.next + 46 > self.end {
            return Err(bad("central directory is cut short"));
        }
        r.seek(SeekFrom::Start(self.next))?;
        r.read_exact(&mut head)?;
        if u32_at(&head, 0) != CENTRAL {
            return Err(bad("bad central directory record"));
        }
        let name_len = usize::from(u16_at(&head, 28));
        let extra_len = usize::from(u16_at(&head, 30));
        let comment_len = u64::from(u16_at(&head, 32));
        let mut var = vec![0u8; name_len + extra_len];
        r.read_exact(&mut var)?;
        let (name, extra) = var.split_at(name_len);
        let mut compressed = u64::from(u32_at(&head, 20));
        let mut uncompressed = u64::from(u32_at(&head, 24));
        let mut local = u64::from(u32_at(&head, 42));
        // ZIP64 extended information: the fields whose 32-bit value is saturated, in order.
        let mut at = 0;
        while at + 4 <= extra.len() {
            let id = u16_at(extra, at);
            let size = usize::from(u16_at(extra, at + 2));
            let body = extra.get(at + 4..at + 4 + size).unwrap_or_default();
            if id == 0x0001 {
                let mut k = 0;
                for field in [&mut uncompressed, &mut compressed, &mut local] {
                    if *field == 0xFFFF_FFFF {
                        *field = u64_at(body, k);
                        k += 8;
                    }
                }
            }
            at += 4 + size;
        }
        let entry = Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            index: self.index,
            compressed,
            uncompressed,
            crc: u32_at(&head, 16),
            local,
        };
        self.next += 46 + (name_len + extra_len) as u64 + comment_len;
        self.remaining -= 1;
        self.index += 1;
        Ok(entry)
    }
}

/// Why an entry's bytes were not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryError {
    /// It decompresses to more than the cap.
    TooLarge,
    /// It cannot be read (damaged, encrypted, an unsupported method).
    Unreadable,
}

/// Reads entry `e`, decompressed, refusing more than `cap` bytes.
pub(crate) fn read_entry<R: Read + Seek>(
    r: &mut R,
    e: &Entry,
    cap: u64,
) -> Result<Vec<u8>, EntryError> {
    r.seek(SeekFrom::Start(e.local))
        .map_err(|_| EntryError::Unreadable)?;
    let options = zip::ZipReadOptions::new()
        .override_compressed_size(e.compressed)
        .override_uncompressed_size(e.uncompressed)
        .override_crc(e.crc);
    let file = zip::read::read_zipfile_from_stream_with_options(r, options)
        .ok()
        .flatten()
        .ok_or(EntryError::Unreadable)?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| EntryError::Unreadable)?;
    if bytes.len() as u64 > cap {
        return Err(EntryError::TooLarge);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;

    fn archive(n: usize, deflate: bool) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let method = if deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        for i in 0..n {
            w.start_file(
                format!("d/{i:06}.txt"),
                SimpleFileOptions::default().compression_method(method),
            )
            .unwrap();
            w.write_all(format!("entry {i} ").repeat(i % 50 + 1).as_bytes())
                .unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn every_entry_reads_back_in_directory_order_with_zip64_counts() {
        // More than 65,535 entries: the count lives in the ZIP64 end record.
        for (n, deflate) in [(0, true), (3, false), (70_000, true)] {
            let mut r = BlockCache::new(Cursor::new(archive(n, deflate))).unwrap();
            let dir = find_dir(&mut r).unwrap();
            let mut cursor = DirCursor::new(&dir);
            let mut seen = 0;
            while let Some(e) = cursor.next(&mut r) {
                let e = e.unwrap();
                assert_eq!(e.index, seen);
                assert_eq!(e.name, format!("d/{seen:06}.txt"));
                if seen.is_multiple_of(997) || n < 10 {
                    let bytes = read_entry(&mut r, &e, 1 << 20).unwrap();
                    assert_eq!(
                        bytes,
                        format!("entry {seen} ").repeat(seen % 50 + 1).as_bytes()
                    );
                    assert_eq!(read_entry(&mut r, &e, 3), Err(EntryError::TooLarge));
                }
                seen += 1;
            }
            assert_eq!(seen, n);
        }
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let zip = archive(5, true);
        assert!(find_dir(&mut Cursor::new(b"PK not really".to_vec())).is_err());
        // Cut the directory short.
        let mut cut = zip.clone();
        let dir = find_dir(&mut Cursor::new(zip.clone())).unwrap();
        cut[dir.start as usize] ^= 0xFF;
        let mut r = Cursor::new(cut);
        let mut c = DirCursor::new(&dir);
        assert!(c.next(&mut r).unwrap().is_err());
        assert!(c.next(&mut r).is_none());
        // A damaged entry body.
        let mut bad_body = zip.clone();
        bad_body[44] ^= 0xFF;
        let mut r = Cursor::new(bad_body);
        let mut c = DirCursor::new(&dir);
        let e = c.next(&mut r).unwrap().unwrap();
        assert_eq!(read_entry(&mut r, &e, 1 << 20), Err(EntryError::Unreadable));
    }
}
