//! Why an SS-MIX2 patient, message or file was rejected or skipped: stable codes and bilingual
//! reasons.
//!
//! No variant carries a value from the storage: a value may be an identifier. Whether a fault
//! rejects the patient depends on where it happens (a broken ADT-00 rejects the patient, a
//! broken lab message only loses that message), so the severity is chosen where the
//! diagnostic is made.

use thiserror::Error;
use tsumugi_model::{Diagnostic, Severity};

/// An SS-MIX2 reading fault. [`Ssmix2Error::code`] is stable; the `Display` text is the English
/// reason and [`Ssmix2Error::reason_ja`] the Japanese one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Ssmix2Error {
    /// A file name does not follow `PID_date_kind_order_timestamp_dept_flag`; the file was skipped.
    #[error("file name does not follow the SS-MIX2 naming rule; file skipped")]
    MalformedFileName,
    /// The directories above a file disagree with its name; the file was skipped.
    #[error("directory path does not match the file name; file skipped")]
    PathMismatch,
    /// The bytes are not valid ISO-2022-JP.
    #[error("message is not valid ISO-2022-JP")]
    InvalidEncoding,
    /// The text is not an HL7 v2 message (no MSH segment declaring its delimiters).
    #[error("message is not HL7 v2 (no MSH header)")]
    NotHl7,
    /// A segment the message kind requires is missing.
    #[error("required segment is missing")]
    MissingSegment,
    /// A date or timestamp does not parse.
    #[error("date does not parse")]
    InvalidDate,
    /// An event has no date in any of the fields that may carry one.
    #[error("event has no date; ignored")]
    MissingDate,
    /// A result value is not numeric; the event was kept without a value.
    #[error("result value is not numeric; kept without value")]
    NonNumericValue,
    /// A coded element has no code; the item was ignored.
    #[error("coded element has no code; ignored")]
    MissingCode,
    /// The patient has no usable ADT-00 message, so no identity; the patient was rejected.
    #[error("no usable patient demographics (ADT-00)")]
    NoDemographics,
    /// A data kind the reader does not map; the file was ignored.
    #[error("unsupported data kind ignored")]
    UnsupportedKind,
    /// The input could not be read.
    #[error("input could not be read")]
    Io,
    /// PID-3 is empty; the patient ID from the storage path was used.
    #[error("patient ID missing in message; storage path ID used")]
    MissingPatientId,
    /// The storage holds no patient.
    #[error("storage holds no patient directory")]
    EmptyStorage,
}

impl Ssmix2Error {
    /// The stable machine code, e.g. `SSM0001MalformedFileName`.
    pub fn code(self) -> &'static str {
        match self {
            Ssmix2Error::MalformedFileName => "SSM0001MalformedFileName",
            Ssmix2Error::PathMismatch => "SSM0002PathMismatch",
            Ssmix2Error::InvalidEncoding => "SSM0003InvalidEncoding",
            Ssmix2Error::NotHl7 => "SSM0004NotHl7",
            Ssmix2Error::MissingSegment => "SSM0005MissingSegment",
            Ssmix2Error::InvalidDate => "SSM0006InvalidDate",
            Ssmix2Error::MissingDate => "SSM0007MissingDate",
            Ssmix2Error::NonNumericValue => "SSM0008NonNumericValue",
            Ssmix2Error::MissingCode => "SSM0009MissingCode",
            Ssmix2Error::NoDemographics => "SSM0010NoDemographics",
            Ssmix2Error::UnsupportedKind => "SSM0011UnsupportedKind",
            Ssmix2Error::Io => "SSM0012Io",
            Ssmix2Error::MissingPatientId => "SSM0013MissingPatientId",
            Ssmix2Error::EmptyStorage => "SSM0014EmptyStorage",
        }
    }

    /// The reason in Japanese.
    pub fn reason_ja(self) -> &'static str {
        match self {
            Ssmix2Error::MalformedFileName => {
                "ファイル名がSS-MIX2の命名規則に従っていないためスキップしました"
            }
            Ssmix2Error::PathMismatch => {
                "ディレクトリ構成がファイル名と一致しないためスキップしました"
            }
            Ssmix2Error::InvalidEncoding => "メッセージが正しいISO-2022-JPではありません",
            Ssmix2Error::NotHl7 => "メッセージがHL7 v2ではありません（MSHがありません）",
            Ssmix2Error::MissingSegment => "必須のセグメントがありません",
            Ssmix2Error::InvalidDate => "日付を解釈できません",
            Ssmix2Error::MissingDate => "イベントに日付がないため無視しました",
            Ssmix2Error::NonNumericValue => "結果値が数値ではないため値なしで保持しました",
            Ssmix2Error::MissingCode => "コードがないため無視しました",
            Ssmix2Error::NoDemographics => "有効な患者基本情報（ADT-00）がありません",
            Ssmix2Error::UnsupportedKind => "未対応のデータ種別のため無視しました",
            Ssmix2Error::Io => "入力を読み取れません",
            Ssmix2Error::MissingPatientId => {
                "メッセージに患者IDがないため格納パスの患者IDを使用しました"
            }
            Ssmix2Error::EmptyStorage => "標準化ストレージに患者ディレクトリがありません",
        }
    }
}

