//! One entry point over every reader: a format and a seekable byte source in, records out.
//!
//! [`open`] takes a [`Source`] — bytes readable in order and at any offset: a file on disk
//! ([`open_file`]) or the staged copy of a submission (`tsumugi_identity::StagedReader`). Stream
//! formats read it front to back; ZIPs (a 特定健診 submission ZIP, SS-MIX2 storage sent as a ZIP)
//! walk their central directory record by record and read one entry at a time
//! (`crate::zipread`), so memory is bounded by one entry whatever the archive's size. SS-MIX2
//! storage is read in path order: a ZIP that lists its entries so is streamed; one that does not
//! has its entry names sorted first (memory per entry name). Every entry is read decompressed up
//! to a cap ([`crate::kenshin::MAX_ENTRY_BYTES`], [`MAX_STORAGE_ENTRY_BYTES`]): a larger entry
//! (a zip bomb) is rejected with a diagnostic that says so, and the next entry is read.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

use crate::zipread::{self, BlockCache, DirCursor, Entry, EntryError, find_dir};
use crate::{Format, RecordOutcome};

/// The records of one submission, whatever its format.
pub type Records = Box<dyn Iterator<Item = RecordOutcome> + Send>;

/// Why a submission cannot be read at all (per-record problems are diagnostics instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Mapped CSV is read only with its mapping (see [`open_mapped`]).
    #[error("FMT0006NeedsMapping: a mapped CSV needs its mapping (--mapping FILE.toml)")]
    NeedsMapping,
    /// A folder was given, but only SS-MIX2 storage is read from folders.
    #[error("FMT0002NotAFolderFormat: {0} is read from files, not from a folder")]
    NotAFolderFormat(&'static str),
    /// The file could not be opened or read.
    #[error("FMT0003Io: {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A single XML document is larger than one person's document can be.
    #[error("FMT0004DocumentTooLarge: one document over {0} bytes; send a submission ZIP instead")]
    DocumentTooLarge(u64),
    /// The SS-MIX2 storage folder could not be walked.
    #[error(transparent)]
    Ssmix2(#[from] crate::ssmix2::Ssmix2Error),
}

/// A submission's bytes: buffered, and seekable so that ZIPs are read in place.
pub trait Source: BufRead + Seek + Send {}

impl<T: BufRead + Seek + Send> Source for T {}

/// Opens a reader of `format` over `source`; `file_label` names the file in diagnostics.
///
/// # Errors
/// [`OpenError::NeedsMapping`] for mapped CSV; [`OpenError::Io`] and
/// [`OpenError::DocumentTooLarge`] for a single CDA document (read whole); [`OpenError::Io`] for
/// SS-MIX2 storage that is neither a folder stream nor a ZIP.
pub fn open(
    format: Format,
    file_label: &str,
    source: Box<dyn Source>,
) -> Result<Records, OpenError> {
    match format {
        Format::Fhir => Ok(Box::new(crate::fhir::FhirReader::new(file_label, source))),
        Format::Uke => Ok(Box::new(crate::uke::UkeReader::new(
            file_label, source, None,
        ))),
        Format::Kaigo => Ok(Box::new(crate::kaigo::KaigoReader::new(file_label, source))),
        Format::Ssmix2 => Ok(Box::new(PatientGroups::new(
            file_label,
            storage_entries(file_label, source)?,
        ))),
        Format::KenshinZip => Ok(Box::new(crate::kenshin::read_submission_zip(
            file_label, source,
        ))),
        Format::KenshinXml => {
            let mut xml = Vec::new();
            source
                .take(MAX_DOCUMENT_BYTES + 1)
                .read_to_end(&mut xml)
                .map_err(|source| OpenError::Io {
                    file: file_label.to_owned(),
                    source,
                })?;
            if xml.len() as u64 > MAX_DOCUMENT_BYTES {
                return Err(OpenError::DocumentTooLarge(MAX_DOCUMENT_BYTES));
            }
            Ok(Box::new(std::iter::once(crate::kenshin::read_cda(
                file_label, &xml,
            ))))
        }
        Format::MappedCsv => Err(OpenError::NeedsMapping),
    }
}

/// Opens a mapped-CSV reader: municipal exports need their TOML mapping.
pub fn open_mapped(
    file_label: &str,
    mapping: &crate::csvmap::Mapping,
    source: Box<dyn BufRead + Send>,
) -> Records {
    Box::new(crate::csvmap::MappedCsvReader::new(
        file_label, mapping, source,
    ))
}

/// Largest single 特定健診 CDA document read whole (one person's checkup is a few dozen KiB).
const MAX_DOCUMENT_BYTES: u64 = 32 * 1024 * 1024;

/// Largest SS-MIX2 file read from a storage ZIP, decompressed (64 MiB, as in a folder stream).
pub const MAX_STORAGE_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// Why one storage entry was not read.
enum EntryFault {
    /// The archive cannot be read further.
    Broken,
    /// Entry `n` (1-based position in the archive) is over [`MAX_STORAGE_ENTRY_BYTES`].
    TooLarge(usize),
    /// Entry `n`'s name escapes the archive (`..`, absolute path, drive letter).
    Unsafe(usize),
}

type Entries = Box<dyn Iterator<Item = Result<(String, Vec<u8>), EntryFault>> + Send>;

/// The files of SS-MIX2 storage sent as a folder stream or a ZIP, in path order.
fn storage_entries(file_label: &str, mut source: Box<dyn Source>) -> Result<Entries, OpenError> {
    let io_err = |source| OpenError::Io {
        file: file_label.to_owned(),
        source,
    };
    let head = source.fill_buf().map_err(io_err)?;
    if head.starts_with(crate::folder::FOLDER_MAGIC) {
        return Ok(Box::new(
            crate::folder::FolderEntries::new(source)
                .map_err(io_err)?
                .map(|e| e.map_err(|_| EntryFault::Broken)),
        ));
    }
    let bad_zip = |e: io::Error| io_err(io::Error::new(io::ErrorKind::InvalidData, e));
    let mut archive = BlockCache::new(source).map_err(io_err)?;
    let dir = find_dir(&mut archive).map_err(bad_zip)?;
    // Entries are read in path order. A ZIP written by walking the tree in order (as most are)
    // lists them so already: checked in a first pass that keeps one name, then streamed. Only
    // an archive listed out of order costs memory per entry: its names, sorted.
    let mut in_order = true;
    let mut previous = String::new();
    let mut pass = DirCursor::new(&dir);
    while let Some(entry) = pass.next(&mut archive) {
        let entry = entry.map_err(bad_zip)?;
        if entry.name < previous {
            in_order = false;
            break;
        }
        previous = entry.name;
    }
    let order = if in_order {
        Order::Listed(DirCursor::new(&dir))
    } else {
        let mut all = Vec::new();
        let mut pass = DirCursor::new(&dir);
        while let Some(entry) = pass.next(&mut archive) {
            all.push(entry.map_err(bad_zip)?);
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Order::Sorted(all.into_iter())
    };
    Ok(Box::new(StorageZip { archive, order }))
}

/// The order a storage ZIP's entries are read in.
enum Order {
    /// As the central directory lists them (already in path order).
    Listed(DirCursor),
    /// Sorted by path.
    Sorted(std::vec::IntoIter<Entry>),
}

/// SS-MIX2 storage read from a ZIP, one file at a time, in path order.
struct StorageZip {
    archive: BlockCache<Box<dyn Source>>,
    order: Order,
}

impl Iterator for StorageZip {
    type Item = Result<(String, Vec<u8>), EntryFault>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let entry = match &mut self.order {
                Order::Listed(cursor) => match cursor.next(&mut self.archive)? {
                    Ok(e) => e,
                    Err(_) => return Some(Err(EntryFault::Broken)),
                },
                Order::Sorted(entries) => entries.next()?,
            };
            if entry.name.ends_with('/') {
                continue;
            }
            if entry.name.is_empty() || crate::kenshin::is_unsafe_entry_name(&entry.name) {
                return Some(Err(EntryFault::Unsafe(entry.index + 1)));
            }
            return Some(
                match zipread::read_entry(&mut self.archive, &entry, MAX_STORAGE_ENTRY_BYTES) {
                    Ok(bytes) => Ok((entry.name, bytes)),
                    Err(EntryError::TooLarge) => Err(EntryFault::TooLarge(entry.index + 1)),
                    Err(EntryError::Unreadable) => Err(EntryFault::Broken),
                },
            );
        }
    }
}

