//! FHIR reader and writer at the crate boundary: real eCS fixtures, NDJSON streaming and error
//! recovery, diagnostics without values, no panics, and the writer → reader round trip.

use std::fmt::Write as _;
use std::io::{BufReader, Read};

use proptest::prelude::*;
use tsumugi_formats::RecordOutcome;
use tsumugi_formats::fhir::{BundleContext, FhirReader, write_bundle};
use tsumugi_model::{
    Address, Code, CodeSystem, Date, Diagnostic, Event, EventKind, IdentityAttributes, Insurance,
    PersonName, ProviderId, Sex, SourceRecord,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/ecs_fhir_json/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_all(input: &[u8]) -> Vec<RecordOutcome> {
    FhirReader::new("input.ndjson", input).collect()
}

/// Reads `input` and compares a plain-text rendering of every outcome with `expect`.
#[track_caller]
fn check(input: &[u8], expect: &str) {
    let got = render(&read_all(input));
    assert_eq!(got.trim(), expect.trim(), "\n--- got ---\n{got}");
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

fn render(outcomes: &[RecordOutcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        let _ = writeln!(s, "#{} line {}", o.record, o.line.unwrap_or(0));
        match &o.result {
            Ok(r) => render_record(&mut s, r),
            Err(d) => render_diagnostic(&mut s, "error", d),
        }
        for w in &o.warnings {
            render_diagnostic(&mut s, "warning", w);
        }
    }
    s
}

fn render_diagnostic(s: &mut String, what: &str, d: &Diagnostic) {
    let _ = writeln!(
        s,
        "  {what} {} {}",
        d.code,
        d.field.as_deref().unwrap_or("-")
    );
}

fn render_record(s: &mut String, r: &SourceRecord) {
    let id = &r.identity;
    let date = |d: Option<Date>| d.map_or("-".to_owned(), |d| d.to_string());
    let _ = writeln!(
        s,
        "  patient {} sex {} born {} died {}",
        opt(&id.patient_id),
        id.sex.code(),
        date(id.birth_date),
        date(id.deceased_on)
    );
    for n in &id.names {
        let _ = writeln!(
            s,
            "  name {}/{} kana {}/{}",
            opt(&n.family_kanji),
            opt(&n.given_kanji),
            opt(&n.family_kana),
            opt(&n.given_kana)
        );
    }
    for a in &id.addresses {
        let _ = writeln!(
            s,
            "  address {} {} city {}",
            opt(&a.postal_code),
            opt(&a.text),
            opt(&a.municipality_code)
        );
    }
    for i in &id.insurances {
        let _ = writeln!(
            s,
            "  insurance {}:{}:{}:{}",
            opt(&i.insurer_number),
            opt(&i.symbol),
            opt(&i.number),
            opt(&i.branch)
        );
    }
    for e in &r.events {
        let _ = write!(s, "  {} {}", e.kind.as_str(), e.date);
        if let Some(end) = e.end_date {
            let _ = write!(s, "..{end}");
        }
        if let Some(c) = &e.code {
            let _ = write!(s, " {}={}", c.system.as_str(), c.value);
        }
        if let Some(v) = e.value {
            let _ = write!(s, " value {v}");
        }
        if let Some(u) = &e.unit {
            let _ = write!(s, " {u}");
        }
        let _ = writeln!(s);
    }
}

#[test]
fn patient_fixture() {
    check(
        &fixture("Patient-Example-JP-Patient-standard.json"),
        "
#1 line 1
  patient 000999739 sex F born 1930-06-28 died -
  name 牧野/爛漫 kana マキノ/ランマン
  address 781-8125 高知県高知市五台山4200-6 city -
  insurance 00012345:あいう:１８７:05
",
    );
}

#[test]
fn observation_fixture_with_logical_subject() {
    check(
        &fixture("Observation-Example-JP-Obs-LabResult-eCS-Alb.json"),
        "
#1 line 1
  patient - sex U born - died -
  insurance 00012345:あいう:１８７:05
  lab_result 2021-07-05 jlac10=3A015000001827101 value 3.9 mg/L
",
    );
}

#[test]
fn observations_bundle_fixture() {
    check(
        &fixture("Bundle-Bundle-CLINS-Observations-Example-01.json"),
        "
#1 line 1
  patient 000999739 sex F born 1930-06-28 died -
  name 牧野/爛漫 kana マキノ/ランマン
  address 781-8125 高知県高知市五台山4200-6 city -
  insurance 00012345:あいう:１８７:01
  lab_result 2021-07-05 jlac10=3A015000001827101 value 3.9 mg/L
  lab_result 2021-07-05 jlac10=3H015000002326101 value 3.5 mEq/L
  lab_result 2021-07-05 jlac10=8A065000002391901 value 75 ml/min/1.73m2
  lab_result 2021-07-05 jlac10=1A990000000190153
",
    );
}

#[test]
fn condition_fixture_keeps_medis_key_number_as_other() {
    // 病名管理番号 (keyNumber) is not the 病名交換用コード the model's MedisDisease holds.
    check(
        &fixture("Condition-Example-JP-Condition-eCS-01.json"),
        "
#1 line 1
  patient - sex U born - died -
  insurance 00012345:あいう:１８７:05
  diagnosis 2020-04-10 http://medis.or.jp/CodeSystem/master-disease-keyNumber=20064049
",
    );
}

#[test]
fn medication_request_fixture_prefers_hot9() {
    check(
        &fixture("MedicationRequest-Example-JP-MedReq-PO-TID-2days.json"),
        "
#1 line 1
  patient - sex U born - died -
  insurance 00012345:あいう:１８７:05
  prescription 2021-07-09 hot9=104195801 value 12 錠
",
    );
}

#[test]
fn allergy_fixture_without_resolvable_patient_is_rejected() {
    check(
        &fixture("AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-01.json"),
        "
#1 line 1
  error FHIR0002NoPatient -
",
    );
}

#[test]
fn ndjson_bad_lines_reject_only_their_record() {
    let input = concat!(
        r#"{"resourceType":"Patient","gender":"male","birthDate":"昭和31年3月12日"}"#,
        "\n\n",
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Pat"#,
        "\n",
        "not json at all\n",
        r#"{"resourceType":"Bundle","type":"collection","entry":[]}"#,
        "\r\n",
        r#"{"resourceType":"Bundle","type":"history","entry":[]}"#,
        "\n",
        r#"[1,2]"#,
        "\n",
        r#"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","id":"x"}},{"resource":{"resourceType":"Condition","subject":{"reference":"Patient/x"},"onsetDateTime":"2020-13-01","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"K26"}]}}},{"resource":{"resourceType":"Condition","subject":{"reference":"urn:uuid:p"},"recordedDate":"2020-04","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"K27"}]}}},{"resource":{"resourceType":"DiagnosticReport"}},{"resource":{"resourceType":"Encounter","class":{"code":"XYZ"},"period":{"start":"2020-04-01","end":"bad"}}},{"resource":{"resourceType":"AllergyIntolerance"}}]}"#,
        "\n",
    );
    check(
        input.as_bytes(),
        "
#1 line 1
  patient - sex M born 1956-03-12 died -
#2 line 3
  error FHIR0007Truncated -
#3 line 4
  error FHIR0001InvalidJson -
#4 line 5
  error FHIR0002NoPatient -
#5 line 6
  error FHIR0010UnsupportedBundleType Bundle.type
#6 line 7
  error FHIR0009NotAResource resourceType
#7 line 8
  patient - sex U born - died -
  diagnosis 2020-04-01 icd10=K27
  encounter_outpatient 2020-04-01
  warning FHIR0004InvalidDate Condition.onsetDateTime
  warning FHIR0013ImpreciseDate Condition.recordedDate
  warning FHIR0003UnsupportedResource Bundle.entry[3].resource
  warning FHIR0006UnmappedCode Encounter.class
  warning FHIR0004InvalidDate Encounter.period.end
  warning FHIR0005MissingDate AllergyIntolerance.onsetDateTime
",
    );
}

#[test]
fn references_to_contained_resources_resolve() {
    let input = r##"{"resourceType":"MedicationRequest","contained":[{"resourceType":"Patient","id":"p","gender":"female","name":[{"text":"ヤマダ ハナコ"},{"text":"山田 花子"}]},{"resourceType":"Medication","id":"m","code":{"coding":[{"system":"urn:oid:1.2.392.100495.20.2.73","code":"2316009F1022"}]}}],"subject":{"reference":"#p"},"medicationReference":{"reference":"#m"},"authoredOn":"2021-07-09T09:47:14+09:00"}"##;
    check(
        input.as_bytes(),
        "
#1 line 1
  patient - sex F born - died -
  name 山田/花子 kana ヤマダ/ハナコ
  prescription 2021-07-09 yj=2316009F1022
",
    );
}

#[test]
fn coverage_with_payor_organization() {
    let input = r#"{"resourceType":"Bundle","type":"document","entry":[{"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient"}},{"fullUrl":"urn:uuid:o","resource":{"resourceType":"Organization","identifier":[{"system":"urn:oid:1.2.392.100495.20.3.61","value":"06123456"}]}},{"fullUrl":"urn:uuid:c","resource":{"resourceType":"Coverage","status":"active","extension":[{"url":"http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonSymbol","valueString":"12"},{"url":"http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonNumber","valueString":"345"}],"dependent":"01","beneficiary":{"reference":"urn:uuid:p"},"payor":[{"reference":"urn:uuid:o"}]}}]}"#;
    check(
        input.as_bytes(),
        "
#1 line 1
  patient - sex U born - died -
  insurance 06123456:12:345:01
",
    );
}

#[test]
fn ndjson_is_streamed() {
    /// An endless NDJSON stream: collecting it would never end.
    struct Endless;
    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let line = b"{\"resourceType\":\"Patient\"}\n";
            let n = buf.len().min(line.len());
            buf[..n].copy_from_slice(&line[..n]);
            Ok(n)
        }
    }
    let outcomes: Vec<_> = FhirReader::new("endless", BufReader::new(Endless))
        .take(3)
        .collect();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    assert_eq!(outcomes[2].line, Some(3));
}

