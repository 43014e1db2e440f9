//! One entry point over every reader: a format and a byte stream in, records out.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::{Format, RecordOutcome};

/// The records of one submission, whatever its format.
pub type Records = Box<dyn Iterator<Item = RecordOutcome> + Send>;

/// Why a submission cannot be read at all (per-record problems are diagnostics instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// No reader for this format from a byte stream (yet).
    #[error("FMT0001Unsupported: {0} submissions cannot be read from a single stream yet")]
    Unsupported(&'static str),
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
/// [`OpenError::Unsupported`] for formats that need more than a byte stream.
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
        other => Err(OpenError::Unsupported(other.as_str())),
    }
}

/// Largest single 特定健診 CDA document read whole (one person's checkup is a few dozen KiB).
const MAX_DOCUMENT_BYTES: u64 = 32 * 1024 * 1024;

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
        other => open(other, &label, Box::new(BufReader::new(file))),
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
