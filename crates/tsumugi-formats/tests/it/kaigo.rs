//! 介護 claims at the crate boundary: grouping per person, Shift_JIS, diagnostics for wrong
//! column count, bad dates and bad encoding, no panics, and the writer → reader round trip.

use std::fmt::Write as _;

use proptest::prelude::*;
use tsumugi_formats::RecordOutcome;
use tsumugi_formats::kaigo::{KaigoReader, patient_id, write_kaigo};
use tsumugi_model::{
    Code, CodeSystem, Date, Event, EventKind, IdentityAttributes, Insurance, PersonName, Sex,
    SourceRecord,
};

fn sjis(s: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(s).0.into_owned()
}

fn read(bytes: &[u8]) -> Vec<RecordOutcome> {
    KaigoReader::new("kaigo.csv", bytes).collect()
}

fn render(outcomes: &[RecordOutcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        let _ = writeln!(s, "#{} line {}", o.record, o.line.unwrap_or(0));
        match &o.result {
            Ok(r) => {
                let i = &r.identity.insurances[0];
                let _ = writeln!(
                    s,
                    "  patient {}",
                    r.identity.patient_id.as_deref().unwrap_or("-")
                );
                for n in &r.identity.names {
                    let _ = writeln!(
                        s,
                        "  kana {} {}",
                        n.family_kana.as_deref().unwrap_or("-"),
                        n.given_kana.as_deref().unwrap_or("-")
                    );
                }
                let _ = writeln!(
                    s,
                    "  {} {} {} {}",
                    i.insurer_number.as_deref().unwrap_or("-"),
                    i.number.as_deref().unwrap_or("-"),
                    r.identity.sex.code(),
                    r.identity
                        .birth_date
                        .map_or("-".to_owned(), |d| d.to_string())
                );
                for e in &r.events {
                    let _ = writeln!(
                        s,
                        "  {} {} {} {}",
                        e.kind.as_str(),
                        e.date,
                        e.code.as_ref().map_or("-", |c| c.value.as_str()),
                        e.value.map_or("-".to_owned(), |v| v.to_string())
                    );
                }
            }
            Err(d) => {
                let _ = writeln!(
                    s,
                    "  error {} {}",
                    d.code,
                    d.field.as_deref().unwrap_or("-")
                );
            }
        }
        for w in &o.warnings {
            let _ = writeln!(
                s,
                "  warning {} {}",
                w.code,
                w.field.as_deref().unwrap_or("-")
            );
        }
    }
    s
}

#[track_caller]
fn check(input: &[u8], expect: &str) {
    let got = render(&read(input));
    assert_eq!(got.trim(), expect.trim(), "\n--- got ---\n{got}");
}

#[test]
fn lines_group_per_insured_person() {
    let csv = sjis(
        "保険者番号,被保険者番号,生年月日,性別コード,サービス提供年月,要介護状態区分コード,サービスコード,単位数,日数・回数\r\n\
         131016,0000012345,昭和15年1月1日,2,202404,22,111111,250,8\r\n\
         131016,0000012345,19400101,2,202404,22,131111,560,4\r\n\
         131016,0000012345,19400101,2,202405,23,111111,250,9\r\n\
         131016,H000067890,3150301,1,50604,12,A21214,2108,1\r\n",
    );
    check(
        &csv,
        "
#1 line 2
  patient 131016:0000012345
  131016 0000012345 F 1940-01-01
  care_certification 2024-04-01 K2 -
  care_service 2024-04-01 111111 2000
  care_service 2024-04-01 131111 2240
  care_certification 2024-05-01 K3 -
  care_service 2024-05-01 111111 2250
#2 line 5
  patient 131016:H000067890
  131016 H000067890 M 1940-03-01
  care_certification 2024-04-01 S1 -
  care_service 2024-04-01 A21214 2108
",
    );
}

#[test]
fn bad_lines_are_rejected_and_reading_goes_on() {
    let mut csv = sjis(
        "131016,0000012345,19400101,2,202404,22,111111,250,8\n\
         131016,0000012345,19400101,2,202404,22,111111,250\n\
         131016,0000012345,19400101,2,202413,22,111111,250,8\n\
         131016,0000012345,19400101,2,H3105,22,111111,250,8\n\
         131016,0000012345,19400101,2,202404,22,11111,250,8\n\
         131016,0000012345,19400101,2,202404,22,111111,-3,8\n\
         131016,0000012345,19400231,9,202404,01,111111,1,1\n",
    );
    csv.extend_from_slice(b"131016,0000012345,\x82\xa0\xff,2,202404,22,111111,1,1\n");
    check(
        &csv,
        "
#1 line 2
  error KGO0002WrongColumnCount -
#2 line 3
  error KGO0004InvalidDate サービス提供年月
#3 line 4
  error KGO0004InvalidDate サービス提供年月
#4 line 5
  error KGO0005InvalidServiceCode サービスコード
#5 line 6
  error KGO0006InvalidUnits 単位数
#6 line 8
  error KGO0001InvalidEncoding -
#7 line 1
  patient 131016:0000012345
  131016 0000012345 F 1940-01-01
  care_certification 2024-04-01 K2 -
  care_service 2024-04-01 111111 2000
  care_service 2024-04-01 111111 1
  warning KGO0008InvalidBirthDate 生年月日
  warning KGO0009UnmappedSex 性別コード
  warning KGO0007UnmappedCareLevel 要介護状態区分コード
",
    );
}

