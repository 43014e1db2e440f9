//! Anonymizing any table (`tsumugi anonymize`) and the anonymization benchmark's input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tsumugi_anon::{AnonymizeReport, StepSeconds};

use crate::{Error, Result};

/// One `anonymize` run: the report, with the time and memory it took.
#[derive(Debug, Clone, Serialize)]
pub struct AnonymizeRun {
    /// What was released and how.
    pub report: AnonymizeReport,
    /// Wall time of the run in this process, seconds.
    pub seconds: f64,
    /// The same, per step.
    pub steps: StepSeconds,
    /// Peak resident set of this process, bytes, where known.
    pub peak_rss_bytes: Option<u64>,
}

/// Anonymizes `input` under `config` into the new folder `out`.
///
/// # Errors
/// As [`tsumugi_anon::anonymize_file`].
pub fn anonymize(input: &Path, config: &Path, out: &Path) -> Result<AnonymizeRun> {
    let clock = Instant::now();
    let (report, steps) = tsumugi_anon::anonymize_file(input, config, out)?;
    Ok(AnonymizeRun {
        report,
        steps,
        seconds: clock.elapsed().as_secs_f64(),
        peak_rss_bytes: crate::bench::peak_rss_bytes(),
    })
}

/// The ARX adult benchmark (table, hierarchies, `anon.toml`) shipped with the sources.
pub fn adult_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tsumugi-anon/tests/fixtures/arx-adult")
}

/// Writes `adult-{rows}.csv` into `dir`: `rows` rows drawn with replacement from the adult
/// table, one in five with its age replaced by a uniform draw from 17–90 so that the large
/// table keeps rare combinations (`seed` fixes the draws), beside a copy of its hierarchies and `anon.toml`, and
/// returns the table's path. An existing table is reused.
///
/// # Errors
/// [`Error::Io`] when the fixture cannot be read or `dir` written.
pub fn bench_anon_input(dir: &Path, rows: u64, seed: u64) -> Result<PathBuf> {
    let fixture = adult_fixture();
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    for entry in std::fs::read_dir(&fixture).map_err(Error::io(&fixture))? {
        let path = entry.map_err(Error::io(&fixture))?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("adult_hierarchy_") || name == "anon.toml" {
            std::fs::copy(&path, dir.join(name)).map_err(Error::io(&path))?;
        }
    }
    let out = dir.join(format!("adult-{rows}.csv"));
    if out.exists() {
        return Ok(out);
    }
    let source = fixture.join("adult.csv");
    let text = std::fs::read_to_string(&source).map_err(Error::io(&source))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let body: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let partial = out.with_extension("partial");
    let file = std::fs::File::create(&partial).map_err(Error::io(&partial))?;
    let mut w = std::io::BufWriter::new(file);
    let mut rng = StdRng::seed_from_u64(seed);
    writeln!(w, "{header}").map_err(Error::io(&partial))?;
    for _ in 0..rows {
        let line = body[rng.random_range(0..body.len())];
        if rng.random_bool(0.2) {
            // Columns: sex;age;…
            let (sex, rest) = line.split_once(';').unwrap_or((line, ""));
            let (_, rest) = rest.split_once(';').unwrap_or((rest, ""));
            let age: u32 = rng.random_range(17..=90);
            writeln!(w, "{sex};{age};{rest}").map_err(Error::io(&partial))?;
        } else {
            writeln!(w, "{line}").map_err(Error::io(&partial))?;
        }
    }
    w.flush().map_err(Error::io(&partial))?;
    drop(w);
    std::fs::rename(&partial, &out).map_err(Error::io(&out))?;
    Ok(out)
}
