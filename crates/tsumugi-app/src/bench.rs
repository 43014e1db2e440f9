//! `tsumugi bench ingest`: reader throughput on deterministic synthetic input, per format.
//!
//! [`generate`] writes at least N events — and at least B bytes, for the 2 GB memory check — of
//! one format to a folder with that format's writer, a batch of records at a time (memory stays
//! low); the 特定健診 input is a real submission ZIP (index, summary, one CDA per person, entries
//! stored so that the file's size is the documents' size). [`parse`] runs the reader over the
//! whole input on one thread and reports bytes/s, records/s and events/s (so "per core" is the
//! figure) and the process's peak RSS; [`end_to_end`] submits the input to a fresh data directory
//! and times the whole submission path (staging, vault, research store), with the process's peak
//! RSS too (the CLI runs each in its own child process). Performance goals are checked here, in
//! figures printed by a benchmark, never in timed unit tests.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{Datelike, Duration};
use serde::{Deserialize, Serialize};
use tsumugi_formats::Format;
use tsumugi_model::{
    Address, Code, CodeSystem, Date, EncounterClass, Event, EventKind, IdentityAttributes,
    Insurance, PersonName, ProviderId, ProviderKind, Sex, SourceRecord,
};

use crate::{Error, Result};

/// The formats benchmarked, in order.
pub const FORMATS: [Format; 6] = [
    Format::Fhir,
    Format::Ssmix2,
    Format::Uke,
    Format::KenshinZip,
    Format::Kaigo,
    Format::MappedCsv,
];

/// The formats [`generate`] writes: [`FORMATS`], and 特定健診 as a folder of single documents.
pub const GENERATED: [Format; 7] = [
    Format::Fhir,
    Format::Ssmix2,
    Format::Uke,
    Format::KenshinZip,
    Format::KenshinXml,
    Format::Kaigo,
    Format::MappedCsv,
];

/// The mapping of the benchmark's mapped CSV (予防接種台帳, UTF-8 like many exports).
pub const CSV_MAPPING: &str = r#"
encoding = "utf-8"
delimiter = ","
header = true
date_formats = ["%Y/%m/%d"]

[identity]
patient_id = "宛名番号"
family_kanji = "氏"
given_kanji = "名"
birth_date = "生年月日"
sex = "性別"

[[events]]
kind = "immunization"
date = "接種日"
code = "ワクチンコード"
code_system = "vaccine"
value = "接種回数"
unit = "回"
"#;

/// The per-core parse floor the acceptance criteria name for `format`, in MB/s (10^6 bytes).
pub fn floor_mb_per_s(format: Format) -> Option<f64> {
    match format {
        Format::Fhir => Some(50.0),
        Format::Uke => Some(100.0),
        _ => None,
    }
}

/// The peak RSS ceiling for every format on a 2 GB input, in MB.
pub const RSS_CEILING_MB: f64 = 500.0;

/// A generated benchmark input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Generated {
    /// The format (`Format::as_str`).
    pub format: String,
    /// The file, or the folder of 特定健診 XML documents.
    pub path: PathBuf,
    /// Bytes written.
    pub bytes: u64,
    /// Records written.
    pub records: u64,
    /// Events written.
    pub events: u64,
}

/// What one run of a reader over a generated input measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParseFigures {
    /// The format.
    pub format: String,
    /// Input bytes read.
    pub input_bytes: u64,
    /// Records read (accepted and rejected).
    pub records: u64,
    /// Records rejected (a benchmark input should have none).
    pub rejected: u64,
    /// Events in the accepted records.
    pub events: u64,
    /// Wall time of the parse, single-threaded.
    pub seconds: f64,
    /// Input MB (10^6 bytes) per second on one core.
    pub mb_per_s: f64,
    /// Records per second on one core.
    pub records_per_s: f64,
    /// Events per second on one core.
    pub events_per_s: f64,
    /// The process's peak resident set (VmHWM) after the parse, in bytes, where known.
    pub peak_rss_bytes: Option<u64>,
}

