//! Privacy models: what every released equivalence class must satisfy.
//!
//! A class that fails any model is an outlier and all its rows are suppressed; a node is
//! acceptable when the suppressed rows stay within the limit (ARX's semantics: the limit is
//! `floor(r · N)` rows, inclusive). Definitions follow ARX:
//!
//! - k-anonymity: at least `k` rows;
//! - distinct l-diversity: at least `l` sensitive values;
//! - entropy l-diversity: at least `l` values and entropy `≥ ln l`;
//! - recursive (c,l)-diversity: at least `l` values and `f₁ < c · (f_l + … + f_m)` over the
//!   value counts sorted in descending order (Machanavajjhala et al.);
//! - t-closeness: the earth mover's distance between the class's sensitive distribution and
//!   the table's is at most `t`, with equal ground distance (half the L1 distance) or the
//!   hierarchical distance of the sensitive attribute's hierarchy;
//! - average re-identification risk: classes over released rows at most a threshold (a
//!   property of the whole release, checked after suppression);
//! - δ-presence (Nergiz et al. 2007): the input is the population and only a research
//!   subset of it is released; every class must have `δmin ≤ subset rows / population rows ≤
//!   δmax`. Every other model counts the subset's rows. A class with no subset row releases
//!   nothing and cannot be suppressed: if it fails (δ = 0 < δmin) the node fails, whatever the
//!   other models say (ARX lets a failing k-anonymity hide that failure; we do not, which is
//!   also what keeps the model monotonic without suppression).

use serde::{Deserialize, Serialize};

use crate::hierarchy::Hierarchy;

/// One privacy model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Criterion {
    /// Every class has at least `k` rows (persons, in a person table).
    KAnonymity {
        /// The least class size.
        k: u32,
    },
    /// Every class has at least `l` distinct sensitive values.
    DistinctLDiversity {
        /// The least number of values.
        l: u32,
    },
    /// Every class's sensitive entropy is at least `ln l`.
    EntropyLDiversity {
        /// The diversity.
        l: f64,
    },
    /// Recursive (c,l)-diversity.
    RecursiveClDiversity {
        /// The factor.
        c: f64,
        /// The diversity.
        l: u32,
    },
    /// t-closeness with equal ground distance.
    EqualTCloseness {
        /// The greatest distance.
        t: f64,
    },
    /// t-closeness with the hierarchical ground distance.
    HierarchicalTCloseness {
        /// The greatest distance.
        t: f64,
    },
    /// The average re-identification risk (classes / released rows) is at most `risk`.
    AverageRisk {
        /// The greatest average risk, 0–1.
        risk: f64,
    },
    /// δ-presence: in every class, the research subset's rows over the population's rows
    /// lie within `delta_min`–`delta_max` (needs a research subset: `subset_column`).
    DPresence {
        /// The least share, 0–1.
        delta_min: f64,
        /// The greatest share, 0–1.
        delta_max: f64,
    },
}

impl Criterion {
    /// Whether the model needs a sensitive attribute.
    pub fn needs_sensitive(&self) -> bool {
        !matches!(
            self,
            Criterion::KAnonymity { .. }
                | Criterion::AverageRisk { .. }
                | Criterion::DPresence { .. }
        )
    }

    /// Whether the model is monotonic: a node above an acceptable one is acceptable. With
    /// suppression that holds for k-anonymity and distinct l-diversity only (a class that
    /// passes still passes merged with one that fails); without suppression the other
    /// l-diversity variants are monotonic too (every class passes, and so does their merge),
    /// and so is δ-presence (ARX's classification: the share of a merged class lies between
    /// the shares of its parts; with suppression, a suppressed class merged into a kept one
    /// can push it out of range).
    pub fn monotonic(&self, suppression_allowed: bool) -> bool {
        match self {
            Criterion::KAnonymity { .. } | Criterion::DistinctLDiversity { .. } => true,
            Criterion::EntropyLDiversity { .. }
            | Criterion::RecursiveClDiversity { .. }
            | Criterion::DPresence { .. } => !suppression_allowed,
            _ => false,
        }
    }
}

/// The models of a run, ready to check classes.
#[derive(Debug, Clone)]
pub(crate) struct Models<'a> {
    pub criteria: &'a [Criterion],
    /// Rows per sensitive value over the table.
    pub overall: &'a [u64],
    pub rows: u64,
    pub sensitive_hierarchy: Option<&'a Hierarchy>,
}

