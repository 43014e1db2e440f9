//! The anonymization error type.

use std::path::PathBuf;

/// Result alias for anonymization.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a release could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the research store failed.
    #[error(transparent)]
    Store(#[from] tsumugi_store::Error),
    /// Writing the package failed.
    #[error("ANON0001Io: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error("ANON0002InvalidConfig: {0}")]
    InvalidConfig(&'static str),
    /// k-anonymity would need more suppression than the configuration allows.
    #[error(
        "ANON0003KUnreachable: k={k} needs {suppressed} of {total} persons suppressed, over the limit of {limit_pct:.1}%"
    )]
    PolicyKUnreachable {
        /// The k asked for.
        k: u32,
        /// Persons that would be suppressed.
        suppressed: usize,
        /// Persons eligible.
        total: usize,
        /// The configured limit in percent.
        limit_pct: f64,
    },
    /// The release folder already exists: releases are never overwritten.
    #[error("ANON0004ReleaseExists: {0} already exists; a release is never overwritten")]
    ReleaseExists(PathBuf),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
