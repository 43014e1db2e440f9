//! From scored pairs to persons: more care than connected components.
//!
//! 1. Records of a duplicate-free source that share their source id are one person.
//! 2. Links are accepted strongest first; a link is refused when it would put two different
//!    ids of one duplicate-free source into one person (the one-to-one constraint: a hospital
//!    does not give one patient two ids, so two of its ids are two persons).
//! 3. A weak bridge is split: a link that is the only connection between two groups of at
//!    least two records each, and whose weight is below the bridge threshold, is cut (one
//!    mistaken link should not merge two persons' histories).
//!
//! Clusters are reported with quality figures: sizes, density (links present / possible) and
//! what the constraint and the bridge rule did.

use serde::Serialize;

/// Union–find over dense indices, with path halving and union by size.
pub(crate) struct DisjointSets {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl DisjointSets {
    pub(crate) fn new(n: usize) -> DisjointSets {
        DisjointSets {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins the sets of `a` and `b`; returns the new root and the absorbed one.
    pub(crate) fn union(&mut self, a: u32, b: u32) -> Option<(u32, u32)> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return None;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        Some((big, small))
    }
}

/// A link between two records with its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Edge {
    pub a: u32,
    pub b: u32,
    pub weight: f64,
}

/// How records are grouped into persons.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterRules {
    /// Per record: whether its source is duplicate-free (its id names one person, and the
    /// person has no other id there).
    pub unique: Vec<bool>,
    /// Pairs a person decided are not one person: never in one cluster.
    pub cannot_link: Vec<(u32, u32)>,
    /// A bridge weaker than this weight is cut.
    pub split_bridges_below: f64,
}

/// Quality figures of a clustering.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClusterQuality {
    /// Clusters (persons).
    pub clusters: u64,
    /// Clusters of one record.
    pub singletons: u64,
    /// Records in the largest cluster.
    pub largest: u64,
    /// Mean density of clusters with at least three records: links present / possible.
    pub mean_density: f64,
    /// Clusters of at least three records whose density is below one half.
    pub sparse_clusters: u64,
    /// Links refused by the one-to-one constraint.
    pub refused_one_to_one: u64,
    /// Weak bridges cut.
    pub bridges_cut: u64,
}

/// The result: a dense cluster index per record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clustering {
    pub cluster_of: Vec<u32>,
    pub quality: ClusterQuality,
}

/// Clusters `n` records from `edges` (above the link threshold) and `same_id` groups (records
/// of a duplicate-free source sharing an id, given as `(source, source_id)` per record).
pub(crate) fn cluster(
    n: usize,
    mut edges: Vec<Edge>,
    source: &[u32],
    source_id: &[u32],
    rules: &ClusterRules,
) -> Clustering {
    let mut sets = DisjointSets::new(n);
    // Per root: the (source, id) pairs of its duplicate-free sources, sorted.
    let mut ids: Vec<Vec<(u32, u32)>> = (0..n)
        .map(|i| {
            let (s, id) = (source[i], source_id[i]);
            if rules.unique.get(i).copied().unwrap_or(false) && id != crate::linkage::features::NONE
            {
                vec![(s, id)]
            } else {
                Vec::new()
            }
        })
        .collect();
    // A decided non-match is a pseudo-source both records belong to under different ids, so
    // the one-to-one check keeps them apart.
    for (t, &(a, b)) in rules.cannot_link.iter().enumerate() {
        let token = u32::MAX - t as u32;
        for (r, id) in [(a, 0), (b, 1)] {
            if let Some(v) = ids.get_mut(r as usize) {
                v.push((token, id));
                v.sort_unstable();
            }
        }
    }
    // 1. Same id in a duplicate-free source.
    let mut forced: Vec<Edge> = Vec::new();
    let mut by_id: Vec<(u32, u32, u32)> = (0..n as u32)
        .filter_map(|i| ids[i as usize].first().map(|&(s, id)| (s, id, i)))
        .collect();
    by_id.sort_unstable();
    for w in by_id.windows(2) {
        if let [(s1, i1, a), (s2, i2, b)] = w
            && s1 == s2
            && i1 == i2
        {
            forced.push(Edge {
                a: *a,
                b: *b,
                weight: f64::INFINITY,
            });
            if let Some((root, gone)) = sets.union(*a, *b) {
                let moved = std::mem::take(&mut ids[gone as usize]);
                merge_ids(&mut ids[root as usize], moved);
            }
        }
    }
    // 2. Strongest first, one-to-one.
    edges.sort_unstable_by(|x, y| y.weight.total_cmp(&x.weight));
    let mut refused = 0u64;
    for e in &edges {
        let (ra, rb) = (sets.find(e.a), sets.find(e.b));
        if ra == rb {
            continue;
        }
        if conflict(&ids[ra as usize], &ids[rb as usize]) {
            refused += 1;
            continue;
        }
        if let Some((root, gone)) = sets.union(ra, rb) {
            let moved = std::mem::take(&mut ids[gone as usize]);
            merge_ids(&mut ids[root as usize], moved);
        }
    }
    // 3. Weak bridges, over the links inside each cluster.
    let mut inside: Vec<Edge> = forced;
    inside.extend(
        edges
            .into_iter()
            .filter(|e| sets.find(e.a) == sets.find(e.b)),
    );
    let cut = weak_bridges(n, &inside, rules.split_bridges_below, &mut sets);
    let mut final_sets = DisjointSets::new(n);
    for (k, e) in inside.iter().enumerate() {
        if !cut.get(k).copied().unwrap_or(false) {
            final_sets.union(e.a, e.b);
        }
    }
    let mut dense = vec![u32::MAX; n];
    let mut cluster_of = Vec::with_capacity(n);
    let mut next = 0u32;
    for i in 0..n as u32 {
        let r = final_sets.find(i) as usize;
        if dense[r] == u32::MAX {
            dense[r] = next;
            next += 1;
        }
        cluster_of.push(dense[r]);
    }
    let bridges_cut = cut.iter().filter(|c| **c).count() as u64;
    let quality = quality(
        &cluster_of,
        next as usize,
        &inside,
        &cut,
        refused,
        bridges_cut,
    );
    Clustering {
        cluster_of,
        quality,
    }
}

