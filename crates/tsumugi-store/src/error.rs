//! The store's error type.

use std::path::PathBuf;

/// Result alias for the store.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a storage operation failed. Messages name files, tables and key names, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database URL was not understood.
    #[error(
        "STO0001InvalidDatabaseUrl: unsupported database url scheme (use sqlite:// or postgres://)"
    )]
    InvalidDatabaseUrl,
    /// The database rejected a statement or could not be reached.
    #[error("STO0002Database: {context}: {source}")]
    Database {
        /// What was being done.
        context: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// Migrations failed.
    #[error("STO0003Migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A file could not be read or written.
    #[error("STO0004Io: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A key file is missing, malformed, or readable by others.
    #[error("STO0005KeyUnavailable: key {name}: {reason}")]
    KeyUnavailable {
        /// The key's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A Parquet file could not be written or read (wrong key, corruption, schema mismatch).
    #[error("STO0006Parquet: {path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The Parquet error.
        source: parquet::errors::ParquetError,
    },
    /// An Arrow batch could not be built or read.
    #[error("STO0007Arrow: {path}: {source}")]
    Arrow {
        /// The file.
        path: PathBuf,
        /// The Arrow error.
        source: arrow_schema::ArrowError,
    },
    /// A stored file does not have the schema this version writes.
    #[error("STO0008SchemaMismatch: {path}: {reason}")]
    SchemaMismatch {
        /// The file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
}

impl Error {
    /// Wraps a database error with what was being done.
    pub fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
        move |source| Error::Database { context, source }
    }

    /// Wraps an I/O error with the path.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
