//! Writing one provider's record of one person (per batch) in the format that provider kind
//! really sends.
//!
//! | kind | format | file |
//! |---|---|---|
//! | hospital (half of them, chosen per provider) | SS-MIX2 標準化ストレージ | `submissions/<pid>/<pid>-<batch>.ssmix2/<storage tree>` |
//! | hospital (the other half), checkup centre, care provider | FHIR R4 NDJSON | `submissions/<pid>/<pid>-<batch>.ndjson` |
//! | clinic | レセ電 UKE (医科) | `submissions/<pid>/<pid>-<batch>.UKE` |
//! | pharmacy | レセ電 UKE (調剤) | `submissions/<pid>/<pid>-<batch>.UKE` |
//! | municipality | deaths: mapped CSV (住民票 除票, `mappings/juminhyo_shibou.toml`: UTF-8 TSV, no header, `YYYYMMDD` dates); births, 妊婦健診 and 乳幼児健診: FHIR | `submissions/<pid>/<pid>-<batch>.juminhyo_shibou.csv` |
//!
//! A format carries only some events (see each writer in `tsumugi_formats`); the events of a
//! record that its format cannot carry are written to the FHIR NDJSON file of the same provider
//! and batch, under the same patient id, so nothing generated is lost and linkage is unchanged.
//! (SS-MIX2 carries encounters, ICD-10/MEDIS diagnoses, YJ/HOT9 prescriptions and JLAC10
//! results; procedures, emergency encounters and deaths go to FHIR. UKE carries
//! 診療行為-coded procedures; the clinics' ICD-10 diagnoses, YJ prescriptions and uncoded
//! visits go to FHIR. 調剤 UKE carries receipt-coded dispensings; the pharmacies' YJ-coded ones
//! go to FHIR.)
//!
//! UKE claims are monthly: a record becomes one claim (`RE`) per calendar month that has UKE
//! events, every claim of a provider and batch in one file (`IR`, for pharmacies `YK`, with the
//! `as_of` month as 請求年月, `GO` with the claim count). The claims are appended as persons
//! stream by; the `GO` line is written at the end ([`RunState::finish_formats`]).
//!
//! Municipalities' other events stay FHIR: the synthetic 妊婦健診 carry no item code (the
//! `ninpu_kenshin` mapping needs one), 乳幼児健診 carry one measurement per visit (the
//! `nyuyouji_kenshin` mapping writes height and weight per row), births have no mapping.
//! Checkup centres and care providers still send FHIR: the 特定健診 CDA and 介護 CSV readers
//! yield no patient id (the notice log and the ground truth are keyed on it).

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use tsumugi_formats::fhir::{BundleContext, write_bundle};
use tsumugi_formats::ssmix2::write_patient;
use tsumugi_formats::uke::{
    DPC, RECEIPT_DEVICE, RECEIPT_DISEASE, write_claims, write_pharmacy_claims,
};
use tsumugi_model::{
    CodeSystem, EncounterClass, Event, EventKind, ProviderId, ProviderKind, Sex, SourceRecord,
};

use crate::emit::RunState;
use crate::error::Result;
use crate::output::Sink;

/// The format a provider writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Fhir,
    Ssmix2,
    Uke,
    /// A pharmacy: 調剤 UKE claims.
    UkePharmacy,
    /// A municipality: deaths as the 住民票 除票 export of [`DEATHS_MAPPING`].
    MunicipalDeaths,
}

/// The mapping (stem and TOML) municipalities' death files follow; copied to
/// `mappings/<stem>.toml` of the output.
pub(crate) const DEATHS_MAPPING: (&str, &str) = (
    "juminhyo_shibou",
    include_str!("../../tsumugi-formats/mappings/juminhyo_shibou.toml"),
);

impl Target {
    /// The format of a provider of `kind`; `ssmix2_hospital` picks SS-MIX2 for a hospital.
    pub(crate) fn of(kind: ProviderKind, ssmix2_hospital: bool) -> Target {
        match kind {
            ProviderKind::Hospital if ssmix2_hospital => Target::Ssmix2,
            ProviderKind::Clinic => Target::Uke,
            ProviderKind::Pharmacy => Target::UkePharmacy,
            ProviderKind::Municipality => Target::MunicipalDeaths,
            _ => Target::Fhir,
        }
    }
}

