//! Times the grouping of a table into distinct quasi-identifier tuples: in memory
//! (`Table::read` + `QuasiTable::new`) against the DataFusion tuples plan on a local session
//! (`read_table` + `count_tuples` + `TupleCounts::quasi_table`), then checks that both find
//! the same optimum.
//!
//! ```text
//! cargo run --release -p tsumugi-anon --features scale-out --example scale_out_grouping -- \
//!     TABLE HIERARCHY_DIR [QI,QI,…]
//! ```
//!
//! `HIERARCHY_DIR` holds ARX hierarchies named `adult_hierarchy_<qi>.csv` (`;`-separated), as
//! the adult fixture and `tsumugi bench anon`'s work folder do; the quasi-identifiers default
//! to the adult table's nine. The policy is the fixture's: k = 5, 2 % suppression, Loss.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

use datafusion::prelude::SessionContext;
use tsumugi_anon::{
    Aggregate, Column, Criterion, Hierarchy, Metric, Policy, QuasiTable, Strategy, Table,
    TupleSpec, count_tuples, read_table,
};

const ADULT: &str =
    "sex,age,race,marital-status,education,native-country,workclass,occupation,salary-class";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [table, dir, rest @ ..] = args.as_slice() else {
        println!("usage: scale_out_grouping TABLE HIERARCHY_DIR [QI,QI,…]");
        std::process::exit(2);
    };
    let table = PathBuf::from(table);
    let quasi: Vec<String> = rest
        .first()
        .map_or(ADULT, String::as_str)
        .split(',')
        .map(str::to_owned)
        .collect();
    let hierarchies: Vec<Hierarchy> = quasi
        .iter()
        .map(|q| {
            let path = PathBuf::from(dir).join(format!("adult_hierarchy_{q}.csv"));
            Hierarchy::read_arx(&path, b';').expect("a hierarchy")
        })
        .collect();
    let policy = Policy {
        criteria: vec![Criterion::KAnonymity { k: 5 }],
        suppression_limit: 0.02,
        metric: Metric::Loss {
            gs_factor: 0.5,
            aggregate: Aggregate::GeometricMean,
        },
        strategy: Strategy::Optimal,
    };

    let clock = Instant::now();
    let rows = Table::read(&table, None, None).expect("the table");
    let read = clock.elapsed().as_secs_f64();
    let columns: Vec<(&Column, &Hierarchy)> = quasi
        .iter()
        .zip(&hierarchies)
        .map(|(q, h)| (rows.column(q).expect("a quasi-identifier"), h))
        .collect();
    let in_memory = QuasiTable::new(&columns, None).expect("the encoding");
    let total = clock.elapsed().as_secs_f64();
    println!(
        "in memory:  {} rows read in {read:.3} s, grouped into {} tuples; {total:.3} s in all",
        rows.rows,
        in_memory.tuple_sizes().count()
    );

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let clock = Instant::now();
    let spec = TupleSpec {
        quasi: quasi.clone(),
        person: None,
        sensitive: None,
    };
    let counted = runtime.block_on(async {
        let ctx = SessionContext::new();
        let df = read_table(&ctx, &table, None).await.expect("the table");
        count_tuples(df, &spec).await.expect("the tuples plan")
    });
    let planned = clock.elapsed().as_secs_f64();
    let refs: Vec<&Hierarchy> = hierarchies.iter().collect();
    let from_plan = counted.quasi_table(&refs, None).expect("the encoding");
    let total = clock.elapsed().as_secs_f64();
    println!(
        "DataFusion: {} rows grouped into {} tuples in {planned:.3} s; {total:.3} s in all",
        counted.rows().iter().sum::<u64>(),
        counted.rows().len()
    );

    let a = in_memory.search(&policy).expect("a search").optimum;
    let b = from_plan.search(&policy).expect("a search").optimum;
    let summary = |o: &Option<tsumugi_anon::NodeResult>| {
        o.as_ref()
            .map(|o| (o.levels.clone(), o.loss.value.clone(), o.suppressed_rows))
    };
    assert_eq!(summary(&a), summary(&b), "the two paths disagree");
    println!("same optimum: {:?}", summary(&a));
}
