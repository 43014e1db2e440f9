//! The DataFusion plans (feature `scale-out`) give what the in-memory path gives, and a
//! Ballista cluster (scheduler and executor started in-process on loopback) gives what a local
//! DataFusion session gives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ballista::prelude::SessionContextExt;
use datafusion::prelude::SessionContext;
use tsumugi_anon::{
    ClassCounts, Column, Criterion, Hierarchy, Metric, Policy, QuasiTable, Sensitive, Strategy,
    Table, TupleCounts, TupleSpec, count_classes, count_tuples, read_table, tuples_plan,
};
use tsumugi_store::{Cell, ColumnKind, TextTableWriter};

const ADULT_QIS: [&str; 9] = [
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

fn adult_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arx-adult")
}

/// A table and its hierarchies by column.
struct Fixture {
    path: PathBuf,
    table: Table,
    hierarchies: BTreeMap<String, Hierarchy>,
    person: Option<&'static str>,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    fn hierarchy(&self, name: &str) -> &Hierarchy {
        &self.hierarchies[name]
    }
}

fn adult() -> Fixture {
    let path = adult_dir().join("adult.csv");
    let (table, _) = Table::read_csv(&path, None, None).unwrap();
    let hierarchies = ADULT_QIS
        .iter()
        .map(|q| {
            let h = adult_dir().join(format!("adult_hierarchy_{q}.csv"));
            ((*q).to_owned(), Hierarchy::read_arx(&h, b';').unwrap())
        })
        .collect();
    Fixture {
        path,
        table,
        hierarchies,
        person: None,
        _dir: None,
    }
}

/// 600 persons with one to four rows each (a lifecourse table: privacy counts persons), as
/// Parquet when `parquet`, else CSV.
fn persons(parquet: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let regions = ["13101", "13102", "14100", "27100", "27127", "47201"];
    let area = |r: &str| {
        if r.starts_with('1') {
            "関東"
        } else {
            "関西・沖縄"
        }
    };
    let diseases = ["E11", "I10", "J45", "C50"];
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut state = 17u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    for person in 0..600u64 {
        let sex = if next(2) == 0 { "F" } else { "M" };
        let age = 20 + next(70);
        let region = regions[next(regions.len() as u64) as usize];
        for _ in 0..=next(4) {
            // Rows of one person may differ in region (a move) and diagnosis.
            let region = if next(8) == 0 {
                regions[next(regions.len() as u64) as usize]
            } else {
                region
            };
            rows.push([
                format!("P{person:04}"),
                sex.to_owned(),
                age.to_string(),
                region.to_owned(),
                diseases[next(diseases.len() as u64) as usize].to_owned(),
            ]);
        }
    }
    let header = ["person", "sex", "age", "region", "disease"];
    let path = if parquet {
        let path = dir.path().join("rows.parquet");
        let columns: Vec<(&str, ColumnKind)> =
            header.iter().map(|h| (*h, ColumnKind::Text)).collect();
        let mut w = TextTableWriter::create(&path, &columns).unwrap();
        for r in &rows {
            let cells: Vec<Cell<'_>> = r.iter().map(|v| Cell::Text(v)).collect();
            w.write(&cells).unwrap();
        }
        w.finish().unwrap();
        path
    } else {
        let path = dir.path().join("rows.csv");
        let mut text = header.join(",") + "\n";
        for r in &rows {
            text += &(r.join(",") + "\n");
        }
        std::fs::write(&path, text).unwrap();
        path
    };
    let table = Table::read(&path, None, None).unwrap();
    let mut age = String::new();
    for a in 20..90 {
        let lo = a / 10 * 10;
        age += &format!(
            "{a};{lo}-{};{};*\n",
            lo + 9,
            if lo < 60 { "<60" } else { "60+" }
        );
    }
    let region: String = regions
        .iter()
        .map(|r| format!("{r};{};*\n", area(r)))
        .collect();
    let h = |text: &str| Hierarchy::parse_arx(text, b';').unwrap();
    let hierarchies = BTreeMap::from([
        ("sex".to_owned(), h("F;*\nM;*\n")),
        ("age".to_owned(), h(&age)),
        ("region".to_owned(), h(&region)),
        (
            "disease".to_owned(),
            h("E11;E;*\nI10;I;*\nJ45;J;*\nC50;C;*\n"),
        ),
    ]);
    Fixture {
        path,
        table,
        hierarchies,
        person: Some("person"),
        _dir: Some(dir),
    }
}

fn policy(criteria: Vec<Criterion>, suppression_limit: f64) -> Policy {
    Policy {
        criteria,
        suppression_limit,
        metric: Metric::default(),
        strategy: Strategy::Optimal,
    }
}

fn spec(f: &Fixture, quasi: &[&str], sensitive: Option<&str>) -> TupleSpec {
    TupleSpec {
        quasi: quasi.iter().map(|q| (*q).to_owned()).collect(),
        person: f.person.map(str::to_owned),
        sensitive: sensitive.map(str::to_owned),
    }
}

