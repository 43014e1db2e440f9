//! Re-identification risk of a table, from its equivalence class sizes.
//!
//! Under the prosecutor model the attacker knows the person is in the data: a record in a
//! class of `f` rows is re-identified with probability `1/f`. The marketer, who tries to
//! re-identify everyone, succeeds on `classes / rows` of them on average. Sample uniques are
//! rows alone in their class.
//!
//! Against a population the attacker knows the person is in the population, not necessarily
//! in the release. With a population table (δ-presence: the input is the population and the
//! release a research subset of it) the journalist risk of a released record is `1/F`, `F`
//! being its class's rows in the population. With only the population's size, the share of
//! the population unique on the quasi-identifiers is estimated ([`PopulationUniqueness`]).

use serde::Serialize;

use crate::Result;
use crate::population::{PopulationUniqueness, population_uniqueness};

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
    /// Risk against the population table's classes (`None` without one).
    pub journalist: Option<JournalistRisk>,
    /// Population uniqueness estimated from the population's size (`None` without one).
    pub population: Option<PopulationUniqueness>,
}

/// Journalist risk: each released record against its class in the population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalistRisk {
    /// `1 / F` of the released class with the fewest population rows `F`.
    pub highest_risk: f64,
    /// Mean over released records of `1 / F`.
    pub average_risk: f64,
    /// Share of released records whose risk is the highest.
    pub records_at_highest_risk: f64,
}

impl JournalistRisk {
    /// The figures of released classes given as `(rows released, rows in the population)`
    /// (classes with no released row are ignored; `None` when none is left).
    pub fn of(classes: impl IntoIterator<Item = (u64, u64)>) -> Option<JournalistRisk> {
        let classes: Vec<(u64, u64)> = classes
            .into_iter()
            .filter(|&(s, p)| s > 0 && p > 0)
            .collect();
        let rows: u64 = classes.iter().map(|c| c.0).sum();
        let smallest = classes.iter().map(|c| c.1).min()?;
        Some(JournalistRisk {
            highest_risk: 1.0 / smallest as f64,
            average_risk: classes
                .iter()
                .map(|&(s, p)| s as f64 / p as f64)
                .sum::<f64>()
                / rows as f64,
            records_at_highest_risk: classes
                .iter()
                .filter(|c| c.1 == smallest)
                .map(|c| c.0)
                .sum::<u64>() as f64
                / rows as f64,
        })
    }
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
            journalist: None,
            population: None,
        }
    }

    /// The figures of a table whose classes have `sizes` rows, with journalist risk when
    /// `population_rows` gives each class's rows in the population table (parallel to
    /// `sizes`), and population uniqueness when `population_size` is known.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] when the population is smaller than the table.
    pub fn against_population(
        sizes: &[u64],
        population_rows: Option<&[u64]>,
        population_size: Option<u64>,
    ) -> Result<Risk> {
        let mut risk = Risk::of(sizes.iter().copied());
        risk.journalist = population_rows
            .and_then(|p| JournalistRisk::of(sizes.iter().copied().zip(p.iter().copied())));
        risk.population = population_size
            .map(|n| population_uniqueness(sizes.iter().copied(), n))
            .transpose()?;
        Ok(risk)
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

    #[test]
    fn journalist_risk_counts_population_classes() {
        // Released classes of 1, 2 and 2 rows within population classes of 4, 10 and 4 rows.
        let j = JournalistRisk::of([(1, 4), (2, 10), (2, 4), (0, 7)]).unwrap();
        assert_eq!(j.highest_risk, 0.25);
        assert!((j.average_risk - (1.0 / 4.0 + 2.0 / 10.0 + 2.0 / 4.0) / 5.0).abs() < 1e-12);
        assert!((j.records_at_highest_risk - 0.6).abs() < 1e-12);
        assert_eq!(JournalistRisk::of([(0, 3)]), None);
        let r = Risk::against_population(&[1, 2], Some(&[4, 10]), Some(1_000)).unwrap();
        assert_eq!(r.journalist.as_ref().map(|j| j.highest_risk), Some(0.25));
        let p = r.population.unwrap();
        assert!((p.sampling_fraction - 0.003).abs() < 1e-15);
        assert!(Risk::against_population(&[1, 2], None, Some(2)).is_err());
    }
}
