//! `tsumugi link --input`, `link eval`, `link explain`, `link blocking` and `bench link` as an
//! operator runs them on a CSV: exit codes, the bilingual summaries and tables, and errors
//! that name the file or column at fault.

use std::path::{Path, PathBuf};

use crate::{text, tsumugi};

/// A synthetic `records.csv` and `truth.csv` (the generator `bench link` uses) in `dir`.
fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    tsumugi_app::linkage::bench_link_input(dir, 1_000, 5).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The default blocking rules, in order, as `link blocking` names them.
const RULES: [&str; 9] = [
    "family_kana+birth_date",
    "given_kana+birth_date",
    "family_kanji+birth_date",
    "given_kanji+birth_date",
    "full_kana+birth_year",
    "full_kanji+birth_month_day",
    "card",
    "given_kanji+address",
    "postcode+birth_date",
];

#[test]
fn link_then_eval_prints_the_summary_and_the_scores() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, truth) = inputs(tmp.path());
    let (clusters, pairs) = (tmp.path().join("c.csv"), tmp.path().join("p.csv"));
    let o = tsumugi(&[
        "link",
        "--input",
        s(&records),
        "--clusters",
        s(&clusters),
        "--out",
        s(&pairs),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    let n = std::fs::read_to_string(&records).unwrap().lines().count() - 1;
    for needle in [
        format!("名寄せ / linked {n} records"),
        "candidate pairs".to_owned(),
        "links".to_owned(),
        "要確認".to_owned(),
        "双子ガード".to_owned(),
        "clusters 人物".to_owned(),
        "時間 / time".to_owned(),
    ] {
        assert!(out.contains(&needle), "summary lacks {needle}: {out}");
    }
    let c = std::fs::read_to_string(&clusters).unwrap();
    assert!(c.starts_with("record_id,cluster_id\n"), "{c}");
    assert_eq!(c.lines().count(), n + 1);
    let p = std::fs::read_to_string(&pairs).unwrap();
    assert!(
        p.starts_with("record_a,record_b,match_weight,probability,decision\n"),
        "{p}"
    );

    let o = tsumugi(&[
        "link",
        "eval",
        "--clusters",
        s(&clusters),
        "--truth",
        s(&truth),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(&format!("精度 / quality over {n} records")),
        "{out}"
    );
    for what in ["pairwise ペア", "cluster 人物"] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(what))
            .unwrap_or_else(|| panic!("no {what} line: {out}"));
        for word in ["precision", "recall", "F1"] {
            assert!(line.contains(word), "{line}");
        }
    }
    assert!(
        out.contains("recall by noise type / ノイズ別再現率"),
        "{out}"
    );
    assert!(out.contains("twins merged 双子の誤結合: 0"), "{out}");

    // The same as JSON.
    let o = tsumugi(&[
        "link",
        "eval",
        "--clusters",
        s(&clusters),
        "--truth",
        s(&truth),
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["records"], n as u64);
    let f1 = v["pairwise"]["f1"].as_f64().unwrap();
    assert!(f1 > 0.9 && f1 <= 1.0, "{v}");
}

#[test]
fn link_explain_prints_a_field_table() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, truth) = inputs(tmp.path());
    // The first two records of one person.
    let mut r = csv::Reader::from_path(&truth).unwrap();
    let rows: Vec<(String, String)> = r
        .records()
        .map(|x| {
            let x = x.unwrap();
            (x[0].to_owned(), x[1].to_owned())
        })
        .collect();
    let (a, b) = rows
        .iter()
        .enumerate()
        .find_map(|(i, (a, p))| {
            rows[i + 1..]
                .iter()
                .find(|(_, q)| q == p)
                .map(|(b, _)| (a.clone(), b.clone()))
        })
        .unwrap();
    let o = tsumugi(&["link", "explain", "--input", s(&records), &a, &b]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.starts_with(&format!("{a} ~ {b}: match weight ")),
        "{out}"
    );
    assert!(out.contains("probability"), "{out}");
    let header = out.lines().nth(1).unwrap();
    for col in ["field", "level", "weight", "tf adj"] {
        assert!(header.contains(col), "{header}");
    }
    for field in [
        "prior",
        "family_name",
        "given_name",
        "birth_date",
        "sex",
        "address",
        "insurance",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(field)),
            "no {field} row: {out}"
        );
    }

    let o = tsumugi(&["link", "explain", "--input", s(&records), &a, "no-such-id"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no-such-id"), "{}", text(&o));
}

#[test]
fn link_blocking_prints_one_row_per_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, truth) = inputs(tmp.path());
    let o = tsumugi(&[
        "link",
        "blocking",
        "--input",
        s(&records),
        "--truth",
        s(&truth),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.starts_with("ブロッキング / blocking over "), "{out}");
    assert!(out.lines().next().unwrap().contains("true pairs"), "{out}");
    let header = out.lines().nth(1).unwrap();
    for col in [
        "rule",
        "pairs",
        "new pairs",
        "skipped",
        "recall",
        "cumulative",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let rows: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(rows.len(), RULES.len(), "{out}");
    for (row, rule) in rows.iter().zip(RULES) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells.len(), 6, "{row}");
        assert_eq!(cells[0], rule);
        // With the truth, recall and cumulative recall are figures.
        for cell in &cells[4..] {
            let r: f64 = cell.parse().unwrap();
            assert!((0.0..=1.0).contains(&r), "{row}");
        }
    }
    let cumulative: f64 = rows
        .last()
        .unwrap()
        .split_whitespace()
        .nth(5)
        .unwrap()
        .parse()
        .unwrap();
    assert!(cumulative >= 0.98, "{out}");

    // Without the truth, no recall.
    let o = tsumugi(&["link", "blocking", "--input", s(&records)]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(!out.lines().next().unwrap().contains("true pairs"), "{out}");
    for row in out.lines().skip(2) {
        assert!(row.trim_end().ends_with("-          -"), "{row}");
    }
}

