//! Equivalence classes of a node, counted on dictionary-encoded data.
//!
//! The rows are first grouped by their tuple of leaf ids (the distinct quasi-identifier
//! combinations, each with its row count and its histogram of sensitive values). A node's
//! classes are then counted over those tuples — or, cheaper, over the classes of a node below
//! it (a roll-up: every class of the lower node lies within one class of the higher, because
//! hierarchies are trees). Keys are the generalized ids packed into one `u128` when they fit,
//! else numbered column by column.

use rustc_hash::FxHashMap as HashMap;

use crate::hierarchy::Hierarchy;

/// Rows grouped by their leaf tuple, ready for the search.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub(crate) hierarchies: Vec<Hierarchy>,
    /// Distinct leaf tuples, `m` ids each, flattened.
    pub(crate) tuples: Vec<u32>,
    /// The classes at the bottom node: one per tuple.
    pub(crate) bottom: Classes,
    /// The tuple of every row (empty when built from grouped tuples, which hold no rows).
    pub(crate) row_tuple: Vec<u32>,
    /// Rows.
    pub(crate) n_rows: usize,
    /// Per quasi-identifier, rows per leaf.
    pub(crate) leaf_counts: Vec<Vec<u64>>,
    /// Rows per sensitive value over the whole table (empty without one).
    pub(crate) sensitive_counts: Vec<u64>,
    /// The sensitive attribute's hierarchy, for hierarchical t-closeness.
    pub(crate) sensitive_hierarchy: Option<Hierarchy>,
    /// The research subset (δ-presence); `None`: every row may be released.
    pub(crate) subset: Option<Subset>,
}

/// A research subset of the rows.
#[derive(Debug, Clone)]
pub(crate) struct Subset {
    /// Per row, whether it is in the subset.
    pub(crate) rows: Vec<bool>,
    /// Rows in it.
    pub(crate) len: usize,
}

/// A sensitive attribute of grouped tuples: per tuple its `(value id, rows)` histogram, the
/// number of value ids, and the hierarchy (for hierarchical t-closeness).
pub(crate) type TupleHistograms<'a> = (&'a [Vec<(u32, u32)>], usize, Option<Hierarchy>);

/// The classes of one node.
#[derive(Debug, Clone, Default)]
pub(crate) struct Classes {
    /// Per class, one of its tuples (any: they agree on every generalized value).
    pub rep: Vec<u32>,
    /// Per class, its rows.
    pub count: Vec<u32>,
    /// Per class, `(sensitive value, rows)` sorted by value; empty without a sensitive
    /// attribute.
    pub sensitive: Vec<Vec<(u32, u32)>>,
    /// Per class, its rows in the population when there is a research subset (`count` then
    /// counts the subset's rows); empty without one.
    pub population: Vec<u32>,
}

impl Classes {
    pub(crate) fn len(&self) -> usize {
        self.rep.len()
    }
}

/// Packs generalized ids into one key where their widths fit in 128 bits.
struct Packer {
    shifts: Vec<u32>,
}

impl Packer {
    fn new(widths: impl Iterator<Item = usize>) -> Option<Packer> {
        let mut shifts = Vec::new();
        let mut bits = 0u32;
        for w in widths {
            shifts.push(bits);
            bits += usize::BITS - w.saturating_sub(1).leading_zeros();
            if bits > 128 {
                return None;
            }
        }
        Some(Packer { shifts })
    }
}

