//! SS-MIX2 reader and writer at the crate boundary: the public sample storage, the
//! latest-file-wins and deletion rules, ISO-2022-JP text with delimiter-like bytes, diagnostics
//! without values, no panics on arbitrary bytes, and the writer → reader round trip.

use std::path::PathBuf;

use proptest::prelude::*;
use tsumugi_formats::RecordOutcome;
use tsumugi_formats::ssmix2::{from_entries, read_storage, write_patient};
use tsumugi_model::{
    Address, Code, CodeSystem, Date, EncounterClass, Event, EventKind, IdentityAttributes,
    Insurance, PersonName, Severity, Sex, SourceRecord,
};

fn fixture_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ssmix2")
}

fn fixture_outcome() -> RecordOutcome {
    let outcomes: Vec<_> = read_storage(&fixture_root()).unwrap().collect();
    assert_eq!(outcomes.len(), 1, "one patient directory");
    outcomes.into_iter().next().unwrap()
}

fn fixture_record() -> SourceRecord {
    fixture_outcome().result.unwrap()
}

fn date(s: &str) -> Date {
    Date::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn events_with(record: &SourceRecord, kind: EventKind) -> Vec<&Event> {
    record.events.iter().filter(|e| e.kind == kind).collect()
}

fn code(system: CodeSystem, value: &str) -> Option<Code> {
    Some(Code::new(system, value))
}

/// ISO-2022-JP bytes of an HL7 message given as lines (segments end in CR).
fn message(lines: &[&str]) -> Vec<u8> {
    let text: String = lines.iter().map(|l| format!("{l}\r")).collect();
    encoding_rs::ISO_2022_JP.encode(&text).0.into_owned()
}

const MSH: &str =
    "MSH|^~\\&|HIS|SEND|GW|RCV|20240101||ADT^A08^ADT_A01|1|P|2.5||||||~ISO IR87||ISO 2022-1994";

fn adt00(name: &str) -> Vec<u8> {
    message(&[MSH, &format!("PID|0001||1234567||{name}||19800102|F")])
}

fn lab(value: &str) -> Vec<u8> {
    message(&[
        MSH,
        "PID|0001||1234567",
        &format!(
            "OBX|1|NM|3A010000002327101^総蛋白^JC10||{value}|g/dl^g/dl^99XYZ|||||F|||20240105"
        ),
    ])
}

fn entry(name: &str, bytes: Vec<u8>) -> (String, Vec<u8>) {
    let parts: Vec<&str> = name.split('_').collect();
    (
        format!("123/456/1234567/{}/{}/{name}", parts[1], parts[2]),
        bytes,
    )
}

const ADT00: &str = "1234567_-_ADT-00_999999999999999_20240101000000000_-_1";

fn read(entries: Vec<(String, Vec<u8>)>) -> Vec<RecordOutcome> {
    from_entries("upload.zip", entries).collect()
}

#[test]
fn fixture_parses_without_errors_or_warnings() {
    let outcome = fixture_outcome();
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    assert_eq!(outcome.warnings, vec![], "every fixture file maps cleanly");
    assert_eq!(outcome.record, 1);
}

#[test]
fn fixture_identity_from_adt00() {
    let id = fixture_record().identity;
    assert_eq!(id.patient_id.as_deref(), Some("9999013"));
    let name = &id.names[0];
    assert_eq!(id.names.len(), 1);
    assert_eq!(name.family_kanji.as_deref(), Some("患者"));
    assert_eq!(name.given_kanji.as_deref(), Some("太郎"));
    assert_eq!(name.family_kana.as_deref(), Some("カンジャ"));
    assert_eq!(name.given_kana.as_deref(), Some("タロウ"));
    assert_eq!(id.birth_date, Some(date("1948-04-05")));
    assert_eq!(id.sex, Sex::Male);
    assert_eq!(id.addresses.len(), 1);
    assert_eq!(id.addresses[0].postal_code.as_deref(), Some("422-8033"));
    assert_eq!(
        id.addresses[0].text.as_deref(),
        Some("静岡県静岡市登呂１\u{ff0d}３\u{ff0d}５"),
        "JIS 0x215D decodes to FULLWIDTH HYPHEN-MINUS (WHATWG index), not U+2212"
    );
    assert_eq!(id.insurances.len(), 1);
    assert_eq!(id.insurances[0].insurer_number.as_deref(), Some("67999991"));
}

#[test]
fn fixture_ppr01_diagnosis_keeps_medis_and_icd10() {
    let record = fixture_record();
    let dx = events_with(&record, EventKind::Diagnosis);
    let codes: Vec<_> = dx.iter().map(|e| e.code.clone()).collect();
    assert_eq!(
        codes,
        vec![
            code(CodeSystem::MedisDisease, "20054174"),
            code(CodeSystem::Icd10, "K297")
        ]
    );
    assert!(
        dx.iter().all(|e| e.date == date("2011-08-31")),
        "PRB-16 onset"
    );
}

#[test]
fn fixture_omp01_and_omp02_prescriptions() {
    let record = fixture_record();
    let rx = events_with(&record, EventKind::Prescription);
    let first = rx
        .iter()
        .find(|e| e.code == code(CodeSystem::Hot9, "108665201"))
        .expect("OMP-01 RXE-2 HOT9");
    assert_eq!(first.date, date("2011-07-01"));
    assert_eq!(
        (first.value, first.unit.as_deref()),
        (Some(1.0), Some("TAB"))
    );
    let powder = rx
        .iter()
        .find(|e| e.code == code(CodeSystem::Hot9, "100607002"))
        .unwrap();
    assert_eq!(
        (powder.value, powder.unit.as_deref()),
        (Some(50.0), Some("MG"))
    );
    // OMP-02 mixtures: the RXC components, not the generic RXE-2 placeholder.
    assert!(
        rx.iter()
            .all(|e| e.code != code(CodeSystem::Other("99I02".into()), "00"))
    );
    let infusions = rx
        .iter()
        .filter(|e| e.code == code(CodeSystem::Hot9, "620007329"))
        .count();
    assert_eq!(
        infusions,
        3 + 1,
        "three OMP-02 orders and one OMP-12 administration"
    );
    // OMP-01 (3) + OMP-02 (3 orders × 2 RXC) + OMP-12 (2 RXA)
    assert_eq!(rx.len(), 3 + 6 + 2);
}

#[test]
fn fixture_oml11_lab_results() {
    let record = fixture_record();
    let labs = events_with(&record, EventKind::LabResult);
    assert_eq!(labs.len(), 3, "OML-01 orders carry no results");
    let tp = labs
        .iter()
        .find(|e| e.code == code(CodeSystem::Jlac10, "3A010000002327101"))
        .unwrap();
    assert_eq!(tp.value, Some(7.2));
    assert_eq!(tp.unit.as_deref(), Some("g/dl"));
    assert_eq!(tp.date, date("2011-12-19"));
    let ag = labs
        .iter()
        .find(|e| e.code == code(CodeSystem::Jlac10, "3A016000002327102"))
        .unwrap();
    assert_eq!((ag.value, ag.unit.as_deref()), (Some(1.7), None));
}

#[test]
fn fixture_admission_closed_by_discharge() {
    let record = fixture_record();
    let stays = events_with(&record, EventKind::Encounter(EncounterClass::Inpatient));
    assert_eq!(stays.len(), 1);
    assert_eq!(stays[0].date, date("2011-11-20"), "ADT-22 PV1-44");
    assert_eq!(stays[0].end_date, Some(date("2011-12-20")), "ADT-52 PV1-45");
}

#[test]
fn delimiter_bytes_inside_iso2022jp_text_decode_right() {
    // 五 is ESC $ B 8 ^, 京 is 5 ~, 厚 is 9 |, 移 is 0 \ : delimiter bytes inside kanji.
    let bytes = adt00("五十嵐^京厚移^^^^^L^I~イガラシ^キョウ^^^^^L^P");
    assert!(
        bytes.windows(2).any(|w| w == b"5~"),
        "the test needs a `~` byte in kanji"
    );
    let out = read(vec![entry(ADT00, bytes)]);
    let id = out[0].result.as_ref().unwrap().identity.clone();
    assert_eq!(id.names[0].family_kanji.as_deref(), Some("五十嵐"));
    assert_eq!(id.names[0].given_kanji.as_deref(), Some("京厚移"));
    assert_eq!(id.names[0].given_kana.as_deref(), Some("キョウ"));
    assert_eq!(id.birth_date, Some(date("1980-01-02")));
    assert_eq!(id.sex, Sex::Female);
}

#[test]
fn latest_file_wins_per_order() {
    let out = read(vec![
        entry(ADT00, adt00("甲^乙^^^^^L^I")),
        entry(
            "1234567_20240105_OML-11_000000000000001_20240105100000000_01_1",
            lab("1.0"),
        ),
        entry(
            "1234567_20240105_OML-11_000000000000001_20240105120000000_01_1",
            lab("2.0"),
        ),
        entry(
            "1234567_20240105_OML-11_000000000000001_20240105110000000_01_1",
            lab("3.0"),
        ),
        entry(
            "1234567_20240105_OML-11_000000000000002_20240105090000000_01_1",
            lab("4.0"),
        ),
    ]);
    let events = &out[0].result.as_ref().unwrap().events;
    let values: Vec<_> = events.iter().map(|e| e.value).collect();
    assert_eq!(values, vec![Some(2.0), Some(4.0)]);
}

#[test]
fn deleted_flag_removes_the_order() {
    let out = read(vec![
        entry(ADT00, adt00("甲^乙^^^^^L^I")),
        entry(
            "1234567_20240105_OML-11_000000000000001_20240105100000000_01_1",
            lab("1.0"),
        ),
        entry(
            "1234567_20240105_OML-11_000000000000001_20240105120000000_01_0",
            lab("1.0"),
        ),
        entry(
            "1234567_20240105_OML-11_000000000000002_20240105090000000_01_1",
            lab("4.0"),
        ),
    ]);
    let events = &out[0].result.as_ref().unwrap().events;
    let values: Vec<_> = events.iter().map(|e| e.value).collect();
    assert_eq!(values, vec![Some(4.0)]);
}

#[test]
fn deleted_adt00_rejects_the_patient() {
    let out = read(vec![entry(
        "1234567_-_ADT-00_999999999999999_20240101000000000_-_0",
        adt00("甲^乙^^^^^L^I"),
    )]);
    let err = out[0].result.as_ref().unwrap_err();
    assert_eq!(err.code, "SSM0010NoDemographics");
    assert_eq!(err.severity, Severity::Error);
    assert_eq!(err.file, "upload.zip/*/*/*", "the patient id is masked");
}

#[test]
fn broken_adt00_rejects_with_file_and_reason() {
    let out = read(vec![entry(ADT00, b"PID|not hl7\r".to_vec())]);
    let err = out[0].result.as_ref().unwrap_err();
    assert_eq!(err.code, "SSM0004NotHl7");
    assert!(
        err.file.ends_with(&ADT00.replacen("1234567", "*", 1)),
        "{}",
        err.file
    );
    assert!(!err.file.contains("1234567"), "the patient id is masked");
    assert!(!err.reason_ja.is_empty() && !err.reason_en.is_empty());
}

#[test]
fn bad_event_messages_are_warnings_and_the_rest_is_kept() {
    let out = read(vec![
        entry(
            ADT00,
            message(&[MSH, "PID|0001||1234567||甲^乙^^^^^L^I||1980XX02|F"]),
        ),
        entry(
            "1234567_20240105_OML-11_000000000000001_20240105100000000_01_1",
            lab("陽性"),
        ),
        entry(
            "1234567_20240105_OML-11_000000000000002_20240105100000000_01_1",
            vec![0x1b, 0x24, 0x42, 0xff],
        ),
        entry(
            "1234567_20240105_OML-11_000000000000003_20240105100000000_01_1",
            lab("5.5"),
        ),
        (
            "123/456/1234567/20240105/OML-11/garbage.txt".into(),
            b"x".to_vec(),
        ),
        (
            "123/456/1234567/20240105/XYZ-99/1234567_20240105_XYZ-99_1_20240105100000000_01_1"
                .into(),
            b"x".to_vec(),
        ),
    ]);
    let o = &out[0];
    let record = o.result.as_ref().unwrap();
    assert_eq!(record.identity.birth_date, None);
    let values: Vec<_> = record.events.iter().map(|e| e.value).collect();
    assert_eq!(
        values,
        vec![None, Some(5.5)],
        "non-numeric result kept without value"
    );
    let got: Vec<(&str, Option<&str>)> = o
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), w.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("SSM0001MalformedFileName", None),
            ("SSM0006InvalidDate", Some("PID-7")),
            ("SSM0008NonNumericValue", Some("OBX-5")),
            ("SSM0003InvalidEncoding", None),
            ("SSM0011UnsupportedKind", None),
        ]
    );
    for w in &o.warnings {
        assert_eq!(w.severity, Severity::Warning);
        for text in [&w.reason_ja, &w.reason_en] {
            assert!(!text.contains("1980") && !text.contains("陽性"), "{text}");
        }
    }
}