async fn tuples(ctx: &SessionContext, f: &Fixture, spec: &TupleSpec) -> TupleCounts {
    let df = read_table(ctx, &f.path, None).await.unwrap();
    count_tuples(df, spec).await.unwrap()
}

async fn classes(ctx: &SessionContext, f: &Fixture, quasi: &[&str], levels: &[u8]) -> ClassCounts {
    let df = read_table(ctx, &f.path, None).await.unwrap();
    let q: Vec<(&str, &Hierarchy)> = quasi.iter().map(|n| (*n, f.hierarchy(n))).collect();
    count_classes(df, &q, levels, f.person).await.unwrap()
}

/// Per class of node `levels` (labels in quasi-identifier order), its rows and distinct
/// persons, counted over the rows in memory.
fn classes_in_memory(
    f: &Fixture,
    quasi: &[&str],
    levels: &[u8],
) -> BTreeMap<Vec<String>, (u64, BTreeSet<String>)> {
    let columns: Vec<&Column> = quasi.iter().map(|q| f.table.column(q).unwrap()).collect();
    let mut out: BTreeMap<Vec<String>, (u64, BTreeSet<String>)> = BTreeMap::new();
    for r in 0..f.table.rows {
        let labels = columns
            .iter()
            .zip(quasi)
            .zip(levels)
            .map(|((c, q), &l)| {
                let h = f.hierarchy(q);
                let leaf = h.leaf(c.get(r)).unwrap();
                h.label(usize::from(l), h.generalize(usize::from(l), leaf))
                    .to_owned()
            })
            .collect();
        let e = out.entry(labels).or_default();
        e.0 += 1;
        if let Some(p) = f.person {
            e.1.insert(f.table.column(p).unwrap().get(r).to_owned());
        }
    }
    out
}

/// The DataFusion path (tuples plan → search; classes plan at the optimum) against the
/// in-memory path, under every policy.
#[track_caller]
fn check_same_as_in_memory(
    f: &Fixture,
    quasi: &[&str],
    sensitive: Option<&str>,
    policies: &[Policy],
) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ctx = SessionContext::new();
    let counted = rt.block_on(tuples(&ctx, f, &spec(f, quasi, sensitive)));
    let hierarchies: Vec<&Hierarchy> = quasi.iter().map(|q| f.hierarchy(q)).collect();
    let sens_h = sensitive.and_then(|s| f.hierarchies.get(s));
    let from_plan = counted.quasi_table(&hierarchies, sens_h).unwrap();
    let columns: Vec<(&Column, &Hierarchy)> = quasi
        .iter()
        .map(|q| (f.table.column(q).unwrap(), f.hierarchy(q)))
        .collect();
    let in_memory = QuasiTable::new(
        &columns,
        sensitive.map(|s| Sensitive {
            column: f.table.column(s).unwrap(),
            hierarchy: sens_h,
        }),
    )
    .unwrap();
    let sorted = |t: &QuasiTable| {
        let mut v: Vec<u64> = t.tuple_sizes().collect();
        v.sort_unstable();
        v
    };
    assert_eq!(sorted(&from_plan), sorted(&in_memory), "tuple sizes");
    assert_eq!(
        counted.rows().iter().sum::<u64>(),
        f.table.rows as u64,
        "every row is in a tuple"
    );
    for policy in policies {
        let a = from_plan.search(policy).unwrap();
        let b = in_memory.search(policy).unwrap();
        let (a, b) = (a.optimum.unwrap(), b.optimum.unwrap());
        assert_eq!(a.levels, b.levels, "optimum under {policy:?}");
        // Grouped tuples hold no rows: applying a node to them is refused, not silently empty.
        assert!(from_plan.apply(policy, &a.levels).is_err());
        assert_eq!(a.loss.value, b.loss.value, "loss under {policy:?}");
        assert_eq!(a.loss.per_attribute, b.loss.per_attribute);
        assert_eq!(
            (a.suppressed_rows, a.classes),
            (b.suppressed_rows, b.classes),
            "suppression and classes under {policy:?}"
        );
        // The classes plan at the optimum: the same classes, rows and persons as the rows.
        let c = rt.block_on(classes(&ctx, f, quasi, &a.levels));
        let expected = classes_in_memory(f, quasi, &a.levels);
        let labels: Vec<Vec<String>> = expected.keys().cloned().collect();
        assert_eq!(c.labels(), labels.as_slice(), "classes at {:?}", a.levels);
        let rows: Vec<u64> = expected.values().map(|v| v.0).collect();
        assert_eq!(c.rows(), rows.as_slice(), "class sizes at {:?}", a.levels);
        if f.person.is_some() {
            let persons: Vec<u64> = expected.values().map(|v| v.1.len() as u64).collect();
            assert_eq!(c.persons(), Some(persons.as_slice()), "persons per class");
            assert!(
                persons.iter().zip(c.rows()).any(|(p, r)| p < r),
                "some class holds several rows of one person"
            );
        }
        let k = policy.criteria.iter().find_map(|c| match c {
            Criterion::KAnonymity { k } => Some(u64::from(*k)),
            _ => None,
        });
        if let (Some(k), None) = (k, sensitive) {
            // Under k-anonymity alone, the search releases exactly the classes of ≥ k rows.
            let released = c.rows().iter().filter(|&&n| n >= k).count() as u64;
            let suppressed: u64 = c.rows().iter().filter(|&&n| n < k).sum();
            assert_eq!((released, suppressed), (a.classes, a.suppressed_rows));
        }
    }
}

