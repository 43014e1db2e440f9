//! Incremental linkage: new records against an already linked population, without a full
//! re-run.
//!
//! A [`LinkIndex`] keeps what a run built — the prepared records, each blocking rule's key
//! index, the trained model and the clusters — and [`LinkIndex::add`] links new records
//! against it: only pairs with a new record are made and scored (with the model as trained),
//! and the new links join clusters strongest first under the one-to-one constraint. Existing
//! clusters are never split by an incremental run; a new record that links two of them merges
//! them, and the merge is reported (kept label, absorbed label). As in a full run, two
//! clusters never join when a pair across them is one the twin guard stops or a person decided
//! is not one person. A full run re-examines everything, weak bridges included.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::linkage::blocking::{BlockingRule, key_index};
use crate::linkage::compare::{compare, twin_guard};
use crate::linkage::features::{LinkRecord, NONE, Prepared};
use crate::linkage::model::Scorer;
use crate::linkage::{
    ConfigError, Decision, Laps, LinkConfig, LinkRun, Model, ScoredPair, StepTime, is_unique,
    probability, score_pair, weight_of,
};

/// A linked population, ready for new records.
#[derive(Debug)]
pub struct LinkIndex {
    prepared: Prepared,
    cfg: LinkConfig,
    rules: Vec<BlockingRule>,
    /// Per rule, `(key, record)` of the records indexed at build, sorted by key.
    built: Vec<Vec<(u64, u32)>>,
    /// Per rule, key → records added since.
    added: Vec<HashMap<u64, Vec<u32>>>,
    model: Model,
    /// Cluster label of every record.
    cluster_of: Vec<u32>,
    /// Per cluster label, the `(source, id)` pairs of its one-to-one records.
    unique_ids: HashMap<u32, Vec<(u32, u32)>>,
    next_label: u32,
    /// A person's decisions `(a, b, same)` on record pairs, ordered `a < b`.
    decisions: Vec<(u32, u32, bool)>,
}

/// What [`LinkIndex::add`] did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IncrementalRun {
    /// Records added.
    pub records: u64,
    /// Candidate pairs (each with at least one new record).
    pub candidate_pairs: u64,
    /// Pairs at or above the review threshold.
    pub pairs: Vec<ScoredPair>,
    /// Cluster label of each new record, in order.
    pub cluster_of: Vec<u32>,
    /// Existing clusters merged by a new record: (kept label, absorbed label).
    pub merges: Vec<(u32, u32)>,
    /// New records that started a cluster of their own.
    pub new_clusters: u64,
    /// Links refused by the one-to-one constraint.
    pub refused_one_to_one: u64,
    /// Links refused because a pair across the two clusters was decided not to be one person
    /// or is stopped by the twin guard.
    pub kept_apart: u64,
    /// Step timings.
    pub timings: Vec<StepTime>,
}

fn unique_id(cfg: &LinkConfig, p: &Prepared, i: usize) -> Option<(u32, u32)> {
    let (s, id) = (*p.source.get(i)?, *p.source_id.get(i)?);
    (id != NONE && is_unique(cfg, p, i)).then_some((s, id))
}

fn conflict(a: &[(u32, u32)], b: &[(u32, u32)]) -> bool {
    a.iter()
        .any(|(s, id)| b.iter().any(|(t, other)| s == t && id != other))
}

impl LinkIndex {
    /// Indexes a population linked by [`crate::linkage::link`] (`run` over `prepared` with
    /// `cfg`).
    ///
    /// # Errors
    /// [`ConfigError`] for a configuration that cannot run.
    pub fn build(
        prepared: Prepared,
        cfg: &LinkConfig,
        run: &LinkRun,
    ) -> Result<LinkIndex, ConfigError> {
        LinkIndex::with_model(prepared, cfg, run.model.clone(), run.cluster_of.clone())
    }

