//! One record's JSON value (a Bundle or a single resource) → [`SourceRecord`].
//!
//! The Bundle's resources are indexed by `fullUrl` and by `Type/id`; references are resolved
//! against that index, and `#id` references against the referring resource's `contained`.
//! The record's person is the Bundle's first Patient; failing that a Patient some resource
//! refers to (also a contained one); failing that the logical identifier of a `subject` /
//! `patient` reference (医療機関患者番号 or eCS 被保険者個人識別子). Without any of these the record
//! is rejected ([`FhirError::NoPatient`]).
//!
//! One event per event resource, in source order. Its code is the best coding of the resource
//! (see [`code_rank`]); contained resources yield no events (they are only reference targets).

use std::collections::BTreeMap;

use chrono::{FixedOffset, NaiveDate};
use serde_json::Value;
use tsumugi_model::{
    Address, Code, CodeSystem, Date, Diagnostic, EncounterClass, Event, EventKind,
    IdentityAttributes, Insurance, PersonName, Sex, SourceRecord, wareki,
};

use crate::fhir::codes::{EVENT_KIND_SYSTEM, code_system_from_uri};
use crate::fhir::error::{FhirError, Location};
use crate::fhir::shape;

/// Decodes one record. Returns the record or the error that rejected it, plus warnings.
pub(crate) fn decode(
    value: &Value,
    loc: &Location<'_>,
) -> (Result<SourceRecord, Diagnostic>, Vec<Diagnostic>) {
    let mut dec = Decoder {
        loc,
        warnings: Vec::new(),
        resources: Vec::new(),
        by_key: BTreeMap::new(),
    };
    let result = dec
        .record(value)
        .map_err(|(err, field)| loc.diagnostic(err, field));
    (result, dec.warnings)
}

type Fault = (FhirError, Option<String>);

/// One top-level resource of the record.
struct Res<'a> {
    value: &'a Value,
    rtype: &'a str,
    /// Field path of the resource itself, e.g. `Bundle.entry[3].resource`.
    path: String,
}

struct Decoder<'a, 'l> {
    loc: &'l Location<'l>,
    warnings: Vec<Diagnostic>,
    resources: Vec<Res<'a>>,
    /// `fullUrl` and `Type/id` → index into `resources`.
    by_key: BTreeMap<String, usize>,
}

/// Resource types that carry no event of their own; they are read only as reference targets.
const SUPPORTING: &[&str] = &[
    "Patient",
    "Coverage",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Medication",
    "Specimen",
    "Location",
    "Composition",
    "RelatedPerson",
    "Provenance",
    "Device",
];