fn merge_ids(into: &mut Vec<(u32, u32)>, from: Vec<(u32, u32)>) {
    into.extend(from);
    into.sort_unstable();
    into.dedup();
}

/// Whether two clusters hold different ids of one duplicate-free source.
fn conflict(a: &[(u32, u32)], b: &[(u32, u32)]) -> bool {
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        if x.0 < y.0 {
            i += 1;
        } else if x.0 > y.0 {
            j += 1;
        } else if x.1 != y.1 {
            return true;
        } else {
            i += 1;
            j += 1;
        }
    }
    false
}

/// Marks the bridges to cut: links that are the only connection between two parts of a
/// cluster, each part holding at least two records, weaker than `below`. Iterative Tarjan
/// (low-link) over the links, with DFS subtree sizes for the parts.
fn weak_bridges(n: usize, edges: &[Edge], below: f64, sets: &mut DisjointSets) -> Vec<bool> {
    let mut cut = vec![false; edges.len()];
    // Adjacency (CSR): per record, (neighbour, edge index).
    let mut degree = vec![0u32; n + 1];
    for e in edges {
        degree[e.a as usize] += 1;
        degree[e.b as usize] += 1;
    }
    let mut offsets = vec![0u32; n + 1];
    for i in 0..n {
        offsets[i + 1] = offsets[i] + degree[i];
    }
    let mut fill = offsets.clone();
    let mut adj = vec![(0u32, 0u32); edges.len() * 2];
    for (k, e) in edges.iter().enumerate() {
        adj[fill[e.a as usize] as usize] = (e.b, k as u32);
        fill[e.a as usize] += 1;
        adj[fill[e.b as usize] as usize] = (e.a, k as u32);
        fill[e.b as usize] += 1;
    }
    let mut cluster_size = vec![0u32; n];
    for i in 0..n as u32 {
        let r = sets.find(i);
        cluster_size[r as usize] += 1;
    }
    const UNSEEN: u32 = u32::MAX;
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut subtree = vec![1u32; n];
    let mut counter = 0u32;
    // Stack frames: (node, edge index it was entered by, next adjacency position).
    let mut stack: Vec<(u32, u32, u32)> = Vec::new();
    for root in 0..n as u32 {
        if order[root as usize] != UNSEEN || degree[root as usize] == 0 {
            continue;
        }
        let total = cluster_size[sets.find(root) as usize];
        if total < 4 {
            continue;
        }
        order[root as usize] = counter;
        low[root as usize] = counter;
        counter += 1;
        stack.push((root, u32::MAX, offsets[root as usize]));
        while let Some(top) = stack.len().checked_sub(1) {
            let (v, via, pos) = stack[top];
            if pos < offsets[v as usize + 1] {
                let (w, k) = adj[pos as usize];
                stack[top].2 += 1;
                if k == via {
                    continue;
                }
                if order[w as usize] == UNSEEN {
                    order[w as usize] = counter;
                    low[w as usize] = counter;
                    counter += 1;
                    stack.push((w, k, offsets[w as usize]));
                } else {
                    low[v as usize] = low[v as usize].min(order[w as usize]);
                }
            } else {
                stack.pop();
                if let Some(&(parent, _, _)) = stack.last() {
                    low[parent as usize] = low[parent as usize].min(low[v as usize]);
                    subtree[parent as usize] += subtree[v as usize];
                    if low[v as usize] > order[parent as usize] {
                        let side = subtree[v as usize];
                        let e = edges[via as usize];
                        if side >= 2 && total - side >= 2 && e.weight < below {
                            cut[via as usize] = true;
                        }
                    }
                }
            }
        }
    }
    cut
}

