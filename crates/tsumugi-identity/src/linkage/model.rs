//! The Fellegi–Sunter model: per field and level, m (how often true matches show that level)
//! and u (how often non-matches do); a pair's match weight is the sum of `log2(m/u)` over its
//! fields plus the prior, adjusted for the frequency of agreed names.
//!
//! - **u** is estimated from random pairs (almost all non-matches), drawn in rounds until no
//!   level's estimate moves by more than a tolerance (early stopping) or a cap is reached.
//! - **m** and the prior λ are trained by expectation–maximisation over the candidate pairs'
//!   level patterns, with u held fixed (so the model cannot drift into separating, say,
//!   households from strangers instead of persons from persons). Identical patterns are
//!   counted once with their multiplicity: EM costs nothing next to comparing.
//! - **Term frequency**: agreeing on 佐藤 is weak evidence, on a rare surname strong. For the
//!   exact level of a name field the weight uses the agreed value's frequency `p_v` instead of
//!   the average u (`log2(m / p_v)`), `p_v` from the data or from a population table.

use std::collections::HashMap;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::linkage::compare::{
    Agreed, EXTRA_LEVELS_EXACT, EXTRA_LEVELS_FUZZY, ExtraKind, FIELDS, LEVELS, Levels, NULL,
    TF_FIELDS, agreed_value, compare,
};
use crate::linkage::features::Prepared;

/// The parameters of one comparison level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelParams {
    /// What the level means.
    pub label: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
}

impl LevelParams {
    /// The level's match weight, `log2(m/u)`.
    pub fn weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

/// The parameters of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldParams {
    /// The field.
    pub field: String,
    /// Its levels, lowest (disagree) first.
    pub levels: Vec<LevelParams>,
}

/// A trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Per field, per level m and u.
    pub fields: Vec<FieldParams>,
    /// Prior probability that two random records are a match.
    pub lambda: f64,
    /// EM iterations run.
    pub em_iterations: u32,
    /// Random pairs drawn to estimate u.
    pub u_pairs: u64,
    /// Free-form fields and how they compare.
    pub extras: Vec<ExtraKind>,
}

/// Smallest probability a level is given (no level is impossible).
const FLOOR: f64 = 1e-6;

/// Tolerance of the u estimate's early stop: the largest change of any level's u between two
/// rounds, relative to it.
const U_TOLERANCE: f64 = 0.02;

/// Random pairs drawn per round of the u estimate.
const U_ROUND: usize = 250_000;

fn level_labels(extras: &[ExtraKind]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = FIELDS
        .iter()
        .zip(LEVELS.iter())
        .map(|(f, ls)| (f.to_string(), ls.iter().map(|l| l.to_string()).collect()))
        .collect();
    for (k, kind) in extras.iter().enumerate() {
        let ls = match kind {
            ExtraKind::Exact => EXTRA_LEVELS_EXACT,
            ExtraKind::Fuzzy => EXTRA_LEVELS_FUZZY,
        };
        out.push((
            format!("extra{k}"),
            ls.iter().map(|l| l.to_string()).collect(),
        ));
    }
    out
}

/// Per field, per level counts.
fn tally<'a>(
    shape: &[(String, Vec<String>)],
    patterns: impl Iterator<Item = (Levels, f64)> + 'a,
) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> = shape.iter().map(|(_, l)| vec![0.0; l.len()]).collect();
    for (levels, n) in patterns {
        for (f, c) in counts.iter_mut().enumerate() {
            let l = levels.get(f);
            if l != NULL
                && let Some(x) = c.get_mut(l as usize)
            {
                *x += n;
            }
        }
    }
    counts
}

/// Probabilities from counts with `weight` pseudo-counts spread as `prior` (a Dirichlet
/// prior): with little data the prior speaks, with much data the data do.
fn to_probabilities(counts: &[Vec<f64>], prior: &[Vec<f64>], weight: f64) -> Vec<Vec<f64>> {
    counts
        .iter()
        .zip(prior)
        .map(|(c, pr)| {
            let total: f64 = c.iter().sum::<f64>() + weight;
            c.iter()
                .zip(pr)
                .map(|(x, p)| ((x + weight * p) / total).max(FLOOR))
                .collect()
        })
        .collect()
}

