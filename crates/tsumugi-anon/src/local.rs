//! Local recoding: multidimensional Mondrian (LeFevre, DeWitt and Ramakrishnan, 2006) along
//! the generalization hierarchies, as an alternative to one lattice node for every row.
//!
//! The table starts as the classes of the lattice's top node (one class when every hierarchy
//! ends at `*`); a class that fails a privacy model there is suppressed, within the limit.
//! Each other class is a *part*: a set of distinct quasi-identifier tuples, and per
//! quasi-identifier its label — the lowest common ancestor of its tuples' values in the
//! hierarchy. A part is split on one quasi-identifier by the children of its label: one part
//! per child, except that children whose rows fail a model are pooled into one remainder
//! (labelled by the lowest common ancestor of what it holds, often the parent itself), and
//! when the remainder still fails it absorbs the smallest other children until it passes.
//! Every part of a split must meet every per-class model (k, l-diversity, t-closeness, …,
//! checked by `privacy.rs` on the part's own rows and sensitive values); a split that cannot
//! give two such parts is not made. Of the quasi-identifiers that can split a part, the one
//! whose parts' labels lose least (the Loss figure below, summed over every quasi-identifier,
//! since a split on one can narrow the others' common ancestors too) is taken; a part that no
//! quasi-identifier can split is released as one class. With an average-risk model, splits
//! stop before the classes would exceed `risk · released rows`.
//!
//! Released values are labels of the hierarchies, at levels that differ from class to class.
//! Two classes whose labels read the same (a label repeated at two levels) are released as
//! one; that class is checked again and suppressed if it fails, so **every released class,
//! as the release's values group it, meets every model**.
//!
//! The work is on the distinct tuples with their row counts (`groupify`'s `Encoded`), never on
//! rows: a part is a slice of a permutation of the tuples, reordered in place at each split.
//! The candidate splits of a large part (one per quasi-identifier) are counted in parallel and
//! compared in quasi-identifier order, so the result does not depend on the threads.
//!
//! **Loss of a local recoding.** Every metric is computed cell by cell (`metric.rs`,
//! `evaluate_local`): a released cell labelled `G` at level `l` costs, for ARX's Loss, the
//! share of the domain under `G` (its hierarchy rows under `G`, normalized so that a leaf
//! costs 0 and `*` costs 1), for the entropy `log₂(c_G / c_x)` with `c_G` the table's rows
//! under `G`, for precision `l / (height − 1)`; suppressed rows cost as at a node. When every
//! class has the same levels the figures are exactly those of that lattice node, so the two
//! strategies can be compared.

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use crate::groupify::Encoded;
use crate::metric::{InfoLoss, LocalClasses, MetricTables};
use crate::privacy::{Criterion, Models};
use crate::quasi::{Policy, QuasiTable};
use crate::{Error, Result};

/// What a local recoding released, in figures (`report.json`'s `local`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalSummary {
    /// Distinct quasi-identifier tuples recoded.
    pub distinct_tuples: u64,
    /// Classes released.
    pub classes: u64,
    /// Rows suppressed.
    pub suppressed_rows: u64,
    /// Splits made.
    pub splits: u64,
    /// Per quasi-identifier, released rows at each level (index: level).
    pub rows_per_level: Vec<Vec<u64>>,
    /// The loss of the release under the policy's metric, cell by cell.
    pub loss: InfoLoss,
}

/// A local recoding of one [`QuasiTable`]: every distinct tuple's class and every class's
/// label per quasi-identifier. Made by [`QuasiTable::recode_locally`], applied by
/// [`QuasiTable::apply_local`].
#[derive(Debug, Clone)]
pub struct LocalRecoding {
    /// Per distinct tuple, its class.
    tuple_class: Vec<u32>,
    /// Per class, `(level, value id)` per quasi-identifier, flattened.
    labels: Vec<(u8, u32)>,
    /// Per class, whether it is released.
    kept: Vec<bool>,
    summary: LocalSummary,
}

impl LocalRecoding {
    /// Its figures.
    pub fn summary(&self) -> &LocalSummary {
        &self.summary
    }