impl<'a> Decoder<'a, '_> {
    fn warn(&mut self, err: FhirError, field: impl Into<String>) {
        self.warnings
            .push(self.loc.diagnostic(err, Some(field.into())));
    }

    fn record(&mut self, value: &'a Value) -> Result<SourceRecord, Fault> {
        let Some(rtype) = str_of(value.get("resourceType")) else {
            return Err((FhirError::NotAResource, Some("resourceType".into())));
        };
        if rtype == "Bundle" {
            match str_of(value.get("type")) {
                None | Some("transaction" | "collection" | "document" | "searchset" | "batch") => {}
                Some(_) => {
                    return Err((FhirError::UnsupportedBundleType, Some("Bundle.type".into())));
                }
            }
            for (i, entry) in items(value.get("entry")).iter().enumerate() {
                let path = format!("Bundle.entry[{i}].resource");
                let Some(res) = entry.get("resource") else {
                    continue;
                };
                let Some(rt) = str_of(res.get("resourceType")) else {
                    self.warn(FhirError::NotAResource, format!("{path}.resourceType"));
                    continue;
                };
                let idx = self.resources.len();
                if let Some(url) = str_of(entry.get("fullUrl")) {
                    self.by_key.entry(url.to_owned()).or_insert(idx);
                }
                if let Some(id) = str_of(res.get("id")) {
                    self.by_key.entry(format!("{rt}/{id}")).or_insert(idx);
                }
                self.resources.push(Res {
                    value: res,
                    rtype: rt,
                    path,
                });
            }
        } else if value.is_object() {
            self.resources.push(Res {
                value,
                rtype,
                path: "resourceType".into(),
            });
        }

        let mut identity = self.identity()?;
        self.coverages(&mut identity);
        let mut events = Vec::new();
        for i in 0..self.resources.len() {
            let (rtype, res, path) = {
                let r = &self.resources[i];
                (r.rtype, r.value, r.path.clone())
            };
            if SUPPORTING.contains(&rtype) {
                continue;
            }
            if let Some(event) = self.event(rtype, res, &path) {
                events.push(event);
            }
        }
        Ok(SourceRecord { identity, events })
    }

    /// The record's person (see the module docs).
    fn identity(&mut self) -> Result<IdentityAttributes, Fault> {
        let patients: Vec<&'a Value> = self
            .resources
            .iter()
            .filter(|r| r.rtype == "Patient")
            .map(|r| r.value)
            .collect();
        if let Some(first) = patients.first() {
            if patients.len() > 1 {
                self.warn(FhirError::MultiplePatients, "Patient");
            }
            return Ok(self.patient(first));
        }
        let mut subject_ids = Vec::new();
        let mut referenced = None;
        'outer: for r in &self.resources {
            for key in ["subject", "patient", "beneficiary"] {
                let Some(reference) = r.value.get(key) else {
                    continue;
                };
                if let Some(target) = self.resolve(r.value, reference)
                    && str_of(target.get("resourceType")) == Some("Patient")
                {
                    referenced = Some(target);
                    break 'outer;
                }
                if let Some(identifier) = reference.get("identifier") {
                    subject_ids.push(identifier);
                }
            }
        }
        if let Some(target) = referenced {
            return Ok(self.patient(target));
        }
        let mut identity = IdentityAttributes::default();
        for identifier in subject_ids {
            self.identifier(identifier, &mut identity, "subject.identifier");
        }
        if identity.patient_id.is_some() || !identity.insurances.is_empty() {
            return Ok(identity);
        }
        Err((FhirError::NoPatient, None))
    }

    /// Resolves a Reference value seen in resource `from`.
    fn resolve(&self, from: &'a Value, reference: &'a Value) -> Option<&'a Value> {
        let r = str_of(reference.get("reference"))?;
        if let Some(id) = r.strip_prefix('#') {
            return items(from.get("contained"))
                .iter()
                .find(|c| str_of(c.get("id")) == Some(id));
        }
        if let Some(&i) = self.by_key.get(r) {
            return self.resources.get(i).map(|res| res.value);
        }
        // Absolute or versioned URL: match on its `Type/id` part.
        let segs: Vec<&str> = r.split('/').collect();
        let end = segs
            .iter()
            .position(|s| *s == "_history")
            .unwrap_or(segs.len());
        let (ty, id) = (
            segs.get(end.checked_sub(2)?)?,
            segs.get(end.checked_sub(1)?)?,
        );
        let &i = self.by_key.get(&format!("{ty}/{id}"))?;
        self.resources.get(i).map(|res| res.value)
    }

    fn patient(&mut self, p: &'a Value) -> IdentityAttributes {
        let mut identity = IdentityAttributes::default();
        for identifier in items(p.get("identifier")) {
            self.identifier(identifier, &mut identity, "Patient.identifier");
        }
        identity.names = self.names(p.get("name"));
        identity.sex = match str_of(p.get("gender")) {
            Some("male") => Sex::Male,
            Some("female") => Sex::Female,
            _ => Sex::Unknown,
        };
        if let Some(text) = str_of(p.get("birthDate")) {
            identity.birth_date = self.date(text, "Patient.birthDate");
        }
        if let Some(text) = str_of(p.get("deceasedDateTime")) {
            identity.deceased_on = self.date(text, "Patient.deceasedDateTime");
        }
        identity.addresses = items(p.get("address")).iter().filter_map(address).collect();
        identity
    }

    /// Reads a 医療機関患者番号 or an eCS 被保険者個人識別子 into `identity`.
    fn identifier(&mut self, identifier: &Value, identity: &mut IdentityAttributes, field: &str) {
        let (Some(system), Some(value)) = (
            str_of(identifier.get("system")),
            str_of(identifier.get("value")),
        ) else {
            return;
        };
        if system.starts_with(shape::PATIENT_ID_OID_PREFIX) {
            if identity.patient_id.is_none() {
                identity.patient_id = Some(value.to_owned());
            }
        } else if system.eq_ignore_ascii_case(shape::INSURANCE_MEMBER_ID) {
            let parts: Vec<&str> = value.split(':').collect();
            if !(3..=4).contains(&parts.len()) {
                self.warn(FhirError::UnmappedCode, field);
                return;
            }
            let part = |i: usize| {
                parts
                    .get(i)
                    .filter(|p| !p.is_empty())
                    .map(|p| (*p).to_owned())
            };
            push_unique(
                &mut identity.insurances,
                Insurance {
                    insurer_number: part(0),
                    symbol: part(1),
                    number: part(2),
                    branch: part(3),
                },
            );
        }
    }

    /// JP Core names: `IDE` → kanji, `SYL` → kana; without the extension, by script. An `IDE`
    /// and a `SYL` name next to each other are one [`PersonName`].
    fn names(&mut self, names: Option<&Value>) -> Vec<PersonName> {
        let mut parts = Vec::new();
        for n in items(names) {
            let rep = items(n.get("extension"))
                .iter()
                .find(|e| str_of(e.get("url")) == Some(shape::EN_REPRESENTATION))
                .and_then(|e| str_of(e.get("valueCode")));
            let (mut family, mut given) = (
                str_of(n.get("family")).map(str::to_owned),
                join_given(n.get("given")),
            );
            if family.is_none()
                && given.is_none()
                && let Some(text) = str_of(n.get("text"))
            {
                (family, given) = split_text(text);
            }
            let kana = match rep {
                Some("IDE") => false,
                Some("SYL") => true,
                Some(_) => {
                    // `ABC` (romaji) has no slot in the model.
                    self.warn(FhirError::UnmappedCode, "Patient.name.extension");
                    continue;
                }
                None => is_kana(family.as_deref(), given.as_deref()),
            };
            parts.push((kana, family, given));
        }
        let mut out = Vec::new();
        let mut i = 0;
        while let Some((kana, family, given)) = parts.get(i).cloned() {
            let mut name = PersonName::default();
            set_name(&mut name, kana, family, given);
            i += 1;
            if let Some((kana2, family2, given2)) = parts.get(i).cloned()
                && kana2 != kana
            {
                set_name(&mut name, kana2, family2, given2);
                i += 1;
            }
            if name != PersonName::default() {
                out.push(name);
            }
        }
        out
    }

    fn coverages(&mut self, identity: &mut IdentityAttributes) {
        let coverages: Vec<&'a Value> = self
            .resources
            .iter()
            .filter(|r| r.rtype == "Coverage")
            .map(|r| r.value)
            .collect();
        for c in coverages {
            if entered_in_error(c) {
                self.warn(FhirError::EnteredInError, "Coverage.status");
                continue;
            }
            let ext = |url: &str| {
                items(c.get("extension"))
                    .iter()
                    .find(|e| str_of(e.get("url")) == Some(url))
                    .and_then(|e| str_of(e.get("valueString")))
                    .map(str::to_owned)
            };
            let insurer = items(c.get("payor"))
                .iter()
                .find_map(|payor| self.insurer_number(c, payor));
            let insurance = Insurance {
                insurer_number: insurer,
                symbol: ext(shape::COVERAGE_SYMBOL),
                number: ext(shape::COVERAGE_NUMBER),
                branch: ext(shape::COVERAGE_BRANCH)
                    .or_else(|| str_of(c.get("dependent")).map(str::to_owned)),
            };
            if insurance != Insurance::default() {
                push_unique(&mut identity.insurances, insurance);
            }
        }
    }

    /// 保険者番号 from a payor reference: its logical identifier, or the referenced Organization's
    /// identifier or JP Core insurer-number extension.
    fn insurer_number(&self, coverage: &'a Value, payor: &'a Value) -> Option<String> {
        let is_insurer_system = |id: &Value| {
            matches!(
                str_of(id.get("system")),
                Some(shape::INSURER_NUMBER | shape::INSURER_NUMBER_OID)
            )
        };
        if let Some(id) = payor.get("identifier").filter(|id| is_insurer_system(id)) {
            return str_of(id.get("value")).map(str::to_owned);
        }
        let org = self.resolve(coverage, payor)?;
        if let Some(id) = items(org.get("identifier"))
            .iter()
            .find(|id| is_insurer_system(id))
        {
            return str_of(id.get("value")).map(str::to_owned);
        }
        items(org.get("extension"))
            .iter()
            .find(|e| str_of(e.get("url")) == Some(shape::ORGANIZATION_INSURER_NO))
            .and_then(|e| str_of(e.get("valueIdentifier").and_then(|v| v.get("value"))))
            .map(str::to_owned)
    }

    /// Parses a FHIR date or dateTime (also 和暦, leniently) as a JST calendar date; warns and
    /// returns `None` when it does not parse.
    fn date(&mut self, text: &str, field: &str) -> Option<Date> {
        match parse_fhir_date(text) {
            ParsedDate::Exact(d) => Some(d),
            ParsedDate::Month(d) => {
                self.warn(FhirError::ImpreciseDate, field);
                Some(d)
            }
            ParsedDate::Invalid => {
                self.warn(FhirError::InvalidDate, field);
                None
            }
        }
    }

    /// The first present candidate date; warns and returns `None` when it is missing or bad.
    fn event_date(&mut self, candidates: &[(&str, Option<&Value>)]) -> Option<Date> {
        for (field, v) in candidates {
            if let Some(text) = str_of(*v) {
                return self.date(text, field);
            }
        }
        let field = candidates.first().map(|(f, _)| *f).unwrap_or_default();
        self.warn(FhirError::MissingDate, field);
        None
    }

    /// An optional end date: a bad one is dropped with a warning, the event kept.
    fn end_date(&mut self, field: &str, v: Option<&Value>) -> Option<Date> {
        let text = str_of(v)?;
        self.date(text, field)
    }

    fn event(&mut self, rtype: &'a str, r: &'a Value, path: &str) -> Option<Event> {
        let known = matches!(
            rtype,
            "Encounter"
                | "Condition"
                | "Observation"
                | "MedicationRequest"
                | "MedicationDispense"
                | "Procedure"
                | "Immunization"
                | "AllergyIntolerance"
        );
        if !known {
            self.warn(FhirError::UnsupportedResource, path);
            return None;
        }
        if entered_in_error(r) {
            self.warn(FhirError::EnteredInError, path);
            return None;
        }
        let tagged_kind = event_kind_category(r);
        let mut quantity = r.get("valueQuantity");
        let (kind, date, mut end_date, code_sources): (_, _, _, Vec<&Value>) = match rtype {
            "Encounter" => {
                let class = self.encounter_class(r);
                let period = r.get("period");
                let date = self.event_date(&[(
                    "Encounter.period.start",
                    period.and_then(|p| p.get("start")),
                )])?;
                let end = self.end_date("Encounter.period.end", period.and_then(|p| p.get("end")));
                let types = items(r.get("type")).iter().collect();
                (EventKind::Encounter(class), date, end, types)
            }
            "Condition" => {
                let date = self.event_date(&[
                    ("Condition.onsetDateTime", r.get("onsetDateTime")),
                    (
                        "Condition.onsetPeriod.start",
                        r.get("onsetPeriod").and_then(|p| p.get("start")),
                    ),
                    ("Condition.recordedDate", r.get("recordedDate")),
                ])?;
                let end = self.end_date("Condition.abatementDateTime", r.get("abatementDateTime"));
                (EventKind::Diagnosis, date, end, opt_vec(r.get("code")))
            }
            "Observation" => {
                let kind = tagged_kind.unwrap_or_else(|| observation_kind(r));
                let period = r.get("effectivePeriod");
                let date = self.event_date(&[
                    ("Observation.effectiveDateTime", r.get("effectiveDateTime")),
                    (
                        "Observation.effectivePeriod.start",
                        period.and_then(|p| p.get("start")),
                    ),
                    ("Observation.effectiveInstant", r.get("effectiveInstant")),
                ])?;
                let end = self.end_date(
                    "Observation.effectivePeriod.end",
                    period.and_then(|p| p.get("end")),
                );
                (kind, date, end, opt_vec(r.get("code")))
            }
            "MedicationRequest" => {
                let use_period = items(r.get("dosageInstruction")).iter().find_map(|d| {
                    items(d.get("extension"))
                        .iter()
                        .find(|e| str_of(e.get("url")) == Some(shape::DOSAGE_PERIOD_OF_USE))
                        .and_then(|e| e.get("valuePeriod"))
                });
                let date = self.event_date(&[
                    ("MedicationRequest.authoredOn", r.get("authoredOn")),
                    (
                        "MedicationRequest.dosageInstruction.extension.valuePeriod.start",
                        use_period.and_then(|p| p.get("start")),
                    ),
                ])?;
                let end = self.end_date(
                    "MedicationRequest.dosageInstruction.extension.valuePeriod.end",
                    use_period.and_then(|p| p.get("end")),
                );
                quantity = r.get("dispenseRequest").and_then(|d| d.get("quantity"));
                (EventKind::Prescription, date, end, self.medication_codes(r))
            }
            "MedicationDispense" => {
                let date = self.event_date(&[
                    ("MedicationDispense.whenHandedOver", r.get("whenHandedOver")),
                    ("MedicationDispense.whenPrepared", r.get("whenPrepared")),
                ])?;
                quantity = r.get("quantity");
                (EventKind::Dispensing, date, None, self.medication_codes(r))
            }
            "Procedure" => {
                let kind = tagged_kind.unwrap_or(EventKind::Procedure);
                let period = r.get("performedPeriod");
                let date = self.event_date(&[
                    ("Procedure.performedDateTime", r.get("performedDateTime")),
                    (
                        "Procedure.performedPeriod.start",
                        period.and_then(|p| p.get("start")),
                    ),
                ])?;
                let end = self.end_date(
                    "Procedure.performedPeriod.end",
                    period.and_then(|p| p.get("end")),
                );
                (kind, date, end, opt_vec(r.get("code")))
            }
            "Immunization" => {
                let date = self.event_date(&[
                    (
                        "Immunization.occurrenceDateTime",
                        r.get("occurrenceDateTime"),
                    ),
                    ("Immunization.occurrenceString", r.get("occurrenceString")),
                    ("Immunization.recorded", r.get("recorded")),
                ])?;
                quantity = r.get("doseQuantity");
                (
                    EventKind::Immunization,
                    date,
                    None,
                    opt_vec(r.get("vaccineCode")),
                )
            }
            _ => {
                // AllergyIntolerance (the only remaining known type).
                let date = self.event_date(&[
                    ("AllergyIntolerance.onsetDateTime", r.get("onsetDateTime")),
                    (
                        "AllergyIntolerance.onsetPeriod.start",
                        r.get("onsetPeriod").and_then(|p| p.get("start")),
                    ),
                    ("AllergyIntolerance.recordedDate", r.get("recordedDate")),
                ])?;
                (EventKind::Allergy, date, None, opt_vec(r.get("code")))
            }
        };
        let extensions = items(r.get("extension"));
        let ext = |url: &str| {
            extensions
                .iter()
                .find(|e| str_of(e.get("url")) == Some(url))
        };
        if quantity.is_none() {
            quantity = ext(shape::EXT_QUANTITY).and_then(|e| e.get("valueQuantity"));
        }
        if end_date.is_none() {
            let end = ext(shape::EXT_END_DATE).and_then(|e| e.get("valueDate"));
            end_date = self.end_date("extension.valueDate", end);
        }
        Some(Event {
            kind,
            date,
            end_date,
            code: best_code(&code_sources, kind),
            value: quantity
                .and_then(|q| q.get("value"))
                .and_then(Value::as_f64),
            unit: quantity
                .and_then(|q| str_of(q.get("unit")))
                .map(str::to_owned),
        })
    }

    fn encounter_class(&mut self, r: &Value) -> EncounterClass {
        // R4: a Coding; tolerate a CodeableConcept (or a list of them, as in R5).
        let class = r.get("class").map(|c| match c {
            Value::Array(a) => a.first().unwrap_or(c),
            _ => c,
        });
        let code = class.and_then(|c| {
            str_of(c.get("code")).or_else(|| {
                items(c.get("coding"))
                    .iter()
                    .find_map(|coding| str_of(coding.get("code")))
            })
        });
        match code {
            Some("AMB" | "VR" | "OBSENC" | "FLD" | "SS") => EncounterClass::Outpatient,
            Some("IMP" | "ACUTE" | "NONAC" | "PRENC") => EncounterClass::Inpatient,
            Some("EMER") => EncounterClass::Emergency,
            Some("HH") => EncounterClass::Home,
            _ => {
                self.warn(FhirError::UnmappedCode, "Encounter.class");
                EncounterClass::Outpatient
            }
        }
    }

    /// `medicationCodeableConcept`, or the code of the Medication `medicationReference` names.
    fn medication_codes(&self, r: &'a Value) -> Vec<&'a Value> {
        if let Some(c) = r.get("medicationCodeableConcept") {
            return vec![c];
        }
        r.get("medicationReference")
            .and_then(|reference| self.resolve(r, reference))
            .and_then(|m| m.get("code"))
            .into_iter()
            .collect()
    }
}