impl Encoded {
    /// Encodes rows given as leaf ids per quasi-identifier (`columns[j][row]`, ids of
    /// `hierarchies[j]`) and, optionally, a sensitive value id per row.
    pub(crate) fn new(
        hierarchies: Vec<Hierarchy>,
        columns: &[Vec<u32>],
        sensitive: Option<(&[u32], usize, Option<Hierarchy>)>,
    ) -> Encoded {
        let n = columns.first().map_or(0, Vec::len);
        let m = columns.len();
        let leaf_counts: Vec<Vec<u64>> = hierarchies
            .iter()
            .zip(columns)
            .map(|(h, col)| {
                let mut c = vec![0u64; h.domain_size()];
                for &v in col {
                    c[v as usize] += 1;
                }
                c
            })
            .collect();
        let mut index: HashMap<Vec<u32>, u32> = HashMap::default();
        let mut tuples = Vec::new();
        let mut count: Vec<u32> = Vec::new();
        let mut sens: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut row_tuple = Vec::with_capacity(n);
        let mut key = vec![0u32; m];
        for r in 0..n {
            for (j, col) in columns.iter().enumerate() {
                key[j] = col[r];
            }
            let next = count.len() as u32;
            let t = *index.entry(key.clone()).or_insert_with(|| {
                tuples.extend_from_slice(&key);
                count.push(0);
                if sensitive.is_some() {
                    sens.push(Vec::new());
                }
                next
            });
            count[t as usize] += 1;
            if let Some((values, _, _)) = &sensitive {
                add_value(&mut sens[t as usize], values[r], 1);
            }
            row_tuple.push(t);
        }
        let sensitive_counts = match &sensitive {
            Some((values, width, _)) => {
                let mut c = vec![0u64; *width];
                for &v in *values {
                    c[v as usize] += 1;
                }
                c
            }
            None => Vec::new(),
        };
        let bottom = Classes {
            rep: (0..count.len() as u32).collect(),
            count,
            sensitive: sens,
            population: Vec::new(),
        };
        Encoded {
            hierarchies,
            tuples,
            bottom,
            row_tuple,
            n_rows: n,
            leaf_counts,
            sensitive_counts,
            sensitive_hierarchy: sensitive.and_then(|s| s.2),
            subset: None,
        }
    }

    /// Encodes tuples already grouped elsewhere (a DataFusion plan): `columns[j][t]` is the
    /// leaf id of quasi-identifier `j` in tuple `t`, `rows[t]` its rows and, optionally,
    /// `sensitive[t]` its `(value id, rows)` histogram over `width` values. Tuples that meet
    /// the same leaves are merged; the result holds no rows, only their tuples.
    pub(crate) fn from_tuples(
        hierarchies: Vec<Hierarchy>,
        columns: &[Vec<u32>],
        rows: &[u32],
        sensitive: Option<TupleHistograms<'_>>,
    ) -> Encoded {
        let m = columns.len();
        let mut leaf_counts: Vec<Vec<u64>> = hierarchies
            .iter()
            .map(|h| vec![0u64; h.domain_size()])
            .collect();
        let mut index: HashMap<Vec<u32>, u32> = HashMap::default();
        let mut tuples = Vec::new();
        let mut count: Vec<u32> = Vec::new();
        let mut sens: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut key = vec![0u32; m];
        for (t, &n) in rows.iter().enumerate() {
            for (j, col) in columns.iter().enumerate() {
                key[j] = col[t];
                leaf_counts[j][col[t] as usize] += u64::from(n);
            }
            let next = count.len() as u32;
            let c = *index.entry(key.clone()).or_insert_with(|| {
                tuples.extend_from_slice(&key);
                count.push(0);
                if sensitive.is_some() {
                    sens.push(Vec::new());
                }
                next
            });
            count[c as usize] += n;
            if let Some((hists, _, _)) = &sensitive {
                for &(v, k) in &hists[t] {
                    add_value(&mut sens[c as usize], v, k);
                }
            }
        }
        let sensitive_counts = match &sensitive {
            Some((hists, width, _)) => {
                let mut c = vec![0u64; *width];
                for &(v, k) in hists.iter().flatten() {
                    c[v as usize] += u64::from(k);
                }
                c
            }
            None => Vec::new(),
        };
        let n_rows = rows.iter().map(|&n| n as usize).sum();
        let bottom = Classes {
            rep: (0..count.len() as u32).collect(),
            count,
            sensitive: sens,
            population: Vec::new(),
        };
        Encoded {
            hierarchies,
            tuples,
            bottom,
            row_tuple: Vec::new(),
            n_rows,
            leaf_counts,
            sensitive_counts,
            sensitive_hierarchy: sensitive.and_then(|s| s.2),
            subset: None,
        }
    }