/// What one end-to-end submission measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndToEndFigures {
    /// The format.
    pub format: String,
    /// Input bytes.
    pub input_bytes: u64,
    /// Records in the submission.
    pub records: u64,
    /// Records accepted.
    pub accepted: u64,
    /// Events stored.
    pub events: u64,
    /// Wall time of `ingest::submit`.
    pub seconds: f64,
    /// Input MB per second.
    pub mb_per_s: f64,
    /// Records per second.
    pub records_per_s: f64,
    /// The process's peak resident set (VmHWM) after the submission, in bytes, where known.
    #[serde(default)]
    pub peak_rss_bytes: Option<u64>,
}

/// The process's peak resident set size in bytes (`VmHWM` of `/proc/self/status`; Linux only).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// A small deterministic generator (SplitMix64): the same seed gives the same input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const FAMILIES: [&str; 8] = [
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村",
];
const FAMILIES_KANA: [&str; 8] = [
    "サトウ",
    "スズキ",
    "タカハシ",
    "タナカ",
    "イトウ",
    "ワタナベ",
    "ヤマモト",
    "ナカムラ",
];
const GIVENS: [&str; 6] = ["太郎", "花子", "一郎", "美咲", "健太", "陽菜"];
const GIVENS_KANA: [&str; 6] = ["タロウ", "ハナコ", "イチロウ", "ミサキ", "ケンタ", "ヒナ"];

