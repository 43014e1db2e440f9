//! One entry point over every reader: a format and a byte stream in, records out.

use std::io::BufRead;

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
        other => Err(OpenError::Unsupported(other.as_str())),
    }
}
