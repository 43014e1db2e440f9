//! Synthetic Japanese lifecourse population for tsumugi: persons with realistic identity noise
//! between sources, written in the formats real providers send, plus the ground truth.
//!
//! [`generate`] streams: persons are generated one household unit at a time from an RNG derived
//! from `(seed, unit index)` and written out at once; **no collection of all persons is ever
//! held**. Memory is bounded by the number of providers (patient-id counters, and output buffers
//! capped at 32 MiB in total), not by the number of persons. The same [`SynthConfig`] gives
//! byte-identical files.
//!
//! # Output layout (under `out_dir`; the app relies on it exactly)
//!
//! | path | content |
//! |---|---|
//! | `providers.csv` | `provider_id,kind,name,municipality_code` — `kind` is [`ProviderKind::as_str`]. Medical providers have 10-digit 医療機関コード-like ids (都道府県 2 + 点数表 1 + 郡市区 2 + 番号 4 + 検証番号 1; pharmacies 点数表 4, care providers 7); municipalities are `0000` + their 6-digit 全国地方公共団体コード ([`MUNICIPALITY_PREFIX`]). Only municipalities that sent data are listed. |
//! | `submissions/<provider_id>/<provider_id>-<batch>.<ext>` | What the provider sends, in its real format (see below). Batch `1` holds events before `as_of − 180 days`, batch `2` the rest; a person with events on both sides has a record in each, under the same patient id. |
//! | `mappings/<mapping>.toml` | The mappings of the municipalities' exports (`juminhyo_shibou`, `ninpu_kenshin`, `nyuyouji_kenshin`, `yobou_sesshu`), copies of those shipped with `tsumugi-formats`. |
//! | `notices/<provider_id>.csv` | `patient_id,notified_on,notified_to` (`person`, `guardian` under 16, `bereaved` after death). ≈2 % of (provider, patient) pairs are absent, ≈3 % were notified 1–29 days before `as_of`, the rest at least 31 days before. |
//! | `stop_requests.csv` | `request_id,received_on,channel,provider_id,patient_id,requester,family_kanji,given_kanji,family_kana,given_kana,birth_date,sex,postal_code,address,insurer_number,insured_symbol,insured_number` — ≈1 % of persons, in person order. `channel` `provider`: provider id + patient id (names sometimes); `centre` (相談センター): identity fields with kana-only, maiden-surname, old-address and 和暦 birth-date variants. ≈30 % are received 1–60 days after `as_of`. |
//! | `truth/records.csv` | `provider_id,patient_id,person_id,noise` — noise tags `;`-joined (see below). |
//! | `truth/persons.csv` | `person_id,sex,birth_date,prefecture_code,municipality_code,twin_of,deceased_on,opted_out` (current or last residence). |
//! | `truth/stop_requests.csv` | `request_id,person_id` |
//! | `truth/identifiers.csv` | `person_id,field,value`: every identifier string written in a record or request (names as written and joined with `" "`, `"　"` and `""`, birth dates as ISO and `YYYYMMDD`, addresses, postal codes, insurer numbers, symbols, numbers, patient ids). |
//!
//! Submission formats by provider kind (`crate::formats` has the details):
//!
//! - hospitals: half (chosen per provider) an SS-MIX2 storage folder `<pid>-<batch>.ssmix2/`
//!   (`tsumugi_formats::ssmix2::write_patient`), the other half FHIR NDJSON `<pid>-<batch>.ndjson`
//!   (one `Bundle` per line, `tsumugi_formats::fhir::write_bundle`);
//! - clinics: レセ電 UKE `<pid>-<batch>.UKE` (`tsumugi_formats::uke::write_claims`), one claim
//!   per person and calendar month;
//! - checkup centres: a 特定健診 submission ZIP `<pid>-<batch>.zip` (`DATA/` CDA per person,
//!   summary and index; `tsumugi_formats::kenshin::SubmissionZipWriter`);
//! - care providers: 介護 claims CSV `<pid>-<batch>.kaigo.csv` (`tsumugi_formats::kaigo::write_kaigo`);
//! - municipalities: one mapped CSV per kind, `<pid>-<batch>.<mapping>.csv`, read with
//!   `mappings/<mapping>.toml`: deaths (住民票 除票, `juminhyo_shibou`), 妊婦健診
//!   (`ninpu_kenshin`), 乳幼児健診 (`nyuyouji_kenshin`), 予防接種 (`yobou_sesshu`); births as FHIR
//!   NDJSON;
//! - pharmacies: レセ電 UKE 調剤 claims `<pid>-<batch>.UKE`
//!   (`tsumugi_formats::uke::write_pharmacy_claims`), one claim per person and calendar month:
//!   about three in four clinic prescriptions are dispensed at a pharmacy near the person's
//!   home, on the day or up to two days later.
//!
//! Events a provider's format cannot carry go to FHIR NDJSON `<pid>-<batch>.ndjson` of the same
//! provider, under the same patient id. The patient id in `truth/records.csv` is the one every
//! reader yields (SS-MIX2 PID-3 and storage folder, UKE `RE` カルテ番号 / 調剤録番号, FHIR `Patient.identifier`,
//! the mapped CSV 宛名番号, and for 特定健診 and 介護 the id the reader derives from the card).
//!
//! Noise tags: `variant_kanji`, `kana_missing`, `kana_hiragana`, `kana_halfwidth`,
//! `name_joined_fullwidth_space`, `name_joined_space`, `name_joined_nospace` (name written whole in
//! the family field), `dob_typo_day`, `dob_swap`, `dob_typo_year`, `sex_missing`, `no_address`,
//! `address_hyphen`, `address_no_prefecture`, `no_postal`, `postal_nohyphen`, `no_insurance`,
//! `symbol_fullwidth` (記号 in full-width digits),
//! `old_surname`, `old_address`, `old_insurance` (the record shows an earlier state than the
//! person's current one), `name_history` (a municipality lists earlier surnames),
//! `notice_missing`, `notice_recent`.
//!
//! # Identity-only output (for record-linkage benchmarks)
//!
//! [`generate_link_records`] runs the same generation (the same persons, providers, patient ids
//! and identity noise as [`generate`] with the same [`SynthConfig`], in the same order) but
//! writes no submission, event, notice or stop request: only one flat row of identity
//! attributes per record (provider, patient and batch), and its truth. It stops after the
//! household unit (a person and the babies born to her) in which the written rows reach the
//! requested count, so twins come in pairs.
//!
//! | path | content |
//! |---|---|
//! | `records.csv` | `record_id,source,source_id,source_unique,family_kanji,given_kanji,family_kana,given_kana,birth_date,sex,postal_code,address,municipality_code,insurer_number,insured_symbol,insured_number,insured_branch` — `record_id` is `<provider_id>:<patient_id>:<batch>`; `source` the provider id, `source_id` the patient id every reader yields, `source_unique` `1` where the provider gives each person one id and `0` where the id is derived from the insurance card (特定健診), which changes with it. Names as the record carries them, noise included; a record with several names (a municipality's `name_history`: the current name first, then earlier surnames) joins the values of each name column with `\|` in that order (a missing value is empty). `birth_date` ISO, `sex` `M`/`F`/`U`; the address and insurance columns from the record's first address and insurance (`insured_branch` is the 枝番; a 介護 record carries the 介護保険 card), empty when it has none. |
//! | `truth.csv` | `record_id,person_id,noise,twin_of` — `noise` the record's tags `;`-joined (those of `truth/records.csv` without `notice_*`; `old_insurance` for this record's card alone), `twin_of` the twin's person id or empty. |
//!
//! The columns are the identity attributes of the record as generated: a format that cannot
//! carry one (a municipal export has no name history, a CP932 file writes 〓 for a character
//! CP932 lacks) loses it in [`generate`]'s files, not here.
//!
//! ```no_run
//! use tsumugi_synth::{SynthConfig, generate};
//! let cfg = SynthConfig {
//!     seed: 42,
//!     persons: 1_000,
//!     as_of: chrono::NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
//! };
//! let summary = generate(&cfg, std::path::Path::new("/tmp/synth"), &mut |_done| {}).unwrap();
//! assert_eq!(summary.persons, 1_000);
//! ```

