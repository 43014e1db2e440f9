//! Streaming UKE reader: one [`RecordOutcome`] per claim (`RE` block), read line by line.
//!
//! Memory is bounded by one claim. A claim with a wrong column count, an impossible date, a bad
//! number or bytes that are not CP932 is rejected with one error diagnostic; the reader goes on
//! with the next `RE`. Findings outside any claim (header, stray lines, the `GO` count check, a
//! missing `GO`) are file-level: see [`UkeReader::file_diagnostics`] (record number 0).

use std::io::{BufRead, ErrorKind};

use chrono::Datelike;
use encoding_rs::SHIFT_JIS;
use tsumugi_model::{
    Code, CodeSystem, Date, Diagnostic, EncounterClass, Event, EventKind, IdentityAttributes,
    Insurance, PersonName, Sex, SourceRecord, wareki,
};

use crate::RecordOutcome;
use crate::uke::error::UkeError;
use crate::uke::masters::Masters;
use crate::uke::{DPC, RECEIPT_DEVICE, RECEIPT_DISEASE};

/// Record types that are recognised and deliberately skipped: 医科 CO (コメント), JD (受診日等),
/// MF (窓口負担額), SJ (症状詳記), TI/TR/TS (臓器提供), GR; DPC SB (傷病), KK (患者基礎), SK,
/// GA (外泊), HH (包括評価), GT (合計調整), CD (コーディングデータ: duplicates SI/IY/TO); 調剤
/// SH (処方基本), CZ (調剤), KI (基本料・薬学管理料), TK (摘要).
const SKIPPED: [&str; 20] = [
    "CO", "JD", "MF", "SJ", "TI", "TR", "TS", "GR", "SB", "KK", "SK", "GA", "HH", "GT", "CD", "SH",
    "CZ", "KI", "TK", "KH",
];

/// Reads UKE claims from a CP932 byte stream; an [`Iterator`] of [`RecordOutcome`]s, one per
/// `RE` block.
///
/// ```
/// use tsumugi_formats::uke::UkeReader;
///
/// let file = b"IR,1,13,1,1234567,,,202404,00,\r\n\
///              RE,1,1112,202404,A B,1,19800101\r\n\
///              SY,2500013,20240401,1,,,01,\r\n\
///              GO,1,0,99\r\n";
/// let outcomes: Vec<_> = UkeReader::new("RECEIPTC.UKE", &file[..], None).collect();
/// assert_eq!(outcomes.len(), 1);
/// let record = outcomes[0].result.as_ref().unwrap();
/// assert_eq!(record.events[0].code.as_ref().unwrap().value, "2500013");
/// ```
#[derive(Debug)]
pub struct UkeReader<'m, R> {
    file: String,
    reader: R,
    masters: Option<&'m Masters>,
    buf: Vec<u8>,
    line_no: u64,
    n_claims: u64,
    claim: Option<Claim>,
    file_diagnostics: Vec<Diagnostic>,
    provider_code: Option<String>,
    billing_month: Option<Date>,
    pharmacy: bool,
    saw_content: bool,
    go_seen: bool,
    done: bool,
}

/// The claim being read.
#[derive(Debug)]
struct Claim {
    record: u64,
    line: u64,
    source: SourceRecord,
    warnings: Vec<Diagnostic>,
    error: Option<Diagnostic>,
    month: Option<Date>,
    category: String,
    ho_idx: Option<usize>,
}

