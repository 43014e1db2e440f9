//! The foundation release: a person table and an event table, k-anonymous over persons.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use chrono::Datelike;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use tsumugi_model::{CodeSystem, Date, EventKind};
use tsumugi_store::{ResearchStore, write_atomically};

use crate::kanon::{Generalized, QuasiRow, age_band, k_anonymize};
use crate::manifest::{FileEntry, Manifest};
use crate::{Error, Result};

/// Settings of one release. No `Default`: every release states its own.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseConfig {
    /// The release id (also the folder name).
    pub release_id: String,
    /// The approved application it rests on.
    pub application_id: String,
    /// Minimum persons per equivalence class.
    pub k: u32,
    /// The date ages are computed at.
    pub reference_date: Date,
    /// Width of age bands in years.
    pub age_band_years: u32,
    /// Ages at or above this are one band (`90+`).
    pub top_age: u32,
    /// Largest share of persons that may be suppressed (0.0–1.0); more refuses the release.
    pub max_suppression: f64,
    /// The opt-out registry version that filtered the input.
    pub optout_version: i64,
}

/// What a release contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseSummary {
    /// The release folder.
    pub dir: PathBuf,
    /// Persons released.
    pub n_persons: usize,
    /// Persons suppressed for k-anonymity.
    pub n_suppressed: usize,
    /// Persons whose municipality was coarsened to prefecture.
    pub n_coarsened: usize,
    /// Persons left out because a stop request is in force.
    pub n_opted_out: usize,
    /// Event rows released.
    pub n_events: u64,
    /// Event rows dropped as peculiar (a code held by fewer than k persons even at 3 characters).
    pub n_events_dropped: u64,
    /// Equivalence classes released.
    pub n_classes: usize,
    /// Size of the smallest released class (0 when nothing is released).
    pub min_class: usize,
    /// Hex SHA-256 of `manifest.json`.
    pub manifest_sha256: String,
}

