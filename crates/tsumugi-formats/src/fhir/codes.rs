//! The one table mapping [`CodeSystem`] to FHIR `Coding.system` URIs and back.
//!
//! The writer emits the canonical URI of each system; the reader also accepts the older OID
//! forms and the variants seen in eCS/CLINS files. Sources (checked, not guessed):
//!
//! - JP Core `input/fsh/aliases-jpcore.fsh` (jami-fhir-jp-wg/jp-core-v1x, commit
//!   `024f6264b102d8bf66a9dd424073471cd5273852`): ICD10-2013-full, `master-disease-exCode`
//!   (OID `1.2.392.200119.4.101.6`), `master-HOT9` (OID `1.2.392.200119.4.403.1`),
//!   `master-JLAC10-17digits` (OID `1.2.392.200119.4.504`), `YJ-code`, `masterS-medicalProcedure`.
//! - The JAMI CLINS IG change log table "コード表のsystem値の変更表（OID形式→URL形式） V1.5.0":
//!   HOT9 is also `urn:oid:1.2.392.100495.20.2.74`, YJ is `urn:oid:1.2.392.100495.20.2.73`,
//!   レセ電算医薬品マスター is `urn:oid:1.2.392.100495.20.2.71` (no URL form assigned yet).
//! - The eCS example files in `tests/fixtures/ecs_fhir_json/` use the JLAC10 "CoreLabo" system
//!   `http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS`.
//!
//! Systems with no public URI (特定健診 item codes, 介護 service codes, care levels, vaccine
//! codes) use `urn:tsumugi:code-system:<name>` with the model's stable name.

use std::borrow::Cow;

use tsumugi_model::CodeSystem;

/// Category system carrying [`tsumugi_model::EventKind::as_str`] on resources whose kind has no
/// natural FHIR resource.
pub(crate) const EVENT_KIND_SYSTEM: &str = "urn:tsumugi:event-kind";

/// Prefix of the URIs of systems that have no public URI.
const TSUMUGI_SYSTEM_PREFIX: &str = "urn:tsumugi:code-system:";

/// `(system, URI written, further URIs accepted when reading)`.
const TABLE: &[(CodeSystem, &str, &[&str])] = &[
    (
        CodeSystem::Icd10,
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full",
        &[
            "http://hl7.org/fhir/sid/icd-10",
            "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-3digits",
            "http://jpfhir.jp/fhir/core/CodeSystem/icd-10",
            "urn:oid:2.16.840.1.113883.6.3",
        ],
    ),
    (
        CodeSystem::MedisDisease,
        "http://medis.or.jp/CodeSystem/master-disease-exCode",
        &["urn:oid:1.2.392.200119.4.101.6"],
    ),
    (
        CodeSystem::Jlac10,
        "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
        &["urn:oid:1.2.392.200119.4.504"],
    ),
    (
        CodeSystem::KenshinItem,
        "urn:tsumugi:code-system:kenshin_item",
        &[],
    ),
    (
        CodeSystem::Hot9,
        "http://medis.or.jp/CodeSystem/master-HOT9",
        &[
            "urn:oid:1.2.392.200119.4.403.1",
            "urn:oid:1.2.392.100495.20.2.74",
        ],
    ),
    (
        CodeSystem::Yj,
        "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
        &[
            "urn:oid:1.2.392.100495.20.2.73",
            "urn:oid:1.2.392.100495.20.1.73",
        ],
    ),
    (
        CodeSystem::ReceiptProcedure,
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/masterS-medicalProcedure",
        &[],
    ),
    (
        CodeSystem::ReceiptDrug,
        "urn:oid:1.2.392.100495.20.2.71",
        &[],
    ),
    (
        CodeSystem::CareService,
        "urn:tsumugi:code-system:care_service",
        &[],
    ),
    (
        CodeSystem::CareLevel,
        "urn:tsumugi:code-system:care_level",
        &[],
    ),
    (CodeSystem::Vaccine, "urn:tsumugi:code-system:vaccine", &[]),
];