/// A fault in one line: the error and the column it concerns.
type LineFault = (UkeError, Option<&'static str>);

impl<'m, R: BufRead> UkeReader<'m, R> {
    /// A reader over `reader`; `file_label` names the file in every diagnostic. With `masters`,
    /// diagnoses whose 傷病名コード maps to ICD-10 are emitted as ICD-10.
    pub fn new(file_label: &str, reader: R, masters: Option<&'m Masters>) -> UkeReader<'m, R> {
        UkeReader {
            file: file_label.to_owned(),
            reader,
            masters,
            buf: Vec::new(),
            line_no: 0,
            n_claims: 0,
            claim: None,
            file_diagnostics: Vec::new(),
            provider_code: None,
            billing_month: None,
            pharmacy: false,
            saw_content: false,
            go_seen: false,
            done: false,
        }
    }

    /// Findings that belong to no claim (record number 0): header problems, lines outside a
    /// claim, the `GO` count check and a missing `GO`. Complete once the iterator is exhausted.
    pub fn file_diagnostics(&self) -> &[Diagnostic] {
        &self.file_diagnostics
    }

    /// The 医療機関コード (or 薬局コード) from the `IR` / `YK` header, once read.
    pub fn provider_code(&self) -> Option<&str> {
        self.provider_code.as_deref()
    }

    /// The 請求年月 from the header (first day of the month), once read.
    pub fn billing_month(&self) -> Option<Date> {
        self.billing_month
    }

    fn file_diag(&mut self, err: UkeError, field: Option<&str>) {
        let d = err.at(&self.file, 0, self.line_no, field);
        self.file_diagnostics.push(d);
    }

    fn finish(claim: Claim) -> RecordOutcome {
        RecordOutcome {
            record: claim.record,
            line: Some(claim.line),
            result: match claim.error {
                Some(d) => Err(d),
                None => Ok(claim.source),
            },
            warnings: claim.warnings,
        }
    }

    /// Starts a claim at an `RE` line and returns the one it ends, if any.
    fn start_claim(&mut self, text: Option<&str>) -> Option<RecordOutcome> {
        let finished = self.claim.take().map(Self::finish);
        self.n_claims += 1;
        let mut claim = Claim {
            record: self.n_claims,
            line: self.line_no,
            source: SourceRecord {
                identity: IdentityAttributes::default(),
                events: Vec::new(),
            },
            warnings: Vec::new(),
            error: None,
            month: None,
            category: String::new(),
            ho_idx: None,
        };
        let res = match text {
            Some(text) => read_re(&mut claim, &split(text)),
            None => Err((UkeError::InvalidEncoding, None)),
        };
        if let Err((err, field)) = res {
            claim.error = Some(err.at(&self.file, claim.record, self.line_no, field));
        }
        self.claim = Some(claim);
        finished
    }

    fn read_go(&mut self, text: Option<&str>) {
        self.go_seen = true;
        let Some(text) = text else {
            return self.file_diag(UkeError::InvalidEncoding, None);
        };
        let cols = split(text);
        if cols.len() < 2 {
            return self.file_diag(UkeError::WrongColumnCount, None);
        }
        match cols[1].trim().parse::<u64>() {
            Ok(n) if n == self.n_claims => {}
            Ok(_) => self.file_diag(UkeError::CountMismatch, Some("GO.総件数")),
            Err(_) => self.file_diag(UkeError::InvalidNumber, Some("GO.総件数")),
        }
    }

    fn read_header(&mut self, kind: &str, text: Option<&str>) {
        let Some(text) = text else {
            return self.file_diag(UkeError::InvalidEncoding, None);
        };
        let cols = split(text);
        if cols.len() < 8 {
            return self.file_diag(UkeError::WrongColumnCount, None);
        }
        self.pharmacy = kind == "YK";
        self.provider_code = Some(cols[4].trim().to_owned()).filter(|s| !s.is_empty());
        match wareki::parse_year_month(cols[7]) {
            Ok(d) => self.billing_month = Some(d),
            Err(_) => self.file_diag(UkeError::InvalidDate, Some("IR.請求年月")),
        }
    }

    /// One line inside (or meant for) a claim.
    fn read_claim_line(&mut self, kind: &str, text: Option<&str>) {
        let Some(claim) = self.claim.as_mut() else {
            return self.file_diag(UkeError::OutsideClaim, None);
        };
        if claim.error.is_some() {
            return;
        }
        let res = match text {
            None => Err((UkeError::InvalidEncoding, None)),
            Some(text) => {
                let cols = split(text);
                match kind {
                    "HO" => read_ho(claim, &cols),
                    "KO" => read_ko(claim, &cols),
                    "SN" => read_sn(claim, &cols),
                    "SY" => read_sy(claim, &cols, self.masters),
                    "SI" | "IY" | "TO" if self.pharmacy => {
                        let seen = claim
                            .warnings
                            .iter()
                            .any(|w| w.code == UkeError::UnmappedRecord.code());
                        if !seen {
                            let w = UkeError::UnmappedRecord.at(
                                &self.file,
                                claim.record,
                                self.line_no,
                                Some("調剤"),
                            );
                            claim.warnings.push(w);
                        }
                        Ok(())
                    }
                    "SI" | "IY" | "TO" => read_item(claim, kind, &cols),
                    "BU" => read_bu(claim, &cols),
                    _ => Ok(()),
                }
            }
        };
        if let Err((err, field)) = res {
            claim.error = Some(err.at(&self.file, claim.record, self.line_no, field));
        }
    }
}

impl<R: BufRead> Iterator for UkeReader<'_, R> {
    type Item = RecordOutcome;

    fn next(&mut self) -> Option<RecordOutcome> {
        while !self.done {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            match self.reader.read_until(b'\n', &mut buf) {
                Ok(0) => {
                    self.done = true;
                    if self.saw_content && !self.go_seen {
                        self.line_no += 1;
                        self.file_diag(UkeError::MissingTotals, None);
                    }
                    self.buf = buf;
                    return self.claim.take().map(Self::finish);
                }
                Ok(_) => self.line_no += 1,
                Err(e) if e.kind() == ErrorKind::Interrupted => {
                    self.buf = buf;
                    continue;
                }
                Err(_) => {
                    self.done = true;
                    self.line_no += 1;
                    match self.claim.take() {
                        Some(mut claim) => {
                            let d = UkeError::Io.at(&self.file, claim.record, self.line_no, None);
                            claim.error = Some(d);
                            return Some(Self::finish(claim));
                        }
                        None => {
                            self.file_diag(UkeError::Io, None);
                            return None;
                        }
                    }
                }
            }
            let mut line: &[u8] = &buf;
            while let [rest @ .., b'\n' | b'\r' | 0x1a] = line {
                line = rest;
            }
            if line.is_empty() {
                self.buf = buf;
                continue;
            }
            self.saw_content = true;
            let kind_end = line.iter().position(|&b| b == b',').unwrap_or(line.len());
            let kind = std::str::from_utf8(&line[..kind_end]).unwrap_or("").trim();
            let kind = kind.to_owned();
            let text = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(line);
            let text = text.as_deref();
            let mut out = None;
            match kind.as_str() {
                "RE" => out = self.start_claim(text),
                "GO" => {
                    out = self.claim.take().map(Self::finish);
                    self.read_go(text);
                }
                _ if self.go_seen => self.file_diag(UkeError::AfterTotals, None),
                "IR" | "YK" => self.read_header(&kind, text),
                "HO" | "KO" | "SN" | "SY" | "SI" | "IY" | "TO" | "BU" => {
                    self.read_claim_line(&kind, text);
                }
                k if SKIPPED.contains(&k) => {
                    if self.claim.is_none() {
                        self.file_diag(UkeError::OutsideClaim, None);
                    }
                }
                _ => match self.claim.as_mut() {
                    Some(claim) => {
                        let w = UkeError::UnknownRecordType.at(
                            &self.file,
                            claim.record,
                            self.line_no,
                            None,
                        );
                        claim.warnings.push(w);
                    }
                    None => self.file_diag(UkeError::UnknownRecordType, None),
                },
            }
            self.buf = buf;
            if out.is_some() {
                return out;
            }
        }
        None
    }
}

fn split(text: &str) -> Vec<&str> {
    text.split(',').collect()
}

fn need(cols: &[&str], n: usize) -> Result<(), LineFault> {
    if cols.len() < n {
        Err((UkeError::WrongColumnCount, None))
    } else {
        Ok(())
    }
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Splits "氏　名" at the first full- or half-width space.
fn split_name(s: &str) -> (Option<String>, Option<String>) {
    let s = s.trim_end();
    match s.find(['　', ' ']) {
        Some(at) => {
            let sep = s[at..].chars().next().map_or(1, char::len_utf8);
            (opt(&s[..at]), opt(&s[at + sep..]))
        }
        None => (opt(s), None),
    }
}

/// RE (レセプト共通): 1 レセプト番号, 2 種別, 3 診療年月, 4 氏名, 5 男女区分, 6 生年月日,
/// 13 カルテ番号等, 36 カタカナ氏名.
fn read_re(claim: &mut Claim, cols: &[&str]) -> Result<(), LineFault> {
    need(cols, 7)?;
    let month = wareki::parse_year_month(cols[3])
        .map_err(|_| (UkeError::InvalidDate, Some("RE.診療年月")))?;
    claim.month = Some(month);
    let id = &mut claim.source.identity;
    let (family_kanji, given_kanji) = split_name(cols[4]);
    let (family_kana, given_kana) = split_name(cols.get(36).copied().unwrap_or(""));
    let name = PersonName {
        family_kanji,
        given_kanji,
        family_kana,
        given_kana,
    };
    if name != PersonName::default() {
        id.names.push(name);
    }
    id.sex = match cols[5].trim() {
        "1" => Sex::Male,
        "2" => Sex::Female,
        _ => Sex::Unknown,
    };
    if !cols[6].trim().is_empty() {
        let dob = wareki::parse_date(cols[6])
            .map_err(|_| (UkeError::InvalidDate, Some("RE.生年月日")))?;
        id.birth_date = Some(dob);
    }
    id.patient_id = cols.get(13).and_then(|s| opt(s));
    Ok(())
}

/// HO (保険者): 1 保険者番号, 2 記号, 3 番号.
fn read_ho(claim: &mut Claim, cols: &[&str]) -> Result<(), LineFault> {
    need(cols, 4)?;
    let ins = &mut claim.source.identity.insurances;
    ins.push(Insurance {
        insurer_number: opt(cols[1]),
        symbol: opt(cols[2]),
        number: opt(cols[3]),
        branch: None,
    });
    claim.ho_idx = Some(ins.len() - 1);
    Ok(())
}

/// KO (公費): 1 公費負担者番号, 2 公費受給者番号.
fn read_ko(claim: &mut Claim, cols: &[&str]) -> Result<(), LineFault> {
    need(cols, 3)?;
    claim.source.identity.insurances.push(Insurance {
        insurer_number: opt(cols[1]),
        symbol: None,
        number: opt(cols[2]),
        branch: None,
    });
    Ok(())
}

/// SN (資格確認): 1 負担者種別 (1 = 医療保険), 6 枝番; the branch goes to the HO insurance.
fn read_sn(claim: &mut Claim, cols: &[&str]) -> Result<(), LineFault> {
    need(cols, 7)?;
    if cols[1].trim() == "1"
        && let (Some(i), Some(branch)) = (claim.ho_idx, opt(cols[6]))
        && let Some(ins) = claim.source.identity.insurances.get_mut(i)
    {
        ins.branch = Some(branch);
    }
    Ok(())
}

/// SY (傷病名): 1 傷病名コード, 2 診療開始日.
fn read_sy(claim: &mut Claim, cols: &[&str], masters: Option<&Masters>) -> Result<(), LineFault> {
    need(cols, 3)?;
    let code = cols[1].trim();
    let date =
        wareki::parse_date(cols[2]).map_err(|_| (UkeError::InvalidDate, Some("SY.診療開始日")))?;
    let icd10 = masters
        .and_then(|m| m.disease(code))
        .and_then(|d| d.icd10.clone());
    let code = match icd10 {
        Some(icd) => Code::new(CodeSystem::Icd10, icd),
        None => Code::new(CodeSystem::Other(RECEIPT_DISEASE.to_owned()), code),
    };
    claim.source.events.push(Event {
        kind: EventKind::Diagnosis,
        date,
        end_date: None,
        code: Some(code),
        value: None,
        unit: None,
    });
    Ok(())
}

/// SI / IY (44 columns) and TO (48 columns): 1 診療識別 (blank repeats the previous line's),
/// 3 code, 6 回数, then the 31 算定日 columns (13–43 for SI/IY, 17–47 for TO).
fn read_item(claim: &mut Claim, kind: &str, cols: &[&str]) -> Result<(), LineFault> {
    let (n_cols, first_day, field) = match kind {
        "TO" => (48, 17, "TO.算定日"),
        "IY" => (44, 13, "IY.算定日"),
        _ => (44, 13, "SI.算定日"),
    };
    need(cols, n_cols)?;
    let category = cols[1].trim();
    if !category.is_empty() {
        category.clone_into(&mut claim.category);
    }
    let month = claim
        .month
        .ok_or((UkeError::InvalidDate, Some("RE.診療年月")))?;
    let (event_kind, system) = match kind {
        "IY" => (EventKind::Prescription, CodeSystem::ReceiptDrug),
        "TO" => (
            EventKind::Procedure,
            CodeSystem::Other(RECEIPT_DEVICE.to_owned()),
        ),
        _ => {
            let k = match claim.category.parse::<u32>() {
                Ok(11 | 12) => EventKind::Encounter(EncounterClass::Outpatient),
                Ok(90..=97) => EventKind::Encounter(EncounterClass::Inpatient),
                _ => EventKind::Procedure,
            };
            (k, CodeSystem::ReceiptProcedure)
        }
    };
    let code = Code::new(system, cols[3].trim());
    let mut any_day = false;
    for (idx, cell) in cols[first_day..first_day + 31].iter().enumerate() {
        let cell = cell.trim();
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
            .with_day(idx as u32 + 1)
            .ok_or((UkeError::InvalidDate, Some(field)))?;
        any_day = true;
        claim.source.events.push(Event {
            kind: event_kind,
            date,
            end_date: None,
            code: Some(code.clone()),
            value: Some(f64::from(count)),
            unit: None,
        });
    }
    if !any_day {
        // No day columns (layouts before 算定日 were recorded): one event on the first of the
        // claim month, valued by 回数.
        let count = cols[6].trim().parse::<u32>().ok().map(f64::from);
        claim.source.events.push(Event {
            kind: event_kind,
            date: month,
            end_date: None,
            code: Some(code),
            value: count,
            unit: None,
        });
    }
    Ok(())
}

/// BU (DPC 診断群分類): 1 診断群分類番号, 2 今回入院年月日, 3 今回退院年月日 (may be blank).
fn read_bu(claim: &mut Claim, cols: &[&str]) -> Result<(), LineFault> {
    need(cols, 3)?;
    let date = wareki::parse_date(cols[2])
        .map_err(|_| (UkeError::InvalidDate, Some("BU.今回入院年月日")))?;
    let end_date = match cols.get(3).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            wareki::parse_date(s)
                .map_err(|_| (UkeError::InvalidDate, Some("BU.今回退院年月日")))?,
        ),
        None => None,
    };
    claim.source.events.push(Event {
        kind: EventKind::Encounter(EncounterClass::Inpatient),
        date,
        end_date,
        code: Some(Code::new(CodeSystem::Other(DPC.to_owned()), cols[1].trim())),
        value: None,
        unit: None,
    });
    Ok(())
}
