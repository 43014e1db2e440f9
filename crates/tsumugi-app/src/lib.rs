//! The use cases of tsumugi as plain functions over a [`Ctx`].
//!
//! This is the one crate that wires the zones together: it alone depends on
//! `tsumugi-identity` (the vault) as well as on the research store, governance, anonymization
//! and statistics. The CLI and the HTTP server are thin adapters over these functions: they
//! parse, call, and render.
//!
//! - [`init`] / [`open`]: the data directory ([`DataDir`]) and its [`Ctx`].
//! - [`ingest`]: providers, notice logs, submissions (staged, parsed, receipted).
//! - [`optout`]: stop requests, matched, enforced and purged with a deletion record.
//! - [`linkage`]: the probabilistic linkage engine over files (evaluate, explain, bench).
//! - [`research`]: linkage and the research-store build (notice waiting periods applied).
//! - [`release`]: applications, committee approval, anonymized releases.
//! - [`statistics`]: checked aggregates.
//! - [`audit`]: checkpoint and verify the hash chain.
//! - [`demo`]: all of it on a synthetic population.
//!
//! Time and randomness come in through the context ([`Clock`]; a seed or the OS CSPRNG).

pub mod anonymize;
pub mod audit;
pub mod bench;
mod clock;
mod context;
pub mod demo;
mod error;
pub mod ingest;
pub mod linkage;
pub mod optout;
mod rejections;
pub mod release;
pub mod research;
pub mod statistics;

pub use crate::audit::AuditStatus;
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::context::{
    Ctx, DataDir, DataDirConfig, DatabaseUrls, FORMAT_VERSION, OpenOptions, init, open,
};
pub use crate::error::{Error, Result};
/// Submission formats, as the readers know them.
pub use tsumugi_formats::Format;
