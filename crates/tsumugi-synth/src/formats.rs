//! Writing one provider's record of one person (per batch) in the format that provider kind
//! really sends.
//!
//! | kind | format | file |
//! |---|---|---|
//! | hospital (half of them, chosen per provider) | SS-MIX2 標準化ストレージ | `submissions/<pid>/<pid>-<batch>.ssmix2/<storage tree>` |
//! | hospital (the other half) | FHIR R4 NDJSON | `submissions/<pid>/<pid>-<batch>.ndjson` |
//! | clinic | レセ電 UKE (医科) | `submissions/<pid>/<pid>-<batch>.UKE` |
//! | checkup centre | 特定健診 submission ZIP (`DATA/` CDA per person, `su08`, `ix08`) | `submissions/<pid>/<pid>-<batch>.zip` |
//! | care provider | 介護 claims CSV (CP932, no header, ten columns) | `submissions/<pid>/<pid>-<batch>.kaigo.csv` |
//! | municipality | mapped CSV, one file per kind: deaths (住民票 除票, `juminhyo_shibou`: UTF-8 TSV, no header, `YYYYMMDD` dates), 妊婦健診 (`ninpu_kenshin`: CP932, one row per visit and item), 乳幼児健診 (`nyuyouji_kenshin`: UTF-8, one row per visit with height and weight), 予防接種 (`yobou_sesshu`: CP932, one row per dose, 和暦 dates) | `submissions/<pid>/<pid>-<batch>.<mapping>.csv`, read with `mappings/<mapping>.toml` |
//! | pharmacy | レセ電 UKE (調剤) | `submissions/<pid>/<pid>-<batch>.UKE` |
//!
//! A format carries only some events (see each writer in `tsumugi_formats`); the events of a
//! record that its format cannot carry are written to the FHIR NDJSON file of the same provider
//! and batch, under the same patient id, so nothing generated is lost and linkage is unchanged.
//! (SS-MIX2 carries encounters, ICD-10/MEDIS diagnoses, YJ/HOT9 prescriptions and JLAC10
//! results; procedures, emergency encounters and deaths go to FHIR. UKE carries
//! 診療行為-coded procedures; the clinics' ICD-10 diagnoses, YJ prescriptions and uncoded
//! visits go to FHIR. 調剤 UKE carries receipt-coded dispensings; the pharmacies' YJ-coded ones
//! go to FHIR. 特定健診 carries the checkup items. 介護 claims carry the services and,
//! as the level of each line, the certification in force (read back as a certification dated
//! the first service month of the record): a certification with no service after it in the same
//! batch goes to FHIR. Municipalities' births go to FHIR: no municipal export
//! among the mappings carries them — the 出生届 reaches the 住民票 as a new resident, not as an
//! event with a birth weight.)
//!
//! # Patient ids
//!
//! Formats without a patient id of their own get the one their reader derives, and that id is
//! the one in the notice log, the stop requests and `truth/records.csv`: for 特定健診 the card
//! (`tsumugi_formats::kenshin::patient_id`: 保険者番号:記号:番号:枝番), for 介護 the 介護保険 card
//! (`tsumugi_formats::kaigo::patient_id`: 保険者番号:被保険者番号, the 保険者 being the
//! municipality of residence at the first contact, the number a per-person 10-digit number).
//! Checkup centres and care providers always have the card and the kana name (both are required
//! in their formats), so those identity-noise draws are set aside for them.
//!
//! UKE claims are monthly: a record becomes one claim (`RE`) per calendar month that has UKE
//! events, every claim of a provider and batch in one file (`IR`, for pharmacies `YK`, with the
//! `as_of` month as 請求年月, `GO` with the claim count). The claims are appended as persons
//! stream by; the `GO` line is written at the end ([`RunState::finish_formats`]). 特定健診 documents are likewise
//! appended to a NUL-separated part file, which becomes the ZIP at the end.
//!
//! The municipal CP932 exports write a character CP932 lacks as 〓 (the 外字 substitute).

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use tsumugi_formats::fhir::{BundleContext, write_bundle};
use tsumugi_formats::kaigo::write_kaigo;
use tsumugi_formats::kenshin::{SubmissionHeader, SubmissionZipWriter, write_cda};
use tsumugi_formats::ssmix2::write_patient;
use tsumugi_formats::uke::{
    DPC, RECEIPT_DEVICE, RECEIPT_DISEASE, write_claims, write_pharmacy_claims,
};
use tsumugi_model::{
    Code, CodeSystem, EncounterClass, Event, EventKind, IdentityAttributes, ProviderId,
    ProviderKind, Sex, SourceRecord, wareki,
};

