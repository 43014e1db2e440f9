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
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Information loss per attribute"));
    for f in [
        "data.csv",
        "data.parquet",
        "report.json",
        "report.html",
        "manifest.json",
    ] {
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

/// Date shifting: one offset per person (intervals within a person exact), within the bound,
/// different between persons; a bad date names its line and column.
#[test]
fn date_shift_moves_each_persons_dates_together() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("t.csv");
    let mut text = String::from("patient,age,visit\n");
    for p in 0..20 {
        text.push_str(&format!("P{p},{},2020-01-10\n", 40 + p % 5));
        text.push_str(&format!("P{p},{},2020/03/01\n", 40 + p % 5));
    }
    std::fs::write(&input, &text).unwrap();
    std::fs::write(tmp.path().join("key"), [3u8; 32]).unwrap();
    let config = tmp.path().join("anon.toml");
    let cfg = "pseudonym_key_file = \"key\"\nperson_column = \"patient\"\n\
         suppression_limit = 0.0\nmodels = [{ model = \"k_anonymity\", k = 5 }]\n\
         [[column]]\nname = \"patient\"\nrole = \"identifying\"\ntransform = { kind = \"pseudonym\" }\n\
         [[column]]\nname = \"age\"\nrole = \"quasi_identifying\"\nhierarchy = { builder = \"age\" }\n\
         [[column]]\nname = \"visit\"\nrole = \"insensitive\"\ntransform = { kind = \"date_shift\", max_days = 30 }\n";
    std::fs::write(&config, cfg).unwrap();
    anonymize_file(&input, &config, &tmp.path().join("rel")).unwrap();
    let mut r = csv::Reader::from_path(tmp.path().join("rel/data.csv")).unwrap();
    let mut by_person: HashMap<String, Vec<chrono::NaiveDate>> = HashMap::new();
    for row in r.records() {
        let row = row.unwrap();
        by_person
            .entry(row[0].to_owned())
            .or_default()
            .push(row[2].parse().unwrap());
    }
    assert_eq!(by_person.len(), 20);
    let mut offsets = HashSet::new();
    for dates in by_person.values_mut() {
        dates.sort();
        assert_eq!(
            (dates[1] - dates[0]).num_days(),
            51,
            "the interval is exact"
        );
        let offset = (dates[0] - "2020-01-10".parse::<chrono::NaiveDate>().unwrap()).num_days();
        assert!(offset.abs() <= 30, "{offset}");
        offsets.insert(offset);
    }
    assert!(offsets.len() > 5, "{offsets:?}");
    std::fs::write(&input, text.replace("2020/03/01", "3月1日")).unwrap();
    let e = anonymize_file(&input, &config, &tmp.path().join("bad")).unwrap_err();
    assert!(
        e.to_string().contains("line 3") && e.to_string().contains("\"visit\""),
        "{e}"
    );
}