    /// Number of quasi-identifiers.
    pub(crate) fn width(&self) -> usize {
        self.hierarchies.len()
    }

    /// Rows that may be released: the research subset's, or every row.
    pub(crate) fn rows(&self) -> usize {
        self.subset.as_ref().map_or(self.n_rows, |s| s.len)
    }

    /// The leaf id of quasi-identifier `j` in tuple `t`.
    pub(crate) fn leaf(&self, t: u32, j: usize) -> u32 {
        self.tuples[t as usize * self.width() + j]
    }

    /// The generalized id of quasi-identifier `j` of tuple `t` at `level`.
    pub(crate) fn value(&self, t: u32, j: usize, level: u8) -> u32 {
        self.hierarchies[j].generalize(usize::from(level), self.leaf(t, j))
    }

    /// The classes of node `levels`, rolled up from `from` (the bottom's or a lower node's).
    /// Also returns, per class of `from`, the class it fell into.
    pub(crate) fn rollup(&self, from: &Classes, levels: &[u8]) -> (Classes, Vec<u32>) {
        let m = self.width();
        let packer = Packer::new(
            self.hierarchies
                .iter()
                .zip(levels)
                .map(|(h, &l)| h.width(usize::from(l))),
        );
        // Few possible keys: a dense table, no hashing.
        let widths: Vec<u64> = self
            .hierarchies
            .iter()
            .zip(levels)
            .map(|(h, &l)| h.width(usize::from(l)) as u64)
            .collect();
        let space = widths.iter().try_fold(1u64, |p, &w| p.checked_mul(w));
        let dense_limit = 4 * from.len() as u64 + (1 << 16);
        if let Some(space) = space.filter(|&s| s <= dense_limit) {
            let mut strides = Vec::with_capacity(m);
            let mut stride = 1u64;
            for w in &widths {
                strides.push(stride as u32);
                stride *= w;
            }
            let mut slot = vec![u32::MAX; space as usize];
            let maps: Vec<&[u32]> = self
                .hierarchies
                .iter()
                .zip(levels)
                .map(|(h, &l)| h.level(usize::from(l)))
                .collect();
            return self.group(from, |_, t, next| {
                let tuple = &self.tuples[t as usize * m..(t as usize + 1) * m];
                let key: u32 = tuple
                    .iter()
                    .zip(&maps)
                    .zip(&strides)
                    .map(|((&leaf, map), &stride)| map[leaf as usize] * stride)
                    .sum();
                let s = &mut slot[key as usize];
                if *s == u32::MAX {
                    *s = next;
                }
                *s
            });
        }
        let keys: Vec<u128> = match &packer {
            Some(p) => from
                .rep
                .iter()
                .map(|&t| {
                    (0..m).fold(0u128, |k, j| {
                        k | (u128::from(self.value(t, j, levels[j])) << p.shifts[j])
                    })
                })
                .collect(),
            None => self.numbered_keys(from, levels),
        };
        let mut index: HashMap<u128, u32> =
            HashMap::with_capacity_and_hasher(from.len() / 2 + 1, Default::default());
        self.group(from, |c, _, next| *index.entry(keys[c]).or_insert(next))
    }

    /// Groups the classes of `from`: `class_of(class, its tuple, next)` gives the new class
    /// of each, `next` when it opens one.
    fn group(
        &self,
        from: &Classes,
        mut class_of: impl FnMut(usize, u32, u32) -> u32,
    ) -> (Classes, Vec<u32>) {
        let mut out = Classes::default();
        let with_sensitive = !from.sensitive.is_empty();
        let with_population = !from.population.is_empty();
        let mut into = Vec::with_capacity(from.len());
        for (c, &t) in from.rep.iter().enumerate() {
            let next = out.rep.len() as u32;
            let k = class_of(c, t, next);
            if k == next {
                out.rep.push(t);
                out.count.push(0);
                if with_sensitive {
                    out.sensitive.push(Vec::new());
                }
                if with_population {
                    out.population.push(0);
                }
            }
            out.count[k as usize] += from.count[c];
            if with_population {
                out.population[k as usize] += from.population[c];
            }
            if with_sensitive {
                for &(v, n) in &from.sensitive[c] {
                    add_value(&mut out.sensitive[k as usize], v, n);
                }
            }
            into.push(k);
        }
        (out, into)
    }