use crate::codes;
use crate::emit::RunState;
use crate::error::{Result, io_err};
use crate::link::RecordTruth;
use crate::output::Sink;

/// The format a provider writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Fhir,
    Ssmix2,
    Uke,
    /// A checkup centre: 特定健診 submission ZIPs.
    Kenshin,
    /// A care provider: 介護 claims CSV.
    Kaigo,
    /// A municipality: mapped CSV exports ([`MUNICIPAL_MAPPINGS`]).
    Municipal,
    /// A pharmacy: 調剤 UKE claims.
    UkePharmacy,
}

/// The mappings (stem and TOML) of the municipalities' exports, copied to
/// `mappings/<stem>.toml` of the output: deaths, 妊婦健診, 乳幼児健診, 予防接種.
pub(crate) const MUNICIPAL_MAPPINGS: [(&str, &str); 4] = [
    (
        DEATHS,
        include_str!("../../tsumugi-formats/mappings/juminhyo_shibou.toml"),
    ),
    (
        PREGNANCY,
        include_str!("../../tsumugi-formats/mappings/ninpu_kenshin.toml"),
    ),
    (
        INFANT,
        include_str!("../../tsumugi-formats/mappings/nyuyouji_kenshin.toml"),
    ),
    (
        VACCINATION,
        include_str!("../../tsumugi-formats/mappings/yobou_sesshu.toml"),
    ),
];
const DEATHS: &str = "juminhyo_shibou";
const PREGNANCY: &str = "ninpu_kenshin";
const INFANT: &str = "nyuyouji_kenshin";
const VACCINATION: &str = "yobou_sesshu";

/// The receiver written in 特定健診 indexes: the submissions go to a 代行機関, which routes each
/// document to its insurer; tsumugi does not read it.
const KENSHIN_RECEIVER: &str = "00000000";

impl Target {
    /// The format of a provider of `kind`; `ssmix2_hospital` picks SS-MIX2 for a hospital.
    pub(crate) fn of(kind: ProviderKind, ssmix2_hospital: bool) -> Target {
        match kind {
            ProviderKind::Hospital if ssmix2_hospital => Target::Ssmix2,
            ProviderKind::Clinic => Target::Uke,
            ProviderKind::CheckupCentre => Target::Kenshin,
            ProviderKind::CareProvider => Target::Kaigo,
            ProviderKind::Municipality => Target::Municipal,
            ProviderKind::Pharmacy => Target::UkePharmacy,
            _ => Target::Fhir,
        }
    }

    /// Whether the format has no patient id of its own, so the reader derives it from the card
    /// and the card and kana name must be there.
    pub(crate) fn derives_patient_id(self) -> bool {
        matches!(self, Target::Kenshin | Target::Kaigo)
    }
}