/// δ-presence through `anon.toml`: the input is the population, `in_study` marks the research
/// subset; only subset rows are released, every released class holds a share of the
/// population's rows within the bounds, and the report carries journalist risk and
/// population uniqueness before and after.
#[test]
fn d_presence_releases_the_subset_within_bounds_and_reports_population_risk() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("population.csv");
    let mut text = String::from("sex,age,in_study\n");
    let mut study = 0;
    for i in 0..300u32 {
        // Ages 20–89 spread over the rows; three rows in seven in the study, unevenly.
        let age = 20 + (i * 37) % 70;
        let inside = (i * i + 3 * i + i / 70) % 7 < 3;
        study += u64::from(inside);
        text.push_str(&format!(
            "{},{age},{}\n",
            ["M", "F"][(i % 2) as usize],
            if inside { "true" } else { "false" }
        ));
    }
    std::fs::write(&input, &text).unwrap();
    std::fs::write(tmp.path().join("sex.csv"), "M;*\nF;*\n").unwrap();
    let base = "suppression_limit = 0.0\n\
         models = [{ model = \"k_anonymity\", k = 3 }, { model = \"d_presence\", delta_min = 0.1, delta_max = 0.5 }]\n\
         metric = { metric = \"loss\", gs_factor = 0.5, aggregate = \"geometric_mean\" }\n";
    let columns = "[[column]]\nname = \"sex\"\nrole = \"quasi_identifying\"\nhierarchy = \"sex.csv\"\n\
         [[column]]\nname = \"age\"\nrole = \"quasi_identifying\"\nhierarchy = { builder = \"age\" }\n";
    let config = tmp.path().join("anon.toml");

    // δ-presence without a subset is refused, and so is a subset column that is also a column.
    let as_column = "[[column]]\nname = \"in_study\"\nrole = \"insensitive\"\n";
    std::fs::write(&config, format!("{base}{columns}{as_column}")).unwrap();
    let e = anonymize_file(&input, &config, &tmp.path().join("a")).unwrap_err();
    assert!(
        e.to_string().contains("d_presence needs a research subset"),
        "{e}"
    );
    std::fs::write(
        &config,
        format!("subset_column = \"in_study\"\n{base}{columns}{as_column}"),
    )
    .unwrap();
    let e = anonymize_file(&input, &config, &tmp.path().join("a")).unwrap_err();
    assert!(e.to_string().contains("subset_column"), "{e}");

    std::fs::write(
        &config,
        format!("subset_column = \"in_study\"\npopulation_size = 126146099\n{base}{columns}"),
    )
    .unwrap();
    let out = tmp.path().join("rel");
    let (report, _) = anonymize_file(&input, &config, &out).unwrap();
    assert_eq!(report.rows, 300);
    assert_eq!(report.subset_rows, Some(study));
    assert_eq!(report.population_size, Some(126_146_099));
    assert_eq!(report.suppressed_rows, 0);
    assert_eq!(report.released_rows, study);

    // Released classes, from data.csv (the subset column is not released).
    let mut r = csv::Reader::from_path(out.join("data.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["sex", "age"]
    );
    let mut released: HashMap<(String, String), u64> = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        *released
            .entry((rec[0].to_owned(), rec[1].to_owned()))
            .or_default() += 1;
    }
    assert_eq!(released.values().sum::<u64>(), study);
    // The population's classes at the chosen levels, generalized independently.
    let (table, _) = Table::read_csv(&input, None, None).unwrap();
    let age_h = Builder::Age
        .build(
            table
                .column("age")
                .unwrap()
                .values
                .iter()
                .map(String::as_str),
        )
        .unwrap();
    let (sex_level, age_level) = (
        report.generalization[0].1 as usize,
        report.generalization[1].1 as usize,
    );
    let sex_label = |s: &str| {
        if sex_level == 0 {
            s.to_owned()
        } else {
            "*".to_owned()
        }
    };
    let mut population: HashMap<(String, String), u64> = HashMap::new();
    let mut in_study: HashMap<(String, String), u64> = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let age = age_h.label(
            age_level,
            age_h.generalize(age_level, age_h.leaf(f[1]).unwrap()),
        );
        let key = (sex_label(f[0]), age.to_owned());
        *population.entry(key.clone()).or_default() += 1;
        *in_study.entry(key).or_default() += u64::from(f[2] == "true");
    }
    assert_eq!(
        released,
        in_study
            .iter()
            .filter(|e| *e.1 > 0)
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    );
    for (class, &n) in &released {
        let delta = n as f64 / population[class] as f64;
        assert!((0.1..=0.5).contains(&delta), "{class:?}: {delta}");
        assert!(n >= 3);
    }
    assert!(
        population.keys().all(|k| in_study[k] > 0),
        "δmin > 0: no class of the population alone"
    );

    // Journalist risk: against the population's classes.
    let j = report.risk_after.journalist.as_ref().unwrap();
    let smallest = released.keys().map(|k| population[k]).min().unwrap();
    assert!((j.highest_risk - 1.0 / smallest as f64).abs() < 1e-12);
    let mean: f64 = released
        .iter()
        .map(|(k, &n)| n as f64 / population[k] as f64)
        .sum::<f64>()
        / study as f64;
    assert!((j.average_risk - mean).abs() < 1e-12);
    assert!(j.highest_risk <= report.risk_after.highest_prosecutor_risk);
    let before = report.risk_before.journalist.as_ref().unwrap();
    assert!(before.highest_risk >= j.highest_risk);
    assert_eq!(report.risk_before.rows, study);
    // Population uniqueness against the given population size.
    let p = report.risk_after.population.as_ref().unwrap();
    assert!((p.sampling_fraction - study as f64 / 126_146_099.0).abs() < 1e-15);
    assert_eq!(p.dankar, 0.0, "no sample uniques after 3-anonymity");
    let pb = report.risk_before.population.as_ref().unwrap();
    assert!(report.risk_before.sample_uniques > 0.0);
    assert!(pb.dankar > 0.0 && pb.dankar_model.is_some(), "{pb:?}");
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    for key in [
        "\"subset_rows\"",
        "\"journalist\"",
        "\"dankar_model\"",
        "\"d_presence\"",
        "\"population_size\"",
    ] {
        assert!(json.contains(key), "{key}");
    }

    // A population smaller than the study is refused before anything is written.
    let small = std::fs::read_to_string(&config)
        .unwrap()
        .replace("population_size = 126146099", "population_size = 100");
    std::fs::write(&config, small).unwrap();
    let e = anonymize_file(&input, &config, &tmp.path().join("c")).unwrap_err();
    assert!(e.to_string().contains("population_size 100"), "{e}");
    assert!(!tmp.path().join("c").exists() && !tmp.path().join("c.partial").exists());

    // A subset flag that is neither true nor false names its line, not its value.
    std::fs::write(&input, text.replacen(",true\n", ",maybe\n", 1)).unwrap();
    let e = anonymize_file(&input, &config, &tmp.path().join("b")).unwrap_err();
    assert!(matches!(&e, Error::Input { line: 2, .. }), "{e}");
    assert!(!e.to_string().contains("maybe"), "{e}");
}

