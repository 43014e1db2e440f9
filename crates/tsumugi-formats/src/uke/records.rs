//! What each UKE record type carries into the claim being read: 医科 and DPC (under `IR`) and
//! 調剤 (under `YK`). Column numbers are 0-based with the record type in column 0, as in the
//! layout tables of [`crate::uke`].

use chrono::Datelike;
use tsumugi_model::{
    Code, CodeSystem, Date, Diagnostic, EncounterClass, Event, EventKind, Insurance, PersonName,
    Sex, SourceRecord, wareki,
};

use crate::uke::error::UkeError;
use crate::uke::line::{Cols, LineFault, trim};
use crate::uke::masters::Masters;
use crate::uke::{DPC, RECEIPT_DEVICE, RECEIPT_DISEASE};

/// The record layout family, from the file's header record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `IR`: 医科 and DPC claims (also assumed when the header is missing).
    Medical,
    /// `YK`: 調剤 (pharmacy) claims.
    Pharmacy,
}

impl Layout {
    /// RE columns of the patient number (カルテ番号等 / 調剤録番号等) and the kana name.
    fn re_columns(self) -> (usize, usize) {
        match self {
            Layout::Medical => (13, 36),
            Layout::Pharmacy => (35, 41),
        }
    }
}

/// The claim (one `RE` block) being read.
#[derive(Debug)]
pub(crate) struct Claim {
    pub(crate) record: u64,
    pub(crate) line: u64,
    pub(crate) source: SourceRecord,
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) error: Option<Diagnostic>,
    /// 診療年月 / 調剤年月 (first of the month).
    month: Option<Date>,
    /// The last non-blank 診療識別, parsed (`None`: none yet, or not a number).
    category: Option<u32>,
    /// Index of the `HO` insurance, for the `SN` branch.
    ho_idx: Option<usize>,
    /// Whether a record type outside the layout was reported already.
    pub(crate) unmapped_reported: bool,
    /// DPC `BU` 今回入院年月日: the date of the `SB` diagnoses.
    admission: Option<Date>,
    /// Indices of the events from DPC `CD` lines.
    coded: Vec<usize>,
    /// 調剤: (調剤年月日, 調剤数量) of each `CZ` of the current `SH` prescription.
    dispensings: Vec<(Date, Option<f64>)>,
}

impl Claim {
    /// A new claim, number `record`, starting at `line`; `events_hint` sizes its event list.
    pub(crate) fn new(record: u64, line: u64, events_hint: usize) -> Claim {
        Claim {
            record,
            line,
            source: SourceRecord {
                identity: Default::default(),
                events: Vec::with_capacity(events_hint),
            },
            warnings: Vec::new(),
            error: None,
            month: None,
            category: None,
            ho_idx: None,
            unmapped_reported: false,
            admission: None,
            coded: Vec::new(),
            dispensings: Vec::new(),
        }
    }

    /// Completes the claim: in a DPC claim, an `SI`/`IY`/`TO` event that a `CD` コーディング
    /// データ line records too (same kind, date and code) is dropped, so each act counts once.
    pub(crate) fn finish(&mut self) {
        if self.coded.is_empty() {
            return;
        }
        let events = &self.source.events;
        let mut from_cd = vec![false; events.len()];
        for &i in &self.coded {
            if let Some(f) = from_cd.get_mut(i) {
                *f = true;
            }
        }
        let mut coded: Vec<(Date, EventKind, &Code)> = self
            .coded
            .iter()
            .filter_map(|&i| {
                let e = events.get(i)?;
                Some((e.date, e.kind, e.code.as_ref()?))
            })
            .collect();
        coded.sort_unstable();
        // What SI/IY/TO yield: receipt-coded events (diagnoses and BU are coded otherwise).
        let repeated = |e: &Event| {
            e.code.as_ref().is_some_and(|c| {
                let item = match &c.system {
                    CodeSystem::ReceiptProcedure | CodeSystem::ReceiptDrug => true,
                    CodeSystem::Other(s) => s == RECEIPT_DEVICE,
                    _ => false,
                };
                item && coded.binary_search(&(e.date, e.kind, c)).is_ok()
            })
        };
        let drop: Vec<bool> = events
            .iter()
            .zip(&from_cd)
            .map(|(e, &cd)| !cd && repeated(e))
            .collect();
        let mut i = 0;
        self.source.events.retain(|_| {
            i += 1;
            !drop.get(i - 1).copied().unwrap_or(false)
        });
    }

    fn month(&self) -> Result<Date, LineFault> {
        self.month
            .ok_or((UkeError::InvalidDate, Some("RE.診療年月")))
    }