fn opt_vec(v: Option<&Value>) -> Vec<&Value> {
    v.into_iter().collect()
}

/// Arrays as slices; a lone object as a one-element slice (lenient); anything else empty.
fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        Some(o @ Value::Object(_)) => std::slice::from_ref(o),
        _ => &[],
    }
}

/// A non-empty string value.
fn str_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn entered_in_error(r: &Value) -> bool {
    str_of(r.get("status")) == Some("entered-in-error")
        || r.get("verificationStatus").is_some_and(|vs| {
            items(vs.get("coding"))
                .iter()
                .any(|c| str_of(c.get("code")) == Some("entered-in-error"))
        })
}

/// The kind a `urn:tsumugi:event-kind` category coding names.
fn event_kind_category(r: &Value) -> Option<EventKind> {
    items(r.get("category")).iter().find_map(|cat| {
        items(cat.get("coding")).iter().find_map(|c| {
            (str_of(c.get("system")) == Some(EVENT_KIND_SYSTEM))
                .then(|| str_of(c.get("code")).and_then(EventKind::parse))
                .flatten()
        })
    })
}

/// Observation without a tsumugi kind: `vital-signs` → vital, anything else → lab result.
fn observation_kind(r: &Value) -> EventKind {
    let vital = items(r.get("category")).iter().any(|cat| {
        items(cat.get("coding"))
            .iter()
            .any(|c| str_of(c.get("code")) == Some("vital-signs"))
    });
    if vital {
        EventKind::Vital
    } else {
        EventKind::LabResult
    }
}