/// Pseudo-pairs of the prior of u.
const U_PRIOR_WEIGHT: f64 = 10_000.0;
/// Pseudo-pairs of the prior of m, per training session.
const M_PRIOR_WEIGHT: f64 = 500.0;

/// The prior (m, u) of every level: what the engine learnt on a synthetic population of a
/// million records with every noise type (`tsumugi bench link`), rounded and smoothed so no
/// level is impossible. It carries small runs (a handful of records say nothing about u or
/// m); at scale the data outweigh it.
fn prior(extras: &[ExtraKind]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let name_m = vec![0.003, 0.002, 0.002, 0.003, 0.05, 0.94];
    let mut m = vec![
        name_m.clone(),
        name_m,
        vec![0.002, 0.001, 0.011, 0.002, 0.009, 0.975],
        vec![0.001, 0.999],
        vec![0.08, 0.01, 0.02, 0.89],
        vec![0.13, 0.01, 0.01, 0.85],
    ];
    let mut u = vec![
        vec![0.974, 0.004, 0.0001, 0.0002, 0.0017, 0.02],
        vec![0.9935, 0.0022, 0.0001, 0.0005, 0.0003, 0.0034],
        vec![0.99962, 0.00016, 0.00009, 0.00002, 0.00007, 0.00004],
        vec![0.5, 0.5],
        vec![0.995, 0.004, 0.0005, 0.0005],
        vec![0.993, 0.0069, 0.00005, 0.00005],
    ];
    for kind in extras {
        match kind {
            ExtraKind::Exact => {
                m.push(vec![0.05, 0.95]);
                u.push(vec![0.99, 0.01]);
            }
            ExtraKind::Fuzzy => {
                m.push(vec![0.04, 0.06, 0.9]);
                u.push(vec![0.98, 0.01, 0.01]);
            }
        }
    }
    (m, u)
}

/// Estimates u from pairs of `p` that are almost all non-matches: every pair when there are
/// no more than `max_pairs`, else random pairs drawn with `rng` in rounds of [`U_ROUND`]
/// until the estimate is stable or `max_pairs` were drawn. The [`prior`] carries small
/// populations.
pub(crate) fn estimate_u(
    p: &Prepared,
    extras: &[ExtraKind],
    max_pairs: usize,
    rng: &mut (dyn RngCore + Send),
) -> (Vec<Vec<f64>>, u64) {
    use rayon::prelude::*;
    let shape = level_labels(extras);
    let (_, prior_u) = prior(extras);
    let n = p.n as u64;
    let mut counts: Vec<Vec<f64>> = shape.iter().map(|(_, l)| vec![0.0; l.len()]).collect();
    let add = |pairs: &[(usize, usize)], counts: &mut Vec<Vec<f64>>| {
        let round: Vec<Levels> = pairs
            .par_iter()
            .map(|&(a, b)| compare(p, extras, a, b))
            .collect();
        let add = tally(&shape, round.into_iter().map(|l| (l, 1.0)));
        for (c, a) in counts.iter_mut().zip(add) {
            for (x, y) in c.iter_mut().zip(a) {
                *x += y;
            }
        }
    };
    if n * n.saturating_sub(1) / 2 <= max_pairs as u64 {
        let all: Vec<(usize, usize)> = (0..p.n)
            .flat_map(|a| (a + 1..p.n).map(move |b| (a, b)))
            .collect();
        add(&all, &mut counts);
        return (
            to_probabilities(&counts, &prior_u, U_PRIOR_WEIGHT),
            all.len() as u64,
        );
    }
    let mut drawn = 0u64;
    let mut last: Option<Vec<Vec<f64>>> = None;
    while (drawn as usize) < max_pairs {
        let pairs: Vec<(usize, usize)> = (0..U_ROUND)
            .filter_map(|_| {
                let a = rng.next_u64() % n;
                let b = rng.next_u64() % n;
                (a != b).then_some((a as usize, b as usize))
            })
            .collect();
        drawn += pairs.len() as u64;
        add(&pairs, &mut counts);
        let now = to_probabilities(&counts, &prior_u, U_PRIOR_WEIGHT);
        let stable = last.as_ref().is_some_and(|prev| {
            prev.iter()
                .flatten()
                .zip(now.iter().flatten())
                .all(|(a, b)| {
                    // Levels seen fewer than a handful of times are too noisy to wait for.
                    (a - b).abs() <= U_TOLERANCE * b.max(20.0 / drawn as f64)
                })
        });
        last = Some(now);
        if stable {
            break;
        }
    }
    (to_probabilities(&counts, &prior_u, U_PRIOR_WEIGHT), drawn)
}

