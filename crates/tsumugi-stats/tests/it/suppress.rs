//! Suppression: hand-worked examples through one `check` helper, and property tests of the
//! guarantee (a)–(d) on random tables.

#![allow(clippy::needless_range_loop)] // grid arithmetic reads clearer with indices

use proptest::prelude::*;
use tsumugi_stats::{Cell, CountTable, Reason, SuppressedTable, SuppressionRules, suppress};

fn table(rows: &[&[u64]]) -> CountTable {
    CountTable::new(
        (0..rows.len()).map(|i| format!("r{i}")).collect(),
        (0..rows[0].len()).map(|j| format!("c{j}")).collect(),
        rows.iter().map(|r| r.to_vec()).collect(),
    )
    .unwrap()
}

/// The extended grid (cells, row totals as last column, column totals and grand total as last
/// row) of original values and of published cells.
fn grid(t: &CountTable, s: &SuppressedTable) -> (Vec<Vec<u64>>, Vec<Vec<Cell>>) {
    let mut values: Vec<Vec<u64>> = t
        .counts()
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.push(t.row_total(i).unwrap());
            r
        })
        .collect();
    let mut last: Vec<u64> = (0..t.n_cols()).map(|j| t.col_total(j).unwrap()).collect();
    last.push(t.grand_total());
    values.push(last);
    let mut cells: Vec<Vec<Cell>> = s
        .cells()
        .iter()
        .zip(s.row_totals())
        .map(|(row, total)| {
            let mut r = row.clone();
            r.push(*total);
            r
        })
        .collect();
    let mut last = s.col_totals().to_vec();
    last.push(s.grand_total());
    cells.push(last);
    (values, cells)
}

/// Renders the extended grid: `5P` primary, `20S` secondary, plain numbers published.
fn render(t: &CountTable, s: &SuppressedTable) -> String {
    let (values, cells) = grid(t, s);
    let mut out = String::new();
    for (vrow, crow) in values.iter().zip(&cells) {
        let fields: Vec<String> = vrow
            .iter()
            .zip(crow)
            .map(|(v, c)| match c {
                Cell::Value(n) => {
                    assert_eq!(n, v);
                    format!("{v:>4}")
                }
                Cell::Suppressed(Reason::Primary) => format!("{:>4}", format!("{v}P")),
                Cell::Suppressed(Reason::Secondary) => format!("{:>4}", format!("{v}S")),
            })
            .collect();
        let (cells, total) = fields.split_at(fields.len() - 1);
        out.push_str(&format!("{} |{}\n", cells.join(""), total[0]));
    }
    out
}

#[track_caller]
fn check(rows: &[&[u64]], expect: &str) {
    let t = table(rows);
    let s = suppress(&t, &SuppressionRules::ndb());
    assert_guarantee(&t, &SuppressionRules::ndb(), &s);
    let got = render(&t, &s);
    assert_eq!(
        got.trim_end(),
        expect.trim_start_matches('\n').trim_end(),
        "\n{got}"
    );
}

#[test]
fn nothing_to_hide() {
    check(
        &[&[10, 20], &[0, 40]],
        "
  10  20 |  30
   0  40 |  40
  10  60 |  70",
    );
}

/// Hand-worked in `docs/guarantees/suppress.md` style: the 5 is first joined with the 12 below
/// it (smallest count on its lines), then its row's 20, then 40 closes the rectangle; the 8 is
/// joined with 25 (nonzero beats the zero beside it) and 30 closes its cycle through row r0.
#[test]
fn two_small_cells_hand_worked() {
    check(
        &[&[5, 20, 30], &[12, 40, 0], &[0, 8, 25]],
        "
  5P 20S 30S |  55
 12S 40S   0 |  52
   0  8P 25S |  33
  17  68  55 | 140",
    );
}

#[test]
fn one_small_cell_gets_a_rectangle() {
    check(
        &[&[4, 30], &[20, 50]],
        "
  4P 30S |  34
 20S 50S |  70
  24  80 | 104",
    );
}

/// A small row total is itself primary. Hiding the column totals instead of row r1 would leave
/// the column of row totals (7, 70, 77) with one hidden entry, so row r1 goes.
#[test]
fn small_margins_are_suppressed_too() {
    check(
        &[&[3, 4], &[30, 40]],
        "
  3P  4P |  7P
 30S 40S | 70S
  33  44 |  77",
    );
}

