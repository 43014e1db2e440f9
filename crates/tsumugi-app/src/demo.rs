//! `tsumugi demo`: the whole path on a synthetic population, timed step by step.
//!
//! generate → init → providers and notice logs → early stop requests → ingest (plus a duplicate
//! and a corrupt submission) → link → re-match stop requests → build the research store →
//! release → statistics → late stop requests (purge, rebuild, second release) → audit verify →
//! linkage quality against the synthetic ground truth.
//!
//! The synthetic providers send every format tsumugi reads (FHIR, SS-MIX2, UKE, 特定健診 ZIPs,
//! 介護 CSV and four municipal mapped-CSV exports); the report counts submissions, records,
//! acceptances and rejections per format ([`FormatTotals`]) so one sees every reader at work.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tsumugi_identity::{LinkQuality, LinkSummary};
use tsumugi_model::ProviderId;

use crate::context::{DataDir, DatabaseUrls, OpenOptions};
use crate::ingest::{ReadAs, SubmitReport, read_csv};
use crate::optout::{OptOutReport, ReceivedWindow};
use crate::release::{ReleaseOutcome, ReleaseRequest, SAMPLE_APPLICATION_ID};
use crate::research::BuildReport;
use crate::statistics::StatsOutcome;
use crate::{AuditStatus, Ctx, Error, Format, ManualClock, Result};

/// Reports long work to the person watching (the CLI draws progress bars).
pub trait Progress: Sync {
    /// A step with `total` units of work begins.
    fn begin(&self, label: &str, total: u64);
    /// `n` more units are done.
    fn inc(&self, n: u64);
    /// The step is over.
    fn end(&self);
}

/// Progress that is not shown (tests, servers).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&self, _: &str, _: u64) {}
    fn inc(&self, _: u64) {}
    fn end(&self) {}
}

/// Settings of a demo run.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The data directory to create (a previous demo directory there is replaced).
    pub data_dir: PathBuf,
    /// Where the synthetic provider files and ground truth go (outside the data directory).
    pub synth_dir: PathBuf,
    /// Persons to generate.
    pub persons: u64,
    /// Seed of the synthetic population and of the run's randomness.
    pub seed: u64,
    /// Database URLs (embedded SQLite by default).
    pub urls: DatabaseUrls,
    /// "Today" at the start of the run.
    pub start: DateTime<Utc>,
}

/// Time and outcome of one step.
#[derive(Debug, Clone, Serialize)]
pub struct StepTiming {
    /// Step name.
    pub step: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// One-line outcome.
    pub detail: String,
}

/// Everything the demo did.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// Steps in order.
    pub steps: Vec<StepTiming>,
    /// Persons generated.
    pub n_persons_generated: u64,
    /// Submissions processed (excluding the duplicate).
    pub n_submissions: u64,
    /// Records read from all submissions.
    pub n_records: u64,
    /// Records rejected, with a report.
    pub n_rejected: u64,
    /// Records refused at ingest because of a stop request in force.
    pub n_refused_optout: u64,
    /// Submissions per format read as (mapped CSV by mapping), sorted by label; the deliberately
    /// corrupt copy has a row of its own.
    pub per_format: Vec<FormatTotals>,
    /// The duplicate submission was recognised and ignored.
    pub duplicate_ignored: bool,
    /// Where the rejection report of the corrupt submission is.
    pub rejection_report: Option<String>,
    /// Linkage.
    pub link: LinkSummaryView,
    /// Linkage quality against the ground truth.
    pub link_quality: LinkQualityView,
    /// Share of requesting persons (with records) of whom no record is left in the vault.
    pub optout_recall: f64,
    /// Requesting persons (synthetic ids) of whom records are left.
    pub optout_missed: Vec<String>,
    /// Persons who asked nothing but lost records (wrongly matched requests, or rejections).
    pub optout_collateral: u64,
    /// Stop requests before ingest.
    pub optout_early: OptOutReport,
    /// Stop requests re-matched after linkage.
    pub optout_rematch: OptOutReport,
    /// Stop requests arriving after ingest.
    pub optout_late: OptOutReport,
    /// First research-store build.
    pub build: BuildReport,
    /// Rebuild after the late stop requests.
    pub rebuild: BuildReport,
    /// First release.
    pub release: ReleaseOutcome,
    /// Release after the late stop requests.
    pub release_after_optout: ReleaseOutcome,
    /// Statistics result.
    pub statistics: StatsOutcome,
    /// Audit verification.
    pub audit: AuditStatus,
    /// Data directory.
    pub data_dir: String,
    /// Synthetic files and ground truth.
    pub synth_dir: String,
}