fn normalise(mut record: SourceRecord) -> SourceRecord {
    record.events.sort_by(|a, b| {
        (a.kind, a.date, &a.code, a.end_date)
            .cmp(&(b.kind, b.date, &b.code, b.end_date))
            .then(
                a.value
                    .partial_cmp(&b.value)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
            .then(a.unit.cmp(&b.unit))
    });
    record
}

// Text the writer can encode in ISO-2022-JP, with HL7 delimiters and kanji whose JIS bytes are
// delimiters; no leading/trailing blank (the reader keeps text as is, but numbers are trimmed).
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9|^~&\\\\ 五京厚移患者太郎カンジャタロウ東京都港区１－３]{1,12}"
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

fn day() -> impl Strategy<Value = Date> {
    (0i64..80_000).prop_map(|n| date("1900-01-01") + chrono::Duration::days(n))
}

fn name() -> impl Strategy<Value = PersonName> {
    (opt_text(), opt_text(), opt_text(), opt_text())
        .prop_map(|(a, b, c, d)| PersonName {
            family_kanji: a,
            given_kanji: b,
            family_kana: c,
            given_kana: d,
        })
        .prop_filter("a name says something", |n| *n != PersonName::default())
}

fn address() -> impl Strategy<Value = Address> {
    (opt_text(), opt_text(), opt_text())
        .prop_map(|(p, t, m)| Address {
            postal_code: p,
            text: t,
            municipality_code: m,
        })
        .prop_filter("an address says something", |a| *a != Address::default())
}

