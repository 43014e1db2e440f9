//! One entry point over every reader: a format and a byte stream in, records out.

use std::io::BufRead;
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
        other => Err(OpenError::Unsupported(other.as_str())),
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