    /// The highest level any released row has, per quasi-identifier.
    pub fn highest_levels(&self) -> Vec<u8> {
        self.summary
            .rows_per_level
            .iter()
            .map(|rows| {
                rows.iter()
                    .rposition(|&n| n > 0)
                    .map_or(0, |l| u8::try_from(l).unwrap_or(u8::MAX))
            })
            .collect()
    }
}

/// A part being split: `order[start..end]` holds its tuples.
struct Part {
    start: usize,
    end: usize,
    /// Its label's level per quasi-identifier (the lowest common ancestor).
    levels: Vec<u8>,
}

/// A possible split of one part.
struct Split {
    /// Per tuple of the part (in its order), its new part.
    part_of: Vec<u32>,
    /// Per new part, its levels.
    levels: Vec<Vec<u8>>,
    /// Loss removed, in rows × normalized cell loss summed over quasi-identifiers.
    gain: f64,
}

/// What one recoding reads (shared by the candidate splits counted in parallel).
struct Mondrian<'a> {
    e: &'a Encoded,
    models: Models<'a>,
    need_hist: bool,
    /// Per quasi-identifier, `1 / (domain − 1)` (0 for a domain of one).
    scale: Vec<f64>,
}

/// Working memory of one candidate split: a slot per value id of its quasi-identifier
/// (`u32::MAX` when free), and a count per sensitive value (0 when free). Both are left free
/// after each use.
struct Scratch {
    slots: Vec<u32>,
    dense: Vec<u32>,
}

/// Parts of at least this many tuples have their candidate splits counted in parallel.
const PARALLEL_MIN: usize = 4096;