/// Preference of a coding for an event of `kind`; lower is better.
///
/// Order: the kind's own systems (diagnosis: ICD-10, MEDIS; drugs: HOT9, YJ, receipt drug;
/// labs and checkups: JLAC10, 特定健診 item; procedures: receipt procedure; care: service,
/// level), then every other known system in [`CodeSystem::KNOWN`], then unknown systems in source
/// order. Ties keep source order.
fn code_rank(system: &CodeSystem, kind: EventKind) -> usize {
    let preferred: &[CodeSystem] = match kind {
        EventKind::Diagnosis => &[CodeSystem::Icd10, CodeSystem::MedisDisease],
        EventKind::Prescription | EventKind::Dispensing => {
            &[CodeSystem::Hot9, CodeSystem::Yj, CodeSystem::ReceiptDrug]
        }
        EventKind::Immunization => &[CodeSystem::Vaccine, CodeSystem::Hot9, CodeSystem::Yj],
        EventKind::LabResult
        | EventKind::Vital
        | EventKind::Checkup
        | EventKind::PregnancyCheckup
        | EventKind::InfantCheckup => &[CodeSystem::Jlac10, CodeSystem::KenshinItem],
        EventKind::Procedure => &[CodeSystem::ReceiptProcedure],
        EventKind::CareService => &[CodeSystem::CareService],
        EventKind::CareCertification => &[CodeSystem::CareLevel],
        EventKind::Encounter(_) | EventKind::Allergy | EventKind::Birth | EventKind::Death => &[],
    };
    if let Some(i) = preferred.iter().position(|s| s == system) {
        return i;
    }
    match CodeSystem::KNOWN.iter().position(|s| s == system) {
        Some(i) => 100 + i,
        None => 1000,
    }
}