/// Population uniqueness at the adult table's scale (30,162 rows, all nine quasi-identifiers):
/// the solvers converge, Dankar's rule picks as ARX's does, and the estimates behave as the
/// sampling fraction moves from a census to a 0.02 % sample of Japan's population.
#[test]
fn population_uniqueness_of_adult_follows_dankars_rule() {
    use tsumugi_anon::{Hierarchy, QuasiTable, UniquenessModel, population_uniqueness};
    let (table, _) = Table::read_csv(&fixture("adult.csv"), None, None).unwrap();
    let names = [
        "sex",
        "age",
        "race",
        "marital-status",
        "education",
        "native-country",
        "workclass",
        "occupation",
        "salary-class",
    ];
    let hs: Vec<Hierarchy> = names
        .iter()
        .map(|q| Hierarchy::read_arx(&fixture(&format!("adult_hierarchy_{q}.csv")), b';').unwrap())
        .collect();
    let quasi: Vec<(&tsumugi_anon::Column, &Hierarchy)> = names
        .iter()
        .zip(&hs)
        .map(|(q, h)| (table.column(q).unwrap(), h))
        .collect();
    let sizes: Vec<u64> = QuasiTable::new(&quasi, None)
        .unwrap()
        .tuple_sizes()
        .collect();
    let uniques = sizes.iter().filter(|&&s| s == 1).count() as f64;
    // A census: every sample unique is a population unique (Zayatz exactly; the rule's pick
    // close to it).
    let census = population_uniqueness(sizes.iter().copied(), 30_162).unwrap();
    assert!((census.zayatz.unwrap() - uniques / 30_162.0).abs() < 1e-12);
    // Japan: f ≤ 0.1, Pitman.
    let japan = population_uniqueness(sizes.iter().copied(), 126_146_099).unwrap();
    assert_eq!(japan.dankar_model, Some(UniquenessModel::Pitman));
    assert_eq!(Some(japan.dankar), japan.pitman);
    // f ≈ 0.75: the smaller of Zayatz and SNB.
    let large = population_uniqueness(sizes.iter().copied(), 40_000).unwrap();
    let (z, snb) = (large.zayatz.unwrap(), large.snb.unwrap());
    assert_eq!(large.dankar, z.min(snb));
    let picked = if snb <= z {
        UniquenessModel::Snb
    } else {
        UniquenessModel::Zayatz
    };
    assert_eq!(large.dankar_model, Some(picked));
    // The larger the population, the smaller the share of it that is unique, and the larger
    // the number of population uniques.
    assert!(census.dankar > large.dankar && large.dankar > japan.dankar);
    assert!(japan.dankar * 126_146_099.0 > large.dankar * 40_000.0);
}
