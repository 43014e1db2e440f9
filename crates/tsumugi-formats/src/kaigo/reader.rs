//! The streaming 介護 claims reader: one line at a time, one record per run of lines of a person.

use std::collections::VecDeque;
use std::io::BufRead;

use encoding_rs::SHIFT_JIS;
use tsumugi_model::{
    Code, CodeSystem, Date, Diagnostic, Event, EventKind, IdentityAttributes, Insurance,
    PersonName, Sex, SourceRecord, wareki,
};

use crate::RecordOutcome;
use crate::diag::{Where, renumber};
use crate::kaigo::error::KaigoError;
use crate::kaigo::{N_COLUMNS, care_level};

/// Reads 介護 claims CSV (layout in [`crate::kaigo`]); an [`Iterator`] of [`RecordOutcome`]s.
///
/// ```
/// use tsumugi_formats::kaigo::KaigoReader;
/// let csv = b"131016,0000012345,19400101,2,202404,22,111111,250,8\r\n";
/// let out: Vec<_> = KaigoReader::new("kaigo.csv", &csv[..]).collect();
/// let rec = out[0].result.as_ref().unwrap();
/// assert_eq!(rec.events.len(), 2); // care level K2, then 2000 units of service 111111
/// assert_eq!(rec.events[1].value, Some(2000.0));
/// ```
#[derive(Debug)]
pub struct KaigoReader<R> {
    file: String,
    reader: R,
    buf: Vec<u8>,
    line: u64,
    records: u64,
    group: Option<Group>,
    pending: VecDeque<RecordOutcome>,
    done: bool,
}

#[derive(Debug)]
struct Group {
    key: (String, String),
    line: u64,
    record: SourceRecord,
    warnings: Vec<Diagnostic>,
    level: Option<&'static str>,
}

struct Row {
    insurer: String,
    insured: String,
    birth: Option<Date>,
    sex: Sex,
    month: Date,
    level: Option<&'static str>,
    service: String,
    value: f64,
    kana: Option<PersonName>,
}

impl<R: BufRead> KaigoReader<R> {
    /// A reader over `reader`; `label` names the file in every diagnostic.
    pub fn new(label: &str, reader: R) -> KaigoReader<R> {
        KaigoReader {
            file: label.to_owned(),
            reader,
            buf: Vec::new(),
            line: 0,
            records: 0,
            group: None,
            pending: VecDeque::new(),
            done: false,
        }
    }

