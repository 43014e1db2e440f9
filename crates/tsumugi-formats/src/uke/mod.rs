//! レセプト電算処理システム (UKE) claim files — 医科, DPC and 調剤 — : a streaming reader
//! ([`UkeReader`]), writers ([`write_claims`] for 医科, [`write_pharmacy_claims`] for 調剤) and
//! the optional 基本マスター lookup ([`Masters`]).
//!
//! Layouts follow the 記録条件仕様: 医科 as documented field by field in the public parser
//! yokenzan/receiptisan (`lib/receiptisan/model/receipt_computer/digitalized_receipt/record.rb`,
//! MIT) and its sample `spec/resource/input/RECEIPTC_GAIRAI_SAMPLE.UKE`; DPC (`BU`, `SB`, `CD`)
//! and 調剤 (`YK`, `RE`, `SH`, `CZ`, `IY`, `TO`) as listed field by field in the DPC and 調剤
//! record definitions of kuenishi/meddatum (`include/rezept_dpc.hrl`, Apache-2.0) and
//! sosuke-hirayama/uke-parser (`uke_parser_chozai.rb`), which cite the 支払基金 specifications.
//! Records in a file sent by a provider start with the record type (the three leading columns
//! データ識別, 行番号, 枝番号 of the insurers' layout are not there). Dates are `YYYYMMDD` or
//! 和暦 `GYYMMDD`, months `YYYYMM` or `GYYMM`.
//!
//! The header decides the layout: `IR` (医科, DPC) or `YK` (調剤). What one claim (an `RE` block)
//! becomes:
//!
//! | record | layout | mapped to |
//! |---|---|---|
//! | `RE` | both | name (kanji `氏名`, kana `カタカナ氏名`: column 36 医科, 41 調剤), sex, birth date, patient ID (`カルテ番号等` column 13 / `調剤録番号等` column 35), the claim month (`診療年月` / `調剤年月`) |
//! | `HO` | both | insurance: insurer number, symbol, number; `SN` adds the 枝番 |
//! | `KO` | both | insurance: 公費負担者番号 and 受給者番号 |
//! | `SY` | 医科, DPC | a diagnosis on `診療開始日`: ICD-10 when the masters map the code, else `receipt_disease` |
//! | `SI` | 医科, DPC | one event per day with a count in the 31 day columns, code [`CodeSystem::ReceiptProcedure`](tsumugi_model::CodeSystem): category 11/12 (初診/再診) → outpatient encounter, 90–97 (入院) → inpatient encounter, else procedure |
//! | `IY` | 医科, DPC | one prescription per counted day, [`CodeSystem::ReceiptDrug`](tsumugi_model::CodeSystem) |
//! | `TO` | 医科, DPC | one procedure per counted day, code system `receipt_device` |
//! | `BU` | DPC | an inpatient encounter from admission to discharge, code system `dpc` |
//! | `SB` | DPC | a diagnosis in the ICD-10 the record gives (else as `SY`), dated on the `BU` admission |
//! | `CD` | DPC | one event per コーディングデータ line on its 実施年月日 (drug, device or 診療行為 by the code's first digit), valued by 回数; an `SI`/`IY`/`TO` event it repeats is dropped |
//! | `SH` + `CZ` | 調剤 | a prescription and the days it was dispensed (調剤月日, 調剤数量) |
//! | `IY` | 調剤 | one dispensing per `CZ` of its prescription, [`CodeSystem::ReceiptDrug`](tsumugi_model::CodeSystem), valued by 調剤数量 |
//! | `TO` | 調剤 | one dispensing per `CZ`, code system `receipt_device`, valued by 使用量 |
//!
//! `IR`/`YK` (header) and `GO` (totals, whose claim count is checked) frame the file. Record
//! types that carry nothing kept here are skipped without a finding: `CO`, `JD`, `MF`, `SJ`,
//! `TI`, `TR`, `TS`, `GR`, `KH`, `NI`; DPC `KK`, `SK`, `GA`, `HH`, `GT`; 調剤 `KI`, `TK`, `ST`. A
//! record type of the other layout is skipped with one `UKE0009UnmappedRecord` warning per claim;
//! an unknown one with `UKE0001UnknownRecordType`. A blank `診療識別` repeats the previous
//! line's. The prescribing institution of a 調剤 claim (`RE` columns 9–11) is not kept: an event
//! has no place for it. Diagnostics use the stable codes of [`UkeError`] and never contain a
//! value from the file.

mod error;
mod line;
mod masters;
mod reader;
mod records;
mod writer;

pub use crate::uke::error::{MasterError, UkeError};
pub use crate::uke::masters::{DiseaseEntry, Masters};
pub use crate::uke::reader::UkeReader;
pub use crate::uke::writer::{write_claims, write_pharmacy_claims};

/// Code-system name for レセプト電算 傷病名コード (7 digits) with no ICD-10 mapping at hand.
pub const RECEIPT_DISEASE: &str = "receipt_disease";
/// Code-system name for レセプト電算 特定器材コード (9 digits).
pub const RECEIPT_DEVICE: &str = "receipt_device";
/// Code-system name for DPC 診断群分類番号 (14 characters).
pub const DPC: &str = "dpc";
