//! Streaming UKE reader: one [`RecordOutcome`] per claim (`RE` block), read line by line.
//!
//! Memory is bounded by one claim. A claim with a wrong column count, an impossible date, a bad
//! number or bytes that are not CP932 is rejected with one error diagnostic; the reader goes on
//! with the next `RE`. Findings outside any claim (header, stray lines, the `GO` count check, a
//! missing `GO`) are file-level (record number 0): each error is an outcome of its own (record 0,
//! rejected), each warning rides on the next outcome (on the last one when it comes after `GO`;
//! on a `UKE0012NoClaims` error when the file has no claim to carry it).
//! [`UkeReader::file_diagnostics`] lists them all again.
//!
//! Speed: a line is split into columns by offsets into one reused buffer, decoded from CP932
//! only when it is not ASCII (names and kana; codes, counts and dates are ASCII), and only for
//! record types that are read; fields are trimmed only when an end is not a visible ASCII
//! character; nothing is allocated per line except the events and identity strings a claim
//! keeps.

use std::collections::VecDeque;
use std::io::{BufRead, ErrorKind};

use tsumugi_model::{Date, Diagnostic, wareki};

use crate::RecordOutcome;
use crate::uke::error::UkeError;
use crate::uke::line::{Cols, LineFault};
use crate::uke::masters::Masters;
use crate::uke::records::{self, Claim, Item, Layout};

/// Reads UKE claims from a CP932 byte stream; an [`Iterator`] of [`RecordOutcome`]s, one per
/// `RE` block, plus one rejected outcome (record 0) per file-level error.
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
    /// The raw line, its CP932 decoding when not ASCII, and its column offsets: reused.
    buf: Vec<u8>,
    text: String,
    ends: Vec<usize>,
    line_no: u64,
    n_claims: u64,
    layout: Layout,
    claim: Option<Claim>,
    /// Outcomes ready to be yielded, in order.
    ready: VecDeque<RecordOutcome>,
    /// File-level warnings waiting for the next outcome.
    loose: Vec<Diagnostic>,
    file_diagnostics: Vec<Diagnostic>,
    provider_code: Option<String>,
    billing_month: Option<Date>,
    /// Events of the last claim: the next claim's starting capacity.
    events_hint: usize,
    saw_content: bool,
    go_seen: bool,
    done: bool,
}

/// The record types, from the first column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rec {
    Ir,
    Yk,
    Re,
    Go,
    Ho,
    Ko,
    Sn,
    Sy,
    Si,
    Iy,
    To,
    Bu,
    Sb,
    Cd,
    Sh,
    Cz,
    /// Recognised, and carrying nothing tsumugi keeps: 医科 CO (コメント), JD (受診日等), MF
    /// (窓口負担額), SJ (症状詳記: free text), TI/TR/TS (臓器提供者), GR (包括評価対象外理由), KH
    /// (国保連固有), NI (日計表); DPC KK (患者基礎), SK (診療関連: its acts are in `CD`), GA
    /// (外泊), HH (包括評価), GT (合計調整); 調剤 KI (基本料・薬学管理料), TK (摘要欄), ST (分割技術料).
    Skipped,
    Unknown,
}

fn rec_of(first: &[u8]) -> Rec {
    let kind = if first.len() == 2 {
        first
    } else {
        std::str::from_utf8(first).map_or(&b""[..], |s| s.trim().as_bytes())
    };
    match kind {
        b"IR" => Rec::Ir,
        b"YK" => Rec::Yk,
        b"RE" => Rec::Re,
        b"GO" => Rec::Go,
        b"HO" => Rec::Ho,
        b"KO" => Rec::Ko,
        b"SN" => Rec::Sn,
        b"SY" => Rec::Sy,
        b"SI" => Rec::Si,
        b"IY" => Rec::Iy,
        b"TO" => Rec::To,
        b"BU" => Rec::Bu,
        b"SB" => Rec::Sb,
        b"CD" => Rec::Cd,
        b"SH" => Rec::Sh,
        b"CZ" => Rec::Cz,
        b"CO" | b"JD" | b"MF" | b"SJ" | b"TI" | b"TR" | b"TS" | b"GR" | b"KH" | b"NI" | b"KK"
        | b"SK" | b"GA" | b"HH" | b"GT" | b"KI" | b"TK" | b"ST" => Rec::Skipped,
        _ => Rec::Unknown,
    }
}

impl Rec {
    /// The record type's name, for diagnostics.
    fn name(self) -> &'static str {
        match self {
            Rec::Sy => "SY",
            Rec::Si => "SI",
            Rec::Bu => "BU",
            Rec::Sb => "SB",
            Rec::Cd => "CD",
            Rec::Sh => "SH",
            Rec::Cz => "CZ",
            _ => "",
        }
    }
}

