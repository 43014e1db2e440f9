//! Blocking: which pairs of records are compared at all.
//!
//! A rule is a `+`-joined list of key parts (`family_kana+birth_date`); two records are a
//! candidate pair under it when they share its key — for multi-valued fields, when any of their
//! names (addresses, cards) gives the same key. The candidate pairs are the **union** over the
//! rules: a pair is emitted once, by the first rule that finds it, and a pair that shares
//! several keys under one rule (two names of a history) once, at the smallest shared key.
//! A block (records sharing one key) larger than `max_block` is skipped and counted: it would
//! cost quadratic work and says little (a key made of common values).

use std::hash::{Hash, Hasher};

use rayon::prelude::*;

use crate::linkage::compare::N_FIXED;
use crate::linkage::features::{Multi, NONE, Prepared};

/// One part of a blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    FamilyKanji,
    GivenKanji,
    FamilyKana,
    GivenKana,
    FullKanji,
    FullKana,
    BirthDate,
    BirthYear,
    BirthMonthDay,
    Sex,
    Address,
    Postcode,
    Municipality,
    Card,
    Household,
    Extra(usize),
}

impl Part {
    fn group(self) -> u8 {
        match self {
            Part::FamilyKanji
            | Part::GivenKanji
            | Part::FamilyKana
            | Part::GivenKana
            | Part::FullKanji
            | Part::FullKana => 0,
            Part::Address | Part::Postcode | Part::Municipality => 1,
            Part::Card | Part::Household => 2,
            _ => 3,
        }
    }
}

/// A blocking rule, parsed from its `+`-joined text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingRule {
    text: String,
    parts: Vec<Part>,
}

/// The default rules: each catches what the others miss (kanji variants and kana scripts by
/// kana or kanji with the birth date, marriage by the given name, birth-date typos by the whole
/// name and the year or day, insurer and address changes by whatever stays).
pub const DEFAULT_BLOCKING: [&str; 9] = [
    "family_kana+birth_date",
    "given_kana+birth_date",
    "family_kanji+birth_date",
    "given_kanji+birth_date",
    "full_kana+birth_year",
    "full_kanji+birth_month_day",
    "card",
    "given_kanji+address",
    "postcode+birth_date",
];

impl BlockingRule {
    /// Parses a rule; `extras` names the configuration's free-form fields (usable as parts).
    ///
    /// # Errors
    /// The unknown part's name.
    pub fn parse(text: &str, extras: &[String]) -> Result<BlockingRule, String> {
        let parts = text
            .split('+')
            .map(|p| {
                let p = p.trim();
                Ok(match p {
                    "family_kanji" => Part::FamilyKanji,
                    "given_kanji" => Part::GivenKanji,
                    "family_kana" => Part::FamilyKana,
                    "given_kana" => Part::GivenKana,
                    "full_kanji" => Part::FullKanji,
                    "full_kana" => Part::FullKana,
                    "birth_date" => Part::BirthDate,
                    "birth_year" => Part::BirthYear,
                    "birth_month_day" => Part::BirthMonthDay,
                    "sex" => Part::Sex,
                    "address" => Part::Address,
                    "postcode" => Part::Postcode,
                    "municipality" => Part::Municipality,
                    "card" => Part::Card,
                    "household" => Part::Household,
                    other => match extras.iter().position(|e| e == other) {
                        Some(k) => Part::Extra(k),
                        None => return Err(other.to_owned()),
                    },
                })
            })
            .collect::<Result<Vec<Part>, String>>()?;
        Ok(BlockingRule {
            text: text.to_owned(),
            parts,
        })
    }

