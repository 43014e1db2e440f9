//! The search's public face: quasi-identifiers bound to their hierarchies, a policy, and the
//! chosen node applied to the rows.

use serde::{Deserialize, Serialize};

use crate::groupify::Encoded;
use crate::hierarchy::Hierarchy;
use crate::lattice::Lattice;
use crate::metric::{Metric, MetricTables};
use crate::privacy::{Criterion, Models};
use crate::search::{NodeResult, Search, SearchResult};
use crate::table::Column;
use crate::{Error, Result};

/// How the lattice is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Best-first with bound pruning: the proven optimum.
    #[default]
    Optimal,
    /// The same search stopped after `max_nodes` counted nodes (for many quasi-identifiers).
    Heuristic {
        /// Nodes to count at most.
        max_nodes: u64,
    },
    /// Every node counted (small lattices; a check of the others).
    Exhaustive,
    /// No single node: local recoding by multidimensional Mondrian, each class at its own
    /// levels (see [`QuasiTable::recode_locally`]; `strategy = "local"`).
    Local,
}

/// What a release must satisfy and how the best node is chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Privacy models; every one must hold for every released class.
    pub criteria: Vec<Criterion>,
    /// Largest share of rows that may be suppressed, 0–1 (ARX: `floor(limit · rows)` rows).
    pub suppression_limit: f64,
    /// The utility metric minimized.
    #[serde(default)]
    pub metric: Metric,
    /// The search.
    #[serde(default)]
    pub strategy: Strategy,
}

/// A sensitive attribute: its column and, for hierarchical t-closeness, its hierarchy.
#[derive(Debug, Clone, Copy)]
pub struct Sensitive<'a> {
    /// The column.
    pub column: &'a Column,
    /// Its hierarchy, if any.
    pub hierarchy: Option<&'a Hierarchy>,
}

/// A sensitive attribute counted per grouped tuple, for [`QuasiTable::from_tuples`].
#[derive(Debug, Clone, Copy)]
pub struct TupleSensitive<'a> {
    /// The column's name (for errors).
    pub name: &'a str,
    /// Its distinct values; the histograms index this.
    pub values: &'a [String],
    /// Per tuple, `(value index, rows)`.
    pub per_tuple: &'a [Vec<(u32, u64)>],
    /// Its hierarchy, if any.
    pub hierarchy: Option<&'a Hierarchy>,
}

/// Quasi-identifiers encoded against their hierarchies, ready to search.
#[derive(Debug, Clone)]
pub struct QuasiTable {
    names: Vec<String>,
    encoded: Encoded,
}

impl QuasiTable {
    /// Binds each quasi-identifier column to its hierarchy.
    ///
    /// # Errors
    /// [`Error::ValueNotInHierarchy`] naming the first row whose value the hierarchy lacks.
    pub fn new(
        quasi: &[(&Column, &Hierarchy)],
        sensitive: Option<Sensitive<'_>>,
    ) -> Result<QuasiTable> {
        let mut columns = Vec::with_capacity(quasi.len());
        for (col, h) in quasi {
            let leaf_of: Vec<Option<u32>> = col.values.iter().map(|v| h.leaf(v)).collect();
            let mut leaves = Vec::with_capacity(col.codes.len());
            for (r, &code) in col.codes.iter().enumerate() {
                let Some(leaf) = leaf_of[code as usize] else {
                    return Err(Error::ValueNotInHierarchy {
                        column: col.name.clone(),
                        row: r + 1,
                        value: col.values[code as usize].clone(),
                    });
                };
                leaves.push(leaf);
            }
            columns.push(leaves);
        }
        let hierarchies: Vec<Hierarchy> = quasi.iter().map(|(_, h)| (*h).clone()).collect();
        let encoded = match sensitive {
            None => Encoded::new(hierarchies, &columns, None),
            Some(s) => match s.hierarchy {
                // With a hierarchy, sensitive values are its leaves (for the ground distance).
                Some(h) => {
                    let mut ids = Vec::with_capacity(s.column.codes.len());
                    for (r, &code) in s.column.codes.iter().enumerate() {
                        let value = &s.column.values[code as usize];
                        ids.push(h.leaf(value).ok_or_else(|| Error::ValueNotInHierarchy {
                            column: s.column.name.clone(),
                            row: r + 1,
                            value: value.clone(),
                        })?);
                    }
                    Encoded::new(
                        hierarchies,
                        &columns,
                        Some((&ids, h.domain_size(), Some(h.clone()))),
                    )
                }
                None => Encoded::new(
                    hierarchies,
                    &columns,
                    Some((&s.column.codes, s.column.values.len(), None)),
                ),
            },
        };
        Ok(QuasiTable {
            names: quasi.iter().map(|(c, _)| c.name.clone()).collect(),
            encoded,
        })
    }