/// The best coding of some CodeableConcepts (see [`code_rank`]).
fn best_code(concepts: &[&Value], kind: EventKind) -> Option<Code> {
    let mut best: Option<(usize, Code)> = None;
    for concept in concepts {
        for coding in items(concept.get("coding")) {
            let (Some(system), Some(value)) =
                (str_of(coding.get("system")), str_of(coding.get("code")))
            else {
                continue;
            };
            if system == shape::DATA_ABSENT_REASON || system == EVENT_KIND_SYSTEM {
                continue;
            }
            let system = code_system_from_uri(system);
            let rank = code_rank(&system, kind);
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, Code::new(system, value)));
            }
        }
    }
    best.map(|(_, code)| code)
}

fn join_given(v: Option<&Value>) -> Option<String> {
    let parts: Vec<&str> = match v {
        Some(Value::Array(a)) => a.iter().filter_map(|g| str_of(Some(g))).collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.as_str()],
        _ => Vec::new(),
    };
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `"牧野 爛漫"` → family and given, split at the first (half- or full-width) space.
fn split_text(text: &str) -> (Option<String>, Option<String>) {
    let text = text.trim();
    match text.split_once([' ', '\u{3000}']) {
        Some((family, given)) => {
            let given = given.trim();
            (
                Some(family.to_owned()).filter(|f| !f.is_empty()),
                Some(given.to_owned()).filter(|g| !g.is_empty()),
            )
        }
        None => (Some(text.to_owned()).filter(|t| !t.is_empty()), None),
    }
}