impl<'m, R: BufRead> UkeReader<'m, R> {
    /// A reader over `reader`; `file_label` names the file in every diagnostic. With `masters`,
    /// diagnoses whose 傷病名コード maps to ICD-10 are emitted as ICD-10.
    pub fn new(file_label: &str, reader: R, masters: Option<&'m Masters>) -> UkeReader<'m, R> {
        UkeReader {
            file: file_label.to_owned(),
            reader,
            masters,
            buf: Vec::new(),
            text: String::new(),
            ends: Vec::new(),
            line_no: 0,
            n_claims: 0,
            layout: Layout::Medical,
            claim: None,
            ready: VecDeque::new(),
            loose: Vec::new(),
            file_diagnostics: Vec::new(),
            provider_code: None,
            billing_month: None,
            events_hint: 0,
            saw_content: false,
            go_seen: false,
            done: false,
        }
    }

    /// Findings that belong to no claim (record number 0): header problems, lines outside a
    /// claim, the `GO` count check, a missing `GO`. The iterator yields them too (see the module
    /// docs); this list is complete once it is exhausted.
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

    fn file_diag(&mut self, err: UkeError, field: Option<&str>) -> Diagnostic {
        let d = err.at(&self.file, 0, self.line_no, field);
        self.file_diagnostics.push(d.clone());
        d
    }

    /// A file-level warning: it rides on the next outcome.
    fn file_warning(&mut self, err: UkeError, field: Option<&str>) {
        let d = self.file_diag(err, field);
        self.loose.push(d);
    }

    /// A file-level error: an outcome of its own, record 0.
    fn file_error(&mut self, err: UkeError, field: Option<&str>) {
        let d = self.file_diag(err, field);
        self.push_outcome(RecordOutcome {
            record: 0,
            line: Some(self.line_no),
            result: Err(d),
            warnings: Vec::new(),
        });
    }

    fn push_outcome(&mut self, mut o: RecordOutcome) {
        if !self.loose.is_empty() {
            o.warnings.splice(0..0, self.loose.drain(..));
        }
        self.ready.push_back(o);
    }

    fn push_claim(&mut self, mut claim: Claim) {
        claim.finish();
        self.events_hint = claim.source.events.len().min(4096);
        self.push_outcome(RecordOutcome {
            record: claim.record,
            line: Some(claim.line),
            result: match claim.error {
                Some(d) => Err(d),
                None => Ok(claim.source),
            },
            warnings: claim.warnings,
        });
    }

    /// Ends the claim being read, if any, and starts one at an `RE` line.
    fn start_claim(&mut self, line: &[u8]) {
        if let Some(c) = self.claim.take() {
            self.push_claim(c);
        }
        self.n_claims += 1;
        let mut claim = Claim::new(self.n_claims, self.line_no, self.events_hint);
        let res = match Cols::of_line(line, &mut self.text, &mut self.ends) {
            Some(cols) => records::read_re(&mut claim, &cols, self.layout),
            None => Err((UkeError::InvalidEncoding, None)),
        };
        if let Err((err, field)) = res {
            claim.error = Some(err.at(&self.file, claim.record, self.line_no, field));
        }
        self.claim = Some(claim);
    }

    fn read_go(&mut self, line: &[u8]) {
        let count = match Cols::of_line(line, &mut self.text, &mut self.ends) {
            None => Err((UkeError::InvalidEncoding, None)),
            Some(cols) => cols.need(2).and_then(|()| {
                cols.get(1)
                    .parse::<u64>()
                    .map_err(|_| (UkeError::InvalidNumber, Some("GO.総件数")))
            }),
        };
        match count {
            Ok(n) if n == self.n_claims => {}
            Ok(_) => self.file_error(UkeError::CountMismatch, Some("GO.総件数")),
            Err((err, field)) => self.file_error(err, field),
        }
    }

    /// `IR` (医科, DPC): 4 医療機関コード, 7 請求年月; `YK` (調剤): 4 薬局コード, 6 請求年月.
    fn read_header(&mut self, rec: Rec, line: &[u8]) {
        let (layout, month_col, field) = match rec {
            Rec::Yk => (Layout::Pharmacy, 6, "YK.請求年月"),
            _ => (Layout::Medical, 7, "IR.請求年月"),
        };
        self.layout = layout;
        let res = match Cols::of_line(line, &mut self.text, &mut self.ends) {
            None => Err((UkeError::InvalidEncoding, None)),
            Some(cols) => cols.need(month_col + 1).and_then(|()| {
                self.provider_code = cols.opt(4).map(str::to_owned);
                wareki::parse_year_month(cols.raw(month_col))
                    .map_err(|_| (UkeError::InvalidDate, Some(field)))
            }),
        };
        match res {
            Ok(d) => self.billing_month = Some(d),
            Err((err, field)) => self.file_error(err, field),
        }
    }

    /// One line inside (or meant for) a claim.
    fn read_claim_line(&mut self, rec: Rec, line: &[u8]) {
        let Some(claim) = self.claim.as_mut() else {
            return self.file_warning(UkeError::OutsideClaim, None);
        };
        if claim.error.is_some() {
            return;
        }
        let in_layout = match rec {
            Rec::Sy | Rec::Si | Rec::Bu | Rec::Sb | Rec::Cd => self.layout == Layout::Medical,
            Rec::Sh | Rec::Cz => self.layout == Layout::Pharmacy,
            _ => true,
        };
        if !in_layout {
            // A record of the other layout (調剤 SI, 医科 CZ …): reported once per claim.
            if !claim.unmapped_reported {
                claim.unmapped_reported = true;
                let w = UkeError::UnmappedRecord.at(
                    &self.file,
                    claim.record,
                    self.line_no,
                    Some(rec.name()),
                );
                claim.warnings.push(w);
            }
            return;
        }
        let res: Result<(), LineFault> = match Cols::of_line(line, &mut self.text, &mut self.ends) {
            None => Err((UkeError::InvalidEncoding, None)),
            Some(cols) => {
                let pharmacy = self.layout == Layout::Pharmacy;
                match rec {
                    Rec::Ho => records::read_ho(claim, &cols),
                    Rec::Ko => records::read_ko(claim, &cols),
                    Rec::Sn => records::read_sn(claim, &cols),
                    Rec::Sy => records::read_sy(claim, &cols, self.masters),
                    Rec::Si => records::read_item(claim, Item::Procedure, &cols),
                    Rec::Iy if pharmacy => records::read_dispensed(claim, false, &cols),
                    Rec::Iy => records::read_item(claim, Item::Drug, &cols),
                    Rec::To if pharmacy => records::read_dispensed(claim, true, &cols),
                    Rec::To => records::read_item(claim, Item::Device, &cols),
                    Rec::Bu => records::read_bu(claim, &cols),
                    Rec::Sb => records::read_sb(claim, &cols, self.masters),
                    Rec::Cd => records::read_cd(claim, &cols),
                    Rec::Sh => records::read_sh(claim, &cols),
                    Rec::Cz => records::read_cz(claim, &cols),
                    _ => Ok(()),
                }
            }
        };
        if let Err((err, field)) = res {
            claim.error = Some(err.at(&self.file, claim.record, self.line_no, field));
        }
    }

    /// One non-empty line.
    fn read_line(&mut self, line: &[u8]) {
        self.saw_content = true;
        let kind_end = line.iter().position(|&b| b == b',').unwrap_or(line.len());
        let rec = rec_of(line.get(..kind_end).unwrap_or_default());
        match rec {
            Rec::Re => self.start_claim(line),
            Rec::Go => {
                if let Some(c) = self.claim.take() {
                    self.push_claim(c);
                }
                self.go_seen = true;
                self.read_go(line);
            }
            _ if self.go_seen => self.file_warning(UkeError::AfterTotals, None),
            Rec::Ir | Rec::Yk => self.read_header(rec, line),
            Rec::Skipped => {
                if self.claim.is_none() {
                    self.file_warning(UkeError::OutsideClaim, None);
                }
            }
            Rec::Unknown => match self.claim.as_mut() {
                Some(claim) => {
                    let w = UkeError::UnknownRecordType.at(
                        &self.file,
                        claim.record,
                        self.line_no,
                        None,
                    );
                    claim.warnings.push(w);
                }
                None => self.file_warning(UkeError::UnknownRecordType, None),
            },
            _ => self.read_claim_line(rec, line),
        }
    }

    /// The end of the input: the last claim, then the file-level checks.
    fn end(&mut self) {
        self.done = true;
        if let Some(c) = self.claim.take() {
            self.push_claim(c);
        }
        if self.saw_content && !self.go_seen {
            self.line_no += 1;
            self.file_error(UkeError::MissingTotals, None);
        }
        if self.ready.is_empty() && !self.loose.is_empty() {
            // No claim, yet lines were skipped: the findings need an outcome to reach the
            // caller (an empty claims file, `IR` and `GO,0`, yields nothing).
            self.file_error(UkeError::NoClaims, None);
        }
        if let Some(last) = self.ready.back_mut() {
            last.warnings.append(&mut self.loose);
        }
    }

    /// The input failed: the claim being read is rejected (or, outside a claim, the file).
    fn fail(&mut self) {
        self.line_no += 1;
        match self.claim.take() {
            Some(mut claim) => {
                claim.error = Some(UkeError::Io.at(&self.file, claim.record, self.line_no, None));
                self.push_claim(claim);
            }
            None => self.file_error(UkeError::Io, None),
        }
        self.done = true;
        if let Some(last) = self.ready.back_mut() {
            last.warnings.append(&mut self.loose);
        }
    }

    /// Reads and handles one line (or the end of the input).
    fn step(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(0) => self.end(),
            Ok(_) => {
                self.line_no += 1;
                let mut line: &[u8] = &buf;
                while let [rest @ .., b'\n' | b'\r' | 0x1a] = line {
                    line = rest;
                }
                if !line.is_empty() {
                    self.read_line(line);
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => self.fail(),
        }
        self.buf = buf;
    }
}

impl<R: BufRead> Iterator for UkeReader<'_, R> {
    type Item = RecordOutcome;

    fn next(&mut self) -> Option<RecordOutcome> {
        loop {
            // After GO only warnings can follow: hold the last outcomes so they can carry them.
            let hold = self.go_seen && !self.done;
            if !hold && let Some(o) = self.ready.pop_front() {
                return Some(o);
            }
            if self.done {
                return None;
            }
            self.step();
        }
    }
}
