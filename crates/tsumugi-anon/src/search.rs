//! Global full-domain generalization: the best node of the lattice that meets every privacy
//! model within the suppression limit.
//!
//! The search is best-first from the bottom node, ordered by the metric's lower bound (then by
//! the sum of levels, then by node number). The bound never decreases from a node to the nodes
//! above it, so nodes leave the queue in bound order, and once a node's bound exceeds the best
//! loss found, no node left can beat it: the search stops there, with the exact optimum. Nodes
//! above an acceptable node are not visited when the metric is monotonic (they cannot be
//! better, and lose ties on level). Each node's classes are rolled up from the classes of a
//! recently counted node below it (or from the distinct tuples), so most counts touch far fewer
//! groups than rows.
//!
//! When every privacy model is monotonic, the search first counts the projections: nodes with
//! all but one or two quasi-identifiers at their top level. These have few classes; one that
//! fails proves every node below it fails too (the a-priori property Incognito uses), so those
//! nodes are passed through without counting.
//!
//! Ties on loss go to the node with the smaller sum of levels, then to the smaller levels
//! compared in order (ARX breaks the first tie the same way; the second is ours, so that the
//! answer is canonical).
//!
//! With a node budget the same search is a heuristic (for many quasi-identifiers): it returns
//! the best node found when the budget runs out and says it may not be optimal.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use rayon::prelude::*;
use rustc_hash::FxHashSet as HashSet;

use serde::Serialize;

use crate::groupify::{Classes, Encoded};
use crate::lattice::Lattice;
use crate::metric::{InfoLoss, MetricTables};
use crate::privacy::Models;

/// An evaluated node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeResult {
    /// Generalization level per quasi-identifier.
    pub levels: Vec<u8>,
    /// Whether it meets every model within the suppression limit.
    pub acceptable: bool,
    /// Rows suppressed (in classes failing a model).
    pub suppressed_rows: u64,
    /// Classes released.
    pub classes: u64,
    /// Its information loss.
    pub loss: InfoLoss,
}

/// What the search did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchStats {
    /// Nodes in the lattice.
    pub lattice_size: u64,
    /// Nodes whose classes were counted.
    pub nodes_checked: u64,
    /// Counts rolled up from a lower node's classes rather than from the tuples.
    pub rolled_up: u64,
    /// Nodes known to fail without counting (below a failing projection).
    pub nodes_tagged: u64,
    /// Distinct quasi-identifier tuples (classes at the bottom node).
    pub distinct_tuples: u64,
    /// Whether the answer is proven optimal (false when a node budget ran out).
    pub optimal: bool,
}

/// The outcome of a search.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    /// The best acceptable node, if any.
    pub optimum: Option<NodeResult>,
    /// What it took.
    pub stats: SearchStats,
}

/// A queued node: ordered so that the heap pops the smallest bound first.
struct Queued {
    bound: Option<InfoLoss>,
    level_sum: u32,
    index: usize,
}

impl Queued {
    fn key_cmp(&self, other: &Queued) -> Ordering {
        let by_bound = match (&self.bound, &other.bound) {
            (Some(a), Some(b)) => a.compare(b),
            _ => Ordering::Equal,
        };
        by_bound
            .then(self.level_sum.cmp(&other.level_sum))
            .then(self.index.cmp(&other.index))
    }
}

impl PartialEq for Queued {
    fn eq(&self, other: &Queued) -> bool {
        self.key_cmp(other) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Queued) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Queued) -> Ordering {
        // Reversed: `BinaryHeap` is a max-heap.
        other.key_cmp(self)
    }
}

/// Recently counted nodes, to roll up from.
struct Cache {
    entries: VecDeque<(Vec<u8>, Classes)>,
    held: usize,
    budget: usize,
}

impl Cache {
    fn source<'a>(&'a self, e: &'a Encoded, levels: &[u8]) -> (&'a Classes, bool) {
        self.entries
            .iter()
            .filter(|(l, _)| Lattice::below(l, levels))
            .min_by_key(|(_, c)| c.len())
            .map_or((&e.bottom, false), |(_, c)| (c, true))
    }

    fn keep(&mut self, levels: Vec<u8>, classes: Classes) {
        self.held += classes.len();
        self.entries.push_back((levels, classes));
        while self.held > self.budget && self.entries.len() > 1 {
            if let Some((_, old)) = self.entries.pop_front() {
                self.held -= old.len();
            }
        }
    }
}

