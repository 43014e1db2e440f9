//! Record linkage on files (`tsumugi link --input`, `link eval`, `link explain`, `link
//! blocking`, `bench link`): the probabilistic engine of `tsumugi_identity::linkage` over any
//! CSV a user brings, so anyone can evaluate it, and over the synthetic population with its
//! ground truth.
//!
//! Outputs carry record ids, weights, probabilities and cluster labels — never the
//! identifiers read from the input.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::SeedableRng;
use serde::Serialize;
use tsumugi_identity::linkage::{
    self, ClusterQuality, Decision, LinkRecord, LinkRun, Model, Table, TableConfig, TableRows,
};
pub use tsumugi_identity::linkage::{Evaluation, Explanation, RuleStats, StepTime};
use tsumugi_store::TextRow;

use crate::{Error, Result};

/// What to link.
#[derive(Debug, Clone)]
pub struct FileLink {
    /// Input CSV files (UTF-8, header row).
    pub inputs: Vec<PathBuf>,
    /// Link the inputs with each other only (no pairs within one input); otherwise their rows
    /// are deduplicated together.
    pub link_only: bool,
    /// `link.toml`; without it, columns are taken by their usual names.
    pub config: Option<PathBuf>,
    /// Where to write the scored pairs (`.csv`, else JSON lines), if anywhere.
    pub pairs_out: Option<PathBuf>,
    /// Where to write `record_id,cluster_id`, if anywhere.
    pub clusters_out: Option<PathBuf>,
    /// Seed of the u sample.
    pub seed: u64,
}

/// What a file linkage did.
#[derive(Debug, Clone, Serialize)]
pub struct FileLinkReport {
    /// Records read.
    pub records: u64,
    /// Candidate pairs compared.
    pub candidate_pairs: u64,
    /// Pairs linked.
    pub links: u64,
    /// Pairs in the clerical-review band.
    pub review: u64,
    /// Pairs above the review threshold that the twin guard kept apart.
    pub twin_guarded: u64,
    /// Cluster quality.
    pub quality: ClusterQuality,
    /// Per blocking rule.
    pub blocking: Vec<RuleStats>,
    /// The trained model.
    pub model: Model,
    /// Step timings, reading and preparing included.
    pub timings: Vec<StepTime>,
}

/// The folder of the configuration file, against which the files it names are read.
fn config_dir(opts: &FileLink) -> Option<&Path> {
    opts.config.as_deref().and_then(Path::parent)
}

fn read_config(path: Option<&Path>, first_input: &Path) -> Result<TableConfig> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(Error::io(p))?;
            TableConfig::parse(&text).map_err(|e| Error::InvalidMapping(e.to_string()))
        }
        None if is_parquet(first_input) => {
            let header = tsumugi_store::text_table_header(first_input)?;
            let names: Vec<&str> = header.iter().map(String::as_str).collect();
            Ok(TableConfig::by_header(&names))
        }
        None => {
            let f = File::open(first_input).map_err(Error::io(first_input))?;
            let mut csv = csv::Reader::from_reader(BufReader::new(f));
            let header = csv.headers().map_err(|e| Error::InvalidInput {
                file: first_input.display().to_string(),
                line: 1,
                reason: e.to_string(),
            })?;
            let names: Vec<&str> = header.iter().collect();
            Ok(TableConfig::by_header(&names))
        }
    }
}

/// Reads the inputs into one table.
fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "parquet")
}

