//! Output files. Per-provider files (submissions, notices) are appended to through bounded
//! in-memory buffers: when the buffers together exceed [`BUFFER_LIMIT`] bytes, each is appended
//! to its file and cleared, so memory stays bounded however many persons are generated, and
//! the bytes of every file depend only on the order of appends (person order).
//!
//! In identity-only mode ([`Sink::create_link_records`]) only the link outputs are written:
//! the per-provider files and the other CSV outputs are discarded as they come.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_err};
use crate::link::LinkOut;

/// Total bytes buffered for per-provider files before they are flushed.
pub(crate) const BUFFER_LIMIT: usize = 32 * 1024 * 1024;

/// A CSV file written row by row, or an output that is not written (rows are discarded).
pub(crate) struct CsvOut {
    name: &'static str,
    w: Option<csv::Writer<BufWriter<File>>>,
}

impl CsvOut {
    /// Creates `rel` under `dir` and writes the header.
    pub(crate) fn create(dir: &Path, rel: &'static str, header: &[&str]) -> Result<CsvOut> {
        let path = dir.join(rel);
        let file = File::create(&path).map_err(io_err(&path))?;
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(BufWriter::new(file));
        w.write_record(header)
            .map_err(|source| Error::Csv { file: rel, source })?;
        Ok(CsvOut {
            name: rel,
            w: Some(w),
        })
    }

    /// An output of `rel` that discards its rows and creates no file.
    fn discard(rel: &'static str) -> CsvOut {
        CsvOut { name: rel, w: None }
    }

    /// Writes one row.
    pub(crate) fn row<I, T>(&mut self, fields: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let Some(w) = &mut self.w else { return Ok(()) };
        w.write_record(fields).map_err(|source| Error::Csv {
            file: self.name,
            source,
        })
    }

    /// Flushes the file; returns whether there is one.
    pub(crate) fn finish(self) -> Result<bool> {
        let Some(mut w) = self.w else {
            return Ok(false);
        };
        w.flush().map_err(|e| Error::Csv {
            file: self.name,
            source: e.into(),
        })?;
        Ok(true)
    }
}

/// Every output of a run.
pub(crate) struct Sink {
    dir: PathBuf,
    buffers: BTreeMap<PathBuf, Vec<u8>>,
    buffered: usize,
    created: BTreeSet<PathBuf>,
    pub stop_requests: CsvOut,
    pub truth_records: CsvOut,
    pub truth_persons: CsvOut,
    pub truth_stops: CsvOut,
    pub truth_identifiers: CsvOut,
    /// The identity-only outputs, in that mode (then nothing else is written).
    pub link: Option<LinkOut>,
}

/// Header of `stop_requests.csv`.
pub(crate) const STOP_HEADER: [&str; 17] = [
    "request_id",
    "received_on",
    "channel",
    "provider_id",
    "patient_id",
    "requester",
    "family_kanji",
    "given_kanji",
    "family_kana",
    "given_kana",
    "birth_date",
    "sex",
    "postal_code",
    "address",
    "insurer_number",
    "insured_symbol",
    "insured_number",
];

fn mkdir(p: &Path) -> Result<()> {
    fs::create_dir_all(p).map_err(io_err(p))
}

impl Sink {
    /// Creates the directory layout and the row-by-row files.
    pub(crate) fn create(dir: &Path) -> Result<Sink> {
        mkdir(dir)?;
        mkdir(&dir.join("submissions"))?;
        mkdir(&dir.join("notices"))?;
        mkdir(&dir.join("truth"))?;
        mkdir(&dir.join("mappings"))?;
        Ok(Sink {
            dir: dir.to_path_buf(),
            buffers: BTreeMap::new(),
            buffered: 0,
            created: BTreeSet::new(),
            stop_requests: CsvOut::create(dir, "stop_requests.csv", &STOP_HEADER)?,
            truth_records: CsvOut::create(
                dir,
                "truth/records.csv",
                &["provider_id", "patient_id", "person_id", "noise"],
            )?,
            truth_persons: CsvOut::create(
                dir,
                "truth/persons.csv",
                &[
                    "person_id",
                    "sex",
                    "birth_date",
                    "prefecture_code",
                    "municipality_code",
                    "twin_of",
                    "deceased_on",
                    "opted_out",
                ],
            )?,
            truth_stops: CsvOut::create(
                dir,
                "truth/stop_requests.csv",
                &["request_id", "person_id"],
            )?,
            truth_identifiers: CsvOut::create(
                dir,
                "truth/identifiers.csv",
                &["person_id", "field", "value"],
            )?,
            link: None,
        })
    }

