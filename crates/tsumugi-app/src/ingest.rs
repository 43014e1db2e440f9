//! Collecting data: providers, notice logs, and submissions (staged, parsed, stored, receipted).
//!
//! The submission path:
//!
//! ```text
//! file ──stage (encrypt, fsync, SHA-256)──► staging/<sha>.stg ──► registry row `staged`  (acknowledged)
//!      ──parse (tsumugi_formats::open over the seekable staged copy)──► identity ─► vault (record keys)
//!                                         events   ─► research/ingest/<id>.parquet (by record key)
//!                                         rejects  ─► registry + reports/<id>-rejections.{csv,json}, a batch at a time
//!      ──► registry row `processed`, statutory receipt, audit entry
//! ```
//!
//! Re-submitting the same bytes finds the same SHA-256 and does nothing. A crash after the
//! acknowledgement leaves the row `staged`; [`resume_pending`] processes it again from the staged
//! copy, and every step is idempotent (vault rows per record number, the events file replaced
//! atomically), so nothing is lost or duplicated.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;
use tsumugi_formats::Format;
use tsumugi_govern::{Receipt, RecordBody};
use tsumugi_identity::{Admission, Eligibility, NoticeEntry};
use tsumugi_model::{Diagnostic, ProviderId, ProviderKind, SourceRecord};
use tsumugi_store::registry;

use crate::rejections::Rejections;
use crate::{Ctx, Error, Result, audit};

/// Records handed to the vault per transaction.
const CHUNK_RECORDS: usize = 2000;

/// A provider as registered.
#[derive(Debug, Clone)]
pub struct ProviderRegistration {
    /// Its code.
    pub provider_id: ProviderId,
    /// Its kind.
    pub kind: ProviderKind,
    /// Its name (an organisation, not a person).
    pub name: String,
    /// Its notice waiting period in days.
    pub waiting_days: i64,
}

/// Registers (or updates) a provider.
///
/// # Errors
/// Database errors.
pub async fn register_provider(ctx: &Ctx, p: &ProviderRegistration) -> Result<()> {
    let entry = registry::ProviderEntry {
        provider_id: p.provider_id.as_str().to_owned(),
        kind: p.kind.as_str().to_owned(),
        name: p.name.clone(),
        waiting_days: p.waiting_days,
    };
    registry::upsert_provider(&ctx.registry, &entry, &ctx.clock.now().to_rfc3339()).await?;
    audit::record(
        ctx,
        "provider.registered",
        p.provider_id.as_str(),
        serde_json::json!({"kind": p.kind.as_str()}),
    )
    .await
}

