//! Local recoding (`strategy = "local"`): on ARX's adult table through `anonymize_file`, and
//! over random tables, every released class meets every model within the suppression limit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tsumugi_anon::{
    Column, Criterion, Error, Hierarchy, Metric, Policy, QuasiTable, Sensitive, Strategy as Search,
    anonymize_file,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/arx-adult")
        .join(name)
}

/// Rows per released class of a release folder's `data.csv` (every column is a
/// quasi-identifier in the adult configuration).
fn class_sizes(out: &Path) -> HashMap<Vec<String>, u64> {
    let mut r = csv::Reader::from_path(out.join("data.csv")).unwrap();
    let mut classes: HashMap<Vec<String>, u64> = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        *classes
            .entry(rec.iter().map(str::to_owned).collect())
            .or_default() += 1;
    }
    classes
}

#[test]
fn local_recoding_of_adult_is_5_anonymous_and_loses_less_than_the_global_optimum() {
    let tmp = tempfile::tempdir().unwrap();
    // The same policy twice: one lattice node for every row, then levels per class.
    let (global, _) = anonymize_file(
        &fixture("adult.csv"),
        &fixture("anon.toml"),
        &tmp.path().join("global"),
    )
    .unwrap();
    let out = tmp.path().join("local");
    let (local, _) =
        anonymize_file(&fixture("adult.csv"), &fixture("anon-local.toml"), &out).unwrap();
    assert_eq!(local.policy.strategy, Search::Local);
    assert_eq!(
        (&local.policy.criteria, local.policy.suppression_limit),
        (&global.policy.criteria, global.policy.suppression_limit)
    );
    eprintln!(
        "adult, k = 5, 2 %: global loss {:?} per attribute {:?} at {:?}; local loss {:?} per attribute {:?}, {} classes, {} suppressed",
        global.loss.value,
        global.loss.per_attribute,
        global.generalization,
        local.loss.value,
        local.loss.per_attribute,
        local.classes,
        local.suppressed_rows
    );
    let summary = local.local.as_ref().unwrap();
    assert_eq!(local.rows, 30_162);
    assert!(local.suppressed_rows <= 603);
    assert_eq!(local.released_rows + local.suppressed_rows, local.rows);
    assert!(local.min_class >= 5, "{}", local.min_class);
    let classes = class_sizes(&out);
    assert!(classes.values().all(|&n| n >= 5));
    assert_eq!(classes.len() as u64, local.classes);
    assert_eq!(summary.classes, local.classes);
    assert_eq!(classes.values().sum::<u64>(), local.released_rows);
    // Released rows per level add up to the released rows, for every quasi-identifier.
    for per in &summary.rows_per_level {
        assert_eq!(per.iter().sum::<u64>(), local.released_rows);
    }
    // Markedly less loss than the best single node (ARX's Loss, geometric mean).
    assert!(
        local.loss.value[0] < 0.8 * global.loss.value[0],
        "local {:?}, global {:?}",
        local.loss.value,
        global.loss.value
    );
    assert!(local.classes > global.classes);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("local recoding"),
        "report.html says how rows were recoded"
    );
    // Deterministic: the same bytes again.
    let again = tmp.path().join("again");
    anonymize_file(&fixture("adult.csv"), &fixture("anon-local.toml"), &again).unwrap();
    for f in ["data.csv", "report.json"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
}

/// Age 0–9 in bands of 2 and 5; a region of 6 under 3 prefectures; sex.
fn hierarchies() -> Vec<Hierarchy> {
    let age: String = (0..10)
        .map(|a| {
            format!(
                "{a};{}-{};{};*\n",
                a / 2 * 2,
                a / 2 * 2 + 1,
                if a < 6 { "0-5" } else { "6-9" }
            )
        })
        .collect();
    let region: String = (0..6).map(|r| format!("m{r};p{};*\n", r / 2)).collect();
    ["M;*\nF;*\n".to_owned(), age, region]
        .iter()
        .map(|t| Hierarchy::parse_arx(t, b';').unwrap())
        .collect()
}