/// Whether a name without representation extension is a kana reading: every character is kana
/// (hiragana, katakana, half-width katakana, ー, ・) or a space, and there is at least one.
fn is_kana(family: Option<&str>, given: Option<&str>) -> bool {
    let chars = || family.into_iter().chain(given).flat_map(str::chars);
    let kana = |c: char| matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{FF65}'..='\u{FF9F}');
    chars().any(kana) && chars().all(|c| kana(c) || c == ' ' || c == '\u{3000}')
}

fn set_name(name: &mut PersonName, kana: bool, family: Option<String>, given: Option<String>) {
    if kana {
        name.family_kana = family;
        name.given_kana = given;
    } else {
        name.family_kanji = family;
        name.given_kanji = given;
    }
}

fn address(a: &Value) -> Option<Address> {
    let municipality_code = items(a.get("extension"))
        .iter()
        .find(|e| str_of(e.get("url")) == Some(shape::ADDRESS_CITY_CODE))
        .and_then(|e| {
            str_of(e.get("valueCode"))
                .or_else(|| str_of(e.get("valueString")))
                .or_else(|| str_of(e.get("valueCoding").and_then(|c| c.get("code"))))
        })
        .map(str::to_owned);
    let text = str_of(a.get("text")).map(str::to_owned).or_else(|| {
        // No text: the parts in Japanese order (prefecture, city, district, lines).
        let parts: Vec<&str> = ["state", "city", "district"]
            .into_iter()
            .filter_map(|k| str_of(a.get(k)))
            .chain(items(a.get("line")).iter().filter_map(|l| str_of(Some(l))))
            .collect();
        (!parts.is_empty()).then(|| parts.concat())
    });
    let out = Address {
        postal_code: str_of(a.get("postalCode")).map(str::to_owned),
        text,
        municipality_code,
    };
    (out != Address::default()).then_some(out)
}

