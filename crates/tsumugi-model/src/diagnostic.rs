//! Per-record findings of readers and of the ingest path.

use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The record was kept; something in it was ignored or repaired.
    Warning,
    /// The record was rejected.
    Error,
}

/// A finding about one record of one file.
///
/// It names where (file, record number, line, field) and why (a stable code and a reason in
/// Japanese and English). It never carries the offending value: a value may be an identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The file as named in the submission.
    pub file: String,
    /// 1-based record number within the file (a Bundle, an NDJSON line, a UKE RE block …).
    pub record: u64,
    /// 1-based line where the record starts, when the format has lines.
    pub line: Option<u64>,
    /// The field path, e.g. `Patient.birthDate`, when one field is at fault.
    pub field: Option<String>,
    /// Stable machine code, e.g. `FHIR0002InvalidJson`.
    pub code: String,
    /// Reason in Japanese.
    pub reason_ja: String,
    /// Reason in English.
    pub reason_en: String,
    /// Whether the record was rejected.
    pub severity: Severity,
}
