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
    InvalidConfig(String),
    /// An input table that cannot be read.
    #[error("ANON0005Input: {path}: line {line}: {reason}")]
    Input {
        /// The file.
        path: PathBuf,
        /// 1-based line (0: the file as a whole).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A value of a quasi-identifier that its hierarchy does not have.
    #[error(
        "ANON0006ValueNotInHierarchy: column {column:?}, row {row}: value {value:?} is not a leaf of its hierarchy; add a row for it"
    )]
    ValueNotInHierarchy {
        /// The column.
        column: String,
        /// 1-based data row (0 for grouped input, which has no row numbers).
        row: usize,
        /// The value.
        value: String,
    },
    /// A hierarchy that cannot be used.
    #[error("{context}: {source}")]
    Hierarchy {
        /// Which column or file.
        context: String,
        /// Why.
        source: crate::hierarchy::HierarchyError,
    },
    /// The lattice is too large to number (use the heuristic search or fewer levels).
    #[error(
        "ANON0007LatticeTooLarge: the generalization lattice has more nodes than can be numbered"
    )]
    LatticeTooLarge,
    /// No node of the lattice meets the models within the suppression limit.
    #[error(
        "ANON0008NoSolution: no generalization meets the privacy models within the suppression limit ({checked} nodes checked); raise the limit, coarsen the hierarchies or relax the models"
    )]
    NoSolution {
        /// Nodes counted.
        checked: u64,
    },
    /// No person may be released (the store is empty, or every person is excluded).
    #[error(
        "ANON0009NothingToRelease: no person in the research store may be released (all {excluded} excluded by stop requests or born after the reference date)"
    )]
    NothingToRelease {
        /// Persons left out.
        excluded: u64,
    },
    /// A DataFusion plan could not be built or run (feature `scale-out`).
    #[cfg(feature = "scale-out")]
    #[error("ANON0010Plan: {context}: {source}")]
    Plan {
        /// Which plan or step, and the input it read.
        context: String,
        /// DataFusion's error.
        source: datafusion::error::DataFusionError,
    },
    /// A plan's output is not what the plan builds: a bug in tsumugi, not in the input.
    #[error("ANON0011Internal: {0} (this is a tsumugi bug; please report it)")]
    Internal(String),
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
