//! Probabilistic record linkage (名寄せ) on Japanese identifiers: Fellegi–Sunter with
//! Japanese-aware comparison levels, EM-trained m, sampled u, term-frequency adjustment, a
//! twin guard, a union of blocking rules and clustering with one-to-one constraints and weak-bridge
//! splitting.
//!
//! The pipeline, each step a module:
//!
//! 1. [`prepare`] (`features`): normalize every identifier once (`crate::normalize`), intern
//!    values per field, lay records out in flat columns with histories (every name, address and
//!    card a record lists).
//! 2. `blocking`: candidate pairs, the union of [`BlockingRule`]s.
//! 3. `compare`: per pair and field a comparison level — kanji and kana compared separately,
//!    given name alone, birth dates exact / ±1 day / day–month swapped / ±1 year / other era,
//!    address and postcode, the insurance card as a history.
//! 4. `model`: u from random pairs, m and λ by EM, weights with term frequencies ([`Model`]).
//! 5. `cluster`: persons from links above the threshold ([`ClusterQuality`]).
//! 6. `eval`: quality against ground truth ([`evaluate`]).
//!
//! Everything here works on plain [`LinkRecord`]s, so the same engine links the vault's
//! records and any CSV a user brings.

mod blocking;
mod cluster;
mod compare;
mod eval;
mod features;
mod incremental;
mod jaro;
mod model;
mod table;

use std::collections::HashMap;
use std::time::Instant;

use rand::RngCore;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use blocking::{BlockingRule, DEFAULT_BLOCKING, RuleStats};
pub use cluster::ClusterQuality;
pub use compare::{ExtraKind, MAX_EXTRAS};
pub use eval::{Evaluation, NoiseRecall, Scores, evaluate};
pub use features::{LinkRecord, Prepared, prepare};
pub use incremental::{IncrementalRun, LinkIndex};
pub use model::{
    Explanation, FieldParams, FieldWeight, LevelParams, Model, TermFrequencies, probability,
    weight_of,
};
pub use table::{Table, TableConfig, TableError, TableRows, read_csv, read_term_frequencies};

use crate::linkage::cluster::{ClusterRules, Edge};
use crate::linkage::compare::{Levels, compare, twin_guard};
use crate::linkage::model::Scorer;

/// Which sources never give one person two ids (the one-to-one constraint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UniqueSources {
    /// Every source is duplicate-free (providers' patient ids).
    All,
    /// No source is known to be duplicate-free.
    None,
    /// These sources are.
    Named(Vec<String>),
}

/// How to link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    /// Blocking rules (see [`BlockingRule::parse`]), in order.
    pub blocking: Vec<String>,
    /// Blocks larger than this are skipped (and counted), in full and incremental runs alike;
    /// scoring stop requests ([`LinkIndex::score`]) reads every block whole.
    pub max_block: usize,
    /// Free-form fields: name and comparison.
    pub extras: Vec<(String, ExtraKind)>,
    /// Pairs at or above this match probability are linked.
    pub link_probability: f64,
    /// Pairs at or above this (and below `link_probability`) go to clerical review.
    pub review_probability: f64,
    /// Duplicate-free sources.
    pub unique_sources: UniqueSources,
    /// A link that alone joins two groups of two or more records is cut below this
    /// probability.
    pub bridge_probability: f64,
    /// Most random pairs drawn to estimate u.
    pub max_u_pairs: usize,
    /// Compare only records of different inputs (`LinkRecord::dataset`): link two files
    /// rather than deduplicate them.
    pub link_only: bool,
}

impl LinkConfig {
    /// Settings that work without tuning on Japanese provider data.
    pub fn recommended() -> LinkConfig {
        LinkConfig {
            blocking: DEFAULT_BLOCKING.iter().map(|r| r.to_string()).collect(),
            max_block: 2_000,
            extras: Vec::new(),
            link_probability: 0.8,
            review_probability: 0.3,
            unique_sources: UniqueSources::All,
            bridge_probability: 0.9999,
            max_u_pairs: 5_000_000,
            link_only: false,
        }
    }

    fn rules(&self) -> Result<Vec<BlockingRule>, String> {
        let extras: Vec<String> = self.extras.iter().map(|(n, _)| n.clone()).collect();
        self.blocking
            .iter()
            .map(|r| BlockingRule::parse(r, &extras))
            .collect()
    }

    fn extra_kinds(&self) -> Vec<ExtraKind> {
        self.extras.iter().map(|(_, k)| *k).collect()
    }
}

/// What became of a scored pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Linked (at or above the link threshold).
    Link,
    /// In the uncertain band: a person decides.
    Review,
    /// Above the review threshold, but the twin guard forbids the link.
    TwinGuard,
}

