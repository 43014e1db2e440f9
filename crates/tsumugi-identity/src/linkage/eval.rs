//! Linkage quality against ground truth: pairwise and cluster precision, recall and F1, recall
//! per noise type, and twins merged.

use std::collections::HashMap;

use serde::Serialize;

/// Precision, recall and F1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scores {
    /// Found that are true.
    pub precision: f64,
    /// True that are found.
    pub recall: f64,
    /// Their harmonic mean.
    pub f1: f64,
}

impl Scores {
    fn of(tp: u64, found: u64, truth: u64) -> Scores {
        let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(tp, found), ratio(tp, truth));
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Scores {
            precision,
            recall,
            f1,
        }
    }
}

/// Recall of the true pairs that involve a record with one noise tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseRecall {
    /// The tag.
    pub noise: String,
    /// Records carrying it.
    pub records: u64,
    /// True pairs involving those records.
    pub true_pairs: u64,
    /// Of those, pairs linked.
    pub linked_pairs: u64,
    /// `linked_pairs / true_pairs`.
    pub recall: f64,
}

/// Everything [`evaluate`] measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Records evaluated.
    pub records: u64,
    /// True persons.
    pub true_persons: u64,
    /// Clusters found.
    pub found_clusters: u64,
    /// Over pairs of records.
    pub pairwise: Scores,
    /// Over clusters: a found cluster is right when it is exactly one true person's records.
    pub cluster: Scores,
    /// Per noise tag, where tags were given.
    pub noise: Vec<NoiseRecall>,
    /// Pairs of twins (persons named in `twins`) whose records share a cluster.
    pub twins_merged: u64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Compares `found` cluster labels with `truth` person labels, record by record (both slices
/// the same length). `noise` gives each record's tags; `twins` pairs of true person labels.
pub fn evaluate<F, T>(
    found: &[F],
    truth: &[T],
    noise: Option<&[Vec<String>]>,
    twins: &[(T, T)],
) -> Evaluation
where
    F: std::hash::Hash + Eq + Clone,
    T: std::hash::Hash + Eq + Clone,
{
    let mut cells: HashMap<(&F, &T), u64> = HashMap::new();
    let mut by_found: HashMap<&F, u64> = HashMap::new();
    let mut by_true: HashMap<&T, u64> = HashMap::new();
    for (f, t) in found.iter().zip(truth) {
        *cells.entry((f, t)).or_default() += 1;
        *by_found.entry(f).or_default() += 1;
        *by_true.entry(t).or_default() += 1;
    }
    let tp: u64 = cells.values().map(|n| pairs(*n)).sum();
    let found_pairs: u64 = by_found.values().map(|n| pairs(*n)).sum();
    let true_pairs: u64 = by_true.values().map(|n| pairs(*n)).sum();
    // A cluster is exact when it is one cell that is its true person's whole size and its
    // found cluster's whole size.
    let exact = cells
        .iter()
        .filter(|((f, t), n)| by_found.get(f) == Some(n) && by_true.get(t) == Some(n))
        .count() as u64;
    let mut noise_out = Vec::new();
    if let Some(tags) = noise {
        let mut acc: std::collections::BTreeMap<&str, (u64, u64, u64)> = Default::default();
        for ((f, t), tags) in found.iter().zip(truth).zip(tags) {
            let partners = by_true.get(t).copied().unwrap_or(1) - 1;
            let linked = cells.get(&(f, t)).copied().unwrap_or(1) - 1;
            for tag in tags {
                let e = acc.entry(tag.as_str()).or_default();
                e.0 += 1;
                e.1 += partners;
                e.2 += linked;
            }
        }
        noise_out = acc
            .into_iter()
            .map(|(tag, (records, true_pairs, linked_pairs))| NoiseRecall {
                noise: tag.to_owned(),
                records,
                true_pairs,
                linked_pairs,
                recall: if true_pairs == 0 {
                    1.0
                } else {
                    linked_pairs as f64 / true_pairs as f64
                },
            })
            .collect();
    }
    let mut clusters_of: HashMap<&T, Vec<&F>> = HashMap::new();
    for (f, t) in found.iter().zip(truth) {
        clusters_of.entry(t).or_default().push(f);
    }
    let twins_merged = twins
        .iter()
        .filter(|(a, b)| {
            let (Some(fa), Some(fb)) = (clusters_of.get(a), clusters_of.get(b)) else {
                return false;
            };
            fa.iter().any(|x| fb.contains(x))
        })
        .count() as u64;
    Evaluation {
        records: found.len() as u64,
        true_persons: by_true.len() as u64,
        found_clusters: by_found.len() as u64,
        pairwise: Scores::of(tp, found_pairs, true_pairs),
        cluster: Scores::of(exact, by_found.len() as u64, by_true.len() as u64),
        noise: noise_out,
        twins_merged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_split_clusterings() {
        let truth = ["a", "a", "b", "b", "c"];
        let e = evaluate(&[1, 1, 2, 2, 3], &truth, None, &[]);
        assert_eq!((e.pairwise.f1, e.cluster.f1), (1.0, 1.0));
        let e = evaluate(&[1, 4, 2, 2, 3], &truth, None, &[("a", "b")]);
        assert_eq!(e.pairwise.precision, 1.0);
        assert_eq!(e.pairwise.recall, 0.5);
        assert!((e.cluster.precision - 2.0 / 4.0).abs() < 1e-12);
        assert!((e.cluster.recall - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(e.twins_merged, 0);
        let e = evaluate(&[1, 1, 1, 1, 3], &truth, None, &[("a", "b")]);
        assert_eq!(e.twins_merged, 1);
        assert!((e.pairwise.precision - 2.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn noise_recall_counts_pairs_of_tagged_records() {
        let truth = ["a", "a", "a"];
        let tags = vec![vec!["old_surname".to_owned()], vec![], vec![]];
        let e = evaluate(&[1, 2, 2], &truth, Some(&tags), &[]);
        assert_eq!(e.noise.len(), 1);
        assert_eq!((e.noise[0].true_pairs, e.noise[0].linked_pairs), (2, 0));
    }
}