#[test]
fn diagnostics_never_contain_values() {
    let canaries = ["CANARY", "カナリア", "金糸雀", "1999-12-31", "0599"];
    let input = concat!(
        // Broken JSON holding a name.
        r#"{"resourceType":"Patient","name":[{"family":"金糸雀CANARY","given":["カナリア"]}],"birthDate":"1999-12-31"#,
        "\n",
        // Valid JSON, bad values everywhere.
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","name":[{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation","valueCode":"ABC"}],"text":"CANARY"}],"birthDate":"CANARY-1999-12-31","deceasedDateTime":"金糸雀","identifier":[{"system":"http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID","value":"CANARY0599"}]}},{"resource":{"resourceType":"CANARY"}},{"resource":{"resourceType":"Encounter","class":{"code":"CANARY"},"period":{"start":"カナリア"}}}]}"#,
        "\n",
        // Not a resource; a Bundle of an unknown type; a lone resource without patient.
        r#"{"resourceType":null,"name":"CANARY"}"#,
        "\n",
        r#"{"resourceType":"Bundle","type":"CANARY"}"#,
        "\n",
        r#"{"resourceType":"Observation","subject":{"reference":"Patient/CANARY"}}"#,
        "\n",
        "\u{FFFD}CANARY\n",
    );
    let mut input = input.as_bytes().to_vec();
    input.extend_from_slice(b"\xff\xfeCANARY\n");
    let outcomes = read_all(&input);
    let diagnostics: Vec<&Diagnostic> = outcomes
        .iter()
        .flat_map(|o| o.result.as_ref().err().into_iter().chain(&o.warnings))
        .collect();
    assert!(diagnostics.len() >= 9, "{}", render(&outcomes));
    for d in diagnostics {
        let text = format!(
            "{} {} {} {} {} {:?}",
            d.file,
            d.code,
            d.reason_ja,
            d.reason_en,
            d.field.as_deref().unwrap_or(""),
            d
        );
        for canary in canaries {
            assert!(!text.contains(canary), "{canary} leaked: {text}");
        }
    }
}