    fn push(&mut self, kind: EventKind, date: Date, code: Code, value: Option<f64>) {
        self.source.events.push(Event {
            kind,
            date,
            end_date: None,
            code: Some(code),
            value,
            unit: None,
        });
    }
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

/// Splits "氏　名" at the first full- or half-width space.
fn split_name(s: &str) -> (Option<String>, Option<String>) {
    let s = s.trim_end();
    let part = |p: &str| Some(p.trim()).filter(|p| !p.is_empty()).map(str::to_owned);
    match s.find(['　', ' ']) {
        Some(at) => {
            let sep = s[at..].chars().next().map_or(1, char::len_utf8);
            (part(&s[..at]), part(&s[at + sep..]))
        }
        None => (part(s), None),
    }
}

/// RE (レセプト共通): 3 診療年月 (調剤年月), 4 氏名, 5 男女区分, 6 生年月日; the patient number
/// (医科 13 カルテ番号等, 調剤 35 調剤録番号等) and the kana name (医科 36, 調剤 41).
pub(crate) fn read_re(claim: &mut Claim, cols: &Cols<'_>, layout: Layout) -> Result<(), LineFault> {
    cols.need(7)?;
    let month = wareki::parse_year_month(cols.raw(3))
        .map_err(|_| (UkeError::InvalidDate, Some("RE.診療年月")))?;
    claim.month = Some(month);
    let (pid_col, kana_col) = layout.re_columns();
    let id = &mut claim.source.identity;
    let (family_kanji, given_kanji) = split_name(cols.raw(4));
    let (family_kana, given_kana) = split_name(cols.raw(kana_col));
    let name = PersonName {
        family_kanji,
        given_kanji,
        family_kana,
        given_kana,
    };
    if name != PersonName::default() {
        id.names.push(name);
    }
    id.sex = match cols.get(5) {
        "1" => Sex::Male,
        "2" => Sex::Female,
        _ => Sex::Unknown,
    };
    if !cols.get(6).is_empty() {
        let dob = wareki::parse_date(cols.raw(6))
            .map_err(|_| (UkeError::InvalidDate, Some("RE.生年月日")))?;
        id.birth_date = Some(dob);
    }
    id.patient_id = owned(cols.opt(pid_col));
    Ok(())
}

/// HO (保険者, both layouts): 1 保険者番号, 2 記号, 3 番号.
pub(crate) fn read_ho(claim: &mut Claim, cols: &Cols<'_>) -> Result<(), LineFault> {
    cols.need(4)?;
    let ins = &mut claim.source.identity.insurances;
    ins.push(Insurance {
        insurer_number: owned(cols.opt(1)),
        symbol: owned(cols.opt(2)),
        number: owned(cols.opt(3)),
        branch: None,
    });
    claim.ho_idx = Some(ins.len() - 1);
    Ok(())
}

/// KO (公費, both layouts): 1 公費負担者番号, 2 公費受給者番号.
pub(crate) fn read_ko(claim: &mut Claim, cols: &Cols<'_>) -> Result<(), LineFault> {
    cols.need(3)?;
    claim.source.identity.insurances.push(Insurance {
        insurer_number: owned(cols.opt(1)),
        symbol: None,
        number: owned(cols.opt(2)),
        branch: None,
    });
    Ok(())
}

/// SN (資格確認, both layouts): 1 負担者種別 (1 = 医療保険), 6 枝番; the branch goes to the HO
/// insurance.
pub(crate) fn read_sn(claim: &mut Claim, cols: &Cols<'_>) -> Result<(), LineFault> {
    cols.need(7)?;
    if cols.get(1) == "1"
        && let (Some(i), Some(branch)) = (claim.ho_idx, cols.opt(6))
        && let Some(ins) = claim.source.identity.insurances.get_mut(i)
    {
        ins.branch = Some(branch.to_owned());
    }
    Ok(())
}

/// A 傷病名コード as ICD-10 when the masters map it, else as `receipt_disease`.
fn disease_code(code: &str, masters: Option<&Masters>) -> Code {
    match masters.and_then(|m| m.disease(code)?.icd10.as_deref()) {
        Some(icd) => Code::new(CodeSystem::Icd10, icd),
        None => Code::new(CodeSystem::Other(RECEIPT_DISEASE.to_owned()), code),
    }
}

/// SY (傷病名): 1 傷病名コード, 2 診療開始日.
pub(crate) fn read_sy(
    claim: &mut Claim,
    cols: &Cols<'_>,
    masters: Option<&Masters>,
) -> Result<(), LineFault> {
    cols.need(3)?;
    let date = wareki::parse_date(cols.raw(2))
        .map_err(|_| (UkeError::InvalidDate, Some("SY.診療開始日")))?;
    claim.push(
        EventKind::Diagnosis,
        date,
        disease_code(cols.get(1), masters),
        None,
    );
    Ok(())
}

/// The event kind of a 診療行為 by its 診療識別: 11/12 (初診/再診) an outpatient encounter,
/// 90–97 (入院) an inpatient encounter, else a procedure.
fn procedure_kind(category: Option<u32>) -> EventKind {
    match category {
        Some(11 | 12) => EventKind::Encounter(EncounterClass::Outpatient),
        Some(90..=97) => EventKind::Encounter(EncounterClass::Inpatient),
        _ => EventKind::Procedure,
    }
}

/// The 医科 item records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    /// SI 診療行為.
    Procedure,
    /// IY 医薬品.
    Drug,
    /// TO 特定器材.
    Device,
}