fn day(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn identity(rng: &mut Rng, n: u64) -> IdentityAttributes {
    let f = rng.below(8) as usize;
    let g = rng.below(6) as usize;
    let birth = day(
        1930 + rng.below(90) as i32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    );
    IdentityAttributes {
        patient_id: Some(format!("{:010}", n + 1)),
        names: vec![PersonName {
            family_kanji: Some(FAMILIES[f].to_owned()),
            given_kanji: Some(GIVENS[g].to_owned()),
            family_kana: Some(FAMILIES_KANA[f].to_owned()),
            given_kana: Some(GIVENS_KANA[g].to_owned()),
        }],
        birth_date: Some(birth),
        sex: if rng.below(2) == 0 {
            Sex::Male
        } else {
            Sex::Female
        },
        addresses: vec![Address {
            postal_code: Some(format!(
                "{:03}-{:04}",
                100 + rng.below(900),
                rng.below(10_000)
            )),
            text: Some(format!(
                "東京都千代田区千代田{}丁目{}番",
                1 + rng.below(5),
                1 + rng.below(30)
            )),
            municipality_code: None,
        }],
        insurances: vec![Insurance {
            insurer_number: Some(format!("{:08}", 6_130_000 + rng.below(9_999))),
            symbol: Some(format!("{}", 100 + rng.below(900))),
            number: Some(format!("{:08}", n + 1)),
            branch: Some("01".to_owned()),
        }],
        deceased_on: None,
    }
}

fn event(
    kind: EventKind,
    date: Date,
    code: Option<Code>,
    value: Option<f64>,
    unit: Option<&str>,
) -> Event {
    Event {
        kind,
        date,
        end_date: None,
        code,
        value,
        unit: unit.map(str::to_owned),
    }
}

const EVENTS_PER_RECORD: u64 = 10;

/// The events of one clinical record (FHIR and SS-MIX2): an outpatient visit, diagnoses,
/// prescriptions and lab results.
fn clinical_events(rng: &mut Rng) -> Vec<Event> {
    let start = day(2020, 1, 1) + Duration::days(rng.below(1500) as i64);
    let mut out = Vec::with_capacity(EVENTS_PER_RECORD as usize);
    out.push(event(
        EventKind::Encounter(EncounterClass::Outpatient),
        start,
        None,
        None,
        None,
    ));
    for i in 1..EVENTS_PER_RECORD {
        let date = start + Duration::days(i as i64 * 7);
        out.push(match i % 3 {
            0 => event(
                EventKind::Diagnosis,
                date,
                Some(Code::new(
                    CodeSystem::Icd10,
                    rng.pick(&["E11.9", "I10", "J45.9", "K21.9", "M54.5"]),
                )),
                None,
                None,
            ),
            1 => {
                let mut e = event(
                    EventKind::Prescription,
                    date,
                    Some(Code::new(
                        CodeSystem::Hot9,
                        format!("{:09}", 100_000_000 + rng.below(899_999_999)),
                    )),
                    Some((1 + rng.below(3)) as f64),
                    Some("錠"),
                );
                e.end_date = Some(date + Duration::days(28));
                e
            }
            _ => event(
                EventKind::LabResult,
                date,
                Some(Code::new(
                    CodeSystem::Jlac10,
                    rng.pick(&[
                        "3D010000001926101",
                        "3F015000002327101",
                        "3B035000002327201",
                    ]),
                )),
                Some((rng.below(2000) as f64) / 10.0),
                Some("mg/dL"),
            ),
        });
    }
    out
}

/// The events of one UKE claim in `month`: diagnoses, then procedures and drugs in the month.
fn claim_events(rng: &mut Rng, month: Date) -> Vec<Event> {
    let mut out = Vec::with_capacity(EVENTS_PER_RECORD as usize);
    for _ in 0..2 {
        out.push(event(
            EventKind::Diagnosis,
            day(2015 + rng.below(9) as i32, 1 + rng.below(12) as u32, 1),
            Some(Code::new(
                CodeSystem::Other("receipt_disease".into()),
                format!("{:07}", 8_830_000 + rng.below(99_999)),
            )),
            None,
            None,
        ));
    }
    for i in 2..EVENTS_PER_RECORD {
        let date = month + Duration::days(rng.below(28) as i64);
        let (kind, system) = match i % 3 {
            0 => (EventKind::Procedure, CodeSystem::ReceiptProcedure),
            1 => (EventKind::Prescription, CodeSystem::ReceiptDrug),
            _ => (
                EventKind::Encounter(EncounterClass::Outpatient),
                CodeSystem::ReceiptProcedure,
            ),
        };
        out.push(event(
            kind,
            date,
            Some(Code::new(
                system,
                format!("{:09}", 100_000_000 + rng.below(899_999_999)),
            )),
            Some((1 + rng.below(30)) as f64),
            None,
        ));
    }
    out
}

fn uke_identity(rng: &mut Rng, n: u64) -> IdentityAttributes {
    let mut id = identity(rng, n);
    // UKE carries one name, sex, birth date, patient ID and insurances; no address.
    id.addresses.clear();
    id
}

/// What a 特定健診 CDA carries: kana name, sex, birth date, insurance; no patient id or kanji.
fn kenshin_identity(rng: &mut Rng, n: u64) -> IdentityAttributes {
    let mut id = identity(rng, n);
    id.patient_id = None;
    id.addresses.clear();
    for n in &mut id.names {
        n.family_kanji = None;
        n.given_kanji = None;
    }
    id
}

fn kenshin_events(rng: &mut Rng) -> Vec<Event> {
    let date = day(2024, 4, 1) + Duration::days(rng.below(300) as i64);
    const ITEMS: [(&str, &str); 5] = [
        ("9N001000000000001", "cm"),
        ("9N006000000000001", "kg"),
        ("9A751000000000001", "mmHg"),
        ("3F015000002327101", "mg/dL"),
        ("9N011000000000001", "kg/m2"),
    ];
    (0..25)
        .map(|i| {
            let (code, unit) = ITEMS[i % ITEMS.len()];
            // Distinct codes per document: vary the last digits.
            let code = format!("{}{:02}", &code[..15], i);
            event(
                EventKind::Checkup,
                date,
                Some(Code::new(CodeSystem::KenshinItem, code)),
                Some((rng.below(20_000) as f64) / 10.0),
                Some(unit),
            )
        })
        .collect()
}

fn kaigo_events(rng: &mut Rng) -> Vec<Event> {
    let month = day(2024, 1 + rng.below(12) as u32, 1);
    let mut out = vec![event(
        EventKind::CareCertification,
        month,
        Some(Code::new(
            CodeSystem::CareLevel,
            rng.pick(&["S1", "S2", "K1", "K2", "K3", "K4", "K5"]),
        )),
        None,
        None,
    )];
    for _ in 1..EVENTS_PER_RECORD {
        out.push(event(
            EventKind::CareService,
            month,
            Some(Code::new(
                CodeSystem::CareService,
                rng.pick(&["111111", "151111", "131111", "171111", "211111"]),
            )),
            Some((100 + rng.below(5000)) as f64),
            None,
        ));
    }
    out
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(
        1 << 20,
        File::create(path).map_err(Error::io(path))?,
    ))
}

