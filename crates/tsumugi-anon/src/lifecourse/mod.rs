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
mod events;
mod persons;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use chrono::Datelike;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tsumugi_model::Date;
use tsumugi_store::{PersonRow, ResearchStore, write_atomically};

pub use self::codes::CodeStats;
use self::persons::{anonymize_persons, class_sizes, pseudonymize_persons};
use crate::manifest::{ApprovalRef, FileEntry, Manifest};
use crate::metric::{InfoLoss, Metric};
use crate::package::TableOut;
use crate::population::japan_population_2020;
use crate::risk::Risk;
use crate::search::SearchStats;
use crate::{Error, Result};

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
    let first = events::first_pass(store, &index, persons.len(), first_year_of, anonymized)?;

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
        Measures::Pseudonymized { region } => pseudonymize_persons(&persons, *region)?,
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
    let risk_after = Risk::against_population(
        &sizes.values().copied().collect::<Vec<_>>(),
        None,
        Some(japan_population_2020()),
    )?;
    let (classes, min_class) = (
        sizes.len() as u64,
        sizes.values().copied().min().unwrap_or(0),
    );

    // 4. Second pass: who holds which code, each person's value range per code.
    let (decisions, cuts) = events::code_decisions(store, &released, anonymized, k)?;

    // 5. Third pass: the event rows, sorted by pseudonym so that order reveals nothing.
    let counts = events::write_events(
        store,
        &events::Released {
            persons: &released,
            index_date: &first.index_date,
            decisions: &decisions,
            cuts: cuts.as_ref(),
        },
        dates,
        key,
        anonymized,
        staging,
        cfg.bom,
    )?;

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
        events_released: counts.released,
        events_removed_peculiar: counts.removed_peculiar,
        events_removed_kind: counts.removed_kind,
        codes: decisions.stats.clone(),
        values_top_coded: counts.top,
        values_bottom_coded: counts.bottom,
        values_withheld: counts.withheld,
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
