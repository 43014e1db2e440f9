//! The streaming mapped-CSV reader: one [`RecordOutcome`] per data row.

use std::io::Read;

use encoding_rs::SHIFT_JIS;
use tsumugi_model::{
    Address, Code, CodeSystem, Diagnostic, Event, EventKind, IdentityAttributes, PersonName, Sex,
    SourceRecord,
};

use crate::RecordOutcome;
use crate::csvmap::error::CsvMapError;
use crate::csvmap::mapping::{CsvEncoding, Mapping};
use crate::diag::Where;

/// Reads a CSV through a [`Mapping`]; an [`Iterator`] of [`RecordOutcome`]s, one per data row.
///
/// ```
/// use tsumugi_formats::csvmap::{Mapping, MappedCsvReader};
/// let mapping = Mapping::from_toml(r#"
///     encoding = "utf-8"
///     header = true
///     date_formats = ["wareki"]
///     [identity]
///     patient_id = "宛名番号"
///     [[events]]
///     kind = "death"
///     date = "死亡日"
/// "#).unwrap();
/// let csv = "宛名番号,死亡日\n000123,令和5年4月1日\n".as_bytes();
/// let out: Vec<_> = MappedCsvReader::new("deaths.csv", &mapping, csv).collect();
/// let rec = out[0].result.as_ref().unwrap();
/// assert_eq!(rec.events[0].date.to_string(), "2023-04-01");
/// ```
#[derive(Debug)]
pub struct MappedCsvReader<R> {
    file: String,
    mapping: Mapping,
    csv: csv::Reader<R>,
    plan: Option<Plan>,
    rows: u64,
    done: bool,
}

#[derive(Debug)]
struct Plan {
    n_columns: Option<usize>,
    max_index: usize,
    patient_id: Option<usize>,
    family_kanji: Option<usize>,
    given_kanji: Option<usize>,
    family_kana: Option<usize>,
    given_kana: Option<usize>,
    birth_date: Option<usize>,
    sex: Option<usize>,
    address: Option<usize>,
    postal_code: Option<usize>,
    municipality_code: Option<usize>,
    events: Vec<EventPlan>,
}

#[derive(Debug)]
struct EventPlan {
    kind: EventKind,
    date: usize,
    code: Option<usize>,
    fixed_code: Option<String>,
    system: Option<CodeSystem>,
    value: Option<usize>,
    unit: Option<String>,
    unit_column: Option<usize>,
}

fn resolve(name: &str, header: Option<&[String]>) -> Option<usize> {
    if let Some(n) = name.strip_prefix('#') {
        return n.parse::<usize>().ok()?.checked_sub(1);
    }
    header?.iter().position(|h| h.trim() == name)
}

impl<R: Read> MappedCsvReader<R> {
    /// A reader of `reader` through `mapping`; `label` names the file in every diagnostic.
    pub fn new(label: &str, mapping: &Mapping, reader: R) -> MappedCsvReader<R> {
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            // `\n` only, so csv's line numbers are exact for CRLF files too; the `\r` left at the
            // end of the last field is trimmed with the cell.
            .terminator(csv::Terminator::Any(b'\n'))
            .delimiter(mapping.delimiter_byte().unwrap_or(b','))
            .from_reader(reader);
        MappedCsvReader {
            file: label.to_owned(),
            mapping: mapping.clone(),
            csv,
            plan: None,
            rows: 0,
            done: false,
        }
    }

    fn decode(&self, rec: &csv::ByteRecord) -> Option<Vec<String>> {
        rec.iter()
            .enumerate()
            .map(|(i, f)| {
                let f = if i == 0 && self.rows == 0 {
                    f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
                } else {
                    f
                };
                match self.mapping.encoding {
                    CsvEncoding::Utf8 => std::str::from_utf8(f).ok().map(str::to_owned),
                    CsvEncoding::Cp932 => SHIFT_JIS
                        .decode_without_bom_handling_and_without_replacement(f)
                        .map(|c| c.into_owned()),
                }
            })
            .collect()
    }

    fn build_plan(&self, header: Option<&[String]>) -> Result<Plan, String> {
        let m = &self.mapping;
        let col = |c: &Option<String>| -> Result<Option<usize>, String> {
            match c {
                None => Ok(None),
                Some(name) => resolve(name, header).map(Some).ok_or_else(|| name.clone()),
            }
        };
        let id = &m.identity;
        let mut events = Vec::new();
        for e in &m.events {
            let Some(kind) = EventKind::parse(&e.kind) else {
                return Err(e.kind.clone());
            };
            events.push(EventPlan {
                kind,
                date: resolve(&e.date, header).ok_or_else(|| e.date.clone())?,
                code: col(&e.code)?,
                fixed_code: e.fixed_code.clone(),
                system: Mapping::code_system(e),
                value: col(&e.value)?,
                unit: e.unit.clone(),
                unit_column: col(&e.unit_column)?,
            });
        }
        let mut plan = Plan {
            n_columns: header.map(<[String]>::len),
            max_index: 0,
            patient_id: col(&id.patient_id)?,
            family_kanji: col(&id.family_kanji)?,
            given_kanji: col(&id.given_kanji)?,
            family_kana: col(&id.family_kana)?,
            given_kana: col(&id.given_kana)?,
            birth_date: col(&id.birth_date)?,
            sex: col(&id.sex)?,
            address: col(&id.address)?,
            postal_code: col(&id.postal_code)?,
            municipality_code: col(&id.municipality_code)?,
            events,
        };
        plan.max_index = m
            .columns()
            .into_iter()
            .filter_map(|c| resolve(c, header))
            .max()
            .unwrap_or(0);
        Ok(plan)
    }

