//! The application layer's error type: one enum over the zones' errors, plus the use cases' own.

use std::path::PathBuf;

/// Result alias for use cases.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a use case failed. Every variant names what to fix; none carries an identifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage.
    #[error(transparent)]
    Store(#[from] tsumugi_store::Error),
    /// The identity zone.
    #[error(transparent)]
    Identity(#[from] tsumugi_identity::Error),
    /// Governance: audit, records, applications.
    #[error(transparent)]
    Govern(#[from] tsumugi_govern::Error),
    /// Anonymization.
    #[error(transparent)]
    Anon(#[from] tsumugi_anon::Error),
    /// Statistics.
    #[error(transparent)]
    Stats(#[from] tsumugi_stats::Error),
    /// Synthetic data generation.
    #[error(transparent)]
    Synth(#[from] tsumugi_synth::Error),
    /// A file could not be read or written.
    #[error("APP0001Io: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The folder is not a tsumugi data directory (or is one of another format version).
    #[error(
        "APP0002NotADataDir: {0} is not a tsumugi data directory; create one with `tsumugi init {0}`"
    )]
    NotADataDir(PathBuf),
    /// `init` was pointed at a folder that already holds something.
    #[error("APP0003DataDirExists: {0} exists and is not empty; choose a new folder")]
    DataDirExists(PathBuf),
    /// A provider must be registered before it submits.
    #[error("APP0004UnknownProvider: provider {0} is not registered; register it first")]
    UnknownProvider(String),
    /// An input file (CSV of notices, stop requests, providers) is malformed.
    #[error("APP0005InvalidInput: {file} line {line}: {reason}")]
    InvalidInput {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// What is wrong (never the value).
        reason: String,
    },
    /// The research store has not been built yet.
    #[error(
        "APP0006NoLifecourse: the research store is empty; run `tsumugi build` after ingesting"
    )]
    NoLifecourse,
    /// The audit chain is broken.
    #[error("APP0007AuditChainBroken: audit chain broken at entry {seq}: {reason}")]
    AuditChainBroken {
        /// The first bad entry.
        seq: i64,
        /// Why.
        reason: String,
    },
    /// The submission's format could not be recognised.
    #[error("APP0008UnknownFormat: cannot tell the format of {0}; name it with --format")]
    UnknownFormat(String),
    /// A CSV mapping file is not valid.
    #[error("APP0009InvalidMapping: {0}")]
    InvalidMapping(String),
    /// The format has no reader for this kind of submission.
    #[error(transparent)]
    Format(#[from] tsumugi_formats::OpenError),
    /// The approval is not for a dataset.
    #[error(
        "APP0010PolicyWrongKind: application {0} is approved for statistics, not for a dataset; a release needs an anonymized or pseudonymized application"
    )]
    PolicyWrongKind(String),
    /// A state the code should make impossible.
    #[error("APP0099Internal: {0} (this is a tsumugi bug)")]
    Internal(String),
}

impl Error {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
