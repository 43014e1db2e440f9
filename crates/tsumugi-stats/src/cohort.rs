//! Cohort counts over the research store's lifecourse.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use tsumugi_model::{CodeSystem, EventKind};
use tsumugi_store::{PersonRow, ResearchStore};

use crate::{CountTable, Error, Result};

/// The row label of persons whose prefecture is not known.
pub const UNKNOWN_PREFECTURE: &str = "不明 unknown";

/// Persons with a diagnosis, by prefecture and age band.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisCountSpec {
    /// ICD-10 code prefix, e.g. `E11` or `E11.9`; dots and case are ignored.
    pub icd10_prefix: String,
    /// The day ages are computed at and persons must be alive on.
    pub reference_date: NaiveDate,
    /// Width of the age bands in years (the NDB publishes 5-year bands; 10 is coarser).
    pub age_band_years: u32,
    /// The age from which everyone shares one top band, e.g. 90 for `90+`; a multiple of
    /// `age_band_years`.
    pub top_age: u32,
}

/// The result of [`count_persons_by_prefecture_and_age`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisCount {
    /// Persons with the diagnosis: rows are prefectures, columns age bands.
    pub table: CountTable,
    /// The denominator: persons in the lifecourse alive and born on the reference date, with or
    /// without the diagnosis. Unprotected: publish it only through disclosure control.
    pub n_population: u64,
}

/// Counts distinct persons having a diagnosis whose ICD-10 code starts with `spec.icd10_prefix`,
/// by prefecture and age band.
///
/// - Population: every person of the lifecourse persons file who was born on or before the
///   reference date and had not died before it (a person who died on the reference date counts).
/// - Case: a `Diagnosis` event of system ICD-10, dated on or before the reference date, whose code
///   (dots removed, upper-cased) starts with the prefix. A person counts once however many such
///   events they have. Events of persons not in the persons file are ignored.
/// - Rows: the prefecture (the first two digits of the 全国地方公共団体コード, `01`–`47`) of every
///   prefecture with at least one person in the population, in code order, then
///   [`UNKNOWN_PREFECTURE`] when some person's code is missing or not a prefecture.
/// - Columns: age at the reference date in bands `0-9`, `10-19`, … and `90+` (for 10 and 90).
///   Only the birth month is stored, so birthdays are taken as the first of the month: an age can
///   be one month ahead of the true one.
///
/// Events are read file by file and batch by batch; memory holds the persons file and the set of
/// case person keys.
///
/// The table is raw counts: pass it through [`crate::suppress`] before it leaves the processor.
///
/// # Errors
/// [`Error::InvalidSpec`] for an empty prefix, a zero band width, or a top age that is not a
/// positive multiple of the band; [`Error::Storage`] when a research file cannot be read.
pub fn count_persons_by_prefecture_and_age(
    store: &ResearchStore,
    spec: &DiagnosisCountSpec,
) -> Result<DiagnosisCount> {
    let prefix = normalize_icd10(&spec.icd10_prefix);
    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::InvalidSpec {
            field: "icd10_prefix",
            reason: "must be letters and digits (dots allowed)",
        });
    }
    if spec.age_band_years == 0 {
        return Err(Error::InvalidSpec {
            field: "age_band_years",
            reason: "must be positive",
        });
    }
    if spec.top_age == 0 || !spec.top_age.is_multiple_of(spec.age_band_years) {
        return Err(Error::InvalidSpec {
            field: "top_age",
            reason: "must be a positive multiple of age_band_years",
        });
    }
    let bands = age_band_labels(spec.age_band_years, spec.top_age);

    let mut cases = BTreeSet::new();
    for path in store.lifecourse_event_files()? {
        for batch in store.read_events(&path)? {
            for row in batch? {
                let e = &row.event;
                let is_case = e.kind == EventKind::Diagnosis
                    && e.date <= spec.reference_date
                    && e.code.as_ref().is_some_and(|code| {
                        code.system == CodeSystem::Icd10
                            && normalize_icd10(&code.value).starts_with(&prefix)
                    });
                if is_case {
                    cases.insert(row.key);
                }
            }
        }
    }

    let persons = store.read_persons(&store.persons_file())?;
    // Row key: Some(prefecture code) in code order, then None for unknown.
    let mut rows: BTreeMap<Option<String>, Vec<u64>> = BTreeMap::new();
    let mut n_population = 0u64;
    for person in &persons {
        let Some(age) = age_on(person, spec.reference_date) else {
            continue;
        };
        n_population += 1;
        let counts = rows
            .entry(prefecture(person))
            .or_insert_with(|| vec![0; bands.len()]);
        if cases.contains(&person.person_key) {
            let band = (age / spec.age_band_years).min(spec.top_age / spec.age_band_years);
            // `band` ≤ top_age / age_band_years = bands.len() - 1.
            if let Some(n) = counts.get_mut(band as usize) {
                *n += 1;
            }
        }
    }
    // `None` sorts first in a BTreeMap; the unknown row goes last.
    let unknown = rows.remove(&None);
    let mut row_labels = Vec::with_capacity(rows.len() + 1);
    let mut counts = Vec::with_capacity(rows.len() + 1);
    for (code, row) in rows {
        row_labels.push(code.unwrap_or_default());
        counts.push(row);
    }
    if let Some(row) = unknown {
        row_labels.push(UNKNOWN_PREFECTURE.to_owned());
        counts.push(row);
    }
    if row_labels.is_empty() {
        row_labels.push(UNKNOWN_PREFECTURE.to_owned());
        counts.push(vec![0; bands.len()]);
    }
    Ok(DiagnosisCount {
        table: CountTable::new(row_labels, bands, counts)?,
        n_population,
    })
}

/// Labels of age bands of `width` years up to `top`: `0-9`, …, `80-89`, `90+`.
pub fn age_band_labels(width: u32, top: u32) -> Vec<String> {
    let width = width.max(1);
    let mut out: Vec<String> = (0..top / width)
        .map(|k| format!("{}-{}", k * width, k * width + width - 1))
        .collect();
    out.push(format!("{top}+"));
    out
}

/// Age in whole years on `on`, or `None` when not born yet or died before `on`.
fn age_on(person: &PersonRow, on: NaiveDate) -> Option<u32> {
    if person.deceased_on.is_some_and(|d| d < on) || person.birth_month > on {
        return None;
    }
    let b = person.birth_month;
    let mut age = on.year() - b.year();
    if (on.month(), on.day()) < (b.month(), b.day()) {
        age -= 1;
    }
    u32::try_from(age).ok()
}

/// The two-digit prefecture code of a municipality code, when it is one (`01`–`47`).
fn prefecture(person: &PersonRow) -> Option<String> {
    let code = person.municipality_code.as_deref()?;
    let pref = code.get(..2)?;
    let n: u32 = pref.parse().ok()?;
    (pref.bytes().all(|b| b.is_ascii_digit()) && (1..=47).contains(&n)).then(|| pref.to_owned())
}

fn normalize_icd10(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '.' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
