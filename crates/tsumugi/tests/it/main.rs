//! End-to-end tests through the `tsumugi` binary, as an operator runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod anonymize;
mod crash;
mod link;

use std::path::Path;
use std::process::{Command, Output};

fn tsumugi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsumugi"))
        .args(args)
        .output()
        .unwrap()
}

/// A new data directory `tmp/d` with one provider registered from a `providers.csv` row.
fn data_dir_with_provider(tmp: &Path, provider_row: &str) -> std::path::PathBuf {
    let data = tmp.join("d");
    assert!(tsumugi(&["init", data.to_str().unwrap()]).status.success());
    let providers = tmp.join("providers.csv");
    std::fs::write(
        &providers,
        format!("provider_id,kind,name,municipality_code\n{provider_row}\n"),
    )
    .unwrap();
    let o = tsumugi(&[
        "providers",
        providers.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    data
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn init_creates_private_keys_and_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let o = tsumugi(&["init", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    for f in std::fs::read_dir(dir.join("keys")).unwrap() {
        let mode = f.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    for f in ["registry.db", "vault.db", "tsumugi.toml"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let again = tsumugi(&["init", dir.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("APP0003DataDirExists"),
        "{}",
        text(&again)
    );
}

#[test]
fn demo_then_bad_input_then_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let d = data.to_str().unwrap();
    let o = tsumugi(&["demo", "--data", d, "--persons", "400", "--seed", "3"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for needle in [
        "held for notice",
        "per format",
        "kenshin-zip",
        "opted out",
        "rejected",
        "linked persons",
        "latest release",
        "statistics table",
        "intact",
    ] {
        assert!(out.contains(needle), "summary lacks {needle}: {out}");
    }
    let o = tsumugi(&["audit", "verify", "--data", d]);
    assert!(o.status.success(), "{}", text(&o));

    // A truncated and an invalid FHIR record: each rejected with file, record and reason; the
    // good record of the same submission is kept.
    let synth = tmp.path().join("demo-synthetic");
    // The first FHIR NDJSON submission (providers send other formats too).
    let mut dirs: Vec<_> = std::fs::read_dir(synth.join("submissions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let good = dirs
        .iter()
        .flat_map(|d| {
            let mut fs: Vec<_> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            fs.sort();
            fs
        })
        .find(|p| p.extension().is_some_and(|e| e == "ndjson"))
        .unwrap();
    let provider = good
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let provider = provider.as_str();
    let first = std::fs::read_to_string(&good)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let mut changed: String = first.replacen("\"Patient\"", "\"Patient\" ", 1); // new bytes, same meaning
    changed.push('\n');
    changed.push_str(&first[..first.len() / 2]);
    changed.push('\n');
    changed.push_str("{\"resourceType\": 42}\n");
    let bad = tmp.path().join("bad.ndjson");
    std::fs::write(&bad, changed).unwrap();
    let o = tsumugi(&[
        "ingest",
        "--data",
        d,
        "--provider",
        provider,
        bad.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("3 records, 1 accepted") || out.contains("3 records, 0 accepted"),
        "{out}"
    );
    assert!(out.contains("2 rejected"), "{out}");
    let report = out
        .lines()
        .find_map(|l| l.split("rejection report: ").nth(1))
        .unwrap()
        .trim()
        .to_owned();
    let mut r = csv::Reader::from_path(&report).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(&row[0], "bad.ndjson");
        assert!(["2", "3"].contains(&&row[1]), "record number");
        assert!(
            !row[6].is_empty() && !row[7].is_empty(),
            "reasons in Japanese and English"
        );
    }
    // Sending it again is a no-op.
    let o = tsumugi(&[
        "ingest",
        "--data",
        d,
        "--provider",
        provider,
        bad.to_str().unwrap(),
    ]);
    assert!(text(&o).contains("already received"), "{}", text(&o));

    // Change one byte of a stored audit entry: verify fails and names it.
    tamper(&data.join("registry.db"), 5);
    let o = tsumugi(&["audit", "verify", "--data", d]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("entry 5"), "{}", text(&o));
}

fn tamper(db: &Path, seq: i64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let entry: (String,) = sqlx::query_as("SELECT entry FROM audit_log WHERE seq = $1")
            .bind(seq)
            .fetch_one(&pool)
            .await
            .unwrap();
        let mut bytes = entry.0.into_bytes();
        let i = bytes.len() / 2;
        bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
        sqlx::query("UPDATE audit_log SET entry = $1 WHERE seq = $2")
            .bind(String::from_utf8(bytes).unwrap())
            .bind(seq)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
}

#[test]
fn check_reports_per_record_and_exits_4_on_rejects() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tsumugi-formats/tests/fixtures/ecs_fhir_json");
    let good = fixtures.join("Observation-Example-JP-Obs-LabResult-eCS-Alb.json");
    let o = tsumugi(&["check", good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("[fhir]: 1 records, 1 OK"), "{}", text(&o));
    let o = tsumugi(&["check", "--json", good.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["records"][0]["events"][0]["code"]["value"],
        "3A015000001827101"
    );

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("export.ndjson");
    std::fs::write(&bad, "{\"resourceType\": \"Patient\", \"birthDate\": \"1980-02-30\", \"name\": [{\"text\": \"CANARY 太郎\"}]}\n{\"resource").unwrap();
    let o = tsumugi(&["check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("export.ndjson:2 (line 2) error"), "{out}");
    assert!(!out.contains("CANARY"), "a value was echoed: {out}");
    // SS-MIX2 storage (a folder) and UKE claims are detected and read too.
    let formats = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tsumugi-formats/tests/fixtures");
    let o = tsumugi(&["check", formats.join("ssmix2").to_str().unwrap()]);
    assert!(
        text(&o).contains("[ssmix2]: 1 records, 1 OK"),
        "{}",
        text(&o)
    );
    let o = tsumugi(&["check", formats.join("uke/sample.UKE").to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(4),
        "the sample holds bad claims on purpose: {}",
        text(&o)
    );
    assert!(
        text(&o).contains("[uke]") && text(&o).contains("UKE0003InvalidDate [RE.生年月日]"),
        "{}",
        text(&o)
    );

    let o = tsumugi(&["check", "--format", "nonsense", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("unknown format"), "{}", text(&o));
}

#[test]
fn ingests_every_single_stream_format_and_ss_mix2_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir_with_provider(tmp.path(), "1310000001,hospital,テスト病院,131016");
    let d = data.to_str().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tsumugi-formats/tests/fixtures");
    let ingest = |path: &Path| {
        let o = tsumugi(&[
            "ingest",
            "--data",
            d,
            "--provider",
            "1310000001",
            path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    let out = ingest(&fixtures.join("ssmix2"));
    assert!(
        out.contains("1 records, 1 accepted") && out.contains("17 events"),
        "{out}"
    );
    assert!(
        ingest(&fixtures.join("ssmix2")).contains("already received"),
        "a folder re-sent is a no-op"
    );
    // Three claims (one good) and the file's missing GO, an outcome of its own.
    let out = ingest(&fixtures.join("uke/sample.UKE"));
    assert!(
        out.contains("4 records, 1 accepted") && out.contains("3 rejected"),
        "{out}"
    );
    let out = ingest(&fixtures.join("tokutei_kenshin_xml/CDAtemplate-hc18.xml"));
    assert!(out.contains("1 records, 1 accepted"), "{out}");
    let o = tsumugi(&["status", "--data", d]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["n_submissions"], 3);
    assert_eq!(v["n_vault_records"], 3);
    assert!(tsumugi(&["audit", "verify", "--data", d]).status.success());
}

#[test]
fn mapped_csv_is_checked_and_ingested_with_its_mapping() {
    let tmp = tempfile::tempdir().unwrap();
    let mapping =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tsumugi-formats/mappings/yobou_sesshu.toml");
    // UTF-8 here, so this mapping's CP932 setting is overridden by a copy that says utf-8.
    let toml = std::fs::read_to_string(&mapping)
        .unwrap()
        .replace("encoding = \"cp932\"", "encoding = \"utf-8\"");
    let mapping = tmp.path().join("yobou.toml");
    std::fs::write(&mapping, toml).unwrap();
    let csv = tmp.path().join("yobou.csv");
    std::fs::write(
        &csv,
        "宛名番号,氏,名,氏カナ,名カナ,生年月日,性別,市区町村コード,接種日,ワクチンコード,接種回数\n\
         0000789,佐藤,一,サトウ,ハジメ,令和元年5月1日,1,011002,令和元年7月1日,MR1,1\n\
         0000790,佐藤,二,サトウ,ジ,令和元年5月1日,2,011002,平成31年5月1日,MR1,1\n",
    )
    .unwrap();
    let m = mapping.to_str().unwrap();
    let o = tsumugi(&["check", "--mapping", m, csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("[csv]: 2 records, 1 OK") && text(&o).contains("CSVMAP0003InvalidDate"),
        "{}",
        text(&o)
    );
    let o = tsumugi(&["check", csv.to_str().unwrap()]);
    assert!(
        !o.status.success(),
        "a CSV without a mapping cannot be read"
    );

    let data = data_dir_with_provider(tmp.path(), "0000131016,municipality,千代田区,131016");
    let d = data.to_str().unwrap();
    let o = tsumugi(&[
        "ingest",
        "--data",
        d,
        "--provider",
        "0000131016",
        "--mapping",
        m,
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("2 records, 1 accepted") && text(&o).contains("1 events"),
        "{}",
        text(&o)
    );
}

/// `tsumugi bench ingest` prints its figures as JSON (the shape, not the timings: performance
/// goals are figures a benchmark prints, never timed tests).
#[test]
fn bench_ingest_prints_figures_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("bench");
    let o = tsumugi(&[
        "bench",
        "ingest",
        "--events",
        "2000",
        "--format",
        "fhir",
        "--json",
        "--work",
        work.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["events_requested"], 2000);
    assert_eq!(v["rss_per_process"], true);
    let rows = v["formats"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["format"], "fhir");
    assert!(row["events"].as_u64().unwrap() >= 2000);
    assert!(row["records"].as_u64().unwrap() > 0);
    assert_eq!(row["rejected"], 0);
    assert_eq!(row["floor_mb_per_s"], 50.0);
    for key in [
        "input_mb",
        "seconds",
        "mb_per_s",
        "records_per_s",
        "events_per_s",
        "peak_rss_mb",
    ] {
        assert!(row[key].as_f64().is_some(), "{key} in {row}");
    }
    assert!(row["pass"].is_boolean());
    let e2e = v["end_to_end"].as_array().unwrap();
    assert_eq!(e2e.len(), 1);
    assert_eq!(e2e[0]["format"], "fhir");
    assert_eq!(e2e[0]["records"], row["records"]);
    assert!(e2e[0]["mb_per_s"].as_f64().is_some());
}