#[test]
fn link_errors_name_the_file_and_the_column() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.csv");
    let o = tsumugi(&["link", "--input", s(&missing)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(s(&missing)), "{}", text(&o));

    let csv = tmp.path().join("kokuho.csv");
    std::fs::write(&csv, "番号,氏,生年月日\n1,山田,1980-02-03\n").unwrap();
    let toml = tmp.path().join("link.toml");
    std::fs::write(
        &toml,
        "[columns]\nid = \"番号\"\nfamily_kanji = \"氏\"\ngiven_kanji = \"名\"\n",
    )
    .unwrap();
    let o = tsumugi(&["link", "--input", s(&csv), "--config", s(&toml)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("IDN0021MissingColumn"), "{out}");
    assert!(out.contains("名") && out.contains("given_kanji"), "{out}");

    let o = tsumugi(&[
        "link",
        "eval",
        "--clusters",
        s(&missing),
        "--truth",
        s(&missing),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(s(&missing)), "{}", text(&o));
}

#[test]
fn bench_link_prints_the_noise_recall_table() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("bench");
    let o = tsumugi(&["bench", "link", "--records", "2000", "--work", s(&work)]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for needle in [
        "名寄せ性能 / linkage: 2000 records",
        "精度 / quality over 2000 records",
        "pairwise ペア",
        "recall by noise type / ノイズ別再現率",
        "twins merged 双子の誤結合",
    ] {
        assert!(out.contains(needle), "lacks {needle}: {out}");
    }
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.contains("ノイズ別再現率"))
        .skip(1)
        .take_while(|l| l.contains("true pairs"))
        .collect();
    assert!(table.len() >= 10, "noise rows: {out}");
    for row in &table {
        let recall: f64 = row.split_whitespace().last().unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&recall), "{row}");
    }
    for tag in ["kana_hiragana", "kana_halfwidth", "variant_kanji"] {
        assert!(
            table.iter().any(|r| r.trim_start().starts_with(tag)),
            "no {tag} row: {out}"
        );
    }
    assert!(work.join("records.csv").exists() && work.join("truth.csv").exists());
}
