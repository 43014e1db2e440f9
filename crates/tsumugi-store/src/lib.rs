//! Storage for tsumugi: one crate that knows every storage encoding.
//!
//! - [`Database`]: an SQL pool over SQLite (the embedded default) or PostgreSQL (production),
//!   chosen by URL at run time through sqlx's `Any` driver, with per-backend migrations. The
//!   registry's schema lives here ([`REGISTRY_SQLITE`], [`REGISTRY_POSTGRES`]); the identity vault
//!   brings its own migrations but uses the same type.
//! - [`ResearchStore`]: the research zone's Parquet files, every one written with Parquet modular
//!   encryption (footer and all columns, AES-GCM) under the research key. Rows are keyed by opaque
//!   integers only — record keys at ingest, person keys after linkage — and never by identifiers.
//! - [`read_text_rows`] / [`TextTableWriter`]: plain Parquet tables users bring or take away
//!   (linkage inputs and pairs), never research data.
//! - [`KeyProvider`]: where keys come from. [`FileKeyProvider`] keeps them in the data
//!   directory's `keys/` folder with mode 0600; production plugs an external key manager in behind
//!   the same trait.
//!
//! ```no_run
//! # async fn f() -> tsumugi_store::Result<()> {
//! use tsumugi_store::{Database, REGISTRY_SQLITE, REGISTRY_POSTGRES};
//! let db = Database::connect("sqlite:///tmp/registry.db").await?;
//! db.migrate(&REGISTRY_SQLITE, &REGISTRY_POSTGRES).await?;
//! # Ok(()) }
//! ```

mod atomic;
mod db;
mod error;
mod keys;
pub mod registry;
mod research;
mod table;
pub mod testing;

pub use crate::atomic::{AtomicFile, write_atomically};
pub use crate::db::{Backend, Database, values_placeholders};
pub use crate::error::{Error, Result};
pub use crate::keys::{FileKeyProvider, KeyName, KeyProvider, SecretKey};
pub use crate::research::{EventFileWriter, EventRow, LifecourseBuild, PersonRow, ResearchStore};
pub use crate::table::{
    Cell, ColumnKind, TextRow, TextTableWriter, read_text_rows, text_table_header,
};

/// Registry migrations for SQLite.
pub static REGISTRY_SQLITE: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/registry/sqlite");
/// Registry migrations for PostgreSQL.
pub static REGISTRY_POSTGRES: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/registry/postgres");

/// Re-exported so that crates using [`Database`] need not name sqlx's version themselves.
pub use sqlx;