#[test]
fn pretty_document_and_bom() {
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(b"{\n  \"resourceType\": \"Patient\",\n  \"gender\": \"male\"\n}\n");
    check(&input, "#1 line 1\n  patient - sex M born - died -");
    check(
        b"{\n  \"resourceType\": \"Patient\",\n",
        "#1 line 1\n  error FHIR0007Truncated -",
    );
}

fn provider() -> ProviderId {
    ProviderId("1318814790".into())
}

fn write(record: &SourceRecord, bundle_id: &str) -> String {
    let provider = provider();
    let ctx = BundleContext {
        provider: &provider,
        bundle_id,
    };
    serde_json::to_string(&write_bundle(record, &ctx)).unwrap_or_default()
}

fn read_one(ndjson: &str) -> Result<SourceRecord, String> {
    let mut outcomes = read_all(ndjson.as_bytes());
    match (outcomes.pop(), outcomes.is_empty()) {
        (Some(o), true) => {
            if !o.warnings.is_empty() {
                return Err(render(&[o]));
            }
            o.result.map_err(|d| d.code)
        }
        _ => Err("not one record".into()),
    }
}

/// What the writer cannot represent (FHIR has no empty strings): empty strings become `None`;
/// names, addresses and insurances with nothing left are dropped; duplicate insurances are
/// merged (the reader de-duplicates the Coverage and eCS member-ID views of one insurance).
fn normalise(r: &SourceRecord) -> SourceRecord {
    let s = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let id = &r.identity;
    let names = id
        .names
        .iter()
        .map(|n| PersonName {
            family_kanji: s(&n.family_kanji),
            given_kanji: s(&n.given_kanji),
            family_kana: s(&n.family_kana),
            given_kana: s(&n.given_kana),
        })
        .filter(|n| *n != PersonName::default())
        .collect();
    let addresses = id
        .addresses
        .iter()
        .map(|a| Address {
            postal_code: s(&a.postal_code),
            text: s(&a.text),
            municipality_code: s(&a.municipality_code),
        })
        .filter(|a| *a != Address::default())
        .collect();
    let mut insurances: Vec<Insurance> = Vec::new();
    for i in &id.insurances {
        let i = Insurance {
            insurer_number: s(&i.insurer_number),
            symbol: s(&i.symbol),
            number: s(&i.number),
            branch: s(&i.branch),
        };
        if i != Insurance::default() && !insurances.contains(&i) {
            insurances.push(i);
        }
    }
    let events = r
        .events
        .iter()
        .map(|e| Event {
            code: e.code.clone().filter(|c| !c.value.is_empty()),
            unit: s(&e.unit),
            ..e.clone()
        })
        .collect();
    SourceRecord {
        identity: IdentityAttributes {
            patient_id: s(&id.patient_id),
            names,
            birth_date: id.birth_date,
            sex: id.sex,
            addresses,
            insurances,
            deceased_on: id.deceased_on,
        },
        events,
    }
}