fn column(name: &str, values: Vec<String>) -> Column {
    let mut dict: Vec<String> = Vec::new();
    let codes = values
        .iter()
        .map(|v| match dict.iter().position(|d| d == v) {
            Some(i) => i as u32,
            None => {
                dict.push(v.clone());
                dict.len() as u32 - 1
            }
        })
        .collect();
    Column {
        name: name.into(),
        values: dict,
        codes,
    }
}

fn criteria() -> impl Strategy<Value = Vec<Criterion>> {
    (2u32..8, 0u8..6).prop_map(|(k, extra)| {
        let mut c = vec![Criterion::KAnonymity { k }];
        match extra {
            1 => c.push(Criterion::DistinctLDiversity { l: 2 }),
            2 => c.push(Criterion::EqualTCloseness { t: 0.4 }),
            3 => c.push(Criterion::RecursiveClDiversity { c: 3.0, l: 2 }),
            4 => c.push(Criterion::EntropyLDiversity { l: 1.8 }),
            5 => c.push(Criterion::AverageRisk { risk: 0.2 }),
            _ => {}
        }
        c
    })
}

/// Whether rows with sensitive values `values` (of a table whose values are `overall`)
/// meet `c`, computed here from the definitions (independently of the engine).
fn meets(c: &Criterion, values: &[u8], overall: &[u8]) -> bool {
    let hist = |v: &[u8]| {
        let mut h = [0usize; 3];
        for &x in v {
            h[x as usize] += 1;
        }
        h
    };
    let (h, n) = (hist(values), values.len() as f64);
    let distinct = h.iter().filter(|&&x| x > 0).count();
    match *c {
        Criterion::KAnonymity { k } => values.len() >= k as usize,
        Criterion::DistinctLDiversity { l } => distinct >= l as usize,
        Criterion::EntropyLDiversity { l } => {
            let e: f64 = h
                .iter()
                .filter(|&&x| x > 0)
                .map(|&x| -(x as f64 / n) * (x as f64 / n).ln())
                .sum();
            distinct as f64 >= l && e >= l.ln() - 1e-9
        }
        Criterion::RecursiveClDiversity { c, l } => {
            let mut counts: Vec<usize> = h.iter().copied().filter(|&x| x > 0).collect();
            counts.sort_unstable_by(|a, b| b.cmp(a));
            let l = l as usize;
            counts.len() >= l
                && (counts[0] as f64) < c * counts[l - 1..].iter().sum::<usize>() as f64
        }
        Criterion::EqualTCloseness { t } => {
            let (q, m) = (hist(overall), overall.len() as f64);
            let d: f64 = (0..3)
                .map(|i| (h[i] as f64 / n - q[i] as f64 / m).abs())
                .sum::<f64>()
                / 2.0;
            d <= t + 1e-9
        }
        _ => true,
    }
}