/// A pair above the review threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoredPair {
    /// First record (index into the input).
    pub a: u32,
    /// Second record.
    pub b: u32,
    /// Match weight (log2 Bayes factor with the prior).
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
    /// What became of it.
    pub decision: Decision,
}

/// Wall time of one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTime {
    /// The step.
    pub step: &'static str,
    /// Seconds.
    pub seconds: f64,
}

/// The result of a linkage run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkRun {
    /// The trained model.
    pub model: Model,
    /// Per blocking rule.
    pub blocking: Vec<RuleStats>,
    /// Candidate pairs compared.
    pub candidate_pairs: u64,
    /// Pairs at or above the review threshold.
    pub pairs: Vec<ScoredPair>,
    /// Cluster (person) index of every record.
    pub cluster_of: Vec<u32>,
    /// Cluster quality figures.
    pub quality: ClusterQuality,
    /// Step timings.
    pub timings: Vec<StepTime>,
}

/// Why a run could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A blocking rule names an unknown part.
    #[error(
        "IDN0010UnknownBlockingPart: blocking rule part {0} is not a field (family_kanji, given_kana, birth_date, address, card …) or a configured extra"
    )]
    UnknownBlockingPart(String),
    /// More free-form fields than the comparison vector holds.
    #[error("IDN0011TooManyExtras: at most {MAX_EXTRAS} free-form fields")]
    TooManyExtras,
    /// Thresholds out of order or out of (0, 1).
    #[error("IDN0012InvalidThresholds: need 0 < review_probability ≤ link_probability < 1")]
    InvalidThresholds,
}

/// The scored pair of records `a`, `b` with `levels`, unless below the review threshold.
pub(crate) fn score_pair(
    scorer: &Scorer<'_>,
    cfg: &LinkConfig,
    levels: Levels,
    a: u32,
    b: u32,
) -> Option<ScoredPair> {
    let weight = scorer.weight(levels, a as usize, b as usize);
    if weight < weight_of(cfg.review_probability) {
        return None;
    }
    let decision = if twin_guard(levels) {
        Decision::TwinGuard
    } else if weight >= weight_of(cfg.link_probability) {
        Decision::Link
    } else {
        Decision::Review
    };
    Some(ScoredPair {
        a,
        b,
        weight,
        probability: probability(weight),
        decision,
    })
}

/// Whether record `i`'s source gives each person one id: its own flag, else the
/// configuration's word on its source.
pub(crate) fn is_unique(cfg: &LinkConfig, p: &Prepared, i: usize) -> bool {
    p.source_unique
        .get(i)
        .copied()
        .flatten()
        .unwrap_or_else(|| match &cfg.unique_sources {
            UniqueSources::All => true,
            UniqueSources::None => false,
            UniqueSources::Named(names) => names
                .iter()
                .any(|n| p.sources.lookup(n) == p.source.get(i).copied()),
        })
}

/// Wall time of a run's steps, one lap a step.
pub(crate) struct Laps {
    clock: Instant,
    timings: Vec<StepTime>,
}

impl Laps {
    pub(crate) fn start() -> Laps {
        Laps {
            clock: Instant::now(),
            timings: Vec::new(),
        }
    }

    /// Ends the step `step` and starts the next.
    pub(crate) fn lap(&mut self, step: &'static str) {
        self.timings.push(StepTime {
            step,
            seconds: self.clock.elapsed().as_secs_f64(),
        });
        self.clock = Instant::now();
    }

    pub(crate) fn into_timings(self) -> Vec<StepTime> {
        self.timings
    }
}

/// Pairs of each blocking rule used to train the model (sessions, one per rule).
const TRAINING_PAIRS_PER_RULE: usize = 2_000_000;

/// Counts identical level patterns.
fn histogram(levels: impl ParallelIterator<Item = Levels>) -> HashMap<Levels, u64> {
    levels
        .fold(HashMap::new, |mut m, l| {
            *m.entry(l).or_insert(0u64) += 1;
            m
        })
        .reduce(HashMap::new, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_insert(0) += v;
            }
            a
        })
}

/// Links prepared records: blocking, comparison, training (u sampled with `rng`), scoring and
/// clustering. `external_tf` replaces in-data name frequencies where it names a value.
///
/// # Errors
/// [`ConfigError`] for a configuration that cannot run.
pub fn link(
    p: &Prepared,
    cfg: &LinkConfig,
    external_tf: Option<&TermFrequencies>,
    rng: &mut (dyn RngCore + Send),
) -> Result<LinkRun, ConfigError> {
    link_with_decisions(p, cfg, external_tf, &[], rng)
}