/// A storage path with the patient ID taken out: SS-MIX2 paths carry it three times
/// (`PID[0:3]/PID[3:6]/PID/…/PID_date_kind_…`), and a diagnostic never carries an identifier.
/// The patient is named by the record number instead.
pub(crate) fn mask_patient_id(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    let Some((name, dirs)) = parts.split_last() else {
        return path.to_owned();
    };
    let pid = name.split('_').next().unwrap_or_default();
    if let [.., a, b] = dirs
        && pid == *name
        && pid.get(..3) == Some(*a)
        && pid.get(3..6) == Some(*b)
    {
        // The patient folder itself: `…/PID[0:3]/PID[3:6]/PID`.
        let keep = &dirs[..dirs.len() - 2];
        return keep
            .iter()
            .copied()
            .chain(["*", "*", "*"])
            .collect::<Vec<_>>()
            .join("/");
    }
    let Some(pid_at) = dirs.iter().position(|c| *c == pid) else {
        return path.to_owned();
    };
    let masked = |i: usize, c: &str| {
        i == pid_at
            || (i + 2 == pid_at && pid.get(..3) == Some(c))
            || (i + 1 == pid_at && pid.get(3..6) == Some(c))
    };
    let mut out: Vec<String> = dirs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if masked(i, c) {
                "*".to_owned()
            } else {
                (*c).to_owned()
            }
        })
        .collect();
    out.push(name.replacen(pid, "*", 1));
    out.join("/")
}

/// Where a finding is: file and record (the patient's 1-based number).
#[derive(Debug, Clone)]
pub(crate) struct Location<'a> {
    pub(crate) file: &'a str,
    pub(crate) record: u64,
}

impl Location<'_> {
    /// A warning for `err` about `field` (a segment-field name like `PID-7`, never a value).
    pub(crate) fn warning(&self, err: Ssmix2Error, field: Option<&str>) -> Diagnostic {
        self.diagnostic(err, field, Severity::Warning)
    }

    /// The diagnostic for `err` at this location with the given severity.
    pub(crate) fn diagnostic(
        &self,
        err: Ssmix2Error,
        field: Option<&str>,
        severity: Severity,
    ) -> Diagnostic {
        Diagnostic {
            file: mask_patient_id(self.file),
            record: self.record,
            line: None,
            field: field.map(str::to_owned),
            code: err.code().to_owned(),
            reason_ja: err.reason_ja().to_owned(),
            reason_en: err.to_string(),
            severity,
        }
    }
}

#[cfg(test)]
mod mask_tests {
    #[test]
    fn patient_ids_are_masked_in_paths() {
        assert_eq!(
            super::mask_patient_id(
                "up.zip/999/901/9999013/-/ADT-00/9999013_-_ADT-00_9999_20111220_-_1"
            ),
            "up.zip/*/*/*/-/ADT-00/*_-_ADT-00_9999_20111220_-_1"
        );
        assert_eq!(super::mask_patient_id("notes.txt"), "notes.txt");
        assert_eq!(
            super::mask_patient_id("up.zip/123/456/1234567"),
            "up.zip/*/*/*"
        );
    }
}