    /// Indexes a linked population from its parts: a trained model and a cluster label per
    /// prepared record (persons stored earlier, say).
    ///
    /// # Errors
    /// [`ConfigError`] for a configuration that cannot run.
    pub fn with_model(
        prepared: Prepared,
        cfg: &LinkConfig,
        model: Model,
        cluster_of: Vec<u32>,
    ) -> Result<LinkIndex, ConfigError> {
        let rules = cfg.rules().map_err(ConfigError::UnknownBlockingPart)?;
        let built = rules.par_iter().map(|r| key_index(&prepared, r)).collect();
        let mut unique_ids: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
        for (i, c) in cluster_of.iter().enumerate() {
            if let Some(id) = unique_id(cfg, &prepared, i) {
                let ids = unique_ids.entry(*c).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(LinkIndex {
            added: rules.iter().map(|_| HashMap::new()).collect(),
            rules,
            built,
            model,
            next_label: cluster_of.iter().max().map_or(0, |m| m + 1),
            cluster_of,
            unique_ids,
            cfg: cfg.clone(),
            prepared,
            decisions: Vec::new(),
        })
    }

    /// Binds later [`LinkIndex::add`] runs to a person's decisions on pairs `(a, b, same)`:
    /// `same` pairs are linked, the others never end in one person. Records are numbered as
    /// indexed, the records of the next `add` following on.
    #[must_use]
    pub fn with_decisions(mut self, decisions: &[(u32, u32, bool)]) -> LinkIndex {
        self.decisions = decisions
            .iter()
            .map(|&(a, b, same)| (a.min(b), a.max(b), same))
            .collect();
        self
    }

    /// Whether clusters with these members must stay apart: a pair across them was decided
    /// not to be one person, or the twin guard stops it.
    fn kept_apart(&self, xs: &[u32], ys: &[u32], cannot: &HashSet<(u32, u32)>) -> bool {
        xs.iter().any(|&x| {
            ys.iter().any(|&y| {
                cannot.contains(&(x.min(y), x.max(y)))
                    || twin_guard(compare(
                        &self.prepared,
                        &self.model.extras,
                        x as usize,
                        y as usize,
                    ))
            })
        })
    }

    /// The records indexed at build that share `key` under rule `r`.
    fn built_block(&self, r: usize, key: u64) -> &[(u64, u32)] {
        let built = self.built.get(r).map_or(&[][..], Vec::as_slice);
        let from = built.partition_point(|(x, _)| *x < key);
        let to = from + built[from..].partition_point(|(x, _)| *x == key);
        &built[from..to]
    }

    /// Records indexed.
    pub fn len(&self) -> usize {
        self.prepared.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.prepared.is_empty()
    }

    /// The cluster label of every record.
    pub fn cluster_of(&self) -> &[u32] {
        &self.cluster_of
    }

    /// Scores `records` against everything indexed without linking or indexing them (stop
    /// requests name a person; they are not records of one): every pair at or above
    /// `min_probability` that the twin guard allows, as (indexed record, position in
    /// `records`, probability). Blocks are not capped at `max_block` here: a stop request
    /// that a person's record escapes is a legal failure, and requests are few.
    pub fn score(&mut self, records: &[LinkRecord], min_probability: f64) -> Vec<(u32, u32, f64)> {
        let start = self.prepared.len();
        self.prepared.extend(records);
        let end = self.prepared.len();
        let extras = self.model.extras.clone();
        let scorer = Scorer::new(&self.model, &self.prepared, None);
        let min_w = weight_of(min_probability);
        let mut out = Vec::new();
        for i in start..end {
            let mut seen: HashSet<u32> = HashSet::new();
            for (r, rule) in self.rules.iter().enumerate() {
                for key in rule.keys(&self.prepared, i) {
                    for &(_, j) in self.built_block(r, key) {
                        if !seen.insert(j) {
                            continue;
                        }
                        let l = compare(&self.prepared, &extras, j as usize, i);
                        let w = scorer.weight(l, j as usize, i);
                        if w >= min_w && !twin_guard(l) {
                            out.push((j, (i - start) as u32, probability(w)));
                        }
                    }
                }
            }
        }
        out
    }

    /// Links `records` against everything indexed (and each other), then indexes them.
    pub fn add(&mut self, records: &[LinkRecord]) -> IncrementalRun {
        let mut laps = Laps::start();
        let start = self.prepared.len();
        self.prepared.extend(records);
        let end = self.prepared.len();
        laps.lap("normalize");

        // Blocking: each new record against the index, then into it.
        let max_block = self.cfg.max_block;
        let new_keys: Vec<Vec<Vec<u64>>> = (start..end)
            .into_par_iter()
            .map(|i| {
                self.rules
                    .iter()
                    .map(|r| r.keys(&self.prepared, i))
                    .collect()
            })
            .collect();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        for (k, keys) in new_keys.iter().enumerate() {
            let i = (start + k) as u32;
            seen.clear();
            for (r, rule_keys) in keys.iter().enumerate() {
                for key in rule_keys {
                    let hits = self.built_block(r, *key).iter().map(|(_, j)| *j);
                    let added = self.added[r].get(key).into_iter().flatten().copied();
                    let block: Vec<u32> = hits.chain(added).collect();
                    // The block with record `i` in it, as a full run would see it.
                    if block.len() + 1 > max_block {
                        continue;
                    }
                    for j in block {
                        if seen.insert(j) {
                            pairs.push((j, i));
                        }
                    }
                }
            }
            for (r, rule_keys) in keys.iter().enumerate() {
                for key in rule_keys {
                    self.added[r].entry(*key).or_default().push(i);
                }
            }
        }
        laps.lap("block");

        let extras = self.model.extras.clone();
        let scorer = Scorer::new(&self.model, &self.prepared, None);
        let scored: Vec<ScoredPair> = pairs
            .par_iter()
            .filter_map(|&(a, b)| {
                let l = compare(&self.prepared, &extras, a as usize, b as usize);
                score_pair(&scorer, &self.cfg, l, a, b)
            })
            .collect();
        laps.lap("compare and score");

        // Clusters: new records start alone; links join labels, strongest first, the older
        // (smaller) label surviving.
        let first_new = self.next_label;
        for i in start..end {
            self.cluster_of.push(self.next_label);
            if let Some(id) = unique_id(&self.cfg, &self.prepared, i) {
                self.unique_ids.insert(self.next_label, vec![id]);
            }
            self.next_label += 1;
        }
        let mut edges: Vec<(f64, u32, u32)> = scored
            .iter()
            .filter(|s| s.decision == Decision::Link)
            .map(|s| (s.weight, s.a, s.b))
            .collect();
        // A one-to-one source's id names one person: sharing it is a link.
        for &(a, b) in &pairs {
            let ida = unique_id(&self.cfg, &self.prepared, a as usize);
            if ida.is_some() && ida == unique_id(&self.cfg, &self.prepared, b as usize) {
                edges.push((f64::INFINITY, a, b));
            }
        }
        let n = end as u32;
        edges.extend(
            self.decisions
                .iter()
                .filter(|&&(_, b, same)| same && b < n)
                .map(|&(a, b, _)| (f64::INFINITY, a, b)),
        );
        edges.sort_unstable_by(|x, y| y.0.total_cmp(&x.0));
        let cannot: HashSet<(u32, u32)> = self
            .decisions
            .iter()
            .filter(|d| !d.2)
            .map(|&(a, b, _)| (a, b))
            .collect();
        // Members of every cluster an edge touches, to check the pairs across a join.
        let touched: HashSet<u32> = edges
            .iter()
            .flat_map(|&(_, a, b)| [self.cluster_of[a as usize], self.cluster_of[b as usize]])
            .collect();
        let mut members: HashMap<u32, Vec<u32>> = HashMap::new();
        for (i, l) in self.cluster_of.iter().enumerate() {
            if touched.contains(l) {
                members.entry(*l).or_default().push(i as u32);
            }
        }
        let mut parent: HashMap<u32, u32> = HashMap::new();
        let root = |parent: &HashMap<u32, u32>, mut l: u32| {
            while let Some(&p) = parent.get(&l) {
                l = p;
            }
            l
        };
        let mut refused = 0u64;
        let mut kept_apart = 0u64;
        let mut merges = Vec::new();
        for (w, a, b) in edges {
            let la = root(&parent, self.cluster_of[a as usize]);
            let lb = root(&parent, self.cluster_of[b as usize]);
            if la == lb {
                continue;
            }
            let empty = Vec::new();
            if conflict(
                self.unique_ids.get(&la).unwrap_or(&empty),
                self.unique_ids.get(&lb).unwrap_or(&empty),
            ) {
                refused += 1;
                continue;
            }
            let of = |l: u32| members.get(&l).map_or(&[][..], Vec::as_slice);
            if w.is_finite() && self.kept_apart(of(la), of(lb), &cannot) {
                kept_apart += 1;
                continue;
            }
            let (keep, lose) = (la.min(lb), la.max(lb));
            parent.insert(lose, keep);
            let moved = members.remove(&lose).unwrap_or_default();
            members.entry(keep).or_default().extend(moved);
            let moved = self.unique_ids.remove(&lose).unwrap_or_default();
            let ids = self.unique_ids.entry(keep).or_default();
            for id in moved {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if lose < first_new {
                merges.push((keep, lose));
            }
        }
        // Relabel: the new records, and every record of an absorbed existing cluster.
        let relabel_from = if merges.is_empty() { start } else { 0 };
        if !parent.is_empty() {
            for i in relabel_from..end {
                let l = self.cluster_of[i];
                if parent.contains_key(&l) {
                    self.cluster_of[i] = root(&parent, l);
                }
            }
        }
        let new_labels: HashSet<u32> = self.cluster_of[start..end]
            .iter()
            .copied()
            .filter(|l| *l >= first_new)
            .collect();
        laps.lap("cluster");
        IncrementalRun {
            records: records.len() as u64,
            candidate_pairs: pairs.len() as u64,
            pairs: scored,
            cluster_of: self.cluster_of[start..end].to_vec(),
            new_clusters: new_labels.len() as u64,
            merges,
            refused_one_to_one: refused,
            kept_apart,
            timings: laps.into_timings(),
        }
    }
}
