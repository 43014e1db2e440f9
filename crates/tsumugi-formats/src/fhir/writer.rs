//! [`SourceRecord`] → FHIR R4 / JP Core `Bundle` (type `collection`).
//!
//! Shape (one entry per item, in this order; every reference is the target's `urn:uuid:`
//! fullUrl):
//!
//! | model | resource |
//! |---|---|
//! | identity | `Patient`: identifier (医療機関患者番号 OID + provider code), `IDE`/`SYL` name pairs, gender, birthDate, deceasedDateTime, address (text, postalCode, city-code extension) |
//! | each [`Insurance`] | `Coverage`: JP Core 記号/番号/枝番 extensions, payor identifier = 保険者番号 |
//! | encounter events | `Encounter` (class AMB/IMP/EMER/HH, period) |
//! | diagnosis | `Condition` (code, onsetDateTime, abatementDateTime) |
//! | lab result / vital | `Observation` (category laboratory / vital-signs, effective[x], valueQuantity) |
//! | prescription | `MedicationRequest` (medicationCodeableConcept, authoredOn, dispenseRequest.quantity, JP Core PeriodOfUse for the end) |
//! | dispensing | `MedicationDispense` (whenHandedOver, quantity) |
//! | procedure | `Procedure` (performedDateTime or performedPeriod) |
//! | immunization | `Immunization` (vaccineCode, occurrenceDateTime, doseQuantity) |
//! | allergy | `AllergyIntolerance` (code, onsetDateTime) |
//! | checkup, pregnancy/infant checkup, birth, care certification, death | `Observation` with a category coding in `urn:tsumugi:event-kind` |
//! | care service | `Procedure` with category coding in `urn:tsumugi:event-kind` |
//!
//! Where a resource has no natural place for an event's value or end date, the writer adds the
//! extensions `urn:tsumugi:extension:quantity` / `urn:tsumugi:extension:end-date`. A required
//! code the event lacks is written as a `data-absent-reason#unknown` coding.
//!
//! Empty strings, empty names, empty addresses and empty insurances are not written (FHIR forbids
//! empty values); the reader therefore never yields them.

use serde_json::{Map, Value, json};
use tsumugi_model::{
    Address, Code, Date, EncounterClass, Event, EventKind, IdentityAttributes, Insurance,
    PersonName, ProviderId, Sex, SourceRecord,
};

use crate::fhir::codes::{EVENT_KIND_SYSTEM, system_uri};
use crate::fhir::shape;

/// What the writer needs besides the record.
#[derive(Debug, Clone, Copy)]
pub struct BundleContext<'a> {
    /// The provider whose patient number system the Patient identifier uses.
    pub provider: &'a ProviderId,
    /// Seed of the Bundle's deterministic entry ids; also written as the Bundle identifier.
    pub bundle_id: &'a str,
}

/// Writes `record` as a FHIR R4 `collection` Bundle.
///
/// The output is deterministic: the same record and context give the same JSON (and the same
/// bytes through `serde_json::to_string`). Entry fullUrls are `urn:uuid:` ids derived from
/// `ctx.bundle_id` and the entry index.
pub fn write_bundle(record: &SourceRecord, ctx: &BundleContext<'_>) -> Value {
    let patient_url = entry_url(ctx.bundle_id, 0);
    let mut entries = vec![entry(&patient_url, patient(&record.identity, ctx.provider))];
    for insurance in record
        .identity
        .insurances
        .iter()
        .filter(|i| !insurance_is_empty(i))
    {
        let url = entry_url(ctx.bundle_id, entries.len());
        entries.push(entry(&url, coverage(insurance, &patient_url)));
    }
    for event in &record.events {
        let url = entry_url(ctx.bundle_id, entries.len());
        entries.push(entry(&url, event_resource(event, &patient_url)));
    }
    json!({
        "resourceType": "Bundle",
        "identifier": { "system": shape::BUNDLE_ID_SYSTEM, "value": ctx.bundle_id },
        "type": "collection",
        "entry": entries,
    })
}

