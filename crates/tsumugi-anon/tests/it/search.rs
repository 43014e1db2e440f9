//! Properties of the lattice search over small random tables: the optimal search finds the
//! optimum of exhaustive enumeration, and every released class meets every model (δ-presence
//! included, over a random research subset of the table).

use std::collections::HashMap;

use proptest::prelude::*;
use tsumugi_anon::{
    Aggregate, Column, Criterion, Hierarchy, Metric, Policy, QuasiTable, Sensitive,
    Strategy as Search,
};

/// Age 0–9 in bands of 2 and 5; a region of 6 under 3 prefectures under 1 region; sex.
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

fn metric() -> impl Strategy<Value = Metric> {
    prop_oneof![
        (0.0f64..1.0).prop_map(|gs| Metric::Loss {
            gs_factor: gs,
            aggregate: Aggregate::GeometricMean
        }),
        Just(Metric::Loss {
            gs_factor: 0.5,
            aggregate: Aggregate::Rank
        }),
        any::<bool>().prop_map(|monotonic| Metric::Entropy { monotonic }),
        any::<bool>().prop_map(|monotonic| Metric::Discernibility { monotonic }),
        Just(Metric::Aecs),
        any::<bool>().prop_map(|monotonic| Metric::Precision { monotonic }),
        Just(Metric::Height),
    ]
}

fn criteria() -> impl Strategy<Value = Vec<Criterion>> {
    (2u32..6, 0u8..8).prop_map(|(k, extra)| {
        let mut c = vec![Criterion::KAnonymity { k }];
        match extra {
            1 => c.push(Criterion::DistinctLDiversity { l: 2 }),
            2 => c.push(Criterion::EqualTCloseness { t: 0.4 }),
            3 => c.push(Criterion::RecursiveClDiversity { c: 3.0, l: 2 }),
            4 => c.push(Criterion::DPresence {
                delta_min: 0.0,
                delta_max: 0.6,
            }),
            5 => c.push(Criterion::DPresence {
                delta_min: 0.2,
                delta_max: 0.8,
            }),
            6 => {
                c = vec![Criterion::DPresence {
                    delta_min: 0.1,
                    delta_max: 0.7,
                }]
            }
            7 => c.push(Criterion::DistinctLDiversity { l: 2 }),
            _ => {}
        }
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn optimal_search_finds_the_exhaustive_optimum_and_classes_meet_the_models(
        rows in prop::collection::vec((0u8..2, 0u8..10, 0u8..6, 0u8..3, 0u8..3), 1..80),
        criteria in criteria(),
        // A research subset (row.4 > 0: about two rows in three) also for models without
        // δ-presence: the other models then count subset rows.
        any_subset in any::<bool>(),
        metric in metric(),
        limit in prop_oneof![Just(0.0), 0.0f64..0.3],
    ) {
        let h = hierarchies();
        let sex = column("sex", rows.iter().map(|r| ["M", "F"][r.0 as usize].to_owned()).collect());
        let age = column("age", rows.iter().map(|r| r.1.to_string()).collect());
        let region = column("region", rows.iter().map(|r| format!("m{}", r.2)).collect());
        let disease = column("disease", rows.iter().map(|r| format!("d{}", r.3)).collect());
        let d_presence = criteria.iter().find_map(|c| match *c {
            Criterion::DPresence { delta_min, delta_max } => Some((delta_min, delta_max)),
            _ => None,
        });
        let in_subset: Vec<bool> = rows.iter().map(|r| r.4 > 0).collect();
        let quasi = [(&sex, &h[0]), (&age, &h[1]), (&region, &h[2])];
        let sensitive = Some(Sensitive { column: &disease, hierarchy: None });
        let with_subset = d_presence.is_some() || any_subset;
        let qt = if with_subset {
            QuasiTable::with_subset(&quasi, sensitive, in_subset.clone()).unwrap()
        } else {
            QuasiTable::new(&quasi, sensitive).unwrap()
        };
        let released_rows = if with_subset { in_subset.iter().filter(|&&b| b).count() } else { rows.len() };
        let mut policy = Policy { criteria: criteria.clone(), suppression_limit: limit, metric, strategy: Search::Exhaustive };
        let exhaustive = qt.search(&policy).unwrap().optimum;
        policy.strategy = Search::Optimal;
        let optimal = qt.search(&policy).unwrap().optimum;
        prop_assert_eq!(
            exhaustive.as_ref().map(|o| (&o.levels, &o.loss.value)),
            optimal.as_ref().map(|o| (&o.levels, &o.loss.value))
        );
        let Some(best) = optimal else { return Ok(()) };
        // Every released class, counted from the applied rows, meets every model.
        let applied = qt.apply(&policy, &best.levels).unwrap();
        let mut classes: HashMap<Vec<&str>, Vec<usize>> = HashMap::new();
        let mut suppressed = 0;
        for (r, row) in applied.iter().enumerate() {
            match row {
                Some(values) => classes.entry(values.clone()).or_default().push(r),
                None => suppressed += 1,
            }
        }
        // Rows outside the subset are never released; suppression counts subset rows.
        for (r, row) in applied.iter().enumerate() {
            prop_assert!(row.is_none() || !with_subset || in_subset[r]);
        }
        let suppressed = suppressed - (rows.len() - released_rows);
        prop_assert!(suppressed as f64 <= (limit * released_rows as f64).floor());
        prop_assert_eq!(suppressed as u64, best.suppressed_rows);
        if let Some((delta_min, delta_max)) = d_presence {
            // Every population class (all rows, generalized at the optimum): released ones
            // hold a share of subset rows within bounds; one with no subset row needs
            // delta_min = 0.
            let label = |r: usize| -> Vec<String> {
                [&sex, &age, &region]
                    .iter()
                    .zip(&h)
                    .zip(&best.levels)
                    .map(|((col, h), &l)| {
                        let leaf = h.leaf(col.get(r)).unwrap();
                        h.label(l as usize, h.generalize(l as usize, leaf)).to_owned()
                    })
                    .collect()
            };
            let mut population: HashMap<Vec<String>, (usize, usize)> = HashMap::new();
            for (r, &inside) in in_subset.iter().enumerate() {
                let e = population.entry(label(r)).or_default();
                e.0 += usize::from(inside);
                e.1 += 1;
            }
            for (values, members) in &classes {
                let (_, total) = population[&values.iter().map(|v| v.to_string()).collect::<Vec<_>>()];
                let delta = members.len() as f64 / total as f64;
                prop_assert!(delta_min <= delta && delta <= delta_max, "{delta}");
            }
            for &(inside, _) in population.values() {
                prop_assert!(inside > 0 || delta_min <= 0.0);
            }
        }
        for members in classes.values() {
            for c in &criteria {
                match *c {
                    Criterion::KAnonymity { k } => prop_assert!(members.len() >= k as usize),
                    Criterion::DistinctLDiversity { l } => {
                        let mut d: Vec<u8> = members.iter().map(|&r| rows[r].3).collect();
                        d.sort_unstable();
                        d.dedup();
                        prop_assert!(d.len() >= l as usize);
                    }
                    _ => {}
                }
            }
        }
    }
}