impl Mondrian<'_> {
    fn leaf(&self, t: u32, j: usize) -> u32 {
        self.e.leaf(t, j)
    }

    /// The normalized loss of a cell labelled `(level, id)` of quasi-identifier `j`.
    fn cell_loss(&self, j: usize, level: u8, id: u32) -> f64 {
        let under = self.e.hierarchies[j].rows_under(usize::from(level), id);
        f64::from(under.saturating_sub(1)) * self.scale[j]
    }

    /// The sensitive histogram of `tuples` (empty without a model that needs one).
    fn hist(&self, dense: &mut [u32], tuples: impl Iterator<Item = u32>) -> Vec<(u32, u32)> {
        if !self.need_hist {
            return Vec::new();
        }
        let mut touched = Vec::new();
        for t in tuples {
            for &(v, n) in &self.e.bottom.sensitive[t as usize] {
                let slot = &mut dense[v as usize];
                if *slot == 0 {
                    touched.push(v);
                }
                *slot += n;
            }
        }
        touched.sort_unstable();
        touched
            .into_iter()
            .map(|v| {
                let n = std::mem::take(&mut dense[v as usize]);
                (v, n)
            })
            .collect()
    }

    fn ok(&self, rows: u64, hist: &[(u32, u32)]) -> bool {
        // No research subset here (refused): a class's population is its rows.
        let rows = u32::try_from(rows).unwrap_or(u32::MAX);
        self.models.class_ok(rows, rows, hist)
    }

    fn rows(&self, tuples: &[u32]) -> u64 {
        tuples
            .iter()
            .map(|&t| u64::from(self.e.bottom.count[t as usize]))
            .sum()
    }

    /// The lowest common ancestor's level per quasi-identifier of the tuples given, each
    /// tagged with its part, for `parts` parts at most `bound` high.
    fn common_levels(
        &self,
        tagged: impl Iterator<Item = (u32, u32)>,
        parts: usize,
        bound: &[u8],
    ) -> Vec<Vec<u8>> {
        let m = self.e.width();
        let mut first: Vec<Option<u32>> = vec![None; parts];
        let mut levels = vec![vec![0u8; m]; parts];
        for (t, p) in tagged {
            let p = p as usize;
            let Some(f) = first[p] else {
                first[p] = Some(t);
                continue;
            };
            for (j, level) in levels[p].iter_mut().enumerate() {
                let h = &self.e.hierarchies[j];
                let (a, b) = (self.leaf(t, j), self.leaf(f, j));
                while *level < bound[j]
                    && h.generalize(usize::from(*level), a) != h.generalize(usize::from(*level), b)
                {
                    *level += 1;
                }
            }
        }
        levels
    }

    /// The split of `tuples` (at `levels`) on quasi-identifier `j`, if one gives two parts
    /// that meet the models.
    fn split_on(
        &self,
        scratch: &mut Scratch,
        tuples: &[u32],
        levels: &[u8],
        j: usize,
    ) -> Option<Split> {
        let below = usize::from(levels[j].checked_sub(1)?);
        let h = &self.e.hierarchies[j];
        // Children of the label: group index per tuple.
        let mut group_of = Vec::with_capacity(tuples.len());
        let mut group_id: Vec<u32> = Vec::new();
        let mut group_rows: Vec<u64> = Vec::new();
        for &t in tuples {
            let id = h.generalize(below, self.e.leaf(t, j));
            let slot = &mut scratch.slots[id as usize];
            if *slot == u32::MAX {
                *slot = group_rows.len() as u32;
                group_id.push(id);
                group_rows.push(0);
            }
            let g = *slot;
            group_rows[g as usize] += u64::from(self.e.bottom.count[t as usize]);
            group_of.push(g);
        }
        for &id in &group_id {
            scratch.slots[id as usize] = u32::MAX;
        }
        let n_groups = group_rows.len();
        if n_groups < 2 {
            return None;
        }
        // The tuples of each group, for their histograms.
        let members: Vec<Vec<u32>> = if self.need_hist {
            let mut m = vec![Vec::new(); n_groups];
            for (&t, &g) in tuples.iter().zip(&group_of) {
                m[g as usize].push(t);
            }
            m
        } else {
            Vec::new()
        };
        let hists: Vec<Vec<(u32, u32)>> = (0..n_groups)
            .map(|g| match members.get(g) {
                Some(ts) => self.hist(&mut scratch.dense, ts.iter().copied()),
                None => Vec::new(),
            })
            .collect();
        let passes: Vec<bool> = (0..n_groups)
            .map(|g| self.ok(group_rows[g], &hists[g]))
            .collect();
        // Failing children pooled; the pool takes the smallest passing children until it
        // passes.
        let mut pooled: Vec<bool> = passes.iter().map(|p| !p).collect();
        if pooled.iter().any(|p| *p) {
            let mut by_size: Vec<usize> = (0..n_groups).filter(|&g| passes[g]).collect();
            by_size.sort_by_key(|&g| (group_rows[g], g));
            let mut next = by_size.into_iter();
            loop {
                let rows: u64 = (0..n_groups)
                    .filter(|&g| pooled[g])
                    .map(|g| group_rows[g])
                    .sum();
                let hist = if self.need_hist {
                    let ts: Vec<u32> = (0..n_groups)
                        .filter(|&g| pooled[g])
                        .flat_map(|g| members[g].iter().copied())
                        .collect();
                    self.hist(&mut scratch.dense, ts.into_iter())
                } else {
                    Vec::new()
                };
                if self.ok(rows, &hist) {
                    break;
                }
                match next.next() {
                    Some(g) => pooled[g] = true,
                    None => return None,
                }
            }
        }
        // Parts: each unpooled child, then the pool.
        let mut part_of_group = vec![0u32; n_groups];
        let mut parts = 0u32;
        for g in 0..n_groups {
            if !pooled[g] {
                part_of_group[g] = parts;
                parts += 1;
            }
        }
        if pooled.iter().any(|p| *p) {
            for g in 0..n_groups {
                if pooled[g] {
                    part_of_group[g] = parts;
                }
            }
            parts += 1;
        }
        if parts < 2 {
            return None;
        }
        let part_of: Vec<u32> = group_of
            .iter()
            .map(|&g| part_of_group[g as usize])
            .collect();
        let new_levels = self.common_levels(
            tuples.iter().copied().zip(part_of.iter().copied()),
            parts as usize,
            levels,
        );
        // Gain: per part, its rows times the loss its narrower labels save.
        let mut first: Vec<Option<u32>> = vec![None; parts as usize];
        let mut part_rows = vec![0u64; parts as usize];
        for (&t, &p) in tuples.iter().zip(&part_of) {
            first[p as usize].get_or_insert(t);
            part_rows[p as usize] += u64::from(self.e.bottom.count[t as usize]);
        }
        let any = tuples.first().copied()?;
        let mut gain = 0.0;
        for (p, lv) in new_levels.iter().enumerate() {
            let Some(f) = first[p] else { continue };
            let mut saved = 0.0;
            for (jj, (&old, &new)) in levels.iter().zip(lv).enumerate() {
                let hh = &self.e.hierarchies[jj];
                saved +=
                    self.cell_loss(jj, old, hh.generalize(usize::from(old), self.leaf(any, jj)))
                        - self.cell_loss(
                            jj,
                            new,
                            hh.generalize(usize::from(new), self.leaf(f, jj)),
                        );
            }
            gain += part_rows[p] as f64 * saved;
        }
        Some(Split {
            part_of,
            levels: new_levels,
            gain,
        })
    }
}