fn ymd(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd_opt(y, m, d).unwrap_or_default()
}

#[test]
fn every_event_kind_round_trips() {
    let events: Vec<Event> = EventKind::ALL
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Event {
            kind,
            date: ymd(2020, 1, 1 + i as u32),
            end_date: (i % 2 == 0).then(|| ymd(2021, 1, 1 + i as u32)),
            code: Some(Code::new(CodeSystem::Jlac10, format!("C{i}"))),
            value: Some(i as f64 + 0.25),
            unit: Some("mg/dL".into()),
        })
        .collect();
    let record = SourceRecord {
        identity: IdentityAttributes {
            patient_id: Some("P-1".into()),
            names: vec![PersonName {
                family_kanji: Some("髙橋".into()),
                given_kanji: Some("一郎".into()),
                family_kana: Some("タカハシ".into()),
                given_kana: Some("イチロウ".into()),
            }],
            birth_date: Some(ymd(1956, 3, 12)),
            sex: Sex::Male,
            addresses: vec![Address {
                postal_code: Some("781-8125".into()),
                text: Some("高知県高知市五台山4200-6".into()),
                municipality_code: Some("392014".into()),
            }],
            insurances: vec![Insurance {
                insurer_number: Some("06123456".into()),
                symbol: Some("12".into()),
                number: Some("345".into()),
                branch: Some("01".into()),
            }],
            deceased_on: Some(ymd(2021, 2, 3)),
        },
        events,
    };
    let json = write(&record, "bundle-1");
    assert_eq!(json, write(&record, "bundle-1"), "deterministic");
    assert_eq!(read_one(&json), Ok(record));
}