/// Sets the patient id of `identity` to the one `target`'s reader derives (unchanged for formats
/// that carry their own); `care_card` (保険者番号, 被保険者番号) replaces the insurances of a
/// 介護 record.
pub(crate) fn derive_patient_id(
    target: Target,
    identity: &mut IdentityAttributes,
    care_card: Option<(&str, &str)>,
) {
    let derived = match target {
        Target::Kenshin => identity
            .insurances
            .first()
            .and_then(tsumugi_formats::kenshin::patient_id),
        Target::Kaigo => care_card.and_then(|(insurer, number)| {
            identity.insurances = vec![tsumugi_model::Insurance {
                insurer_number: Some(insurer.to_owned()),
                number: Some(number.to_owned()),
                ..tsumugi_model::Insurance::default()
            }];
            tsumugi_formats::kaigo::patient_id(insurer, number)
        }),
        _ => None,
    };
    if derived.is_some() {
        identity.patient_id = derived;
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

/// Where one provider's batch goes, and what the record carries over from earlier batches.
pub(crate) struct BatchOf<'a> {
    /// The provider.
    pub provider: &'a ProviderId,
    /// Batch number (1 or 2).
    pub batch: u8,
    /// The FHIR `Bundle.id` of the record.
    pub bundle_id: &'a str,
    /// The run's `as_of` (UKE 請求年月).
    pub as_of: NaiveDate,
    /// The care level (`S1` … `K5`) of the 介護 lines before the batch's first certification:
    /// the one in force before the batch, else the provider's first (a certification dated
    /// within the month of the first service is written after that month's first line).
    pub care_level: Option<&'a str>,
    /// The person and noise of the record, for the identity-only output.
    pub truth: RecordTruth<'a>,
}

/// Writes `record` (of the batch `at`) in `target`'s format, the events it cannot carry to FHIR
/// NDJSON; in identity-only mode, its rows of the link outputs instead.
pub(crate) fn write_record(
    sink: &mut Sink,
    state: &mut RunState,
    target: Target,
    at: &BatchOf<'_>,
    record: SourceRecord,
) -> Result<()> {
    let (provider, batch, as_of) = (at.provider, at.batch, at.as_of);
    let pid = provider.as_str();
    let dir: PathBuf = ["submissions", pid].iter().collect();
    let patient = record.identity.patient_id.clone().unwrap_or_default();
    state.records += 1;
    state.events += record.events.len() as u64;
    if let Some(link) = &mut sink.link {
        return link.write(
            pid,
            batch,
            target != Target::Kenshin,
            &record.identity,
            &at.truth,
        );
    }
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
        Target::Kenshin => {
            let (carried, rest): (Vec<Event>, Vec<Event>) =
                record.events.into_iter().partition(kenshin_carries);
            let mine = SourceRecord {
                identity: record.identity,
                events: carried,
            };
            if !mine.events.is_empty() {
                let parts = dir.join(format!("{pid}-{batch}.kenshin-parts"));
                let mut doc = write_cda(&mine);
                doc.push(0);
                sink.append(&parts, None, &doc)?;
                state
                    .kenshin_parts
                    .entry(parts)
                    .or_insert_with(|| dir.join(format!("{pid}-{batch}.zip")));
            }
            SourceRecord {
                identity: mine.identity,
                events: rest,
            }
        }
        Target::Kaigo => {
            let (carried, rest) = kaigo_split(record.events);
            let file = dir.join(format!("{pid}-{batch}.kaigo.csv"));
            let mut lines = SourceRecord {
                identity: record.identity,
                events: Vec::new(),
            };
            // Lines before the batch's first certification carry the level in force.
            if let (Some(level), Some(first)) = (at.care_level, carried.first())
                && first.kind == EventKind::CareService
            {
                lines.events.push(Event {
                    kind: EventKind::CareCertification,
                    date: first.date,
                    end_date: None,
                    code: Some(Code::new(CodeSystem::CareLevel, level)),
                    value: None,
                    unit: None,
                });
            }
            lines.events.extend(carried);
            if !lines.events.is_empty() {
                sink.append(&file, None, &write_kaigo(&lines))?;
            }
            SourceRecord {
                identity: lines.identity,
                events: rest,
            }
        }
        Target::Municipal => {
            let mut rest = Vec::new();
            let (mut deaths, mut pregnancy, mut infant, mut vaccination) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for e in record.events {
                match e.kind {
                    EventKind::Death => deaths.push(e),
                    EventKind::PregnancyCheckup if has_code(&e, codes::NINPU_ITEM_SYSTEM) => {
                        pregnancy.push(e)
                    }
                    EventKind::InfantCheckup if has_code(&e, codes::INFANT_ITEM_SYSTEM) => {
                        infant.push(e)
                    }
                    EventKind::Immunization
                        if e.code
                            .as_ref()
                            .is_some_and(|c| c.system == CodeSystem::Vaccine) =>
                    {
                        vaccination.push(e)
                    }
                    _ => rest.push(e),
                }
            }
            let id = &record.identity;
            let csv_file = |stem: &str| dir.join(format!("{pid}-{batch}.{stem}.csv"));
            let who = Who::of(id);
            for death in &deaths {
                let row = [
                    who.patient.clone(),
                    who.family_kanji.clone(),
                    who.given_kanji.clone(),
                    who.birth_ymd.clone(),
                    who.sex.to_owned(),
                    who.municipality.clone(),
                    who.postal.clone(),
                    who.address.clone(),
                    ymd(death.date),
                ]
                .join("\t");
                sink.append(&csv_file(DEATHS), None, format!("{row}\n").as_bytes())?;
            }
            for e in &pregnancy {
                let row = [
                    who.patient.clone(),
                    who.family_kanji.clone(),
                    who.given_kanji.clone(),
                    who.family_kana.clone(),
                    who.given_kana.clone(),
                    who.birth_ymd.clone(),
                    who.sex.to_owned(),
                    who.postal.clone(),
                    who.address.clone(),
                    who.municipality.clone(),
                    e.date.format("%Y/%m/%d").to_string(),
                    e.code.as_ref().map(|c| clean(&c.value)).unwrap_or_default(),
                    e.value.map(|v| v.to_string()).unwrap_or_default(),
                    clean(e.unit.as_deref().unwrap_or("")),
                ]
                .join(",");
                sink.append_raw(
                    &csv_file(PREGNANCY),
                    Some(&cp932(PREGNANCY_HEADER)),
                    &cp932(&format!("{row}\r\n")),
                )?;
            }
            // One row per visit: height and weight of the same day.
            let mut visits: Vec<(NaiveDate, Option<f64>, Option<f64>)> = Vec::new();
            for e in &infant {
                let i = match visits.iter().position(|v| v.0 == e.date) {
                    Some(i) => i,
                    None => {
                        visits.push((e.date, None, None));
                        visits.len() - 1
                    }
                };
                if let (Some(v), Some(code)) = (visits.get_mut(i), &e.code) {
                    if code.value == codes::INFANT_HEIGHT {
                        v.1 = e.value;
                    } else if code.value == codes::INFANT_WEIGHT {
                        v.2 = e.value;
                    }
                }
            }
            for (date, height, weight) in visits {
                let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                let row = [
                    who.patient.clone(),
                    who.family_kanji.clone(),
                    who.given_kanji.clone(),
                    who.family_kana.clone(),
                    who.given_kana.clone(),
                    who.birth_date.map(|d| d.to_string()).unwrap_or_default(),
                    who.sex.to_owned(),
                    who.municipality.clone(),
                    date.to_string(),
                    num(height),
                    num(weight),
                ]
                .join(",");
                sink.append(
                    &csv_file(INFANT),
                    Some(INFANT_HEADER),
                    format!("{row}\n").as_bytes(),
                )?;
            }
            for e in &vaccination {
                let jp = |d: NaiveDate| {
                    wareki::to_kanji(d).unwrap_or_else(|| d.format("%Y/%m/%d").to_string())
                };
                let row = [
                    who.patient.clone(),
                    who.family_kanji.clone(),
                    who.given_kanji.clone(),
                    who.family_kana.clone(),
                    who.given_kana.clone(),
                    who.birth_date.map(jp).unwrap_or_default(),
                    who.sex.to_owned(),
                    who.municipality.clone(),
                    jp(e.date),
                    e.code.as_ref().map(|c| clean(&c.value)).unwrap_or_default(),
                    e.value.map(|v| v.to_string()).unwrap_or_default(),
                ]
                .join(",");
                sink.append_raw(
                    &csv_file(VACCINATION),
                    Some(&cp932(VACCINATION_HEADER)),
                    &cp932(&format!("{row}\r\n")),
                )?;
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
            bundle_id: at.bundle_id,
        },
    );
    let mut line = serde_json::to_vec(&value)?;
    line.push(b'\n');
    sink.append(&dir.join(format!("{pid}-{batch}.ndjson")), None, &line)?;
    Ok(())
}

/// Header of the 妊婦健診 export (`ninpu_kenshin`).
const PREGNANCY_HEADER: &str = "宛名番号,氏,名,氏カナ,名カナ,生年月日,性別,郵便番号,住所,市区町村コード,受診日,検査項目コード,結果値,単位\r\n";
/// Header of the 乳幼児健診 export (`nyuyouji_kenshin`).
const INFANT_HEADER: &str =
    "宛名番号,氏,名,氏カナ,名カナ,生年月日,性別,市区町村コード,健診日,身長,体重\n";
/// Header of the 予防接種台帳 export (`yobou_sesshu`).
const VACCINATION_HEADER: &str =
    "宛名番号,氏,名,氏カナ,名カナ,生年月日,性別,市区町村コード,接種日,ワクチンコード,接種回数\r\n";

/// A cell without the delimiters and quotes of the municipal exports.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\t' | '\r' | '\n' | '"' | ',') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// `s` in CP932; a character CP932 lacks becomes 〓.
fn cp932(s: &str) -> Vec<u8> {
    let (bytes, _, lossy) = encoding_rs::SHIFT_JIS.encode(s);
    if !lossy {
        return bytes.into_owned();
    }
    let mut out = Vec::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let (b, _, lossy) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf));
        if lossy {
            out.extend_from_slice(&encoding_rs::SHIFT_JIS.encode("〓").0);
        } else {
            out.extend_from_slice(&b);
        }
    }
    out
}

