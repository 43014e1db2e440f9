//! レセプト電算処理システム (UKE) claim files: a streaming reader ([`UkeReader`]), a writer
//! ([`write_claims`]) and the optional 基本マスター lookup ([`Masters`]).
//!
//! Layouts follow the 記録条件仕様 (医科用) as documented field by field in the public parser
//! yokenzan/receiptisan (`lib/receiptisan/model/receipt_computer/digitalized_receipt/record.rb`,
//! MIT) and its sample `spec/resource/input/RECEIPTC_GAIRAI_SAMPLE.UKE`; the DPC `BU` record
//! follows the DPC 記録条件仕様 (`今回入院年月日`, `今回退院年月日`, GYYMMDD in older files).
//!
//! What one claim (an `RE` block) becomes:
//!
//! | record | mapped to |
//! |---|---|
//! | `RE` | name (kanji `氏名`, kana `カタカナ氏名`), sex, birth date (western `YYYYMMDD` or 和暦 `GYYMMDD`), patient ID (`カルテ番号等`), the claim month (`診療年月`, `YYYYMM` or `GYYMM`) |
//! | `HO` | insurance: insurer number, symbol, number; `SN` adds the 枝番 |
//! | `KO` | insurance: 公費負担者番号 and 受給者番号 |
//! | `SY` | a diagnosis on `診療開始日`: ICD-10 when the masters map the code, else `receipt_disease` |
//! | `SI` | one event per day with a count in the 31 day columns, code [`CodeSystem::ReceiptProcedure`](tsumugi_model::CodeSystem): category 11/12 (初診/再診) → outpatient encounter, 90–97 (入院) → inpatient encounter, else procedure |
//! | `IY` | one prescription per counted day, [`CodeSystem::ReceiptDrug`](tsumugi_model::CodeSystem) |
//! | `TO` | one procedure per counted day, code system `receipt_device` |
//! | `BU` (DPC) | an inpatient encounter from admission to discharge, code system `dpc` |
//!
//! `IR`/`YK` (header) and `GO` (totals, whose claim count is checked) frame the file. `CO`,
//! `JD`, `MF`, `SJ` and the other DPC and 調剤 record types are recognised and skipped. A blank
//! `診療識別` repeats the previous line's. Diagnostics use the stable codes of [`UkeError`] and
//! never contain a value from the file.

mod error;
mod masters;
mod reader;
mod writer;

pub use crate::uke::error::{MasterError, UkeError};
pub use crate::uke::masters::{DiseaseEntry, Masters};
pub use crate::uke::reader::UkeReader;
pub use crate::uke::writer::write_claims;

/// Code-system name for レセプト電算 傷病名コード (7 digits) with no ICD-10 mapping at hand.
pub const RECEIPT_DISEASE: &str = "receipt_disease";
/// Code-system name for レセプト電算 特定器材コード (9 digits).
pub const RECEIPT_DEVICE: &str = "receipt_device";
/// Code-system name for DPC 診断群分類番号 (14 characters).
pub const DPC: &str = "dpc";