/// The level patterns of one training session: the pairs one blocking rule finds, with the
/// fields that rule blocks on excluded (they agree by construction, so they say nothing).
pub(crate) struct Session {
    /// Pattern → pairs.
    pub patterns: HashMap<Levels, u64>,
    /// Fields the rule blocks on.
    pub excluded: Vec<usize>,
}

/// One EM run over `patterns`: m (unless `fixed_m`) and λ, u fixed. Fields in `excluded` are
/// ignored. λ is the share of matches among `population` pairs when given (all pairs of the
/// records, the patterns' pairs being the only ones that may match), else among the patterns'
/// pairs. Returns m, λ and the iterations run.
fn em(
    patterns: &HashMap<Levels, u64>,
    u: &[Vec<f64>],
    prior_m: &[Vec<f64>],
    start_m: Vec<Vec<f64>>,
    fixed_m: bool,
    excluded: &[usize],
    population: Option<f64>,
) -> (Vec<Vec<f64>>, f64, u32) {
    let n_fields = u.len();
    let mut m = start_m;
    // Sorted, so that the sums below run in one order and a run is bit-for-bit repeatable.
    let mut patterns: Vec<(Levels, f64)> = patterns.iter().map(|(l, n)| (*l, *n as f64)).collect();
    patterns.sort_unstable_by_key(|(l, _)| *l);
    let total: f64 = population.unwrap_or_else(|| patterns.iter().map(|(_, n)| n).sum());
    let mut lambda = (0.3 * patterns.iter().map(|(_, n)| n).sum::<f64>() / total.max(1.0))
        .clamp(f64::MIN_POSITIVE, 0.5);
    let mut iterations = 0;
    for it in 0..200 {
        iterations = it + 1;
        let mut posterior = Vec::with_capacity(patterns.len());
        let mut matched = 0.0;
        for (levels, n) in &patterns {
            let (mut pm, mut pu) = (lambda, 1.0 - lambda);
            for f in (0..n_fields).filter(|f| !excluded.contains(f)) {
                let l = levels.get(f);
                if l == NULL {
                    continue;
                }
                let l = l as usize;
                pm *= m[f].get(l).copied().unwrap_or(FLOOR);
                pu *= u[f].get(l).copied().unwrap_or(FLOOR);
            }
            let g = if pm + pu > 0.0 { pm / (pm + pu) } else { 0.0 };
            matched += g * n;
            posterior.push((*levels, g * n));
        }
        let new_lambda = (matched / total.max(1.0)).clamp(f64::MIN_POSITIVE, 1.0 - FLOOR);
        let mut delta = (new_lambda - lambda).abs() / lambda;
        lambda = new_lambda;
        if !fixed_m {
            let counts = tally_fields(n_fields, &m, posterior.into_iter());
            let new_m = to_probabilities(&counts, prior_m, M_PRIOR_WEIGHT);
            delta = new_m
                .iter()
                .flatten()
                .zip(m.iter().flatten())
                .map(|(a, b)| (a - b).abs())
                .fold(delta, f64::max);
            m = new_m;
        }
        if delta < 1e-7 {
            break;
        }
    }
    (m, lambda, iterations)
}

fn tally_fields(
    n_fields: usize,
    shape: &[Vec<f64>],
    patterns: impl Iterator<Item = (Levels, f64)>,
) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> = shape.iter().map(|l| vec![0.0; l.len()]).collect();
    for (levels, n) in patterns {
        for (f, c) in counts.iter_mut().enumerate().take(n_fields) {
            let l = levels.get(f);
            if l != NULL
                && let Some(x) = c.get_mut(l as usize)
            {
                *x += n;
            }
        }
    }
    counts
}