/// SI / IY (44 columns) and TO (48 columns): 1 診療識別 (blank repeats the previous line's),
/// 3 code, 6 回数, then the 31 算定日 columns (13–43 for SI/IY, 17–47 for TO).
pub(crate) fn read_item(claim: &mut Claim, item: Item, cols: &Cols<'_>) -> Result<(), LineFault> {
    let (n_cols, first_day, field) = match item {
        Item::Device => (48, 17, "TO.算定日"),
        Item::Drug => (44, 13, "IY.算定日"),
        Item::Procedure => (44, 13, "SI.算定日"),
    };
    cols.need(n_cols)?;
    let category = cols.get(1);
    if !category.is_empty() {
        claim.category = category.parse().ok();
    }
    let month = claim.month()?;
    let (kind, system) = match item {
        Item::Drug => (EventKind::Prescription, CodeSystem::ReceiptDrug),
        Item::Device => (
            EventKind::Procedure,
            CodeSystem::Other(RECEIPT_DEVICE.to_owned()),
        ),
        Item::Procedure => (procedure_kind(claim.category), CodeSystem::ReceiptProcedure),
    };
    let value = cols.get(3);
    let start = claim.source.events.len();
    for (day0, cell) in cols.filled(first_day, 31) {
        let cell = trim(cell);
        if cell.is_empty() {
            continue;
        }
        let count: u32 = cell
            .parse()
            .map_err(|_| (UkeError::InvalidNumber, Some(field)))?;
        if count == 0 {
            continue;
        }
        let date = month
            .with_day0(day0 as u32)
            .ok_or((UkeError::InvalidDate, Some(field)))?;
        let code = Code::new(system.clone(), value);
        claim.push(kind, date, code, Some(f64::from(count)));
    }
    if claim.source.events.len() == start {
        // No day columns (layouts before 算定日 were recorded): one event on the first of the
        // claim month, valued by 回数.
        let count = cols.get(6).parse::<u32>().ok().map(f64::from);
        claim.push(kind, month, Code::new(system, value), count);
    }
    Ok(())
}

/// BU (DPC 診断群分類): 1 診断群分類番号, 2 今回入院年月日, 3 今回退院年月日 (may be blank).
pub(crate) fn read_bu(claim: &mut Claim, cols: &Cols<'_>) -> Result<(), LineFault> {
    cols.need(3)?;
    let date = wareki::parse_date(cols.raw(2))
        .map_err(|_| (UkeError::InvalidDate, Some("BU.今回入院年月日")))?;
    let end_date = match cols.opt(3) {
        Some(s) => Some(
            wareki::parse_date(s)
                .map_err(|_| (UkeError::InvalidDate, Some("BU.今回退院年月日")))?,
        ),
        None => None,
    };
    claim.admission.get_or_insert(date);
    claim.source.events.push(Event {
        kind: EventKind::Encounter(EncounterClass::Inpatient),
        date,
        end_date,
        code: Some(Code::new(CodeSystem::Other(DPC.to_owned()), cols.get(1))),
        value: None,
        unit: None,
    });
    Ok(())
}

/// SB (DPC 傷病): 1 傷病名コード, 2 修飾語コード, 3 傷病名称, 4 ICD10コード, 5 傷病名区分. A
/// diagnosis in ICD-10 as the record gives it (else as [`read_sy`] maps the 傷病名コード), dated
/// on the admission of the claim's `BU` (the record carries no date; the claim month's first
/// day when no `BU` precedes it).
pub(crate) fn read_sb(
    claim: &mut Claim,
    cols: &Cols<'_>,
    masters: Option<&Masters>,
) -> Result<(), LineFault> {
    cols.need(6)?;
    let date = match claim.admission {
        Some(d) => d,
        None => claim.month()?,
    };
    let code = match cols.opt(4) {
        Some(icd) => Code::new(CodeSystem::Icd10, icd),
        None => disease_code(cols.get(1), masters),
    };
    claim.push(EventKind::Diagnosis, date, code, None);
    Ok(())
}

