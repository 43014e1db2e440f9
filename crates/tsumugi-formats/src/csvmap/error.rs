//! Why a mapping was refused, or a mapped CSV row or part of one rejected. No values in messages.

use thiserror::Error;
use tsumugi_model::Severity;

use crate::diag::Fault;

/// A mapping that cannot be used. The text names the setting, never a data value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The TOML does not parse or does not have the mapping's shape.
    #[error("CSVMAP0101InvalidToml: mapping is not valid TOML for a mapping: {0}")]
    InvalidToml(String),
    /// `delimiter` is not one ASCII character.
    #[error("CSVMAP0102InvalidDelimiter: delimiter must be one ASCII character")]
    InvalidDelimiter,
    /// An event `kind` is not an event kind name.
    #[error("CSVMAP0103InvalidKind: events[{0}].kind is not an event kind")]
    InvalidKind(usize),
    /// `date_formats` is empty.
    #[error("CSVMAP0104NoDateFormat: date_formats is empty")]
    NoDateFormat,
    /// An event has a code column or fixed code but no code system, or the reverse.
    #[error("CSVMAP0105CodeSystem: events[{0}] needs both a code and a code_system")]
    CodeSystem(usize),
    /// A column named `#N` has N = 0 or not a number.
    #[error("CSVMAP0106InvalidColumn: a column reference `#N` needs N >= 1")]
    InvalidColumn,
}

/// A mapped-CSV reading fault. [`CsvMapError::code`] is stable; `Display` is the English reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CsvMapError {
    /// The row is not in the mapping's encoding.
    #[error("row is not in the mapping's encoding")]
    InvalidEncoding,
    /// The row has a different number of columns than the header (or fewer than referenced).
    #[error("wrong number of columns")]
    WrongColumnCount,
    /// An event date does not parse with any of the mapping's date formats.
    #[error("date does not parse")]
    InvalidDate,
    /// The birth date does not parse; it was left out.
    #[error("birth date does not parse; ignored")]
    InvalidBirthDate,
    /// The sex cell matches neither sex code list; sex is unknown.
    #[error("unmapped sex code; sex left unknown")]
    UnmappedSex,
    /// A value cell is not a number; the value was left out.
    #[error("value is not a number; ignored")]
    InvalidValue,
    /// A column the mapping names is not in the header; nothing was read.
    #[error("column named by the mapping is missing from the header")]
    MissingColumn,
    /// The CSV could not be read (I/O or unterminated quote).
    #[error("input could not be read")]
    Io,
}

impl CsvMapError {
    /// The stable machine code, e.g. `CSVMAP0001InvalidEncoding`.
    pub fn code(self) -> &'static str {
        match self {
            CsvMapError::InvalidEncoding => "CSVMAP0001InvalidEncoding",
            CsvMapError::WrongColumnCount => "CSVMAP0002WrongColumnCount",
            CsvMapError::InvalidDate => "CSVMAP0003InvalidDate",
            CsvMapError::InvalidBirthDate => "CSVMAP0004InvalidBirthDate",
            CsvMapError::UnmappedSex => "CSVMAP0005UnmappedSex",
            CsvMapError::InvalidValue => "CSVMAP0006InvalidValue",
            CsvMapError::MissingColumn => "CSVMAP0007MissingColumn",
            CsvMapError::Io => "CSVMAP0008Io",
        }
    }

    /// The reason in Japanese.
    pub fn reason_ja(self) -> &'static str {
        match self {
            CsvMapError::InvalidEncoding => "行が指定の文字コードではありません",
            CsvMapError::WrongColumnCount => "列数が正しくありません",
            CsvMapError::InvalidDate => "日付を解釈できません",
            CsvMapError::InvalidBirthDate => "生年月日を解釈できないため無視しました",
            CsvMapError::UnmappedSex => "性別を対応付けできないため不明としました",
            CsvMapError::InvalidValue => "値が数値ではないため無視しました",
            CsvMapError::MissingColumn => "マッピングで指定した列が見出しにありません",
            CsvMapError::Io => "入力を読み取れません",
        }
    }

    /// Whether the fault rejects the row (otherwise it is a warning).
    pub fn severity(self) -> Severity {
        match self {
            CsvMapError::InvalidBirthDate
            | CsvMapError::UnmappedSex
            | CsvMapError::InvalidValue => Severity::Warning,
            CsvMapError::InvalidEncoding
            | CsvMapError::WrongColumnCount
            | CsvMapError::InvalidDate
            | CsvMapError::MissingColumn
            | CsvMapError::Io => Severity::Error,
        }
    }
}

impl Fault for CsvMapError {
    fn code(self) -> &'static str {
        CsvMapError::code(self)
    }
    fn reason_ja(self) -> &'static str {
        CsvMapError::reason_ja(self)
    }
    fn severity(self) -> Severity {
        CsvMapError::severity(self)
    }
}
