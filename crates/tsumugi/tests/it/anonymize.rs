//! `tsumugi anonymize` as an analyst runs it: a CP932 table with a Japanese header, an
//! `anon.toml` with relative hierarchy paths, a release folder out; and its refusals.

use super::{text, tsumugi};

const HIERARCHY_AGE: &str = "30;30-39;*\n31;30-39;*\n32;30-39;*\n45;40-49;*\n47;40-49;*\n";
const HIERARCHY_SEX: &str = "男;*\n女;*\n";

#[test]
fn anonymizes_a_cp932_table_and_refuses_an_unclassified_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut table = String::from("氏名,性別,年齢,病名\n");
    for (i, (sex, age)) in [
        ("男", 30),
        ("男", 31),
        ("男", 32),
        ("女", 45),
        ("女", 47),
        ("女", 45),
        ("男", 47),
    ]
    .iter()
    .enumerate()
    {
        table.push_str(&format!("患者{i},{sex},{age},E11\n"));
    }
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&table);
    std::fs::write(dir.join("t.csv"), &bytes).unwrap();
    std::fs::write(dir.join("age.csv"), HIERARCHY_AGE).unwrap();
    std::fs::write(dir.join("sex.csv"), HIERARCHY_SEX).unwrap();
    let config = "suppression_limit = 0.2\nmodels = [{ model = \"k_anonymity\", k = 3 }]\n\
        [[column]]\nname = \"氏名\"\nrole = \"identifying\"\n\
        [[column]]\nname = \"性別\"\nrole = \"quasi_identifying\"\nhierarchy = \"sex.csv\"\n\
        [[column]]\nname = \"年齢\"\nrole = \"quasi_identifying\"\nhierarchy = \"age.csv\"\n";
    std::fs::write(
        dir.join("anon.toml"),
        format!("{config}[[column]]\nname = \"病名\"\nrole = \"insensitive\"\n"),
    )
    .unwrap();
    let p = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let o = tsumugi(&[
        "anonymize",
        "--input",
        &p("t.csv"),
        "--config",
        &p("anon.toml"),
        "--out",
        &p("rel"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let run: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(run["report"]["rows"], 7);
    let data = std::fs::read_to_string(dir.join("rel/data.csv")).unwrap();
    assert!(!data.contains("患者"), "identifying column dropped: {data}");
    assert!(data.starts_with("性別,年齢,病名\n"), "{data}");
    // Every released (sex, age) class has at least 3 rows.
    let mut classes = std::collections::HashMap::new();
    for line in data.lines().skip(1) {
        let mut f = line.split(',');
        *classes
            .entry((f.next().unwrap().to_owned(), f.next().unwrap().to_owned()))
            .or_insert(0) += 1;
    }
    assert!(classes.values().all(|&n| n >= 3), "{classes:?}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("rel/manifest.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["data.csv", "data.parquet", "report.json", "report.html"]
    );

    // The 病名 column without a role: refused, nothing written.
    std::fs::write(dir.join("anon.toml"), config).unwrap();
    let o = tsumugi(&[
        "anonymize",
        "--input",
        &p("t.csv"),
        "--config",
        &p("anon.toml"),
        "--out",
        &p("rel2"),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("\"病名\""), "{}", text(&o));
    assert!(!dir.join("rel2").exists());
}