    fn at(&self) -> Where<'_> {
        Where {
            file: &self.file,
            record: 0,
            line: Some(self.line),
        }
    }

    fn push(&mut self, mut o: RecordOutcome) {
        self.records += 1;
        renumber(&mut o, self.records);
        self.pending.push_back(o);
    }

    fn reject(&mut self, err: KaigoError, field: Option<&str>) {
        let d = self.at().diag(err, field);
        let line = self.line;
        self.push(RecordOutcome {
            record: 0,
            line: Some(line),
            result: Err(d),
            warnings: Vec::new(),
        });
    }

    fn flush(&mut self) {
        if let Some(g) = self.group.take() {
            self.push(RecordOutcome {
                record: 0,
                line: Some(g.line),
                result: Ok(g.record),
                warnings: g.warnings,
            });
        }
    }

    /// Reads one line; returns false at the end of input.
    fn step(&mut self) -> bool {
        self.buf.clear();
        match self.reader.read_until(b'\n', &mut self.buf) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(_) => {
                self.line += 1;
                self.reject(KaigoError::Io, None);
                return false;
            }
        }
        self.line += 1;
        let mut bytes: &[u8] = &self.buf;
        while let Some((last, rest)) = bytes.split_last()
            && (*last == b'\n' || *last == b'\r')
        {
            bytes = rest;
        }
        if bytes.is_empty() {
            return true;
        }
        let Some(text) = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes)
        else {
            self.reject(KaigoError::InvalidEncoding, None);
            return true;
        };
        let fields: Vec<String> = text
            .split(',')
            .map(|f| {
                let f = f.trim();
                f.strip_prefix('"')
                    .and_then(|f| f.strip_suffix('"'))
                    .unwrap_or(f)
                    .to_owned()
            })
            .collect();
        if self.line == 1 && fields.first().is_some_and(|f| f == "保険者番号") {
            return true;
        }
        let mut warnings = Vec::new();
        match self.parse(&fields, &mut warnings) {
            Err((e, field)) => self.reject(e, field),
            Ok(row) => self.add(row, warnings),
        }
        true
    }

    fn parse(
        &self,
        f: &[String],
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<Row, (KaigoError, Option<&'static str>)> {
        let (kana, f) = match f {
            [first @ .., kana] if f.len() == N_COLUMNS => (Some(kana), first),
            _ => (None, f),
        };
        let [
            insurer,
            insured,
            birth,
            sex,
            month,
            level,
            service,
            units,
            days,
        ] = f
        else {
            return Err((KaigoError::WrongColumnCount, None));
        };
        if !(insurer.len() == 6 || insurer.len() == 8)
            || !insurer.bytes().all(|b| b.is_ascii_digit())
        {
            return Err((KaigoError::InvalidNumber, Some("保険者番号")));
        }
        if insured.len() != 10 || !insured.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err((KaigoError::InvalidNumber, Some("被保険者番号")));
        }
        let month = wareki::parse_year_month(month)
            .map_err(|_| (KaigoError::InvalidDate, Some("サービス提供年月")))?;
        if service.len() != 6 || !service.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err((KaigoError::InvalidServiceCode, Some("サービスコード")));
        }
        let units: u32 = units
            .parse()
            .map_err(|_| (KaigoError::InvalidUnits, Some("単位数")))?;
        let days: u32 = days
            .parse()
            .map_err(|_| (KaigoError::InvalidUnits, Some("日数・回数")))?;
        let birth = if birth.is_empty() {
            None
        } else {
            let d = parse_birth(birth);
            if d.is_none() {
                warnings.push(
                    self.at()
                        .diag(KaigoError::InvalidBirthDate, Some("生年月日")),
                );
            }
            d
        };
        let sex = match sex.as_str() {
            "1" => Sex::Male,
            "2" => Sex::Female,
            "" => Sex::Unknown,
            _ => {
                warnings.push(self.at().diag(KaigoError::UnmappedSex, Some("性別コード")));
                Sex::Unknown
            }
        };
        let level_code = care_level(level);
        if level_code.is_none() {
            warnings.push(
                self.at()
                    .diag(KaigoError::UnmappedCareLevel, Some("要介護状態区分コード")),
            );
        }
        Ok(Row {
            insurer: insurer.clone(),
            insured: insured.clone(),
            birth,
            sex,
            month,
            level: level_code,
            service: service.clone(),
            value: f64::from(units) * f64::from(days),
            kana: kana.and_then(|k| kana_name(k)),
        })
    }

    fn add(&mut self, row: Row, warnings: Vec<Diagnostic>) {
        let key = (row.insurer.clone(), row.insured.clone());
        if self.group.as_ref().is_some_and(|g| g.key != key) {
            self.flush();
        }
        let line = self.line;
        let g = self.group.get_or_insert_with(|| Group {
            record: SourceRecord {
                identity: IdentityAttributes {
                    patient_id: crate::kaigo::patient_id(&key.0, &key.1),
                    birth_date: row.birth,
                    sex: row.sex,
                    insurances: vec![Insurance {
                        insurer_number: Some(row.insurer.clone()),
                        number: Some(row.insured.clone()),
                        ..Insurance::default()
                    }],
                    ..IdentityAttributes::default()
                },
                events: Vec::new(),
            },
            key,
            line,
            warnings: Vec::new(),
            level: None,
        });
        if g.record.identity.names.is_empty()
            && let Some(name) = row.kana
        {
            g.record.identity.names.push(name);
        }
        g.warnings.extend(warnings);
        if let Some(level) = row.level
            && g.level != Some(level)
        {
            g.level = Some(level);
            g.record.events.push(Event {
                kind: EventKind::CareCertification,
                date: row.month,
                end_date: None,
                code: Some(Code::new(CodeSystem::CareLevel, level)),
                value: None,
                unit: None,
            });
        }
        g.record.events.push(Event {
            kind: EventKind::CareService,
            date: row.month,
            end_date: None,
            code: Some(Code::new(CodeSystem::CareService, row.service)),
            value: Some(row.value),
            unit: Some("単位".to_owned()),
        });
    }
}

/// The kana name of column 10: family and given split at the first space (half- or full-width).
fn kana_name(s: &str) -> Option<PersonName> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let (family, given) = match s.split_once([' ', '\u{3000}']) {
        Some((f, g)) => (f.trim(), Some(g.trim()).filter(|g| !g.is_empty())),
        None => (s, None),
    };
    Some(PersonName {
        family_kana: Some(family.to_owned()),
        given_kana: given.map(str::to_owned),
        ..PersonName::default()
    })
}

fn parse_birth(s: &str) -> Option<Date> {
    wareki::parse_date(s).ok()
}

impl<R: BufRead> Iterator for KaigoReader<R> {
    type Item = RecordOutcome;

    fn next(&mut self) -> Option<RecordOutcome> {
        loop {
            if let Some(o) = self.pending.pop_front() {
                return Some(o);
            }
            if self.done {
                return None;
            }
            if !self.step() {
                self.done = true;
                self.flush();
            }
        }
    }
}
