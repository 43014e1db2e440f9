//! Utility metrics: how much information a node loses, as ARX measures it.
//!
//! Every metric gives a value per quasi-identifier and an aggregate compared between nodes
//! (lower is better). Where a metric has one, a lower bound computed from the node alone (no
//! class counting) lets the search skip nodes that cannot beat the best found.
//!
//! - **Loss** (ARX's default, `MetricMDNMLoss`): per attribute, the mean over rows of the share
//!   of the domain a cell's generalized value covers, normalized so that the leaves cost 0 and
//!   `*` costs 1; a suppressed row costs 1 per attribute. The generalization/suppression factor
//!   `gs` weighs the two (0.5: equal). Per-attribute values are truncated to 10 decimals, as ARX
//!   does, and aggregated by arithmetic or geometric mean, sum, maximum or rank.
//! - **Non-uniform entropy**: per attribute, `Σ_x c_x · log₂(c_G / c_x)` over original values
//!   `x` (`c_G`: rows whose value generalizes to the same `G`); the non-monotonic variant also
//!   charges suppressed rows as if generalized to `*`.
//! - **Discernibility**: `Σ |E|²` over classes (monotonic variant), or with every suppressed
//!   row charged `N`.
//! - **AECS**: rows over classes, the suppressed rows counted as one class.
//! - **Precision**: per attribute, the mean of `level / (height − 1)`, suppressed rows 1 in the
//!   non-monotonic variant.
//! - **Height**: the sum of the levels.

use serde::{Deserialize, Serialize};

use crate::groupify::{Classes, Encoded};

/// How per-attribute values make one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Arithmetic mean.
    ArithmeticMean,
    /// `Π (L + 1)^(1/n) − 1` (ARX's default for Loss).
    #[default]
    GeometricMean,
    /// Sum.
    Sum,
    /// Maximum.
    Maximum,
    /// The values sorted in descending order, compared lexicographically.
    Rank,
}

/// A utility metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum Metric {
    /// ARX's generalized loss.
    Loss {
        /// Weight of generalization against suppression, 0–1 (0.5: equal).
        #[serde(default = "half")]
        gs_factor: f64,
        /// How attributes are aggregated.
        #[serde(default)]
        aggregate: Aggregate,
    },
    /// Non-uniform entropy.
    Entropy {
        /// Ignore suppression (a monotonic metric).
        #[serde(default)]
        monotonic: bool,
    },
    /// Discernibility.
    Discernibility {
        /// Ignore suppression (`DM*`).
        #[serde(default)]
        monotonic: bool,
    },
    /// Average equivalence class size.
    Aecs,
    /// Precision (mean relative level).
    Precision {
        /// Ignore suppression.
        #[serde(default)]
        monotonic: bool,
    },
    /// Sum of levels.
    Height,
}

fn half() -> f64 {
    0.5
}

impl Default for Metric {
    fn default() -> Metric {
        Metric::Loss {
            gs_factor: 0.5,
            aggregate: Aggregate::GeometricMean,
        }
    }
}

/// Information loss of a node: the compared figure and the value per quasi-identifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InfoLoss {
    /// Compared lexicographically, lower is better (one value except for [`Aggregate::Rank`]).
    pub value: Vec<f64>,
    /// Per quasi-identifier (empty for single-dimensional metrics).
    pub per_attribute: Vec<f64>,
}

impl InfoLoss {
    /// Orders two losses (lexicographically, by `f64::total_cmp`).
    pub fn compare(&self, other: &InfoLoss) -> std::cmp::Ordering {
        for (a, b) in self.value.iter().zip(&other.value) {
            match a.total_cmp(b) {
                std::cmp::Ordering::Equal => {}
                o => return o,
            }
        }
        self.value.len().cmp(&other.value.len())
    }
}

/// Truncates to 10 decimals, as ARX reports its figures. A thousandth of the last decimal is
/// added first: the same loss summed in another order (classes counted from the tuples or
/// rolled up from a lower node) may come out a few ulps below a decimal boundary, and must not
/// truncate to a different figure (the search and exhaustive enumeration would then disagree
/// on ties).
fn truncate(x: f64) -> f64 {
    (x * 1e10 + 1e-3).floor() / 1e10
}

/// Per-table figures the metrics need, computed once.
#[derive(Debug, Clone)]
pub(crate) struct MetricTables {
    metric: Metric,
    rows: f64,
    /// Per attribute, per level: `Σ_leaf rows(leaf) · rows_under(G(leaf))` (Loss), or the
    /// monotonic entropy (Entropy).
    per_level: Vec<Vec<f64>>,
    /// Per attribute, per level, per value: rows whose leaf generalizes to it.
    value_rows: Vec<Vec<Vec<u64>>>,
}

