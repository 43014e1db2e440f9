//! `tsumugi bench ingest`: generates each format's input, then parses it — and submits it end
//! to end — each in a child process of this same binary, so every peak RSS printed is that run's
//! alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use tsumugi_app::Format;
use tsumugi_app::bench::{self, EndToEndFigures, ParseFigures, Report, Row};

use crate::args::{BenchAnonArgs, BenchIngestArgs, BenchLinkArgs};
use crate::output;

fn formats(names: &str) -> Result<Vec<Format>> {
    if names == "all" {
        return Ok(bench::FORMATS.to_vec());
    }
    names
        .split(',')
        .map(|name| match Format::parse(name.trim()) {
            Some(f) if bench::GENERATED.contains(&f) => Ok(f),
            _ => bail!(
                "unknown bench format {name}; use all, fhir, ssmix2, uke, kenshin-zip, kenshin-xml, kaigo or csv"
            ),
        })
        .collect()
}

/// Runs `bench ingest --format F <args> INPUT` in a child process of this binary and reads the
/// figures it prints; `None` when the child cannot be started.
fn in_child<T: serde::de::DeserializeOwned>(
    format: Format,
    args: &[&std::ffi::OsStr],
    what: &str,
) -> Result<Option<T>> {
    let Ok(exe) = std::env::current_exe() else {
        return Ok(None);
    };
    let Ok(out) = Command::new(exe)
        .args(["bench", "ingest", "--format", format.as_str()])
        .args(args)
        .output()
    else {
        return Ok(None);
    };
    if !out.status.success() {
        bail!(
            "{what} {} in a child process failed: {}",
            format.as_str(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let figures = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("reading the child's {what} figures"))?;
    Ok(Some(figures))
}

/// Parses `input` in a child process; falls back to this process when the child cannot run.
fn parse_in_child(format: Format, input: &Path) -> Result<(ParseFigures, bool)> {
    let args = ["--parse-only".as_ref(), input.as_os_str()];
    match in_child(format, &args, "parsing")? {
        Some(f) => Ok((f, true)),
        None => Ok((bench::parse(format, input)?, false)),
    }
}

/// Submits `input` end to end in a child process; falls back to this process.
async fn end_to_end_in_child(
    format: Format,
    input: &Path,
    work: &Path,
) -> Result<(EndToEndFigures, bool)> {
    let args = [
        "--end-to-end-only".as_ref(),
        input.as_os_str(),
        "--work".as_ref(),
        work.as_os_str(),
    ];
    match in_child(format, &args, "end-to-end")? {
        Some(f) => Ok((f, true)),
        None => Ok((bench::end_to_end(format, input, work).await?, false)),
    }
}

/// Runs `tsumugi bench ingest`.
pub async fn ingest(a: &BenchIngestArgs) -> Result<()> {
    let selected = formats(&a.format)?;
    if let Some(input) = &a.parse_only {
        let [format] = selected[..] else {
            bail!("--parse-only needs one --format");
        };
        let figures = bench::parse(format, input)?;
        output::line(&serde_json::to_string(&figures)?);
        return Ok(());
    }
    if let Some(input) = &a.end_to_end_only {
        let ([format], Some(work)) = (&selected[..], &a.work) else {
            bail!("--end-to-end-only needs one --format and --work");
        };
        let figures = bench::end_to_end(*format, input, work).await?;
        // The data directory holds a copy of the input: remove it with the run.
        let _ = std::fs::remove_dir_all(work.join(format!("data-{}", format.as_str())));
        output::line(&serde_json::to_string(&figures)?);
        return Ok(());
    }
    let (work, remove) = match &a.work {
        Some(w) => (w.clone(), false),
        None => (
            std::env::temp_dir().join(format!("tsumugi-bench-{}", std::process::id())),
            true,
        ),
    };
    let result = run(a, &selected, &work).await;
    if remove {
        let _ = std::fs::remove_dir_all(&work);
    }
    let report = result?;
    if a.json {
        output::json(&report)?;
    } else {
        output::bench(&report);
    }
    Ok(())
}

async fn run(a: &BenchIngestArgs, selected: &[Format], work: &Path) -> Result<Report> {
    let mut rows = Vec::new();
    let mut e2e = Vec::new();
    let mut per_process = true;
    let mut e2e_per_process = true;
    let e2e_formats = if a.no_end_to_end {
        Vec::new()
    } else {
        formats(&a.end_to_end)?
    };
    for &format in selected {
        let dir: PathBuf = work.join(format.as_str());
        let generated = bench::generate(format, a.events, a.bytes, a.zip_deflate, &dir, a.seed)
            .with_context(|| format!("generating {} input", format.as_str()))?;
        let (figures, child) = parse_in_child(format, &generated.path)?;
        per_process &= child;
        rows.push(Row::of(format, figures));
        if e2e_formats.contains(&format) {
            let (figures, child) = end_to_end_in_child(format, &generated.path, work)
                .await
                .with_context(|| format!("end-to-end {}", format.as_str()))?;
            e2e_per_process &= child;
            e2e.push(figures);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Report {
        events_requested: a.events,
        bytes_requested: a.bytes,
        seed: a.seed,
        end_to_end_rss_per_process: e2e_per_process,
        rss_per_process: per_process,
        pass: rows.iter().all(|r| r.pass),
        formats: rows,
        end_to_end: e2e,
    })
}

/// Runs `tsumugi bench link`: generates the input (or reuses it), then links it in a child
/// process so that the peak RSS printed is the linkage's alone.
pub fn link(a: &BenchLinkArgs) -> Result<()> {
    let print = |dir: &Path| -> Result<()> {
        let (input, truth) = (dir.join("records.csv"), dir.join("truth.csv"));
        let figures = tsumugi_app::linkage::bench_link(&input, &truth, a.seed, a.incremental)?;
        if a.json {
            output::json(&figures)
        } else {
            output::bench_link(&figures);
            Ok(())
        }
    };
    if let Some(dir) = &a.run_only {
        return print(dir);
    }
    let work = a.work.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("tsumugi-bench-link-{}-{}", a.records, a.seed))
    });
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    tsumugi_app::linkage::bench_link_input(&work, a.records + a.incremental, a.seed)
        .context("generating the synthetic linkage input")?;
    let Ok(exe) = std::env::current_exe() else {
        return print(&work);
    };
    let mut child = Command::new(exe);
    child
        .args(["bench", "link", "--seed", &a.seed.to_string()])
        .args(["--incremental", &a.incremental.to_string(), "--run-only"])
        .arg(&work);
    if a.json {
        child.arg("--json");
    }
    match child.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => bail!("linking in a child process failed ({s})"),
        Err(_) => print(&work),
    }
}