/// A search over one encoded table.
pub(crate) struct Search<'a> {
    pub e: &'a Encoded,
    pub models: Models<'a>,
    pub metric: &'a MetricTables,
    /// Most rows that may be suppressed.
    pub limit_rows: u64,
}

impl Search<'_> {
    /// Which classes satisfy every per-class model (the others are suppressed).
    pub(crate) fn kept(&self, classes: &Classes) -> Vec<bool> {
        let empty: Vec<(u32, u32)> = Vec::new();
        (0..classes.len())
            .map(|c| {
                let hist = classes.sensitive.get(c).unwrap_or(&empty);
                let population = classes
                    .population
                    .get(c)
                    .copied()
                    .unwrap_or(classes.count[c]);
                self.models.class_ok(classes.count[c], population, hist)
            })
            .collect()
    }

    /// The classes of node `levels`, which of them are kept, and the node's figures. The loss
    /// of a node that is not acceptable is computed only when `always_loss` (the search has
    /// no use for it).
    pub(crate) fn evaluate_with(
        &self,
        levels: &[u8],
        from: &Classes,
        always_loss: bool,
    ) -> (NodeResult, Classes, Vec<bool>) {
        let (classes, _) = self.e.rollup(from, levels);
        let kept = self.kept(&classes);
        let suppressed: u64 = classes
            .count
            .iter()
            .zip(&kept)
            .filter(|(_, k)| !**k)
            .map(|(&c, _)| u64::from(c))
            .sum();
        let released_classes = kept
            .iter()
            .zip(&classes.count)
            .filter(|&(&k, &n)| k && n > 0)
            .count() as u64;
        // A class of the population alone (δ-presence) cannot be suppressed: failing, it
        // fails the node.
        let unsuppressible = kept.iter().zip(&classes.count).any(|(&k, &n)| !k && n == 0);
        let acceptable = suppressed <= self.limit_rows
            && !unsuppressible
            && self
                .models
                .release_ok(released_classes, self.e.rows() as u64 - suppressed);
        let loss = if acceptable || always_loss {
            self.metric.evaluate(self.e, levels, &classes, &kept)
        } else {
            InfoLoss {
                value: Vec::new(),
                per_attribute: Vec::new(),
            }
        };
        (
            NodeResult {
                levels: levels.to_vec(),
                acceptable,
                suppressed_rows: suppressed,
                classes: released_classes,
                loss,
            },
            classes,
            kept,
        )
    }

    /// Whether `a` beats `b`: lower loss, then lower level sum, then lower levels in order.
    fn better(a: &NodeResult, b: &NodeResult) -> bool {
        a.loss
            .compare(&b.loss)
            .then(Lattice::level_sum(&a.levels).cmp(&Lattice::level_sum(&b.levels)))
            .then(a.levels.cmp(&b.levels))
            == Ordering::Less
    }

    /// Best-first search from the bottom; `budget` caps the nodes counted (a heuristic).
    pub(crate) fn run(&self, lattice: &Lattice, budget: Option<u64>) -> SearchResult {
        let monotonic = self.metric.monotonic(self.limit_rows > 0);
        let mut stats = SearchStats {
            lattice_size: lattice.size() as u64,
            distinct_tuples: self.e.bottom.len() as u64,
            optimal: true,
            ..SearchStats::default()
        };
        let mut cache = Cache {
            entries: VecDeque::new(),
            held: 0,
            budget: 4 * self.e.bottom.len() + (1 << 20),
        };
        let mut queued: HashSet<usize> = HashSet::default();
        let mut pruned: HashSet<usize> = HashSet::default();
        let mut heap = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<Queued>, index: usize| {
            let levels = lattice.levels(index);
            heap.push(Queued {
                bound: self.metric.lower_bound(self.e, &levels),
                level_sum: Lattice::level_sum(&levels),
                index,
            });
        };
        let failing = self.failing_projections(lattice);
        push(&mut heap, 0);
        queued.insert(0);
        let mut best: Option<NodeResult> = None;
        while let Some(q) = heap.pop() {
            if let (Some(b), Some(bound)) = (&best, &q.bound)
                && bound.compare(&b.loss) == Ordering::Greater
            {
                break;
            }
            if pruned.contains(&q.index) {
                continue;
            }
            if budget.is_some_and(|b| stats.nodes_checked >= b) {
                stats.optimal = false;
                break;
            }
            if failing.contains(&q.index) {
                stats.nodes_tagged += 1;
                for s in lattice.successors(q.index) {
                    if queued.insert(s) {
                        push(&mut heap, s);
                    }
                }
                continue;
            }
            let levels = lattice.levels(q.index);
            let (from, rolled) = cache.source(self.e, &levels);
            let (node, classes, _) = self.evaluate_with(&levels, from, false);
            stats.nodes_checked += 1;
            stats.rolled_up += u64::from(rolled);
            let stop_here = node.acceptable && monotonic;
            if node.acceptable && best.as_ref().is_none_or(|b| Search::better(&node, b)) {
                best = Some(node);
            }
            if stop_here {
                mark_above(lattice, q.index, &mut pruned);
            } else {
                for s in lattice.successors(q.index) {
                    if queued.insert(s) {
                        push(&mut heap, s);
                    }
                }
            }
            cache.keep(levels, classes);
        }
        SearchResult {
            optimum: best,
            stats,
        }
    }

    /// The optimal search for monotonic models over an enumerable lattice, top down (Flash's
    /// idea): a node that fails proves every node below it fails, so the many unacceptable
    /// low nodes whose bound is below the optimum are mostly never counted. A greedy descent
    /// from the top first finds a good acceptable node, whose loss bounds the rest; then every
    /// node is taken by level sum, highest first, and skipped when proven to fail or when its
    /// bound exceeds the best loss found.
    pub(crate) fn run_top_down(&self, lattice: &Lattice) -> SearchResult {
        let n = lattice.size();
        let mut stats = SearchStats {
            lattice_size: n as u64,
            distinct_tuples: self.e.bottom.len() as u64,
            optimal: true,
            ..SearchStats::default()
        };
        let bounds: Vec<Option<InfoLoss>> = (0..n)
            .map(|i| self.metric.lower_bound(self.e, &lattice.levels(i)))
            .collect();
        let mut failing = vec![false; n];
        for i in self.failing_projections(lattice) {
            failing[i] = true;
        }
        let mut evaluated = vec![false; n];
        let evaluate = |i: usize,
                        stats: &mut SearchStats,
                        failing: &mut Vec<bool>,
                        evaluated: &mut Vec<bool>| {
            evaluated[i] = true;
            let (node, _, _) = self.evaluate_with(&lattice.levels(i), &self.e.bottom, false);
            stats.nodes_checked += 1;
            if !node.acceptable {
                mark_below(lattice, i, failing);
            }
            node
        };
        let beats = |node: &NodeResult, best: &Option<NodeResult>| {
            node.acceptable && best.as_ref().is_none_or(|b| Search::better(node, b))
        };
        // Greedy descent: to the acceptable predecessor of least loss, while there is one.
        let mut current = n - 1;
        let top = evaluate(current, &mut stats, &mut failing, &mut evaluated);
        if !top.acceptable {
            return SearchResult {
                optimum: None,
                stats,
            };
        }
        let mut best = Some(top);
        loop {
            let mut step: Option<(usize, NodeResult)> = None;
            let preds: Vec<usize> = lattice.predecessors(current).collect();
            for p in preds {
                if failing[p] {
                    continue;
                }
                let node = evaluate(p, &mut stats, &mut failing, &mut evaluated);
                if node.acceptable && step.as_ref().is_none_or(|(_, s)| Search::better(&node, s)) {
                    step = Some((p, node));
                }
            }
            let Some((p, node)) = step else { break };
            if beats(&node, &best) {
                best = Some(node);
            }
            current = p;
        }
        // Every node, highest level first; the nodes of one level are counted in parallel
        // (none is below another, so what one proves cannot spare another of its level).
        let mut by_level: Vec<Vec<usize>> = Vec::new();
        for i in 0..n {
            let sum = Lattice::level_sum(&lattice.levels(i)) as usize;
            if by_level.len() <= sum {
                by_level.resize_with(sum + 1, Vec::new);
            }
            by_level[sum].push(i);
        }
        for level in by_level.iter().rev() {
            let todo: Vec<usize> = level
                .iter()
                .copied()
                .filter(|&i| {
                    if evaluated[i] {
                        return false;
                    }
                    if failing[i] {
                        stats.nodes_tagged += 1;
                        return false;
                    }
                    match (&best, &bounds[i]) {
                        (Some(b), Some(bound)) => bound.compare(&b.loss) != Ordering::Greater,
                        _ => true,
                    }
                })
                .collect();
            let nodes: Vec<NodeResult> = todo
                .par_iter()
                .map(|&i| {
                    self.evaluate_with(&lattice.levels(i), &self.e.bottom, false)
                        .0
                })
                .collect();
            for (i, node) in todo.into_iter().zip(nodes) {
                evaluated[i] = true;
                stats.nodes_checked += 1;
                if !node.acceptable {
                    mark_below(lattice, i, &mut failing);
                } else if beats(&node, &best) {
                    best = Some(node);
                }
            }
        }
        SearchResult {
            optimum: best,
            stats,
        }
    }

    /// Whether [`Search::run_top_down`] serves: every model monotonic and the lattice small
    /// enough to list.
    pub(crate) fn top_down_applies(&self, lattice: &Lattice) -> bool {
        let suppression = self.limit_rows > 0;
        !self.models.criteria.is_empty()
            && self
                .models
                .criteria
                .iter()
                .all(|c| c.monotonic(suppression))
            && lattice.size() <= 1 << 22
    }

    /// Nodes proven to fail: every node below a projection (all but one or two
    /// quasi-identifiers at the top) that fails. Empty unless every model is monotonic.
    fn failing_projections(&self, lattice: &Lattice) -> HashSet<usize> {
        let mut failing = HashSet::default();
        let suppression = self.limit_rows > 0;
        if self.models.criteria.is_empty()
            || !self
                .models
                .criteria
                .iter()
                .all(|c| c.monotonic(suppression))
        {
            return failing;
        }
        let tops: Vec<u8> = lattice.heights().iter().map(|h| h - 1).collect();
        let m = tops.len();
        let mut projections: Vec<Vec<u8>> = Vec::new();
        for i in 0..m {
            for li in 0..tops[i] {
                let mut one = tops.clone();
                one[i] = li;
                projections.push(one.clone());
                for j in i + 1..m {
                    for lj in 0..tops[j] {
                        let mut two = one.clone();
                        two[j] = lj;
                        projections.push(two);
                    }
                }
            }
        }
        // Counted in parallel; a projection below one that fails needs no count of its own.
        let results: Vec<(usize, bool)> = projections
            .par_iter()
            .map(|levels| {
                let (node, _, _) = self.evaluate_with(levels, &self.e.bottom, false);
                (lattice.index(levels), node.acceptable)
            })
            .collect();
        for (index, acceptable) in results {
            if !acceptable && failing.insert(index) {
                let mut stack: Vec<usize> = lattice.predecessors(index).collect();
                while let Some(i) = stack.pop() {
                    if failing.insert(i) {
                        stack.extend(lattice.predecessors(i));
                    }
                }
            }
        }
        failing
    }

    /// Every node evaluated; for tests and small lattices.
    pub(crate) fn exhaustive(&self, lattice: &Lattice) -> SearchResult {
        let mut best: Option<NodeResult> = None;
        for index in 0..lattice.size() {
            let levels = lattice.levels(index);
            let (node, _, _) = self.evaluate_with(&levels, &self.e.bottom, false);
            if node.acceptable && best.as_ref().is_none_or(|b| Search::better(&node, b)) {
                best = Some(node);
            }
        }
        SearchResult {
            optimum: best,
            stats: SearchStats {
                lattice_size: lattice.size() as u64,
                nodes_checked: lattice.size() as u64,
                distinct_tuples: self.e.bottom.len() as u64,
                optimal: true,
                ..SearchStats::default()
            },
        }
    }
}

/// Marks every node below `index` (itself included) as failing, stopping at nodes already
/// marked.
fn mark_below(lattice: &Lattice, index: usize, failing: &mut [bool]) {
    let mut stack = vec![index];
    while let Some(i) = stack.pop() {
        if !failing[i] {
            failing[i] = true;
            stack.extend(lattice.predecessors(i));
        }
    }
}

/// Marks every node above `index` (itself excluded), stopping at nodes already marked.
fn mark_above(lattice: &Lattice, index: usize, pruned: &mut HashSet<usize>) {
    let mut stack: Vec<usize> = lattice.successors(index).collect();
    while let Some(i) = stack.pop() {
        if pruned.insert(i) {
            stack.extend(lattice.successors(i));
        }
    }
}