/// Registers every provider listed in a `providers.csv` (`provider_id,kind,name,…`).
///
/// # Errors
/// [`Error::InvalidInput`] naming the line; database errors.
pub async fn register_providers_csv(ctx: &Ctx, path: &Path) -> Result<u64> {
    let mut n = 0;
    for (line, row) in read_csv(path)? {
        let field = |name: &str| row.get(name).cloned().unwrap_or_default();
        let kind = ProviderKind::parse(&field("kind"))
            .ok_or_else(|| invalid(path, line, "unknown provider kind"))?;
        let id = field("provider_id");
        if id.is_empty() {
            return Err(invalid(path, line, "provider_id is empty"));
        }
        register_provider(
            ctx,
            &ProviderRegistration {
                provider_id: ProviderId(id),
                kind,
                name: field("name"),
                waiting_days: ctx.config.waiting_days,
            },
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Waiting period per provider.
pub(crate) async fn waiting_days(ctx: &Ctx) -> Result<BTreeMap<ProviderId, i64>> {
    Ok(registry::waiting_days(&ctx.registry)
        .await?
        .into_iter()
        .map(|(p, d)| (ProviderId(p), d))
        .collect())
}

async fn provider_exists(ctx: &Ctx, provider: &ProviderId) -> Result<bool> {
    Ok(registry::provider_exists(&ctx.registry, provider.as_str()).await?)
}

/// Imports a provider's notice log (`patient_id,notified_on,notified_to`). Dates may be 和暦.
///
/// # Errors
/// [`Error::UnknownProvider`], [`Error::InvalidInput`] naming the line (never the value).
pub async fn import_notices(ctx: &Ctx, provider: &ProviderId, path: &Path) -> Result<u64> {
    if !provider_exists(ctx, provider).await? {
        return Err(Error::UnknownProvider(provider.as_str().to_owned()));
    }
    let mut entries = Vec::new();
    for (line, row) in read_csv(path)? {
        let get = |name: &str| {
            row.get(name)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let patient_id = get("patient_id");
        if patient_id.is_empty() {
            return Err(invalid(path, line, "patient_id is empty"));
        }
        let notified_on = tsumugi_model::wareki::parse_date(&get("notified_on"))
            .map_err(|e| invalid(path, line, &format!("notified_on: {e}")))?;
        let notified_to = match get("notified_to").as_str() {
            "" => "person".to_owned(),
            s @ ("person" | "guardian" | "bereaved") => s.to_owned(),
            _ => {
                return Err(invalid(
                    path,
                    line,
                    "notified_to must be person, guardian or bereaved",
                ));
            }
        };
        entries.push(NoticeEntry {
            patient_id,
            notified_on,
            notified_to,
        });
    }
    let n = ctx.vault.import_notices(provider, &entries).await?;
    audit::record(
        ctx,
        "notices.imported",
        provider.as_str(),
        serde_json::json!({"entries": n}),
    )
    .await?;
    Ok(n)
}

/// The outcome of one submission.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitReport {
    /// Registry id of the submission.
    pub submission_id: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// The same bytes had been submitted before: nothing was done.
    pub duplicate: bool,
    /// Records read.
    pub n_records: u64,
    /// Records stored.
    pub n_accepted: u64,
    /// Records rejected (see the report).
    pub n_rejected: u64,
    /// Records refused because a stop request is in force.
    pub n_opted_out: u64,
    /// Stored records held for notice (missing or within the waiting period) as of today.
    pub n_held: u64,
    /// Events stored.
    pub n_events: u64,
    /// Warnings (records kept, something ignored).
    pub n_warnings: u64,
    /// The rejection report (CSV; a JSON twin sits beside it), when anything was rejected.
    pub rejection_report: Option<PathBuf>,
}

/// How to read a submission: its format (`None` detects it) and, for mapped CSV, the mapping.
#[derive(Debug, Clone)]
pub struct ReadAs {
    /// The format, or `None` to detect it.
    pub format: Option<Format>,
    /// The TOML mapping file of a mapped CSV.
    pub mapping: Option<PathBuf>,
}

impl ReadAs {
    /// Detect the format; no mapping.
    pub const AUTO: ReadAs = ReadAs {
        format: None,
        mapping: None,
    };

    /// The format to read `path` as: the one named, else mapped CSV when a mapping is given,
    /// SS-MIX2 for a folder, or what [`detect`] finds.
    pub(crate) fn resolve(&self, path: &Path) -> Result<Format> {
        match self.format {
            Some(f) => Ok(f),
            None if self.mapping.is_some() => Ok(Format::MappedCsv),
            None if path.is_dir() => Ok(Format::Ssmix2),
            None => detect(path),
        }
    }

    fn mapping_text(&self) -> Result<Option<String>> {
        match &self.mapping {
            None => Ok(None),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(Error::io(p))?;
                parse_mapping(&text)?;
                Ok(Some(text))
            }
        }
    }
}

fn parse_mapping(text: &str) -> Result<tsumugi_formats::csvmap::Mapping> {
    tsumugi_formats::csvmap::Mapping::from_toml(text)
        .map_err(|e| Error::InvalidMapping(e.to_string()))
}

/// Submits one file — or one SS-MIX2 storage folder — from a provider: stage durably,
/// acknowledge, then process.
///
/// # Errors
/// [`Error::UnknownProvider`]; I/O and zone errors. Bad records are not errors: they are
/// rejected one by one and reported.
pub async fn submit(
    ctx: &Ctx,
    provider: &ProviderId,
    path: &Path,
    how: &ReadAs,
) -> Result<SubmitReport> {
    let mapping = how.mapping_text()?;
    if !provider_exists(ctx, provider).await? {
        return Err(Error::UnknownProvider(provider.as_str().to_owned()));
    }
    let folder = path.is_dir();
    let format = how.resolve(path)?;
    // A folder (SS-MIX2 storage) is staged as one deterministic stream of its files.
    let mut src: Box<dyn std::io::Read> = if folder {
        Box::new(tsumugi_formats::folder_stream(path).map_err(Error::io(path))?)
    } else {
        Box::new(File::open(path).map_err(Error::io(path))?)
    };
    let mut rng = ctx.rng();
    let staged = tsumugi_identity::stage_file(&*ctx.keys, &mut src, &ctx.dir.staging(), &mut rng)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let existing = registry::submission_by_hash(&ctx.registry, &staged.sha256).await?;
    let submission_id = match existing {
        Some(row) => {
            let id = row.submission_id;
            if row.status == "processed" {
                audit::record(
                    ctx,
                    "submission.duplicate",
                    &id.to_string(),
                    serde_json::json!({"sha256": staged.sha256}),
                )
                .await?;
                return Ok(SubmitReport {
                    submission_id: id,
                    sha256: staged.sha256,
                    duplicate: true,
                    n_records: 0,
                    n_accepted: 0,
                    n_rejected: 0,
                    n_opted_out: 0,
                    n_held: 0,
                    n_events: 0,
                    n_warnings: 0,
                    rejection_report: None,
                });
            }
            id
        }
        None => {
            let received_at = ctx.clock.now().to_rfc3339();
            let id = registry::insert_submission(
                &ctx.registry,
                &registry::NewSubmission {
                    provider_id: provider.as_str(),
                    sha256: &staged.sha256,
                    file_name: &file_name,
                    format: format.as_str(),
                    mapping: mapping.as_deref(),
                    n_bytes: staged.n_bytes,
                    received_at: &received_at,
                },
            )
            .await?;
            audit::record(
                ctx,
                "submission.received",
                &id.to_string(),
                serde_json::json!({"provider": provider.as_str(), "sha256": staged.sha256, "bytes": staged.n_bytes}),
            )
            .await?;
            id
        }
    };
    process(ctx, submission_id).await
}

/// How much the stores hold (for checking idempotence and for status pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    /// Submissions registered.
    pub n_submissions: i64,
    /// Source records in the vault.
    pub n_vault_records: i64,
    /// Event rows in the research store's ingest files.
    pub n_ingest_rows: u64,
}

/// Counts what the registry, the vault and the research store hold.
///
/// # Errors
/// Zone errors.
pub async fn counts(ctx: &Ctx) -> Result<StoreCounts> {
    let n_submissions = registry::count_submissions(&ctx.registry).await?;
    let mut n_ingest_rows = 0;
    for path in ctx.store.ingest_files()? {
        for batch in ctx.store.read_events(&path)? {
            n_ingest_rows += batch?.len() as u64;
        }
    }
    Ok(StoreCounts {
        n_submissions,
        n_vault_records: ctx.vault.n_records().await?,
        n_ingest_rows,
    })
}

/// Processes every submission acknowledged but not yet processed (after a crash), after
/// removing staging files a crash left half-written. Call it while no other ingest runs.
///
/// # Errors
/// As [`submit`].
pub async fn resume_pending(ctx: &Ctx) -> Result<Vec<SubmitReport>> {
    tsumugi_identity::remove_partial_stages(&ctx.dir.staging())?;
    let ids = registry::pending_submissions(&ctx.registry).await?;
    let mut out = Vec::new();
    for id in ids {
        out.push(process(ctx, id).await?);
    }
    Ok(out)
}

async fn process(ctx: &Ctx, submission_id: i64) -> Result<SubmitReport> {
    let row = registry::submission(&ctx.registry, submission_id).await?;
    let provider = ProviderId(row.provider_id);
    let sha256 = row.content_sha256;
    let file_name = row.file_name;
    let staged_path = ctx.dir.staging().join(format!("{sha256}.stg"));
    let format = Format::parse(&row.format).ok_or_else(|| {
        Error::Internal(format!("submission {submission_id} has an unknown format"))
    })?;
    let reader = tsumugi_identity::open_staged(&*ctx.keys, &staged_path)?;
    let records = match &row.mapping {
        Some(text) => {
            tsumugi_formats::open_mapped(&file_name, &parse_mapping(text)?, Box::new(reader))
        }
        None => tsumugi_formats::open(format, &file_name, Box::new(reader))?,
    };
    let mut events = ctx
        .store
        .event_writer(&ctx.store.ingest_file(submission_id))?;
    let mut rng = ctx.rng();
    let mut rejections = Rejections::start(ctx, submission_id).await?;
    let (mut n_records, mut n_accepted, mut n_opted_out) = (0u64, 0u64, 0u64);
    let mut kinds: BTreeSet<&'static str> = BTreeSet::new();
    let mut batch: Vec<(u64, SourceRecord)> = Vec::with_capacity(CHUNK_RECORDS);
    let flush = async |batch: &mut Vec<(u64, SourceRecord)>,
                       events: &mut tsumugi_store::EventFileWriter,
                       rng: &mut rand::rngs::StdRng|
           -> Result<(u64, u64)> {
        let ids: Vec<(u64, &tsumugi_model::IdentityAttributes)> =
            batch.iter().map(|(n, r)| (*n, &r.identity)).collect();
        let admissions = ctx
            .vault
            .insert_submission(submission_id, &provider, &ids, rng)
            .await?;
        let (mut ok, mut out) = (0, 0);
        for ((_, record), adm) in batch.iter().zip(admissions) {
            match adm {
                Admission::Stored(key) => {
                    ok += 1;
                    for e in &record.events {
                        events.push(key, e)?;
                    }
                }
                Admission::OptedOut(_) => out += 1,
            }
        }
        batch.clear();
        Ok((ok, out))
    };
    for outcome in records {
        n_records += 1;
        for w in outcome.warnings {
            rejections.push(w).await?;
        }
        match outcome.result {
            Ok(record) => {
                kinds.extend(record.events.iter().map(|e| e.kind.as_str()));
                batch.push((outcome.record, record));
                if batch.len() >= CHUNK_RECORDS {
                    let (ok, out) = flush(&mut batch, &mut events, &mut rng).await?;
                    n_accepted += ok;
                    n_opted_out += out;
                }
            }
            Err(d) => rejections.push(d).await?,
        }
    }
    let (ok, out) = flush(&mut batch, &mut events, &mut rng).await?;
    n_accepted += ok;
    n_opted_out += out;
    let n_events = events.finish()?;
    let (n_rejected, n_warnings) = (rejections.n_errors, rejections.n_warnings);
    let rejection_report = rejections.finish().await?;

    let today = ctx.clock.now().date_naive();
    let eligibility = ctx
        .vault
        .eligibility_counts(
            today,
            submission_id,
            &waiting_days(ctx).await?,
            ctx.config.waiting_days,
        )
        .await?;
    let n_usable = eligibility.get(&Eligibility::Usable).copied().unwrap_or(0);
    let n_held = eligibility.values().sum::<u64>() - n_usable;
    // Receipt and audit entry first, then the `processed` mark: a crash in between makes the
    // next run process the submission again, and the receipt is written once per submission.
    let receipt = Receipt {
        provider_id: provider.as_str().to_owned(),
        submission_id,
        received_on: today,
        n_persons: n_accepted,
        n_records,
        data_items: kinds.iter().map(|k| (*k).to_owned()).collect(),
        notice_confirmed: n_usable,
        n_held,
        n_rejected,
    };
    let receipt = RecordBody::Receipt(receipt);
    tsumugi_govern::record_once(
        &ctx.registry,
        ctx.clock.now(),
        tsumugi_govern::RecordKind::Receipt,
        &format!("submission {submission_id}"),
        &receipt.to_json()?,
    )
    .await?;
    audit::record(
        ctx,
        "submission.accepted",
        &submission_id.to_string(),
        serde_json::json!({
            "provider": provider.as_str(), "records": n_records, "accepted": n_accepted,
            "rejected": n_rejected, "opted_out": n_opted_out, "held": n_held, "events": n_events,
        }),
    )
    .await?;
    let counts = registry::SubmissionCounts {
        n_records,
        n_accepted,
        n_rejected,
        n_events,
    };
    registry::mark_processed(
        &ctx.registry,
        submission_id,
        &counts,
        &ctx.clock.now().to_rfc3339(),
    )
    .await?;
    Ok(SubmitReport {
        submission_id,
        sha256,
        duplicate: false,
        n_records,
        n_accepted,
        n_rejected,
        n_opted_out,
        n_held,
        n_events,
        n_warnings,
        rejection_report,
    })
}

/// What `tsumugi check` found in one file: the provider's own validation before sending.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The file.
    pub file: String,
    /// The format it was read as.
    pub format: &'static str,
    /// Records read.
    pub n_records: u64,
    /// Records that would be accepted.
    pub n_accepted: u64,
    /// Records that would be rejected.
    pub n_rejected: u64,
    /// Every finding (errors and warnings), with file, record, line, field and reason.
    pub diagnostics: Vec<Diagnostic>,
    /// The parsed canonical records, when asked for.
    pub records: Vec<CheckedRecord>,
}

