//! `anonymize_file` on ARX's adult table with the fixture's `anon.toml`: classes of at least
//! k rows, suppression within the limit, the same bytes twice, and clear refusals.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use tsumugi_anon::{Builder, Error, Table, anonymize_file};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/arx-adult")
        .join(name)
}

#[test]
fn adult_release_is_5_anonymous_and_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rel");
    let (report, _) = anonymize_file(&fixture("adult.csv"), &fixture("anon.toml"), &out).unwrap();
    assert_eq!(report.rows, 30_162);
    assert!(report.suppressed_rows <= 603, "{}", report.suppressed_rows);
    assert_eq!(report.released_rows + report.suppressed_rows, report.rows);
    assert!(report.min_class >= 5);
    assert!(report.search.optimal);
    // Risk: the release's most exposed record is at 1/min_class, far below the input's.
    assert_eq!(report.risk_before.rows, 30_162);
    assert_eq!(report.risk_after.rows, report.released_rows);
    assert!(report.risk_before.sample_uniques > 0.0);
    assert_eq!(report.risk_after.sample_uniques, 0.0);
    assert!(
        (report.risk_after.highest_prosecutor_risk - 1.0 / report.min_class as f64).abs() < 1e-12
    );
    assert!(report.risk_after.average_prosecutor_risk < report.risk_before.average_prosecutor_risk);
    assert!(!report.highest_risk_rows.is_empty() && report.highest_risk_rows.len() <= 20);

    let mut r = csv::Reader::from_path(out.join("data.csv")).unwrap();
    assert_eq!(r.headers().unwrap().len(), 9);
    let mut classes: HashMap<Vec<String>, u64> = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        *classes
            .entry(rec.iter().map(str::to_owned).collect())
            .or_default() += 1;
    }
    assert_eq!(classes.values().sum::<u64>(), report.released_rows);
    assert!(classes.values().all(|&n| n >= 5));
    assert_eq!(classes.len() as u64, report.classes);

    let again = tmp.path().join("again");
    anonymize_file(&fixture("adult.csv"), &fixture("anon.toml"), &again).unwrap();
    for f in ["data.csv", "data.parquet", "report.json", "manifest.json"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
    // A release is never overwritten.
    assert!(matches!(
        anonymize_file(&fixture("adult.csv"), &fixture("anon.toml"), &out),
        Err(Error::ReleaseExists(_))
    ));
}

#[test]
fn unclassified_columns_and_unknown_values_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("anon.toml");
    let base = std::fs::read_to_string(fixture("anon.toml"))
        .unwrap()
        .replace(
            "hierarchy = \"",
            &format!("hierarchy = \"{}/", fixture("").display()),
        );
    // Without the salary-class column's entry, the column has no role.
    let cut = base.find("[[column]]\nname = \"salary-class\"").unwrap();
    std::fs::write(&config, &base[..cut]).unwrap();
    let e = anonymize_file(&fixture("adult.csv"), &config, &tmp.path().join("a")).unwrap_err();
    assert!(e.to_string().contains("\"salary-class\" of"), "{e}");
    assert!(!tmp.path().join("a").exists());

    // A value the hierarchy lacks names its column and row.
    let input = tmp.path().join("in.csv");
    let mut text = std::fs::read_to_string(fixture("adult.csv")).unwrap();
    text = text.replacen(";39;", ";139;", 1);
    std::fs::write(&input, text).unwrap();
    std::fs::write(&config, &base).unwrap();
    let e = anonymize_file(&input, &config, &tmp.path().join("b")).unwrap_err();
    assert!(
        matches!(&e, Error::ValueNotInHierarchy { column, row: 1, value } if column == "age" && value == "139"),
        "{e}"
    );
}

