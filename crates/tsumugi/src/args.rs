//! Command-line arguments and their dispatch to `tsumugi-app`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use tsumugi_app::{DatabaseUrls, OpenOptions, SystemClock};
use tsumugi_model::ProviderId;

use crate::output;

/// tsumugi 紡ぎ — certified anonymized medical data processing (次世代医療基盤法).
#[derive(Debug, Parser)]
#[command(name = "tsumugi", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data directory and databases are.
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// Data directory データディレクトリ.
    #[arg(long, env = "TSUMUGI_DATA", default_value = "./tsumugi-data")]
    data: PathBuf,
    /// Registry database URL (default: embedded SQLite in the data directory), e.g. postgres://…
    #[arg(long, env = "TSUMUGI_DATABASE_URL")]
    database_url: Option<String>,
    /// Identity vault database URL (default: embedded SQLite in the data directory).
    #[arg(long, env = "TSUMUGI_VAULT_URL")]
    vault_url: Option<String>,
}

impl DataArgs {
    fn urls(&self) -> DatabaseUrls {
        DatabaseUrls {
            registry: self.database_url.clone(),
            vault: self.vault_url.clone(),
        }
    }

    fn options(&self) -> OpenOptions {
        OpenOptions {
            urls: self.urls(),
            clock: Arc::new(SystemClock),
            seed: None,
            actor: actor(),
        }
    }

    async fn open(&self) -> Result<tsumugi_app::Ctx> {
        tsumugi_app::open(&self.data, self.options())
            .await
            .with_context(|| format!("opening data directory {}", self.data.display()))
    }
}

fn parse_format(s: &str) -> Result<Option<tsumugi_app::Format>> {
    if s == "auto" {
        return Ok(None);
    }
    tsumugi_app::Format::parse(s)
        .map(Some)
        .with_context(|| format!("unknown format {s}; use auto, fhir, ssmix2, uke, kenshin-xml, kenshin-zip, kaigo or csv"))
}

/// How a release's event dates are treated (`--dates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DatesArg {
    /// Year and month.
    Month,
    /// Shifted by a per-person offset (`--max-shift-days`).
    Shift,
    /// Days since the person's first event.
    DaysFromIndex,
}

/// Address detail of a pseudonymized release (`--region`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RegionArg {
    /// 市区町村.
    Municipality,
    /// 都道府県.
    Prefecture,
}

/// Parses `name=system:prefix` (`e11=icd10:E11`).
fn parse_first_year(s: &str) -> Result<tsumugi_app::release::FirstYear> {
    let (name, rest) = s
        .split_once('=')
        .with_context(|| format!("{s:?}: expected name=system:prefix, e.g. e11=icd10:E11"))?;
    let (system, prefix) = rest
        .split_once(':')
        .with_context(|| format!("{s:?}: expected name=system:prefix, e.g. e11=icd10:E11"))?;
    Ok(tsumugi_app::release::FirstYear {
        name: name.to_owned(),
        system: system.to_owned(),
        prefix: prefix.to_owned(),
    })
}

fn actor() -> String {
    format!(
        "operator:{}",
        std::env::var("USER").unwrap_or_else(|_| "cli".to_owned())
    )
}