enum ParsedDate {
    Exact(Date),
    /// `YYYY-MM`: the first day of the month.
    Month(Date),
    Invalid,
}

/// FHIR `date` / `dateTime` → JST calendar date. A dateTime with an offset is moved to +09:00;
/// without one its date part is taken as written. Other spellings go through
/// [`wareki::parse_date`] (和暦 accepted).
fn parse_fhir_date(text: &str) -> ParsedDate {
    let text = text.trim();
    if text.contains('T')
        && let (Ok(dt), Some(jst)) = (
            chrono::DateTime::parse_from_rfc3339(text),
            FixedOffset::east_opt(9 * 3600),
        )
    {
        return ParsedDate::Exact(dt.with_timezone(&jst).date_naive());
    }
    let day = text.split('T').next().unwrap_or(text);
    if let Ok(d) = wareki::parse_date(day) {
        return ParsedDate::Exact(d);
    }
    if day.len() == 7
        && day.as_bytes().get(4) == Some(&b'-')
        && let (Some(Ok(y)), Some(Ok(m))) = (
            day.get(..4).map(str::parse::<i32>),
            day.get(5..).map(str::parse::<u32>),
        )
        && let Some(d) = NaiveDate::from_ymd_opt(y, m, 1)
    {
        return ParsedDate::Month(d);
    }
    ParsedDate::Invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_date(input: &str, expect: &str) {
        let got = match parse_fhir_date(input) {
            ParsedDate::Exact(d) => d.to_string(),
            ParsedDate::Month(d) => format!("month {d}"),
            ParsedDate::Invalid => "invalid".into(),
        };
        assert_eq!(got, expect, "input {input:?}");
    }

    #[test]
    fn fhir_dates() {
        check_date("2021-07-05", "2021-07-05");
        check_date("2021-07-05T11:19:41+09:00", "2021-07-05");
        check_date("2021-07-04T20:00:00Z", "2021-07-05");
        check_date("2021-07-05T11:19", "2021-07-05");
        check_date("2021-07", "month 2021-07-01");
        check_date("令和3年7月5日", "2021-07-05");
        check_date("2021", "invalid");
        check_date("2021-02-30", "invalid");
        check_date("ñ-ñ", "invalid");
        check_date("1234567", "invalid");
    }

    #[test]
    fn kana_detection() {
        assert!(is_kana(Some("マキノ"), Some("ランマン")));
        assert!(is_kana(Some("まきの"), None));
        assert!(is_kana(Some("ﾏｷﾉ"), Some("ﾗﾝﾏﾝ")));
        assert!(!is_kana(Some("牧野"), Some("ランマン")));
        assert!(!is_kana(None, None));
    }

    #[test]
    fn text_split() {
        assert_eq!(
            split_text("牧野 爛漫"),
            (Some("牧野".into()), Some("爛漫".into()))
        );
        assert_eq!(
            split_text("牧野\u{3000}爛漫"),
            (Some("牧野".into()), Some("爛漫".into()))
        );
        assert_eq!(split_text("牧野"), (Some("牧野".into()), None));
    }

    #[test]
    fn icd10_preferred_for_conditions() {
        let concept = serde_json::json!({ "coding": [
            { "system": "http://medis.or.jp/CodeSystem/master-disease-exCode", "code": "ABCD" },
            { "system": "urn:x", "code": "1" },
            { "system": "http://hl7.org/fhir/sid/icd-10", "code": "K26.9" },
        ]});
        let got = best_code(&[&concept], EventKind::Diagnosis);
        assert_eq!(got, Some(Code::new(CodeSystem::Icd10, "K26.9")));
        let other = serde_json::json!({ "coding": [{ "system": "urn:x", "code": "1" }] });
        assert_eq!(
            best_code(&[&other], EventKind::Diagnosis),
            Some(Code::new(CodeSystem::Other("urn:x".into()), "1"))
        );
    }
}
