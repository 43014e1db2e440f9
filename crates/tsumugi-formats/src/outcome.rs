//! What a streaming reader yields per record.

use tsumugi_model::{Diagnostic, SourceRecord};

/// The result of reading one record, with the warnings raised while reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOutcome {
    /// 1-based record number within the file.
    pub record: u64,
    /// 1-based line where the record starts.
    pub line: Option<u64>,
    /// The record, or the error (severity [`tsumugi_model::Severity::Error`]) that rejected it.
    pub result: Result<SourceRecord, Diagnostic>,
    /// Findings about parts that were ignored or repaired (severity warning).
    pub warnings: Vec<Diagnostic>,
}