    /// The rule as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The comparison fields this rule blocks on (agreeing by construction in its pairs).
    pub(crate) fn fields(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .parts
            .iter()
            .flat_map(|p| match p {
                Part::FamilyKanji | Part::FamilyKana => vec![0],
                Part::GivenKanji | Part::GivenKana => vec![1],
                Part::FullKanji | Part::FullKana => vec![0, 1],
                Part::BirthDate | Part::BirthYear | Part::BirthMonthDay => vec![2],
                Part::Sex => vec![3],
                Part::Address | Part::Postcode | Part::Municipality => vec![4],
                Part::Card | Part::Household => vec![5],
                Part::Extra(k) => vec![N_FIXED + k],
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every key of record `i` under this rule, sorted and deduplicated.
    pub(crate) fn keys(&self, p: &Prepared, i: usize) -> Vec<u64> {
        let uses = |g: u8| self.parts.iter().any(|x| x.group() == g);
        let names: Vec<Option<usize>> = if uses(0) {
            (0..p.names.of(i).len()).map(Some).collect()
        } else {
            vec![None]
        };
        let addrs: Vec<Option<usize>> = if uses(1) {
            (0..p.addresses.of(i).len()).map(Some).collect()
        } else {
            vec![None]
        };
        let cards: Vec<Option<usize>> = if uses(2) {
            (0..p.cards.of(i).len()).map(Some).collect()
        } else {
            vec![None]
        };
        let mut out = Vec::new();
        for n in &names {
            for a in &addrs {
                for c in &cards {
                    if let Some(k) = self.key(p, i, *n, *a, *c) {
                        out.push(k);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn key(
        &self,
        p: &Prepared,
        i: usize,
        n: Option<usize>,
        a: Option<usize>,
        c: Option<usize>,
    ) -> Option<u64> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.text.hash(&mut h);
        let name = n.and_then(|n| p.names.of(i).get(n));
        let addr = a.and_then(|a| p.addresses.of(i).get(a));
        let card = c.and_then(|c| p.cards.of(i).get(c));
        let dob = p.dob.get(i).copied().flatten();
        for part in &self.parts {
            let v: u64 = match part {
                Part::FamilyKanji => id(name?.family_kanji)?,
                Part::GivenKanji => id(name?.given_kanji)?,
                Part::FamilyKana => id(name?.family_kana)?,
                Part::GivenKana => id(name?.given_kana)?,
                Part::FullKanji => id(name?.full_kanji)?,
                Part::FullKana => id(name?.full_kana)?,
                Part::BirthDate => u64::from(dob?.ordinal.unsigned_abs()),
                Part::BirthYear => u64::from(dob?.year.unsigned_abs()),
                Part::BirthMonthDay => u64::from(dob?.month * 100 + dob?.day),
                Part::Sex => match p.sex.get(i)? {
                    tsumugi_model::Sex::Unknown => return None,
                    s => u64::from(s.code().as_bytes().first().copied().unwrap_or(0)),
                },
                Part::Address => id(addr?.text)?,
                Part::Postcode => nonzero(u64::from(addr?.postcode))?,
                Part::Municipality => nonzero(u64::from(addr?.municipality))?,
                Part::Card => nonzero(card?.card)?,
                Part::Household => nonzero(card?.household)?,
                Part::Extra(k) => id(*p.extras.get(*k)?.get(i)?)?,
            };
            v.hash(&mut h);
        }
        Some(h.finish())
    }
}

fn id(v: u32) -> Option<u64> {
    (v != NONE).then_some(u64::from(v))
}

fn nonzero(v: u64) -> Option<u64> {
    (v != 0).then_some(v)
}

/// What one rule contributed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleStats {
    /// The rule.
    pub rule: String,
    /// Pairs the rule finds on its own (including those an earlier rule found).
    pub pairs: u64,
    /// Pairs first found by this rule (its share of the union).
    pub new_pairs: u64,
    /// Blocks skipped for exceeding the block-size limit.
    pub skipped_blocks: u64,
    /// Pairs those skipped blocks would have made.
    pub skipped_pairs: u64,
    /// With ground truth: true pairs the rule finds on its own.
    pub true_pairs: Option<u64>,
    /// With ground truth: true pairs first found by this rule.
    pub new_true_pairs: Option<u64>,
}

/// Keys of every record under one rule: `(key, record)` sorted by key, and per record its
/// sorted keys.
struct RuleKeys {
    by_key: Vec<(u64, u32)>,
    per_record: Multi<u64>,
}

/// `(key, record)` of every record under `rule`, sorted by key: the rule's lookup index.
pub(crate) fn key_index(p: &Prepared, rule: &BlockingRule) -> Vec<(u64, u32)> {
    rule_keys(p, rule).by_key
}

fn rule_keys(p: &Prepared, rule: &BlockingRule) -> RuleKeys {
    let keys: Vec<Vec<u64>> = (0..p.n).into_par_iter().map(|i| rule.keys(p, i)).collect();
    let mut by_key: Vec<(u64, u32)> = keys
        .iter()
        .enumerate()
        .flat_map(|(i, ks)| ks.iter().map(move |k| (*k, i as u32)))
        .collect();
    let mut per_record = Multi::new();
    for ks in keys {
        per_record.push_record(ks);
    }
    by_key.par_sort_unstable();
    RuleKeys { by_key, per_record }
}

/// The smallest key two sorted lists share.
fn first_shared(a: &[u64], b: &[u64]) -> Option<u64> {
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return Some(*x),
        }
    }
    None
}

/// Candidate pairs `(a, b)` with `a < b`, the union over `rules`, and what each rule found.
/// With `truth` (a person label per record), each rule's true pairs are counted too.
pub(crate) fn candidate_pairs(
    p: &Prepared,
    rules: &[BlockingRule],
    max_block: usize,
    truth: Option<&[u32]>,
) -> (PairList, Vec<RuleStats>) {
    let (pairs, stats, _) = candidate_pairs_with_samples(p, rules, max_block, truth, 0);
    (pairs, stats)
}

/// Pairs of records `(a, b)`, `a < b`.
pub(crate) type PairList = Vec<(u32, u32)>;

/// [`candidate_pairs`], and per rule up to `sample_cap` of the pairs it finds on its own
/// (whether or not an earlier rule found them first), its training sample: blocks come in
/// key-hash order, so the first pairs are a sample across blocks.
pub(crate) fn candidate_pairs_with_samples(
    p: &Prepared,
    rules: &[BlockingRule],
    max_block: usize,
    truth: Option<&[u32]>,
    sample_cap: usize,
) -> (PairList, Vec<RuleStats>, Vec<PairList>) {
    let keys: Vec<RuleKeys> = rules.iter().map(|r| rule_keys(p, r)).collect();
    let results: Vec<(PairList, RuleStats, PairList)> = (0..rules.len())
        .into_par_iter()
        .map(|r| {
            let rk = &keys[r];
            let mut stats = RuleStats {
                rule: rules[r].text.clone(),
                pairs: 0,
                new_pairs: 0,
                skipped_blocks: 0,
                skipped_pairs: 0,
                true_pairs: truth.map(|_| 0),
                new_true_pairs: truth.map(|_| 0),
            };
            let mut out = Vec::new();
            let mut sample = Vec::new();
            let mut start = 0;
            while start < rk.by_key.len() {
                let key = rk.by_key[start].0;
                let mut end = start + 1;
                while end < rk.by_key.len() && rk.by_key[end].0 == key {
                    end += 1;
                }
                let block = &rk.by_key[start..end];
                start = end;
                let size = block.len();
                if size > max_block {
                    stats.skipped_blocks += 1;
                    stats.skipped_pairs += (size * (size - 1) / 2) as u64;
                    continue;
                }
                for (x, &(_, a)) in block.iter().enumerate() {
                    for &(_, b) in &block[x + 1..] {
                        let (ka, kb) = (rk.per_record.of(a as usize), rk.per_record.of(b as usize));
                        if first_shared(ka, kb) != Some(key) {
                            continue;
                        }
                        stats.pairs += 1;
                        if sample.len() < sample_cap {
                            sample.push((a.min(b), a.max(b)));
                        }
                        let is_true = truth.is_some_and(|t| t.get(a as usize) == t.get(b as usize));
                        if is_true && let Some(n) = stats.true_pairs.as_mut() {
                            *n += 1;
                        }
                        let earlier = keys[..r].iter().any(|e| {
                            first_shared(e.per_record.of(a as usize), e.per_record.of(b as usize))
                                .is_some()
                        });
                        if !earlier {
                            stats.new_pairs += 1;
                            if is_true && let Some(n) = stats.new_true_pairs.as_mut() {
                                *n += 1;
                            }
                            out.push((a.min(b), a.max(b)));
                        }
                    }
                }
            }
            (out, stats, sample)
        })
        .collect();
    let mut pairs = Vec::with_capacity(results.iter().map(|(p, _, _)| p.len()).sum());
    let mut stats = Vec::new();
    let mut samples = Vec::new();
    for (p, s, sample) in results {
        pairs.extend(p);
        stats.push(s);
        samples.push(sample);
    }
    (pairs, stats, samples)
}