/// [`link`], bound by a person's decisions on pairs `(a, b, same)`: `same` pairs are linked
/// whatever their score, the others never end in one cluster.
///
/// # Errors
/// [`ConfigError`] for a configuration that cannot run.
pub fn link_with_decisions(
    p: &Prepared,
    cfg: &LinkConfig,
    external_tf: Option<&TermFrequencies>,
    decisions: &[(u32, u32, bool)],
    rng: &mut (dyn RngCore + Send),
) -> Result<LinkRun, ConfigError> {
    let rules = cfg.rules().map_err(ConfigError::UnknownBlockingPart)?;
    if cfg.extras.len() > MAX_EXTRAS {
        return Err(ConfigError::TooManyExtras);
    }
    if !(0.0 < cfg.review_probability
        && cfg.review_probability <= cfg.link_probability
        && cfg.link_probability < 1.0)
    {
        return Err(ConfigError::InvalidThresholds);
    }
    let extras = cfg.extra_kinds();
    let mut laps = Laps::start();

    let (mut pairs, blocking, mut samples) = blocking::candidate_pairs_with_samples(
        p,
        &rules,
        cfg.max_block,
        None,
        TRAINING_PAIRS_PER_RULE,
    );
    if cfg.link_only {
        let across = |&(a, b): &(u32, u32)| p.dataset.get(a as usize) != p.dataset.get(b as usize);
        pairs.retain(across);
        for s in &mut samples {
            s.retain(across);
        }
    }
    laps.lap("block");

    let levels: Vec<Levels> = pairs
        .par_iter()
        .map(|&(a, b)| compare(p, &extras, a as usize, b as usize))
        .collect();
    let patterns = histogram(levels.par_iter().copied());
    laps.lap("compare");

    let (u, u_pairs) = model::estimate_u(p, &extras, cfg.max_u_pairs, rng);
    let sessions: Vec<model::Session> = rules
        .iter()
        .zip(samples)
        .map(|(rule, sample)| model::Session {
            patterns: histogram(
                sample
                    .par_iter()
                    .map(|&(a, b)| compare(p, &extras, a as usize, b as usize)),
            ),
            excluded: rule.fields(),
        })
        .collect();
    let population = p.n as f64 * (p.n as f64 - 1.0) / 2.0;
    let model = model::train(&sessions, &patterns, population, u, &extras, u_pairs);
    laps.lap("train");

    let scorer = Scorer::new(&model, p, external_tf);
    let scored: Vec<ScoredPair> = pairs
        .par_iter()
        .zip(levels.par_iter())
        .filter_map(|(&(a, b), &l)| score_pair(&scorer, cfg, l, a, b))
        .collect();
    drop(levels);
    laps.lap("predict");

    let mut edges: Vec<Edge> = scored
        .iter()
        .filter(|s| s.decision == Decision::Link)
        .map(|s| Edge {
            a: s.a,
            b: s.b,
            weight: s.weight,
        })
        .collect();
    edges.extend(decisions.iter().filter(|d| d.2).map(|&(a, b, _)| Edge {
        a,
        b,
        weight: f64::INFINITY,
    }));
    // A person's no-match decisions, and every pair the twin guard stopped: two records
    // whose given names differ never end in one person, not even through a third record
    // that carries no given name.
    let cannot_link: Vec<(u32, u32)> = decisions
        .iter()
        .filter(|d| !d.2)
        .map(|&(a, b, _)| (a, b))
        .chain(
            scored
                .iter()
                .filter(|s| s.decision == Decision::TwinGuard)
                .map(|s| (s.a, s.b)),
        )
        .collect();
    let unique = (0..p.n).map(|i| is_unique(cfg, p, i)).collect();
    let clustering = cluster::cluster(
        p.n,
        edges,
        &p.source,
        &p.source_id,
        &ClusterRules {
            unique,
            cannot_link,
            split_bridges_below: weight_of(cfg.bridge_probability),
        },
    );
    laps.lap("cluster");

    Ok(LinkRun {
        model,
        blocking,
        candidate_pairs: pairs.len() as u64,
        pairs: scored,
        cluster_of: clustering.cluster_of,
        quality: clustering.quality,
        timings: laps.into_timings(),
    })
}

/// Blocking alone: what each rule of `cfg` finds, and with `truth` (a person label per
/// record) how many true pairs.
///
/// # Errors
/// [`ConfigError::UnknownBlockingPart`].
pub fn block(
    p: &Prepared,
    cfg: &LinkConfig,
    truth: Option<&[u32]>,
) -> Result<Vec<RuleStats>, ConfigError> {
    let rules = cfg.rules().map_err(ConfigError::UnknownBlockingPart)?;
    Ok(blocking::candidate_pairs(p, &rules, cfg.max_block, truth).1)
}

/// The match-weight breakdown of records `a` and `b` under `model`.
pub fn explain(
    p: &Prepared,
    model: &Model,
    external_tf: Option<&TermFrequencies>,
    a: usize,
    b: usize,
) -> Explanation {
    Scorer::new(model, p, external_tf).explain(model, &model.extras, a, b)
}