    fn row(&self, plan: &Plan, cells: &[String], at: &Where<'_>) -> RecordOutcome {
        let mut warnings: Vec<Diagnostic> = Vec::new();
        let reject = |err: CsvMapError, field: Option<&str>| RecordOutcome {
            record: at.record,
            line: at.line,
            result: Err(at.diag(err, field)),
            warnings: Vec::new(),
        };
        let bad_count = match plan.n_columns {
            Some(n) => cells.len() != n,
            None => cells.len() <= plan.max_index,
        };
        if bad_count {
            return reject(CsvMapError::WrongColumnCount, None);
        }
        let cell = |i: Option<usize>| -> Option<String> {
            let v = cells.get(i?)?.trim();
            (!v.is_empty()).then(|| v.to_owned())
        };
        let m = &self.mapping;
        let mut identity = IdentityAttributes {
            patient_id: cell(plan.patient_id),
            ..IdentityAttributes::default()
        };
        let name = PersonName {
            family_kanji: cell(plan.family_kanji),
            given_kanji: cell(plan.given_kanji),
            family_kana: cell(plan.family_kana),
            given_kana: cell(plan.given_kana),
        };
        if name != PersonName::default() {
            identity.names.push(name);
        }
        let addr = Address {
            postal_code: cell(plan.postal_code),
            text: cell(plan.address),
            municipality_code: cell(plan.municipality_code),
        };
        if addr != Address::default() {
            identity.addresses.push(addr);
        }
        let field = |c: &Option<String>| c.clone();
        if let Some(b) = cell(plan.birth_date) {
            identity.birth_date = m.parse_date(&b);
            if identity.birth_date.is_none() {
                warnings.push(at.diag(
                    CsvMapError::InvalidBirthDate,
                    field(&m.identity.birth_date).as_deref(),
                ));
            }
        }
        if let Some(s) = cell(plan.sex) {
            let (male, female) = match &m.sex_codes {
                Some(c) => (c.male.clone(), c.female.clone()),
                None => (
                    ["1", "M", "男", "男性"].map(str::to_owned).to_vec(),
                    ["2", "F", "女", "女性"].map(str::to_owned).to_vec(),
                ),
            };
            identity.sex = if male.contains(&s) {
                Sex::Male
            } else if female.contains(&s) {
                Sex::Female
            } else {
                warnings.push(at.diag(CsvMapError::UnmappedSex, field(&m.identity.sex).as_deref()));
                Sex::Unknown
            };
        }
        let mut events = Vec::new();
        for (ep, ec) in plan.events.iter().zip(&m.events) {
            let Some(d) = cell(Some(ep.date)) else {
                continue;
            };
            let Some(date) = m.parse_date(&d) else {
                return reject(CsvMapError::InvalidDate, Some(&ec.date));
            };
            let code_value = cell(ep.code).or_else(|| ep.fixed_code.clone());
            let code = match (code_value, &ep.system) {
                (Some(v), Some(s)) => Some(Code::new(s.clone(), v)),
                _ => None,
            };
            let value = match cell(ep.value) {
                None => None,
                Some(v) => {
                    let n = v.parse::<f64>().ok().filter(|n| n.is_finite());
                    if n.is_none() {
                        warnings.push(at.diag(CsvMapError::InvalidValue, ec.value.as_deref()));
                    }
                    n
                }
            };
            let unit = cell(ep.unit_column).or_else(|| ep.unit.clone());
            if ep.kind == EventKind::Death {
                identity.deceased_on = Some(date);
            }
            events.push(Event {
                kind: ep.kind,
                date,
                end_date: None,
                code,
                unit: value.and(unit),
                value,
            });
        }
        RecordOutcome {
            record: at.record,
            line: at.line,
            result: Ok(SourceRecord { identity, events }),
            warnings,
        }
    }
}

impl<R: Read> Iterator for MappedCsvReader<R> {
    type Item = RecordOutcome;

    fn next(&mut self) -> Option<RecordOutcome> {
        if self.done {
            return None;
        }
        let mut rec = csv::ByteRecord::new();
        loop {
            let read = self.csv.read_byte_record(&mut rec);
            let line = rec.position().map(csv::Position::line);
            let at_line = |record: u64, file: &str, err: CsvMapError, field: Option<&str>| {
                let at = Where { file, record, line };
                RecordOutcome {
                    record,
                    line,
                    result: Err(at.diag(err, field)),
                    warnings: Vec::new(),
                }
            };
            match read {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(_) => {
                    self.done = true;
                    return Some(at_line(self.rows + 1, &self.file, CsvMapError::Io, None));
                }
                Ok(true) => {}
            }
            let cells = self.decode(&rec);
            if self.plan.is_none() {
                let header = if self.mapping.header {
                    let Some(h) = cells.clone() else {
                        self.done = true;
                        return Some(at_line(1, &self.file, CsvMapError::InvalidEncoding, None));
                    };
                    Some(h)
                } else {
                    None
                };
                match self.build_plan(header.as_deref()) {
                    Ok(p) => self.plan = Some(p),
                    Err(col) => {
                        self.done = true;
                        return Some(at_line(
                            1,
                            &self.file,
                            CsvMapError::MissingColumn,
                            Some(&col),
                        ));
                    }
                }
                if header.is_some() {
                    continue;
                }
            }
            self.rows += 1;
            if rec.iter().all(|f| f.iter().all(|b| *b == b'\r')) {
                // A blank line: counted, not a record.
                continue;
            }
            let Some(cells) = cells else {
                return Some(at_line(
                    self.rows,
                    &self.file,
                    CsvMapError::InvalidEncoding,
                    None,
                ));
            };
            let at = Where {
                file: &self.file,
                record: self.rows,
                line,
            };
            let plan = self.plan.as_ref()?;
            return Some(self.row(plan, &cells, &at));
        }
    }
}