// Parsed once per run: the size of the largest variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Create a data directory データディレクトリを作成 (keys, registry, vault, research store).
    Init {
        /// The folder to create (or `--data`).
        dir: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Run the whole path on a synthetic population 合成データで全工程を実行.
    Demo {
        #[command(flatten)]
        data: DemoArgs,
    },
    /// Benchmarks ベンチマーク: throughput figures, printed (never timed tests).
    Bench {
        #[command(subcommand)]
        action: BenchAction,
    },
    /// Generate a synthetic population 合成人口を生成 (provider files, notices, stop requests, truth).
    Synth {
        /// Output folder (keep it outside any data directory: it holds the ground truth).
        #[arg(long)]
        out: PathBuf,
        /// Persons to generate.
        #[arg(long, default_value_t = 10_000)]
        persons: u64,
        /// Seed: the same seed gives the same files.
        #[arg(long, default_value_t = 20_261_125)]
        seed: u64,
        /// The scenario's "today" (YYYY-MM-DD or 和暦); default: today.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Register providers from a providers.csv 提供者を登録.
    Providers {
        /// `provider_id,kind,name,…`
        csv: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Import a provider's notice log 通知記録を取込.
    Notices {
        /// The provider.
        #[arg(long)]
        provider: String,
        /// `patient_id,notified_on,notified_to`
        csv: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Validate files without ingesting 提出前チェック: format, per-record diagnostics.
    Check {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The format (`auto` detects it): fhir, ssmix2, uke, kenshin-xml, kenshin-zip, kaigo, csv.
        #[arg(long, default_value = "auto")]
        format: String,
        /// Print the report and the parsed canonical records as JSON.
        #[arg(long)]
        json: bool,
        /// TOML mapping for a municipal CSV export (implies `--format csv`).
        #[arg(long)]
        mapping: Option<PathBuf>,
    },
    /// Submit provider files データ提出 (format detected unless `--format`).
    Ingest {
        /// The provider sending them.
        #[arg(long)]
        provider: String,
        /// The format (`auto` detects it).
        #[arg(long, default_value = "auto")]
        format: String,
        /// TOML mapping for a municipal CSV export (implies `--format csv`).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Files to submit. Submissions interrupted by a crash are finished first.
        files: Vec<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Register stop requests 提供停止請求を登録 (CSV) and purge matched persons; `optout review`
    /// lists requests waiting for a decision, `optout decide` enforces one.
    #[command(args_conflicts_with_subcommands = true)]
    Optout {
        #[command(subcommand)]
        action: Option<OptoutAction>,
        /// Stop-request CSV.
        csv: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Anonymize any table 表の匿名加工: roles and hierarchies from an `anon.toml`, the optimal
    /// generalization with suppression, a release folder out (data.csv, report.json,
    /// manifest.json).
    Anonymize {
        /// The table: CSV with a header row (UTF-8 or CP932; delimiter detected).
        #[arg(long)]
        input: PathBuf,
        /// `anon.toml`: every column's role, hierarchies, privacy models, suppression limit,
        /// metric, search.
        #[arg(long)]
        config: PathBuf,
        /// The release folder to create (never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Link records to persons 名寄せ, then match open stop requests again; with `--input`,
    /// link the rows of CSV files instead (dedupe), writing pairs and clusters.
    #[command(args_conflicts_with_subcommands = true)]
    Link {
        #[command(subcommand)]
        action: Option<LinkAction>,
        #[command(flatten)]
        files: LinkFileArgs,
        /// Link only the records not linked yet, against the stored persons (差分名寄せ; no full
        /// re-run).
        #[arg(long)]
        incremental: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Build the research store 研究用データベースを構築 (notice periods and opt-outs applied).
    Build {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Produce an anonymized release 匿名加工データを提供 for an approved application.
    Release {
        /// The approved application id.
        #[arg(long)]
        application: String,
        /// The recipient.
        #[arg(long, default_value = "applicant")]
        recipient: String,
        /// Minimum persons per equivalence class.
        #[arg(long, default_value_t = 5)]
        k: u32,
        /// Largest share of persons that may be suppressed.
        #[arg(long, default_value_t = 0.2)]
        max_suppression: f64,
        /// How event dates are released (anonymized) 日付の加工.
        #[arg(long, value_enum, default_value_t = DatesArg::Month)]
        dates: DatesArg,
        /// Largest per-person date shift in days, with `--dates shift`.
        #[arg(long, default_value_t = 180)]
        max_shift_days: u32,
        /// Event-derived quasi-identifier `name=system:prefix` (repeatable), e.g.
        /// `e11=icd10:E11`: the year of the first E11 diagnosis.
        #[arg(long = "first-year", value_parser = parse_first_year)]
        first_year: Vec<tsumugi_app::release::FirstYear>,
        /// Address detail of a pseudonymized (仮名加工) release.
        #[arg(long, value_enum, default_value_t = RegionArg::Municipality)]
        region: RegionArg,
        /// Start the CSV files with a UTF-8 BOM (for spreadsheet programs).
        #[arg(long)]
        bom: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Persons with a diagnosis by prefecture × age band, disclosure-checked 統計.
    Stats {
        /// The approved application id.
        #[arg(long)]
        application: String,
        /// ICD-10 prefix, e.g. E11.
        #[arg(long)]
        icd10: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// What the data directory holds 状況 (submissions, vault records, research rows) as JSON.
    Status {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Audit log 監査ログ.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Debug, Subcommand)]
enum AuditAction {
    /// Verify the hash chain and signed checkpoints ハッシュチェーンを検証; exit 3 when broken.
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Sign a checkpoint of the chain head チェックポイントに署名.
    Checkpoint {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Options of `tsumugi bench ingest`.
#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// Events to generate per format (at least this many).
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) events: u64,
    /// Bytes of input to generate per format, at least (e.g. 2000000000 for the 2 GB memory
    /// check); the input has at least --events events too.
    #[arg(long, default_value_t = 0)]
    pub(crate) bytes: u64,
    /// Deflate the 特定健診 ZIP's entries (many more entries per byte; --bytes then counts the
    /// documents before compression).
    #[arg(long)]
    pub(crate) zip_deflate: bool,
    /// The format: all, fhir, ssmix2, uke, kenshin-zip, kaigo, csv (or kenshin-xml, a folder of
    /// single documents).
    #[arg(long, default_value = "all")]
    pub(crate) format: String,
    /// Seed of the synthetic inputs.
    #[arg(long, default_value_t = 20_261_125)]
    pub(crate) seed: u64,
    /// Working folder for the inputs (default: a fresh folder under the system temp dir, removed
    /// afterwards).
    #[arg(long)]
    pub(crate) work: Option<PathBuf>,
    /// Skip the end-to-end submissions.
    #[arg(long)]
    pub(crate) no_end_to_end: bool,
    /// The formats also submitted end to end (comma-separated, or all).
    #[arg(long, default_value = "fhir,uke")]
    pub(crate) end_to_end: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Internal: parse this generated input in this process and print its figures as JSON.
    #[arg(long, hide = true)]
    pub(crate) parse_only: Option<PathBuf>,
    /// Internal: submit this generated input end to end in this process (data directory under
    /// --work) and print its figures as JSON.
    #[arg(long, hide = true)]
    pub(crate) end_to_end_only: Option<PathBuf>,
}

/// What `tsumugi bench` measures.
#[derive(Debug, Subcommand)]
enum BenchAction {
    /// Reader throughput per format 取込性能: MB/s, records/s per core and peak RSS.
    Ingest(BenchIngestArgs),
    /// Linkage speed and accuracy 名寄せ性能 on a synthetic population with every noise type.
    Link(BenchLinkArgs),
    /// Anonymization speed 匿名加工性能: ARX's adult benchmark (k = 5, 2 % suppression, Loss),
    /// as is and resampled to more rows, by the lattice search and by local recoding.
    Anon(BenchAnonArgs),
}

/// Options of `tsumugi bench anon`.
#[derive(Debug, Args)]
pub struct BenchAnonArgs {
    /// Row counts to run besides the adult table itself (resampled from it).
    #[arg(long, value_delimiter = ',', default_value = "1000000")]
    pub(crate) rows: Vec<u64>,
    /// Seed of the resampling and of the synthetic lifecourses.
    #[arg(long, default_value_t = 20_261_207)]
    pub(crate) seed: u64,
    /// Persons of the synthetic research store released as the sample study's lifecourse
    /// release (0: skip).
    #[arg(long, default_value_t = 100_000)]
    pub(crate) lifecourse_persons: u64,
    /// Folder for the generated tables (kept and reused).
    #[arg(long)]
    pub(crate) work: Option<PathBuf>,
}

/// Options of `tsumugi bench link`.
#[derive(Debug, Args)]
pub struct BenchLinkArgs {
    /// Records to deduplicate (at least).
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) records: u64,
    /// New records then linked incrementally against them (0: none).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) incremental: u64,
    /// Seed of the synthetic population and of the u sample.
    #[arg(long, default_value_t = 20_261_125)]
    pub(crate) seed: u64,
    /// Folder for the generated input (kept, and reused when it already holds one).
    #[arg(long)]
    pub(crate) work: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Internal: link this folder's input in this process and print the figures as JSON.
    #[arg(long, hide = true)]
    pub(crate) run_only: Option<PathBuf>,
}

/// File linkage options of `tsumugi link`.
#[derive(Debug, Args, Clone)]
pub struct LinkFileArgs {
    /// Input CSV (UTF-8, header row); with two or more, records are linked across the
    /// files only (link-only) unless --dedupe.
    #[arg(long)]
    input: Vec<PathBuf>,
    /// With several inputs, also link records within each file (deduplicate them together).
    #[arg(long)]
    dedupe: bool,
    /// `link.toml`: columns to roles, thresholds (default: columns by their usual names).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write the scored pairs here (`.csv`, else JSON lines).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write `record_id,cluster_id` here.
    #[arg(long)]
    clusters: Option<PathBuf>,
    /// Seed of the u sample.
    #[arg(long, default_value_t = 20_261_125)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl LinkFileArgs {
    fn file_link(&self) -> tsumugi_app::linkage::FileLink {
        tsumugi_app::linkage::FileLink {
            inputs: self.input.clone(),
            link_only: self.input.len() > 1 && !self.dedupe,
            config: self.config.clone(),
            pairs_out: self.out.clone(),
            clusters_out: self.clusters.clone(),
            seed: self.seed,
        }
    }
}

/// `tsumugi optout` subcommands.
#[derive(Debug, Subcommand)]
enum OptoutAction {
    /// Requests waiting for a person's decision 要確認の停止請求, with their candidate persons.
    Review {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Enforce a request on one of its candidates 停止請求の判定 (and purge that person).
    Decide {
        /// The request id.
        request_id: String,
        /// The candidate person key the request is about.
        person_key: i64,
        #[command(flatten)]
        data: DataArgs,
    },
}

/// `tsumugi link` subcommands.
#[derive(Debug, Subcommand)]
enum LinkAction {
    /// Precision, recall and F1 of clusters against ground truth 精度評価.
    Eval {
        /// `record_id,cluster_id`
        #[arg(long)]
        clusters: PathBuf,
        /// `record_id,person_id` (optional `noise`, `twin_of` columns)
        #[arg(long)]
        truth: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The match-weight breakdown of two records 一致重みの内訳: of the --input files (record
    /// ids), or without --input of the data directory (record keys, last run's model).
    Explain {
        #[command(flatten)]
        files: LinkFileArgs,
        /// First record id (key).
        a: String,
        /// Second record id (key).
        b: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// The clerical-review queue 要確認ペア: pairs of the uncertain band, by record key.
    Review {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Decide a pair of the review queue 目視確認の判定 (binds later linkage runs).
    Decide {
        /// First record key.
        a: i64,
        /// Second record key.
        b: i64,
        /// `match` (同一) or `no_match` (別人).
        decision: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Candidate pairs per blocking rule ブロッキング (and recall with --truth).
    Blocking {
        #[command(flatten)]
        files: LinkFileArgs,
        /// `record_id,person_id`: adds each rule's recall of true pairs.
        #[arg(long)]
        truth: Option<PathBuf>,
    },
}

/// Options of `tsumugi demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Data directory to (re)create; only a previous demo directory is replaced.
    #[arg(long, default_value = "./demo-data")]
    data: PathBuf,
    /// Where synthetic provider files and the ground truth go (default: `<data>-synthetic`).
    #[arg(long)]
    synth_out: Option<PathBuf>,
    /// Persons to generate.
    #[arg(long, default_value_t = 10_000)]
    persons: u64,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 20_261_125)]
    seed: u64,
    /// Registry database URL (default: embedded SQLite).
    #[arg(long, env = "TSUMUGI_DATABASE_URL")]
    database_url: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Init { dir, data } => {
            let root = dir.unwrap_or_else(|| data.data.clone());
            let ctx = tsumugi_app::init(&root, false, data.options())
                .await
                .with_context(|| format!("creating data directory {}", root.display()))?;
            ctx.close().await;
            output::line(&format!(
                "データディレクトリを作成しました / created data directory: {}",
                root.display()
            ));
        }
        Command::Demo { data } => {
            let synth_dir = data.synth_out.clone().unwrap_or_else(|| {
                let mut s = data.data.clone().into_os_string();
                s.push("-synthetic");
                PathBuf::from(s)
            });
            let cfg = tsumugi_app::demo::DemoConfig {
                data_dir: data.data.clone(),
                synth_dir,
                persons: data.persons,
                seed: data.seed,
                urls: DatabaseUrls {
                    registry: data.database_url.clone(),
                    vault: None,
                },
                start: tsumugi_app::Clock::now(&SystemClock),
            };
            let bars = crate::progress::Bars::default();
            let report = tsumugi_app::demo::run(&cfg, &bars)
                .await
                .context("demo failed")?;
            if data.json {
                output::json(&report)?;
            } else {
                output::demo(&report);
            }
            if report.audit.first_bad.is_some() {
                return Ok(ExitCode::from(3));
            }
        }
        Command::Bench {
            action: BenchAction::Ingest(args),
        } => crate::bench::ingest(&args).await?,
        Command::Bench {
            action: BenchAction::Link(args),
        } => crate::bench::link(&args)?,
        Command::Bench {
            action: BenchAction::Anon(args),
        } => crate::bench::anon(&args)?,
        Command::Anonymize {
            input,
            config,
            out,
            json,
        } => {
            let run = tsumugi_app::anonymize::anonymize(&input, &config, &out)?;
            if json {
                output::json(&run)?;
            } else {
                output::anonymize(&run, &out);
            }
        }
        Command::Synth {
            out,
            persons,
            seed,
            as_of,
        } => {
            let as_of = match as_of {
                Some(s) => tsumugi_model::wareki::parse_date(&s)
                    .with_context(|| "--as-of is not a date")?,
                None => tsumugi_app::Clock::now(&SystemClock).date_naive(),
            };
            let bars = crate::progress::Bars::default();
            let s = tsumugi_app::demo::generate_population(&out, persons, seed, as_of, &bars)?;
            output::json(&s)?;
        }
        Command::Providers { csv, data } => {
            let ctx = data.open().await?;
            let n = tsumugi_app::ingest::register_providers_csv(&ctx, &csv).await?;
            ctx.close().await;
            output::line(&format!("{n} 提供者を登録 / providers registered"));
        }
        Command::Notices {
            provider,
            csv,
            data,
        } => {
            let ctx = data.open().await?;
            let n = tsumugi_app::ingest::import_notices(&ctx, &ProviderId(provider), &csv).await?;
            ctx.close().await;
            output::line(&format!("{n} 件の通知記録 / notice entries imported"));
        }
        Command::Check {
            files,
            format,
            json,
            mapping,
        } => {
            let how = tsumugi_app::ingest::ReadAs {
                format: parse_format(&format)?,
                mapping,
            };
            let mut failed = false;
            for f in &files {
                let r = tsumugi_app::ingest::check(f, &how, json)
                    .with_context(|| format!("checking {}", f.display()))?;
                failed |= r.n_rejected > 0;
                if json {
                    output::json(&r)?;
                } else {
                    output::check(&r);
                }
            }
            if failed {
                return Ok(ExitCode::from(4));
            }
        }
        Command::Ingest {
            provider,
            format,
            mapping,
            files,
            data,
        } => {
            let how = tsumugi_app::ingest::ReadAs {
                format: parse_format(&format)?,
                mapping,
            };
            let ctx = data.open().await?;
            for r in tsumugi_app::ingest::resume_pending(&ctx).await? {
                output::submission(&r);
            }
            let provider = ProviderId(provider);
            for f in &files {
                let r = tsumugi_app::ingest::submit(&ctx, &provider, f, &how)
                    .await
                    .with_context(|| format!("submitting {}", f.display()))?;
                output::submission(&r);
            }
            ctx.close().await;
        }
        Command::Optout {
            action: Some(OptoutAction::Review { data }),
            ..
        } => {
            let ctx = data.open().await?;
            let waiting = tsumugi_app::optout::in_review(&ctx).await?;
            ctx.close().await;
            output::line(&format!(
                "要確認 / stop requests waiting for a decision: {}",
                waiting.len()
            ));
            for (request, candidates) in waiting {
                output::line(&format!("  {request}: candidates {candidates:?}"));
            }
        }
        Command::Optout {
            action:
                Some(OptoutAction::Decide {
                    request_id,
                    person_key,
                    data,
                }),
            ..
        } => {
            let ctx = data.open().await?;
            let r = tsumugi_app::optout::decide(&ctx, &request_id, person_key).await?;
            ctx.close().await;
            output::json(&r)?;
        }
        Command::Optout {
            csv: Some(csv),
            data,
            ..
        } => {
            let ctx = data.open().await?;
            let window = tsumugi_app::optout::ReceivedWindow {
                after: None,
                until: None,
            };
            let requests = tsumugi_app::optout::read_stop_requests(&csv, window)?;
            let r = tsumugi_app::optout::register_stop_requests(&ctx, &requests).await?;
            ctx.close().await;
            output::json(&r)?;
        }
        Command::Optout { .. } => {
            anyhow::bail!("name a stop-request CSV, or `optout review` / `optout decide`")
        }
        Command::Link {
            action: Some(action),
            ..
        } => link_action(action).await?,
        Command::Link { files, .. } if !files.input.is_empty() => {
            let r = tsumugi_app::linkage::link_files(&files.file_link())?;
            if files.json {
                output::json(&r)?;
            } else {
                output::link_report(&r);
            }
        }
        Command::Link {
            data, incremental, ..
        } => {
            let ctx = data.open().await?;
            let mode = if incremental {
                tsumugi_app::research::LinkMode::NewRecords
            } else {
                tsumugi_app::research::LinkMode::Full
            };
            let s = tsumugi_app::research::link_records(&ctx, mode).await?;
            let o = tsumugi_app::optout::rematch(&ctx).await?;
            ctx.close().await;
            output::line(&format!(
                "名寄せ / linked: {} records → {} persons ({} new, {} merges); 停止請求 / stop requests: {} persons purged",
                s.n_records,
                s.n_persons,
                s.n_new_persons,
                s.merges.len(),
                o.n_persons_purged
            ));
        }
        Command::Build { data } => {
            let ctx = data.open().await?;
            let r = tsumugi_app::research::build(&ctx).await?;
            ctx.close().await;
            output::json(&r)?;
        }
        Command::Release {
            application,
            recipient,
            k,
            max_suppression,
            dates,
            max_shift_days,
            first_year,
            region,
            bom,
            data,
        } => {
            use tsumugi_app::release::{DatePolicy, RegionDetail};
            let ctx = data.open().await?;
            let req = tsumugi_app::release::ReleaseRequest {
                application_id: application,
                recipient,
                k,
                max_suppression,
                dates: match dates {
                    DatesArg::Month => DatePolicy::Month,
                    DatesArg::Shift => DatePolicy::Shift {
                        max_days: max_shift_days,
                    },
                    DatesArg::DaysFromIndex => DatePolicy::DaysFromIndex,
                },
                first_year_of: first_year,
                region: match region {
                    RegionArg::Municipality => RegionDetail::Municipality,
                    RegionArg::Prefecture => RegionDetail::Prefecture,
                },
                bom,
                seed: None,
            };
            let r = tsumugi_app::release::create_release(&ctx, &req).await?;
            ctx.close().await;
            output::json(&r)?;
        }
        Command::Stats {
            application,
            icd10,
            data,
        } => {
            let ctx = data.open().await?;
            let r = tsumugi_app::statistics::diagnosis_by_prefecture_and_age(
                &ctx,
                &application,
                &icd10,
            )
            .await?;
            ctx.close().await;
            output::json(&r)?;
        }
        Command::Status { data } => {
            let ctx = data.open().await?;
            let c = tsumugi_app::ingest::counts(&ctx).await?;
            ctx.close().await;
            output::json(&c)?;
        }
        Command::Audit { action } => match action {
            AuditAction::Verify { data } => {
                let ctx = data.open().await?;
                let s = tsumugi_app::audit::verify(&ctx).await?;
                ctx.close().await;
                return Ok(output::audit(&s));
            }
            AuditAction::Checkpoint { data } => {
                let ctx = data.open().await?;
                let seq = tsumugi_app::audit::checkpoint(&ctx).await?;
                ctx.close().await;
                output::line(&match seq {
                    Some(s) => format!("チェックポイントに署名 / checkpoint signed at entry {s}"),
                    None => "署名済み / head already checkpointed".to_owned(),
                });
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

async fn link_action(action: LinkAction) -> Result<()> {
    match action {
        LinkAction::Review { data } => {
            let ctx = data.open().await?;
            let items = tsumugi_app::research::review_queue(&ctx).await?;
            ctx.close().await;
            output::review_queue(&items);
        }
        LinkAction::Decide {
            a,
            b,
            decision,
            data,
        } => {
            let decision = tsumugi_app::research::parse_review_decision(&decision)?;
            let ctx = data.open().await?;
            let queued = tsumugi_app::research::decide_review(&ctx, a, b, decision).await?;
            ctx.close().await;
            output::line(&format!(
                "判定を記録 / decision recorded for records {a} and {b}{}; it binds the next `tsumugi link`",
                if queued { "" } else { " (not in the queue)" }
            ));
        }
        LinkAction::Eval {
            clusters,
            truth,
            json,
        } => {
            let e = tsumugi_app::linkage::evaluate_files(&clusters, &truth)?;
            if json {
                output::json(&e)?;
            } else {
                output::evaluation(&e);
            }
        }
        LinkAction::Explain { files, a, b, data } => {
            let e = if files.input.is_empty() {
                let key = |s: &str| {
                    s.parse::<i64>()
                        .with_context(|| format!("{s} is not a record key (a number)"))
                };
                let (ka, kb) = (key(&a)?, key(&b)?);
                let ctx = data.open().await?;
                let e = tsumugi_app::research::explain_records(&ctx, ka, kb).await;
                ctx.close().await;
                e?
            } else {
                tsumugi_app::linkage::explain_pair(&files.file_link(), &a, &b)?
            };
            if files.json {
                output::json(&e)?;
            } else {
                output::explanation(&a, &b, &e);
            }
        }
        LinkAction::Blocking { files, truth } => {
            let r = tsumugi_app::linkage::blocking_report(&files.file_link(), truth.as_deref())?;
            if files.json {
                output::json(&r)?;
            } else {
                output::blocking(&r);
            }
        }
    }
    Ok(())
}