#[test]
fn csv_and_json_do_not_tell_why() {
    let t = CountTable::new(
        vec!["東京, 13".into(), "27".into()],
        vec!["0-9".into(), "10-19".into()],
        vec![vec![4, 30], vec![20, 50]],
    )
    .unwrap();
    let s = suppress(&t, &SuppressionRules::ndb());
    assert_eq!(
        s.to_csv(),
        ",0-9,10-19,合計 Total\n\"東京, 13\",-,-,34\n27,-,-,70\n合計 Total,24,80,104\n"
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(
        json["cells"],
        serde_json::json!([[null, null], [null, null]])
    );
    assert_eq!(json["row_totals"], serde_json::json!([34, 70]));
    assert_eq!(json["grand_total"], 104);
    assert_eq!(
        json["rules"],
        serde_json::json!({"min_cell": 10, "allow_zero": true})
    );
    assert!(!json.to_string().contains("rimary"));
    assert_eq!(s.n_suppressed(Reason::Primary), 1);
    assert_eq!(s.n_suppressed(Reason::Secondary), 3);
    assert_eq!(s.n_entries(), 9);
}

#[test]
fn bad_shapes_are_refused() {
    let err = CountTable::new(vec!["a".into()], vec!["x".into()], vec![vec![1, 2]]).unwrap_err();
    assert!(err.to_string().starts_with("STA0001InvalidTable"), "{err}");
    assert!(CountTable::new(vec![], vec!["x".into()], vec![]).is_err());
    assert!(
        CountTable::new(
            vec!["a".into(), "b".into()],
            vec!["x".into()],
            vec![vec![u64::MAX], vec![1]]
        )
        .is_err()
    );
}

/// Asserts guarantee (a)–(c) of `suppress` independently of its implementation.
fn assert_guarantee(t: &CountTable, rules: &SuppressionRules, s: &SuppressedTable) {
    let (values, cells) = grid(t, s);
    let (n_r, n_c) = (values.len(), values[0].len());
    let sensitive = |v: u64| v < rules.min_cell && !(v == 0 && rules.allow_zero);
    for i in 0..n_r {
        for j in 0..n_c {
            let v = values[i][j];
            match cells[i][j] {
                // (a)
                Cell::Value(n) => {
                    assert_eq!(n, v);
                    assert!(
                        v >= rules.min_cell || (v == 0 && rules.allow_zero),
                        "published {v} at ({i},{j})"
                    );
                }
                // (b): primary exactly on sensitive entries.
                Cell::Suppressed(Reason::Primary) => assert!(sensitive(v)),
                Cell::Suppressed(Reason::Secondary) => assert!(!sensitive(v)),
            }
        }
    }
    // (c) no grid line holds exactly one suppressed entry.
    for i in 0..n_r {
        let k = (0..n_c).filter(|&j| cells[i][j].is_suppressed()).count();
        assert_ne!(k, 1, "grid row {i} has one suppressed entry");
    }
    for j in 0..n_c {
        let k = (0..n_r).filter(|&i| cells[i][j].is_suppressed()).count();
        assert_ne!(k, 1, "grid column {j} has one suppressed entry");
    }
    // (c, strong) every suppressed entry lies on a cycle of suppressed entries; shifting ±1
    // around it yields another table with the same published values and consistent sums.
    for i in 0..n_r {
        for j in 0..n_c {
            if !cells[i][j].is_suppressed() {
                continue;
            }
            let path = path_avoiding(&cells, (i, j)).unwrap_or_else(|| {
                panic!(
                    "suppressed ({i},{j}) is a bridge: derivable\n{}",
                    render(t, s)
                )
            });
            let mut cycle = vec![(i, j)];
            cycle.extend(path);
            let mut alt: Vec<Vec<i128>> = values
                .iter()
                .map(|r| r.iter().map(|v| *v as i128).collect())
                .collect();
            for (k, &(a, b)) in cycle.iter().enumerate() {
                let sign = if k % 2 == 0 { 1 } else { -1 };
                // Margins (but not the grand total) enter their line equations negated.
                let margin = (a == n_r - 1) != (b == n_c - 1);
                alt[a][b] += if margin { -sign } else { sign };
            }
            assert_ne!(alt[i][j], values[i][j] as i128);
            for r in 0..n_r {
                let sum: i128 = alt[r][..n_c - 1].iter().sum();
                assert_eq!(sum, alt[r][n_c - 1], "row {r}");
            }
            for c in 0..n_c {
                let sum: i128 = (0..n_r - 1).map(|r| alt[r][c]).sum();
                assert_eq!(sum, alt[n_r - 1][c], "column {c}");
            }
            if cycle.iter().all(|&(a, b)| values[a][b] >= 1) {
                assert!(
                    alt.iter().flatten().all(|v| *v >= 0),
                    "negative alternative"
                );
            }
        }
    }
}

/// A path of suppressed entries from `e`'s column back to `e`'s row, not using `e`: the entries
/// after `e` on a cycle through it, in order (alternating column and row steps).
fn path_avoiding(cells: &[Vec<Cell>], e: (usize, usize)) -> Option<Vec<(usize, usize)>> {
    let (n_r, n_c) = (cells.len(), cells[0].len());
    // Nodes: rows 0..n_r, columns n_r..n_r+n_c. BFS from e's column node to e's row node.
    let start = n_r + e.1;
    let goal = e.0;
    let mut prev: Vec<Option<(usize, (usize, usize))>> = vec![None; n_r + n_c];
    let mut seen = vec![false; n_r + n_c];
    seen[start] = true;
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(u) = queue.pop_front() {
        if u == goal {
            let mut path = Vec::new();
            let mut at = goal;
            while let Some((p, entry)) = prev[at] {
                path.push(entry);
                at = p;
            }
            path.reverse();
            return Some(path);
        }
        let neighbours: Vec<(usize, (usize, usize))> = if u < n_r {
            (0..n_c).map(|j| (n_r + j, (u, j))).collect()
        } else {
            (0..n_r).map(|i| (i, (i, u - n_r))).collect()
        };
        for (v, entry) in neighbours {
            if entry != e && cells[entry.0][entry.1].is_suppressed() && !seen[v] {
                seen[v] = true;
                prev[v] = Some((u, entry));
                queue.push_back(v);
            }
        }
    }
    None
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![3 => Just(0u64), 4 => 1u64..10, 3 => 10u64..80]
}

fn tables() -> impl Strategy<Value = Vec<Vec<u64>>> {
    (1usize..7, 1usize..7)
        .prop_flat_map(|(r, c)| proptest::collection::vec(proptest::collection::vec(count(), c), r))
}

fn rules() -> impl Strategy<Value = SuppressionRules> {
    prop_oneof![
        4 => Just(SuppressionRules::ndb()),
        1 => (0u64..15, any::<bool>()).prop_map(|(min_cell, allow_zero)| SuppressionRules {
            min_cell,
            allow_zero
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn guarantee_holds_on_random_tables(rows in tables(), rules in rules()) {
        let refs: Vec<&[u64]> = rows.iter().map(Vec::as_slice).collect();
        let t = table(&refs);
        let s = suppress(&t, &rules);
        assert_guarantee(&t, &rules, &s);
        // (d) deterministic.
        prop_assert_eq!(&suppress(&t, &rules), &s);
        // CSV marks exactly the suppressed entries.
        let marks = s.to_csv().split([',', '\n']).filter(|f| *f == "-").count() as u64;
        prop_assert_eq!(marks, s.n_suppressed(Reason::Primary) + s.n_suppressed(Reason::Secondary));
    }

    #[test]
    fn publishable_tables_are_untouched(
        rows in (1usize..6, 1usize..6).prop_flat_map(|(r, c)| {
            proptest::collection::vec(proptest::collection::vec(10u64..500, c), r)
        })
    ) {
        let refs: Vec<&[u64]> = rows.iter().map(Vec::as_slice).collect();
        let s = suppress(&table(&refs), &SuppressionRules::ndb());
        prop_assert_eq!(s.n_suppressed(Reason::Primary) + s.n_suppressed(Reason::Secondary), 0);
    }
}