mod codes;
mod emit;
mod error;
mod formats;
mod insurer;
mod link;
mod output;
mod person;
mod population;
mod providers;
mod refdata;
mod sample;
mod text;

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use tsumugi_model::ProviderKind;

pub use crate::error::{Error, Result};
pub use crate::insurer::{check_digit as insurer_check_digit, insurer_number_is_valid};
pub use crate::providers::{MUNICIPALITY_PREFIX, municipality_provider_id};
pub use crate::refdata::municipality_check_digit;

use crate::emit::{RunState, emit_person};
use crate::output::Sink;
use crate::person::{World, generate_unit};
use crate::providers::Registry;
use crate::refdata::RefData;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of persons (babies born in the scenario count).
    pub persons: u64,
    /// "Today" of the scenario: no event is dated later; stop requests may be.
    pub as_of: NaiveDate,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSummary {
    /// Persons generated (= `truth/persons.csv` rows).
    pub persons: u64,
    /// Records written (one per person, provider and batch, in the provider's format).
    pub records: u64,
    /// Events inside those records.
    pub events: u64,
    /// Rows of `providers.csv`.
    pub providers: u64,
    /// Rows of the notice logs.
    pub notices: u64,
    /// Rows of `stop_requests.csv`.
    pub stop_requests: u64,
    /// Persons who are twins.
    pub twins: u64,
    /// Persons who died.
    pub deceased: u64,
    /// Every file written, sorted (an SS-MIX2 storage is listed as its folder).
    pub files: Vec<PathBuf>,
}