#[test]
fn written_bundle_shape() {
    let record = SourceRecord {
        identity: IdentityAttributes {
            patient_id: Some("000999739".into()),
            names: vec![PersonName {
                family_kanji: Some("牧野".into()),
                given_kanji: Some("爛漫".into()),
                ..PersonName::default()
            }],
            ..IdentityAttributes::default()
        },
        events: vec![Event {
            kind: EventKind::Encounter(tsumugi_model::EncounterClass::Emergency),
            date: ymd(2023, 4, 1),
            end_date: None,
            code: None,
            value: None,
            unit: None,
        }],
    };
    let provider = provider();
    let b = write_bundle(
        &record,
        &BundleContext {
            provider: &provider,
            bundle_id: "b",
        },
    );
    let patient = &b["entry"][0]["resource"];
    assert_eq!(
        patient["identifier"][0]["system"],
        "urn:oid:1.2.392.100495.20.3.51.11318814790"
    );
    assert_eq!(patient["name"][0]["text"], "牧野 爛漫");
    assert_eq!(patient["name"][0]["extension"][0]["valueCode"], "IDE");
    assert_eq!(patient["name"][1]["extension"][0]["valueCode"], "SYL");
    let encounter = &b["entry"][1]["resource"];
    assert_eq!(encounter["class"]["code"], "EMER");
    assert_eq!(encounter["subject"]["reference"], b["entry"][0]["fullUrl"]);
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9ぁ-んァ-ヶ一-龥 ー-]{0,6}"
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn date() -> impl Strategy<Value = Date> {
    (0u64..73_000).prop_map(|d| ymd(1900, 1, 1) + chrono::Days::new(d))
}