impl QuasiTable {
    /// Recodes the table locally under `policy` (multidimensional Mondrian along the
    /// hierarchies; see the module documentation): each class of rows gets its own level per
    /// quasi-identifier. `policy.strategy` is not consulted.
    ///
    /// # Guarantee
    /// Every released class — rows grouped by their released values — meets every
    /// per-class model of `policy`, the release meets the release-wide ones (average risk),
    /// and suppressed rows ≤ ⌊`suppression_limit` · rows⌋.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a policy this table cannot serve, and for a table with a
    /// research subset (δ-presence is not supported by local recoding); [`Error::NoSolution`]
    /// when the classes of the top node that fail the models exceed the suppression limit.
    pub fn recode_locally(&self, policy: &Policy) -> Result<LocalRecoding> {
        self.check(policy)?;
        let e = self.encoded();
        if e.subset.is_some() {
            return Err(Error::InvalidConfig(
                "strategy \"local\" does not take a research subset (subset_column, δ-presence) yet; use the lattice search".into(),
            ));
        }
        let m = e.width();
        let n_rows = e.rows() as u64;
        let limit_rows = (policy.suppression_limit * n_rows as f64).floor() as u64;
        let models = Models {
            criteria: &policy.criteria,
            overall: &e.sensitive_counts,
            rows: n_rows,
            sensitive_hierarchy: e.sensitive_hierarchy.as_ref(),
        };
        let mondrian = Mondrian {
            e,
            models,
            need_hist: policy.criteria.iter().any(Criterion::needs_sensitive),
            scale: e
                .hierarchies
                .iter()
                .map(|h| {
                    let d = h.domain_size();
                    if d > 1 { 1.0 / (d - 1) as f64 } else { 0.0 }
                })
                .collect(),
        };
        let mut scratch: Vec<Scratch> = e
            .hierarchies
            .iter()
            .map(|h| Scratch {
                slots: vec![u32::MAX; h.domain_size()],
                dense: vec![0; e.sensitive_counts.len()],
            })
            .collect();
        let mut dense = vec![0u32; e.sensitive_counts.len()];
        let top: Vec<u8> = e
            .hierarchies
            .iter()
            .map(|h| u8::try_from(h.height() - 1).unwrap_or(u8::MAX))
            .collect();
        // The roots: the classes of the top node.
        let (roots, into) = e.rollup(&e.bottom, &top);
        let mut order: Vec<u32> = (0..e.bottom.len() as u32).collect();
        order.sort_by_key(|&t| into[t as usize]);
        let mut bounds = vec![0usize; roots.len() + 1];
        for &r in &into {
            bounds[r as usize + 1] += 1;
        }
        for r in 0..roots.len() {
            bounds[r + 1] += bounds[r];
        }
        let mut tuple_class = vec![u32::MAX; e.bottom.len()];
        let mut labels: Vec<(u8, u32)> = Vec::new();
        let mut kept: Vec<bool> = Vec::new();
        let mut stack: Vec<Part> = Vec::new();
        let mut suppressed = 0u64;
        let mut finish = |tuples: &[u32],
                          levels: &[u8],
                          keep: bool,
                          labels: &mut Vec<(u8, u32)>,
                          kept: &mut Vec<bool>| {
            let class = kept.len() as u32;
            let Some(&f) = tuples.first() else { return };
            for (j, &l) in levels.iter().enumerate() {
                labels.push((l, e.value(f, j, l)));
            }
            kept.push(keep);
            for &t in tuples {
                tuple_class[t as usize] = class;
            }
        };
        for r in (0..roots.len()).rev() {
            let tuples = &order[bounds[r]..bounds[r + 1]];
            let hist = mondrian.hist(&mut dense, tuples.iter().copied());
            let rows = mondrian.rows(tuples);
            if mondrian.ok(rows, &hist) {
                let levels = mondrian
                    .common_levels(tuples.iter().map(|&t| (t, 0)), 1, &top)
                    .pop()
                    .unwrap_or_else(|| top.clone());
                stack.push(Part {
                    start: bounds[r],
                    end: bounds[r + 1],
                    levels,
                });
            } else {
                suppressed += rows;
                finish(tuples, &top, false, &mut labels, &mut kept);
            }
        }
        let released_rows = n_rows - suppressed;
        if suppressed > limit_rows
            || !mondrian
                .models
                .release_ok(stack.len() as u64, released_rows)
        {
            return Err(Error::NoSolution { checked: 1 });
        }
        // The most classes an average-risk model allows.
        let cap: Option<u64> = policy
            .criteria
            .iter()
            .filter_map(|c| match *c {
                Criterion::AverageRisk { risk } => {
                    Some((risk * released_rows as f64).floor() as u64)
                }
                _ => None,
            })
            .min();
        let mut classes = stack.len() as u64;
        let mut splits = 0u64;
        let mut buffer: Vec<u32> = Vec::new();
        while let Some(part) = stack.pop() {
            let tuples = &order[part.start..part.end];
            // One candidate per quasi-identifier, each with its own scratch: counted in
            // parallel for large parts, and compared in quasi-identifier order either way.
            let candidates: Vec<Option<Split>> = if tuples.len() >= PARALLEL_MIN {
                scratch
                    .par_iter_mut()
                    .enumerate()
                    .map(|(j, s)| mondrian.split_on(s, tuples, &part.levels, j))
                    .collect()
            } else {
                scratch
                    .iter_mut()
                    .enumerate()
                    .map(|(j, s)| mondrian.split_on(s, tuples, &part.levels, j))
                    .collect()
            };
            let mut best: Option<Split> = None;
            for s in candidates.into_iter().flatten() {
                let fits = cap.is_none_or(|c| classes + s.levels.len() as u64 - 1 <= c);
                if fits && best.as_ref().is_none_or(|b| s.gain > b.gain) {
                    best = Some(s);
                }
            }
            let Some(split) = best else {
                let tuples = order[part.start..part.end].to_vec();
                finish(&tuples, &part.levels, true, &mut labels, &mut kept);
                continue;
            };
            splits += 1;
            classes += split.levels.len() as u64 - 1;
            // Reorder the part's tuples by new part (stable), then queue the parts, first on top.
            let n_parts = split.levels.len();
            let mut starts = vec![0usize; n_parts + 1];
            for &p in &split.part_of {
                starts[p as usize + 1] += 1;
            }
            for p in 0..n_parts {
                starts[p + 1] += starts[p];
            }
            buffer.clear();
            buffer.resize(tuples.len(), 0);
            let mut fill = starts.clone();
            for (&t, &p) in tuples.iter().zip(&split.part_of) {
                buffer[fill[p as usize]] = t;
                fill[p as usize] += 1;
            }
            order[part.start..part.end].copy_from_slice(&buffer);
            for (p, levels) in split.levels.into_iter().enumerate().rev() {
                stack.push(Part {
                    start: part.start + starts[p],
                    end: part.start + starts[p + 1],
                    levels,
                });
            }
        }
        // Classes as the release groups them: those whose labels read the same are one.
        let (kept, released_classes) =
            self.merge_same_labels(&mondrian, &tuple_class, &labels, kept);
        // The guarantee, checked on the classes as released.
        let mut class_rows = vec![0u64; kept.len()];
        for (t, &c) in tuple_class.iter().enumerate() {
            class_rows[c as usize] += u64::from(e.bottom.count[t]);
        }
        let suppressed: u64 = class_rows
            .iter()
            .zip(&kept)
            .filter(|(_, k)| !**k)
            .map(|(r, _)| r)
            .sum();
        if suppressed > limit_rows
            || !mondrian
                .models
                .release_ok(released_classes, n_rows - suppressed)
        {
            return Err(Error::NoSolution { checked: 1 });
        }
        let metric = MetricTables::new(policy.metric, e);
        let loss = metric.evaluate_local(
            e,
            &LocalClasses {
                tuple_class: &tuple_class,
                labels: &labels,
                rows: &class_rows,
                kept: &kept,
            },
        );
        let mut rows_per_level: Vec<Vec<u64>> =
            e.hierarchies.iter().map(|h| vec![0; h.height()]).collect();
        for (c, (&rows, &k)) in class_rows.iter().zip(&kept).enumerate() {
            if k {
                for (j, per) in rows_per_level.iter_mut().enumerate() {
                    per[usize::from(labels[c * m + j].0)] += rows;
                }
            }
        }
        Ok(LocalRecoding {
            tuple_class,
            labels,
            kept,
            summary: LocalSummary {
                distinct_tuples: e.bottom.len() as u64,
                classes: released_classes,
                suppressed_rows: suppressed,
                splits,
                rows_per_level,
                loss,
            },
        })
    }