fn quality(
    cluster_of: &[u32],
    n_clusters: usize,
    inside: &[Edge],
    cut: &[bool],
    refused: u64,
    bridges_cut: u64,
) -> ClusterQuality {
    let mut size = vec![0u64; n_clusters];
    for c in cluster_of {
        size[*c as usize] += 1;
    }
    let mut links = vec![0u64; n_clusters];
    for (k, e) in inside.iter().enumerate() {
        if !cut.get(k).copied().unwrap_or(false) {
            links[cluster_of[e.a as usize] as usize] += 1;
        }
    }
    let (mut dense_sum, mut counted, mut sparse) = (0.0, 0u64, 0u64);
    for (s, l) in size.iter().zip(&links) {
        if *s >= 3 {
            let d = (*l as f64 / (s * (s - 1) / 2) as f64).min(1.0);
            dense_sum += d;
            counted += 1;
            if d < 0.5 {
                sparse += 1;
            }
        }
    }
    ClusterQuality {
        clusters: n_clusters as u64,
        singletons: size.iter().filter(|s| **s == 1).count() as u64,
        largest: size.iter().copied().max().unwrap_or(0),
        mean_density: if counted == 0 {
            1.0
        } else {
            dense_sum / counted as f64
        },
        sparse_clusters: sparse,
        refused_one_to_one: refused,
        bridges_cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(a: u32, b: u32, weight: f64) -> Edge {
        Edge { a, b, weight }
    }

    fn run(n: usize, edges: Vec<Edge>, source: &[u32], id: &[u32], unique: bool) -> Vec<u32> {
        let rules = ClusterRules {
            unique: vec![unique; n],
            cannot_link: Vec::new(),
            split_bridges_below: 10.0,
        };
        cluster(n, edges, source, id, &rules).cluster_of
    }

    #[test]
    fn one_to_one_refuses_the_weaker_link() {
        // 0 and 1 are two ids of source 0; 2 (source 1) links to both, more strongly to 0.
        let got = run(
            3,
            vec![e(0, 2, 20.0), e(1, 2, 15.0)],
            &[0, 0, 1],
            &[5, 6, 7],
            true,
        );
        assert_eq!(got[0], got[2]);
        assert_ne!(got[1], got[2]);
        let free = run(
            3,
            vec![e(0, 2, 20.0), e(1, 2, 15.0)],
            &[0, 0, 1],
            &[5, 6, 7],
            false,
        );
        assert!(free.iter().all(|c| *c == free[0]));
    }

    #[test]
    fn same_id_in_a_unique_source_is_one_person() {
        let got = run(3, vec![], &[0, 0, 0], &[5, 5, 6], true);
        assert_eq!(got[0], got[1]);
        assert_ne!(got[0], got[2]);
    }

    #[test]
    fn a_weak_bridge_between_two_groups_is_cut_a_strong_one_kept() {
        let groups = |bridge: f64| {
            run(
                4,
                vec![e(0, 1, 30.0), e(2, 3, 30.0), e(1, 2, bridge)],
                &[0, 1, 2, 3],
                &[0, 1, 2, 3],
                false,
            )
        };
        let weak = groups(5.0);
        assert_eq!(weak[0], weak[1]);
        assert_eq!(weak[2], weak[3]);
        assert_ne!(weak[1], weak[2]);
        let strong = groups(25.0);
        assert!(strong.iter().all(|c| *c == strong[0]));
        // A weak link to a single record is no bridge between groups.
        let tail = run(
            4,
            vec![e(0, 1, 30.0), e(1, 2, 30.0), e(2, 3, 5.0), e(0, 2, 30.0)],
            &[0, 1, 2, 3],
            &[0, 1, 2, 3],
            false,
        );
        assert!(tail.iter().all(|c| *c == tail[0]));
    }
}