/// What the submissions of one format came to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FormatTotals {
    /// `Format::as_str` (`fhir`, `ssmix2`, `uke`, `kenshin-zip`, `kaigo`, `csv:<mapping>` …).
    pub format: String,
    /// Submissions processed.
    pub n_submissions: u64,
    /// Records read.
    pub n_records: u64,
    /// Records stored.
    pub n_accepted: u64,
    /// Records rejected.
    pub n_rejected: u64,
    /// Records refused because of a stop request in force.
    pub n_refused_optout: u64,
    /// Events stored.
    pub n_events: u64,
}

impl FormatTotals {
    fn add(&mut self, r: &SubmitReport) {
        self.n_submissions += 1;
        self.n_records += r.n_records;
        self.n_accepted += r.n_accepted;
        self.n_rejected += r.n_rejected;
        self.n_refused_optout += r.n_opted_out;
        self.n_events += r.n_events;
    }
}

/// The label a submission is counted under: its format, and the mapping's file stem for mapped
/// CSV.
fn format_label(sub: &Submission) -> Result<String> {
    let format = sub.read_as.resolve(&sub.path)?;
    Ok(match (&format, &sub.read_as.mapping) {
        (Format::MappedCsv, Some(m)) => format!(
            "{}:{}",
            format.as_str(),
            m.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        _ => format.as_str().to_owned(),
    })
}

/// Linkage counts for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkSummaryView {
    /// Records linked.
    pub n_records: u64,
    /// Persons found.
    pub n_persons: u64,
    /// Candidate pairs the probabilistic engine compared.
    pub n_candidate_pairs: u64,
    /// Pairs left for clerical review.
    pub n_review: u64,
}

/// Linkage quality for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkQualityView {
    /// Pairwise precision.
    pub precision: f64,
    /// Pairwise recall.
    pub recall: f64,
    /// Pairwise F1.
    pub f1: f64,
    /// True persons among evaluated records.
    pub n_true_persons: u64,
    /// Persons found among evaluated records.
    pub n_found_persons: u64,
}

impl From<&LinkSummary> for LinkSummaryView {
    fn from(s: &LinkSummary) -> Self {
        LinkSummaryView {
            n_records: s.n_records,
            n_persons: s.n_persons,
            n_candidate_pairs: s.n_candidate_pairs,
            n_review: s.n_review,
        }
    }
}

impl From<&LinkQuality> for LinkQualityView {
    fn from(q: &LinkQuality) -> Self {
        LinkQualityView {
            precision: q.precision,
            recall: q.recall,
            f1: q.f1,
            n_true_persons: q.n_true_persons,
            n_found_persons: q.n_found_persons,
        }
    }
}

/// Sums of the submissions' reports.
#[derive(Default)]
struct IngestTotals {
    n_records: u64,
    n_accepted: u64,
    n_rejected: u64,
    n_opted_out: u64,
    n_events: u64,
}

impl IngestTotals {
    fn add(&mut self, r: &SubmitReport) {
        self.n_records += r.n_records;
        self.n_accepted += r.n_accepted;
        self.n_rejected += r.n_rejected;
        self.n_opted_out += r.n_opted_out;
        self.n_events += r.n_events;
    }
}

struct Timer {
    steps: Vec<StepTiming>,
    at: Instant,
}

impl Timer {
    fn lap(&mut self, step: &str, detail: String) {
        let now = Instant::now();
        self.steps.push(StepTiming {
            step: step.to_owned(),
            seconds: (now - self.at).as_secs_f64(),
            detail,
        });
        self.at = now;
    }
}

