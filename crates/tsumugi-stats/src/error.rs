//! The statistics error type.

/// Result alias for statistics.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a statistic could not be computed. Messages name fields and files, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A table's labels and counts do not fit together.
    #[error("STA0001InvalidTable: {reason}")]
    InvalidTable {
        /// What is wrong.
        reason: &'static str,
    },
    /// A query specification is unusable.
    #[error("STA0002InvalidSpec: {field}: {reason}")]
    InvalidSpec {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The research store could not be read.
    #[error("STA0003Storage: {0}")]
    Storage(#[from] tsumugi_store::Error),
}