/// Writes at least `n_events` events and at least `min_bytes` bytes of `format` into `dir`
/// (created if needed), deterministic in `seed`. The file (or, for 特定健診 XML, the folder of
/// documents) is named after the format. `deflate_zip` deflates the 特定健診 ZIP's entries (ten
/// times more entries per byte); `min_bytes` then counts the documents before compression.
///
/// # Errors
/// I/O errors; [`Error::Internal`] when a record cannot be serialized.
pub fn generate(
    format: Format,
    n_events: u64,
    min_bytes: u64,
    deflate_zip: bool,
    dir: &Path,
    seed: u64,
) -> Result<Generated> {
    fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let mut rng = Rng(seed ^ (format.as_str().len() as u64).wrapping_mul(0x1234_5678));
    let mut records = 0u64;
    let mut events = 0u64;
    let mut bytes = 0u64;
    let path;
    let more = |events: u64, bytes: u64| events < n_events || bytes < min_bytes;
    match format {
        Format::Fhir => {
            path = dir.join("bench.ndjson");
            let mut w = create(&path)?;
            let provider = ProviderId("1310000001".to_owned());
            while more(events, bytes) {
                let record = SourceRecord {
                    identity: identity(&mut rng, records),
                    events: clinical_events(&mut rng),
                };
                let bundle_id = format!("b{records:016x}");
                let value = tsumugi_formats::fhir::write_bundle(
                    &record,
                    &tsumugi_formats::fhir::BundleContext {
                        provider: &provider,
                        bundle_id: &bundle_id,
                    },
                );
                let mut line = serde_json::to_vec(&value)
                    .map_err(|e| Error::Internal(format!("bench: {e}")))?;
                line.push(b'\n');
                w.write_all(&line).map_err(Error::io(&path))?;
                bytes += line.len() as u64;
                records += 1;
                events += record.events.len() as u64;
            }
            w.flush().map_err(Error::io(&path))?;
        }
        Format::Ssmix2 => {
            // Written as a folder stream (see `tsumugi_formats::folder`): one file, entries in
            // path order; patient IDs are zero-padded so their order is the numeric order.
            path = dir.join("bench.tsgdir");
            let mut w = create(&path)?;
            w.write_all(tsumugi_formats::FOLDER_MAGIC)
                .map_err(Error::io(&path))?;
            bytes += tsumugi_formats::FOLDER_MAGIC.len() as u64;
            while more(events, bytes) {
                let mut id = identity(&mut rng, records);
                id.insurances.iter_mut().for_each(|i| i.branch = None);
                let record = SourceRecord {
                    identity: id,
                    events: clinical_events(&mut rng),
                };
                let pid = format!("{:010}", records + 1);
                let mut entries = tsumugi_formats::ssmix2::write_patient(&record, &pid);
                entries.sort();
                for (name, content) in entries {
                    let mut head = Vec::with_capacity(name.len() + 12);
                    head.extend_from_slice(&(name.len() as u32).to_be_bytes());
                    head.extend_from_slice(name.as_bytes());
                    head.extend_from_slice(&(content.len() as u64).to_be_bytes());
                    w.write_all(&head).map_err(Error::io(&path))?;
                    w.write_all(&content).map_err(Error::io(&path))?;
                    bytes += (head.len() + content.len()) as u64;
                }
                records += 1;
                events += record.events.len() as u64;
            }
            w.flush().map_err(Error::io(&path))?;
        }
        Format::Uke => {
            // One claims file: the IR line, then batches of claims, then one GO with the total.
            path = dir.join("bench.UKE");
            let mut w = create(&path)?;
            let month = day(2024, 5, 1);
            let mut first = true;
            while more(events, bytes) {
                let mut batch = Vec::with_capacity(1000);
                while batch.len() < 1000 && more(events, bytes) {
                    let record = SourceRecord {
                        identity: uke_identity(&mut rng, records),
                        events: claim_events(&mut rng, month),
                    };
                    events += record.events.len() as u64;
                    records += 1;
                    batch.push(record);
                }
                let out = tsumugi_formats::uke::write_claims("1312345", month, &batch);
                let mut lines: Vec<&[u8]> = out.split_inclusive(|b| *b == b'\n').collect();
                lines.pop(); // GO
                let skip = usize::from(!first);
                first = false;
                for l in &lines[skip..] {
                    w.write_all(l).map_err(Error::io(&path))?;
                    bytes += l.len() as u64;
                }
            }
            let go = format!("GO,{records},0,99\r\n");
            w.write_all(go.as_bytes()).map_err(Error::io(&path))?;
            bytes += go.len() as u64;
            w.flush().map_err(Error::io(&path))?;
        }
        Format::KenshinZip => {
            // A submission ZIP as a checkup centre sends it. Entries are stored unless asked:
            // the file's size is then the documents' size, and a 2 GB input stays 2 GB of XML
            // to parse (deflated, CDA shrinks tenfold).
            path = dir.join("bench_kenshin.zip");
            let file = File::create(&path).map_err(Error::io(&path))?;
            let header = tsumugi_formats::kenshin::SubmissionHeader {
                sender: "1234567890",
                receiver: "00000000",
                created: tsumugi_model::Date::from_ymd_opt(2025, 4, 1).unwrap_or_default(),
            };
            let out = std::io::BufWriter::with_capacity(1 << 20, file);
            let mut w = tsumugi_formats::kenshin::SubmissionZipWriter::new(out, header);
            if !deflate_zip {
                w = w.stored();
            }
            while more(events, bytes) {
                let record = SourceRecord {
                    identity: kenshin_identity(&mut rng, records),
                    events: kenshin_events(&mut rng),
                };
                let cda = tsumugi_formats::kenshin::write_cda(&record);
                w.add_document(&cda).map_err(Error::io(&path))?;
                // Local header, name and data (the directory entries are added below).
                bytes += cda.len() as u64 + 30 + 20;
                records += 1;
                events += record.events.len() as u64;
            }
            let mut out = w.finish().map_err(Error::io(&path))?;
            out.flush().map_err(Error::io(&path))?;
            drop(out);
            bytes = file_len(&path)?;
        }
        Format::KenshinXml => {
            // One CDA document per person, in a folder: each is read as its own submission.
            path = dir.join("kenshin");
            fs::create_dir_all(&path).map_err(Error::io(&path))?;
            while more(events, bytes) {
                let record = SourceRecord {
                    identity: kenshin_identity(&mut rng, records),
                    events: kenshin_events(&mut rng),
                };
                let xml = tsumugi_formats::kenshin::write_cda(&record);
                let file = path.join(format!("h{:08}.xml", records + 1));
                fs::write(&file, &xml).map_err(Error::io(&file))?;
                bytes += xml.len() as u64;
                records += 1;
                events += record.events.len() as u64;
            }
        }
        Format::Kaigo => {
            path = dir.join("bench_kaigo.csv");
            let mut w = create(&path)?;
            while more(events, bytes) {
                let mut id = identity(&mut rng, records);
                id.insurances = vec![Insurance {
                    insurer_number: Some(format!("{:06}", 131_016 + rng.below(100))),
                    number: Some(format!("{:010}", records + 1)),
                    ..Insurance::default()
                }];
                let record = SourceRecord {
                    identity: id,
                    events: kaigo_events(&mut rng),
                };
                let out = tsumugi_formats::kaigo::write_kaigo(&record);
                w.write_all(&out).map_err(Error::io(&path))?;
                bytes += out.len() as u64;
                records += 1;
                events += record.events.len() as u64;
            }
            w.flush().map_err(Error::io(&path))?;
        }
        Format::MappedCsv => {
            path = dir.join("bench_yobou.csv");
            let mut w = create(&path)?;
            let header = "宛名番号,氏,名,生年月日,性別,接種日,ワクチンコード,接種回数\r\n";
            w.write_all(header.as_bytes()).map_err(Error::io(&path))?;
            bytes += header.len() as u64;
            while more(events, bytes) {
                let id = identity(&mut rng, records);
                let name = &id.names[0];
                let birth = id.birth_date.unwrap_or_default();
                let sex = if id.sex == Sex::Male { "1" } else { "2" };
                for dose in 1..=5u64 {
                    let on = birth + Duration::days(60 * dose as i64);
                    let row = format!(
                        "{},{},{},{:04}/{:02}/{:02},{sex},{:04}/{:02}/{:02},{},{dose}\r\n",
                        id.patient_id.as_deref().unwrap_or(""),
                        name.family_kanji.as_deref().unwrap_or(""),
                        name.given_kanji.as_deref().unwrap_or(""),
                        birth.year(),
                        birth.month(),
                        birth.day(),
                        on.year(),
                        on.month(),
                        on.day(),
                        rng.pick(&["H1", "D1", "B1", "P1", "M1"]),
                    );
                    w.write_all(row.as_bytes()).map_err(Error::io(&path))?;
                    bytes += row.len() as u64;
                    events += 1;
                }
                records += 1;
            }
            w.flush().map_err(Error::io(&path))?;
        }
    }
    Ok(Generated {
        format: format.as_str().to_owned(),
        path,
        bytes,
        records,
        events,
    })
}