/// `anon.toml` with the ordering builder and local recoding: a severity scale in its own
/// order, ages in runs of 5 then 2; every class holds k rows and every released value is a
/// label of its built hierarchy.
#[test]
fn ordering_builder_and_local_recoding_through_anon_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("t.csv");
    let scale = ["軽症", "中等症", "重症", "最重症"];
    let mut text = String::from("age,severity\n");
    for i in 0..60 {
        text.push_str(&format!(
            "{},{}\n",
            30 + (i * 7) % 23,
            scale[i % 3 + i / 50]
        ));
    }
    std::fs::write(&input, text).unwrap();
    let config = tmp.path().join("anon.toml");
    std::fs::write(
        &config,
        "suppression_limit = 0.05\nmodels = [{ model = \"k_anonymity\", k = 3 }]\nstrategy = \"local\"\n\
         [[column]]\nname = \"age\"\nrole = \"quasi_identifying\"\nhierarchy = { builder = \"ordering\", sizes = [5, 2] }\n\
         [[column]]\nname = \"severity\"\nrole = \"quasi_identifying\"\n\
         hierarchy = { builder = \"ordering\", sizes = [2], label = \"set\", order = [\"軽症\", \"中等症\", \"重症\", \"最重症\"] }\n",
    )
    .unwrap();
    let out = tmp.path().join("rel");
    let (report, _) = anonymize_file(&input, &config, &out).unwrap();
    assert!(report.min_class >= 3);
    assert!(report.suppressed_rows <= 3);
    let summary = report.local.as_ref().unwrap();
    assert!(summary.classes > 1, "{summary:?}");
    let (table, _) = tsumugi_anon::Table::read_csv(&input, None, None).unwrap();
    let builders: Vec<tsumugi_anon::Builder> = [
        "builder = \"ordering\"\nsizes = [5, 2]",
        "builder = \"ordering\"\nsizes = [2]\nlabel = \"set\"\norder = [\"軽症\", \"中等症\", \"重症\", \"最重症\"]",
    ]
    .iter()
    .map(|t| toml::from_str(t).unwrap())
    .collect();
    let classes = class_sizes(&out);
    assert!(classes.values().all(|&n| n >= 3));
    for (j, (name, b)) in ["age", "severity"].iter().zip(&builders).enumerate() {
        let col = table.column(name).unwrap();
        let h = b.build(col.values.iter().map(String::as_str)).unwrap();
        let labels: Vec<&str> = (0..h.height())
            .flat_map(|l| (0..h.width(l)).map(move |g| (l, g)))
            .map(|(l, g)| h.label(l, g as u32))
            .collect();
        for class in classes.keys() {
            assert!(
                labels.contains(&class[j].as_str()),
                "{name}: {:?}",
                class[j]
            );
        }
    }
}

/// A label that reads the same at two levels (leaf `X`, and the group `X` of `Z` and `W`):
/// the two classes it labels are one class of the release, and are counted and checked as
/// one.
#[test]
fn classes_whose_labels_read_the_same_are_one_class() {
    let h = Hierarchy::parse_arx("X;G;*\nY;G;*\nZ;X;*\nW;X;*\n", b';').unwrap();
    let col = column(
        "v",
        ["X", "X", "Y", "Y", "Z", "W"].map(str::to_owned).to_vec(),
    );
    let qt = QuasiTable::new(&[(&col, &h)], None).unwrap();
    let policy = Policy {
        criteria: vec![Criterion::KAnonymity { k: 2 }],
        suppression_limit: 0.0,
        metric: Metric::default(),
        strategy: Search::Local,
    };
    let recoding = qt.recode_locally(&policy).unwrap();
    let applied = qt.apply_local(&recoding).unwrap();
    let released: Vec<&str> = applied.iter().map(|r| r.as_ref().unwrap()[0]).collect();
    assert_eq!(released, ["X", "X", "Y", "Y", "X", "X"]);
    assert_eq!(recoding.summary().classes, 2);
    assert_eq!(recoding.summary().rows_per_level, vec![vec![4, 2, 0]]);
}