/// Writes release `cfg.release_id` under `releases_dir` from the research store's lifecourse.
///
/// `excluded` are persons with a stop request in force; they are left out again here even though
/// the store should no longer hold them. `pseudonym_key` is the release's own key: person keys
/// become `HMAC-SHA-256(pseudonym_key, person_key)`, so releases cannot be joined.
///
/// # Guarantee
/// Every released equivalence class on (sex, age band, region) has at least `cfg.k` persons
/// (see [`k_anonymize`]); no person in `excluded` appears; every code in the event table is held
/// by at least `cfg.k` released persons; dates are months.
///
/// # Errors
/// [`Error::PolicyKUnreachable`] when suppression would exceed `cfg.max_suppression`;
/// [`Error::ReleaseExists`]; store and I/O errors.
pub fn write_release(
    store: &ResearchStore,
    excluded: &BTreeSet<i64>,
    cfg: &ReleaseConfig,
    pseudonym_key: &[u8; 32],
    releases_dir: &Path,
) -> Result<ReleaseSummary> {
    if cfg.k == 0 || cfg.age_band_years == 0 || !(0.0..=1.0).contains(&cfg.max_suppression) {
        return Err(Error::InvalidConfig(
            "k and age_band_years must be ≥ 1, max_suppression in 0..=1".into(),
        ));
    }
    if cfg.release_id.is_empty()
        || !cfg
            .release_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Error::InvalidConfig(
            "release id must be ASCII letters, digits and '-'".into(),
        ));
    }
    let dir = releases_dir.join(&cfg.release_id);
    if dir.exists() {
        return Err(Error::ReleaseExists(dir));
    }
    let staging = releases_dir.join(format!(".{}.partial", cfg.release_id));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(Error::io(&staging))?;
    }
    fs::create_dir_all(&staging).map_err(Error::io(&staging))?;

    // 1. Persons: quasi-identifiers and k-anonymity.
    let persons = store.read_persons(&store.persons_file())?;
    let n_opted_out = persons
        .iter()
        .filter(|p| excluded.contains(&p.person_key))
        .count();
    let persons: Vec<_> = persons
        .into_iter()
        .filter(|p| !excluded.contains(&p.person_key))
        .filter(|p| p.birth_month <= cfg.reference_date)
        .collect();
    let quasi: Vec<QuasiRow> = persons
        .iter()
        .map(|p| QuasiRow {
            sex: p.sex.code().to_owned(),
            age_band: age_band(
                p.birth_month,
                cfg.reference_date,
                cfg.age_band_years,
                cfg.top_age,
            ),
            municipality: p.municipality_code.clone().unwrap_or_default(),
        })
        .collect();
    let kanon = k_anonymize(&quasi, cfg.k);
    if kanon.n_suppressed as f64 > cfg.max_suppression * quasi.len() as f64 {
        let _ = fs::remove_dir_all(&staging);
        return Err(Error::PolicyKUnreachable {
            k: cfg.k,
            suppressed: kanon.n_suppressed,
            total: quasi.len(),
            limit_pct: cfg.max_suppression * 100.0,
        });
    }
    let classes = kanon.classes_of(&quasi);
    let mut pseudonyms: HashMap<i64, String> = HashMap::new();
    let mut person_rows: Vec<[String; 5]> = Vec::new();
    for ((p, q), g) in persons.iter().zip(&quasi).zip(&kanon.rows) {
        let Generalized::Region(region) = g else {
            continue;
        };
        let pid = pseudonym(pseudonym_key, p.person_key);
        pseudonyms.insert(p.person_key, pid.clone());
        person_rows.push([
            pid,
            q.sex.clone(),
            q.age_band.clone(),
            region.clone(),
            p.deceased_on.map(month).unwrap_or_default(),
        ]);
    }
    // Sorted by pseudonym, so row order reveals nothing about person keys or ingest order.
    person_rows.sort();
    write_csv(
        &staging.join("persons.csv"),
        &["person_id", "sex", "age_band", "region", "death_month"],
        person_rows.iter().map(|r| r.to_vec()),
    )?;

    // 2. Events: count persons per code to find peculiar codes, then write.
    let files = store.lifecourse_event_files()?;
    let mut holders: HashSet<(String, i64)> = HashSet::new();
    for path in &files {
        for batch in store.read_events(path)? {
            for row in batch? {
                if pseudonyms.contains_key(&row.key)
                    && let Some(code) = &row.event.code
                {
                    holders.insert((code_key(&code.system, &code.value), row.key));
                    if code.system == CodeSystem::Icd10 {
                        holders.insert((code_key(&code.system, &icd10_3(&code.value)), row.key));
                    }
                }
            }
        }
    }
    let mut per_code: BTreeMap<String, usize> = BTreeMap::new();
    for (code, _) in &holders {
        *per_code.entry(code.clone()).or_insert(0) += 1;
    }
    drop(holders);
    let k = cfg.k as usize;
    let common = |key: &str| per_code.get(key).copied().unwrap_or(0) >= k;
    let mut event_rows: Vec<[String; 6]> = Vec::new();
    let mut n_dropped = 0u64;
    for path in &files {
        for batch in store.read_events(path)? {
            for row in batch? {
                let Some(pid) = pseudonyms.get(&row.key) else {
                    continue;
                };
                let e = &row.event;
                let (system, code) = match &e.code {
                    None => (String::new(), String::new()),
                    Some(c) if common(&code_key(&c.system, &c.value)) => {
                        (c.system.as_str().to_owned(), c.value.clone())
                    }
                    Some(c)
                        if c.system == CodeSystem::Icd10
                            && common(&code_key(&c.system, &icd10_3(&c.value))) =>
                    {
                        (c.system.as_str().to_owned(), icd10_3(&c.value))
                    }
                    Some(_) => {
                        n_dropped += 1;
                        continue;
                    }
                };
                if e.kind == EventKind::Death {
                    // Death is in the person table as a month already.
                    continue;
                }
                event_rows.push([
                    pid.clone(),
                    month(e.date),
                    e.kind.as_str().to_owned(),
                    system,
                    code,
                    e.value.map(|v| format!("{v}")).unwrap_or_default(),
                ]);
            }
        }
    }
    event_rows.sort();
    let n_events = event_rows.len() as u64;
    write_csv(
        &staging.join("events.csv"),
        &["person_id", "month", "kind", "code_system", "code", "value"],
        event_rows.into_iter().map(|r| r.to_vec()),
    )?;

    // 3. Codebook and manifest.
    let codebook = codebook(cfg);
    write_atomically(&staging.join("codebook.md"), codebook.as_bytes())?;
    let min_class = classes.values().copied().min().unwrap_or(0);
    let n_persons = person_rows.len();
    let manifest = Manifest {
        manifest_version: 1,
        release_id: cfg.release_id.clone(),
        application_id: cfg.application_id.clone(),
        kind: "anonymized".to_owned(),
        optout_registry_version: cfg.optout_version,
        config: serde_json::to_value(cfg)
            .map_err(|_| Error::InvalidConfig("config not serializable".into()))?,
        counts: serde_json::json!({
            "persons": n_persons,
            "events": n_events,
            "events_dropped_peculiar": n_dropped,
            "suppressed": kanon.n_suppressed,
            "coarsened_region": kanon.n_coarsened,
            "opted_out_excluded": n_opted_out,
            "classes": classes.len(),
            "min_class_persons": min_class,
        }),
        files: ["persons.csv", "events.csv", "codebook.md"]
            .iter()
            .map(|n| FileEntry::of(&staging, n))
            .collect::<Result<_>>()?,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|_| Error::InvalidConfig("manifest not serializable".into()))?;
    write_atomically(&staging.join("manifest.json"), &json)?;
    let manifest_sha256 = FileEntry::of(&staging, "manifest.json")?.sha256;
    fs::rename(&staging, &dir).map_err(Error::io(&dir))?;
    Ok(ReleaseSummary {
        dir,
        n_persons,
        n_suppressed: kanon.n_suppressed,
        n_coarsened: kanon.n_coarsened,
        n_opted_out,
        n_events,
        n_events_dropped: n_dropped,
        n_classes: classes.len(),
        min_class,
        manifest_sha256,
    })
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

