//! The one entry point, `open`, over seekable sources: ZIPs are read in place (from a file or
//! any `BufRead + Seek`), an entry that decompresses past its cap is a diagnostic that names the
//! cap (the rest is still read), and names escaping the archive are refused without echo.

use std::io::{BufReader, Cursor, Write as _};

use tsumugi_formats::{Format, RecordOutcome, open, open_file};
use tsumugi_model::{
    Code, CodeSystem, Date, Event, EventKind, IdentityAttributes, PersonName, Sex, SourceRecord,
};
use zip::write::SimpleFileOptions;

/// A zip bomb entry: `n` zero bytes, written in pieces (it compresses to a few KiB).
fn zeros_zip(entries: &[(String, Vec<u8>)], bomb: &str, n: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(false);
    w.start_file(bomb, opts).unwrap();
    let piece = vec![0u8; 1 << 20];
    for _ in 0..n.div_ceil(piece.len()) {
        w.write_all(&piece).unwrap();
    }
    for (name, bytes) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn person() -> SourceRecord {
    SourceRecord {
        identity: IdentityAttributes {
            patient_id: Some("0000000001".into()),
            names: vec![PersonName {
                family_kana: Some("ヤマダ".into()),
                given_kana: Some("タロウ".into()),
                ..PersonName::default()
            }],
            birth_date: Date::from_ymd_opt(1960, 4, 2),
            sex: Sex::Male,
            ..IdentityAttributes::default()
        },
        events: vec![Event {
            kind: EventKind::Diagnosis,
            date: Date::from_ymd_opt(2024, 5, 1).unwrap_or_default(),
            end_date: None,
            code: Some(Code::new(CodeSystem::Icd10, "E11.9")),
            value: None,
            unit: None,
        }],
    }
}

fn errors(out: &[RecordOutcome]) -> Vec<&tsumugi_model::Diagnostic> {
    out.iter().filter_map(|o| o.result.as_ref().err()).collect()
}

#[test]
fn storage_zip_is_read_in_place_with_caps_and_traversal_refusal() {
    let mut entries = tsumugi_formats::ssmix2::write_patient(&person(), "0000000001");
    entries.push(("../../etc/0000000001".to_owned(), b"x".to_vec()));
    let bomb = "000/000/0000000002/-/ADT-00/0000000002_-_ADT-00_1_20240101000000000_-_1";
    let zip = zeros_zip(
        &entries,
        bomb,
        tsumugi_formats::MAX_STORAGE_ENTRY_BYTES as usize + 1,
    );
    assert!(zip.len() < 1 << 20, "the bomb compresses: {}", zip.len());
    let out: Vec<_> = open(
        Format::Ssmix2,
        "storage.zip",
        Box::new(Cursor::new(zip.clone())),
    )
    .unwrap()
    .collect();
    let errs = errors(&out);
    let codes: Vec<&str> = errs.iter().map(|d| d.code.as_str()).collect();
    assert!(codes.contains(&"FMT0007UnsafeEntryName"), "{codes:?}");
    assert!(codes.contains(&"FMT0008EntryTooLarge"), "{codes:?}");
    for d in &errs {
        assert!(
            !d.file.contains("0000000002") && !d.file.contains("etc"),
            "{}",
            d.file
        );
    }
    let big = errs
        .iter()
        .find(|d| d.code == "FMT0008EntryTooLarge")
        .unwrap();
    assert!(
        big.reason_en
            .contains(&tsumugi_formats::MAX_STORAGE_ENTRY_BYTES.to_string())
    );
    assert!(big.reason_ja.contains("展開後"));
    // The patient after the bomb is still read.
    assert_eq!(out.iter().filter(|o| o.result.is_ok()).count(), 1);
    // From a file on disk: the same outcomes.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("storage.zip");
    std::fs::write(&path, &zip).unwrap();
    let from_file: Vec<_> = open_file(Format::Ssmix2, &path).unwrap().collect();
    assert_eq!(format!("{from_file:?}"), format!("{out:?}"));
}

#[test]
fn kenshin_zip_bomb_entry_is_a_diagnostic_naming_the_cap() {
    let cda = tsumugi_formats::kenshin::write_cda(&person());
    let index = br#"<?xml version="1.0" encoding="UTF-8"?><index xmlns="http://tokuteikenshin.jp/checkup/2023"><totalRecordCount value="2"/></index>"#;
    let zip = zeros_zip(
        &[
            ("ix08_V08.xml".to_owned(), index.to_vec()),
            ("DATA/h2.xml".to_owned(), cda),
        ],
        "DATA/h1.xml",
        tsumugi_formats::kenshin::MAX_ENTRY_BYTES as usize + 1,
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("kenshin.zip");
    std::fs::write(&path, &zip).unwrap();
    let out: Vec<_> = open_file(Format::KenshinZip, &path).unwrap().collect();
    let errs = errors(&out);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].code, "KNS0014EntryTooLarge");
    assert!(errs[0].reason_en.contains("32 MiB"));
    assert_eq!(errs[0].record, 1);
    assert!(out.iter().any(|o| o.record == 3 && o.result.is_ok()));
    // Any `BufRead + Seek` source reads the same.
    let again: Vec<_> = open(
        Format::KenshinZip,
        "kenshin.zip",
        Box::new(BufReader::new(std::fs::File::open(&path).unwrap())),
    )
    .unwrap()
    .collect();
    assert_eq!(format!("{again:?}"), format!("{out:?}"));
}

