//! Canonical lifecourse events: the research-store vocabulary every reader maps into.

use serde::{Deserialize, Serialize};

use crate::Date;

/// The code systems tsumugi keeps as they came (never translated on ingest).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeSystem {
    /// ICD-10 (WHO / 厚労省 ICD-10 2013).
    Icd10,
    /// MEDIS 標準病名マスター 病名交換用コード.
    MedisDisease,
    /// JLAC10 臨床検査項目コード (17 characters).
    Jlac10,
    /// 特定健診 項目コード (17 characters, JLAC10-based).
    KenshinItem,
    /// HOT9 医薬品コード.
    Hot9,
    /// YJ コード (個別医薬品コード).
    Yj,
    /// レセプト電算処理システム 診療行為コード (9 digits).
    ReceiptProcedure,
    /// レセプト電算処理システム 医薬品コード (9 digits).
    ReceiptDrug,
    /// 介護給付費 サービスコード (6 digits).
    CareService,
    /// 要介護状態区分 (要支援1-2, 要介護1-5 as `S1`,`S2`,`K1`…`K5`).
    CareLevel,
    /// 予防接種 vaccine code.
    Vaccine,
    /// Any other system, by its URI or name.
    Other(String),
}

impl CodeSystem {
    /// Every named system (all but [`CodeSystem::Other`]), in a fixed order: diagnoses, labs,
    /// drugs, procedures, care, vaccines.
    pub const KNOWN: [CodeSystem; 11] = [
        CodeSystem::Icd10,
        CodeSystem::MedisDisease,
        CodeSystem::Jlac10,
        CodeSystem::KenshinItem,
        CodeSystem::Hot9,
        CodeSystem::Yj,
        CodeSystem::ReceiptProcedure,
        CodeSystem::ReceiptDrug,
        CodeSystem::CareService,
        CodeSystem::CareLevel,
        CodeSystem::Vaccine,
    ];

    /// The stable name stored in the research store.
    pub fn as_str(&self) -> &str {
        match self {
            CodeSystem::Icd10 => "icd10",
            CodeSystem::MedisDisease => "medis_disease",
            CodeSystem::Jlac10 => "jlac10",
            CodeSystem::KenshinItem => "kenshin_item",
            CodeSystem::Hot9 => "hot9",
            CodeSystem::Yj => "yj",
            CodeSystem::ReceiptProcedure => "receipt_procedure",
            CodeSystem::ReceiptDrug => "receipt_drug",
            CodeSystem::CareService => "care_service",
            CodeSystem::CareLevel => "care_level",
            CodeSystem::Vaccine => "vaccine",
            CodeSystem::Other(s) => s,
        }
    }

    /// The inverse of [`CodeSystem::as_str`]; unknown names become [`CodeSystem::Other`].
    pub fn parse(s: &str) -> CodeSystem {
        match s {
            "icd10" => CodeSystem::Icd10,
            "medis_disease" => CodeSystem::MedisDisease,
            "jlac10" => CodeSystem::Jlac10,
            "kenshin_item" => CodeSystem::KenshinItem,
            "hot9" => CodeSystem::Hot9,
            "yj" => CodeSystem::Yj,
            "receipt_procedure" => CodeSystem::ReceiptProcedure,
            "receipt_drug" => CodeSystem::ReceiptDrug,
            "care_service" => CodeSystem::CareService,
            "care_level" => CodeSystem::CareLevel,
            "vaccine" => CodeSystem::Vaccine,
            other => CodeSystem::Other(other.to_owned()),
        }
    }
}

/// A coded value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Code {
    /// The system the code belongs to.
    pub system: CodeSystem,
    /// The code itself, as the source wrote it.
    pub value: String,
}

impl Code {
    /// Shorthand constructor.
    pub fn new(system: CodeSystem, value: impl Into<String>) -> Code {
        Code {
            system,
            value: value.into(),
        }
    }
}