/// Reads SS-MIX2 entries patient by patient (entries are in path order, so a patient's files
/// are contiguous), numbering patients across the whole submission.
struct PatientGroups {
    label: String,
    entries: std::iter::Peekable<Entries>,
    pending: std::collections::VecDeque<RecordOutcome>,
    n_patients: u64,
    failed: bool,
}

impl PatientGroups {
    fn new(label: &str, entries: Entries) -> PatientGroups {
        PatientGroups {
            label: label.to_owned(),
            entries: entries.peekable(),
            pending: std::collections::VecDeque::new(),
            n_patients: 0,
            failed: false,
        }
    }
}

/// The patient folder of a storage path: its first three components.
fn patient_of(path: &str) -> String {
    path.trim_start_matches('/')
        .splitn(4, '/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/")
}

impl Iterator for PatientGroups {
    type Item = RecordOutcome;

    fn next(&mut self) -> Option<RecordOutcome> {
        loop {
            if let Some(o) = self.pending.pop_front() {
                return Some(o);
            }
            if self.failed {
                return None;
            }
            let (first_path, first) = match self.entries.next()? {
                Ok(e) => e,
                Err(fault) => {
                    self.n_patients += 1;
                    let (file, code, ja, en) = match fault {
                        EntryFault::Broken => {
                            self.failed = true;
                            (
                                self.label.clone(),
                                "FMT0005TruncatedArchive",
                                "提出物が途中で切れているか壊れています".to_owned(),
                                "the submission archive is truncated or damaged".to_owned(),
                            )
                        }
                        EntryFault::TooLarge(n) => (
                            format!("{}:entry{n}", self.label),
                            "FMT0008EntryTooLarge",
                            format!(
                                "展開後のサイズが上限 {MAX_STORAGE_ENTRY_BYTES} バイトを超えるため読みません"
                            ),
                            format!(
                                "the entry decompresses to more than {MAX_STORAGE_ENTRY_BYTES} bytes and is not read"
                            ),
                        ),
                        EntryFault::Unsafe(n) => (
                            format!("{}:entry{n}", self.label),
                            "FMT0007UnsafeEntryName",
                            "ファイル名がアーカイブの外を指しています（..、絶対パス、ドライブ名）"
                                .to_owned(),
                            "the entry name escapes the archive (.., absolute path, drive letter)"
                                .to_owned(),
                        ),
                    };
                    let d = tsumugi_model::Diagnostic {
                        file,
                        record: self.n_patients,
                        line: None,
                        field: None,
                        code: code.to_owned(),
                        reason_ja: ja,
                        reason_en: en,
                        severity: tsumugi_model::Severity::Error,
                    };
                    return Some(RecordOutcome {
                        record: self.n_patients,
                        line: None,
                        result: Err(d),
                        warnings: Vec::new(),
                    });
                }
            };
            let patient = patient_of(&first_path);
            let mut group = vec![(first_path, first)];
            while let Some(Ok((path, _))) = self.entries.peek() {
                if patient_of(path) != patient {
                    break;
                }
                if let Some(Ok(e)) = self.entries.next() {
                    group.push(e);
                }
            }
            for mut o in crate::ssmix2::from_entries(&self.label, group) {
                self.n_patients += 1;
                o.record = self.n_patients;
                if let Err(d) = &mut o.result {
                    d.record = self.n_patients;
                }
                for w in &mut o.warnings {
                    w.record = self.n_patients;
                }
                self.pending.push_back(o);
            }
        }
    }
}

/// Opens a reader over a file on disk: [`open`] over the file, buffered (ZIPs are read in
/// place, not loaded).
///
/// # Errors
/// As [`open`], and [`OpenError::Io`].
pub fn open_file(format: Format, path: &Path) -> Result<Records, OpenError> {
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = File::open(path).map_err(|source| OpenError::Io {
        file: label.clone(),
        source,
    })?;
    open(
        format,
        &label,
        Box::new(BufReader::with_capacity(64 * 1024, file)),
    )
}

/// Opens a reader over a folder: SS-MIX2 標準化ストレージ, walked in path order, one patient at
/// a time.
///
/// # Errors
/// [`OpenError::NotAFolderFormat`] for other formats; [`OpenError::Ssmix2`] when the tree
/// cannot be walked.
pub fn open_folder(format: Format, root: &Path) -> Result<Records, OpenError> {
    match format {
        Format::Ssmix2 => Ok(Box::new(crate::ssmix2::read_storage(root)?)),
        other => Err(OpenError::NotAFolderFormat(other.as_str())),
    }
}