/// Runs the demo.
///
/// # Errors
/// Any use case's error; [`Error::DataDirExists`] when the data directory holds something that a
/// demo did not create.
pub async fn run(cfg: &DemoConfig, progress: &dyn Progress) -> Result<DemoReport> {
    let mut t = Timer {
        steps: Vec::new(),
        at: Instant::now(),
    };
    let as_of = cfg.start.date_naive();

    // 1. Generate.
    prepare_dirs(cfg)?;
    let synth = generate_population(&cfg.synth_dir, cfg.persons, cfg.seed, as_of, progress)?;
    t.lap(
        "generate",
        format!(
            "{} persons, {} records, {} events",
            synth.persons, synth.records, synth.events
        ),
    );

    // 2. Init and register providers, notice logs.
    let clock = Arc::new(ManualClock::new(cfg.start));
    let ctx = crate::context::init(
        &cfg.data_dir,
        true,
        OpenOptions {
            urls: cfg.urls.clone(),
            clock: clock.clone(),
            seed: Some(cfg.seed),
            actor: "operator:demo".to_owned(),
        },
    )
    .await?;
    let n_providers =
        crate::ingest::register_providers_csv(&ctx, &cfg.synth_dir.join("providers.csv")).await?;
    let mut n_notices = 0;
    for (provider, path) in per_provider_files(&cfg.synth_dir.join("notices"), "csv")? {
        n_notices += crate::ingest::import_notices(&ctx, &provider, &path).await?;
    }
    t.lap(
        "init + providers + notices",
        format!("{n_providers} providers, {n_notices} notice entries"),
    );

    // 3. Stop requests received before ingestion.
    let requests_csv = cfg.synth_dir.join("stop_requests.csv");
    let early = crate::optout::read_stop_requests(
        &requests_csv,
        ReceivedWindow {
            after: None,
            until: Some(as_of),
        },
    )?;
    let optout_early = crate::optout::register_stop_requests(&ctx, &early).await?;
    t.lap(
        "stop requests (before ingest)",
        format!("{} registered", optout_early.n_registered),
    );

    // 4. Ingest every submission, then the first again (a duplicate) and a corrupt one.
    let files = submissions(&cfg.synth_dir)?;
    progress.begin("ingest 取込", files.len() as u64);
    let mut totals = IngestTotals::default();
    let mut per_format: std::collections::BTreeMap<String, FormatTotals> =
        std::collections::BTreeMap::new();
    for sub in &files {
        let r = crate::ingest::submit(&ctx, &sub.provider, &sub.path, &sub.read_as).await?;
        totals.add(&r);
        let label = format_label(sub)?;
        per_format
            .entry(label.clone())
            .or_insert_with(|| FormatTotals {
                format: label,
                ..FormatTotals::default()
            })
            .add(&r);
        progress.inc(1);
    }
    progress.end();
    let mut duplicate_ignored = false;
    let mut rejection_report = None;
    // The largest FHIR file: its corrupt copy then holds good records beside the bad ones.
    let largest = files
        .iter()
        .filter(|s| s.path.extension().is_some_and(|e| e == "ndjson"))
        .map(|s| (&s.provider, &s.path))
        .max_by_key(|(_, p)| fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    if let Some((provider, path)) = largest {
        duplicate_ignored =
            crate::ingest::submit(&ctx, provider, path, &crate::ingest::ReadAs::AUTO)
                .await?
                .duplicate;
        let bad = corrupt_copy(path, &cfg.synth_dir.join("corrupt"))?;
        let r = crate::ingest::submit(&ctx, provider, &bad, &crate::ingest::ReadAs::AUTO).await?;
        totals.add(&r);
        let label = "fhir (corrupt copy)".to_owned();
        per_format
            .entry(label.clone())
            .or_insert_with(|| FormatTotals {
                format: label,
                ..FormatTotals::default()
            })
            .add(&r);
        rejection_report = r.rejection_report.map(|p| p.display().to_string());
    }
    t.lap(
        "ingest",
        format!(
            "{} files, {} records, {} accepted, {} rejected, {} refused (opt-out), {} events",
            files.len() + 1,
            totals.n_records,
            totals.n_accepted,
            totals.n_rejected,
            totals.n_opted_out,
            totals.n_events
        ),
    );

    // 5. Link, then match open stop requests again.
    let link = crate::research::link(&ctx).await?;
    let optout_rematch = crate::optout::rematch(&ctx).await?;
    t.lap(
        "link + opt-out matching",
        format!(
            "{} records → {} persons; {} persons purged",
            link.n_records, link.n_persons, optout_rematch.n_persons_purged
        ),
    );

    // 6. Build the research store.
    let build = crate::research::build(&ctx).await?;
    t.lap(
        "build research store",
        format!(
            "{} persons, {} events; held: {} no notice, {} waiting",
            build.n_persons, build.n_events, build.n_held_no_notice, build.n_held_waiting
        ),
    );

    // 7. Release for the sample application.
    crate::release::ensure_sample_application(&ctx).await?;
    let req = ReleaseRequest::sample(SAMPLE_APPLICATION_ID, "sample university", Some(cfg.seed));
    let release = crate::release::create_release(&ctx, &req).await?;
    t.lap(
        "anonymized release",
        format!(
            "{}: {} persons, {} events, smallest class {}; highest risk {:.1}% → {:.1}%",
            release.release_id,
            release.n_persons,
            release.n_events,
            release.min_class,
            release.report.risk_before.highest_prosecutor_risk * 100.0,
            release.report.risk_after.highest_prosecutor_risk * 100.0
        ),
    );

    // 8. Statistics.
    let statistics =
        crate::statistics::diagnosis_by_prefecture_and_age(&ctx, SAMPLE_APPLICATION_ID, "E11")
            .await?;
    t.lap(
        "statistics",
        format!(
            "{} cells, {} primary + {} secondary suppressed",
            statistics.n_cells, statistics.n_primary, statistics.n_secondary
        ),
    );

    // 9. Late stop requests: two months later.
    clock.set(cfg.start + Duration::days(61));
    let late = crate::optout::read_stop_requests(
        &requests_csv,
        ReceivedWindow {
            after: Some(as_of),
            until: None,
        },
    )?;
    let optout_late = crate::optout::register_stop_requests(&ctx, &late).await?;
    let rebuild = crate::research::build(&ctx).await?;
    let release_after_optout = crate::release::create_release(&ctx, &req).await?;
    t.lap(
        "late stop requests + rebuild + release",
        format!(
            "{} registered, {} persons purged; {} persons released",
            optout_late.n_registered, optout_late.n_persons_purged, release_after_optout.n_persons
        ),
    );

    // 10. Audit.
    crate::audit::checkpoint(&ctx).await?;
    let audit = crate::audit::verify(&ctx).await?;
    t.lap(
        "audit verify",
        format!(
            "{} entries, {} checkpoints, {}",
            audit.n_entries,
            audit.n_checkpoints,
            if audit.first_bad.is_none() {
                "intact"
            } else {
                "BROKEN"
            }
        ),
    );

    // 11. Linkage quality against the ground truth (synthetic data only).
    let truth = read_truth(&cfg.synth_dir.join("truth").join("records.csv"))?;
    let quality = ctx.vault.evaluate_links(&truth).await?;
    t.lap(
        "linkage quality",
        format!(
            "pairwise precision {:.4}, recall {:.4}, F1 {:.4}",
            quality.precision, quality.recall, quality.f1
        ),
    );
    // 12. Did every stop request reach its person? (No record of a requesting person left.)
    let requested: Vec<String> = read_csv(&cfg.synth_dir.join("truth").join("stop_requests.csv"))?
        .into_iter()
        .filter_map(|(_, row)| row.get("person_id").cloned())
        .collect();
    let optout_reach = ctx.vault.evaluate_stop_requests(&requested, &truth).await?;
    t.lap(
        "opt-out reach",
        format!(
            "{} of {} requesting persons have no record left (recall {:.4}); {} other persons lost records",
            optout_reach.n_reached, optout_reach.n_requests, optout_reach.recall, optout_reach.n_collateral
        ),
    );
    ctx.close().await;

    Ok(DemoReport {
        steps: t.steps,
        n_persons_generated: synth.persons,
        n_submissions: files.len() as u64 + 1,
        n_records: totals.n_records,
        n_rejected: totals.n_rejected,
        n_refused_optout: totals.n_opted_out,
        per_format: per_format.into_values().collect(),
        duplicate_ignored,
        rejection_report,
        link: (&link).into(),
        link_quality: (&quality).into(),
        optout_recall: optout_reach.recall,
        optout_missed: optout_reach.missed,
        optout_collateral: optout_reach.n_collateral,
        optout_early,
        optout_rematch,
        optout_late,
        build,
        rebuild,
        release,
        release_after_optout,
        statistics,
        audit,
        data_dir: cfg.data_dir.display().to_string(),
        synth_dir: cfg.synth_dir.display().to_string(),
    })
}

/// What a synthetic population run wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PopulationSummary {
    /// Persons generated.
    pub persons: u64,
    /// Provider records (FHIR Bundles) written.
    pub records: u64,
    /// Events in them.
    pub events: u64,
    /// Providers.
    pub providers: u64,
    /// Stop requests.
    pub stop_requests: u64,
    /// Twins among the persons.
    pub twins: u64,
}