/// One synthetic person as the research store would hold them: no identifier, the current
/// municipality, and every event the person's providers record (see [`generate_lifecourses`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticLifecourse {
    /// 1-based ordinal (the person key a benchmark may use).
    pub ordinal: u64,
    /// Sex.
    pub sex: tsumugi_model::Sex,
    /// First day of the birth month.
    pub birth_month: NaiveDate,
    /// 全国地方公共団体コード of the residence on `as_of` (or at death).
    pub municipality_code: String,
    /// Date of death.
    pub deceased_on: Option<NaiveDate>,
    /// Events of every provider, by date.
    pub events: Vec<tsumugi_model::Event>,
}

/// What [`generate_link_records`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecordsSummary {
    /// Persons generated (some may have no record).
    pub persons: u64,
    /// Records written (= rows of `records.csv` and of `truth.csv`).
    pub records: u64,
    /// Persons generated who are twins.
    pub twins: u64,
}

/// Generates the population's lifecourses in memory, person by person, without provider files
/// or identifiers: the input of benchmarks that need a research store at scale. The same seed
/// gives the same persons as [`generate`].
///
/// # Errors
/// [`Error::InvalidConfig`] for zero persons, [`Error::InvalidRefData`], and whatever `each`
/// returns.
pub fn generate_lifecourses(
    cfg: &SynthConfig,
    each: &mut dyn FnMut(SyntheticLifecourse) -> Result<()>,
) -> Result<u64> {
    if cfg.persons == 0 {
        return Err(Error::InvalidConfig {
            reason: "persons must be at least 1",
        });
    }
    let refdata = RefData::load()?;
    let registry = Registry::build(cfg.seed, cfg.persons, &refdata);
    let world = World::new(cfg.seed, cfg.as_of, &refdata, &registry);
    let (mut done, mut unit) = (0u64, 0u64);
    while done < cfg.persons {
        for person in generate_unit(&world, unit, done, cfg.persons - done) {
            done += 1;
            let end = person.end(cfg.as_of);
            let muni = person
                .residence_at(end)
                .map(|r| refdata.municipalities[r.muni].code.clone())
                .unwrap_or_default();
            let mut events: Vec<tsumugi_model::Event> =
                person.contacts.into_values().flatten().collect();
            events.sort_by_key(|e| e.date);
            each(SyntheticLifecourse {
                ordinal: person.ordinal + 1,
                sex: person.sex,
                birth_month: person.birth.with_day(1).unwrap_or(person.birth),
                municipality_code: muni,
                deceased_on: person.deceased_on,
                events,
            })?;
        }
        unit += 1;
    }
    Ok(done)
}

