//! `tsumugi bench ingest`: generates each format's input, then parses it in a child process of
//! this same binary, so the peak RSS printed is that format's alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use tsumugi_app::Format;
use tsumugi_app::bench::{self, ParseFigures, Report, Row};

use crate::args::BenchIngestArgs;
use crate::output;

fn formats(name: &str) -> Result<Vec<Format>> {
    if name == "all" {
        return Ok(bench::FORMATS.to_vec());
    }
    match Format::parse(name) {
        Some(f) if bench::FORMATS.contains(&f) => Ok(vec![f]),
        _ => bail!(
            "unknown bench format {name}; use all, fhir, ssmix2, uke, kenshin-xml, kaigo or csv"
        ),
    }
}

/// Parses `input` in a child process; falls back to this process when the child cannot run.
fn parse_in_child(format: Format, input: &Path) -> Result<(ParseFigures, bool)> {
    let exe = std::env::current_exe().ok();
    if let Some(exe) = exe {
        let out = Command::new(exe)
            .args([
                "bench",
                "ingest",
                "--format",
                format.as_str(),
                "--parse-only",
            ])
            .arg(input)
            .output();
        if let Ok(out) = out {
            if out.status.success() {
                let figures: ParseFigures = serde_json::from_slice(&out.stdout)
                    .context("reading the child's parse figures")?;
                return Ok((figures, true));
            }
            bail!(
                "parsing {} in a child process failed: {}",
                format.as_str(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Ok((bench::parse(format, input)?, false))
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
    for &format in selected {
        let dir: PathBuf = work.join(format.as_str());
        let generated = bench::generate(format, a.events, &dir, a.seed)
            .with_context(|| format!("generating {} input", format.as_str()))?;
        let (figures, child) = parse_in_child(format, &generated.path)?;
        per_process &= child;
        rows.push(Row::of(format, figures));
        if !a.no_end_to_end && matches!(format, Format::Fhir | Format::Uke) {
            e2e.push(
                bench::end_to_end(format, &generated.path, work)
                    .await
                    .with_context(|| format!("end-to-end {}", format.as_str()))?,
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Report {
        events_requested: a.events,
        seed: a.seed,
        rss_per_process: per_process,
        pass: rows.iter().all(|r| r.pass),
        formats: rows,
        end_to_end: e2e,
    })
}
