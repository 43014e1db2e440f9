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

/// What `tsumugi bench anon` measures of a lifecourse release.
#[derive(Debug, Clone, Serialize)]
pub struct LifecourseBench {
    /// Persons in the research store.
    pub persons: u64,
    /// Events in it.
    pub events: u64,
    /// Seconds to generate and write the store (0 when reused).
    pub build_seconds: f64,
    /// Seconds of `write_lifecourse_release`.
    pub release_seconds: f64,
    /// Peak resident set of this process, bytes, where known.
    pub peak_rss_bytes: Option<u64>,
    /// The release's report.
    pub report: tsumugi_anon::LifecourseReport,
}

/// Builds (or reuses) under `dir` an encrypted research store of `persons` synthetic
/// lifecourses (`tsumugi_synth::generate_lifecourses`, seeded) and times the sample study's
/// anonymized release of it (k = 5, 5 % suppression, month dates, year of first E11).
///
/// # Errors
/// Synthesis, store and anonymization errors.
pub fn bench_lifecourse(dir: &Path, persons: u64, seed: u64) -> Result<LifecourseBench> {
    use tsumugi_store::{FileKeyProvider, PersonRow, ResearchStore};
    let root = dir.join(format!("lifecourse-{persons}-{seed}"));
    let keys_dir = root.join("keys");
    let clock = Instant::now();
    let reuse = root.join("complete").exists();
    if !reuse {
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(Error::io(&root))?;
        let mut rng = StdRng::seed_from_u64(seed);
        FileKeyProvider::create(&keys_dir, &mut rng)?;
    }
    let keys = FileKeyProvider::open(&keys_dir);
    let store = ResearchStore::open(&root.join("research"), &keys)?;
    let mut n_events = 0u64;
    if !reuse {
        let mut build = store.begin_lifecourse()?;
        let mut writer = build.next_event_writer()?;
        let mut rows: Vec<PersonRow> = Vec::new();
        let cfg = tsumugi_synth::SynthConfig {
            seed,
            persons,
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default(),
        };
        let mut store_err = None;
        tsumugi_synth::generate_lifecourses(&cfg, &mut |p| {
            let key = p.ordinal as i64;
            for e in &p.events {
                if let Err(e) = writer.push(key, e) {
                    store_err.get_or_insert(e);
                }
                n_events += 1;
            }
            rows.push(PersonRow {
                person_key: key,
                sex: p.sex,
                birth_month: p.birth_month,
                municipality_code: (!p.municipality_code.is_empty()).then_some(p.municipality_code),
                deceased_on: p.deceased_on,
            });
            Ok(())
        })?;
        if let Some(e) = store_err {
            return Err(e.into());
        }
        writer.finish()?;
        build.write_persons(&rows)?;
        build.commit()?;
        std::fs::write(root.join("complete"), n_events.to_string()).map_err(Error::io(&root))?;
    } else {
        let done = root.join("complete");
        n_events = std::fs::read_to_string(&done)
            .map_err(Error::io(&done))?
            .trim()
            .parse()
            .unwrap_or_default();
    }
    let build_seconds = if reuse {
        0.0
    } else {
        clock.elapsed().as_secs_f64()
    };
    let releases = root.join("releases");
    let _ = std::fs::remove_dir_all(&releases);
    let request = crate::release::ReleaseRequest::sample("APP-BENCH", "bench", Some(seed));
    let cfg = tsumugi_anon::LifecourseConfig {
        release_id: "REL-BENCH".to_owned(),
        approval: tsumugi_anon::ApprovalRef {
            application_id: "APP-BENCH".to_owned(),
            kind: "anonymized".to_owned(),
            decided_at: "2026-11-25T00:00:00Z".to_owned(),
            conditions: Vec::new(),
        },
        optout_version: 0,
        reference_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default(),
        measures: tsumugi_anon::Measures::Anonymized {
            k: request.k,
            suppression_limit: request.max_suppression,
            metric: tsumugi_anon::Metric::default(),
            dates: request.dates,
            first_year_of: request.first_year_of,
        },
        bom: false,
    };
    let key = tsumugi_anon::derive_release_key(seed, &cfg.release_id);
    let clock = Instant::now();
    let release = tsumugi_anon::write_lifecourse_release(
        &store,
        &std::collections::BTreeSet::new(),
        &cfg,
        &key,
        &releases,
    )?;
    let release_seconds = clock.elapsed().as_secs_f64();
    let report = release.report;
    Ok(LifecourseBench {
        persons: report.persons_in_store,
        events: n_events,
        build_seconds,
        release_seconds,
        peak_rss_bytes: crate::bench::peak_rss_bytes(),
        report,
    })
}