/// The release pseudonym of a person: `HMAC-SHA-256(key, person_key)`, first 16 bytes in hex.
pub fn pseudonym(key: &[u8; 32], person_key: i64) -> String {
    // HMAC accepts any key length; the error branch cannot occur for 32 bytes.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(&person_key.to_be_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

fn month(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn code_key(system: &CodeSystem, value: &str) -> String {
    format!("{}|{}", system.as_str(), value)
}

/// ICD-10 three-character category (`E11.9` → `E11`).
fn icd10_3(code: &str) -> String {
    code.chars().filter(|c| *c != '.').take(3).collect()
}

fn write_csv(path: &Path, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |_| Error::InvalidConfig("csv serialization failed".into());
    w.write_record(header).map_err(csv_err)?;
    for r in rows {
        w.write_record(&r).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|_| Error::InvalidConfig("csv serialization failed".into()))?;
    write_atomically(path, &bytes)?;
    Ok(())
}

fn codebook(cfg: &ReleaseConfig) -> String {
    format!(
        "# Codebook コードブック — release {id}\n\n\
         Application 申請: {app}. Anonymized (匿名加工) under k = {k}, counted in persons.\n\n\
         ## persons.csv\n\
         | column | meaning |\n|---|---|\n\
         | person_id | pseudonym unique to this release (HMAC-SHA-256 with a release key); cannot be joined to other releases 本提供限りの仮ID |\n\
         | sex | M / F / U 性別 |\n\
         | age_band | age on {refd} in {w}-year bands, {top}+ top-coded 年齢階級 |\n\
         | region | 6-digit 全国地方公共団体コード, or 2-digit 都道府県コード where coarsened for k-anonymity 地域 |\n\
         | death_month | YYYY-MM, empty when alive 死亡年月 |\n\n\
         ## events.csv\n\
         | column | meaning |\n|---|---|\n\
         | person_id | as above |\n\
         | month | YYYY-MM of the event 発生年月 |\n\
         | kind | event kind (diagnosis, lab_result, prescription, …) 種別 |\n\
         | code_system | icd10, jlac10, yj, kenshin_item, … コード体系 |\n\
         | code | the code; ICD-10 codes held by fewer than {k} persons are cut to 3 characters, or the row is removed (特異な記述) |\n\
         | value | numeric result or units, empty when none 値 |\n",
        id = cfg.release_id,
        app = cfg.application_id,
        k = cfg.k,
        refd = cfg.reference_date,
        w = cfg.age_band_years,
        top = cfg.top_age,
    )
}
