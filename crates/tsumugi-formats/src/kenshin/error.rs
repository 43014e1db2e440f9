//! Why a 特定健診 document, archive entry or part of one was rejected: stable codes, bilingual
//! reasons. No variant carries a value from the input.

use thiserror::Error;
use tsumugi_model::Severity;

use crate::diag::Fault;

/// A 特定健診 XML reading fault. [`KenshinError::code`] is stable; `Display` is the English
/// reason and [`KenshinError::reason_ja`] the Japanese one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KenshinError {
    /// The document is not well-formed XML (this includes a truncated document).
    #[error("document is not well-formed XML")]
    MalformedXml,
    /// The document is not UTF-8.
    #[error("document is not valid UTF-8")]
    InvalidUtf8,
    /// The root element is not a CDA `ClinicalDocument`.
    #[error("root element is not ClinicalDocument")]
    NotClinicalDocument,
    /// The header has no `recordTarget/patientRole`.
    #[error("document has no recordTarget patientRole")]
    NoPatient,
    /// A date (`birthTime`, `effectiveTime`) did not parse; it was ignored.
    #[error("date does not parse")]
    InvalidDate,
    /// An observation code is not a 17-character item code; the observation was ignored.
    #[error("observation code is not a 17-character item code; ignored")]
    InvalidItemCode,
    /// A result value is not a number or a code; the observation was ignored.
    #[error("observation value is not numeric; ignored")]
    InvalidValue,
    /// A free-text (ST/ED) result was ignored: free text may identify the person.
    #[error("free-text result ignored")]
    FreeTextIgnored,
    /// An observation has no date and the document has none either; it was ignored.
    #[error("observation has no date; ignored")]
    MissingDate,
    /// `administrativeGenderCode` has a code other than 1 or 2; sex is unknown.
    #[error("unmapped sex code; sex left unknown")]
    UnmappedSex,
    /// The document violates a rule of the checked XSD subset.
    #[error("document violates the XML schema")]
    SchemaViolation,
    /// An archive entry name escapes the archive (`..`, an absolute path or a drive letter).
    #[error("archive entry name escapes the archive")]
    PathTraversal,
    /// The archive could not be read (not a ZIP, or a damaged entry).
    #[error("archive could not be read")]
    InvalidArchive,
    /// An archive entry decompresses to more than the per-entry limit
    /// ([`crate::kenshin::MAX_ENTRY_BYTES`], 32 MiB): a zip bomb or a misplaced file.
    #[error("archive entry decompresses to more than the 32 MiB per-entry limit; not read")]
    EntryTooLarge,
    /// The index `totalRecordCount` or the summary `totalSubjectCount` differs from the archive.
    #[error("count in index or summary does not match the archive")]
    CountMismatch,
    /// The archive has no index file (`ix08*`).
    #[error("archive has no index file")]
    MissingIndex,
}

impl KenshinError {
    /// The stable machine code, e.g. `KNS0001MalformedXml`.
    pub fn code(self) -> &'static str {
        match self {
            KenshinError::MalformedXml => "KNS0001MalformedXml",
            KenshinError::InvalidUtf8 => "KNS0002InvalidUtf8",
            KenshinError::NotClinicalDocument => "KNS0003NotClinicalDocument",
            KenshinError::NoPatient => "KNS0004NoPatient",
            KenshinError::InvalidDate => "KNS0005InvalidDate",
            KenshinError::InvalidItemCode => "KNS0006InvalidItemCode",
            KenshinError::InvalidValue => "KNS0007InvalidValue",
            KenshinError::FreeTextIgnored => "KNS0008FreeTextIgnored",
            KenshinError::MissingDate => "KNS0009MissingDate",
            KenshinError::UnmappedSex => "KNS0010UnmappedSex",
            KenshinError::SchemaViolation => "KNS0011SchemaViolation",
            KenshinError::PathTraversal => "KNS0012PathTraversal",
            KenshinError::InvalidArchive => "KNS0013InvalidArchive",
            KenshinError::EntryTooLarge => "KNS0014EntryTooLarge",
            KenshinError::CountMismatch => "KNS0015CountMismatch",
            KenshinError::MissingIndex => "KNS0016MissingIndex",
        }
    }

    /// The reason in Japanese.
    pub fn reason_ja(self) -> &'static str {
        match self {
            KenshinError::MalformedXml => {
                "XMLとして正しくありません（途中で切れている可能性を含む）"
            }
            KenshinError::InvalidUtf8 => "文書がUTF-8ではありません",
            KenshinError::NotClinicalDocument => "ルート要素がClinicalDocumentではありません",
            KenshinError::NoPatient => "受診者情報（recordTarget/patientRole）がありません",
            KenshinError::InvalidDate => "日付を解釈できないため無視しました",
            KenshinError::InvalidItemCode => "項目コードが17桁ではないため観察結果を無視しました",
            KenshinError::InvalidValue => "結果値が数値ではないため観察結果を無視しました",
            KenshinError::FreeTextIgnored => "個人を識別しうる自由記述の結果を無視しました",
            KenshinError::MissingDate => "日付がないため観察結果を無視しました",
            KenshinError::UnmappedSex => "性別コードを対応付けできないため不明としました",
            KenshinError::SchemaViolation => "XMLスキーマに違反しています",
            KenshinError::PathTraversal => "アーカイブ外を指すエントリ名です",
            KenshinError::InvalidArchive => "アーカイブを読み取れません",
            KenshinError::EntryTooLarge => {
                "エントリの展開後のサイズが上限（32 MiB）を超えるため読みません"
            }
            KenshinError::CountMismatch => {
                "インデックスまたは集計情報の件数がアーカイブと一致しません"
            }
            KenshinError::MissingIndex => "インデックスファイルがありません",
        }
    }

    /// Whether the fault rejects the record (otherwise it is a warning).
    pub fn severity(self) -> Severity {
        match self {
            KenshinError::MalformedXml
            | KenshinError::InvalidUtf8
            | KenshinError::NotClinicalDocument
            | KenshinError::NoPatient
            | KenshinError::SchemaViolation
            | KenshinError::PathTraversal
            | KenshinError::InvalidArchive
            | KenshinError::EntryTooLarge
            | KenshinError::CountMismatch
            | KenshinError::MissingIndex => Severity::Error,
            KenshinError::InvalidDate
            | KenshinError::InvalidItemCode
            | KenshinError::InvalidValue
            | KenshinError::FreeTextIgnored
            | KenshinError::MissingDate
            | KenshinError::UnmappedSex => Severity::Warning,
        }
    }
}

impl Fault for KenshinError {
    fn code(self) -> &'static str {
        KenshinError::code(self)
    }
    fn reason_ja(self) -> &'static str {
        KenshinError::reason_ja(self)
    }
    fn severity(self) -> Severity {
        KenshinError::severity(self)
    }
}