/// One parsed record as `check --json` shows it: which identity fields are present (never
/// their values: the report may be mailed around) and the canonical events.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedRecord {
    /// 1-based record number.
    pub record: u64,
    /// Identity fields the record carries, e.g. `kanji_name`, `birth_date`.
    pub identity_fields: Vec<&'static str>,
    /// Its events.
    pub events: Vec<tsumugi_model::Event>,
}

fn identity_fields(a: &tsumugi_model::IdentityAttributes) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut add = |present: bool, name: &'static str| {
        if present {
            out.push(name);
        }
    };
    add(a.patient_id.is_some(), "patient_id");
    add(
        a.names
            .iter()
            .any(|n| n.family_kanji.is_some() || n.given_kanji.is_some()),
        "kanji_name",
    );
    add(
        a.names
            .iter()
            .any(|n| n.family_kana.is_some() || n.given_kana.is_some()),
        "kana_name",
    );
    add(a.birth_date.is_some(), "birth_date");
    add(a.sex != tsumugi_model::Sex::Unknown, "sex");
    add(!a.addresses.is_empty(), "address");
    add(!a.insurances.is_empty(), "insurance");
    add(a.deceased_on.is_some(), "deceased_on");
    out
}

/// Validates a file — or an SS-MIX2 storage folder — without ingesting it (no data directory
/// needed): detects the format unless given, reads every record, and reports what would be
/// accepted and rejected.
///
/// # Errors
/// [`Error::UnknownFormat`], [`Error::Format`], I/O.
pub fn check(path: &Path, how: &ReadAs, with_records: bool) -> Result<CheckReport> {
    let folder = path.is_dir();
    let mapping = how.mapping_text()?;
    let format = how.resolve(path)?;
    let mut report = CheckReport {
        file: path.display().to_string(),
        format: format.as_str(),
        n_records: 0,
        n_accepted: 0,
        n_rejected: 0,
        diagnostics: Vec::new(),
        records: Vec::new(),
    };
    let records = match &mapping {
        Some(text) => {
            let file = File::open(path).map_err(Error::io(path))?;
            let label = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            tsumugi_formats::open_mapped(
                &label,
                &parse_mapping(text)?,
                Box::new(BufReader::new(file)),
            )
        }
        None if folder => tsumugi_formats::open_folder(format, path)?,
        None => tsumugi_formats::open_file(format, path)?,
    };
    for outcome in records {
        report.n_records += 1;
        report.diagnostics.extend(outcome.warnings);
        match outcome.result {
            Ok(record) => {
                report.n_accepted += 1;
                if with_records {
                    report.records.push(CheckedRecord {
                        record: outcome.record,
                        identity_fields: identity_fields(&record.identity),
                        events: record.events,
                    });
                }
            }
            Err(d) => {
                report.n_rejected += 1;
                report.diagnostics.push(d);
            }
        }
    }
    Ok(report)
}