/// A research subset (δ-presence) is refused, not silently ignored, and the lattice search
/// refuses `strategy = "local"` rather than picking a node.
#[test]
fn local_recoding_refuses_a_research_subset_and_search_refuses_local() {
    let h = hierarchies();
    let age = column("age", (0..10).map(|a| a.to_string()).collect());
    let policy = Policy {
        criteria: vec![Criterion::KAnonymity { k: 2 }],
        suppression_limit: 0.0,
        metric: Metric::default(),
        strategy: Search::Local,
    };
    let subset: Vec<bool> = (0..10).map(|i| i % 2 == 0).collect();
    let qt = QuasiTable::with_subset(&[(&age, &h[1])], None, subset).unwrap();
    let e = qt.recode_locally(&policy).unwrap_err();
    assert!(e.to_string().contains("research subset"), "{e}");
    let qt = QuasiTable::new(&[(&age, &h[1])], None).unwrap();
    let e = qt.search(&policy).unwrap_err();
    assert!(e.to_string().contains("recode_locally"), "{e}");
    assert_eq!(qt.recode_locally(&policy).unwrap().summary().classes, 5);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn every_locally_recoded_class_meets_every_model_within_the_limit(
        rows in prop::collection::vec((0u8..2, 0u8..10, 0u8..6, 0u8..3), 1..150),
        criteria in criteria(),
        limit in prop_oneof![Just(0.0), 0.0f64..0.3],
    ) {
        let h = hierarchies();
        let sex = column("sex", rows.iter().map(|r| ["M", "F"][r.0 as usize].to_owned()).collect());
        let age = column("age", rows.iter().map(|r| r.1.to_string()).collect());
        let region = column("region", rows.iter().map(|r| format!("m{}", r.2)).collect());
        let disease = column("disease", rows.iter().map(|r| format!("d{}", r.3)).collect());
        let qt = QuasiTable::new(
            &[(&sex, &h[0]), (&age, &h[1]), (&region, &h[2])],
            Some(Sensitive { column: &disease, hierarchy: None }),
        ).unwrap();
        let policy = Policy {
            criteria: criteria.clone(),
            suppression_limit: limit,
            metric: Metric::default(),
            strategy: Search::Local,
        };
        let overall: Vec<u8> = rows.iter().map(|r| r.3).collect();
        let recoding = match qt.recode_locally(&policy) {
            Ok(r) => r,
            Err(Error::NoSolution { .. }) => {
                // Only when the table as a whole (the top node's one class) fails a model
                // and suppressing it is over the limit, or one class over all rows is already
                // above the average risk allowed.
                let n = rows.len() as f64;
                let class_fails = criteria.iter().any(|c| !meets(c, &overall, &overall));
                let risk_fails = criteria
                    .iter()
                    .any(|c| matches!(c, Criterion::AverageRisk { risk } if 1.0 / n > *risk));
                prop_assert!(risk_fails || (class_fails && n > (limit * n).floor()));
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let applied = qt.apply_local(&recoding).unwrap();
        let mut classes: HashMap<Vec<&str>, Vec<usize>> = HashMap::new();
        let mut suppressed = 0u64;
        for (r, row) in applied.iter().enumerate() {
            match row {
                Some(values) => {
                    // A released value is what the row's own value generalizes to at some level.
                    let original = [&sex, &age, &region].map(|c| c.get(r));
                    for (j, v) in values.iter().enumerate() {
                        let leaf = h[j].leaf(original[j]).unwrap();
                        prop_assert!((0..h[j].height()).any(|l| h[j].label(l, h[j].generalize(l, leaf)) == *v));
                    }
                    classes.entry(values.clone()).or_default().push(r);
                }
                None => suppressed += 1,
            }
        }
        let summary = recoding.summary();
        prop_assert!(suppressed as f64 <= (limit * rows.len() as f64).floor());
        prop_assert_eq!(suppressed, summary.suppressed_rows);
        prop_assert_eq!(classes.len() as u64, summary.classes);
        for members in classes.values() {
            let values: Vec<u8> = members.iter().map(|&r| rows[r].3).collect();
            for c in &criteria {
                prop_assert!(meets(c, &values, &overall), "{:?} fails on {:?}", c, values);
            }
        }
        for c in &criteria {
            if let Criterion::AverageRisk { risk } = *c {
                let released = rows.len() as u64 - suppressed;
                prop_assert!(released == 0 || classes.len() as f64 / released as f64 <= risk);
            }
        }
        // Local recoding never loses more than releasing the top node's one class.
        prop_assert!(summary.loss.value[0] <= 1.0 + 1e-9);
    }
}