/// Whether the SS-MIX2 writer carries `e`.
fn ssmix2_carries(e: &Event) -> bool {
    match e.kind {
        EventKind::Encounter(EncounterClass::Outpatient | EncounterClass::Inpatient) => true,
        EventKind::Diagnosis | EventKind::Prescription | EventKind::LabResult => {
            e.code.as_ref().is_some_and(|c| {
                matches!(
                    c.system,
                    CodeSystem::Icd10
                        | CodeSystem::MedisDisease
                        | CodeSystem::Jlac10
                        | CodeSystem::Hot9
                        | CodeSystem::Yj
                )
            })
        }
        _ => false,
    }
}

/// Whether the UKE writer carries `e` (in the claim of its month).
fn uke_carries(e: &Event) -> bool {
    let Some(code) = &e.code else { return false };
    let other = |name: &str| code.system == CodeSystem::Other(name.to_owned());
    match e.kind {
        EventKind::Diagnosis => other(RECEIPT_DISEASE),
        EventKind::Encounter(EncounterClass::Inpatient) => {
            other(DPC) || code.system == CodeSystem::ReceiptProcedure
        }
        EventKind::Encounter(EncounterClass::Outpatient) => {
            code.system == CodeSystem::ReceiptProcedure
        }
        EventKind::Procedure => {
            code.system == CodeSystem::ReceiptProcedure || other(RECEIPT_DEVICE)
        }
        EventKind::Prescription => code.system == CodeSystem::ReceiptDrug,
        _ => false,
    }
}

/// Whether the 調剤 UKE writer carries `e`: a dispensing of a receipt-coded drug or device.
fn uke_pharmacy_carries(e: &Event) -> bool {
    e.kind == EventKind::Dispensing
        && e.code.as_ref().is_some_and(|c| {
            c.system == CodeSystem::ReceiptDrug
                || c.system == CodeSystem::Other(RECEIPT_DEVICE.to_owned())
        })
}

fn first_line_end(bytes: &[u8]) -> usize {
    bytes
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(bytes.len(), |i| i + 2)
}

/// Writes `record` (of `provider`, batch `batch`) in `target`'s format, the events it cannot
/// carry to FHIR NDJSON.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_record(
    sink: &mut Sink,
    state: &mut RunState,
    target: Target,
    provider: &ProviderId,
    batch: u8,
    bundle_id: &str,
    as_of: NaiveDate,
    record: SourceRecord,
) -> Result<()> {
    let pid = provider.as_str();
    let dir: PathBuf = ["submissions", pid].iter().collect();
    let patient = record.identity.patient_id.clone().unwrap_or_default();
    state.records += 1;
    state.events += record.events.len() as u64;
    let rest = match target {
        Target::Fhir => record,
        Target::Ssmix2 => {
            let (carried, rest): (Vec<Event>, Vec<Event>) =
                record.events.into_iter().partition(ssmix2_carries);
            let storage = dir.join(format!("{pid}-{batch}.ssmix2"));
            let mine = SourceRecord {
                identity: record.identity,
                events: carried,
            };
            for (rel, bytes) in write_patient(&mine, &patient) {
                sink.write_in(&storage, &rel, &bytes)?;
            }
            SourceRecord {
                identity: mine.identity,
                events: rest,
            }
        }
        Target::Uke | Target::UkePharmacy => {
            let (carries, write): (fn(&Event) -> bool, ClaimWriter) = match target {
                Target::UkePharmacy => (uke_pharmacy_carries, write_pharmacy_claims),
                _ => (uke_carries, write_claims),
            };
            write_uke(sink, state, &dir, pid, batch, as_of, record, carries, write)?
        }
        Target::MunicipalDeaths => {
            let (deaths, rest): (Vec<Event>, Vec<Event>) = record
                .events
                .into_iter()
                .partition(|e| e.kind == EventKind::Death);
            let file = dir.join(format!("{pid}-{batch}.{}.csv", DEATHS_MAPPING.0));
            let id = &record.identity;
            let clean = |s: Option<&str>| -> String {
                s.unwrap_or("")
                    .chars()
                    .map(|c| {
                        if matches!(c, '\t' | '\r' | '\n' | '"') {
                            ' '
                        } else {
                            c
                        }
                    })
                    .collect()
            };
            let name = id.names.first();
            let addr = id.addresses.first();
            let ymd = |d: NaiveDate| d.format("%Y%m%d").to_string();
            for death in &deaths {
                let row = [
                    clean(id.patient_id.as_deref()),
                    clean(name.and_then(|n| n.family_kanji.as_deref())),
                    clean(name.and_then(|n| n.given_kanji.as_deref())),
                    id.birth_date.map(ymd).unwrap_or_default(),
                    match id.sex {
                        Sex::Male => "1".to_owned(),
                        Sex::Female => "2".to_owned(),
                        Sex::Unknown => String::new(),
                    },
                    clean(addr.and_then(|a| a.municipality_code.as_deref())),
                    clean(addr.and_then(|a| a.postal_code.as_deref())),
                    clean(addr.and_then(|a| a.text.as_deref())),
                    ymd(death.date),
                ]
                .join("\t");
                sink.append(&file, None, format!("{row}\n").as_bytes())?;
            }
            SourceRecord {
                identity: record.identity,
                events: rest,
            }
        }
    };
    if target != Target::Fhir && rest.events.is_empty() {
        return Ok(());
    }
    let value = write_bundle(
        &rest,
        &BundleContext {
            provider,
            bundle_id,
        },
    );
    let mut line = serde_json::to_vec(&value)?;
    line.push(b'\n');
    sink.append(&dir.join(format!("{pid}-{batch}.ndjson")), None, &line)?;
    Ok(())
}