/// The 宛名 cells of a municipal record.
struct Who {
    patient: String,
    family_kanji: String,
    given_kanji: String,
    family_kana: String,
    given_kana: String,
    birth_date: Option<NaiveDate>,
    birth_ymd: String,
    sex: &'static str,
    municipality: String,
    postal: String,
    address: String,
}

impl Who {
    fn of(id: &IdentityAttributes) -> Who {
        let c = |s: Option<&str>| clean(s.unwrap_or(""));
        let name = id.names.first();
        let addr = id.addresses.first();
        Who {
            patient: c(id.patient_id.as_deref()),
            family_kanji: c(name.and_then(|n| n.family_kanji.as_deref())),
            given_kanji: c(name.and_then(|n| n.given_kanji.as_deref())),
            family_kana: c(name.and_then(|n| n.family_kana.as_deref())),
            given_kana: c(name.and_then(|n| n.given_kana.as_deref())),
            birth_date: id.birth_date,
            birth_ymd: id.birth_date.map(ymd).unwrap_or_default(),
            sex: match id.sex {
                Sex::Male => "1",
                Sex::Female => "2",
                Sex::Unknown => "",
            },
            municipality: c(addr.and_then(|a| a.municipality_code.as_deref())),
            postal: c(addr.and_then(|a| a.postal_code.as_deref())),
            address: c(addr.and_then(|a| a.text.as_deref())),
        }
    }
}