impl MetricTables {
    pub(crate) fn new(metric: Metric, e: &Encoded) -> MetricTables {
        let mut per_level = Vec::new();
        let mut value_rows = Vec::new();
        for (h, counts) in e.hierarchies.iter().zip(&e.leaf_counts) {
            let mut levels = Vec::new();
            let mut rows = Vec::new();
            for level in 0..h.height() {
                let mut vr = vec![0u64; h.width(level)];
                for (leaf, &c) in counts.iter().enumerate() {
                    vr[h.generalize(level, leaf as u32) as usize] += c;
                }
                let figure = match metric {
                    Metric::Loss { .. } => counts
                        .iter()
                        .enumerate()
                        .map(|(leaf, &c)| {
                            let g = h.generalize(level, leaf as u32);
                            c as f64 * f64::from(h.rows_under(level, g))
                        })
                        .sum(),
                    Metric::Entropy { .. } => truncate(
                        counts
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| **c > 0)
                            .map(|(leaf, &c)| {
                                let g = h.generalize(level, leaf as u32);
                                c as f64 * (vr[g as usize] as f64 / c as f64).log2()
                            })
                            .sum(),
                    ),
                    _ => 0.0,
                };
                levels.push(figure);
                rows.push(vr);
            }
            per_level.push(levels);
            value_rows.push(rows);
        }
        MetricTables {
            metric,
            rows: e.rows() as f64,
            per_level,
            value_rows,
        }
    }

    fn gs(&self) -> (f64, f64) {
        match self.metric {
            Metric::Loss { gs_factor: gs, .. } => {
                let g = if gs <= 0.5 {
                    1.0
                } else {
                    1.0 - 2.0 * (gs - 0.5)
                };
                let s = if gs < 0.5 { 2.0 * gs } else { 1.0 };
                (g, s)
            }
            _ => (1.0, 1.0),
        }
    }

    /// Normalizes a Loss attribute's raw sum (in rows × domain rows) over domain size `d`.
    fn normalize_loss(&self, raw: f64, d: f64) -> f64 {
        let (g, _) = self.gs();
        let n = self.rows;
        let min = g * n / d;
        let max = n;
        if max - min <= 0.0 {
            return 0.0;
        }
        truncate(((raw - min) / (max - min)).max(0.0))
    }

    fn aggregate(&self, per: Vec<f64>) -> InfoLoss {
        let value = match self.metric {
            Metric::Loss { aggregate, .. } => {
                let n = per.len().max(1) as f64;
                match aggregate {
                    Aggregate::ArithmeticMean => vec![per.iter().map(|v| v / n).sum()],
                    Aggregate::GeometricMean => {
                        vec![per.iter().map(|v| (v + 1.0).powf(1.0 / n)).product::<f64>() - 1.0]
                    }
                    Aggregate::Sum => vec![per.iter().sum()],
                    Aggregate::Maximum => vec![per.iter().copied().fold(0.0, f64::max)],
                    Aggregate::Rank => {
                        let mut v = per.clone();
                        v.sort_unstable_by(|a, b| b.total_cmp(a));
                        v
                    }
                }
            }
            Metric::Precision { .. } => {
                vec![per.iter().sum::<f64>() / per.len().max(1) as f64]
            }
            _ => vec![per.iter().sum()],
        };
        InfoLoss {
            value,
            per_attribute: per,
        }
    }

    /// A lower bound of the loss of node `levels` and of every node above it, from the
    /// levels alone; `None` for metrics without one.
    pub(crate) fn lower_bound(&self, e: &Encoded, levels: &[u8]) -> Option<InfoLoss> {
        let (g, _) = self.gs();
        let per: Vec<f64> = match self.metric {
            Metric::Loss { .. } => e
                .hierarchies
                .iter()
                .enumerate()
                .map(|(j, h)| {
                    let raw =
                        g * self.per_level[j][usize::from(levels[j])] / h.domain_size() as f64;
                    self.normalize_loss(raw, h.domain_size() as f64)
                })
                .collect(),
            Metric::Entropy { .. } => (0..e.width())
                .map(|j| self.per_level[j][usize::from(levels[j])])
                .collect(),
            Metric::Precision { .. } => relative_levels(e, levels),
            Metric::Height => levels.iter().map(|&l| f64::from(l)).collect(),
            Metric::Discernibility { .. } | Metric::Aecs => return None,
        };
        Some(self.aggregate(per))
    }

    /// Whether the metric never decreases from a node to a node above it, given the
    /// suppression limit (without suppression every metric here is monotonic).
    pub(crate) fn monotonic(&self, suppression_allowed: bool) -> bool {
        !suppression_allowed
            || matches!(
                self.metric,
                Metric::Entropy { monotonic: true }
                    | Metric::Discernibility { monotonic: true }
                    | Metric::Precision { monotonic: true }
                    | Metric::Height
            )
    }

    /// The loss of node `levels` with `classes`, of which those with `kept[c] == false` are
    /// suppressed.
    pub(crate) fn evaluate(
        &self,
        e: &Encoded,
        levels: &[u8],
        classes: &Classes,
        kept: &[bool],
    ) -> InfoLoss {
        let n = self.rows;
        match self.metric {
            Metric::Loss { .. } => {
                let (g, s) = self.gs();
                let per = e
                    .hierarchies
                    .iter()
                    .enumerate()
                    .map(|(j, h)| {
                        let level = usize::from(levels[j]);
                        let d = h.domain_size() as f64;
                        let mut raw = 0.0;
                        for (c, &t) in classes.rep.iter().enumerate() {
                            let size = f64::from(classes.count[c]);
                            let share =
                                f64::from(h.rows_under(level, e.value(t, j, levels[j]))) / d;
                            raw += if kept[c] {
                                g * size * share
                            } else if s >= 1.0 {
                                size
                            } else {
                                let x = size * share;
                                x + s * (size - x)
                            };
                        }
                        self.normalize_loss(raw, d)
                    })
                    .collect();
                self.aggregate(per)
            }
            Metric::Entropy { monotonic } => {
                let per = (0..e.width())
                    .map(|j| {
                        let base = self.per_level[j][usize::from(levels[j])];
                        if monotonic {
                            return base;
                        }
                        let extra: f64 = classes
                            .rep
                            .iter()
                            .enumerate()
                            .filter(|(c, _)| !kept[*c])
                            .map(|(c, &t)| {
                                let g = e.value(t, j, levels[j]) as usize;
                                let cg = self.value_rows[j][usize::from(levels[j])][g] as f64;
                                f64::from(classes.count[c]) * (n / cg).log2()
                            })
                            .sum();
                        truncate(base + extra)
                    })
                    .collect();
                self.aggregate(per)
            }
            Metric::Discernibility { monotonic } => {
                let v: f64 = classes
                    .count
                    .iter()
                    .zip(kept)
                    .map(|(&c, &k)| {
                        let c = f64::from(c);
                        if k || monotonic { c * c } else { n * c }
                    })
                    .sum();
                InfoLoss {
                    value: vec![v],
                    per_attribute: Vec::new(),
                }
            }
            Metric::Aecs => {
                // Classes with no row to release (of the population alone) do not count.
                let with_rows = || kept.iter().zip(&classes.count).filter(|e| *e.1 > 0);
                let kept_classes = with_rows().filter(|e| *e.0).count();
                let any_suppressed = with_rows().any(|e| !*e.0);
                let classes = kept_classes + usize::from(any_suppressed);
                InfoLoss {
                    value: vec![if classes == 0 {
                        0.0
                    } else {
                        n / classes as f64
                    }],
                    per_attribute: Vec::new(),
                }
            }
            Metric::Precision { monotonic } => {
                let base = relative_levels(e, levels);
                if monotonic {
                    return self.aggregate(base);
                }
                let suppressed: f64 = classes
                    .count
                    .iter()
                    .zip(kept)
                    .filter(|(_, k)| !**k)
                    .map(|(&c, _)| f64::from(c))
                    .sum();
                let per = base
                    .iter()
                    .map(|b| (b * (n - suppressed) + suppressed) / n.max(1.0))
                    .collect();
                self.aggregate(per)
            }
            Metric::Height => self.aggregate(levels.iter().map(|&l| f64::from(l)).collect()),
        }
    }
}

