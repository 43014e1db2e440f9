//! Statistics of tsumugi: cohort counts over the research store, and disclosure control of the
//! tables that leave the processor.
//!
//! - [`CountTable`]: persons per (row, column) with labels; margins are derived, never stored,
//!   so they always agree with the cells.
//! - [`suppress`] applies the NDB publication rule ([`SuppressionRules::ndb`]: no cell of 1–9
//!   persons, 0 allowed) to every cell *and every margin*, then adds secondary suppressions until
//!   no suppressed value can be derived from the published ones. Its `# Guarantee` section states
//!   exactly what holds; the argument is in `docs/guarantees/suppress.md`. The result,
//!   [`SuppressedTable`], renders to CSV and serializes to JSON without saying why an entry is
//!   hidden.
//! - [`count_persons_by_prefecture_and_age`]: distinct persons with an ICD-10 diagnosis, by
//!   prefecture and age band, streamed from the encrypted Parquet lifecourse.
//!
//! Why suppression and not rounding or noise: the NDB guideline, which data users and reviewers
//! already know, publishes exact counts with small cells hidden; a differentially private variant
//! belongs beside it, not in its place.
//!
//! ```
//! use tsumugi_stats::{Cell, CountTable, Reason, SuppressionRules, suppress};
//!
//! let table = CountTable::new(
//!     vec!["13".into(), "27".into()],
//!     vec!["0-9".into(), "10-19".into(), "20-29".into()],
//!     vec![vec![3, 40, 25], vec![30, 50, 60]],
//! )?;
//! let out = suppress(&table, &SuppressionRules::ndb());
//! assert_eq!(out.cells()[0][0], Cell::Suppressed(Reason::Primary));
//! // The 3 cannot be recovered from row 13's total: a second cell of that row is hidden too.
//! assert_eq!(out.cells()[0].iter().filter(|c| c.is_suppressed()).count(), 2);
//! assert_eq!(
//!     out.to_csv(),
//!     ",0-9,10-19,20-29,合計 Total\n13,-,40,-,68\n27,-,50,-,140\n合計 Total,33,90,85,208\n"
//! );
//! # Ok::<(), tsumugi_stats::Error>(())
//! ```

#![deny(missing_docs)]

mod cohort;
mod error;
mod suppress;
mod table;

pub use crate::cohort::{
    DiagnosisCount, DiagnosisCountSpec, UNKNOWN_PREFECTURE, age_band_labels,
    count_persons_by_prefecture_and_age,
};
pub use crate::error::{Error, Result};
pub use crate::suppress::{
    Cell, Reason, SUPPRESSED_MARK, SuppressedTable, SuppressionRules, TOTAL_LABEL, suppress,
};
pub use crate::table::CountTable;

/// The argument for [`suppress`]'s guarantee; its examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/guarantees/suppress.md")]
struct SuppressGuarantee;