/// Column `i` as a count: `None` when blank, [`UkeError::InvalidNumber`] about `field` when
/// not a whole number.
fn count_at(cols: &Cols<'_>, i: usize, field: &'static str) -> Result<Option<f64>, LineFault> {
    cols.opt(i)
        .map(|n| {
            n.parse::<u32>()
                .map(f64::from)
                .map_err(|_| (UkeError::InvalidNumber, Some(field)))
        })
        .transpose()
}

/// CD (DPC コーディングデータ): 1 実施年月日, 2 診療識別, 5 レセプト電算処理システム用コード, 9 回数.
/// The code's first digit says what it is: 6 a drug (prescription, `receipt_drug`), 7 a device
/// (procedure, `receipt_device`), else a 診療行為 classified by 診療識別 as `SI` is.
pub(crate) fn read_cd(claim: &mut Claim, cols: &Cols<'_>) -> Result<(), LineFault> {
    cols.need(10)?;
    let date = wareki::parse_date(cols.raw(1))
        .map_err(|_| (UkeError::InvalidDate, Some("CD.実施年月日")))?;
    let value = cols.get(5);
    let (kind, system) = match value.as_bytes().first() {
        Some(b'6') => (EventKind::Prescription, CodeSystem::ReceiptDrug),
        Some(b'7') => (
            EventKind::Procedure,
            CodeSystem::Other(RECEIPT_DEVICE.to_owned()),
        ),
        _ => (
            procedure_kind(cols.get(2).parse().ok()),
            CodeSystem::ReceiptProcedure,
        ),
    };
    let count = count_at(cols, 9, "CD.回数")?;
    claim.coded.push(claim.source.events.len());
    claim.push(kind, date, Code::new(system, value), count);
    Ok(())
}

/// SH (調剤 処方基本): starts a prescription; its `CZ` lines say when it was dispensed.
pub(crate) fn read_sh(claim: &mut Claim, cols: &Cols<'_>) -> Result<(), LineFault> {
    cols.need(3)?;
    claim.dispensings.clear();
    Ok(())
}

/// A 調剤 date: `YYYYMMDD` or `GYYMMDD`, or only the day (`DD`) of the claim month as older
/// layouts (処方月日, 調剤月日) record it.
fn dispensing_date(claim: &Claim, s: &str) -> Option<Date> {
    if (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        claim.month?.with_day(s.parse().ok()?)
    } else {
        wareki::parse_date(s).ok()
    }
}

/// CZ (調剤情報): 2 処方月日, 3 調剤月日, 5 調剤数量 (days for 内服, doses for 屯服).
pub(crate) fn read_cz(claim: &mut Claim, cols: &Cols<'_>) -> Result<(), LineFault> {
    cols.need(6)?;
    let date =
        dispensing_date(claim, cols.get(3)).ok_or((UkeError::InvalidDate, Some("CZ.調剤月日")))?;
    let quantity = count_at(cols, 5, "CZ.調剤数量")?;
    claim.dispensings.push((date, quantity));
    Ok(())
}

/// IY (調剤 医薬品): 2 医薬品コード, 3 使用量; TO (調剤 特定器材): 2 特定器材コード, 3 使用量.
/// One dispensing per `CZ` of the prescription, on its 調剤月日: a drug valued by 調剤数量, a
/// device by 使用量. Without a `CZ`, one dispensing on the first of the claim month.
pub(crate) fn read_dispensed(
    claim: &mut Claim,
    device: bool,
    cols: &Cols<'_>,
) -> Result<(), LineFault> {
    cols.need(3)?;
    let value = cols.get(2);
    let system = if device {
        CodeSystem::Other(RECEIPT_DEVICE.to_owned())
    } else {
        CodeSystem::ReceiptDrug
    };
    let used = if device {
        match cols.opt(3) {
            Some(s) => Some(
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or((UkeError::InvalidNumber, Some("TO.使用量")))?,
            ),
            None => None,
        }
    } else {
        None
    };
    let times = std::mem::take(&mut claim.dispensings);
    if times.is_empty() {
        let month = claim.month()?;
        claim.push(EventKind::Dispensing, month, Code::new(system, value), used);
        return Ok(());
    }
    for &(date, quantity) in &times {
        let value_of = if device { used } else { quantity };
        let code = Code::new(system.clone(), value);
        claim.push(EventKind::Dispensing, date, code, value_of);
    }
    claim.dispensings = times;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_first_space() {
        assert_eq!(
            split_name("山田　太郎 "),
            (Some("山田".into()), Some("太郎".into()))
        );
        assert_eq!(
            split_name("ヤマダ タロウ"),
            (Some("ヤマダ".into()), Some("タロウ".into()))
        );
        assert_eq!(split_name("山田"), (Some("山田".into()), None));
        assert_eq!(split_name("　太郎"), (None, Some("太郎".into())));
    }
}