    /// Creates `dir` and the identity-only outputs, `records.csv` and `truth.csv`
    /// ([`LinkOut`]); every other output is discarded.
    pub(crate) fn create_link_records(dir: &Path) -> Result<Sink> {
        mkdir(dir)?;
        Ok(Sink {
            dir: dir.to_path_buf(),
            buffers: BTreeMap::new(),
            buffered: 0,
            created: BTreeSet::new(),
            stop_requests: CsvOut::discard("stop_requests.csv"),
            truth_records: CsvOut::discard("truth/records.csv"),
            truth_persons: CsvOut::discard("truth/persons.csv"),
            truth_stops: CsvOut::discard("truth/stop_requests.csv"),
            truth_identifiers: CsvOut::discard("truth/identifiers.csv"),
            link: Some(LinkOut::create(dir)?),
        })
    }

    /// Whether this is the identity-only mode.
    pub(crate) fn identity_only(&self) -> bool {
        self.link.is_some()
    }

    /// Appends bytes to a per-provider file (relative path); `header` is written first when the
    /// file is new.
    pub(crate) fn append(&mut self, rel: &Path, header: Option<&str>, bytes: &[u8]) -> Result<()> {
        self.append_raw(rel, header.map(str::as_bytes), bytes)
    }

    /// [`Sink::append`] with a header in any encoding.
    pub(crate) fn append_raw(
        &mut self,
        rel: &Path,
        header: Option<&[u8]>,
        bytes: &[u8],
    ) -> Result<()> {
        if self.identity_only() {
            return Ok(());
        }
        let path = self.dir.join(rel);
        let is_new = !self.created.contains(&path) && !self.buffers.contains_key(&path);
        let buf = self.buffers.entry(path).or_default();
        if is_new && let Some(h) = header {
            buf.extend_from_slice(h);
            self.buffered += h.len();
        }
        buf.extend_from_slice(bytes);
        self.buffered += bytes.len();
        if self.buffered > BUFFER_LIMIT {
            self.flush_buffers()?;
        }
        Ok(())
    }

    fn flush_buffers(&mut self) -> Result<()> {
        for (path, buf) in std::mem::take(&mut self.buffers) {
            if let Some(parent) = path.parent()
                && !self.created.contains(&path)
            {
                mkdir(parent)?;
            }
            let mut f = if self.created.contains(&path) {
                OpenOptions::new().append(true).open(&path)
            } else {
                File::create(&path)
            }
            .map_err(io_err(&path))?;
            f.write_all(&buf).map_err(io_err(&path))?;
            self.created.insert(path);
        }
        self.buffered = 0;
        Ok(())
    }

    /// Writes one file of a storage folder (`folder` relative to the output, `rel` inside it).
    /// The folder is emptied when first written in this run; it is listed as one entry of the
    /// files written (an SS-MIX2 storage holds a file per message).
    pub(crate) fn write_in(&mut self, folder: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
        if self.identity_only() {
            return Ok(());
        }
        let root = self.dir.join(folder);
        if !self.created.contains(&root) {
            if root.exists() {
                fs::remove_dir_all(&root).map_err(io_err(&root))?;
            }
            mkdir(&root)?;
            self.created.insert(root.clone());
        }
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            mkdir(parent)?;
        }
        fs::write(&path, bytes).map_err(io_err(&path))
    }

    /// Ends an appended file as an output of its own: its buffer is written out and it is no
    /// longer listed; returns its path, for the caller to turn into another file and remove.
    pub(crate) fn take(&mut self, rel: &Path) -> Result<PathBuf> {
        let path = self.dir.join(rel);
        if let Some(buf) = self.buffers.remove(&path) {
            self.buffered = self.buffered.saturating_sub(buf.len());
            if let Some(parent) = path.parent() {
                mkdir(parent)?;
            }
            let mut f = if self.created.contains(&path) {
                OpenOptions::new().append(true).open(&path)
            } else {
                File::create(&path)
            }
            .map_err(io_err(&path))?;
            f.write_all(&buf).map_err(io_err(&path))?;
        }
        self.created.remove(&path);
        Ok(path)
    }

    /// Lists a file the caller wrote itself (relative path) among the outputs; returns its path.
    pub(crate) fn register(&mut self, rel: &Path) -> PathBuf {
        let path = self.dir.join(rel);
        self.created.insert(path.clone());
        path
    }

    /// Writes a whole small file at once (relative path).
    pub(crate) fn write_file(&mut self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(rel);
        fs::write(&path, bytes).map_err(io_err(&path))?;
        self.created.insert(path);
        Ok(())
    }

    /// Flushes everything; returns every file written, sorted.
    pub(crate) fn finish(mut self) -> Result<Vec<PathBuf>> {
        self.flush_buffers()?;
        let dir = self.dir.clone();
        for c in [
            self.stop_requests,
            self.truth_records,
            self.truth_persons,
            self.truth_stops,
            self.truth_identifiers,
        ] {
            let name = c.name;
            if c.finish()? {
                self.created.insert(dir.join(name));
            }
        }
        if let Some(link) = self.link {
            link.finish()?;
            self.created.insert(dir.join("records.csv"));
            self.created.insert(dir.join("truth.csv"));
        }
        Ok(self.created.into_iter().collect())
    }
}