/// A UKE writer: 医科 or 調剤 claims of a provider code for a month.
type ClaimWriter = fn(&str, NaiveDate, &[SourceRecord]) -> Vec<u8>;

/// Appends `record`'s UKE events (those `carries` accepts) to the provider's UKE file of this
/// batch as one claim per calendar month, numbered on from the claims already there; returns
/// the record with the events UKE cannot carry.
#[allow(clippy::too_many_arguments)]
fn write_uke(
    sink: &mut Sink,
    state: &mut RunState,
    dir: &Path,
    pid: &str,
    batch: u8,
    as_of: NaiveDate,
    record: SourceRecord,
    carries: fn(&Event) -> bool,
    write: ClaimWriter,
) -> Result<SourceRecord> {
    let (carried, rest): (Vec<Event>, Vec<Event>) = record.events.into_iter().partition(carries);
    let file = dir.join(format!("{pid}-{batch}.UKE"));
    let code = pid.get(pid.len().saturating_sub(7)..).unwrap_or(pid);
    let mut months: Vec<(i32, u32)> = carried
        .iter()
        .map(|e| (e.date.year(), e.date.month()))
        .collect();
    months.sort_unstable();
    months.dedup();
    for (y, m) in months {
        let Some(month) = NaiveDate::from_ymd_opt(y, m, 1) else {
            continue;
        };
        let claim = SourceRecord {
            identity: record.identity.clone(),
            events: carried
                .iter()
                .filter(|e| e.date.year() == y && e.date.month() == m)
                .cloned()
                .collect(),
        };
        let bytes = write(code, month, &[claim]);
        // Strip the file's header (IR / YK) and GO lines: the claim alone, renumbered.
        let start = first_line_end(&bytes);
        let body = bytes.get(start..).unwrap_or(&[]);
        let end = body
            .get(..body.len().saturating_sub(2))
            .and_then(|b| b.windows(2).rposition(|w| w == b"\r\n"))
            .map_or(body.len(), |i| i + 2);
        let body = body.get(..end).unwrap_or(body);
        let n = state.uke_claims.entry(file.clone()).or_insert(0);
        *n += 1;
        let renumbered = body
            .strip_prefix(b"RE,1,".as_slice())
            .map(|tail| [format!("RE,{n},").as_bytes(), tail].concat())
            .unwrap_or_else(|| body.to_vec());
        let ir = write(code, as_of, &[]);
        let header =
            String::from_utf8_lossy(ir.get(..first_line_end(&ir)).unwrap_or(&[])).into_owned();
        sink.append(&file, Some(&header), &renumbered)?;
    }
    Ok(SourceRecord {
        identity: record.identity,
        events: rest,
    })
}

impl RunState {
    /// Ends the files that need a trailer: the `GO` line of every UKE file.
    pub(crate) fn finish_formats(&mut self, sink: &mut Sink) -> Result<()> {
        for (file, n) in std::mem::take(&mut self.uke_claims) {
            sink.append(&file, None, format!("GO,{n},0,99\r\n").as_bytes())?;
        }
        Ok(())
    }
}