fn insurance() -> impl Strategy<Value = Insurance> {
    (opt_text(), opt_text(), opt_text())
        .prop_map(|(i, s, n)| Insurance {
            insurer_number: i,
            symbol: s,
            number: n,
            branch: None,
        })
        .prop_filter("an insurance says something", |i| {
            *i != Insurance::default()
        })
}

fn identity() -> impl Strategy<Value = IdentityAttributes> {
    (
        prop::collection::vec(name(), 0..3),
        prop::option::of(day()),
        prop::sample::select(vec![Sex::Male, Sex::Female, Sex::Unknown]),
        prop::collection::vec(address(), 0..3),
        prop::collection::vec(insurance(), 0..3),
        prop::option::of(day()),
    )
        .prop_map(
            |(names, birth_date, sex, addresses, insurances, deceased_on)| IdentityAttributes {
                patient_id: Some("1234567".into()),
                names,
                birth_date,
                sex,
                addresses,
                insurances,
                deceased_on,
            },
        )
}

fn coded(kind: EventKind, systems: Vec<CodeSystem>) -> impl Strategy<Value = Event> {
    (
        day(),
        prop::sample::select(systems),
        text(),
        prop::option::of(-1.0e6f64..1.0e6),
        opt_text(),
        prop::option::of(day()),
    )
        .prop_map(move |(date, system, value, v, unit, end)| Event {
            kind,
            date,
            end_date: if kind == EventKind::Prescription {
                end
            } else {
                None
            },
            code: Some(Code::new(system, value)),
            value: v,
            unit,
        })
        .prop_map(|mut e| {
            if e.kind == EventKind::Diagnosis {
                e.value = None;
                e.unit = None;
            }
            e
        })
}