    /// As [`QuasiTable::new`], with a research subset (δ-presence): `subset[row]` says
    /// whether the row is in it. The table is the population; only subset rows are
    /// released, and every model but δ-presence counts subset rows only (ARX's `DataSubset`).
    ///
    /// # Guarantee
    /// Under a policy with [`Criterion::DPresence`], every class of the rows
    /// [`QuasiTable::apply`] releases holds between `delta_min` and `delta_max` of the
    /// population's rows with the same generalized values, no row outside the subset is
    /// released, and with `delta_min > 0` every generalized combination of the population
    /// has a subset row (`crates/tsumugi-anon/docs/guarantees/d_presence.md`).
    ///
    /// # Errors
    /// As [`QuasiTable::new`]; [`Error::InvalidConfig`] when `subset` does not have one flag
    /// per row.
    pub fn with_subset(
        quasi: &[(&Column, &Hierarchy)],
        sensitive: Option<Sensitive<'_>>,
        subset: Vec<bool>,
    ) -> Result<QuasiTable> {
        let mut table = QuasiTable::new(quasi, sensitive)?;
        if subset.len() != table.encoded.row_tuple.len() {
            return Err(Error::InvalidConfig(format!(
                "the research subset has {} flags for {} rows",
                subset.len(),
                table.encoded.row_tuple.len()
            )));
        }
        let values: Option<Vec<u32>> = sensitive.map(|s| match s.hierarchy {
            // `new` has checked that every value is a leaf.
            Some(h) => s
                .column
                .codes
                .iter()
                .map(|&code| h.leaf(&s.column.values[code as usize]).unwrap_or(0))
                .collect(),
            None => s.column.codes.clone(),
        });
        table.encoded.restrict_to_subset(subset, values.as_deref());
        Ok(table)
    }

    /// Binds quasi-identifiers already grouped into distinct tuples (for example by a
    /// DataFusion plan) to their hierarchies: each column holds one code per tuple, `rows` the
    /// tuple's rows. The search then finds the same optimum, classes and loss as over the rows
    /// themselves; only [`QuasiTable::apply`] needs rows and refuses such a table.
    ///
    /// # Errors
    /// [`Error::ValueNotInHierarchy`] (row 0: grouped input has no row numbers);
    /// [`Error::InvalidConfig`] for columns or histograms of another length than `rows`, or a
    /// tuple of 2³² rows or more.
    pub fn from_tuples(
        quasi: &[(&Column, &Hierarchy)],
        rows: &[u64],
        sensitive: Option<TupleSensitive<'_>>,
    ) -> Result<QuasiTable> {
        let n = rows.len();
        let too_many = |what: &str| {
            Error::InvalidConfig(format!("{what} over the 2^32 rows a tuple may hold"))
        };
        let mut columns = Vec::with_capacity(quasi.len());
        for (col, h) in quasi {
            if col.codes.len() != n {
                return Err(Error::InvalidConfig(format!(
                    "column {:?} has {} tuples, not {n}",
                    col.name,
                    col.codes.len()
                )));
            }
            let mut leaf_of = Vec::with_capacity(col.values.len());
            for value in &col.values {
                leaf_of.push(h.leaf(value).ok_or_else(|| Error::ValueNotInHierarchy {
                    column: col.name.clone(),
                    row: 0,
                    value: value.clone(),
                })?);
            }
            columns.push(
                col.codes
                    .iter()
                    .map(|&c| leaf_of[c as usize])
                    .collect::<Vec<u32>>(),
            );
        }
        let counts: Vec<u32> = rows
            .iter()
            .map(|&r| u32::try_from(r).map_err(|_| too_many("a tuple count")))
            .collect::<Result<_>>()?;
        let hierarchies: Vec<Hierarchy> = quasi.iter().map(|(_, h)| (*h).clone()).collect();
        let encoded = match sensitive {
            None => Encoded::from_tuples(hierarchies, &columns, &counts, None),
            Some(s) => {
                if s.per_tuple.len() != n {
                    return Err(Error::InvalidConfig(format!(
                        "sensitive column {:?} has {} histograms, not {n}",
                        s.name,
                        s.per_tuple.len()
                    )));
                }
                // With a hierarchy, sensitive values are its leaves (for the ground distance).
                let ids: Vec<u32> = match s.hierarchy {
                    Some(h) => s
                        .values
                        .iter()
                        .map(|v| {
                            h.leaf(v).ok_or_else(|| Error::ValueNotInHierarchy {
                                column: s.name.to_owned(),
                                row: 0,
                                value: v.clone(),
                            })
                        })
                        .collect::<Result<_>>()?,
                    None => (0..s.values.len() as u32).collect(),
                };
                let mut hists = Vec::with_capacity(n);
                for (t, hist) in s.per_tuple.iter().enumerate() {
                    if hist.iter().map(|&(_, k)| k).sum::<u64>() != rows[t] {
                        return Err(Error::InvalidConfig(format!(
                            "sensitive column {:?}: the histogram of tuple {t} does not add up to its rows",
                            s.name
                        )));
                    }
                    let mut out = Vec::with_capacity(hist.len());
                    for &(v, k) in hist {
                        let id = ids.get(v as usize).copied().ok_or_else(|| {
                            Error::InvalidConfig(format!(
                                "sensitive column {:?}: value index {v} of {} values",
                                s.name,
                                s.values.len()
                            ))
                        })?;
                        out.push((
                            id,
                            u32::try_from(k).map_err(|_| too_many("a sensitive count"))?,
                        ));
                    }
                    hists.push(out);
                }
                let width = s.hierarchy.map_or(s.values.len(), Hierarchy::domain_size);
                Encoded::from_tuples(
                    hierarchies,
                    &columns,
                    &counts,
                    Some((&hists, width, s.hierarchy.cloned())),
                )
            }
        };
        Ok(QuasiTable {
            names: quasi.iter().map(|(c, _)| c.name.clone()).collect(),
            encoded,
        })
    }

