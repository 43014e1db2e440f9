//! Why a UKE claim, or a line of one, was rejected or skipped: stable codes and bilingual
//! reasons.
//!
//! No variant carries a value from the file: a value may be an identifier.

use thiserror::Error;
use tsumugi_model::{Diagnostic, Severity};

/// A UKE reading fault. [`UkeError::code`] is stable; the `Display` text is the English reason
/// and [`UkeError::reason_ja`] the Japanese one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UkeError {
    /// The first field names no known record type; the line was skipped.
    #[error("unknown record type; line skipped")]
    UnknownRecordType,
    /// A line has fewer columns than its record type requires.
    #[error("wrong column count for the record type")]
    WrongColumnCount,
    /// A date or year-month is not a calendar date.
    #[error("impossible or unreadable date")]
    InvalidDate,
    /// A claim line (HO, SI …) appears before any RE; the line was skipped.
    #[error("line belongs to a claim but no RE record precedes it")]
    OutsideClaim,
    /// The GO record's claim count differs from the number of RE records read.
    #[error("GO claim count does not match the claims read")]
    CountMismatch,
    /// A line is not valid CP932 (Shift_JIS).
    #[error("line is not valid CP932")]
    InvalidEncoding,
    /// A numeric field (count, claim number) is not a number.
    #[error("field is not a valid number")]
    InvalidNumber,
    /// The file ends without a GO record (it may be truncated).
    #[error("file ends without a GO record")]
    MissingTotals,
    /// A record type of the other layout (a 医科 or DPC record in a 調剤 file, or the reverse);
    /// skipped, reported once per claim.
    #[error("record layout not mapped; line skipped")]
    UnmappedRecord,
    /// A record found after GO; it was skipped.
    #[error("record after GO skipped")]
    AfterTotals,
    /// The input could not be read.
    #[error("input could not be read")]
    Io,
    /// The file has no claim (`RE`) but lines that were skipped (reported as warnings with this
    /// error); an empty claims file (`IR`, `GO,0`) is not a fault.
    #[error("file holds no claim but skipped lines")]
    NoClaims,
}

impl UkeError {
    /// The stable machine code, e.g. `UKE0001UnknownRecordType`.
    pub fn code(self) -> &'static str {
        match self {
            UkeError::UnknownRecordType => "UKE0001UnknownRecordType",
            UkeError::WrongColumnCount => "UKE0002WrongColumnCount",
            UkeError::InvalidDate => "UKE0003InvalidDate",
            UkeError::OutsideClaim => "UKE0004OutsideClaim",
            UkeError::CountMismatch => "UKE0005CountMismatch",
            UkeError::InvalidEncoding => "UKE0006InvalidEncoding",
            UkeError::InvalidNumber => "UKE0007InvalidNumber",
            UkeError::MissingTotals => "UKE0008MissingTotals",
            UkeError::UnmappedRecord => "UKE0009UnmappedRecord",
            UkeError::AfterTotals => "UKE0010AfterTotals",
            UkeError::Io => "UKE0011Io",
            UkeError::NoClaims => "UKE0012NoClaims",
        }
    }

    /// The reason in Japanese.
    pub fn reason_ja(self) -> &'static str {
        match self {
            UkeError::UnknownRecordType => "不明なレコード識別情報のため行を読み飛ばしました",
            UkeError::WrongColumnCount => "レコードの項目数が正しくありません",
            UkeError::InvalidDate => "日付または年月が正しくありません",
            UkeError::OutsideClaim => {
                "REレコードより前にレセプトのレコードがあるため読み飛ばしました"
            }
            UkeError::CountMismatch => "GOレコードの総件数が読み込んだレセプト数と一致しません",
            UkeError::InvalidEncoding => "行がCP932（シフトJIS）として正しくありません",
            UkeError::InvalidNumber => "数値項目が正しくありません",
            UkeError::MissingTotals => "GOレコードがないままファイルが終わっています",
            UkeError::UnmappedRecord => "対応付けのないレコードのため行を読み飛ばしました",
            UkeError::AfterTotals => "GOレコードの後のレコードを読み飛ばしました",
            UkeError::Io => "入力を読み取れません",
            UkeError::NoClaims => "レセプト（REレコード）がなく、読み飛ばした行があります",
        }
    }

    /// Whether the fault rejects the claim (otherwise it is a warning).
    pub fn severity(self) -> Severity {
        match self {
            UkeError::WrongColumnCount
            | UkeError::InvalidDate
            | UkeError::CountMismatch
            | UkeError::InvalidEncoding
            | UkeError::InvalidNumber
            | UkeError::MissingTotals
            | UkeError::Io
            | UkeError::NoClaims => Severity::Error,
            UkeError::UnknownRecordType
            | UkeError::OutsideClaim
            | UkeError::UnmappedRecord
            | UkeError::AfterTotals => Severity::Warning,
        }
    }

    /// The diagnostic for this fault in `file`, claim `record` (0 for file-level findings),
    /// at `line`, about `field` (a column name, never a value).
    pub(crate) fn at(self, file: &str, record: u64, line: u64, field: Option<&str>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            record,
            line: Some(line),
            field: field.map(str::to_owned),
            code: self.code().to_owned(),
            reason_ja: self.reason_ja().to_owned(),
            reason_en: self.to_string(),
            severity: self.severity(),
        }
    }
}

/// Why a master directory did not load. No variant carries a value from the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MasterError {
    /// A master file could not be read.
    #[error("UKE0101Io: master file {file} could not be read")]
    Io {
        /// The file name.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A master row is not valid quoted CSV.
    #[error("UKE0102InvalidCsv: master file {file} has invalid CSV at line {line}")]
    InvalidCsv {
        /// The file name.
        file: String,
        /// 1-based line.
        line: u64,
    },
    /// A master file is not valid CP932.
    #[error("UKE0103InvalidEncoding: master file {file} is not valid CP932")]
    InvalidEncoding {
        /// The file name.
        file: String,
    },
}