impl Models<'_> {
    /// Whether a class of `count` rows (of the research subset, if there is one) within
    /// `population` rows, with sensitive histogram `hist`, satisfies every per-class model.
    /// A class with no subset row is checked against δ-presence only.
    pub(crate) fn class_ok(&self, count: u32, population: u32, hist: &[(u32, u32)]) -> bool {
        if count == 0 {
            return self.criteria.iter().all(|c| match *c {
                Criterion::DPresence { delta_min, .. } => delta_min <= 0.0,
                _ => true,
            });
        }
        self.criteria.iter().all(|c| match *c {
            Criterion::DPresence {
                delta_min,
                delta_max,
            } => {
                let delta = f64::from(count) / f64::from(population.max(count));
                (delta_min..=delta_max).contains(&delta)
            }
            Criterion::KAnonymity { k } => count >= k,
            Criterion::DistinctLDiversity { l } => hist.len() >= l as usize,
            Criterion::EntropyLDiversity { l } => entropy_ok(hist, count, l),
            Criterion::RecursiveClDiversity { c, l } => recursive_ok(hist, c, l),
            Criterion::EqualTCloseness { t } => self.equal_emd(hist, count) <= t,
            Criterion::HierarchicalTCloseness { t } => self.hierarchical_emd(hist, count) <= t,
            Criterion::AverageRisk { .. } => true,
        })
    }

    /// Whether the release as a whole (after suppression) satisfies the models on it.
    pub(crate) fn release_ok(&self, classes: u64, released_rows: u64) -> bool {
        self.criteria.iter().all(|c| match *c {
            Criterion::AverageRisk { risk } => {
                released_rows == 0 || classes as f64 / released_rows as f64 <= risk
            }
            _ => true,
        })
    }

    fn equal_emd(&self, hist: &[(u32, u32)], count: u32) -> f64 {
        let n = f64::from(count);
        let total = self.rows as f64;
        let mut d = 0.0;
        let mut h = hist.iter().peekable();
        for (v, &q) in self.overall.iter().enumerate() {
            let p = match h.peek() {
                Some(&&(x, c)) if x as usize == v => {
                    h.next();
                    f64::from(c) / n
                }
                _ => 0.0,
            };
            d += (p - q as f64 / total).abs();
        }
        d / 2.0
    }

    /// Li et al.'s hierarchical distance: at every inner node of the sensitive hierarchy the
    /// surplus and deficit of its subtree's mass cancel at a cost of the node's level over the
    /// hierarchy's height.
    fn hierarchical_emd(&self, hist: &[(u32, u32)], count: u32) -> f64 {
        let Some(h) = self.sensitive_hierarchy else {
            return f64::INFINITY;
        };
        let n = f64::from(count);
        let total = self.rows as f64;
        // Extra mass (class − table) per leaf.
        let mut extra: Vec<f64> = self.overall.iter().map(|&q| -(q as f64) / total).collect();
        for &(v, c) in hist {
            extra[v as usize] += f64::from(c) / n;
        }
        let top = h.height() - 1;
        if top == 0 {
            return 0.0;
        }
        let mut cost = 0.0;
        for level in 1..=top {
            let mut pos = vec![0.0; h.width(level)];
            let mut neg = vec![0.0; h.width(level)];
            // The extra of a node is the sum over its leaves; positive and negative parts
            // are counted from its children's extras.
            let mut child = vec![0.0; h.width(level - 1)];
            let mut parent = vec![0u32; h.width(level - 1)];
            for (leaf, &e) in extra.iter().enumerate() {
                let c = h.generalize(level - 1, leaf as u32) as usize;
                child[c] += e;
                parent[c] = h.generalize(level, leaf as u32);
            }
            for (&e, &up) in child.iter().zip(&parent) {
                if e > 0.0 {
                    pos[up as usize] += e;
                } else {
                    neg[up as usize] -= e;
                }
            }
            for (p, q) in pos.iter().zip(&neg) {
                cost += level as f64 / top as f64 * p.min(*q);
            }
        }
        cost
    }
}

