//! Count tables: persons per (row, column) with labels.

use crate::{Error, Result};

/// A two-way table of person counts, with its labels. Margins are computed, not stored.
///
/// Invariants (checked by [`CountTable::new`]): at least one row and one column, one label per row
/// and column, every row as long as the column labels, and a grand total that fits in `u64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountTable {
    row_labels: Vec<String>,
    col_labels: Vec<String>,
    counts: Vec<Vec<u64>>,
}

impl CountTable {
    /// Builds a table; `counts[i][j]` is the number of persons in row `i`, column `j`.
    ///
    /// # Errors
    /// [`Error::InvalidTable`] when the shape does not match the labels, the table is empty, or
    /// the total overflows.
    pub fn new(
        row_labels: Vec<String>,
        col_labels: Vec<String>,
        counts: Vec<Vec<u64>>,
    ) -> Result<CountTable> {
        let invalid = |reason| Err(Error::InvalidTable { reason });
        if row_labels.is_empty() || col_labels.is_empty() {
            return invalid("a table needs at least one row and one column");
        }
        if counts.len() != row_labels.len() {
            return invalid("number of rows differs from number of row labels");
        }
        if counts.iter().any(|row| row.len() != col_labels.len()) {
            return invalid("a row's length differs from number of column labels");
        }
        let mut total = 0u64;
        for n in counts.iter().flatten() {
            total = match total.checked_add(*n) {
                Some(t) => t,
                None => return invalid("total overflows"),
            };
        }
        Ok(CountTable {
            row_labels,
            col_labels,
            counts,
        })
    }

    /// The row labels.
    pub fn row_labels(&self) -> &[String] {
        &self.row_labels
    }

    /// The column labels.
    pub fn col_labels(&self) -> &[String] {
        &self.col_labels
    }

    /// The counts, row by row.
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.row_labels.len()
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.col_labels.len()
    }

    /// The sum of row `i` (`None` when out of range).
    pub fn row_total(&self, i: usize) -> Option<u64> {
        // Cannot overflow: `new` checked the grand total.
        self.counts.get(i).map(|row| row.iter().sum())
    }

    /// The sum of column `j` (`None` when out of range).
    pub fn col_total(&self, j: usize) -> Option<u64> {
        (j < self.n_cols()).then(|| self.counts.iter().map(|row| row[j]).sum())
    }

    /// The sum of all cells.
    pub fn grand_total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }
}