fn code_system() -> impl Strategy<Value = CodeSystem> {
    prop_oneof![
        Just(CodeSystem::Icd10),
        Just(CodeSystem::MedisDisease),
        Just(CodeSystem::Jlac10),
        Just(CodeSystem::KenshinItem),
        Just(CodeSystem::Hot9),
        Just(CodeSystem::Yj),
        Just(CodeSystem::ReceiptProcedure),
        Just(CodeSystem::ReceiptDrug),
        Just(CodeSystem::CareService),
        Just(CodeSystem::CareLevel),
        Just(CodeSystem::Vaccine),
        "[a-z]{1,8}".prop_map(|s| CodeSystem::Other(format!("urn:example:{s}"))),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    (
        proptest::sample::select(EventKind::ALL.to_vec()),
        date(),
        proptest::option::of(date()),
        proptest::option::of((code_system(), "[A-Z0-9.]{0,10}")),
        proptest::option::of(-1e9f64..1e9),
        opt_text(),
    )
        .prop_map(|(kind, date, end_date, code, value, unit)| Event {
            kind,
            date,
            end_date,
            code: code.map(|(system, value)| Code::new(system, value)),
            value,
            unit,
        })
}

fn record() -> impl Strategy<Value = SourceRecord> {
    let name =
        (opt_text(), opt_text(), opt_text(), opt_text()).prop_map(|(a, b, c, d)| PersonName {
            family_kanji: a,
            given_kanji: b,
            family_kana: c,
            given_kana: d,
        });
    let address = (opt_text(), opt_text(), opt_text()).prop_map(|(a, b, c)| Address {
        postal_code: a,
        text: b,
        municipality_code: c,
    });
    let insurance =
        (opt_text(), opt_text(), opt_text(), opt_text()).prop_map(|(a, b, c, d)| Insurance {
            insurer_number: a,
            symbol: b,
            number: c,
            branch: d,
        });
    let sex = prop_oneof![Just(Sex::Male), Just(Sex::Female), Just(Sex::Unknown)];
    (
        (
            opt_text(),
            proptest::collection::vec(name, 0..3),
            proptest::option::of(date()),
            sex,
        ),
        (
            proptest::collection::vec(address, 0..3),
            proptest::collection::vec(insurance, 0..3),
            proptest::option::of(date()),
            proptest::collection::vec(event(), 0..8),
        ),
    )
        .prop_map(
            |(
                (patient_id, names, birth_date, sex),
                (addresses, insurances, deceased_on, events),
            )| {
                SourceRecord {
                    identity: IdentityAttributes {
                        patient_id,
                        names,
                        birth_date,
                        sex,
                        addresses,
                        insurances,
                        deceased_on,
                    },
                    events,
                }
            },
        )
}

proptest! {
    #[test]
    fn read_of_write_is_identity(record in record(), bundle_id in "[a-z0-9-]{1,12}") {
        let json = write(&record, &bundle_id);
        prop_assert_eq!(&json, &write(&record, &bundle_id));
        prop_assert_eq!(read_one(&json), Ok(normalise(&record)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let outcomes = read_all(&bytes);
        for (i, o) in outcomes.iter().enumerate() {
            prop_assert_eq!(o.record, i as u64 + 1);
        }
    }

    #[test]
    fn arbitrary_json_like_text_never_panics(text in r#"[{}\[\]":,a-zA-Z0-9 \n#/-]{0,300}"#) {
        let _ = read_all(text.as_bytes());
    }

    #[test]
    fn cut_or_mangled_bundles_never_panic(record in record(), cut in 0usize..4000, flip in 0usize..4000) {
        let json = write(&record, "b");
        let mut bytes = json.into_bytes();
        if let Some(b) = bytes.get_mut(flip) {
            *b = b'"';
        }
        bytes.truncate(cut);
        let _ = read_all(&bytes);
    }
}

#[test]
fn an_over_long_line_is_rejected_and_the_next_line_is_read() {
    let patient =
        br#"{"resourceType":"Patient","id":"p1","gender":"male","birthDate":"1960-04-02"}"#;
    let cap = tsumugi_formats::fhir::MAX_RECORD_BYTES as usize;
    let mut input = vec![b' '; cap + 10];
    input[0] = b'{';
    input.push(b'\n');
    input.extend_from_slice(patient);
    input.push(b'\n');
    let out = read_all(&input);
    assert_eq!(out.len(), 2);
    let d = out[0].result.as_ref().unwrap_err();
    assert_eq!(
        (d.code.as_str(), out[0].line),
        ("FHIR0015TooLarge", Some(1))
    );
    assert!(d.reason_en.contains("64 MiB"));
    assert!(out[1].result.is_ok(), "{:?}", out[1]);
    assert_eq!(out[1].line, Some(2));
    // A whole document over the cap: one rejection, nothing kept.
    let mut doc = b"{\n  \"resourceType\": \"Bundle\",\n".to_vec();
    doc.extend(std::iter::repeat_n(b' ', cap));
    doc.extend_from_slice(b"\n}\n");
    let out = read_all(&doc);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].result.as_ref().unwrap_err().code, "FHIR0015TooLarge");
}