/// `urn:uuid:` URL of entry `idx`: an RFC 9562 version-8 (custom) UUID from two FNV-1a hashes.
pub(crate) fn entry_url(bundle_id: &str, idx: usize) -> String {
    let hash = |basis: u64| {
        let mut h = basis;
        let idx_bytes = (idx as u64).to_le_bytes();
        for b in bundle_id.bytes().chain([0xff]).chain(idx_bytes) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    let hi = hash(0xcbf2_9ce4_8422_2325);
    let lo = hash(0x6c62_272e_07bb_0142);
    let hi = (hi & !0xf000) | 0x8000; // version 8
    let lo = (lo & !(0b11 << 62)) | (0b10 << 62); // RFC variant
    format!(
        "urn:uuid:{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

fn entry(url: &str, resource: Value) -> Value {
    json!({ "fullUrl": url, "resource": resource })
}

fn date(d: Date) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// `Some(s)` unless `s` is empty.
fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn patient(identity: &IdentityAttributes, provider: &ProviderId) -> Value {
    let mut p = Map::new();
    p.insert("resourceType".into(), "Patient".into());
    if let Some(id) = present(&identity.patient_id) {
        p.insert(
            "identifier".into(),
            json!([{
                "system": format!("{}1{}", shape::PATIENT_ID_OID_PREFIX, provider.as_str()),
                "value": id,
            }]),
        );
    }
    let names: Vec<Value> = identity.names.iter().flat_map(names_of).collect();
    if !names.is_empty() {
        p.insert("name".into(), Value::Array(names));
    }
    let gender = match identity.sex {
        Sex::Male => "male",
        Sex::Female => "female",
        Sex::Unknown => "unknown",
    };
    p.insert("gender".into(), gender.into());
    if let Some(d) = identity.birth_date {
        p.insert("birthDate".into(), date(d).into());
    }
    if let Some(d) = identity.deceased_on {
        p.insert("deceasedDateTime".into(), date(d).into());
    }
    let addresses: Vec<Value> = identity.addresses.iter().filter_map(address).collect();
    if !addresses.is_empty() {
        p.insert("address".into(), Value::Array(addresses));
    }
    Value::Object(p)
}

/// One name → an `IDE` HumanName followed by a `SYL` HumanName. When one form is missing its
/// HumanName carries only the representation extension, so the reader can pair by position.
fn names_of(name: &PersonName) -> Vec<Value> {
    let kanji = (present(&name.family_kanji), present(&name.given_kanji));
    let kana = (present(&name.family_kana), present(&name.given_kana));
    if kanji == (None, None) && kana == (None, None) {
        return Vec::new();
    }
    vec![human_name("IDE", kanji), human_name("SYL", kana)]
}

fn human_name(representation: &str, (family, given): (Option<&str>, Option<&str>)) -> Value {
    let mut n = Map::new();
    n.insert(
        "extension".into(),
        json!([{ "url": shape::EN_REPRESENTATION, "valueCode": representation }]),
    );
    let text = match (family, given) {
        (Some(f), Some(g)) => Some(format!("{f} {g}")),
        (Some(s), None) | (None, Some(s)) => Some(s.to_owned()),
        (None, None) => None,
    };
    if let Some(text) = text {
        n.insert("text".into(), text.into());
    }
    if let Some(f) = family {
        n.insert("family".into(), f.into());
    }
    if let Some(g) = given {
        n.insert("given".into(), json!([g]));
    }
    Value::Object(n)
}

fn address(a: &Address) -> Option<Value> {
    let mut out = Map::new();
    if let Some(code) = present(&a.municipality_code) {
        out.insert(
            "extension".into(),
            json!([{ "url": shape::ADDRESS_CITY_CODE, "valueCode": code }]),
        );
    }
    if let Some(text) = present(&a.text) {
        out.insert("text".into(), text.into());
    }
    if let Some(postal) = present(&a.postal_code) {
        out.insert("postalCode".into(), postal.into());
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn insurance_is_empty(i: &Insurance) -> bool {
    [&i.insurer_number, &i.symbol, &i.number, &i.branch]
        .into_iter()
        .all(|f| present(f).is_none())
}

/// JP Core Coverage: 記号/番号/枝番 as the JP Core extensions (JP_Coverage_Example.fsh in
/// jami-fhir-jp-wg/jp-core-v1x), 保険者番号 as the payor's logical identifier.
fn coverage(i: &Insurance, patient_url: &str) -> Value {
    let mut c = Map::new();
    c.insert("resourceType".into(), "Coverage".into());
    let ext: Vec<Value> = [
        (shape::COVERAGE_SYMBOL, &i.symbol),
        (shape::COVERAGE_NUMBER, &i.number),
        (shape::COVERAGE_BRANCH, &i.branch),
    ]
    .into_iter()
    .filter_map(|(url, v)| present(v).map(|v| json!({ "url": url, "valueString": v })))
    .collect();
    if !ext.is_empty() {
        c.insert("extension".into(), Value::Array(ext));
    }
    c.insert("status".into(), "active".into());
    c.insert("beneficiary".into(), json!({ "reference": patient_url }));
    if let Some(insurer) = present(&i.insurer_number) {
        c.insert(
            "payor".into(),
            json!([{ "identifier": { "system": shape::INSURER_NUMBER, "value": insurer } }]),
        );
    }
    Value::Object(c)
}

/// How an event kind is written.
enum Target {
    Encounter(EncounterClass),
    Condition,
    /// Observation; the category code (standard or event-kind) is decided by the kind.
    Observation,
    MedicationRequest,
    MedicationDispense,
    Procedure,
    Immunization,
    AllergyIntolerance,
}

fn target(kind: EventKind) -> Target {
    match kind {
        EventKind::Encounter(class) => Target::Encounter(class),
        EventKind::Diagnosis => Target::Condition,
        EventKind::Prescription => Target::MedicationRequest,
        EventKind::Dispensing => Target::MedicationDispense,
        EventKind::Procedure | EventKind::CareService => Target::Procedure,
        EventKind::Immunization => Target::Immunization,
        EventKind::Allergy => Target::AllergyIntolerance,
        EventKind::LabResult
        | EventKind::Vital
        | EventKind::Checkup
        | EventKind::PregnancyCheckup
        | EventKind::Birth
        | EventKind::InfantCheckup
        | EventKind::CareCertification
        | EventKind::Death => Target::Observation,
    }
}

/// The v3 ActCode of an encounter class.
pub(crate) fn act_code(class: EncounterClass) -> &'static str {
    match class {
        EncounterClass::Outpatient => "AMB",
        EncounterClass::Inpatient => "IMP",
        EncounterClass::Emergency => "EMER",
        EncounterClass::Home => "HH",
    }
}

fn codeable(code: Option<&Code>) -> Option<Value> {
    let code = code.filter(|c| !c.value.is_empty())?;
    Some(json!({ "coding": [{ "system": system_uri(&code.system), "code": code.value }] }))
}

/// A CodeableConcept for an element FHIR requires.
fn required_codeable(code: Option<&Code>) -> Value {
    codeable(code).unwrap_or_else(
        || json!({ "coding": [{ "system": shape::DATA_ABSENT_REASON, "code": "unknown" }] }),
    )
}

fn quantity(event: &Event) -> Option<Value> {
    let mut q = Map::new();
    if let Some(v) = event.value {
        q.insert("value".into(), v.into());
    }
    if let Some(u) = present(&event.unit) {
        q.insert("unit".into(), u.into());
    }
    (!q.is_empty()).then_some(Value::Object(q))
}

fn period(start: Date, end: Option<Date>) -> Value {
    match end {
        Some(end) => json!({ "start": date(start), "end": date(end) }),
        None => json!({ "start": date(start) }),
    }
}

fn kind_category(kind: EventKind) -> Value {
    json!({ "coding": [{ "system": EVENT_KIND_SYSTEM, "code": kind.as_str() }] })
}

fn event_resource(event: &Event, patient_url: &str) -> Value {
    let mut r = Map::new();
    let subject = json!({ "reference": patient_url });
    // Which of value/unit and end date found a natural place; the rest go to extensions.
    let mut quantity_written = false;
    let mut end_written = false;
    match target(event.kind) {
        Target::Encounter(class) => {
            r.insert("resourceType".into(), "Encounter".into());
            r.insert("status".into(), "finished".into());
            r.insert(
                "class".into(),
                json!({ "system": shape::ACT_CODE, "code": act_code(class) }),
            );
            if let Some(c) = codeable(event.code.as_ref()) {
                r.insert("type".into(), json!([c]));
            }
            r.insert("subject".into(), subject);
            r.insert("period".into(), period(event.date, event.end_date));
            end_written = true;
        }
        Target::Condition => {
            r.insert("resourceType".into(), "Condition".into());
            if let Some(c) = codeable(event.code.as_ref()) {
                r.insert("code".into(), c);
            }
            r.insert("subject".into(), subject);
            r.insert("onsetDateTime".into(), date(event.date).into());
            if let Some(end) = event.end_date {
                r.insert("abatementDateTime".into(), date(end).into());
            }
            end_written = true;
        }
        Target::Observation => {
            r.insert("resourceType".into(), "Observation".into());
            r.insert("status".into(), "final".into());
            let category = match event.kind {
                EventKind::LabResult => {
                    json!({ "coding": [{ "system": shape::OBSERVATION_CATEGORY, "code": "laboratory" }] })
                }
                EventKind::Vital => {
                    json!({ "coding": [{ "system": shape::OBSERVATION_CATEGORY, "code": "vital-signs" }] })
                }
                other => kind_category(other),
            };
            r.insert("category".into(), json!([category]));
            r.insert("code".into(), required_codeable(event.code.as_ref()));
            r.insert("subject".into(), subject);
            match event.end_date {
                Some(_) => {
                    r.insert("effectivePeriod".into(), period(event.date, event.end_date));
                }
                None => {
                    r.insert("effectiveDateTime".into(), date(event.date).into());
                }
            }
            end_written = true;
            if let Some(q) = quantity(event) {
                r.insert("valueQuantity".into(), q);
            }
            quantity_written = true;
        }
        Target::MedicationRequest => {
            r.insert("resourceType".into(), "MedicationRequest".into());
            r.insert("status".into(), "completed".into());
            r.insert("intent".into(), "order".into());
            r.insert(
                "medicationCodeableConcept".into(),
                required_codeable(event.code.as_ref()),
            );
            r.insert("subject".into(), subject);
            r.insert("authoredOn".into(), date(event.date).into());
            if event.end_date.is_some() {
                r.insert(
                    "dosageInstruction".into(),
                    json!([{ "extension": [{
                        "url": shape::DOSAGE_PERIOD_OF_USE,
                        "valuePeriod": period(event.date, event.end_date),
                    }] }]),
                );
            }
            end_written = true;
            if let Some(q) = quantity(event) {
                r.insert("dispenseRequest".into(), json!({ "quantity": q }));
            }
            quantity_written = true;
        }
        Target::MedicationDispense => {
            r.insert("resourceType".into(), "MedicationDispense".into());
            r.insert("status".into(), "completed".into());
            r.insert(
                "medicationCodeableConcept".into(),
                required_codeable(event.code.as_ref()),
            );
            r.insert("subject".into(), subject);
            if let Some(q) = quantity(event) {
                r.insert("quantity".into(), q);
            }
            quantity_written = true;
            r.insert("whenHandedOver".into(), date(event.date).into());
        }
        Target::Procedure => {
            r.insert("resourceType".into(), "Procedure".into());
            r.insert("status".into(), "completed".into());
            if event.kind != EventKind::Procedure {
                r.insert("category".into(), kind_category(event.kind));
            }
            if let Some(c) = codeable(event.code.as_ref()) {
                r.insert("code".into(), c);
            }
            r.insert("subject".into(), subject);
            match event.end_date {
                Some(_) => {
                    r.insert("performedPeriod".into(), period(event.date, event.end_date));
                }
                None => {
                    r.insert("performedDateTime".into(), date(event.date).into());
                }
            }
            end_written = true;
        }
        Target::Immunization => {
            r.insert("resourceType".into(), "Immunization".into());
            r.insert("status".into(), "completed".into());
            r.insert("vaccineCode".into(), required_codeable(event.code.as_ref()));
            r.insert("patient".into(), subject);
            r.insert("occurrenceDateTime".into(), date(event.date).into());
            if let Some(q) = quantity(event) {
                r.insert("doseQuantity".into(), q);
            }
            quantity_written = true;
        }
        Target::AllergyIntolerance => {
            r.insert("resourceType".into(), "AllergyIntolerance".into());
            if let Some(c) = codeable(event.code.as_ref()) {
                r.insert("code".into(), c);
            }
            r.insert("patient".into(), subject);
            r.insert("onsetDateTime".into(), date(event.date).into());
        }
    }
    let mut ext = Vec::new();
    if !quantity_written && let Some(q) = quantity(event) {
        ext.push(json!({ "url": shape::EXT_QUANTITY, "valueQuantity": q }));
    }
    if !end_written && let Some(end) = event.end_date {
        ext.push(json!({ "url": shape::EXT_END_DATE, "valueDate": date(end) }));
    }
    if !ext.is_empty() {
        r.insert("extension".into(), Value::Array(ext));
    }
    Value::Object(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_urls_are_uuid_shaped_and_stable() {
        let a = entry_url("b-1", 0);
        assert_eq!(a, entry_url("b-1", 0));
        assert_ne!(a, entry_url("b-1", 1));
        assert_ne!(a, entry_url("b-2", 0));
        let uuid = a.strip_prefix("urn:uuid:").unwrap_or_default();
        let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert_eq!(uuid.as_bytes()[14], b'8', "{a}");
    }

    #[test]
    fn same_input_same_bytes() {
        let record = SourceRecord {
            identity: IdentityAttributes {
                patient_id: Some("P1".into()),
                ..IdentityAttributes::default()
            },
            events: vec![Event {
                kind: EventKind::LabResult,
                date: Date::from_ymd_opt(2023, 4, 1).unwrap_or_default(),
                end_date: None,
                code: Some(Code::new(
                    tsumugi_model::CodeSystem::Jlac10,
                    "3A015000001827101",
                )),
                value: Some(3.9),
                unit: Some("mg/L".into()),
            }],
        };
        let provider = ProviderId("1318814790".into());
        let ctx = BundleContext {
            provider: &provider,
            bundle_id: "b",
        };
        let a = serde_json::to_string(&write_bundle(&record, &ctx)).unwrap_or_default();
        let b = serde_json::to_string(&write_bundle(&record, &ctx)).unwrap_or_default();
        assert_eq!(a, b);
        assert!(
            a.contains("urn:oid:1.2.392.100495.20.3.51.11318814790"),
            "{a}"
        );
    }
}
