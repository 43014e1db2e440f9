//! The one error type of `tsumugi-synth`.

use std::path::PathBuf;

/// Why generation failed. Messages never contain generated identifiers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `SYN0001InvalidConfig`: the configuration cannot be generated (e.g. zero persons).
    #[error("SYN0001InvalidConfig: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
    /// `SYN0002InvalidRefData`: an embedded reference table is malformed (a tsumugi bug).
    #[error("SYN0002InvalidRefData: table {table} row {row}: {reason}")]
    InvalidRefData {
        /// The table (`municipalities`, `names` …).
        table: &'static str,
        /// 1-based data row.
        row: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// `SYN0003Io`: a file could not be created or written.
    #[error("SYN0003Io: {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `SYN0004Csv`: a CSV output could not be written.
    #[error("SYN0004Csv: {file}: {source}")]
    Csv {
        /// The output file name.
        file: &'static str,
        /// The underlying error.
        source: csv::Error,
    },
    /// `SYN0005Json`: a FHIR bundle could not be serialized.
    #[error("SYN0005Json: {0}")]
    Json(#[from] serde_json::Error),
    /// `SYN0099Internal`: an impossible state; the cause is a tsumugi bug.
    #[error("SYN0099Internal: {0} (this is a tsumugi bug)")]
    Internal(&'static str),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
