//! Writes the identity-only link records of a synthetic population (`records.csv` and
//! `truth.csv`, see `tsumugi_synth::generate_link_records`), for record-linkage benchmarks:
//!
//! ```text
//! cargo run --release -p tsumugi-synth --example link_records -- --records 1000000 --out /tmp/link
//! ```
//!
//! Options: `--records N` (required), `--out DIR` (required), `--seed S` (default 42),
//! `--persons P` (the population size; default `N / 2`, ample at about three records a person).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line example reports on the terminal

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use tsumugi_synth::{SynthConfig, generate_link_records};

/// The parsed command line.
struct Args {
    records: u64,
    out: PathBuf,
    seed: u64,
    persons: Option<u64>,
}

fn parse() -> Result<Args, String> {
    let mut records = None;
    let mut out = None;
    let mut seed = 42;
    let mut persons = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--records" => records = Some(number()?),
            "--seed" => seed = number()?,
            "--persons" => persons = Some(number()?),
            "--out" => out = Some(PathBuf::from(&value)),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(Args {
        records: records.ok_or("--records is required")?,
        out: out.ok_or("--out is required")?,
        seed,
        persons,
    })
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "link_records: {e}\nusage: link_records --records N --out DIR [--seed S] [--persons P]"
            );
            return ExitCode::from(2);
        }
    };
    let cfg = SynthConfig {
        seed: args.seed,
        persons: args.persons.unwrap_or(args.records.div_ceil(2)),
        as_of: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap_or_default(),
    };
    match generate_link_records(&cfg, args.records, &args.out, &mut |_| {}) {
        Ok(s) => {
            println!(
                "{} records of {} persons ({:.3} records a person), {} twins, in {}",
                s.records,
                s.persons,
                s.records as f64 / s.persons.max(1) as f64,
                s.twins,
                args.out.display()
            );
            if s.records < args.records {
                eprintln!("link_records: the population ran out; raise --persons");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("link_records: {e}");
            ExitCode::FAILURE
        }
    }
}