/// Whether `e` has a code of the (mapping-named) system `system`.
fn has_code(e: &Event, system: &str) -> bool {
    e.code
        .as_ref()
        .is_some_and(|c| c.system == CodeSystem::Other(system.to_owned()))
}

/// Whether the 特定健診 writer carries `e`.
fn kenshin_carries(e: &Event) -> bool {
    e.kind == EventKind::Checkup
        && e.value.is_some_and(f64::is_finite)
        && e.code
            .as_ref()
            .is_some_and(|c| c.system == CodeSystem::KenshinItem)
}

/// The events the 介護 writer carries (services with whole units, and certifications with a
/// carried service after them), and the rest.
fn kaigo_split(events: Vec<Event>) -> (Vec<Event>, Vec<Event>) {
    let service = |e: &Event| {
        e.kind == EventKind::CareService
            && e.code
                .as_ref()
                .is_some_and(|c| c.system == CodeSystem::CareService)
            && e.value
                .is_some_and(|v| v.fract() == 0.0 && v >= 0.0 && v <= f64::from(u32::MAX))
    };
    let certification = |e: &Event| {
        e.kind == EventKind::CareCertification
            && e.code
                .as_ref()
                .is_some_and(|c| c.system == CodeSystem::CareLevel && kaigo_level(&c.value))
    };
    let mut carried = Vec::new();
    let mut rest = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let keep = service(e)
            || (certification(e) && events.get(i + 1..).is_some_and(|t| t.iter().any(service)));
        if keep {
            carried.push(e.clone());
        } else {
            rest.push(e.clone());
        }
    }
    (carried, rest)
}

fn kaigo_level(level: &str) -> bool {
    tsumugi_formats::kaigo::care_level_code(level).is_some()
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
    /// Ends the files that need a trailer: the `GO` line of every UKE file; turns the 特定健診
    /// part files into submission ZIPs.
    pub(crate) fn finish_formats(&mut self, sink: &mut Sink, as_of: NaiveDate) -> Result<()> {
        for (file, n) in std::mem::take(&mut self.uke_claims) {
            sink.append(&file, None, format!("GO,{n},0,99\r\n").as_bytes())?;
        }
        for (parts, zip) in std::mem::take(&mut self.kenshin_parts) {
            let parts = sink.take(&parts)?;
            let zip = sink.register(&zip);
            write_kenshin_zip(&parts, &zip, as_of)?;
            fs::remove_file(&parts).map_err(io_err(&parts))?;
        }
        Ok(())
    }
}

/// Writes the NUL-separated CDA documents of `parts` as the submission ZIP `zip`; the sender is
/// the provider (the folder name).
fn write_kenshin_zip(parts: &Path, zip: &Path, created: NaiveDate) -> Result<()> {
    let bytes = fs::read(parts).map_err(io_err(parts))?;
    let sender = zip
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = File::create(zip).map_err(io_err(zip))?;
    let mut w = SubmissionZipWriter::new(
        BufWriter::new(out),
        SubmissionHeader {
            sender: &sender,
            receiver: KENSHIN_RECEIVER,
            created,
        },
    );
    for doc in bytes.split(|b| *b == 0).filter(|d| !d.is_empty()) {
        w.add_document(doc).map_err(io_err(zip))?;
    }
    let mut out = w.finish().map_err(io_err(zip))?;
    std::io::Write::flush(&mut out).map_err(io_err(zip))?;
    Ok(())
}
