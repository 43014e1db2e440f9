//! Mapped CSV at the crate boundary: the example mappings in `mappings/` read small CSVs;
//! encoding, column-count and date diagnostics; mapping errors; no panics.

use std::fmt::Write as _;

use proptest::prelude::*;
use tsumugi_formats::RecordOutcome;
use tsumugi_formats::csvmap::{MappedCsvReader, Mapping, MappingError};

fn mapping(name: &str) -> Mapping {
    let path = format!("{}/mappings/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Mapping::from_toml(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sjis(s: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(s).0.into_owned()
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

fn render(outcomes: &[RecordOutcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        let _ = writeln!(s, "#{} line {}", o.record, o.line.unwrap_or(0));
        match &o.result {
            Ok(r) => {
                let id = &r.identity;
                let _ = write!(s, "  id {} sex {}", opt(&id.patient_id), id.sex.code());
                if let Some(b) = id.birth_date {
                    let _ = write!(s, " born {b}");
                }
                if let Some(d) = id.deceased_on {
                    let _ = write!(s, " died {d}");
                }
                s.push('\n');
                for n in &id.names {
                    let _ = writeln!(
                        s,
                        "  name {} {} / {} {}",
                        opt(&n.family_kanji),
                        opt(&n.given_kanji),
                        opt(&n.family_kana),
                        opt(&n.given_kana)
                    );
                }
                for a in &id.addresses {
                    let _ = writeln!(
                        s,
                        "  addr {} {} {}",
                        opt(&a.municipality_code),
                        opt(&a.postal_code),
                        opt(&a.text)
                    );
                }
                for e in &r.events {
                    let _ = writeln!(
                        s,
                        "  {} {} {} {} {}",
                        e.kind.as_str(),
                        e.date,
                        e.code.as_ref().map_or("-".to_owned(), |c| format!(
                            "{}:{}",
                            c.system.as_str(),
                            c.value
                        )),
                        e.value.map_or("-".to_owned(), |v| v.to_string()),
                        opt(&e.unit)
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
fn check(mapping_file: &str, input: &[u8], expect: &str) {
    let m = mapping(mapping_file);
    let out: Vec<_> = MappedCsvReader::new("export.csv", &m, input).collect();
    let got = render(&out);
    assert_eq!(got.trim(), expect.trim(), "\n--- got ---\n{got}");
}

#[test]
fn ninpu_kenshin_cp932() {
    let csv = sjis(
        "宛名番号,氏,名,氏カナ,名カナ,生年月日,性別,郵便番号,住所,市区町村コード,受診日,検査項目コード,結果値,単位\r\n\
         0000123,山田,花子,ヤマダ,ハナコ,平成6年4月1日,2,100-0001,東京都千代田区,131016,2024/05/10,HB,11.8,g/dL\r\n\
         0000123,山田,花子,ヤマダ,ハナコ,19940401,,100-0001,東京都千代田区,,20240607,BP_SYS,118,mmHg\r\n",
    );
    check(
        "ninpu_kenshin.toml",
        &csv,
        "
#1 line 2
  id 0000123 sex F born 1994-04-01
  name 山田 花子 / ヤマダ ハナコ
  addr 131016 100-0001 東京都千代田区
  pregnancy_checkup 2024-05-10 ninpu_kenshin_item:HB 11.8 g/dL
#2 line 3
  id 0000123 sex U born 1994-04-01
  name 山田 花子 / ヤマダ ハナコ
  addr - 100-0001 東京都千代田区
  pregnancy_checkup 2024-06-07 ninpu_kenshin_item:BP_SYS 118 mmHg
",
    );
}

#[test]
fn nyuyouji_kenshin_wide_row_makes_two_events() {
    let csv = "\u{feff}宛名番号,氏,名,氏カナ,名カナ,生年月日,性別,市区町村コード,健診日,身長,体重\n\
               0000456,鈴木,一郎,スズキ,イチロウ,令和4年2月1日,男,271004,2023-08-03,80.1,10.2\n\
               0000457,,,スズキ,ジロウ,令和4年2月1日,2,,2023-08-03,,\n";
    check(
        "nyuyouji_kenshin.toml",
        csv.as_bytes(),
        "
#1 line 2
  id 0000456 sex M born 2022-02-01
  name 鈴木 一郎 / スズキ イチロウ
  addr 271004 - -
  infant_checkup 2023-08-03 infant_checkup_item:body_height 80.1 cm
  infant_checkup 2023-08-03 infant_checkup_item:body_weight 10.2 kg
#2 line 3
  id 0000457 sex F born 2022-02-01
  name - - / スズキ ジロウ
  infant_checkup 2023-08-03 infant_checkup_item:body_height - -
  infant_checkup 2023-08-03 infant_checkup_item:body_weight - -
",
    );
}

#[test]
fn yobou_sesshu_with_diagnostics() {
    let mut csv = sjis(
        "宛名番号,氏,名,氏カナ,名カナ,生年月日,性別,市区町村コード,接種日,ワクチンコード,接種回数\r\n\
         0000789,佐藤,一,サトウ,ハジメ,令和元年5月1日,1,011002,令和元年7月1日,MR1,1\r\n\
         0000789,佐藤,一,サトウ,ハジメ,令和元年5月1日,1,011002,平成31年5月1日,MR1,2\r\n\
         0000789,佐藤,一,サトウ,ハジメ,令和元年5月1日,1,011002,令和2年7月1日,MR1\r\n\
         0000790,佐藤,二,,,R02.13.01,X,,令和2年7月1日,DPT,x\r\n",
    );
    csv.extend_from_slice(b"0000791,\x82\xa0\xff,x,,,x,1,,x,x,1\r\n");
    check(
        "yobou_sesshu.toml",
        &csv,
        "
#1 line 2
  id 0000789 sex M born 2019-05-01
  name 佐藤 一 / サトウ ハジメ
  addr 011002 - -
  immunization 2019-07-01 vaccine:MR1 1 回
#2 line 3
  error CSVMAP0003InvalidDate 接種日
#3 line 4
  error CSVMAP0002WrongColumnCount -
#4 line 5
  id 0000790 sex U
  name 佐藤 二 / - -
  immunization 2020-07-01 vaccine:DPT - -
  warning CSVMAP0004InvalidBirthDate 生年月日
  warning CSVMAP0005UnmappedSex 性別
  warning CSVMAP0006InvalidValue 接種回数
#5 line 6
  error CSVMAP0001InvalidEncoding -
",
    );
}

#[test]
fn juminhyo_deaths_by_position() {
    let tsv = "0001000\t田中\t三郎\t昭和20年8月15日\t1\t131016\t100-0005\t東京都千代田区丸の内\t令和6年1月31日\n";
    check(
        "juminhyo_shibou.toml",
        tsv.as_bytes(),
        "
#1 line 1
  id 0001000 sex M born 1945-08-15 died 2024-01-31
  name 田中 三郎 / - -
  addr 131016 100-0005 東京都千代田区丸の内
  death 2024-01-31 - - -
",
    );
}

#[test]
fn a_column_missing_from_the_header_stops_reading() {
    check(
        "yobou_sesshu.toml",
        &sjis("宛名番号,氏\r\n1,2\r\n"),
        "#1 line 1\n  error CSVMAP0007MissingColumn 接種日",
    );
}

#[test]
fn mapping_errors_name_the_setting() {
    let base = "encoding = \"utf-8\"\nheader = true\ndate_formats = [\"wareki\"]\n[identity]\n";
    let cases = [
        (
            format!("{base}[[events]]\nkind = \"party\"\ndate = \"d\"\n"),
            MappingError::InvalidKind(0),
        ),
        (
            base.replace("header", "delimiter = \";;\"\nheader"),
            MappingError::InvalidDelimiter,
        ),
        (
            base.replace("[\"wareki\"]", "[]"),
            MappingError::NoDateFormat,
        ),
        (
            format!("{base}[[events]]\nkind = \"death\"\ndate = \"d\"\ncode = \"c\"\n"),
            MappingError::CodeSystem(0),
        ),
        (
            format!("{base}patient_id = \"#0\"\n"),
            MappingError::InvalidColumn,
        ),
    ];
    for (text, err) in cases {
        assert_eq!(Mapping::from_toml(&text).unwrap_err(), err);
    }
    assert!(matches!(
        Mapping::from_toml("encoding = \"latin1\""),
        Err(MappingError::InvalidToml(_))
    ));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        for m in ["ninpu_kenshin.toml", "nyuyouji_kenshin.toml", "yobou_sesshu.toml", "juminhyo_shibou.toml"] {
            let m = mapping(m);
            let _: Vec<_> = MappedCsvReader::new("x.csv", &m, &bytes[..]).collect();
        }
    }

    #[test]
    fn arbitrary_mappings_never_panic(text in "[a-z_=\"\\[\\]\n #0-9,]{0,200}") {
        let _ = Mapping::from_toml(&text);
    }
}

/// Events that fit entry `i` of `m`: its kind, its (fixed or generated) code, a value when the
/// entry has a value column, and the unit the reader will give back.
fn events_for(m: &Mapping, picks: &[(usize, u16, u8, u16)]) -> Vec<tsumugi_model::Event> {
    use tsumugi_model::{Code, CodeSystem, Date, Event, EventKind};
    picks
        .iter()
        .filter_map(|&(i, day, code_n, value)| {
            let ec = m.events.get(i % m.events.len().max(1))?;
            let kind = EventKind::parse(&ec.kind)?;
            let system = ec.code_system.as_deref().map(CodeSystem::parse);
            let code = match (&ec.fixed_code, &ec.code, system) {
                (Some(fixed), _, Some(s)) => Some(Code::new(s, fixed.clone())),
                (None, Some(_), Some(s)) => Some(Code::new(s, format!("C{code_n:02}"))),
                _ => None,
            };
            let value = ec.value.as_ref().map(|_| f64::from(value) / 10.0);
            let unit = match (value, &ec.unit_column) {
                (None, _) => None,
                (Some(_), Some(_)) => {
                    Some(["mmHg", "g/dL", "kg"][usize::from(code_n) % 3].to_owned())
                }
                (Some(_), None) => ec.unit.clone(),
            };
            Some(Event {
                kind,
                date: Date::from_ymd_opt(2000, 1, 1)? + chrono::Days::new(u64::from(day)),
                end_date: None,
                code,
                value,
                unit,
            })
        })
        .collect()
}

fn sorted(mut events: Vec<tsumugi_model::Event>) -> Vec<String> {
    let mut out: Vec<String> = events.drain(..).map(|e| format!("{e:?}")).collect();
    out.sort();
    out
}

proptest! {
    /// The writer's output reads back, through the same mapping, to the events written (and
    /// what it could not lay out is returned, not dropped), for every shipped mapping.
    #[test]
    fn written_rows_read_back_to_the_same_events(
        which in 0usize..4,
        picks in prop::collection::vec((0usize..4, 0u16..9000, 0u8..20, 0u16..2000), 0..12),
    ) {
        use tsumugi_model::{IdentityAttributes, PersonName, Sex, SourceRecord};
        let m = mapping(["ninpu_kenshin.toml", "nyuyouji_kenshin.toml", "yobou_sesshu.toml", "juminhyo_shibou.toml"][which]);
        let events = events_for(&m, &picks);
        let record = SourceRecord {
            identity: IdentityAttributes {
                patient_id: Some("000123".to_owned()),
                names: vec![PersonName {
                    family_kanji: Some("山田".to_owned()),
                    given_kanji: Some("花子".to_owned()),
                    family_kana: Some("ヤマダ".to_owned()),
                    given_kana: Some("ハナコ".to_owned()),
                }],
                sex: Sex::Female,
                birth_date: tsumugi_model::Date::from_ymd_opt(1990, 5, 6),
                ..IdentityAttributes::default()
            },
            events: events.clone(),
        };
        let written = tsumugi_formats::csvmap::write_mapped_csv(&m, std::slice::from_ref(&record));
        let out: Vec<RecordOutcome> = MappedCsvReader::new("w.csv", &m, &written.bytes[..]).collect();
        let mut back = Vec::new();
        for o in out {
            prop_assert!(o.warnings.is_empty(), "{:?}", o.warnings);
            let r = o.result.map_err(|d| TestCaseError::fail(format!("{d:?}")))?;
            prop_assert_eq!(r.identity.patient_id.as_deref(), Some("000123"));
            back.extend(r.events);
        }
        if m.events.len() == 1 {
            prop_assert!(written.rest.is_empty(), "a single-entry layout carries every event that fits it");
        }
        back.extend(written.rest);
        prop_assert_eq!(sorted(back), sorted(events));
    }
}

#[test]
fn a_wide_row_is_written_whole_or_not_at_all() {
    use tsumugi_model::{Code, CodeSystem, Date, Event, EventKind, SourceRecord};
    let m = mapping("nyuyouji_kenshin.toml");
    let day = |d| Date::from_ymd_opt(2024, 4, d).unwrap();
    let item = |code: &str, d, v, unit: &str| Event {
        kind: EventKind::InfantCheckup,
        date: day(d),
        end_date: None,
        code: Some(Code::new(CodeSystem::parse("infant_checkup_item"), code)),
        value: Some(v),
        unit: Some(unit.to_owned()),
    };
    let record = SourceRecord {
        identity: tsumugi_model::IdentityAttributes {
            patient_id: Some("7".to_owned()),
            ..Default::default()
        },
        events: vec![
            item("body_height", 1, 65.5, "cm"),
            item("body_weight", 1, 7.25, "kg"),
            item("body_height", 2, 66.0, "cm"),
        ],
    };
    let written = tsumugi_formats::csvmap::write_mapped_csv(&m, &[record]);
    let out: Vec<_> = MappedCsvReader::new("w.csv", &m, &written.bytes[..]).collect();
    assert_eq!(out.len(), 1, "{}", String::from_utf8_lossy(&written.bytes));
    let events = &out[0].result.as_ref().unwrap().events;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].value, Some(7.25));
    assert_eq!(
        written.rest.len(),
        1,
        "the height alone on the 2nd would read back with a phantom weight"
    );
}