/// Runs `tsumugi bench anon`: the adult table (30,162 rows, 9 quasi-identifiers, a lattice
/// of 12,960 nodes) and larger resamples of it, each anonymized by a child `tsumugi
/// anonymize` process (so the wall time is the whole process's and the peak RSS its own),
/// with k = 5, 2 % suppression and the Loss metric (the fixture's `anon.toml`), and then
/// recoded locally under the same policy (`anon-local.toml`).
pub fn anon(a: &BenchAnonArgs) -> Result<()> {
    let work = a
        .work
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("tsumugi-bench-anon-{}", a.seed)));
    let fixture = tsumugi_app::anonymize::adult_fixture();
    let mut tables = vec![fixture.join("adult.csv")];
    for &rows in &a.rows {
        tables.push(
            tsumugi_app::anonymize::bench_anon_input(&work, rows, a.seed)
                .context("writing the resampled adult table")?,
        );
    }
    let exe = std::env::current_exe().context("locating this executable")?;
    for table in &tables {
        let (run, wall) = anonymize_child(&exe, table, &fixture.join("anon.toml"), &work)?;
        let r = &run["report"];
        output::line(&format!(
            "匿名加工性能 / anonymize {}: {} rows, {} quasi-identifiers, lattice {} nodes ({} checked, {} rolled up, {} tagged by projections): search {:.3} s, whole process {:.3} s (read {:.3}, write {:.3}), peak RSS {:.0} MB; loss {}, {} suppressed, {} classes, optimum {}",
            table
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default(),
            r["rows"],
            r["generalization"].as_array().map_or(0, Vec::len),
            r["search"]["lattice_size"],
            r["search"]["nodes_checked"],
            r["search"]["rolled_up"],
            r["search"]["nodes_tagged"],
            run["steps"]["search"].as_f64().unwrap_or_default(),
            wall,
            run["steps"]["read"].as_f64().unwrap_or_default(),
            run["steps"]["write"].as_f64().unwrap_or_default(),
            run["peak_rss_bytes"].as_f64().unwrap_or_default() / 1e6,
            r["loss"]["value"],
            r["suppressed_rows"],
            r["classes"],
            r["generalization"]
                .as_array()
                .map(|g| g
                    .iter()
                    .map(|x| x[1].to_string())
                    .collect::<Vec<_>>()
                    .join(" "))
                .unwrap_or_default(),
        ));
        anon_local(&exe, table, &fixture.join("anon-local.toml"), &work)?;
    }
    if a.lifecourse_persons > 0 {
        let b = tsumugi_app::anonymize::bench_lifecourse(&work, a.lifecourse_persons, a.seed)
            .context("the lifecourse release benchmark")?;
        let r = &b.report;
        let levels: Vec<String> = r
            .quasi_identifiers
            .iter()
            .map(|q| format!("{} {}/{}", q.name, q.level, q.max_level))
            .collect();
        output::line(&format!(
            "匿名加工性能 / lifecourse release: {} persons, {} events (store built in {:.1} s): release {:.2} s, peak RSS {:.0} MB; {} persons released, {} suppressed, {} classes (smallest {}), highest risk {:.1}% → {:.1}%, {} events released, {} removed as peculiar; {}",
            b.persons,
            b.events,
            b.build_seconds,
            b.release_seconds,
            b.peak_rss_bytes.unwrap_or_default() as f64 / 1e6,
            r.persons_released,
            r.persons_suppressed,
            r.classes,
            r.min_class,
            r.risk_before.highest_prosecutor_risk * 100.0,
            r.risk_after.highest_prosecutor_risk * 100.0,
            r.events_released,
            r.events_removed_peculiar,
            levels.join(", "),
        ));
    }
    Ok(())
}