/// Trains the model: per session (blocking rule) EM for the fields the rule does not block
/// on, u fixed; each field's m is the mean over the sessions that trained it. λ — the
/// probability that two *random* records match, the prior that goes with a u estimated from
/// random pairs — is then fitted with m and u fixed: the candidate pairs (`all`) are the only
/// pairs that may match, among the `population` pairs of all records.
pub(crate) fn train(
    sessions: &[Session],
    all: &HashMap<Levels, u64>,
    population: f64,
    u: Vec<Vec<f64>>,
    extras: &[ExtraKind],
    u_pairs: u64,
) -> Model {
    let shape = level_labels(extras);
    // Start from the prior; EM moves it.
    let (prior_m, _) = prior(extras);
    let start = prior_m.clone();
    let mut sum: Vec<Vec<f64>> = start.iter().map(|l| vec![0.0; l.len()]).collect();
    let mut trained = vec![0u32; shape.len()];
    let mut iterations = 0;
    for s in sessions.iter().filter(|s| !s.patterns.is_empty()) {
        let (m, _, it) = em(
            &s.patterns,
            &u,
            &prior_m,
            start.clone(),
            false,
            &s.excluded,
            None,
        );
        iterations += it;
        for f in (0..shape.len()).filter(|f| !s.excluded.contains(f)) {
            trained[f] += 1;
            for (acc, x) in sum[f].iter_mut().zip(&m[f]) {
                *acc += x;
            }
        }
    }
    let m: Vec<Vec<f64>> = sum
        .into_iter()
        .zip(&trained)
        .zip(start)
        .map(|((acc, n), start)| {
            if *n == 0 {
                start
            } else {
                acc.iter().map(|x| (x / f64::from(*n)).max(FLOOR)).collect()
            }
        })
        .collect();
    let (m, lambda, it) = em(all, &u, &prior_m, m, true, &[], Some(population));
    iterations += it;
    let fields = shape
        .into_iter()
        .enumerate()
        .map(|(f, (field, labels))| FieldParams {
            field,
            levels: labels
                .into_iter()
                .enumerate()
                .map(|(l, label)| LevelParams {
                    label,
                    m: m[f].get(l).copied().unwrap_or(FLOOR),
                    u: u[f].get(l).copied().unwrap_or(FLOOR),
                })
                .collect(),
        })
        .collect();
    Model {
        fields,
        lambda,
        em_iterations: iterations,
        u_pairs,
        extras: extras.to_vec(),
    }
}

/// Value frequencies of the name fields for the term-frequency adjustment, from a population
/// table supplied from outside (common surnames such as 佐藤 are weak evidence).
#[derive(Debug, Clone, Default)]
pub struct TermFrequencies {
    /// Per name column — family kanji, given kanji, family kana, given kana — normalized value
    /// → share of the population holding it.
    pub shares: [HashMap<String, f64>; 4],
}

/// One field's part of a pair's weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldWeight {
    /// The field.
    pub field: String,
    /// The level's label, or `null` when the field was missing on either side.
    pub level: Option<String>,
    /// `log2(m/u)` of the level (0 when null).
    pub weight: f64,
    /// The term-frequency adjustment added to it (exact name levels only).
    pub tf_adjustment: f64,
}

/// Why a pair scored what it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// `log2(λ/(1-λ))`.
    pub prior_weight: f64,
    /// Per field.
    pub fields: Vec<FieldWeight>,
    /// The total match weight.
    pub match_weight: f64,
    /// The match probability.
    pub probability: f64,
    /// Whether the twin guard forbids the link whatever the weight.
    pub twin_guard: bool,
}

/// Scores pairs under a trained model.
pub(crate) struct Scorer<'a> {
    p: &'a Prepared,
    /// `log2(m/u)` per field and level.
    weights: Vec<Vec<f64>>,
    /// `log2(u)` per field and level.
    log_u: Vec<Vec<f64>>,
    /// `log2` of each value's share: family kanji, given kanji, family kana, given kana pools.
    log_share: [Vec<f64>; 4],
    prior: f64,
}