/// Generates the population into `out_dir` (created if missing; existing files of the same
/// names are overwritten). `progress` is called with the number of persons done, every 1,000
/// persons and at the end.
///
/// # Errors
///
/// [`Error::InvalidConfig`] for zero persons, [`Error::Io`] / [`Error::Csv`] when a file cannot
/// be written, [`Error::InvalidRefData`] if an embedded table is malformed.
pub fn generate(
    cfg: &SynthConfig,
    out_dir: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<SynthSummary> {
    if cfg.persons == 0 {
        return Err(Error::InvalidConfig {
            reason: "persons must be at least 1",
        });
    }
    let refdata = RefData::load()?;
    let registry = Registry::build(cfg.seed, cfg.persons, &refdata);
    let world = World::new(cfg.seed, cfg.as_of, &refdata, &registry);
    let mut sink = Sink::create(out_dir)?;
    let mut state = RunState::default();
    let mut unit = 0u64;
    let mut next_report = 1_000u64;
    while state.persons < cfg.persons {
        let cap = cfg.persons - state.persons;
        for person in generate_unit(&world, unit, state.persons, cap) {
            emit_person(&world, &person, &mut state, &mut sink)?;
        }
        unit += 1;
        if state.persons >= next_report {
            progress(state.persons);
            next_report = (state.persons / 1_000 + 1) * 1_000;
        }
    }
    progress(state.persons);

    let mut providers = String::from("provider_id,kind,name,municipality_code\n");
    let mut n_providers = 0u64;
    let muni_code = |i: usize| {
        refdata
            .municipalities
            .get(i)
            .map(|m| m.code.as_str())
            .unwrap_or("")
    };
    for p in &registry.providers {
        providers.push_str(&format!(
            "{},{},{},{}\n",
            p.id.as_str(),
            p.kind.as_str(),
            p.name,
            muni_code(p.municipality)
        ));
        n_providers += 1;
    }
    for m in &state.used_munis {
        let code = muni_code(*m);
        let name = refdata
            .municipalities
            .get(*m)
            .map(|x| x.name.as_str())
            .unwrap_or("");
        providers.push_str(&format!(
            "{},{},{name},{code}\n",
            municipality_provider_id(code).as_str(),
            ProviderKind::Municipality.as_str(),
        ));
        n_providers += 1;
    }
    state.finish_formats(&mut sink, cfg.as_of)?;
    for (stem, toml) in crate::formats::MUNICIPAL_MAPPINGS {
        sink.write_file(&format!("mappings/{stem}.toml"), toml.as_bytes())?;
    }
    sink.write_file("providers.csv", providers.as_bytes())?;
    let files = sink.finish()?;
    Ok(SynthSummary {
        persons: state.persons,
        records: state.records,
        events: state.events,
        providers: n_providers,
        notices: state.notices,
        stop_requests: state.stop_requests,
        twins: state.twins,
        deceased: state.deceased,
        files,
    })
}

/// Writes the identity attributes of the population's records as one flat CSV, for
/// record-linkage evaluation (no submissions, no events written): `records.csv` with a row per
/// record (provider, patient and batch) and `truth.csv` with its person, noise tags and twin
/// (see the crate docs for the columns). `out_dir` is created if missing; the two files are
/// overwritten.
///
/// The persons are those of [`generate`] with the same `cfg`, in the same order, written by the
/// same code; `cfg.persons` is the size of the population (it sizes the providers, and no more
/// persons are generated), and generation stops at the end of the household unit in which
/// the rows written reach `max_records`. So at least `max_records` rows are written unless the
/// population runs out first (at about three records a person, `cfg.persons` of
/// `max_records / 2` is ample). `progress` is called with the number of records written, every
/// 10,000 records and at the end. The same `cfg` and `max_records` give byte-identical files.
///
/// # Errors
///
/// [`Error::InvalidConfig`] for zero persons or zero `max_records`, [`Error::Io`] /
/// [`Error::Csv`] when a file cannot be written, [`Error::InvalidRefData`] if an embedded table
/// is malformed.
pub fn generate_link_records(
    cfg: &SynthConfig,
    max_records: u64,
    out_dir: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<LinkRecordsSummary> {
    if cfg.persons == 0 {
        return Err(Error::InvalidConfig {
            reason: "persons must be at least 1",
        });
    }
    if max_records == 0 {
        return Err(Error::InvalidConfig {
            reason: "max_records must be at least 1",
        });
    }
    let refdata = RefData::load()?;
    let registry = Registry::build(cfg.seed, cfg.persons, &refdata);
    let world = World::new(cfg.seed, cfg.as_of, &refdata, &registry);
    let mut sink = Sink::create_link_records(out_dir)?;
    let mut state = RunState::default();
    let mut unit = 0u64;
    let mut next_report = 10_000u64;
    while state.persons < cfg.persons && state.records < max_records {
        let cap = cfg.persons - state.persons;
        for person in generate_unit(&world, unit, state.persons, cap) {
            emit_person(&world, &person, &mut state, &mut sink)?;
        }
        unit += 1;
        if state.records >= next_report {
            progress(state.records);
            next_report = (state.records / 10_000 + 1) * 10_000;
        }
    }
    progress(state.records);
    sink.finish()?;
    Ok(LinkRecordsSummary {
        persons: state.persons,
        records: state.records,
        twins: state.twins,
    })
}
