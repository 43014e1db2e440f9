//! Re-identification risk of a table, from its equivalence class sizes.
//!
//! Under the prosecutor model the attacker knows the person is in the data: a record in a
//! class of `f` rows is re-identified with probability `1/f`. The marketer, who tries to
//! re-identify everyone, succeeds on `classes / rows` of them on average. Sample uniques are
//! rows alone in their class. (The journalist model and population uniqueness need a
//! population table; they are not computed here.)

use serde::Serialize;

/// Risk figures of one table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    /// Rows assessed.
    pub rows: u64,
    /// Equivalence classes.
    pub classes: u64,
    /// Prosecutor risk of the most exposed record: `1 / smallest class`.
    pub highest_prosecutor_risk: f64,
    /// Mean prosecutor risk over records (`classes / rows`), also the marketer risk.
    pub average_prosecutor_risk: f64,
    /// Share of records whose prosecutor risk is the highest.
    pub records_at_highest_risk: f64,
    /// Share of records alone in their class.
    pub sample_uniques: f64,
}

impl Risk {
    /// The figures of a table whose classes have these sizes (in rows; empty classes are
    /// ignored).
    pub fn of(sizes: impl IntoIterator<Item = u64>) -> Risk {
        let sizes: Vec<u64> = sizes.into_iter().filter(|&s| s > 0).collect();
        let rows: u64 = sizes.iter().sum();
        let classes = sizes.len() as u64;
        let smallest = sizes.iter().copied().min().unwrap_or(0);
        let share = |n: u64| {
            if rows == 0 {
                0.0
            } else {
                n as f64 / rows as f64
            }
        };
        Risk {
            rows,
            classes,
            highest_prosecutor_risk: if smallest == 0 {
                0.0
            } else {
                1.0 / smallest as f64
            },
            average_prosecutor_risk: share(classes),
            records_at_highest_risk: share(sizes.iter().filter(|&&s| s == smallest).sum()),
            sample_uniques: share(sizes.iter().filter(|&&s| s == 1).count() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_from_class_sizes() {
        let r = Risk::of([1, 2, 2, 5, 0]);
        assert_eq!((r.rows, r.classes), (10, 4));
        assert_eq!(r.highest_prosecutor_risk, 1.0);
        assert!((r.average_prosecutor_risk - 0.4).abs() < 1e-12);
        assert!((r.records_at_highest_risk - 0.1).abs() < 1e-12);
        assert!((r.sample_uniques - 0.1).abs() < 1e-12);
        let none = Risk::of([]);
        assert_eq!((none.rows, none.highest_prosecutor_risk), (0, 0.0));
    }
}