impl<'a> Scorer<'a> {
    /// Precomputes the weights; `external` replaces the in-data frequencies where it names a
    /// value.
    pub(crate) fn new(
        model: &Model,
        p: &'a Prepared,
        external: Option<&TermFrequencies>,
    ) -> Scorer<'a> {
        let weights = model
            .fields
            .iter()
            .map(|f| f.levels.iter().map(LevelParams::weight).collect())
            .collect();
        let log_u = model
            .fields
            .iter()
            .map(|f| f.levels.iter().map(|l| l.u.log2()).collect())
            .collect();
        let n = p.n.max(1) as f64;
        let pools = [
            &p.family_kanji,
            &p.given_kanji,
            &p.family_kana,
            &p.given_kana,
        ];
        let log_share = std::array::from_fn(|k| {
            let pool = pools[k];
            pool.chars
                .iter()
                .enumerate()
                .map(|(id, chars)| {
                    let ext = external.and_then(|t| {
                        let s: String = chars.iter().collect();
                        t.shares.get(k).and_then(|m| m.get(&s)).copied()
                    });
                    // A population table speaks for itself; in-data shares are at least one
                    // record's.
                    ext.map_or_else(
                        || (f64::from(pool.count(id as u32)) / n).max(1.0 / n),
                        |share| share.max(1e-9),
                    )
                    .log2()
                })
                .collect()
        });
        let prior = (model.lambda / (1.0 - model.lambda)).log2();
        Scorer {
            p,
            weights,
            log_u,
            log_share,
            prior,
        }
    }

    /// The term-frequency adjustment of name field `f` at its level in `levels`:
    /// `log2(m/p_v) − log2(m/u) = log2(u) − log2(p_v)` for the agreed value `v`.
    fn tf_adjustment(&self, f: usize, levels: Levels, a: usize, b: usize) -> f64 {
        let level = levels.get(f);
        let pool = match agreed_value(self.p, f, level, a, b) {
            Some(Agreed::Kanji(v)) => (f, v),
            Some(Agreed::Kana(v)) => (2 + f, v),
            None => return 0.0,
        };
        let share = self.log_share[pool.0]
            .get(pool.1 as usize)
            .copied()
            .unwrap_or(0.0);
        let log_u = self
            .log_u
            .get(f)
            .and_then(|l| l.get(level as usize))
            .copied()
            .unwrap_or(0.0);
        log_u - share
    }

    /// The match weight of a pair with `levels`.
    pub(crate) fn weight(&self, levels: Levels, a: usize, b: usize) -> f64 {
        let mut w = self.prior;
        for (f, ws) in self.weights.iter().enumerate() {
            let l = levels.get(f);
            if l != NULL {
                w += ws.get(l as usize).copied().unwrap_or(0.0);
            }
        }
        for f in TF_FIELDS {
            w += self.tf_adjustment(f, levels, a, b);
        }
        w
    }

    /// The per-field breakdown of a pair's weight.
    pub(crate) fn explain(
        &self,
        model: &Model,
        extras: &[ExtraKind],
        a: usize,
        b: usize,
    ) -> Explanation {
        let levels = compare(self.p, extras, a, b);
        let fields = model
            .fields
            .iter()
            .enumerate()
            .map(|(f, fp)| {
                let l = levels.get(f);
                let tf = if TF_FIELDS.contains(&f) && l != NULL {
                    self.tf_adjustment(f, levels, a, b)
                } else {
                    0.0
                };
                FieldWeight {
                    field: fp.field.clone(),
                    level: (l != NULL)
                        .then(|| fp.levels.get(l as usize).map(|x| x.label.clone()))
                        .flatten(),
                    weight: if l == NULL {
                        0.0
                    } else {
                        fp.levels.get(l as usize).map_or(0.0, LevelParams::weight)
                    },
                    tf_adjustment: tf,
                }
            })
            .collect();
        let w = self.weight(levels, a, b);
        Explanation {
            prior_weight: self.prior,
            fields,
            match_weight: w,
            probability: probability(w),
            twin_guard: crate::linkage::compare::twin_guard(levels),
        }
    }
}

/// The probability of a match weight.
pub fn probability(weight: f64) -> f64 {
    let x = weight.exp2();
    x / (1.0 + x)
}

/// The match weight of a probability.
pub fn weight_of(probability: f64) -> f64 {
    let p = probability.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).log2()
}