/// Detects a file's format from its name and first 8 KiB.
///
/// # Errors
/// [`Error::UnknownFormat`], or I/O.
pub fn detect(path: &Path) -> Result<Format> {
    use std::io::Read;
    let mut head = vec![0u8; 8192];
    let mut f = File::open(path).map_err(Error::io(path))?;
    let n = f.read(&mut head).map_err(Error::io(path))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tsumugi_formats::sniff(&name, &head[..n])
        .ok_or_else(|| Error::UnknownFormat(path.display().to_string()))
}

/// Reads a UTF-8 CSV with a header into (1-based line, column → value) rows.
pub(crate) fn read_csv(path: &Path) -> Result<Vec<(u64, BTreeMap<String, String>)>> {
    let file = File::open(path).map_err(Error::io(path))?;
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(BufReader::new(file));
    let headers = r
        .headers()
        .map_err(|_| invalid(path, 1, "unreadable header"))?
        .clone();
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|_| invalid(path, line, "malformed CSV row"))?;
        out.push((
            line,
            headers
                .iter()
                .map(str::to_owned)
                .zip(rec.iter().map(str::to_owned))
                .collect(),
        ));
    }
    Ok(out)
}

pub(crate) fn invalid(path: &Path, line: u64, reason: &str) -> Error {
    Error::InvalidInput {
        file: path.display().to_string(),
        line,
        reason: reason.to_owned(),
    }
}

/// Parses a date column, 和暦 or western.
pub(crate) fn parse_date_field(
    path: &Path,
    line: u64,
    column: &str,
    value: &str,
) -> Result<NaiveDate> {
    tsumugi_model::wareki::parse_date(value)
        .map_err(|e| invalid(path, line, &format!("{column}: {e}")))
}
