//! Anonymization (匿名加工) and pseudonymization (仮名加工) of tables and of the research
//! store's lifecourse into release packages.
//!
//! Two entry points share one engine:
//! - [`anonymize_file`] (`tsumugi anonymize`): any CSV or Parquet table under an `anon.toml`,
//!   the way an analyst uses ARX;
//! - [`write_lifecourse_release`]: persons and their events from the research store, privacy
//!   counted in persons, peculiar codes and extreme values treated, per-release pseudonyms.
//!
//! The engine ([`QuasiTable`]) finds the optimal full-domain generalization of the
//! quasi-identifiers under the privacy models ([`Criterion`]) within a suppression limit:
//!
//! ```
//! use tsumugi_anon::{Builder, Column, Criterion, Metric, Policy, QuasiTable, Strategy};
//! let ages: Vec<String> = (0..40).map(|i| (30 + i % 20).to_string()).collect();
//! let mut values: Vec<String> = ages.clone();
//! values.sort();
//! values.dedup();
//! let codes = ages.iter().map(|a| values.binary_search(a).unwrap() as u32).collect();
//! let age = Column { name: "age".into(), values, codes };
//! let h = Builder::Age.build(age.values.iter().map(String::as_str)).unwrap();
//! let qt = QuasiTable::new(&[(&age, &h)], None).unwrap();
//! let policy = Policy {
//!     criteria: vec![Criterion::KAnonymity { k: 5 }],
//!     suppression_limit: 0.0,
//!     metric: Metric::default(),
//!     strategy: Strategy::Optimal,
//! };
//! let best = qt.search(&policy).unwrap().optimum.unwrap();
//! // Each age holds 2 persons; a 5-year band holds 10, enough for k = 5.
//! assert_eq!(best.levels, [1]);
//! ```

mod anonymize;
mod builders;
mod error;
mod groupify;
mod hierarchy;
mod lattice;
mod lifecourse;
mod local;
mod manifest;
mod metric;
mod package;
#[cfg(feature = "scale-out")]
mod plan;
mod population;
mod privacy;
mod quasi;
mod report_html;
mod risk;
mod search;
mod table;
mod table_report;

pub use crate::anonymize::{
    AnonConfig, AnonymizeReport, ColumnConfig, HierarchySpec, Role, StepSeconds, Transform,
    anonymize_file,
};
pub use crate::builders::{Builder, OrderLabel};
pub use crate::error::{Error, Result};
pub use crate::hierarchy::{Hierarchy, HierarchyError};
pub use crate::lattice::Lattice;
pub use crate::lifecourse::{
    CodeStats, DatePolicy, FirstYear, LifecourseConfig, LifecourseRelease, LifecourseReport,
    Measures, QuasiLevel, RegionDetail, derive_release_key, pseudonym, write_lifecourse_release,
};
pub use crate::local::{LocalRecoding, LocalSummary};
pub use crate::manifest::{ApprovalRef, FileEntry, Manifest};
pub use crate::metric::{Aggregate, InfoLoss, Metric};
#[cfg(feature = "scale-out")]
pub use crate::plan::{
    ClassCounts, TupleCounts, TupleSpec, classes_plan, count_classes, count_tuples, read_table,
    sensitive_plan, tuples_plan,
};
pub use crate::population::{
    PopulationUniqueness, UniquenessModel, japan_population_2020, population_uniqueness,
};
pub use crate::privacy::Criterion;
pub use crate::quasi::{Policy, QuasiTable, Sensitive, Strategy, TupleSensitive};
pub use crate::risk::{JournalistRisk, Risk};

pub use crate::search::{NodeResult, SearchResult, SearchStats};
pub use crate::table::{Column, CsvFormat, Table, detect_delimiter};

/// Why a lifecourse release meets its claims (k persons per class, peculiar codes, cuts,
/// opt-outs), why δ-presence holds over a research subset, and why local recoding releases
/// only classes that meet every model.
#[doc = include_str!("../docs/guarantees/lifecourse_release.md")]
#[doc = include_str!("../docs/guarantees/d_presence.md")]
#[doc = include_str!("../docs/guarantees/recode_locally.md")]
pub mod guarantees {}