fn entropy_ok(hist: &[(u32, u32)], count: u32, l: f64) -> bool {
    if (hist.len() as f64) < l {
        return false;
    }
    let n = f64::from(count);
    let h: f64 = hist
        .iter()
        .map(|&(_, c)| {
            let p = f64::from(c) / n;
            -p * p.ln()
        })
        .sum();
    h >= l.ln() - 1e-12
}

fn recursive_ok(hist: &[(u32, u32)], c: f64, l: u32) -> bool {
    let l = l as usize;
    if hist.len() < l || l == 0 {
        return hist.len() >= l;
    }
    let mut counts: Vec<u32> = hist.iter().map(|e| e.1).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let tail: u64 = counts[l - 1..].iter().map(|&x| u64::from(x)).sum();
    f64::from(counts[0]) < c * tail as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models<'a>(c: &'a [Criterion], overall: &'a [u64], h: Option<&'a Hierarchy>) -> Models<'a> {
        Models {
            criteria: c,
            overall,
            rows: overall.iter().sum(),
            sensitive_hierarchy: h,
        }
    }

    #[test]
    fn l_diversity_variants() {
        let overall = [10, 10, 10];
        let hist = [(0, 6), (1, 2), (2, 2)];
        let m = |c: Criterion| models(&[c], &overall, None).class_ok(10, 10, &hist);
        let c = [Criterion::DistinctLDiversity { l: 3 }];
        assert!(models(&c, &overall, None).class_ok(10, 10, &hist));
        assert!(!m(Criterion::DistinctLDiversity { l: 4 }));
        // entropy of (.6,.2,.2) = 0.950 nats: l = e^0.95 = 2.59
        assert!(m(Criterion::EntropyLDiversity { l: 2.5 }));
        assert!(!m(Criterion::EntropyLDiversity { l: 2.7 }));
        // f1 = 6 < c · (f2 + f3) = c · 4 for l = 2
        assert!(m(Criterion::RecursiveClDiversity { c: 2.0, l: 2 }));
        assert!(!m(Criterion::RecursiveClDiversity { c: 1.5, l: 2 }));
    }

    #[test]
    fn d_presence_bounds_the_subset_share() {
        let c = [
            Criterion::DPresence {
                delta_min: 0.1,
                delta_max: 0.5,
            },
            Criterion::KAnonymity { k: 2 },
        ];
        let m = models(&c, &[], None);
        assert!(m.class_ok(2, 4, &[]));
        assert!(m.class_ok(2, 20, &[]));
        assert!(!m.class_ok(3, 4, &[]), "share 0.75 > 0.5");
        assert!(!m.class_ok(2, 21, &[]), "share 0.095 < 0.1");
        assert!(!m.class_ok(1, 2, &[]), "k fails");
        // A class of the population alone: δ = 0, below δmin, whatever k says.
        assert!(!m.class_ok(0, 5, &[]));
        let lax = [Criterion::DPresence {
            delta_min: 0.0,
            delta_max: 0.5,
        }];
        assert!(models(&lax, &[], None).class_ok(0, 5, &[]));
        assert!(c[0].monotonic(false) && !c[0].monotonic(true));
        assert!(!c[0].needs_sensitive());
    }

    #[test]
    fn t_closeness_distances() {
        let overall = [5, 5];
        let m = models(&[Criterion::EqualTCloseness { t: 0.2 }], &overall, None);
        assert!((m.equal_emd(&[(0, 7), (1, 3)], 10) - 0.2).abs() < 1e-12);
        assert!(m.class_ok(10, 10, &[(0, 7), (1, 3)]));
        assert!(!m.class_ok(10, 10, &[(0, 8), (1, 2)]));
        let h = Hierarchy::parse_arx("a;x;*\nb;x;*\nc;y;*\nd;y;*\n", b';').unwrap();
        let overall = [1, 1, 1, 1];
        let m = models(&[], &overall, Some(&h));
        // All mass on a: 0.25 moves a→b inside x (cost ½ each), 0.5 moves x→y (cost 1).
        let d = m.hierarchical_emd(&[(0, 4)], 4);
        assert!((d - (0.25 * 0.5 + 0.5 * 1.0)).abs() < 1e-12, "{d}");
        assert!(
            m.hierarchical_emd(&[(0, 1), (1, 1), (2, 1), (3, 1)], 4)
                .abs()
                < 1e-12
        );
    }
}
