//! Building [`Diagnostic`]s for the readers that share one shape of error enum.

use tsumugi_model::{Diagnostic, Severity};

use crate::RecordOutcome;

/// A reading fault with a stable code and reasons in both languages.
pub(crate) trait Fault: std::fmt::Display + Copy {
    /// The stable machine code.
    fn code(self) -> &'static str;
    /// The reason in Japanese.
    fn reason_ja(self) -> &'static str;
    /// Whether the fault rejects the record.
    fn severity(self) -> Severity;
}

/// Where a finding is.
#[derive(Debug, Clone)]
pub(crate) struct Where<'a> {
    pub(crate) file: &'a str,
    pub(crate) record: u64,
    pub(crate) line: Option<u64>,
}

impl Where<'_> {
    /// The diagnostic for `fault` here, about `field` (a name or path, never a value).
    pub(crate) fn diag<F: Fault>(&self, fault: F, field: Option<&str>) -> Diagnostic {
        Diagnostic {
            file: self.file.to_owned(),
            record: self.record,
            line: self.line,
            field: field.map(str::to_owned),
            code: fault.code().to_owned(),
            reason_ja: fault.reason_ja().to_owned(),
            reason_en: fault.to_string(),
            severity: fault.severity(),
        }
    }
}

/// Sets the record number of `o` and of every diagnostic in it.
pub(crate) fn renumber(o: &mut RecordOutcome, record: u64) {
    o.record = record;
    if let Err(d) = &mut o.result {
        d.record = record;
    }
    for w in &mut o.warnings {
        w.record = record;
    }
}