/// The classes of a local recoding, for [`MetricTables::evaluate_local`]: every tuple's class,
/// and per class its rows, whether it is released, and its label per quasi-identifier.
pub(crate) struct LocalClasses<'a> {
    /// Per distinct tuple, its class.
    pub tuple_class: &'a [u32],
    /// Per class, `(level, value id)` per quasi-identifier, flattened.
    pub labels: &'a [(u8, u32)],
    /// Per class, its rows.
    pub rows: &'a [u64],
    /// Per class, whether it is released (else suppressed).
    pub kept: &'a [bool],
}

impl MetricTables {
    /// The loss of a local recoding, where each class has its own level per quasi-identifier.
    ///
    /// Every figure is the global one computed cell by cell: a cell's Loss is the share of the
    /// domain its label covers (normalized as for a node), its entropy `log₂(c_G / c_x)` with
    /// `c_G` the table's rows under the label, its precision the label's level over the
    /// height; Height is the mean level per attribute. Suppressed rows are charged as at a node.
    /// When every class has the same levels, the result equals [`MetricTables::evaluate`]'s.
    pub(crate) fn evaluate_local(&self, e: &Encoded, c: &LocalClasses<'_>) -> InfoLoss {
        let m = e.width();
        let n = self.rows;
        let label = |class: usize, j: usize| c.labels[class * m + j];
        let released: f64 = c
            .rows
            .iter()
            .zip(c.kept)
            .filter(|(_, k)| **k)
            .map(|(&r, _)| r as f64)
            .sum();
        match self.metric {
            Metric::Loss { .. } => {
                let (g, s) = self.gs();
                let per = e
                    .hierarchies
                    .iter()
                    .enumerate()
                    .map(|(j, h)| {
                        let d = h.domain_size() as f64;
                        let mut raw = 0.0;
                        for (class, (&size, &kept)) in c.rows.iter().zip(c.kept).enumerate() {
                            let size = size as f64;
                            let (level, id) = label(class, j);
                            let share = f64::from(h.rows_under(usize::from(level), id)) / d;
                            raw += if kept {
                                g * size * share
                            } else if s >= 1.0 {
                                size
                            } else {
                                let x = size * share;
                                x + s * (size - x)
                            };
                        }
                        self.normalize_loss(raw, d)
                    })
                    .collect();
                self.aggregate(per)
            }
            Metric::Entropy { monotonic } => {
                let per = (0..m)
                    .map(|j| {
                        let mut base = 0.0;
                        let mut extra = 0.0;
                        for (t, &class) in c.tuple_class.iter().enumerate() {
                            let class = class as usize;
                            let (level, id) = label(class, j);
                            let rows = f64::from(e.bottom.count[t]);
                            let cx = e.leaf_counts[j][e.leaf(t as u32, j) as usize] as f64;
                            let cg = self.value_rows[j][usize::from(level)][id as usize] as f64;
                            base += rows * (cg / cx).log2();
                            if !monotonic && !c.kept[class] {
                                extra += rows * (n / cg).log2();
                            }
                        }
                        truncate(truncate(base) + extra)
                    })
                    .collect();
                self.aggregate(per)
            }
            Metric::Discernibility { monotonic } => {
                let v: f64 = c
                    .rows
                    .iter()
                    .zip(c.kept)
                    .map(|(&r, &k)| {
                        let r = r as f64;
                        if k || monotonic { r * r } else { n * r }
                    })
                    .sum();
                InfoLoss {
                    value: vec![v],
                    per_attribute: Vec::new(),
                }
            }
            Metric::Aecs => {
                let kept_classes = c.kept.iter().filter(|k| **k).count();
                let classes = kept_classes + usize::from(c.kept.iter().any(|k| !k));
                InfoLoss {
                    value: vec![if classes == 0 {
                        0.0
                    } else {
                        n / classes as f64
                    }],
                    per_attribute: Vec::new(),
                }
            }
            Metric::Precision { monotonic } => {
                let per = e
                    .hierarchies
                    .iter()
                    .enumerate()
                    .map(|(j, h)| {
                        let top = (h.height() - 1) as f64;
                        let mut sum = 0.0;
                        for (class, (&size, &kept)) in c.rows.iter().zip(c.kept).enumerate() {
                            let rel = if top == 0.0 {
                                0.0
                            } else {
                                f64::from(label(class, j).0) / top
                            };
                            sum += size as f64 * if kept || monotonic { rel } else { 1.0 };
                        }
                        sum / n.max(1.0)
                    })
                    .collect();
                self.aggregate(per)
            }
            Metric::Height => {
                let per = (0..m)
                    .map(|j| {
                        let levels: f64 = c
                            .rows
                            .iter()
                            .zip(c.kept)
                            .enumerate()
                            .filter(|(_, (_, k))| **k)
                            .map(|(class, (&r, _))| r as f64 * f64::from(label(class, j).0))
                            .sum();
                        if released > 0.0 {
                            levels / released
                        } else {
                            0.0
                        }
                    })
                    .collect();
                self.aggregate(per)
            }
        }
    }
}

fn relative_levels(e: &Encoded, levels: &[u8]) -> Vec<f64> {
    e.hierarchies
        .iter()
        .zip(levels)
        .map(|(h, &l)| {
            let top = h.height() - 1;
            if top == 0 {
                0.0
            } else {
                f64::from(l) / top as f64
            }
        })
        .collect()
}
