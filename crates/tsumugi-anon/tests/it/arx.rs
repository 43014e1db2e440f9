//! The ARX "adult" benchmark: the optimum and information loss that ARX's own test suite
//! expects (`tests/fixtures/arx-adult/expected.csv`, extracted from ARX's tests; see
//! `PROVENANCE.md` and `ARX_SEMANTICS.md` there), reproduced by the optimal search.

use std::path::{Path, PathBuf};

use tsumugi_anon::{
    Aggregate, Column, Criterion, Hierarchy, Metric, Policy, QuasiTable, Sensitive, Strategy, Table,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arx-adult")
}

/// One expected case.
struct Case {
    line: usize,
    criteria: Vec<Criterion>,
    sensitive: Option<String>,
    limit: f64,
    metric: Metric,
    qis: Vec<String>,
    loss: Vec<f64>,
    optimum: Option<Vec<u8>>,
}

fn number_after<'a>(s: &'a str, key: &str) -> &'a str {
    let i = s.find(key).map_or(0, |i| i + key.len());
    s[i..].split([',', ')']).next().unwrap_or_default().trim()
}

fn criteria(models: &str) -> Vec<Criterion> {
    models
        .split('+')
        .map(|m| {
            let args: Vec<&str> = m[m.find('(').unwrap() + 1..m.rfind(')').unwrap()]
                .split(',')
                .map(str::trim)
                .collect();
            let last = |i: usize| args[i].parse::<f64>().unwrap();
            match &m[..m.find('(').unwrap()] {
                "KAnonymity" => Criterion::KAnonymity {
                    k: args[0].parse().unwrap(),
                },
                "EntropyLDiversity" => Criterion::EntropyLDiversity { l: last(1) },
                "DistinctLDiversity" => Criterion::DistinctLDiversity {
                    l: args[1].parse().unwrap(),
                },
                "RecursiveCLDiversity" => Criterion::RecursiveClDiversity {
                    c: number_after(m, "c=").parse().unwrap(),
                    l: number_after(m, "l=").parse().unwrap(),
                },
                "EqualDistanceTCloseness" => Criterion::EqualTCloseness { t: last(1) },
                "HierarchicalDistanceTCloseness" => {
                    Criterion::HierarchicalTCloseness { t: last(1) }
                }
                other => panic!("model {other}"),
            }
        })
        .collect()
}

fn metric(text: &str, gs: &str) -> Metric {
    if text.starts_with("createLossMetric") {
        Metric::Loss {
            gs_factor: gs.parse().unwrap_or(0.5),
            aggregate: Aggregate::Rank,
        }
    } else if text.starts_with("createPrecomputedEntropyMetric") {
        Metric::Entropy {
            monotonic: text.contains("monotonic=true"),
        }
    } else if text.starts_with("createDiscernabilityMetric") {
        Metric::Discernibility {
            monotonic: text.contains("monotonic=true"),
        }
    } else {
        panic!("metric {text}")
    }
}

fn cases() -> Vec<Case> {
    let mut r = csv::Reader::from_path(dir().join("expected.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.unwrap();
        let get = |name: &str| rec.get(col(name)).unwrap().to_owned();
        // ARX's practical monotonicity may miss the optimum; weights are not modelled here.
        if get("practical_monotonicity") == "true" || !get("attribute_weights").is_empty() {
            continue;
        }
        let loss_text = get("expected_loss");
        let loss = loss_text
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|x| x.trim().parse::<f64>().unwrap())
            .collect();
        let optimum = get("expected_optimum");
        let criteria = criteria(&get("privacy_models"));
        let sensitive = Some(get("sensitive_attribute"))
            .filter(|s| !s.is_empty() && criteria.iter().any(Criterion::needs_sensitive));
        out.push(Case {
            line: i + 2,
            criteria,
            sensitive,
            limit: get("suppression_limit").parse().unwrap(),
            metric: metric(&get("metric"), &get("gs_factor")),
            qis: get("qi_order").split('|').map(str::to_owned).collect(),
            loss,
            optimum: (optimum != "NONE")
                .then(|| optimum.split(' ').map(|x| x.parse().unwrap()).collect()),
        });
    }
    out
}

fn hierarchy(name: &str) -> Hierarchy {
    Hierarchy::read_arx(&dir().join(format!("adult_hierarchy_{name}.csv")), b';').unwrap()
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(1.0))
}

#[test]
fn optimum_and_loss_match_arx_on_adult() {
    let (table, _) = Table::read_csv(&dir().join("adult.csv"), None, None).unwrap();
    assert_eq!(table.rows, 30_162);
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in cases() {
        // ARX's suppressed-row weighting for gs > 0.5 is not reproduced (ARX_SEMANTICS.md §0).
        if matches!(case.metric, Metric::Loss { gs_factor, .. } if gs_factor > 0.5) {
            continue;
        }
        if std::env::var("ARX_CASE").is_ok_and(|l| l != case.line.to_string()) {
            continue;
        }
        let started = std::time::Instant::now();
        let hierarchies: Vec<Hierarchy> = case.qis.iter().map(|q| hierarchy(q)).collect();
        let columns: Vec<&Column> = case.qis.iter().map(|q| table.column(q).unwrap()).collect();
        let quasi: Vec<(&Column, &Hierarchy)> = columns.into_iter().zip(&hierarchies).collect();
        let sens_h = case.sensitive.as_deref().map(hierarchy);
        let sensitive = case.sensitive.as_deref().map(|s| Sensitive {
            column: table.column(s).unwrap(),
            hierarchy: sens_h.as_ref(),
        });
        let qt = QuasiTable::new(&quasi, sensitive).unwrap();
        let policy = Policy {
            criteria: case.criteria.clone(),
            suppression_limit: case.limit,
            metric: case.metric,
            strategy: Strategy::Optimal,
        };
        let result = qt.search(&policy).unwrap();
        checked += 1;
        eprintln!(
            "line {}: {:?} in {:?}, {} nodes",
            case.line,
            result.optimum.as_ref().map(|o| &o.levels),
            started.elapsed(),
            result.stats.nodes_checked
        );
        match (&result.optimum, &case.optimum) {
            (None, None) => {}
            (Some(found), Some(expected)) => {
                // Hierarchical t-closeness: our earth mover's distance (Li et al.) is not
                // checked against ARX's code, so only the optimum must be ARX's.
                // Likewise recursive (c,l)-diversity (ARX suppresses a few rows more or fewer
                // than the textbook test f₁ < c·(f_l + … + f_m), and than its `≤` variant) and
                // the non-monotonic entropy's charge for suppressed rows (documented, not read
                // from ARX's source).
                let unverified = case.criteria.iter().any(|c| {
                    matches!(
                        c,
                        Criterion::HierarchicalTCloseness { .. }
                            | Criterion::RecursiveClDiversity { .. }
                    )
                }) || case.metric == (Metric::Entropy { monotonic: false });
                if unverified {
                    if &found.levels != expected {
                        failures.push(format!(
                            "line {}: optimum {:?}, ARX {expected:?}",
                            case.line, found.levels
                        ));
                    }
                } else if !close(&found.loss.value, &case.loss) {
                    failures.push(format!(
                        "line {}: loss {:?} at {:?}, ARX {:?} at {:?}",
                        case.line, found.loss.value, found.levels, case.loss, expected
                    ));
                }
            }
            (found, expected) => failures.push(format!(
                "line {}: found {:?}, ARX {:?}",
                case.line,
                found.as_ref().map(|f| &f.levels),
                expected
            )),
        }
    }
    assert!(checked >= 40, "{checked} cases");
    assert!(
        failures.is_empty(),
        "{} of {checked}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