/// Outpatient or inpatient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncounterClass {
    /// 外来
    Outpatient,
    /// 入院
    Inpatient,
    /// 救急
    Emergency,
    /// 在宅・訪問
    Home,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A visit or a stay (`end_date` is the discharge date for a stay).
    Encounter(EncounterClass),
    /// A diagnosis (傷病名).
    Diagnosis,
    /// A laboratory result.
    LabResult,
    /// A vital sign or body measurement.
    Vital,
    /// A prescription (処方).
    Prescription,
    /// A dispensing at a pharmacy (調剤).
    Dispensing,
    /// A procedure (診療行為・手術).
    Procedure,
    /// A vaccination.
    Immunization,
    /// An allergy or intolerance.
    Allergy,
    /// One item of a 特定健診 checkup.
    Checkup,
    /// One item of a 妊婦健診 pregnancy checkup.
    PregnancyCheckup,
    /// A birth (the event belongs to the mother; the child's own record starts at birth).
    Birth,
    /// One item of a 乳幼児健診 infant checkup.
    InfantCheckup,
    /// 要介護認定: the care level in `code`.
    CareCertification,
    /// A long-term-care service (`value` is the units).
    CareService,
    /// Death.
    Death,
}

impl EventKind {
    /// Every kind, in a fixed order (encounter classes included).
    pub const ALL: [EventKind; 19] = [
        EventKind::Encounter(EncounterClass::Outpatient),
        EventKind::Encounter(EncounterClass::Inpatient),
        EventKind::Encounter(EncounterClass::Emergency),
        EventKind::Encounter(EncounterClass::Home),
        EventKind::Diagnosis,
        EventKind::LabResult,
        EventKind::Vital,
        EventKind::Prescription,
        EventKind::Dispensing,
        EventKind::Procedure,
        EventKind::Immunization,
        EventKind::Allergy,
        EventKind::Checkup,
        EventKind::PregnancyCheckup,
        EventKind::Birth,
        EventKind::InfantCheckup,
        EventKind::CareCertification,
        EventKind::CareService,
        EventKind::Death,
    ];

    /// The stable name stored in the research store.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Encounter(EncounterClass::Outpatient) => "encounter_outpatient",
            EventKind::Encounter(EncounterClass::Inpatient) => "encounter_inpatient",
            EventKind::Encounter(EncounterClass::Emergency) => "encounter_emergency",
            EventKind::Encounter(EncounterClass::Home) => "encounter_home",
            EventKind::Diagnosis => "diagnosis",
            EventKind::LabResult => "lab_result",
            EventKind::Vital => "vital",
            EventKind::Prescription => "prescription",
            EventKind::Dispensing => "dispensing",
            EventKind::Procedure => "procedure",
            EventKind::Immunization => "immunization",
            EventKind::Allergy => "allergy",
            EventKind::Checkup => "checkup",
            EventKind::PregnancyCheckup => "pregnancy_checkup",
            EventKind::Birth => "birth",
            EventKind::InfantCheckup => "infant_checkup",
            EventKind::CareCertification => "care_certification",
            EventKind::CareService => "care_service",
            EventKind::Death => "death",
        }
    }

    /// The inverse of [`EventKind::as_str`].
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One canonical lifecourse event. It holds no identifier: who it belongs to is kept beside it
/// as an opaque key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// When it happened (start date for stays).
    pub date: crate::Date,
    /// When it ended, for stays and courses.
    pub end_date: Option<Date>,
    /// The coded content: diagnosis, analyte, drug, procedure, service …
    pub code: Option<Code>,
    /// A numeric result, dose or count.
    pub value: Option<f64>,
    /// The unit of `value` (UCUM or the source's Japanese unit).
    pub unit: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn code_system_names_round_trip() {
        for s in ["icd10", "jlac10", "hot9", "care_level", "urn:oid:1.2.3"] {
            assert_eq!(CodeSystem::parse(s).as_str(), s);
        }
    }
}