#[test]
fn a_storage_source_that_is_neither_stream_nor_zip_is_an_open_error() {
    let got = open(
        Format::Ssmix2,
        "x.bin",
        Box::new(Cursor::new(b"not a zip at all".to_vec())),
    );
    assert!(got.is_err());
}

#[test]
fn a_written_submission_zip_reads_back_without_findings() {
    for deflate in [false, true] {
        let header = tsumugi_formats::kenshin::SubmissionHeader {
            sender: "1234567890",
            receiver: "00000000",
            created: tsumugi_model::Date::from_ymd_opt(2025, 4, 1).unwrap(),
        };
        let mut w =
            tsumugi_formats::kenshin::SubmissionZipWriter::new(Cursor::new(Vec::new()), header);
        if !deflate {
            w = w.stored();
        }
        for _ in 0..3 {
            w.add_document(&tsumugi_formats::kenshin::write_cda(&person()))
                .unwrap();
        }
        let zip = w.finish().unwrap().into_inner();
        assert_eq!(
            tsumugi_formats::sniff("sub.zip", &zip),
            Some(Format::KenshinZip)
        );
        let out: Vec<_> = open(Format::KenshinZip, "sub.zip", Box::new(Cursor::new(zip)))
            .unwrap()
            .collect();
        assert_eq!(out.len(), 3, "{out:?}");
        for o in &out {
            assert!(o.result.is_ok() && o.warnings.is_empty(), "{o:?}");
        }
    }
}

#[test]
fn storage_zip_in_path_order_streams_and_out_of_order_is_sorted_first() {
    let mut sorted: Vec<(String, Vec<u8>)> = Vec::new();
    for pid in ["0000000001", "0000000002", "0000000003"] {
        sorted.extend(tsumugi_formats::ssmix2::write_patient(&person(), pid));
    }
    sorted.sort();
    let mut shuffled = sorted.clone();
    shuffled.reverse();
    let read = |entries: &[(String, Vec<u8>)]| -> Vec<RecordOutcome> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            w.start_file(name.as_str(), SimpleFileOptions::default())
                .unwrap();
            w.write_all(bytes).unwrap();
        }
        let zip = w.finish().unwrap().into_inner();
        open(Format::Ssmix2, "storage.zip", Box::new(Cursor::new(zip)))
            .unwrap()
            .collect()
    };
    let in_order = read(&sorted);
    assert_eq!(in_order.len(), 3);
    assert!(in_order.iter().all(|o| o.result.is_ok()), "{in_order:?}");
    assert_eq!(format!("{:?}", read(&shuffled)), format!("{in_order:?}"));
}