#[test]
fn the_tenth_column_is_the_kana_name() {
    let csv = sjis(
        "131016,0000012345,19400101,2,202404,22,111111,250,8,ﾔﾏﾀﾞ ﾊﾅｺ\r\n\
         131016,0000012345,19400101,2,202405,22,111111,250,8,ヤマダ　ハナコ\r\n\
         272019,1234567890,19381231,1,202404,25,211111,800,30,\r\n\
         272019,0000000001,19381231,1,202404,25,211111,800,30,ｽｽﾞｷ\r\n",
    );
    check(
        &csv,
        "
#1 line 1
  patient 131016:0000012345
  kana ﾔﾏﾀﾞ ﾊﾅｺ
  131016 0000012345 F 1940-01-01
  care_certification 2024-04-01 K2 -
  care_service 2024-04-01 111111 2000
  care_service 2024-05-01 111111 2000
#2 line 3
  patient 272019:1234567890
  272019 1234567890 M 1938-12-31
  care_certification 2024-04-01 K5 -
  care_service 2024-04-01 211111 24000
#3 line 4
  patient 272019:0000000001
  kana ｽｽﾞｷ -
  272019 0000000001 M 1938-12-31
  care_certification 2024-04-01 K5 -
  care_service 2024-04-01 211111 24000
",
    );
}

#[test]
fn diagnostics_never_contain_values() {
    let csv = sjis("131016,CANARY0001,19400101,2,202404,22,111111,250,8,extra,more\n");
    let out = read(&csv);
    let d = out[0].result.as_ref().unwrap_err();
    let text = serde_json::to_string(d).unwrap();
    assert!(!text.contains("CANARY"), "{text}");
}

fn month() -> impl Strategy<Value = Date> {
    (2000i32..2040, 1u32..=12).prop_map(|(y, m)| Date::from_ymd_opt(y, m, 1).unwrap())
}

fn event(kind: EventKind, date: Date, code: Code, value: Option<f64>) -> Event {
    Event {
        kind,
        date,
        end_date: None,
        code: Some(code),
        value,
        unit: value.map(|_| "単位".to_owned()),
    }
}

fn record() -> impl Strategy<Value = SourceRecord> {
    (
        "[0-9]{6}",
        "[0-9A-Z]{10}",
        proptest::option::of((1900i32..2020, 1u32..=12, 1u32..=28)),
        prop::sample::select(vec![Sex::Male, Sex::Female, Sex::Unknown]),
        prop::collection::vec(
            (
                prop::sample::select(vec!["S1", "S2", "K1", "K2", "K3", "K4", "K5"]),
                month(),
                prop::collection::vec(("[0-9A-Z]{2}[0-9]{4}", 0u32..100_000), 1..4),
            ),
            1..4,
        ),
        proptest::option::of(("[ア-ン]{1,6}", proptest::option::of("[ｱ-ﾝ]{1,6}"))),
    )
        .prop_map(|(insurer, insured, birth, sex, blocks, kana)| {
            let mut events = Vec::new();
            let mut last = None;
            for (level, month, services) in blocks {
                if last != Some(level) {
                    events.push(event(
                        EventKind::CareCertification,
                        month,
                        Code::new(CodeSystem::CareLevel, level),
                        None,
                    ));
                    last = Some(level);
                }
                for (code, units) in services {
                    events.push(event(
                        EventKind::CareService,
                        month,
                        Code::new(CodeSystem::CareService, code),
                        Some(f64::from(units)),
                    ));
                }
            }
            SourceRecord {
                identity: IdentityAttributes {
                    insurances: vec![Insurance {
                        insurer_number: Some(insurer),
                        number: Some(insured),
                        ..Insurance::default()
                    }],
                    birth_date: birth.map(|(y, m, d)| Date::from_ymd_opt(y, m, d).unwrap()),
                    sex,
                    names: kana
                        .map(|(f, g)| PersonName {
                            family_kana: Some(f),
                            given_kana: g,
                            ..PersonName::default()
                        })
                        .into_iter()
                        .collect(),
                    ..IdentityAttributes::default()
                },
                events,
            }
        })
}

proptest! {
    #[test]
    fn write_then_read_gives_back_the_record(r in record()) {
        let bytes = write_kaigo(&r);
        let out = read(&bytes);
        prop_assert_eq!(out.len(), 1);
        prop_assert!(out[0].warnings.is_empty(), "{:?}", out[0].warnings);
        let mut expected = r;
        expected.identity.patient_id = expected.identity.insurances[0]
            .insurer_number
            .as_deref()
            .zip(expected.identity.insurances[0].number.as_deref())
            .and_then(|(i, n)| patient_id(i, n));
        prop_assert_eq!(out[0].result.clone().unwrap(), expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read(&bytes);
    }

    #[test]
    fn csv_like_lines_never_panic(lines in prop::collection::vec("[0-9A-Z,\"\r\n年月日令和]{0,60}", 0..8)) {
        let _ = read(&sjis(&lines.join("\n")));
    }
}