/// Reads the inputs into one table: Parquet files (`.parquet`) column by column as text,
/// anything else as CSV.
fn read_inputs(inputs: &[PathBuf], cfg: &TableConfig) -> Result<Table> {
    let mut table = Table::default();
    for input in inputs {
        let name = input.file_stem().map_or_else(
            || input.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        let invalid = |e: linkage::TableError| Error::InvalidMapping(e.to_string());
        if is_parquet(input) {
            let mut rows: Option<TableRows<'_>> = None;
            let mut failed = None;
            tsumugi_store::read_text_rows(input, &mut |r| match r {
                TextRow::Header(header) => {
                    let names: Vec<&str> = header.iter().map(String::as_str).collect();
                    match TableRows::new(cfg, &name, &names) {
                        Ok(r) => rows = Some(r),
                        Err(e) => failed = Some(e),
                    }
                }
                TextRow::Row(row) => {
                    if let Some(r) = rows.as_mut() {
                        r.push(&|c| row.get(c).and_then(|v| v.as_deref()), &mut table);
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(invalid(e));
            }
            if let Some(r) = rows {
                r.finish(&mut table);
            }
        } else {
            let f = File::open(input).map_err(Error::io(input))?;
            linkage::read_csv(cfg, &name, BufReader::with_capacity(1 << 20, f), &mut table)
                .map_err(invalid)?;
        }
    }
    Ok(table)
}

/// The outcome of linking a table: the run (timings of reading and preparing included).
struct Linked {
    /// The ids of every row read (held-back rows included); the records are dropped once
    /// prepared.
    table: Table,
    prepared: linkage::Prepared,
    run: LinkRun,
    /// The last rows of the input, held back from the run (for an incremental run after).
    held_back: Vec<LinkRecord>,
}

/// Reads and links `inputs`, the last `hold_back` rows kept aside; a term-frequency table the
/// configuration names is read relative to `config_dir`.
fn run_on(
    inputs: &[PathBuf],
    cfg: &TableConfig,
    config_dir: Option<&Path>,
    seed: u64,
    hold_back: usize,
) -> Result<Linked> {
    let clock = Instant::now();
    let mut table = read_inputs(inputs, cfg)?;
    let read = clock.elapsed().as_secs_f64();
    let held_back = table
        .records
        .split_off(table.records.len().saturating_sub(hold_back));
    let clock = Instant::now();
    let prepared = linkage::prepare(&table.records);
    let prepare = clock.elapsed().as_secs_f64();
    // The engine works on the prepared columns only: free the raw identifiers early.
    let table = Table {
        ids: table.ids,
        records: Vec::new(),
        inputs: table.inputs,
    };
    let tf = match (&cfg.term_frequencies, config_dir) {
        (Some(name), dir) => {
            let path = dir.map_or_else(|| PathBuf::from(name), |d| d.join(name));
            let f = File::open(&path).map_err(Error::io(&path))?;
            Some(
                linkage::read_term_frequencies(&path.display().to_string(), BufReader::new(f))
                    .map_err(|e| Error::InvalidMapping(e.to_string()))?,
            )
        }
        (None, _) => None,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut run = linkage::link(&prepared, &cfg.link, tf.as_ref(), &mut rng)
        .map_err(|e| Error::InvalidMapping(e.to_string()))?;
    let mut timings = vec![
        StepTime {
            step: "read",
            seconds: read,
        },
        StepTime {
            step: "normalize",
            seconds: prepare,
        },
    ];
    timings.append(&mut run.timings);
    run.timings = timings;
    Ok(Linked {
        table,
        prepared,
        run,
        held_back,
    })
}

fn report(run: &LinkRun, records: usize) -> FileLinkReport {
    let count = |d: Decision| run.pairs.iter().filter(|p| p.decision == d).count() as u64;
    FileLinkReport {
        records: records as u64,
        candidate_pairs: run.candidate_pairs,
        links: count(Decision::Link),
        review: count(Decision::Review),
        twin_guarded: count(Decision::TwinGuard),
        quality: run.quality.clone(),
        blocking: run.blocking.clone(),
        model: run.model.clone(),
        timings: run.timings.clone(),
    }
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(Error::io(path))
}

/// Writes scored pairs by record id: Parquet (`.parquet`), CSV (`.csv`), else JSON lines.
fn write_pairs(path: &Path, pairs: &[linkage::ScoredPair], ids: &[String]) -> Result<()> {
    let decision = |d: Decision| match d {
        Decision::Link => "link",
        Decision::Review => "review",
        Decision::TwinGuard => "twin_guard",
    };
    if is_parquet(path) {
        use tsumugi_store::{Cell, ColumnKind};
        let mut w = tsumugi_store::TextTableWriter::create(
            path,
            &[
                ("record_a", ColumnKind::Text),
                ("record_b", ColumnKind::Text),
                ("match_weight", ColumnKind::Float),
                ("probability", ColumnKind::Float),
                ("decision", ColumnKind::Text),
            ],
        )?;
        for p in pairs {
            w.write(&[
                Cell::Text(&ids[p.a as usize]),
                Cell::Text(&ids[p.b as usize]),
                Cell::Float(p.weight),
                Cell::Float(p.probability),
                Cell::Text(decision(p.decision)),
            ])?;
        }
        return Ok(w.finish()?);
    }
    let mut w = create(path)?;
    let csv_out = path.extension().is_some_and(|e| e == "csv");
    if csv_out {
        writeln!(w, "record_a,record_b,match_weight,probability,decision")
            .map_err(Error::io(path))?;
    }
    for p in pairs {
        let (a, b, d) = (&ids[p.a as usize], &ids[p.b as usize], decision(p.decision));
        if csv_out {
            writeln!(w, "{a},{b},{:.4},{:.6},{d}", p.weight, p.probability)
        } else {
            writeln!(
                w,
                "{}",
                serde_json::json!({"record_a": a, "record_b": b, "match_weight": p.weight,
                    "probability": p.probability, "decision": d})
            )
        }
        .map_err(Error::io(path))?;
    }
    w.flush().map_err(Error::io(path))
}

/// Links the rows of `opts.inputs` (dedupe, or link-only across inputs) and writes the pairs
/// and clusters asked for.
///
/// # Errors
/// Unreadable inputs or configuration, unwritable outputs.
pub fn link_files(opts: &FileLink) -> Result<FileLinkReport> {
    let first = opts
        .inputs
        .first()
        .ok_or_else(|| Error::InvalidMapping("no --input given".to_owned()))?;
    let mut cfg = read_config(opts.config.as_deref(), first)?;
    cfg.link.link_only = opts.link_only;
    let linked = run_on(&opts.inputs, &cfg, config_dir(opts), opts.seed, 0)?;
    let ids = &linked.table.ids;
    if let Some(path) = &opts.pairs_out {
        write_pairs(path, &linked.run.pairs, ids)?;
    }
    if let Some(path) = &opts.clusters_out {
        let mut w = create(path)?;
        writeln!(w, "record_id,cluster_id").map_err(Error::io(path))?;
        for (id, c) in ids.iter().zip(&linked.run.cluster_of) {
            writeln!(w, "{id},{c}").map_err(Error::io(path))?;
        }
        w.flush().map_err(Error::io(path))?;
    }
    Ok(report(&linked.run, linked.table.ids.len()))
}

/// The match-weight breakdown of two records of the inputs, by their ids, under a model
/// trained on the inputs.
///
/// # Errors
/// As [`link_files`]; an id not in the inputs.
pub fn explain_pair(opts: &FileLink, a: &str, b: &str) -> Result<Explanation> {
    let first = opts
        .inputs
        .first()
        .ok_or_else(|| Error::InvalidMapping("no --input given".to_owned()))?;
    let cfg = read_config(opts.config.as_deref(), first)?;
    let linked = run_on(&opts.inputs, &cfg, config_dir(opts), opts.seed, 0)?;
    let index = |id: &str| {
        linked
            .table
            .ids
            .iter()
            .position(|x| x == id)
            .ok_or_else(|| Error::InvalidMapping(format!("record {id} is not in the inputs")))
    };
    let (ia, ib) = (index(a)?, index(b)?);
    Ok(linkage::explain(
        &linked.prepared,
        &linked.run.model,
        None,
        ia,
        ib,
    ))
}

/// One row of a clusters or truth file.
struct Labelled {
    id: String,
    label: String,
    /// Noise tags (truth files from the synthetic population).
    noise: Vec<String>,
    /// The twin's person id, or empty.
    twin_of: String,
}

/// Reads `record_id,<label>` rows from a CSV with a header naming `label_column`.
fn labels(path: &Path, label_column: &str) -> Result<Vec<Labelled>> {
    let f = File::open(path).map_err(Error::io(path))?;
    let mut csv = csv::Reader::from_reader(BufReader::with_capacity(1 << 20, f));
    let bad = |line: u64, reason: String| Error::InvalidInput {
        file: path.display().to_string(),
        line,
        reason,
    };
    let header = csv.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    let col = |name: &str| header.iter().position(|h| h == name);
    let id = col("record_id").ok_or_else(|| bad(1, "no record_id column".to_owned()))?;
    let label = col(label_column).ok_or_else(|| bad(1, format!("no {label_column} column")))?;
    let (noise, twin) = (col("noise"), col("twin_of"));
    let mut out = Vec::new();
    for (n, row) in csv.records().enumerate() {
        let row = row.map_err(|e| bad(n as u64 + 2, e.to_string()))?;
        let get = |c: Option<usize>| c.and_then(|c| row.get(c)).unwrap_or("").to_owned();
        out.push(Labelled {
            id: get(Some(id)),
            label: get(Some(label)),
            noise: get(noise)
                .split(';')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            twin_of: get(twin),
        });
    }
    Ok(out)
}

/// Compares `clusters` (`record_id,cluster_id`) with `truth` (`record_id,person_id`, optional
/// `noise` and `twin_of`) over the records both name.
///
/// # Errors
/// Unreadable or malformed files.
pub fn evaluate_files(clusters: &Path, truth: &Path) -> Result<Evaluation> {
    let found: HashMap<String, String> = labels(clusters, "cluster_id")?
        .into_iter()
        .map(|l| (l.id, l.label))
        .collect();
    let truth_rows = labels(truth, "person_id")?;
    let evaluation = evaluate_labels(&found, &truth_rows);
    if evaluation.records == 0 {
        return Err(Error::InvalidInput {
            file: truth.display().to_string(),
            line: 1,
            reason: format!(
                "names no record of {}: nothing to evaluate (wrong truth file?)",
                clusters.display()
            ),
        });
    }
    Ok(evaluation)
}

fn evaluate_labels(found: &HashMap<String, String>, truth: &[Labelled]) -> Evaluation {
    let mut f = Vec::new();
    let mut t = Vec::new();
    let mut tags = Vec::new();
    let mut twins = Vec::new();
    for l in truth {
        if let Some(c) = found.get(&l.id) {
            f.push(c.clone());
            t.push(l.label.clone());
            tags.push(l.noise.clone());
            if !l.twin_of.is_empty() && l.label < l.twin_of {
                twins.push((l.label.clone(), l.twin_of.clone()));
            }
        }
    }
    twins.sort();
    twins.dedup();
    linkage::evaluate(&f, &t, Some(&tags), &twins)
}

/// What `bench link` measured.
#[derive(Debug, Clone, Serialize)]
pub struct LinkBenchFigures {
    /// Records linked.
    pub records: u64,
    /// Wall time of the whole dedupe (read, normalize, block, compare, train, predict,
    /// cluster).
    pub seconds: f64,
    /// Per step.
    pub timings: Vec<StepTime>,
    /// Peak resident set of the process after the dedupe, where known.
    pub peak_rss_bytes: Option<u64>,
    /// The run's figures.
    pub report: FileLinkReport,
    /// Quality against the synthetic ground truth.
    pub evaluation: Evaluation,
    /// The incremental run after it, when records were held back.
    pub incremental: Option<IncrementalFigures>,
}

/// New records linked against the deduplicated population.
#[derive(Debug, Clone, Serialize)]
pub struct IncrementalFigures {
    /// Records already linked.
    pub existing: u64,
    /// New records.
    pub records: u64,
    /// Seconds to index the linked population (blocking keys); a running system keeps it.
    pub index_seconds: f64,
    /// Seconds to link the new records (normalize, block, score, cluster).
    pub seconds: f64,
    /// Per step.
    pub timings: Vec<StepTime>,
    /// Candidate pairs.
    pub candidate_pairs: u64,
    /// Existing persons merged by a new record.
    pub merges: u64,
    /// New records that became new persons.
    pub new_clusters: u64,
    /// Quality over every record after the run.
    pub evaluation: Evaluation,
}

/// The synthetic input of `bench link` in `dir`: `records.csv` and `truth.csv`, generated
/// when missing or shorter than `records` rows.
///
/// # Errors
/// Generation failures.
pub fn bench_link_input(dir: &Path, records: u64, seed: u64) -> Result<(PathBuf, PathBuf)> {
    let (input, truth) = (dir.join("records.csv"), dir.join("truth.csv"));
    let rows = |path: &Path| -> u64 {
        File::open(path).map_or(0, |f| {
            csv::Reader::from_reader(BufReader::with_capacity(1 << 20, f))
                .records()
                .count() as u64
        })
    };
    if !(truth.exists() && rows(&input) >= records) {
        // The population sizes the providers; about three records a person, so half as many
        // persons as records is enough for the generation to reach the count.
        let cfg = tsumugi_synth::SynthConfig {
            seed,
            persons: (records / 2).max(100),
            as_of: chrono::NaiveDate::from_ymd_opt(2025, 4, 1)
                .ok_or_else(|| Error::Internal("as_of date".to_owned()))?,
        };
        tsumugi_synth::generate_link_records(&cfg, records, dir, &mut |_| {})?;
    }
    Ok((input, truth))
}

/// Dedupes `input` end to end and evaluates against `truth`; with `incremental` > 0 the last
/// rows are held back and then linked incrementally against the rest.
///
/// # Errors
/// As [`link_files`] and [`evaluate_files`].
pub fn bench_link(
    input: &Path,
    truth: &Path,
    seed: u64,
    incremental: u64,
) -> Result<LinkBenchFigures> {
    let clock = Instant::now();
    let cfg = read_config(None, input)?;
    let linked = run_on(
        &[input.to_path_buf()],
        &cfg,
        None,
        seed,
        incremental as usize,
    )?;
    let seconds = clock.elapsed().as_secs_f64();
    let peak_rss_bytes = crate::bench::peak_rss_bytes();
    let ids = &linked.table.ids;
    let found = |labels: &[u32]| -> HashMap<String, String> {
        ids.iter()
            .zip(labels)
            .map(|(id, c)| (id.clone(), c.to_string()))
            .collect()
    };
    let truth = labels(truth, "person_id")?;
    let evaluation = evaluate_labels(&found(&linked.run.cluster_of), &truth);
    let n_linked = linked.run.cluster_of.len();
    let report = report(&linked.run, n_linked);
    let incremental = if linked.held_back.is_empty() {
        None
    } else {
        let clock = Instant::now();
        let mut index = linkage::LinkIndex::build(linked.prepared, &cfg.link, &linked.run)
            .map_err(|e| Error::InvalidMapping(e.to_string()))?;
        let index_seconds = clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let run = index.add(&linked.held_back);
        let add_seconds = clock.elapsed().as_secs_f64();
        Some(IncrementalFigures {
            existing: n_linked as u64,
            records: run.records,
            index_seconds,
            seconds: add_seconds,
            timings: run.timings,
            candidate_pairs: run.candidate_pairs,
            merges: run.merges.len() as u64,
            new_clusters: run.new_clusters,
            evaluation: evaluate_labels(&found(index.cluster_of()), &truth),
        })
    };
    Ok(LinkBenchFigures {
        records: n_linked as u64,
        seconds,
        timings: linked.run.timings,
        peak_rss_bytes,
        report,
        evaluation,
        incremental,
    })
}

/// What `link blocking` found.
#[derive(Debug, Clone, Serialize)]
pub struct BlockingReport {
    /// Records read.
    pub records: u64,
    /// True pairs in the truth file (over the records it names), when given.
    pub true_pairs: Option<u64>,
    /// Per rule, in order.
    pub rules: Vec<RuleStats>,
}

/// Runs the blocking rules alone over the inputs and, with `truth` (`record_id,person_id`),
/// counts the true pairs each finds.
///
/// # Errors
/// As [`link_files`]; a malformed truth file.
pub fn blocking_report(opts: &FileLink, truth: Option<&Path>) -> Result<BlockingReport> {
    let first = opts
        .inputs
        .first()
        .ok_or_else(|| Error::InvalidMapping("no --input given".to_owned()))?;
    let cfg = read_config(opts.config.as_deref(), first)?;
    let table = read_inputs(&opts.inputs, &cfg)?;
    let prepared = linkage::prepare(&table.records);
    let (labels_by_record, true_pairs) = match truth {
        None => (None, None),
        Some(path) => {
            let person: HashMap<String, String> = labels(path, "person_id")?
                .into_iter()
                .map(|l| (l.id, l.label))
                .collect();
            // Records the truth does not name get labels of their own.
            let mut dense: HashMap<&str, u32> = HashMap::new();
            let mut next = 0u32;
            let mut out = Vec::with_capacity(table.ids.len());
            for id in &table.ids {
                let label = match person.get(id) {
                    Some(p) => *dense.entry(p.as_str()).or_insert_with(|| {
                        next += 1;
                        next - 1
                    }),
                    None => {
                        next += 1;
                        next - 1
                    }
                };
                out.push(label);
            }
            let mut sizes: HashMap<u32, u64> = HashMap::new();
            for l in &out {
                *sizes.entry(*l).or_default() += 1;
            }
            let pairs = sizes.values().map(|n| n * n.saturating_sub(1) / 2).sum();
            (Some(out), Some(pairs))
        }
    };
    let rules = linkage::block(&prepared, &cfg.link, labels_by_record.as_deref())
        .map_err(|e| Error::InvalidMapping(e.to_string()))?;
    Ok(BlockingReport {
        records: table.records.len() as u64,
        true_pairs,
        rules,
    })
}