/// Built hierarchies: ages, municipality codes and ICD-10 codes of a small Japanese table.
#[test]
fn built_hierarchies_generalize_a_japanese_table() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("t.csv");
    let mut text = String::from("age,municipality,icd10\n");
    let munis = ["131016", "131024", "141003", "011002"];
    let codes = ["E11.9", "E78.5", "I10", "E11.2"];
    for i in 0..40 {
        text.push_str(&format!(
            "{},{},{}\n",
            40 + i % 13 + (i / 13) * 20,
            munis[i % 4],
            codes[i % 3]
        ));
    }
    std::fs::write(&input, text).unwrap();
    let config = tmp.path().join("anon.toml");
    std::fs::write(
        &config,
        "suppression_limit = 0.0\nmodels = [{ model = \"k_anonymity\", k = 4 }]\n\
         [[column]]\nname = \"age\"\nrole = \"quasi_identifying\"\nhierarchy = { builder = \"age\" }\n\
         [[column]]\nname = \"municipality\"\nrole = \"quasi_identifying\"\nhierarchy = { builder = \"municipality\" }\n\
         [[column]]\nname = \"icd10\"\nrole = \"quasi_identifying\"\nhierarchy = { builder = \"icd10\" }\n",
    )
    .unwrap();
    let (report, _) = anonymize_file(&input, &config, &tmp.path().join("rel")).unwrap();
    assert_eq!(report.suppressed_rows, 0);
    assert!(report.min_class >= 4);
    // Every released value is a label of its column's built hierarchy at the chosen level.
    let (table, _) = Table::read_csv(&input, None, None).unwrap();
    let builders = [Builder::Age, Builder::Municipality, Builder::Icd10];
    let mut r = csv::Reader::from_path(tmp.path().join("rel/data.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 40);
    for (j, ((name, level, _), b)) in report.generalization.iter().zip(&builders).enumerate() {
        let col = table.column(name).unwrap();
        let h = b.build(col.values.iter().map(String::as_str)).unwrap();
        let labels: HashSet<&str> = (0..h.width(*level as usize))
            .map(|g| h.label(*level as usize, g as u32))
            .collect();
        for row in &rows {
            assert!(
                labels.contains(&row[j]),
                "{name} at level {level}: {:?}",
                &row[j]
            );
        }
    }
    assert!(
        report.generalization.iter().any(|g| g.1 > 0),
        "{:?}",
        report.generalization
    );
}

/// Transforms: a pseudonym instead of a dropped name, top coding, class means.
#[test]
fn transforms_pseudonymize_top_code_and_microaggregate() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("t.csv");
    let mut text = String::from("name,age,income,score\n");
    for i in 0..30 {
        text.push_str(&format!(
            "患者{},{},{},{}\n",
            i % 10,
            40 + i % 10,
            100 * i,
            80 + i
        ));
    }
    std::fs::write(&input, text).unwrap();
    let config = tmp.path().join("anon.toml");
    let base = "suppression_limit = 0.0\nmodels = [{ model = \"k_anonymity\", k = 5 }]\n\
         [[column]]\nname = \"name\"\nrole = \"identifying\"\ntransform = { kind = \"pseudonym\" }\n\
         [[column]]\nname = \"age\"\nrole = \"quasi_identifying\"\nhierarchy = { builder = \"age\" }\n\
         [[column]]\nname = \"income\"\nrole = \"insensitive\"\ntransform = { kind = \"microaggregate\" }\n\
         [[column]]\nname = \"score\"\nrole = \"insensitive\"\ntransform = { kind = \"top_bottom\", top = 100 }\n";
    std::fs::write(&config, base).unwrap();
    let e = anonymize_file(&input, &config, &tmp.path().join("a")).unwrap_err();
    assert!(e.to_string().contains("pseudonym_key_file"), "{e}");

    std::fs::write(tmp.path().join("key"), [7u8; 32]).unwrap();
    std::fs::write(&config, format!("pseudonym_key_file = \"key\"\n{base}")).unwrap();
    anonymize_file(&input, &config, &tmp.path().join("rel")).unwrap();
    let mut r = csv::Reader::from_path(tmp.path().join("rel/data.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 30);
    let mut by_name: HashMap<String, HashSet<String>> = HashMap::new();
    let mut income_by_class: HashMap<String, HashSet<String>> = HashMap::new();
    let mut total = 0.0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0].len(), 32, "{:?}", &row[0]);
        assert!(row[0].chars().all(|c| c.is_ascii_hexdigit()));
        by_name
            .entry(format!("患者{}", i % 10))
            .or_default()
            .insert(row[0].to_owned());
        income_by_class
            .entry(row[1].to_owned())
            .or_default()
            .insert(row[2].to_owned());
        total += row[2].parse::<f64>().unwrap();
        let score = 80 + i;
        assert_eq!(
            &row[3],
            if score >= 100 {
                "≥100".to_owned()
            } else {
                score.to_string()
            }
        );
    }
    // One name, one pseudonym; one class, one income (its mean); the total is kept.
    assert!(by_name.values().all(|p| p.len() == 1));
    assert_eq!(by_name.values().flatten().collect::<HashSet<_>>().len(), 10);
    assert!(income_by_class.values().all(|v| v.len() == 1));
    assert!((total - (0..30).map(|i| 100.0 * i as f64).sum::<f64>()).abs() < 0.1);
}
