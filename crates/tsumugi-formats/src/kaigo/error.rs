//! Why a 介護 claims line or part of one was rejected: stable codes, bilingual reasons, no values.

use thiserror::Error;
use tsumugi_model::Severity;

use crate::diag::Fault;

/// A 介護 claims reading fault. [`KaigoError::code`] is stable; `Display` is the English reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KaigoError {
    /// The line is not Shift_JIS (CP932).
    #[error("line is not Shift_JIS")]
    InvalidEncoding,
    /// The line does not have nine columns.
    #[error("wrong number of columns")]
    WrongColumnCount,
    /// 保険者番号 or 被保険者番号 is missing or malformed.
    #[error("insurer or insured number is malformed")]
    InvalidNumber,
    /// A date or year-month does not parse or is impossible.
    #[error("date does not parse")]
    InvalidDate,
    /// The サービスコード is not 6 alphanumerics.
    #[error("service code is not 6 characters")]
    InvalidServiceCode,
    /// 単位数 or 日数・回数 is not a non-negative integer.
    #[error("units or days is not a non-negative integer")]
    InvalidUnits,
    /// The 要介護状態区分コード is not a care level; no certification event was made.
    #[error("care level code unmapped; no certification event")]
    UnmappedCareLevel,
    /// The birth date did not parse; it was left out.
    #[error("birth date does not parse; ignored")]
    InvalidBirthDate,
    /// The 性別コード is not 1 or 2; sex is unknown.
    #[error("unmapped sex code; sex left unknown")]
    UnmappedSex,
    /// The input could not be read.
    #[error("input could not be read")]
    Io,
}

impl KaigoError {
    /// The stable machine code, e.g. `KGO0001InvalidEncoding`.
    pub fn code(self) -> &'static str {
        match self {
            KaigoError::InvalidEncoding => "KGO0001InvalidEncoding",
            KaigoError::WrongColumnCount => "KGO0002WrongColumnCount",
            KaigoError::InvalidNumber => "KGO0003InvalidNumber",
            KaigoError::InvalidDate => "KGO0004InvalidDate",
            KaigoError::InvalidServiceCode => "KGO0005InvalidServiceCode",
            KaigoError::InvalidUnits => "KGO0006InvalidUnits",
            KaigoError::UnmappedCareLevel => "KGO0007UnmappedCareLevel",
            KaigoError::InvalidBirthDate => "KGO0008InvalidBirthDate",
            KaigoError::UnmappedSex => "KGO0009UnmappedSex",
            KaigoError::Io => "KGO0010Io",
        }
    }

    /// The reason in Japanese.
    pub fn reason_ja(self) -> &'static str {
        match self {
            KaigoError::InvalidEncoding => "行がShift_JISではありません",
            KaigoError::WrongColumnCount => "列数が正しくありません",
            KaigoError::InvalidNumber => "保険者番号または被保険者番号が不正です",
            KaigoError::InvalidDate => "日付を解釈できません",
            KaigoError::InvalidServiceCode => "サービスコードが6桁ではありません",
            KaigoError::InvalidUnits => "単位数または日数・回数が0以上の整数ではありません",
            KaigoError::UnmappedCareLevel => {
                "要介護状態区分コードを対応付けできないため認定イベントを作成しませんでした"
            }
            KaigoError::InvalidBirthDate => "生年月日を解釈できないため無視しました",
            KaigoError::UnmappedSex => "性別コードを対応付けできないため不明としました",
            KaigoError::Io => "入力を読み取れません",
        }
    }

    /// Whether the fault rejects the line (otherwise it is a warning).
    pub fn severity(self) -> Severity {
        match self {
            KaigoError::UnmappedCareLevel
            | KaigoError::InvalidBirthDate
            | KaigoError::UnmappedSex => Severity::Warning,
            KaigoError::InvalidEncoding
            | KaigoError::WrongColumnCount
            | KaigoError::InvalidNumber
            | KaigoError::InvalidDate
            | KaigoError::InvalidServiceCode
            | KaigoError::InvalidUnits
            | KaigoError::Io => Severity::Error,
        }
    }
}

impl Fault for KaigoError {
    fn code(self) -> &'static str {
        KaigoError::code(self)
    }
    fn reason_ja(self) -> &'static str {
        KaigoError::reason_ja(self)
    }
    fn severity(self) -> Severity {
        KaigoError::severity(self)
    }
}
