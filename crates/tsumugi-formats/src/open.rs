//! One entry point over every reader: a format and a byte stream in, records out.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

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

/// Opens a reader of `format` over `source`; `file_label` names the file in diagnostics.
///
/// # Errors
/// [`OpenError::NeedsMapping`] for mapped CSV; [`OpenError::Io`] and
/// [`OpenError::DocumentTooLarge`] for formats read whole (a CDA document, a ZIP).
pub fn open(
    format: Format,
    file_label: &str,
    source: Box<dyn BufRead + Send>,
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
        Format::KenshinZip => {
            let zip = read_capped(file_label, source, MAX_ARCHIVE_BYTES)?;
            Ok(Box::new(crate::kenshin::read_submission_zip(
                file_label,
                io::Cursor::new(zip),
            )))
        }
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

/// Largest ZIP read from a stream into memory (ZIP readers need random access).
const MAX_ARCHIVE_BYTES: u64 = 1024 * 1024 * 1024;

fn read_capped(
    file_label: &str,
    source: Box<dyn BufRead + Send>,
    cap: u64,
) -> Result<Vec<u8>, OpenError> {
    let mut bytes = Vec::new();
    source
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| OpenError::Io {
            file: file_label.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > cap {
        return Err(OpenError::DocumentTooLarge(cap));
    }
    Ok(bytes)
}

type Entries = Box<dyn Iterator<Item = io::Result<(String, Vec<u8>)>> + Send>;

/// The files of SS-MIX2 storage sent as a folder stream or a ZIP, in path order.
fn storage_entries(
    file_label: &str,
    mut source: Box<dyn BufRead + Send>,
) -> Result<Entries, OpenError> {
    let io_err = |source| OpenError::Io {
        file: file_label.to_owned(),
        source,
    };
    let head = source.fill_buf().map_err(io_err)?;
    if head.starts_with(crate::folder::FOLDER_MAGIC) {
        return Ok(Box::new(
            crate::folder::FolderEntries::new(source).map_err(io_err)?,
        ));
    }
    let zip = read_capped(file_label, source, MAX_ARCHIVE_BYTES)?;
    let mut archive = zip::ZipArchive::new(io::Cursor::new(zip))
        .map_err(|e| io_err(io::Error::new(io::ErrorKind::InvalidData, e)))?;
    let mut names: Vec<(String, usize)> = (0..archive.len())
        .filter_map(|i| {
            let f = archive.by_index(i).ok()?;
            let name = f.name().ok()?.into_owned();
            (f.is_file() && f.enclosed_name().is_some()).then_some((name, i))
        })
        .collect();
    names.sort();
    Ok(Box::new(names.into_iter().map(move |(name, i)| {
        let mut f = archive
            .by_index(i)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        Ok((name, bytes))
    })))
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
                Err(_) => {
                    self.failed = true;
                    self.n_patients += 1;
                    let d = tsumugi_model::Diagnostic {
                        file: self.label.clone(),
                        record: self.n_patients,
                        line: None,
                        field: None,
                        code: "FMT0005TruncatedArchive".to_owned(),
                        reason_ja: "提出物が途中で切れているか壊れています".to_owned(),
                        reason_en: "the submission archive is truncated or damaged".to_owned(),
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

/// Opens a reader over a file on disk: like [`open`], plus the formats that need random access
/// (a 特定健診 submission ZIP reads its central directory first).
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
    match format {
        Format::KenshinZip => Ok(Box::new(crate::kenshin::read_submission_zip(&label, file))),
        other => open(
            other,
            &label,
            Box::new(BufReader::with_capacity(64 * 1024, file)),
        ),
    }
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