#[test]
fn datafusion_path_finds_the_in_memory_optimum_on_adult() {
    let f = adult();
    assert_eq!(f.table.rows, 30_162);
    check_same_as_in_memory(
        &f,
        &ADULT_QIS,
        None,
        &[
            policy(vec![Criterion::KAnonymity { k: 5 }], 0.02),
            policy(vec![Criterion::KAnonymity { k: 100 }], 0.0),
        ],
    );
    // A sensitive attribute: its histogram per tuple comes from the sensitive plan.
    check_same_as_in_memory(
        &f,
        &ADULT_QIS[..8],
        Some("salary-class"),
        &[policy(
            vec![
                Criterion::KAnonymity { k: 5 },
                Criterion::DistinctLDiversity { l: 2 },
            ],
            0.04,
        )],
    );
}

#[test]
fn datafusion_path_counts_persons_like_the_rows() {
    for parquet in [false, true] {
        let f = persons(parquet);
        assert!(f.table.rows > 1_200, "several rows per person");
        check_same_as_in_memory(
            &f,
            &["sex", "age", "region"],
            Some("disease"),
            &[
                policy(vec![Criterion::KAnonymity { k: 10 }], 0.05),
                policy(
                    vec![
                        Criterion::KAnonymity { k: 5 },
                        Criterion::HierarchicalTCloseness { t: 0.3 },
                    ],
                    0.1,
                ),
            ],
        );
        check_same_as_in_memory(
            &f,
            &["sex", "age", "region"],
            None,
            &[policy(vec![Criterion::KAnonymity { k: 20 }], 0.0)],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ballista_cluster_gives_what_a_local_session_gives() {
    let local = SessionContext::new();
    let cluster = SessionContext::standalone().await.unwrap();
    let adult = adult();
    let lifecourse = persons(true);
    // Table, quasi-identifiers, sensitive attribute, a node to count the classes of.
    type Case<'a> = (&'a Fixture, Vec<&'a str>, Option<&'a str>, Vec<u8>);
    let cases: [Case<'_>; 3] = [
        (
            &adult,
            ADULT_QIS.to_vec(),
            None,
            vec![1, 2, 1, 1, 2, 1, 1, 1, 1],
        ),
        (
            &adult,
            ADULT_QIS[..8].to_vec(),
            Some("salary-class"),
            vec![0, 1, 0, 1, 0, 2, 0, 0],
        ),
        (
            &lifecourse,
            vec!["sex", "age", "region"],
            Some("disease"),
            vec![0, 1, 1],
        ),
    ];
    for (f, quasi, sensitive, levels) in &cases {
        let spec = spec(f, quasi, *sensitive);
        // The cluster's session hands the plan to the scheduler rather than running it here.
        let df = read_table(&cluster, &f.path, None).await.unwrap();
        let physical = tuples_plan(df, &spec)
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        assert_eq!(physical.name(), "DistributedQueryExec");
        let on_cluster = tuples(&cluster, f, &spec).await;
        assert_eq!(
            on_cluster,
            tuples(&local, f, &spec).await,
            "tuples of {quasi:?}"
        );
        assert_eq!(on_cluster.rows().iter().sum::<u64>(), f.table.rows as u64);
        let classes_on_cluster = classes(&cluster, f, quasi, levels).await;
        assert_eq!(
            classes_on_cluster,
            classes(&local, f, quasi, levels).await,
            "classes of {quasi:?} at {levels:?}"
        );
        assert!(classes_on_cluster.rows().len() > 1);
        // And the search over the cluster's tuples finds the local optimum.
        let hierarchies: Vec<&Hierarchy> = quasi.iter().map(|q| f.hierarchy(q)).collect();
        let sens_h = sensitive.and_then(|s| f.hierarchies.get(s));
        let p = policy(vec![Criterion::KAnonymity { k: 10 }], 0.05);
        let a = on_cluster
            .quasi_table(&hierarchies, sens_h)
            .unwrap()
            .search(&p)
            .unwrap();
        let local_tuples = tuples(&local, f, &spec).await;
        let b = local_tuples
            .quasi_table(&hierarchies, sens_h)
            .unwrap()
            .search(&p)
            .unwrap();
        assert_eq!(
            a.optimum.map(|o| (o.levels, o.loss.value)),
            b.optimum.map(|o| (o.levels, o.loss.value))
        );
    }
}
