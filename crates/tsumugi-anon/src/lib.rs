//! Anonymization (匿名加工) of the research store into release packages.
//!
//! The foundation release ([`write_release`]) applies the measures the enforcement rules name:
//! identifiers are absent by construction (the research store has none), person keys become
//! per-release keyed pseudonyms (HMAC-SHA-256 with a key unique to the release), dates are
//! coarsened to months, rare codes (held by fewer than k persons) are generalized along the
//! ICD-10 hierarchy or removed, and the quasi-identifiers sex × 5-year age band (90+) ×
//! municipality are made k-anonymous **counted in persons** by coarsening municipalities to
//! prefectures and, where that is not enough, suppressing persons ([`k_anonymize`]).
//!
//! ```
//! use tsumugi_anon::{k_anonymize, QuasiRow};
//! let rows: Vec<QuasiRow> = (0..12)
//!     .map(|i| QuasiRow { sex: "F".into(), age_band: "40-44".into(), municipality: format!("13101{}", i % 2) })
//!     .collect();
//! let out = k_anonymize(&rows, 5);
//! assert!(out.classes().values().all(|&n| n >= 5));
//! ```

mod anonymize;
mod builders;
mod error;
mod groupify;
mod hierarchy;
mod kanon;
mod lattice;
mod manifest;
mod metric;
mod privacy;
mod quasi;
mod release;
mod risk;
mod search;
mod table;

pub use crate::anonymize::{
    AnonConfig, AnonymizeReport, ColumnConfig, HierarchySpec, Role, StepSeconds, Transform,
    anonymize_file,
};
pub use crate::builders::Builder;
pub use crate::error::{Error, Result};
pub use crate::hierarchy::{Hierarchy, HierarchyError};
pub use crate::kanon::{Generalized, KAnonymity, QuasiRow, age_band, k_anonymize, region_levels};
pub use crate::lattice::Lattice;
pub use crate::manifest::{FileEntry, Manifest};
pub use crate::metric::{Aggregate, InfoLoss, Metric};
pub use crate::privacy::Criterion;
pub use crate::quasi::{Policy, QuasiTable, Sensitive, Strategy};
pub use crate::release::{
    ReleaseConfig, ReleaseSummary, derive_release_key, pseudonym, write_release,
};
pub use crate::risk::Risk;
pub use crate::search::{NodeResult, SearchResult, SearchStats};
pub use crate::table::{Column, CsvFormat, Table, detect_delimiter};
