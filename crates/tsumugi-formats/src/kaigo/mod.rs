//! 介護 claims: the 介護給付費明細書 data that 国保連 interfaces exchange, as Shift_JIS (CP932) CSV.
//!
//! # Layout
//!
//! 国保連 interface files are record-typed (基本情報レコード, 明細情報レコード …; see the MHLW
//! 「インタフェース仕様書 共通編 / 保険者編」). tsumugi reads a *flattened* CSV that joins, per
//! 明細 line, the 基本情報 items that identify the person and the 明細情報 items of the service.
//! One line per service line, nine or ten columns (the tenth may be left out), no quoting needed
//! (double quotes around a field are stripped), CRLF or LF; a first line starting with
//! `保険者番号` is a header and skipped:
//!
//! | # | column | format | maps to |
//! |---|---|---|---|
//! | 1 | 保険者番号 | 6 or 8 digits | `Insurance.insurer_number` |
//! | 2 | 被保険者番号 | 10 alphanumerics | `Insurance.number` |
//! | 3 | 生年月日 | `YYYYMMDD`, `GYYMMDD` or any 和暦 spelling; may be empty | `birth_date` |
//! | 4 | 性別コード | 1 男, 2 女; may be empty | `sex` |
//! | 5 | サービス提供年月 | `YYYYMM` or `GYYMM` | event date (first of month) |
//! | 6 | 要介護状態区分コード | 12 要支援1, 13 要支援2, 21–25 要介護1–5 (01 非該当, 06 事業対象者: no certification) | [`tsumugi_model::EventKind::CareCertification`] with [`tsumugi_model::CodeSystem::CareLevel`] `S1 S2 K1…K5` |
//! | 7 | サービスコード | 6 characters: サービス種類コード (2, e.g. `11`, `A2`) + サービス項目コード (4) | [`tsumugi_model::EventKind::CareService`] with [`tsumugi_model::CodeSystem::CareService`] |
//! | 8 | 単位数 | non-negative integer | `value` = 単位数 × 日数・回数, unit `単位` |
//! | 9 | 日数・回数 | non-negative integer | (multiplied into `value`) |
//! | 10 | 被保険者氏名（フリガナ） | カナ, family and given name separated by a space; may be empty or absent | `PersonName.family_kana`, `given_kana` (a name without a space is kept whole in `family_kana`) |
//!
//! # Patient id
//!
//! A care provider knows its 利用者 by the 介護保険 card: the record's `patient_id` is
//! [`patient_id`] of columns 1 and 2, `保険者番号:被保険者番号` (full-width ASCII folded, spaces
//! dropped). The 被保険者番号 is issued by the municipality (the 介護保険者) for life there, so
//! the id is stable as long as the person stays in the municipality.
//!
//! Sources for the items and codes: MHLW 介護保険 インタフェース仕様書 (明細書の基本情報・明細情報
//! レコード, 要介護状態区分コード), the サービスコード表 that municipalities publish as Shift_JIS CSV
//! (2-character 種類 + 4-digit 項目), and DESIGN.md §5.
//!
//! # Records
//!
//! One [`tsumugi_model::SourceRecord`] per run of consecutive lines with the same (保険者番号, 被保険者番号): files
//! are grouped per 明細書, so a person whose lines are not consecutive yields two records (linkage
//! merges them). A [`tsumugi_model::EventKind::CareCertification`] event is emitted at the first line of a record
//! and whenever the care level changes; the kana name is the first non-empty one of the run. A bad line is rejected as its own outcome (numbered in
//! output order, with its line number) and reading goes on.

mod error;
mod reader;
mod writer;

pub use crate::kaigo::error::KaigoError;
pub use crate::kaigo::reader::KaigoReader;
pub use crate::kaigo::writer::write_kaigo;

/// The number of columns of a line (the last, the kana name, may be left out).
pub const N_COLUMNS: usize = 10;

/// The provider patient id of a 利用者: `保険者番号:被保険者番号`, folded (see the module docs);
/// `None` when either is empty.
///
/// ```
/// assert_eq!(
///     tsumugi_formats::kaigo::patient_id("131016", "０００0012345").as_deref(),
///     Some("131016:0000012345")
/// );
/// ```
pub fn patient_id(insurer: &str, insured: &str) -> Option<String> {
    crate::ident::join(&[(Some(insurer), true), (Some(insured), true)])
}

/// The tsumugi care level (`S1`, `S2`, `K1`…`K5`) of a 要介護状態区分コード, if it has one.
pub fn care_level(code: &str) -> Option<&'static str> {
    Some(match code {
        "12" => "S1",
        "13" => "S2",
        "21" => "K1",
        "22" => "K2",
        "23" => "K3",
        "24" => "K4",
        "25" => "K5",
        _ => return None,
    })
}

/// The 要介護状態区分コード of a tsumugi care level (inverse of [`care_level`]).
pub fn care_level_code(level: &str) -> Option<&'static str> {
    Some(match level {
        "S1" => "12",
        "S2" => "13",
        "K1" => "21",
        "K2" => "22",
        "K3" => "23",
        "K4" => "24",
        "K5" => "25",
        _ => return None,
    })
}
