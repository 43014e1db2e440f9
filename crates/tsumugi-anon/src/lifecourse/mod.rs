//! Lifecourse releases: the person table and the event table anonymized together, privacy
//! counted in **persons**.
//!
//! A release is one of two kinds:
//! - **匿名加工 (anonymized)**: the person table's quasi-identifiers (sex, age with 90+,
//!   region, death month and event-derived years such as the year of first diagnosis of E11)
//!   are generalized by the optimal lattice search ([`QuasiTable`]) over one row per person,
//!   so every released class holds at least k persons; suppressed persons leave with all their
//!   events. In the events, codes held by fewer than k released persons go up their code
//!   system's hierarchy (ICD-10 → 3 characters → block → chapter; YJ → ingredient → 薬効分類;
//!   JLAC10 → analyte) or are removed (特異な記述); values beyond the k-th most extreme
//!   person are top- or bottom-coded; dates become months, are shifted by a per-person offset,
//!   or become days from the person's first event; birth and death events are removed (the
//!   person table holds age and death month).
//! - **仮名加工 (pseudonymized)**, for certified users: clinical detail and rare values are
//!   kept; person keys are replaced, birth dates stay months, addresses stay municipalities or
//!   become prefectures.
//!
//! In both, person keys become per-release keyed pseudonyms (HMAC-SHA-256 under a key unique
//! to the release), the research store holds no identifier or free text to remove, and a
//! person with a stop request in force is left out again here. The package: `persons` and
//! `events` as CSV and Parquet, `codebook.md`, `report.json`, `report.html` and
//! `manifest.json` (SHA-256 of every file, the approval, the opt-out registry version).

mod codes;
mod documents;
mod quasi_ids;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use chrono::Datelike;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tsumugi_model::{Code, Date, EventKind};
use tsumugi_store::{PersonRow, ResearchStore, write_atomically};

pub use self::codes::CodeStats;
use self::codes::{CodeDecisions, Holders, ValueRanges};
use self::quasi_ids::{QuasiColumn, person_quasi};
use crate::manifest::{ApprovalRef, FileEntry, Manifest};
use crate::metric::{InfoLoss, Metric};
use crate::package::{SortedRows, TableOut};
use crate::privacy::Criterion;
use crate::quasi::{Policy, QuasiTable, Strategy};
use crate::risk::Risk;
use crate::search::SearchStats;
use crate::{Error, Result};

/// Bytes of event rows sorted in memory before runs are spilled to the staging folder.
const SORT_BUDGET: usize = 256 << 20;

/// How event dates leave the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "snake_case")]
pub enum DatePolicy {
    /// Year and month (`YYYY-MM`).
    Month,
    /// The date moved by a per-person offset of at most `max_days` days either way, the same
    /// for all of one person's events, so intervals within a person are exact.
    Shift {
        /// The largest offset, in days.
        max_days: u32,
    },
    /// Days since the person's first released event; calendar time is removed.
    DaysFromIndex,
    /// The date as recorded (pseudonymized releases only).
    Exact,
}

/// An event-derived quasi-identifier: the year a person first had a code starting with
/// `prefix` in `system` (e.g. the year of first diagnosis of E11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstYear {
    /// The person-table column (`first_year_<name>`).
    pub name: String,
    /// The code system (`icd10`, `yj`, …).
    pub system: String,
    /// The code prefix.
    pub prefix: String,
}

/// How much detail a pseudonymized release keeps of the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionDetail {
    /// 市区町村 (6 digits).
    Municipality,
    /// 都道府県 (2 digits).
    Prefecture,
}

/// The measures a release takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Measures {
    /// 匿名加工医療情報.
    Anonymized {
        /// Least persons per class.
        k: u32,
        /// Largest share of persons that may be suppressed, 0–1.
        suppression_limit: f64,
        /// The utility metric minimized.
        metric: Metric,
        /// Event dates.
        dates: DatePolicy,
        /// Event-derived quasi-identifiers.
        first_year_of: Vec<FirstYear>,
    },
    /// 仮名加工医療情報, for certified users.
    Pseudonymized {
        /// Address detail.
        region: RegionDetail,
    },
}