/// Generates a synthetic population into `out` (provider files, notice logs, stop requests, and
/// ground truth under `truth/`), deterministic by `seed`, streamed person by person.
///
/// # Errors
/// Generator errors (invalid settings, I/O).
pub fn generate_population(
    out: &Path,
    persons: u64,
    seed: u64,
    as_of: chrono::NaiveDate,
    progress: &dyn Progress,
) -> Result<PopulationSummary> {
    progress.begin("generate 生成", persons);
    let mut shown = 0;
    let s = tsumugi_synth::generate(
        &tsumugi_synth::SynthConfig {
            seed,
            persons,
            as_of,
        },
        out,
        &mut |done| {
            progress.inc(done.saturating_sub(shown));
            shown = done.max(shown);
        },
    );
    progress.end();
    let s = s?;
    Ok(PopulationSummary {
        persons: s.persons,
        records: s.records,
        events: s.events,
        providers: s.providers,
        stop_requests: s.stop_requests,
        twins: s.twins,
    })
}

/// Replaces a previous demo's folders; refuses to touch anything else.
fn prepare_dirs(cfg: &DemoConfig) -> Result<()> {
    if cfg.data_dir.exists() {
        let is_demo = DataDir::new(&cfg.data_dir).config().is_ok_and(|c| c.demo);
        let empty = fs::read_dir(&cfg.data_dir)
            .map_err(Error::io(&cfg.data_dir))?
            .next()
            .is_none();
        if !is_demo && !empty {
            return Err(Error::DataDirExists(cfg.data_dir.clone()));
        }
        fs::remove_dir_all(&cfg.data_dir).map_err(Error::io(&cfg.data_dir))?;
    }
    if cfg.synth_dir.exists() {
        if !cfg.synth_dir.join("truth").is_dir() {
            return Err(Error::DataDirExists(cfg.synth_dir.clone()));
        }
        fs::remove_dir_all(&cfg.synth_dir).map_err(Error::io(&cfg.synth_dir))?;
    }
    Ok(())
}