    /// Keys for tuples whose generalized ids do not pack into 128 bits: classes numbered one
    /// quasi-identifier at a time.
    fn numbered_keys(&self, from: &Classes, levels: &[u8]) -> Vec<u128> {
        let mut ids: Vec<u32> = vec![0; from.len()];
        for (j, &level) in levels.iter().enumerate() {
            let mut seen: HashMap<(u32, u32), u32> = HashMap::default();
            for (c, &t) in from.rep.iter().enumerate() {
                let next = seen.len() as u32;
                ids[c] = *seen
                    .entry((ids[c], self.value(t, j, level)))
                    .or_insert(next);
            }
        }
        ids.into_iter().map(u128::from).collect()
    }
}

impl Encoded {
    /// Marks the research subset (δ-presence): the tuples stay those of every row (the
    /// population), their `population` counts every row, and `count`, the sensitive
    /// histograms and the per-leaf counts count the subset's rows only. `sensitive` gives the
    /// sensitive value id of every row, as given to [`Encoded::new`].
    pub(crate) fn restrict_to_subset(&mut self, subset: Vec<bool>, sensitive: Option<&[u32]>) {
        let tuples = self.bottom.len();
        let mut count = vec![0u32; tuples];
        let mut sens: Vec<Vec<(u32, u32)>> = vec![Vec::new(); tuples];
        for leaf in &mut self.leaf_counts {
            leaf.iter_mut().for_each(|c| *c = 0);
        }
        self.sensitive_counts.iter_mut().for_each(|c| *c = 0);
        for (r, (&t, &inside)) in self.row_tuple.iter().zip(&subset).enumerate() {
            if !inside {
                continue;
            }
            count[t as usize] += 1;
            for j in 0..self.hierarchies.len() {
                let leaf = self.tuples[t as usize * self.hierarchies.len() + j];
                self.leaf_counts[j][leaf as usize] += 1;
            }
            if let Some(values) = sensitive {
                add_value(&mut sens[t as usize], values[r], 1);
                self.sensitive_counts[values[r] as usize] += 1;
            }
        }
        self.bottom.population = std::mem::replace(&mut self.bottom.count, count);
        if !self.bottom.sensitive.is_empty() {
            self.bottom.sensitive = sens;
        }
        let len = subset.iter().filter(|&&b| b).count();
        self.subset = Some(Subset { rows: subset, len });
    }
}