/// Settings of one release. No `Default`: every release states its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecourseConfig {
    /// The release id (also the folder name): ASCII letters, digits and `-`.
    pub release_id: String,
    /// The approval.
    pub approval: ApprovalRef,
    /// The opt-out registry version that filtered the input.
    pub optout_version: i64,
    /// The date ages are computed at.
    pub reference_date: Date,
    /// What is done to the data.
    pub measures: Measures,
    /// Start the CSV files with a UTF-8 BOM (for spreadsheet programs).
    pub bom: bool,
}

/// A quasi-identifier's place in the released node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuasiLevel {
    /// The person-table column.
    pub name: String,
    /// The level released (0: as is).
    pub level: u8,
    /// The top level (everything suppressed to `*`).
    pub max_level: u8,
    /// What the level means.
    pub meaning: String,
}

/// Risk and utility of a release, written as `report.json` and `report.html`.
#[derive(Debug, Clone, Serialize)]
pub struct LifecourseReport {
    /// The release id.
    pub release_id: String,
    /// `anonymized` or `pseudonymized`.
    pub mode: String,
    /// Persons in the research store.
    pub persons_in_store: u64,
    /// Persons left out for a stop request in force.
    pub opted_out_excluded: u64,
    /// Persons released.
    pub persons_released: u64,
    /// Persons suppressed (with all their events) by the search.
    pub persons_suppressed: u64,
    /// Equivalence classes of released persons on the quasi-identifiers.
    pub classes: u64,
    /// Persons in the smallest class.
    pub min_class: u64,
    /// Class size → number of classes of that size.
    pub class_sizes: BTreeMap<u64, u64>,
    /// The released generalization (anonymized releases).
    pub quasi_identifiers: Vec<QuasiLevel>,
    /// Information loss of the node (anonymized releases).
    pub loss: Option<InfoLoss>,
    /// Re-identification risk over persons before generalization.
    pub risk_before: Risk,
    /// The same after.
    pub risk_after: Risk,
    /// What the search did (anonymized releases).
    pub search: Option<SearchStats>,
    /// Event rows released.
    pub events_released: u64,
    /// Event rows removed because their code is peculiar at every level.
    pub events_removed_peculiar: u64,
    /// Birth and death events removed (age and death month are in the person table).
    pub events_removed_kind: u64,
    /// Codes per system: kept, generalized, removed.
    pub codes: BTreeMap<String, CodeStats>,
    /// Values set to their code's top cut.
    pub values_top_coded: u64,
    /// Values set to their code's bottom cut.
    pub values_bottom_coded: u64,
    /// Values withheld (fewer than k persons have a value for the code).
    pub values_withheld: u64,
    /// How dates were released.
    pub dates: DatePolicy,
}

/// A written release.
#[derive(Debug, Clone)]
pub struct LifecourseRelease {
    /// The release folder.
    pub dir: PathBuf,
    /// Its report.
    pub report: LifecourseReport,
    /// Hex SHA-256 of `manifest.json`.
    pub manifest_sha256: String,
}

/// The release pseudonym of a person: `HMAC-SHA-256(key, person_key)`, first 16 bytes in hex.
pub fn pseudonym(key: &[u8; 32], person_key: i64) -> String {
    hex::encode(&mac(key, b"person", person_key)[..16])
}

/// A person's date offset in `-max_days..=max_days`, keyed like the pseudonym (so it cannot
/// be recomputed without the release key).
fn date_shift(key: &[u8; 32], person_key: i64, max_days: u32) -> i64 {
    let bytes = mac(key, b"date-shift", person_key);
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes[..8]);
    let span = 2 * u64::from(max_days) + 1;
    (u64::from_be_bytes(first) % span) as i64 - i64::from(max_days)
}

fn mac(key: &[u8; 32], purpose: &[u8], person_key: i64) -> [u8; 32] {
    // HMAC accepts any key length; the error branch cannot occur for 32 bytes.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(purpose);
    mac.update(&[0]);
    mac.update(&person_key.to_be_bytes());
    mac.finalize().into_bytes().into()
}