/// `DIR/<provider>.<ext>` files, sorted.
fn per_provider_files(dir: &Path, ext: &str) -> Result<Vec<(ProviderId, PathBuf)>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        if path.extension().is_some_and(|e| e == ext)
            && let Some(stem) = path.file_stem()
        {
            out.push((ProviderId(stem.to_string_lossy().into_owned()), path));
        }
    }
    out.sort();
    Ok(out)
}

/// One submission of a synthetic population: who sends it, where it is, how to read it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The sending provider (the folder under `submissions/`).
    pub provider: ProviderId,
    /// The file, or the SS-MIX2 storage folder.
    pub path: PathBuf,
    /// How to read it.
    pub read_as: ReadAs,
}

/// Every submission under `<synth_dir>/submissions/<provider>/`, sorted by batch, then provider,
/// then path (batch 1 of every provider first):
///
/// - `*.ndjson` (FHIR), `*.UKE` (レセ電), `*.xml` / `*.zip` (特定健診): format detected;
/// - `*.ssmix2/` folders: SS-MIX2 storage;
/// - `<name>.<mapping>.csv`: mapped CSV read with `<synth_dir>/mappings/<mapping>.toml` when that
///   file exists; any other `*.csv`: 介護 claims (`--format kaigo`).
///
/// # Errors
/// I/O while listing.
pub fn submissions(synth_dir: &Path) -> Result<Vec<Submission>> {
    let dir = synth_dir.join("submissions");
    let mappings = synth_dir.join("mappings");
    let mut out = Vec::new();
    let mut subs: Vec<PathBuf> = Vec::new();
    for entry in fs::read_dir(&dir).map_err(Error::io(&dir))? {
        subs.push(entry.map_err(Error::io(&dir))?.path());
    }
    for sub in subs.into_iter().filter(|p| p.is_dir()) {
        let provider = ProviderId(
            sub.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        for f in fs::read_dir(&sub).map_err(Error::io(&sub))? {
            let path = f.map_err(Error::io(&sub))?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let lower = name.to_ascii_lowercase();
            let read_as = if path.is_dir() {
                if !lower.ends_with(".ssmix2") {
                    continue;
                }
                ReadAs {
                    format: Some(Format::Ssmix2),
                    mapping: None,
                }
            } else if [".ndjson", ".uke", ".xml", ".zip"]
                .iter()
                .any(|e| lower.ends_with(e))
            {
                ReadAs::AUTO
            } else if let Some(stem) = lower.strip_suffix(".csv") {
                let mapping = stem
                    .rsplit_once('.')
                    .map(|(_, m)| mappings.join(format!("{m}.toml")))
                    .filter(|m| m.is_file());
                match mapping {
                    Some(m) => ReadAs {
                        format: Some(Format::MappedCsv),
                        mapping: Some(m),
                    },
                    None => ReadAs {
                        format: Some(Format::Kaigo),
                        mapping: None,
                    },
                }
            } else {
                continue;
            };
            out.push(Submission {
                provider: provider.clone(),
                path,
                read_as,
            });
        }
    }
    let batch = |p: &Path| -> String {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name.split('.').next().unwrap_or("").to_owned();
        stem.rsplit('-').next().unwrap_or("").to_owned()
    };
    out.sort_by(|a, b| {
        (batch(&a.path), &a.provider, &a.path).cmp(&(batch(&b.path), &b.provider, &b.path))
    });
    Ok(out)
}

/// A copy of `src` with one record cut short and one line of garbage: what a provider's
/// interrupted upload looks like.
fn corrupt_copy(src: &Path, dir: &Path) -> Result<PathBuf> {
    let text = fs::read_to_string(src).map_err(Error::io(src))?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if let Some(l) = lines.get_mut(1) {
        let cut = l
            .char_indices()
            .nth(l.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        l.truncate(cut);
    }
    lines.insert(
        lines.len().min(3),
        "{\"resourceType\": \"Bundle\", \"entry\": [".to_owned(),
    );
    fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let name = src
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = dir.join(format!("{name}-corrupt.ndjson"));
    fs::write(&path, lines.join("\n") + "\n").map_err(Error::io(&path))?;
    Ok(path)
}

fn read_truth(path: &Path) -> Result<Vec<(ProviderId, String, String)>> {
    Ok(read_csv(path)?
        .into_iter()
        .map(|(_, row)| {
            let get = |n: &str| row.get(n).cloned().unwrap_or_default();
            (
                ProviderId(get("provider_id")),
                get("patient_id"),
                get("person_id"),
            )
        })
        .collect())
}

/// Opens a context on an existing demo directory (for tests that look inside after a run).
///
/// # Errors
/// As [`crate::open`].
pub async fn reopen(cfg: &DemoConfig, at: DateTime<Utc>) -> Result<Ctx> {
    crate::context::open(
        &cfg.data_dir,
        OpenOptions {
            urls: cfg.urls.clone(),
            clock: Arc::new(ManualClock::new(at)),
            seed: Some(cfg.seed ^ 0x5eed),
            actor: "operator:test".to_owned(),
        },
    )
    .await
}