    /// Rows per distinct combination of quasi-identifier values, as given (the classes of the
    /// bottom node; with a research subset, its rows, 0 for combinations only the population
    /// has).
    pub fn tuple_sizes(&self) -> impl Iterator<Item = u64> + '_ {
        self.encoded.bottom.count.iter().map(|&c| u64::from(c))
    }

    /// With a research subset, the population's rows per distinct combination (parallel to
    /// [`QuasiTable::tuple_sizes`]); `None` without one.
    pub fn tuple_population_sizes(&self) -> Option<Vec<u64>> {
        self.encoded.subset.as_ref().map(|_| {
            self.encoded
                .bottom
                .population
                .iter()
                .map(|&c| u64::from(c))
                .collect()
        })
    }

    /// Rows that may be released: the research subset's, or all.
    pub fn subset_rows(&self) -> u64 {
        self.encoded.rows() as u64
    }

    /// The released classes of node `levels` under `policy`, as `(rows released, rows in the
    /// population)`; the second equals the first without a research subset.
    ///
    /// # Errors
    /// As [`QuasiTable::evaluate`].
    pub fn released_classes(&self, policy: &Policy, levels: &[u8]) -> Result<Vec<(u64, u64)>> {
        self.check_levels(levels)?;
        let e = &self.encoded;
        let (classes, _) = e.rollup(&e.bottom, levels);
        let kept = self.with_search(policy, |s| s.kept(&classes))?;
        Ok((0..classes.len())
            .filter(|&c| kept[c] && classes.count[c] > 0)
            .map(|c| {
                let n = u64::from(classes.count[c]);
                (n, classes.population.get(c).map_or(n, |&p| u64::from(p)))
            })
            .collect())
    }

    /// The quasi-identifiers' names, in lattice order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The lattice of this table's hierarchies.
    ///
    /// # Errors
    /// [`Error::LatticeTooLarge`].
    pub fn lattice(&self) -> Result<Lattice> {
        let heights: Vec<u8> = self
            .encoded
            .hierarchies
            .iter()
            .map(|h| u8::try_from(h.height()).unwrap_or(u8::MAX))
            .collect();
        Lattice::new(&heights).ok_or(Error::LatticeTooLarge)
    }

    /// The encoded tuples (for local recoding).
    pub(crate) fn encoded(&self) -> &Encoded {
        &self.encoded
    }

    pub(crate) fn check(&self, policy: &Policy) -> Result<()> {
        if !(0.0..=1.0).contains(&policy.suppression_limit) {
            return Err(Error::InvalidConfig(format!(
                "suppression_limit {} is not in 0–1",
                policy.suppression_limit
            )));
        }
        if self.encoded.sensitive_counts.is_empty()
            && let Some(c) = policy.criteria.iter().find(|c| c.needs_sensitive())
        {
            return Err(Error::InvalidConfig(format!(
                "{c:?} needs a sensitive attribute; give one column the role \"sensitive\""
            )));
        }
        let delta = policy.criteria.iter().find_map(|c| match *c {
            Criterion::DPresence {
                delta_min,
                delta_max,
            } => Some((delta_min, delta_max)),
            _ => None,
        });
        if let Some((min, max)) = delta {
            if !(0.0 <= min && min <= max && max <= 1.0) {
                return Err(Error::InvalidConfig(format!(
                    "d_presence needs 0 ≤ delta_min ≤ delta_max ≤ 1 (got {min} and {max})"
                )));
            }
            if self.encoded.subset.is_none() {
                return Err(Error::InvalidConfig(
                    "d_presence needs a research subset: set subset_column to a column of true/false".into(),
                ));
            }
        }
        if self.encoded.sensitive_hierarchy.is_none()
            && policy
                .criteria
                .iter()
                .any(|c| matches!(c, Criterion::HierarchicalTCloseness { .. }))
        {
            return Err(Error::InvalidConfig(
                "hierarchical t-closeness needs a hierarchy for the sensitive attribute".into(),
            ));
        }
        Ok(())
    }

    fn with_search<T>(&self, policy: &Policy, f: impl FnOnce(&Search<'_>) -> T) -> Result<T> {
        self.check(policy)?;
        let metric = MetricTables::new(policy.metric, &self.encoded);
        let e = &self.encoded;
        let search = Search {
            e,
            models: Models {
                criteria: &policy.criteria,
                overall: &e.sensitive_counts,
                rows: e.rows() as u64,
                sensitive_hierarchy: e.sensitive_hierarchy.as_ref(),
            },
            metric: &metric,
            limit_rows: (policy.suppression_limit * e.rows() as f64).floor() as u64,
        };
        Ok(f(&search))
    }

    /// Finds the best acceptable node under `policy`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a policy this table cannot serve (and for
    /// [`Strategy::Local`], which chooses no node: use [`QuasiTable::recode_locally`]);
    /// [`Error::LatticeTooLarge`].
    pub fn search(&self, policy: &Policy) -> Result<SearchResult> {
        if policy.strategy == Strategy::Local {
            return Err(Error::InvalidConfig(
                "strategy \"local\" generalizes each class on its own and chooses no lattice node; use QuasiTable::recode_locally".into(),
            ));
        }
        let lattice = self.lattice()?;
        self.with_search(policy, |s| match policy.strategy {
            Strategy::Optimal if s.top_down_applies(&lattice) => s.run_top_down(&lattice),
            Strategy::Optimal => s.run(&lattice, None),
            Strategy::Heuristic { max_nodes } => s.run(&lattice, Some(max_nodes)),
            Strategy::Exhaustive | Strategy::Local => s.exhaustive(&lattice),
        })
    }

    /// Evaluates one node under `policy`.
    ///
    /// # Errors
    /// As [`QuasiTable::search`], and levels that do not fit the hierarchies.
    pub fn evaluate(&self, policy: &Policy, levels: &[u8]) -> Result<NodeResult> {
        self.check_levels(levels)?;
        self.with_search(policy, |s| {
            s.evaluate_with(levels, &self.encoded.bottom, true).0
        })
    }

    /// Refuses a table built by [`QuasiTable::from_tuples`]: it holds no rows to apply to.
    pub(crate) fn holds_rows(&self) -> Result<()> {
        if self.encoded.row_tuple.len() == self.encoded.n_rows {
            Ok(())
        } else {
            Err(Error::InvalidConfig(
                "this table was built from grouped tuples and holds no rows to apply a node to; count the node's classes with a classes plan instead".into(),
            ))
        }
    }

    fn check_levels(&self, levels: &[u8]) -> Result<()> {
        let fits = levels.len() == self.encoded.width()
            && levels
                .iter()
                .zip(&self.encoded.hierarchies)
                .all(|(&l, h)| usize::from(l) < h.height());
        if fits {
            Ok(())
        } else {
            Err(Error::InvalidConfig(format!(
                "levels {levels:?} do not fit the hierarchies"
            )))
        }
    }

    /// Applies node `levels` under `policy`: per row, its generalized values (in
    /// quasi-identifier order), or `None` when its class is suppressed or, with a research
    /// subset, the row is not in it.
    ///
    /// # Errors
    /// As [`QuasiTable::evaluate`]; [`Error::InvalidConfig`] for a table built by
    /// [`QuasiTable::from_tuples`], which holds no rows.
    pub fn apply(&self, policy: &Policy, levels: &[u8]) -> Result<Vec<Option<Vec<&str>>>> {
        self.check_levels(levels)?;
        let e = &self.encoded;
        self.holds_rows()?;
        // Rolled up from the bottom, the class of tuple `t` is `into[t]`.
        let (classes, into) = e.rollup(&e.bottom, levels);
        let kept = self.with_search(policy, |s| s.kept(&classes))?;
        let in_subset = |r: usize| e.subset.as_ref().is_none_or(|s| s.rows[r]);
        Ok(e.row_tuple
            .iter()
            .enumerate()
            .map(|(r, &t)| {
                (in_subset(r) && kept[into[t as usize] as usize]).then(|| {
                    (0..e.width())
                        .map(|j| {
                            e.hierarchies[j].label(usize::from(levels[j]), e.value(t, j, levels[j]))
                        })
                        .collect()
                })
            })
            .collect())
    }
}