    /// Classes whose labels read the same are one class in the release: checks each such
    /// union again and suppresses it if it fails a model. Returns per class whether it is
    /// released, and the classes of the release.
    fn merge_same_labels(
        &self,
        mondrian: &Mondrian<'_>,
        tuple_class: &[u32],
        labels: &[(u8, u32)],
        mut kept: Vec<bool>,
    ) -> (Vec<bool>, u64) {
        let e = self.encoded();
        let m = e.width();
        let text = |c: usize| -> Vec<&str> {
            (0..m)
                .map(|j| {
                    let (l, id) = labels[c * m + j];
                    e.hierarchies[j].label(usize::from(l), id)
                })
                .collect()
        };
        // Per class, the first class of its text.
        let mut first: HashMap<Vec<&str>, u32> = HashMap::default();
        let mut union: Vec<u32> = Vec::with_capacity(kept.len());
        for (c, &k) in kept.iter().enumerate() {
            union.push(if k {
                *first.entry(text(c)).or_insert(c as u32)
            } else {
                c as u32
            });
        }
        let released = first.len() as u64;
        if union.iter().enumerate().all(|(c, &u)| u == c as u32) {
            return (kept, released);
        }
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); kept.len()];
        for (t, &c) in tuple_class.iter().enumerate() {
            members[union[c as usize] as usize].push(t as u32);
        }
        let mut dense = vec![0u32; e.sensitive_counts.len()];
        let mut failed = vec![false; kept.len()];
        for (u, ts) in members.iter().enumerate() {
            if kept[u] && !ts.is_empty() {
                let hist = mondrian.hist(&mut dense, ts.iter().copied());
                failed[u] = !mondrian.ok(mondrian.rows(ts), &hist);
            }
        }
        let mut released = released;
        for (u, f) in failed.iter().enumerate() {
            released -= u64::from(*f && union[u] == u as u32);
        }
        for (c, k) in kept.iter_mut().enumerate() {
            *k = *k && !failed[union[c] as usize];
        }
        (kept, released)
    }

    /// Applies a local recoding of this table: per row, its released values (in
    /// quasi-identifier order), or `None` when suppressed.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `recoding` was made for another table, or for a table
    /// built by [`QuasiTable::from_tuples`], which holds no rows.
    pub fn apply_local(&self, recoding: &LocalRecoding) -> Result<Vec<Option<Vec<&str>>>> {
        self.holds_rows()?;
        let e = self.encoded();
        let m = e.width();
        if recoding.tuple_class.len() != e.bottom.len()
            || recoding.labels.len() != recoding.kept.len() * m
        {
            return Err(Error::InvalidConfig(
                "the local recoding was made for another table".into(),
            ));
        }
        let released: Vec<Option<Vec<&str>>> = recoding
            .kept
            .iter()
            .enumerate()
            .map(|(c, &k)| {
                k.then(|| {
                    (0..m)
                        .map(|j| {
                            let (l, id) = recoding.labels[c * m + j];
                            e.hierarchies[j].label(usize::from(l), id)
                        })
                        .collect()
                })
            })
            .collect();
        Ok(e.row_tuple
            .iter()
            .map(|&t| released[recoding.tuple_class[t as usize] as usize].clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hierarchy::Hierarchy;
    use crate::metric::{Aggregate, Metric};

    /// Cell by cell, a recoding whose classes all have a node's levels costs what the node
    /// costs, under every metric.
    #[test]
    fn local_loss_equals_the_node_loss_when_every_class_has_its_levels() {
        let sex = Hierarchy::parse_arx("M;*\nF;*\n", b';').unwrap();
        let age = Hierarchy::parse_arx("1;0-4;*\n2;0-4;*\n7;5-9;*\n8;5-9;*\n", b';').unwrap();
        let cols = vec![vec![0, 0, 1, 1, 0, 1, 0, 1], vec![0, 1, 2, 2, 0, 3, 1, 0]];
        let sens = [0, 1, 1, 0, 1, 0, 0, 1];
        let e = Encoded::new(vec![sex, age], &cols, Some((&sens, 2, None)));
        let criteria = [Criterion::KAnonymity { k: 2 }];
        let models = Models {
            criteria: &criteria,
            overall: &e.sensitive_counts,
            rows: e.rows() as u64,
            sensitive_hierarchy: None,
        };
        let metrics = [
            Metric::default(),
            Metric::Loss {
                gs_factor: 0.3,
                aggregate: Aggregate::ArithmeticMean,
            },
            Metric::Entropy { monotonic: false },
            Metric::Entropy { monotonic: true },
            Metric::Discernibility { monotonic: false },
            Metric::Aecs,
            Metric::Precision { monotonic: false },
            Metric::Height,
        ];
        for levels in [[0u8, 0], [0, 1], [1, 1], [1, 2], [0, 2]] {
            let (classes, into) = e.rollup(&e.bottom, &levels);
            let kept: Vec<bool> = (0..classes.len())
                .map(|c| models.class_ok(classes.count[c], classes.count[c], &classes.sensitive[c]))
                .collect();
            let e = &e;
            let labels: Vec<(u8, u32)> = classes
                .rep
                .iter()
                .flat_map(|&t| (0..2).map(move |j| (levels[j], e.value(t, j, levels[j]))))
                .collect();
            let rows: Vec<u64> = classes.count.iter().map(|&c| u64::from(c)).collect();
            for metric in metrics {
                let tables = MetricTables::new(metric, e);
                let node = tables.evaluate(e, &levels, &classes, &kept);
                let local = tables.evaluate_local(
                    e,
                    &LocalClasses {
                        tuple_class: &into,
                        labels: &labels,
                        rows: &rows,
                        kept: &kept,
                    },
                );
                let close = node
                    .value
                    .iter()
                    .zip(&local.value)
                    .all(|(a, b)| (a - b).abs() < 1e-9);
                // Height's node figure is the sum of levels; its local figure the sum of mean
                // levels, the same when every row has the node's levels.
                assert!(
                    close && node.value.len() == local.value.len(),
                    "{metric:?} at {levels:?}: node {node:?}, local {local:?}"
                );
            }
        }
    }
}