/// Adds `n` rows of value `v` to a sorted histogram.
fn add_value(hist: &mut Vec<(u32, u32)>, v: u32, n: u32) {
    match hist.binary_search_by_key(&v, |e| e.0) {
        Ok(i) => hist[i].1 += n,
        Err(i) => hist.insert(i, (v, n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> Hierarchy {
        Hierarchy::parse_arx(text, b';').unwrap()
    }

    #[test]
    fn rolls_up_from_the_bottom_or_a_lower_node_alike() {
        let sex = h("M;*\nF;*\n");
        let age = h("1;0-4;*\n2;0-4;*\n7;5-9;*\n");
        let cols = vec![vec![0, 0, 1, 1, 0], vec![0, 1, 2, 2, 0]];
        let e = Encoded::new(vec![sex, age], &cols, Some((&[0, 1, 1, 0, 1], 2, None)));
        assert_eq!(e.bottom.len(), 3);
        let (mid, _) = e.rollup(&e.bottom, &[0, 1]);
        let (top_a, _) = e.rollup(&e.bottom, &[1, 1]);
        let (top_b, _) = e.rollup(&mid, &[1, 1]);
        let sizes = |c: &Classes| {
            let mut v: Vec<u32> = c.count.clone();
            v.sort_unstable();
            v
        };
        assert_eq!(sizes(&mid), vec![2, 3]);
        assert_eq!(sizes(&top_a), sizes(&top_b));
        assert_eq!(sizes(&top_a), vec![2, 3]);
        let (all, _) = e.rollup(&e.bottom, &[1, 2]);
        assert_eq!(all.count, vec![5]);
        assert_eq!(all.sensitive, vec![vec![(0, 2), (1, 3)]]);
    }

    #[test]
    fn a_research_subset_counts_apart_from_the_population() {
        let sex = h("M;*\nF;*\n");
        let age = h("1;0-4;*\n2;0-4;*\n7;5-9;*\n");
        let cols = vec![vec![0, 0, 1, 1, 0], vec![0, 1, 2, 2, 0]];
        let values = [0, 1, 1, 0, 1];
        let mut e = Encoded::new(vec![sex, age], &cols, Some((&values, 2, None)));
        e.restrict_to_subset(vec![true, false, true, false, false], Some(&values));
        assert_eq!(e.rows(), 2);
        // Tuples: (M,1) rows 0 and 4, (M,2) row 1, (F,7) rows 2 and 3.
        assert_eq!(e.bottom.count, vec![1, 0, 1]);
        assert_eq!(e.bottom.population, vec![2, 1, 2]);
        assert_eq!(e.bottom.sensitive, vec![vec![(0, 1)], vec![], vec![(1, 1)]]);
        assert_eq!(e.sensitive_counts, vec![1, 1]);
        assert_eq!(e.leaf_counts[0], vec![1, 1]);
        let (mid, _) = e.rollup(&e.bottom, &[0, 1]);
        let mut pairs: Vec<(u32, u32)> = mid
            .count
            .iter()
            .copied()
            .zip(mid.population.iter().copied())
            .collect();
        pairs.sort_unstable();
        assert_eq!(pairs, vec![(1, 2), (1, 3)]);
    }

    #[test]
    fn tuples_grouped_elsewhere_encode_like_their_rows() {
        let sex = h("M;*\nF;*\n");
        let age = h("1;0-4;*\n2;0-4;*\n7;5-9;*\n");
        let cols = vec![vec![0, 0, 1, 1, 0], vec![0, 1, 2, 2, 0]];
        let rows = Encoded::new(
            vec![sex.clone(), age.clone()],
            &cols,
            Some((&[0, 1, 1, 0, 1], 2, None)),
        );
        // The same rows grouped elsewhere, in another order, one tuple given twice.
        let tuple_cols = vec![vec![1, 0, 0, 0], vec![2, 1, 0, 0]];
        let hists = vec![
            vec![(0, 1), (1, 1)],
            vec![(1, 1)],
            vec![(0, 1)],
            vec![(1, 1)],
        ];
        let tuples = Encoded::from_tuples(
            vec![sex, age],
            &tuple_cols,
            &[2, 1, 1, 1],
            Some((&hists, 2, None)),
        );
        assert_eq!(tuples.rows(), 5);
        assert_eq!(tuples.bottom.len(), 3, "the repeated tuple is merged");
        assert_eq!(tuples.leaf_counts, rows.leaf_counts);
        assert_eq!(tuples.sensitive_counts, rows.sensitive_counts);
        for levels in [[0, 0], [0, 1], [1, 1], [1, 2]] {
            let summary = |e: &Encoded| {
                let (c, _) = e.rollup(&e.bottom, &levels);
                let mut v: Vec<(u32, Vec<(u32, u32)>)> =
                    c.count.into_iter().zip(c.sensitive).collect();
                v.sort_unstable();
                v
            };
            assert_eq!(summary(&tuples), summary(&rows), "{levels:?}");
        }
    }
}