/// URI prefixes that identify a system regardless of the rest of the URI.
const PREFIXES: &[(&str, CodeSystem)] = &[
    // eCS/CLINS JLAC10 subsets, e.g. `.../JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS`.
    (
        "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/",
        CodeSystem::Jlac10,
    ),
];

/// The `Coding.system` URI the writer emits for `system`.
///
/// [`CodeSystem::Other`] is written as it came (it holds the source URI).
pub fn system_uri(system: &CodeSystem) -> Cow<'_, str> {
    if let CodeSystem::Other(uri) = system {
        return Cow::Borrowed(uri.as_str());
    }
    match TABLE.iter().find(|(s, _, _)| s == system) {
        Some((_, uri, _)) => Cow::Borrowed(uri),
        // Every non-`Other` variant is in TABLE (a unit test checks it); this arm keeps the
        // function total if the model grows a variant before the table does.
        None => Cow::Owned(format!("{TSUMUGI_SYSTEM_PREFIX}{}", system.as_str())),
    }
}

/// The [`CodeSystem`] a `Coding.system` URI names; unknown URIs become [`CodeSystem::Other`].
pub fn code_system_from_uri(uri: &str) -> CodeSystem {
    let uri = uri.trim();
    for (system, canonical, accepted) in TABLE {
        if *canonical == uri || accepted.contains(&uri) {
            return system.clone();
        }
    }
    for (prefix, system) in PREFIXES {
        if uri.starts_with(prefix) {
            return system.clone();
        }
    }
    if is_jpfhir_icd10(uri) {
        return CodeSystem::Icd10;
    }
    if let Some(name) = uri.strip_prefix(TSUMUGI_SYSTEM_PREFIX) {
        return CodeSystem::parse(name);
    }
    CodeSystem::Other(uri.to_owned())
}

/// `jpfhir.jp` spells ICD-10 in several ways (`ICD10-2013-full`, `icd-10`, `icd10` …).
fn is_jpfhir_icd10(uri: &str) -> bool {
    if !uri.starts_with("http://jpfhir.jp/") {
        return false;
    }
    let last = uri
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    last.starts_with("icd10") || last.starts_with("icd-10")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(uri: &str, expect: CodeSystem) {
        assert_eq!(code_system_from_uri(uri), expect, "uri {uri}");
    }

    #[test]
    fn every_known_system_round_trips() {
        for (system, _, accepted) in TABLE {
            check(&system_uri(system), system.clone());
            for uri in *accepted {
                check(uri, system.clone());
            }
        }
        for system in CodeSystem::KNOWN {
            assert!(TABLE.iter().any(|(s, _, _)| *s == system), "{system:?}");
        }
    }

    #[test]
    fn variants_seen_in_real_files() {
        check(
            "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS",
            CodeSystem::Jlac10,
        );
        check("http://hl7.org/fhir/sid/icd-10", CodeSystem::Icd10);
        check(
            "http://jpfhir.jp/fhir/core/CodeSystem/icd-10",
            CodeSystem::Icd10,
        );
        check(
            "http://jpfhir.jp/fhir/core/CodeSystem/ICD10",
            CodeSystem::Icd10,
        );
        check("urn:oid:1.2.392.100495.20.2.74", CodeSystem::Hot9);
        check(
            "http://medis.or.jp/CodeSystem/master-disease-keyNumber",
            CodeSystem::Other("http://medis.or.jp/CodeSystem/master-disease-keyNumber".into()),
        );
        check(
            "http://hl7.org/fhir/sid/icd-10-cm",
            CodeSystem::Other("http://hl7.org/fhir/sid/icd-10-cm".into()),
        );
        check("urn:tsumugi:code-system:care_level", CodeSystem::CareLevel);
    }

    #[test]
    fn other_is_written_as_it_came() {
        let other = CodeSystem::Other("urn:oid:1.2.3".into());
        assert_eq!(system_uri(&other), "urn:oid:1.2.3");
        check("urn:oid:1.2.3", other);
    }
}
