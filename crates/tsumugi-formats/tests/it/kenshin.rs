//! 特定健診 XML at the crate boundary: the MHLW templates, a filled CDA, the submission ZIP
//! (counts, schema subset, path traversal), no panics, and the writer → reader round trip.

use std::fmt::Write as _;
use std::io::{Cursor, Write as _};

use proptest::prelude::*;
use tsumugi_formats::RecordOutcome;
use tsumugi_formats::kenshin::{
    CdaConfig, SubmissionHeader, SubmissionZipWriter, patient_id, read_cda, read_cda_with,
    read_submission_zip, write_cda,
};
use tsumugi_model::{
    Address, Code, CodeSystem, Date, Event, EventKind, IdentityAttributes, Insurance, PersonName,
    Sex, SourceRecord,
};
use zip::write::SimpleFileOptions;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/tokutei_kenshin_xml/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

fn render(outcomes: &[RecordOutcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        let _ = writeln!(s, "#{}", o.record);
        match &o.result {
            Ok(r) => {
                let id = &r.identity;
                let _ = writeln!(s, "  patient {}", opt(&id.patient_id));
                for i in &id.insurances {
                    let _ = writeln!(
                        s,
                        "  insurance {} {} {} {}",
                        opt(&i.insurer_number),
                        opt(&i.symbol),
                        opt(&i.number),
                        opt(&i.branch)
                    );
                }
                for n in &id.names {
                    let _ = writeln!(s, "  kana {} {}", opt(&n.family_kana), opt(&n.given_kana));
                }
                for a in &id.addresses {
                    let _ = writeln!(s, "  addr {} {}", opt(&a.postal_code), opt(&a.text));
                }
                let _ = writeln!(
                    s,
                    "  sex {} born {}",
                    id.sex.code(),
                    id.birth_date.map_or("-".to_owned(), |d| d.to_string())
                );
                for e in &r.events {
                    let _ = writeln!(
                        s,
                        "  {} {} {} {} {}",
                        e.kind.as_str(),
                        e.date,
                        e.code.as_ref().map_or("-", |c| c.value.as_str()),
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
fn check(outcomes: &[RecordOutcome], expect: &str) {
    let got = render(outcomes);
    assert_eq!(got.trim(), expect.trim(), "\n--- got ---\n{got}");
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A filled CDA in the shape of the MHLW template (synthetic values).
const FILLED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id nullFlavor="NI"/>
  <code code="10" codeSystem="1.2.392.200119.6.1001"/>
  <effectiveTime value="20240610"/>
  <confidentialityCode code="N"/>
  <recordTarget>
    <patientRole>
      <id extension="06139995" root="1.2.392.200119.6.101"/>
      <id extension="ｹﾝｼﾝ1" root="1.2.392.200119.6.204"/>
      <id extension="1234567" root="1.2.392.200119.6.205"/>
      <id extension="01" root="1.2.392.200119.6.211"/>
      <addr><postalCode>100-8916</postalCode>東京都千代田区霞が関1-2-2</addr>
      <patient>
        <name>ケンシン　タロウ</name>
        <administrativeGenderCode code="1" codeSystem="1.2.392.200119.6.1104"/>
        <birthTime value="19650402"/>
      </patient>
    </patientRole>
  </recordTarget>
  <author><time value="20240612"/><assignedAuthor><id nullFlavor="NI"/></assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization><id nullFlavor="NI"/></representedCustodianOrganization></assignedCustodian></custodian>
  <documentationOf><serviceEvent><code code="1" codeSystem="1.2.392.200119.6.1002"/><effectiveTime value="20240605"/></serviceEvent></documentationOf>
  <component><structuredBody><component><section>
    <code code="01010" codeSystem="1.2.392.200119.6.1010"/>
    <entry><observation classCode="OBS" moodCode="EVN"><code code="9N001000000000001" codeSystem="1.2.392.200119.6.1005" displayName="身長"/><value xsi:type="PQ" value="170.2" unit="cm"/></observation></entry>
    <entry><observation classCode="OBS" moodCode="EVN"><code code="9N006000000000001" codeSystem="1.2.392.200119.6.1005" displayName="体重"/><value xsi:type="PQ" value="65.3" unit="kg"/></observation></entry>
    <entry><observation classCode="OBS" moodCode="EVN"><code code="9A751000000000001" displayName="収縮期血圧"/><value xsi:type="PQ" value="128" unit="mmHg"/></observation></entry>
    <entry><observation classCode="OBS" moodCode="EVN"><code code="3D046000001906202" displayName="HbA1c"/><effectiveTime value="20240606"/><value xsi:type="PQ" value="5.6" unit="%"/></observation></entry>
    <entry><observation classCode="OBS" moodCode="EVN"><code code="1A020000000190111" displayName="尿糖"/><value xsi:type="CO" code="1" codeSystem="1.2.392.200119.6.2101"/></observation></entry>
    <entry><observation classCode="OBS" moodCode="EVN"><code code="9N501000000000011" displayName="既往歴"/><value xsi:type="ST">自由記述</value></observation></entry>
    <entry><observation classCode="OBS" moodCode="EVN"><code code="BAD"/><value xsi:type="PQ" value="1" unit="mg"/></observation></entry>
  </section></component></structuredBody></component>
</ClinicalDocument>
"#;

#[test]
fn cda_template_decodes_header_oids_with_placeholder_warnings() {
    // The template's values are the placeholder 99999999: the OID-keyed ids decode as such, the
    // placeholder dates and item code are reported as warnings, and the record is kept.
    let out = read_cda_with(
        "CDAtemplate-hc18.xml",
        &fixture("CDAtemplate-hc18.xml"),
        &CdaConfig { check_schema: true },
    );
    check(
        &[out],
        "
#1
  patient 99999999:99999999:99999999:99999999
  insurance 99999999 99999999 99999999 99999999
  kana 99999999 -
  addr 99999999 99999999
  sex U born -
  warning KNS0010UnmappedSex patient.administrativeGenderCode
  warning KNS0005InvalidDate patient.birthTime
  warning KNS0005InvalidDate effectiveTime
  warning KNS0005InvalidDate documentationOf.serviceEvent.effectiveTime
  warning KNS0006InvalidItemCode observation.code
",
    );
}

#[test]
fn filled_cda_decodes_identity_and_checkup_items() {
    let out = read_cda_with(
        "h1.xml",
        FILLED.as_bytes(),
        &CdaConfig { check_schema: true },
    );
    check(
        &[out],
        "
#1
  patient 06139995:ｹﾝｼﾝ1:1234567:01
  insurance 06139995 ｹﾝｼﾝ1 1234567 01
  kana ケンシン タロウ
  addr 100-8916 東京都千代田区霞が関1-2-2
  sex M born 1965-04-02
  checkup 2024-06-05 9N001000000000001 170.2 cm
  checkup 2024-06-05 9N006000000000001 65.3 kg
  checkup 2024-06-05 9A751000000000001 128 mmHg
  checkup 2024-06-06 3D046000001906202 5.6 %
  checkup 2024-06-05 1A020000000190111 1 -
  warning KNS0008FreeTextIgnored observation.value
  warning KNS0006InvalidItemCode observation.code
",
    );
}

#[test]
fn malformed_documents_are_rejected_with_a_code() {
    let cases: [(&[u8], &str); 5] = [
        (b"<ClinicalDocument><recordTarget>", "KNS0001MalformedXml"),
        (b"\xff\xfe<a/>", "KNS0002InvalidUtf8"),
        (b"<index/>", "KNS0003NotClinicalDocument"),
        (b"<ClinicalDocument/>", "KNS0004NoPatient"),
        (
            &FILLED.as_bytes()[..FILLED.len() / 2],
            "KNS0001MalformedXml",
        ),
    ];
    for (input, code) in cases {
        let out = read_cda("x.xml", input);
        assert_eq!(out.result.unwrap_err().code, code);
    }
}

#[test]
fn schema_subset_rejects_a_document_missing_required_elements() {
    let broken = FILLED
        .replace("<custodian>", "<!--")
        .replace("</custodian>", "-->")
        .replace(
            r#"classCode="OBS" moodCode="EVN"><code code="9N006"#,
            r#"classCode="OBS"><code code="9N006"#,
        );
    let out = read_cda_with(
        "h1.xml",
        broken.as_bytes(),
        &CdaConfig { check_schema: true },
    );
    check(
        &[out],
        "
#1
  error KNS0011SchemaViolation ClinicalDocument.custodian
  warning KNS0011SchemaViolation observation@moodCode
",
    );
    // Without the schema check the same document is read.
    assert!(read_cda("h1.xml", broken.as_bytes()).result.is_ok());
}

#[test]
fn submission_zip_with_every_fixture() {
    let cda = fixture("CDAtemplate-hc18.xml");
    let filled = FILLED.as_bytes();
    let zip = zip_of(&[
        ("sub/ix08_V08.xml", &fixture("IXtemplate.xml")),
        ("sub/su08_V08.xml", &fixture("SUtemplate.xml")),
        ("sub/DATA/h0000000001.xml", &cda),
        ("sub/DATA/h0000000002.xml", filled),
        (
            "sub/CLAIMS/cc0000000001.xml",
            &fixture("CCV08_template.xml"),
        ),
        ("sub/XSD/hc08_V08.xsd", &fixture("hc08_V08.xsd")),
        ("sub/XSD/ix08_V08.xsd", &fixture("ix08_V08.xsd")),
    ]);
    let out: Vec<_> = read_submission_zip("sub.zip", Cursor::new(zip)).collect();
    // The templates' placeholder counts (99 files, 999 persons) do not match this archive.
    let codes: Vec<(u64, String, Option<String>)> = out
        .iter()
        .map(|o| match &o.result {
            Ok(_) => (o.record, "ok".to_owned(), None),
            Err(d) => (o.record, d.code.clone(), d.field.clone()),
        })
        .collect();
    assert_eq!(
        codes,
        [
            (
                1,
                "KNS0015CountMismatch".to_owned(),
                Some("index.totalRecordCount".to_owned())
            ),
            (
                2,
                "KNS0015CountMismatch".to_owned(),
                Some("summary.totalSubjectCount".to_owned())
            ),
            (3, "ok".to_owned(), None),
            (4, "ok".to_owned(), None),
        ]
    );
    let filled = out[3].result.as_ref().unwrap();
    assert_eq!(filled.events.len(), 5);
    assert_eq!(out[3].warnings[0].file, "sub.zip:sub/DATA/h0000000002.xml");
}

#[test]
fn submission_zip_counts_match() {
    let ix = String::from_utf8(fixture("IXtemplate.xml"))
        .unwrap()
        .replace(r#"value="99""#, r#"value="2""#);
    let su = String::from_utf8(fixture("SUtemplate.xml"))
        .unwrap()
        .replace(r#"value="999""#, r#"value="1""#);
    let zip = zip_of(&[
        ("ix08_V08.xml", ix.as_bytes()),
        ("su08_V08.xml", su.as_bytes()),
        ("DATA/h1.xml", FILLED.as_bytes()),
    ]);
    let out: Vec<_> = read_submission_zip("sub.zip", Cursor::new(zip)).collect();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].record, 3);
    assert!(out[0].result.is_ok());
}

#[test]
fn submission_zip_rejects_path_traversal_without_echoing_the_name() {
    let zip = zip_of(&[
        ("ix08_V08.xml", &fixture("IXtemplate.xml")),
        ("../evil", b"x"),
        ("DATA/../../evil2.xml", FILLED.as_bytes()),
        ("DATA/h1.xml", FILLED.as_bytes()),
    ]);
    let out: Vec<_> = read_submission_zip("sub.zip", Cursor::new(zip)).collect();
    let traversal: Vec<_> = out
        .iter()
        .filter_map(|o| o.result.as_ref().err())
        .filter(|d| d.code == "KNS0012PathTraversal")
        .collect();
    assert_eq!(traversal.len(), 2);
    for d in traversal {
        assert!(!d.file.contains("evil"), "{}", d.file);
        assert!(d.file.starts_with("sub.zip:entry"));
    }
    assert!(out.iter().any(|o| o.record == 4 && o.result.is_ok()));
}

#[test]
fn not_a_zip_and_missing_index() {
    let out: Vec<_> = read_submission_zip("x.zip", Cursor::new(b"not a zip".to_vec())).collect();
    check(&out, "#1\n  error KNS0013InvalidArchive -");
    let zip = zip_of(&[("DATA/h1.xml", b"<ClinicalDocument")]);
    let out: Vec<_> = read_submission_zip("x.zip", Cursor::new(zip)).collect();
    check(
        &out,
        "#1\n  error KNS0016MissingIndex -\n#1\n  error KNS0001MalformedXml -",
    );
}

fn date() -> impl Strategy<Value = Date> {
    (1900i32..2100, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| Date::from_ymd_opt(y, m, d).unwrap())
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9ｱ-ﾝア-ン漢字&<>\"']{1,8}"
}

fn checkup() -> impl Strategy<Value = Event> {
    (
        date(),
        "[0-9A-Z]{17}",
        -1.0e6f64..1.0e6,
        proptest::option::of(prop::sample::select(vec![
            "cm", "kg", "mmHg", "mg/dL", "%", "kg/m2",
        ])),
    )
        .prop_map(|(date, code, value, unit)| Event {
            kind: EventKind::Checkup,
            date,
            end_date: None,
            code: Some(Code::new(CodeSystem::KenshinItem, code)),
            value: Some(value),
            unit: unit.map(str::to_owned),
        })
}

fn record() -> impl Strategy<Value = SourceRecord> {
    (
        proptest::option::of((word(), word(), word(), "[0-9]{2}")),
        proptest::option::of((word(), proptest::option::of(word()))),
        proptest::option::of(("[0-9]{3}-[0-9]{4}", word())),
        prop::sample::select(vec![Sex::Male, Sex::Female, Sex::Unknown]),
        proptest::option::of(date()),
        prop::collection::vec(checkup(), 0..8),
    )
        .prop_map(|(ins, name, addr, sex, birth, events)| SourceRecord {
            identity: IdentityAttributes {
                insurances: ins
                    .map(|(i, s, n, b)| Insurance {
                        insurer_number: Some(i),
                        symbol: Some(s),
                        number: Some(n),
                        branch: Some(b),
                    })
                    .into_iter()
                    .collect(),
                names: name
                    .map(|(f, g)| PersonName {
                        family_kana: Some(f),
                        given_kana: g,
                        ..PersonName::default()
                    })
                    .into_iter()
                    .collect(),
                addresses: addr
                    .map(|(p, t)| Address {
                        postal_code: Some(p),
                        text: Some(t),
                        municipality_code: None,
                    })
                    .into_iter()
                    .collect(),
                sex,
                birth_date: birth,
                ..IdentityAttributes::default()
            },
            events,
        })
}

/// `r` as the reader gives it back: with the patient id derived from its card.
fn with_patient_id(mut r: SourceRecord) -> SourceRecord {
    r.identity.patient_id = r.identity.insurances.first().and_then(patient_id);
    r
}

#[test]
fn patient_id_is_derived_from_the_card() {
    let card = |symbol: Option<&str>, branch: Option<&str>| Insurance {
        insurer_number: Some("06139995".into()),
        symbol: symbol.map(str::to_owned),
        number: Some("1234567".into()),
        branch: branch.map(str::to_owned),
    };
    assert_eq!(
        patient_id(&card(Some("１２"), Some("01"))).as_deref(),
        Some("06139995:12:1234567:01")
    );
    assert_eq!(
        patient_id(&card(Some("12"), Some("01"))),
        patient_id(&card(Some(" １２ "), Some("01")))
    );
    assert_eq!(
        patient_id(&card(None, None)).as_deref(),
        Some("06139995::1234567:")
    );
    let mut no_number = card(None, None);
    no_number.number = None;
    assert_eq!(patient_id(&no_number), None);
    // Household members differ by 枝番, and so do their ids.
    assert_ne!(
        patient_id(&card(Some("12"), Some("01"))),
        patient_id(&card(Some("12"), Some("02")))
    );
}

proptest! {
    #[test]
    fn write_then_read_gives_back_the_record(r in record()) {
        let xml = write_cda(&r);
        let out = read_cda_with("w.xml", &xml, &CdaConfig { check_schema: true });
        prop_assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        prop_assert_eq!(out.result.unwrap(), with_patient_id(r));
    }

    #[test]
    fn submission_zip_writer_round_trips(records in prop::collection::vec(record(), 0..6)) {
        let header = SubmissionHeader {
            sender: "1311234567",
            receiver: "06139995",
            created: Date::from_ymd_opt(2025, 4, 1).unwrap(),
        };
        let mut w = SubmissionZipWriter::new(Cursor::new(Vec::new()), header);
        for r in &records {
            w.add_document(&write_cda(r)).unwrap();
        }
        prop_assert_eq!(w.documents(), records.len() as u64);
        let zip = w.finish().unwrap().into_inner();
        let out: Vec<_> = read_submission_zip("sub.zip", Cursor::new(zip)).collect();
        prop_assert_eq!(out.len(), records.len());
        for (i, (o, r)) in out.into_iter().zip(records).enumerate() {
            prop_assert_eq!(o.record, i as u64 + 1);
            prop_assert!(o.warnings.is_empty(), "{:?}", o.warnings);
            prop_assert_eq!(o.result.unwrap(), with_patient_id(r));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_cda("x.xml", &bytes);
        let _: Vec<_> = read_submission_zip("x.zip", Cursor::new(bytes)).collect();
    }

    #[test]
    fn mutated_documents_never_panic(cut in 0usize..4000, byte in any::<u8>()) {
        let mut doc = FILLED.as_bytes().to_vec();
        let i = cut % doc.len();
        doc[i] = byte;
        let _ = read_cda_with("x.xml", &doc, &CdaConfig { check_schema: true });
        let _ = read_cda("x.xml", &doc[..i]);
    }
}

#[test]
fn submission_zip_checks_the_schema_only_when_the_xsd_is_present() {
    let broken = FILLED.replace("<confidentialityCode code=\"N\"/>", "");
    let ix = fixture("IXtemplate.xml");
    let with_xsd = zip_of(&[
        ("ix08_V08.xml", &ix),
        ("DATA/h1.xml", broken.as_bytes()),
        ("XSD/hc08_V08.xsd", &fixture("hc08_V08.xsd")),
    ]);
    let without = zip_of(&[("ix08_V08.xml", &ix), ("DATA/h1.xml", broken.as_bytes())]);
    let data = |zip: Vec<u8>| {
        read_submission_zip("sub.zip", Cursor::new(zip))
            .find(|o| o.record == 2)
            .unwrap()
    };
    let err = data(with_xsd).result.unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.field.as_deref()),
        (
            "KNS0011SchemaViolation",
            Some("ClinicalDocument.confidentialityCode")
        )
    );
    assert!(data(without).result.is_ok());
}
