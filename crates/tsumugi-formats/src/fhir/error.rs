//! Why a FHIR record, or part of one, was rejected: stable codes and bilingual reasons.
//!
//! No variant carries a value from the record: a value may be an identifier.

use thiserror::Error;
use tsumugi_model::{Diagnostic, Severity};

/// A FHIR reading fault. [`FhirError::code`] is stable; the `Display` text is the English
/// reason and [`FhirError::reason_ja`] the Japanese one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FhirError {
    /// The record is not valid JSON.
    #[error("record is not valid JSON")]
    InvalidJson,
    /// The record holds no Patient and no subject the reader can identify.
    #[error("record has no Patient")]
    NoPatient,
    /// A resource type the reader does not map; it was ignored.
    #[error("unsupported resource type ignored")]
    UnsupportedResource,
    /// A date did not parse.
    #[error("date does not parse")]
    InvalidDate,
    /// An event resource has no date.
    #[error("event has no date")]
    MissingDate,
    /// A coded element has a value the reader does not map; a default was used or it was ignored.
    #[error("unmapped code ignored or defaulted")]
    UnmappedCode,
    /// The record ends before its JSON value does.
    #[error("record is truncated")]
    Truncated,
    /// One line (or the one whole document) is over 64 MiB: not read, memory stays bounded.
    #[error("record is over 64 MiB (one NDJSON line or the whole document); not read")]
    TooLarge,
    /// The record is not UTF-8.
    #[error("record is not valid UTF-8")]
    InvalidUtf8,
    /// The JSON value is not a FHIR resource (no object with a `resourceType`).
    #[error("JSON value is not a FHIR resource")]
    NotAResource,
    /// A Bundle type other than transaction, collection, document, searchset or batch.
    #[error("unsupported Bundle type")]
    UnsupportedBundleType,
    /// More than one Patient in a record; the first was used.
    #[error("more than one Patient; the first was used")]
    MultiplePatients,
    /// A resource marked entered-in-error was ignored.
    #[error("resource entered in error ignored")]
    EnteredInError,
    /// A date with month precision only; the first day of the month was used.
    #[error("date has month precision only; first day used")]
    ImpreciseDate,
    /// The input could not be read.
    #[error("input could not be read")]
    Io,
}

impl FhirError {
    /// The stable machine code, e.g. `FHIR0001InvalidJson`.
    pub fn code(self) -> &'static str {
        match self {
            FhirError::InvalidJson => "FHIR0001InvalidJson",
            FhirError::NoPatient => "FHIR0002NoPatient",
            FhirError::UnsupportedResource => "FHIR0003UnsupportedResource",
            FhirError::InvalidDate => "FHIR0004InvalidDate",
            FhirError::MissingDate => "FHIR0005MissingDate",
            FhirError::UnmappedCode => "FHIR0006UnmappedCode",
            FhirError::Truncated => "FHIR0007Truncated",
            FhirError::InvalidUtf8 => "FHIR0008InvalidUtf8",
            FhirError::NotAResource => "FHIR0009NotAResource",
            FhirError::UnsupportedBundleType => "FHIR0010UnsupportedBundleType",
            FhirError::MultiplePatients => "FHIR0011MultiplePatients",
            FhirError::EnteredInError => "FHIR0012EnteredInError",
            FhirError::ImpreciseDate => "FHIR0013ImpreciseDate",
            FhirError::Io => "FHIR0014Io",
            FhirError::TooLarge => "FHIR0015TooLarge",
        }
    }

    /// The reason in Japanese.
    pub fn reason_ja(self) -> &'static str {
        match self {
            FhirError::InvalidJson => "レコードが正しいJSONではありません",
            FhirError::NoPatient => "レコードに患者（Patient）がありません",
            FhirError::UnsupportedResource => "未対応のリソース型のため無視しました",
            FhirError::InvalidDate => "日付を解釈できません",
            FhirError::MissingDate => "イベントに日付がありません",
            FhirError::UnmappedCode => "対応付けできないコードを無視または既定値にしました",
            FhirError::Truncated => "レコードが途中で切れています",
            FhirError::InvalidUtf8 => "レコードがUTF-8ではありません",
            FhirError::NotAResource => "JSONがFHIRリソースではありません",
            FhirError::UnsupportedBundleType => "未対応のBundle種別です",
            FhirError::MultiplePatients => "患者（Patient）が複数あるため先頭を使用しました",
            FhirError::EnteredInError => "誤入力（entered-in-error）のリソースを無視しました",
            FhirError::ImpreciseDate => "日付が年月までのため月初日を使用しました",
            FhirError::Io => "入力を読み取れません",
            FhirError::TooLarge => {
                "レコードが64 MiBを超えるため読みません（NDJSONの1行または文書全体）"
            }
        }
    }

    /// Whether the fault rejects the record (otherwise it is a warning).
    pub fn severity(self) -> Severity {
        match self {
            FhirError::InvalidJson
            | FhirError::NoPatient
            | FhirError::Truncated
            | FhirError::TooLarge
            | FhirError::InvalidUtf8
            | FhirError::NotAResource
            | FhirError::UnsupportedBundleType
            | FhirError::Io => Severity::Error,
            FhirError::UnsupportedResource
            | FhirError::InvalidDate
            | FhirError::MissingDate
            | FhirError::UnmappedCode
            | FhirError::MultiplePatients
            | FhirError::EnteredInError
            | FhirError::ImpreciseDate => Severity::Warning,
        }
    }
}

/// Where a finding is: file, record and line.
#[derive(Debug, Clone)]
pub(crate) struct Location<'a> {
    pub(crate) file: &'a str,
    pub(crate) record: u64,
    pub(crate) line: Option<u64>,
}

impl Location<'_> {
    /// The diagnostic for `err` at this location, about `field` (a path, never a value).
    pub(crate) fn diagnostic(&self, err: FhirError, field: Option<String>) -> Diagnostic {
        Diagnostic {
            file: self.file.to_owned(),
            record: self.record,
            line: self.line,
            field,
            code: err.code().to_owned(),
            reason_ja: err.reason_ja().to_owned(),
            reason_en: err.to_string(),
            severity: err.severity(),
        }
    }
}