/// Runs `tsumugi anonymize --json` on `table` under `config` in a child process (so the wall
/// time is the whole process's and the peak RSS its own); its JSON and wall seconds.
fn anonymize_child(
    exe: &Path,
    table: &Path,
    config: &Path,
    work: &Path,
) -> Result<(serde_json::Value, f64)> {
    let out = work.join("release");
    let _ = std::fs::remove_dir_all(&out);
    let clock = std::time::Instant::now();
    let child = Command::new(exe)
        .arg("anonymize")
        .arg("--input")
        .arg(table)
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .output()
        .context("running tsumugi anonymize")?;
    let wall = clock.elapsed().as_secs_f64();
    if !child.status.success() {
        bail!(
            "tsumugi anonymize failed ({}): {}",
            config.display(),
            String::from_utf8_lossy(&child.stderr)
        );
    }
    let run = serde_json::from_slice(&child.stdout).context("reading the child's report")?;
    Ok((run, wall))
}

/// One local-recoding run of `tsumugi bench anon`: the same table and policy, each class at
/// its own levels (`anon-local.toml`), in a child process like the global runs.
fn anon_local(exe: &Path, table: &Path, config: &Path, work: &Path) -> Result<()> {
    let (run, wall) = anonymize_child(exe, table, config, work)?;
    let r = &run["report"];
    output::line(&format!(
        "匿名加工性能 / anonymize {} local: {} rows, {} distinct tuples, {} splits: recoding {:.3} s, whole process {:.3} s (read {:.3}, write {:.3}), peak RSS {:.0} MB; loss {}, {} suppressed, {} classes",
        table
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default(),
        r["rows"],
        r["local"]["distinct_tuples"],
        r["local"]["splits"],
        run["steps"]["search"].as_f64().unwrap_or_default(),
        wall,
        run["steps"]["read"].as_f64().unwrap_or_default(),
        run["steps"]["write"].as_f64().unwrap_or_default(),
        run["peak_rss_bytes"].as_f64().unwrap_or_default() / 1e6,
        r["loss"]["value"],
        r["suppressed_rows"],
        r["classes"],
    ));
    Ok(())
}
