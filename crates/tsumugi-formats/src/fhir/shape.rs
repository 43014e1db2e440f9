//! URIs of the JP Core / tsumugi elements the writer emits and the reader looks for.
//!
//! Sources: JP Core `aliases-jpcore.fsh` (jami-fhir-jp-wg/jp-core-v1x) for the Coverage and
//! dosage extensions; the JAMI CLINS IG OID→URL table for the 保険者番号 id system; the eCS
//! examples in `tests/fixtures/ecs_fhir_json/` for the patient-number OID pattern and the
//! `JP_Insurance_memberID` identifier.

/// HumanName representation extension (`IDE` kanji, `SYL` kana, `ABC` alphabetic).
pub(crate) const EN_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

/// 医療機関患者番号: this prefix, then `1`, then the 10-digit 医療機関コード.
pub(crate) const PATIENT_ID_OID_PREFIX: &str = "urn:oid:1.2.392.100495.20.3.51.";

/// eCS 被保険者個人識別子 (`保険者番号:記号:番号:枝番`); the reader accepts any letter case.
pub(crate) const INSURANCE_MEMBER_ID: &str =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";

/// Municipality code on `Address`. Not confirmed in JP Core (no such extension was found in the
/// JP Core sources); this is the JP Core naming pattern, documented as tsumugi's choice.
pub(crate) const ADDRESS_CITY_CODE: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Address_CityCode";

/// JP Core Coverage 被保険者証記号.
pub(crate) const COVERAGE_SYMBOL: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonSymbol";
/// JP Core Coverage 被保険者証番号.
pub(crate) const COVERAGE_NUMBER: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonNumber";
/// JP Core Coverage 被保険者証枝番.
pub(crate) const COVERAGE_BRANCH: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonSubNumber";

/// 保険者番号 id system, URL form (written).
pub(crate) const INSURER_NUMBER: &str = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber";
/// 保険者番号 id system, OID form (accepted).
pub(crate) const INSURER_NUMBER_OID: &str = "urn:oid:1.2.392.100495.20.3.61";
/// JP Core Organization 保険者番号 extension (accepted on a payor Organization).
pub(crate) const ORGANIZATION_INSURER_NO: &str = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationNo";

/// JP Core dosage period of use (carries a prescription's course end).
pub(crate) const DOSAGE_PERIOD_OF_USE: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_MedicationDosage_PeriodOfUse";

/// tsumugi extension: an event's numeric value where the resource has no natural quantity.
pub(crate) const EXT_QUANTITY: &str = "urn:tsumugi:extension:quantity";
/// tsumugi extension: an event's end date where the resource has no natural period.
pub(crate) const EXT_END_DATE: &str = "urn:tsumugi:extension:end-date";

/// Identifier system of the Bundle id the writer was given.
pub(crate) const BUNDLE_ID_SYSTEM: &str = "urn:tsumugi:bundle-id";

/// FHIR observation categories.
pub(crate) const OBSERVATION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/observation-category";

/// v3 ActCode (Encounter.class).
pub(crate) const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

/// Coding used where FHIR requires a code the event lacks; the reader ignores it.
pub(crate) const DATA_ABSENT_REASON: &str =
    "http://terminology.hl7.org/CodeSystem/data-absent-reason";