fn encounter() -> impl Strategy<Value = Event> {
    (
        prop::sample::select(vec![EncounterClass::Outpatient, EncounterClass::Inpatient]),
        day(),
        prop::option::of(day()),
    )
        .prop_map(|(class, date, end_date)| Event {
            kind: EventKind::Encounter(class),
            date,
            end_date,
            code: None,
            value: None,
            unit: None,
        })
}

/// The events SS-MIX2 carries: outpatient and inpatient encounters (no code, value or unit),
/// diagnoses (MEDIS or ICD-10, no value/unit/end), prescriptions (HOT9 or YJ, amount, unit,
/// end date) and lab results (JLAC10, value, unit, no end). Dates 1900–2119 (8-digit paths).
fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        encounter(),
        coded(
            EventKind::Diagnosis,
            vec![CodeSystem::MedisDisease, CodeSystem::Icd10]
        ),
        coded(
            EventKind::Prescription,
            vec![CodeSystem::Hot9, CodeSystem::Yj]
        ),
        coded(EventKind::LabResult, vec![CodeSystem::Jlac10]),
    ]
}

proptest! {
    #[test]
    fn write_then_read_gives_the_record_back(
        identity in identity(),
        events in prop::collection::vec(event(), 0..8),
    ) {
        let record = SourceRecord { identity, events };
        let out: Vec<_> = from_entries("rt", write_patient(&record, "1234567")).collect();
        prop_assert_eq!(out.len(), 1);
        prop_assert_eq!(&out[0].warnings, &vec![]);
        let got = out[0].result.clone().unwrap();
        prop_assert_eq!(normalise(got), normalise(record));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        kind in prop::sample::select(vec!["ADT-00", "ADT-22", "ADT-52", "PPR-01", "OMP-01", "OMP-12", "OML-11"]),
    ) {
        let date = if kind == "ADT-00" || kind == "PPR-01" { "-" } else { "20240105" };
        let name = format!("1234567_{date}_{kind}_000000000000001_20240105100000000_01_1");
        let mut entries = vec![(format!("123/456/1234567/{date}/{kind}/{name}"), bytes.clone())];
        if kind != "ADT-00" {
            entries.push(entry(ADT00, adt00("甲^乙^^^^^L^I")));
        }
        let out: Vec<_> = from_entries("fuzz", entries).collect();
        prop_assert_eq!(out.len(), 1);
        // Arbitrary bytes with an HL7-looking header, too.
        let mut framed = b"MSH|^~\\&|".to_vec();
        framed.extend_from_slice(&bytes);
        let _ = from_entries("fuzz", vec![entry(ADT00, framed), (String::from_utf8_lossy(&bytes).into_owned(), bytes)]).count();
    }
}