/// A release key derived from a seed, for reproducible releases (the same inputs, config and
/// seed give byte-identical packages) and for tests that must recompute pseudonyms. Production
/// releases use a random key that is discarded, so pseudonyms cannot be recomputed.
pub fn derive_release_key(seed: u64, release_id: &str) -> [u8; 32] {
    use sha2::Digest;
    let mut h = Sha256::new();
    h.update(b"tsumugi-release-key-v1\0");
    h.update(seed.to_le_bytes());
    h.update(release_id.as_bytes());
    h.finalize().into()
}

fn month(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn check(cfg: &LifecourseConfig) -> Result<()> {
    let id_ok = !cfg.release_id.is_empty()
        && cfg
            .release_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !id_ok {
        return Err(Error::InvalidConfig(
            "release id must be ASCII letters, digits and '-'".into(),
        ));
    }
    if let Measures::Anonymized {
        k,
        suppression_limit,
        dates,
        first_year_of,
        ..
    } = &cfg.measures
    {
        if *k < 2 {
            return Err(Error::InvalidConfig(
                "an anonymized release needs k ≥ 2".into(),
            ));
        }
        if !(0.0..=1.0).contains(suppression_limit) {
            return Err(Error::InvalidConfig(format!(
                "suppression_limit {suppression_limit} is not in 0–1"
            )));
        }
        if *dates == DatePolicy::Exact {
            return Err(Error::InvalidConfig(
                "exact dates are for pseudonymized releases only: use month, shift or days_from_index".into(),
            ));
        }
        let mut names = BTreeSet::new();
        for f in first_year_of {
            let ok = !f.name.is_empty()
                && f.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !f.prefix.is_empty();
            if !ok || !names.insert(&f.name) {
                return Err(Error::InvalidConfig(format!(
                    "first_year_of {:?}: names are unique ASCII words and prefixes are not empty",
                    f.name
                )));
            }
        }
    }
    Ok(())
}

/// Writes release `cfg.release_id` under `releases_dir` from the research store's lifecourse.
///
/// `excluded` are persons with a stop request in force: they are left out again here even
/// though the store should no longer hold them. `key` is the release's own key for pseudonyms
/// and date shifts.
///
/// # Guarantee
/// Anonymized: every class of released persons on the released quasi-identifiers holds at
/// least k persons, and at most ⌊limit · persons⌋ persons are suppressed (the search's
/// invariant, over one row per person); every code in the event table is held by at least k
/// released persons at its released level; every released value beyond a top or bottom cut
/// equals the cut, which at least k persons reach. Both kinds: no person in `excluded`
/// appears. The same store, config and key give byte-identical files.
///
/// # Errors
/// [`Error::NoSolution`] when no generalization meets k within the suppression limit;
/// [`Error::NothingToRelease`] when every person is left out;
/// [`Error::ReleaseExists`]; [`Error::InvalidConfig`]; store and I/O errors.
pub fn write_lifecourse_release(
    store: &ResearchStore,
    excluded: &BTreeSet<i64>,
    cfg: &LifecourseConfig,
    key: &[u8; 32],
    releases_dir: &Path,
) -> Result<LifecourseRelease> {
    check(cfg)?;
    let dir = releases_dir.join(&cfg.release_id);
    if dir.exists() {
        return Err(Error::ReleaseExists(dir));
    }
    let staging = releases_dir.join(format!(".{}.partial", cfg.release_id));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(Error::io(&staging))?;
    }
    fs::create_dir_all(&staging).map_err(Error::io(&staging))?;
    let res = write_into(store, excluded, cfg, key, &staging);
    let report = match res {
        Ok(report) => report,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let manifest_sha256 = FileEntry::of(&staging, "manifest.json")?.sha256;
    fs::rename(&staging, &dir).map_err(Error::io(&dir))?;
    Ok(LifecourseRelease {
        dir,
        report,
        manifest_sha256,
    })
}

/// Event kinds an anonymized release leaves out: the person table holds age and death month.
fn removed_kind(kind: EventKind, anonymized: bool) -> bool {
    anonymized && matches!(kind, EventKind::Birth | EventKind::Death)
}

/// Per considered person, what the first pass over the events learns.
struct FirstPass {
    /// Per [`FirstYear`], per person, the first year.
    first_years: Vec<(String, Vec<Option<i32>>)>,
    /// Per person, the first released event's date.
    index_date: Vec<Option<Date>>,
}

fn first_pass(
    store: &ResearchStore,
    persons: &HashMap<i64, usize>,
    n: usize,
    first_year_of: &[FirstYear],
    anonymized: bool,
) -> Result<FirstPass> {
    let mut first_years: Vec<(String, Vec<Option<i32>>)> = first_year_of
        .iter()
        .map(|f| (format!("first_year_{}", f.name), vec![None; n]))
        .collect();
    let mut index_date: Vec<Option<Date>> = vec![None; n];
    for path in store.lifecourse_event_files()? {
        for batch in store.read_events(&path)? {
            for row in batch? {
                let Some(&i) = persons.get(&row.key) else {
                    continue;
                };
                let e = &row.event;
                if removed_kind(e.kind, anonymized) {
                    continue;
                }
                if index_date[i].is_none_or(|d| e.date < d) {
                    index_date[i] = Some(e.date);
                }
                let Some(code) = &e.code else { continue };
                for (f, (_, years)) in first_year_of.iter().zip(&mut first_years) {
                    if code.system.as_str() == f.system && code.value.starts_with(&f.prefix) {
                        let y = e.date.year();
                        if years[i].is_none_or(|old| y < old) {
                            years[i] = Some(y);
                        }
                    }
                }
            }
        }
    }
    Ok(FirstPass {
        first_years,
        index_date,
    })
}

/// The person table's released values: per considered person, `None` when suppressed.
struct PersonsOut {
    header: Vec<String>,
    rows: Vec<Option<Vec<String>>>,
    levels: Vec<QuasiLevel>,
    loss: Option<InfoLoss>,
    search: Option<SearchStats>,
    suppressed: u64,
    risk_before: Risk,
}

fn anonymize_persons(
    persons: &[PersonRow],
    cfg: &LifecourseConfig,
    k: u32,
    suppression_limit: f64,
    metric: Metric,
    first_years: &[(String, Vec<Option<i32>>)],
) -> Result<PersonsOut> {
    let quasi: Vec<QuasiColumn> =
        person_quasi(persons, cfg.reference_date, first_years).map_err(|source| {
            Error::Hierarchy {
                context: "person quasi-identifiers".into(),
                source,
            }
        })?;
    let bound: Vec<_> = quasi.iter().map(|q| (&q.column, &q.hierarchy)).collect();
    let qt = QuasiTable::new(&bound, None)?;
    let policy = Policy {
        criteria: vec![Criterion::KAnonymity { k }],
        suppression_limit,
        metric,
        strategy: Strategy::Optimal,
    };
    let result = qt.search(&policy)?;
    let Some(best) = result.optimum else {
        return Err(Error::NoSolution {
            checked: result.stats.nodes_checked,
        });
    };
    let rows = qt
        .apply(&policy, &best.levels)?
        .into_iter()
        .map(|r| r.map(|v| v.into_iter().map(str::to_owned).collect()))
        .collect();
    let levels = quasi
        .iter()
        .zip(&best.levels)
        .map(|(q, &l)| QuasiLevel {
            name: q.column.name.clone(),
            level: l,
            max_level: (q.hierarchy.height() - 1) as u8,
            meaning: q
                .level_names
                .get(usize::from(l))
                .copied()
                .unwrap_or("")
                .to_owned(),
        })
        .collect();
    Ok(PersonsOut {
        header: quasi.iter().map(|q| q.column.name.clone()).collect(),
        rows,
        levels,
        loss: Some(best.loss),
        suppressed: best.suppressed_rows,
        search: Some(result.stats),
        risk_before: Risk::of(qt.tuple_sizes()),
    })
}

fn pseudonymize_persons(persons: &[PersonRow], region: RegionDetail) -> PersonsOut {
    let rows: Vec<Option<Vec<String>>> = persons
        .iter()
        .map(|p| {
            let muni = p.municipality_code.clone().unwrap_or_default();
            let region = match region {
                RegionDetail::Municipality => muni,
                RegionDetail::Prefecture => muni.chars().take(2).collect(),
            };
            Some(vec![
                p.sex.code().to_owned(),
                month(p.birth_month),
                region,
                p.deceased_on.map(|d| d.to_string()).unwrap_or_default(),
            ])
        })
        .collect();
    let risk_before = Risk::of(class_sizes(&rows).into_values());
    PersonsOut {
        header: ["sex", "birth_month", "region", "death_date"]
            .map(str::to_owned)
            .to_vec(),
        rows,
        levels: Vec::new(),
        loss: None,
        search: None,
        suppressed: 0,
        risk_before,
    }
}

fn class_sizes(rows: &[Option<Vec<String>>]) -> BTreeMap<&[String], u64> {
    let mut sizes: BTreeMap<&[String], u64> = BTreeMap::new();
    for r in rows.iter().flatten() {
        *sizes.entry(r.as_slice()).or_default() += 1;
    }
    sizes
}

fn write_into(
    store: &ResearchStore,
    excluded: &BTreeSet<i64>,
    cfg: &LifecourseConfig,
    key: &[u8; 32],
    staging: &Path,
) -> Result<LifecourseReport> {
    // 1. Persons: left out again if a stop request is in force, and if born after the
    // reference date.
    let all = store.read_persons(&store.persons_file())?;
    let persons_in_store = all.len() as u64;
    let opted_out_excluded = all
        .iter()
        .filter(|p| excluded.contains(&p.person_key))
        .count() as u64;
    let persons: Vec<PersonRow> = all
        .into_iter()
        .filter(|p| !excluded.contains(&p.person_key) && p.birth_month <= cfg.reference_date)
        .collect();
    if persons.is_empty() {
        return Err(Error::NothingToRelease {
            excluded: persons_in_store,
        });
    }
    let index: HashMap<i64, usize> = persons
        .iter()
        .enumerate()
        .map(|(i, p)| (p.person_key, i))
        .collect();
    let (anonymized, no_first_years) = (matches!(cfg.measures, Measures::Anonymized { .. }), []);
    let (first_year_of, dates, k): (&[FirstYear], DatePolicy, u32) = match &cfg.measures {
        Measures::Anonymized {
            first_year_of,
            dates,
            k,
            ..
        } => (first_year_of, *dates, *k),
        Measures::Pseudonymized { .. } => (&no_first_years, DatePolicy::Exact, 1),
    };

    // 2. First pass over the events: event-derived quasi-identifiers and index dates.
    let first = first_pass(store, &index, persons.len(), first_year_of, anonymized)?;

    // 3. The person table: the search (anonymized) or the pseudonymized columns.
    let out = match &cfg.measures {
        Measures::Anonymized {
            k,
            suppression_limit,
            metric,
            ..
        } => anonymize_persons(
            &persons,
            cfg,
            *k,
            *suppression_limit,
            *metric,
            &first.first_years,
        )?,
        Measures::Pseudonymized { region } => pseudonymize_persons(&persons, *region),
    };
    let released: HashMap<i64, (usize, String)> = persons
        .iter()
        .enumerate()
        .filter(|(i, _)| out.rows[*i].is_some())
        .map(|(i, p)| (p.person_key, (i, pseudonym(key, p.person_key))))
        .collect();
    let sizes = class_sizes(&out.rows);
    let mut class_size_counts: BTreeMap<u64, u64> = BTreeMap::new();
    for &n in sizes.values() {
        *class_size_counts.entry(n).or_default() += 1;
    }
    let risk_after = Risk::of(sizes.values().copied());
    let (classes, min_class) = (
        sizes.len() as u64,
        sizes.values().copied().min().unwrap_or(0),
    );

    // 4. Second pass: who holds which code, each person's value range per code.
    let mut holders = Holders::default();
    let mut values: HashMap<(Code, i64), (f64, f64)> = HashMap::new();
    for path in store.lifecourse_event_files()? {
        for batch in store.read_events(&path)? {
            for row in batch? {
                if !released.contains_key(&row.key) || removed_kind(row.event.kind, anonymized) {
                    continue;
                }
                let Some(code) = &row.event.code else {
                    continue;
                };
                holders.add(code, row.key);
                if let Some(v) = row.event.value.filter(|v| v.is_finite()) {
                    let e = values.entry((code.clone(), row.key)).or_insert((v, v));
                    e.0 = e.0.min(v);
                    e.1 = e.1.max(v);
                }
            }
        }
    }
    let decisions = if anonymized {
        holders.decide(k)
    } else {
        CodeDecisions::keep_all(holders)
    };
    let cuts = if anonymized {
        let mut ranges = ValueRanges::default();
        for ((code, person), (lo, hi)) in &values {
            if let Some(r) = decisions.get(code) {
                ranges.add(&code.system, &r.label, *person, *lo);
                ranges.add(&code.system, &r.label, *person, *hi);
            }
        }
        Some(ranges.cuts(k))
    } else {
        None
    };
    drop(values);

    // 5. Third pass: the event rows, sorted by pseudonym so that order reveals nothing.
    let mut rows = SortedRows::new(&staging.join(".sort"), SORT_BUDGET);
    let mut events_released = 0u64;
    let (mut removed_peculiar, mut removed_kind_n) = (0u64, 0u64);
    let (mut top, mut bottom, mut withheld) = (0u64, 0u64, 0u64);
    for path in store.lifecourse_event_files()? {
        for batch in store.read_events(&path)? {
            for row in batch? {
                let Some((i, pid)) = released.get(&row.key) else {
                    continue;
                };
                let e = &row.event;
                if removed_kind(e.kind, anonymized) {
                    removed_kind_n += 1;
                    continue;
                }
                let (system, label, level) = match &e.code {
                    None => (String::new(), String::new(), ""),
                    Some(c) => match decisions.get(c) {
                        Some(r) => (c.system.as_str().to_owned(), r.label.clone(), r.level_name),
                        None => {
                            removed_peculiar += 1;
                            continue;
                        }
                    },
                };
                let (value, coded) = match (e.value.filter(|v| v.is_finite()), &cuts) {
                    (None, _) => (String::new(), ""),
                    (Some(v), None) => (format!("{v}"), ""),
                    (Some(v), Some(cuts)) => {
                        let cut = e
                            .code
                            .as_ref()
                            .and_then(|c| cuts.get(&(c.system.clone(), label.clone())).copied());
                        match cut {
                            // A value without a code: nothing to compare it with; withheld.
                            None | Some(None) => {
                                withheld += 1;
                                (String::new(), "withheld")
                            }
                            Some(Some((lo, _))) if v < lo => {
                                bottom += 1;
                                (format!("{lo}"), "bottom")
                            }
                            Some(Some((_, hi))) if v > hi => {
                                top += 1;
                                (format!("{hi}"), "top")
                            }
                            Some(Some(_)) => (format!("{v}"), ""),
                        }
                    }
                };
                let shift = match dates {
                    DatePolicy::Shift { max_days } => date_shift(key, row.key, max_days),
                    _ => 0,
                };
                let index = first.index_date[*i];
                let date = |d: Date| -> String {
                    match dates {
                        DatePolicy::Month => month(d),
                        DatePolicy::Shift { .. } => d
                            .checked_add_signed(chrono::TimeDelta::days(shift))
                            .map(|d| d.to_string())
                            .unwrap_or_default(),
                        DatePolicy::DaysFromIndex => index
                            .map(|ix| (d - ix).num_days().to_string())
                            .unwrap_or_default(),
                        DatePolicy::Exact => d.to_string(),
                    }
                };
                let (start, end) = (date(e.date), e.end_date.map(date).unwrap_or_default());
                rows.push(&[
                    pid,
                    &start,
                    &end,
                    e.kind.as_str(),
                    &system,
                    &label,
                    level,
                    &value,
                    coded,
                    e.unit.as_deref().unwrap_or_default(),
                ])?;
                events_released += 1;
            }
        }
    }
    let mut events = TableOut::create(
        staging,
        "events",
        &[
            "person_id",
            "date",
            "end_date",
            "kind",
            "code_system",
            "code",
            "code_level",
            "value",
            "value_coded",
            "unit",
        ],
        cfg.bom,
    )?;
    rows.finish(&mut |r| events.write(r))?;
    events.finish()?;

    // 6. The person table, sorted by pseudonym.
    let mut person_rows: Vec<Vec<String>> = released
        .values()
        .filter_map(|(i, pid)| {
            out.rows[*i].as_ref().map(|v| {
                let mut row = vec![pid.clone()];
                row.extend(v.iter().cloned());
                row
            })
        })
        .collect();
    person_rows.sort_unstable();
    let mut header: Vec<&str> = vec!["person_id"];
    header.extend(out.header.iter().map(String::as_str));
    let mut table = TableOut::create(staging, "persons", &header, cfg.bom)?;
    for r in &person_rows {
        table.write(r)?;
    }
    table.finish()?;

    // 7. Report, codebook, manifest.
    let report = LifecourseReport {
        release_id: cfg.release_id.clone(),
        mode: match cfg.measures {
            Measures::Anonymized { .. } => "anonymized",
            Measures::Pseudonymized { .. } => "pseudonymized",
        }
        .to_owned(),
        persons_in_store,
        opted_out_excluded,
        persons_released: person_rows.len() as u64,
        persons_suppressed: out.suppressed,
        classes,
        min_class,
        class_sizes: class_size_counts,
        quasi_identifiers: out.levels.clone(),
        loss: out.loss.clone(),
        risk_before: out.risk_before.clone(),
        risk_after,
        search: out.search.clone(),
        events_released,
        events_removed_peculiar: removed_peculiar,
        events_removed_kind: removed_kind_n,
        codes: decisions.stats.clone(),
        values_top_coded: top,
        values_bottom_coded: bottom,
        values_withheld: withheld,
        dates,
    };
    let json = serde_json::to_vec_pretty(&report)
        .map_err(|e| Error::InvalidConfig(format!("report not serializable: {e}")))?;
    write_atomically(&staging.join("report.json"), &json)?;
    write_atomically(
        &staging.join("report.html"),
        documents::report_page(&report, cfg).as_bytes(),
    )?;
    write_atomically(
        &staging.join("codebook.md"),
        documents::codebook(cfg, &out.header, &out.levels).as_bytes(),
    )?;
    let names = [
        "persons.csv",
        "persons.parquet",
        "events.csv",
        "events.parquet",
        "codebook.md",
        "report.json",
        "report.html",
    ];
    let manifest = Manifest {
        manifest_version: 2,
        release_id: cfg.release_id.clone(),
        kind: report.mode.clone(),
        approval: cfg.approval.clone(),
        optout_registry_version: cfg.optout_version,
        config: serde_json::to_value(cfg)
            .map_err(|e| Error::InvalidConfig(format!("config not serializable: {e}")))?,
        counts: serde_json::json!({
            "persons": report.persons_released,
            "persons_suppressed": report.persons_suppressed,
            "opted_out_excluded": report.opted_out_excluded,
            "events": report.events_released,
            "events_removed_peculiar": report.events_removed_peculiar,
            "classes": report.classes,
            "min_class_persons": report.min_class,
        }),
        files: names
            .iter()
            .map(|n| FileEntry::of(staging, n))
            .collect::<Result<_>>()?,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::InvalidConfig(format!("manifest not serializable: {e}")))?;
    write_atomically(&staging.join("manifest.json"), &json)?;
    Ok(report)
}