#[derive(Default)]
struct Tally {
    bytes: u64,
    records: u64,
    rejected: u64,
    events: u64,
}

impl Tally {
    fn add(&mut self, records: tsumugi_formats::Records) {
        for o in records {
            self.records += 1;
            match o.result {
                Ok(r) => self.events += r.events.len() as u64,
                Err(_) => self.rejected += 1,
            }
        }
    }
}

fn file_len(path: &Path) -> Result<u64> {
    Ok(fs::metadata(path).map_err(Error::io(path))?.len())
}

/// Runs the reader of `format` over a [`generate`]d input on this thread, timed.
///
/// # Errors
/// I/O and open errors.
pub fn parse(format: Format, path: &Path) -> Result<ParseFigures> {
    let mut t = Tally::default();
    let start = Instant::now();
    match format {
        Format::KenshinXml => {
            let mut files: Vec<PathBuf> = fs::read_dir(path)
                .map_err(Error::io(path))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            files.sort();
            for f in files {
                t.bytes += file_len(&f)?;
                t.add(tsumugi_formats::open_file(format, &f)?);
            }
        }
        Format::MappedCsv => {
            let mapping = tsumugi_formats::csvmap::Mapping::from_toml(CSV_MAPPING)
                .map_err(|e| Error::InvalidMapping(e.to_string()))?;
            t.bytes = file_len(path)?;
            let file = File::open(path).map_err(Error::io(path))?;
            t.add(tsumugi_formats::open_mapped(
                "bench.csv",
                &mapping,
                Box::new(std::io::BufReader::with_capacity(64 * 1024, file)),
            ));
        }
        _ => {
            t.bytes = file_len(path)?;
            t.add(tsumugi_formats::open_file(format, path)?);
        }
    }
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    Ok(ParseFigures {
        format: format.as_str().to_owned(),
        input_bytes: t.bytes,
        records: t.records,
        rejected: t.rejected,
        events: t.events,
        seconds,
        mb_per_s: t.bytes as f64 / 1e6 / seconds,
        records_per_s: t.records as f64 / seconds,
        events_per_s: t.events as f64 / seconds,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// Submits a [`generate`]d input to a fresh data directory under `work` and times
/// `ingest::submit` (staging, vault, research store).
///
/// # Errors
/// Any use case's error.
pub async fn end_to_end(format: Format, path: &Path, work: &Path) -> Result<EndToEndFigures> {
    let data = work.join(format!("data-{}", format.as_str()));
    if data.exists() {
        fs::remove_dir_all(&data).map_err(Error::io(&data))?;
    }
    let ctx = crate::context::init(
        &data,
        true,
        crate::OpenOptions {
            urls: crate::DatabaseUrls::default(),
            clock: Arc::new(crate::SystemClock),
            seed: Some(1),
            actor: "operator:bench".to_owned(),
        },
    )
    .await?;
    let provider = ProviderId("1310000001".to_owned());
    crate::ingest::register_provider(
        &ctx,
        &crate::ingest::ProviderRegistration {
            provider_id: provider.clone(),
            kind: ProviderKind::Hospital,
            name: "bench hospital".to_owned(),
            waiting_days: 0,
        },
    )
    .await?;
    let input_bytes = file_len(path)?;
    let mapping = if format == Format::MappedCsv {
        let m = work.join("bench_mapping.toml");
        fs::write(&m, CSV_MAPPING).map_err(Error::io(&m))?;
        Some(m)
    } else {
        None
    };
    let start = Instant::now();
    let report = crate::ingest::submit(
        &ctx,
        &provider,
        path,
        &crate::ingest::ReadAs {
            format: Some(format),
            mapping,
        },
    )
    .await?;
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    ctx.close().await;
    Ok(EndToEndFigures {
        format: format.as_str().to_owned(),
        input_bytes,
        records: report.n_records,
        accepted: report.n_accepted,
        events: report.n_events,
        seconds,
        mb_per_s: input_bytes as f64 / 1e6 / seconds,
        records_per_s: report.n_records as f64 / seconds,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// One format's line of the benchmark report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// What the parse measured.
    #[serde(flatten)]
    pub parse: ParseFigures,
    /// Input size in MB (10^6 bytes).
    pub input_mb: f64,
    /// Peak RSS in MB (10^6 bytes) of the process that parsed, where known.
    pub peak_rss_mb: Option<f64>,
    /// The per-core MB/s floor, where the acceptance criteria name one.
    pub floor_mb_per_s: Option<f64>,
    /// The RSS ceiling in MB.
    pub rss_ceiling_mb: f64,
    /// Whether the floor (if any) and the RSS ceiling are met.
    pub pass: bool,
}

impl Row {
    /// The report line of `parse`.
    pub fn of(format: Format, parse: ParseFigures) -> Row {
        let floor = floor_mb_per_s(format);
        let peak_rss_mb = parse.peak_rss_bytes.map(|b| b as f64 / 1e6);
        let pass = floor.is_none_or(|f| parse.mb_per_s >= f)
            && peak_rss_mb.is_none_or(|r| r < RSS_CEILING_MB)
            && parse.rejected == 0;
        Row {
            input_mb: parse.input_bytes as f64 / 1e6,
            peak_rss_mb,
            floor_mb_per_s: floor,
            rss_ceiling_mb: RSS_CEILING_MB,
            pass,
            parse,
        }
    }
}

/// The whole benchmark report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The events asked for per format.
    pub events_requested: u64,
    /// The input bytes asked for per format (at least).
    #[serde(default)]
    pub bytes_requested: u64,
    /// The seed of the inputs.
    pub seed: u64,
    /// Whether each format was parsed in its own child process (peak RSS is then per format).
    pub rss_per_process: bool,
    /// One line per format.
    pub formats: Vec<Row>,
    /// End-to-end submissions (FHIR and UKE unless told otherwise).
    pub end_to_end: Vec<EndToEndFigures>,
    /// Whether each end-to-end submission ran in its own child process (peak RSS is then its).
    #[serde(default)]
    pub end_to_end_rss_per_process: bool,
    /// Whether every line passed.
    pub pass: bool,
}
