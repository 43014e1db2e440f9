//! Applications, committee decisions, and releases (匿名加工 and 仮名加工).

use rand::RngCore;
use serde::Serialize;
use tsumugi_anon::{ApprovalRef, LifecourseConfig, LifecourseRelease, Measures, Metric};
pub use tsumugi_anon::{DatePolicy, FirstYear, LifecourseReport, RegionDetail};
use tsumugi_govern::{
    ApplicationKind, Decision, NewApplication, Provision, RecordBody, ReleaseEntry,
};

use crate::{Ctx, Error, Result, audit};

/// The built-in sample application the demo releases under.
pub const SAMPLE_APPLICATION_ID: &str = "APP-SAMPLE-0001";

/// Submits the sample application (a diabetes lifecourse study) and records the review
/// committee's approval, unless it exists already.
///
/// # Errors
/// Governance errors.
pub async fn ensure_sample_application(ctx: &Ctx) -> Result<()> {
    if tsumugi_govern::application(&ctx.registry, SAMPLE_APPLICATION_ID)
        .await?
        .is_some()
    {
        return Ok(());
    }
    tsumugi_govern::submit_application(
        &ctx.registry,
        ctx.clock.now(),
        NewApplication {
            application_id: SAMPLE_APPLICATION_ID.to_owned(),
            title: "糖尿病の生涯経過に関する研究 (sample lifecourse study of type 2 diabetes)".to_owned(),
            applicant: "サンプル大学 疫学講座 (sample university, dept. of epidemiology)".to_owned(),
            purpose: "Describe the course of type 2 diabetes from checkups to care needs; built-in sample application."
                .to_owned(),
            kind: ApplicationKind::Anonymized,
        },
    )
    .await?;
    tsumugi_govern::decide(
        &ctx.registry,
        ctx.clock.now(),
        SAMPLE_APPLICATION_ID,
        Decision::Approve {
            conditions: vec![
                "k-anonymity k=5 over persons 個人単位でk=5".to_owned(),
                "publish only aggregates of 10 or more persons 10人未満の集計値は公表しない"
                    .to_owned(),
            ],
        },
    )
    .await?;
    Ok(())
}

/// What to release. The kind follows the approval: an anonymized application gets 匿名加工
/// under `k`, `max_suppression`, `dates` and `first_year_of`; a pseudonymized one gets 仮名加工
/// with addresses at `region`.
#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    /// The approved application.
    pub application_id: String,
    /// Who receives the package.
    pub recipient: String,
    /// Minimum persons per equivalence class (anonymized).
    pub k: u32,
    /// Largest share of persons that may be suppressed (anonymized).
    pub max_suppression: f64,
    /// How event dates are released (anonymized).
    pub dates: DatePolicy,
    /// Event-derived quasi-identifiers (anonymized), e.g. the year of first diagnosis of E11.
    pub first_year_of: Vec<FirstYear>,
    /// Address detail (pseudonymized).
    pub region: RegionDetail,
    /// Start the CSV files with a UTF-8 BOM.
    pub bom: bool,
    /// Derive the pseudonym key from this seed (reproducible packages); `None` draws a random
    /// key that is discarded after the release, so pseudonyms can never be recomputed.
    pub seed: Option<u64>,
}

impl ReleaseRequest {
    /// An anonymized-release request with the defaults of the sample study: k = 5, at most
    /// 5 % of persons suppressed (a cohort loses little), month dates, the year of first type 2 diabetes (E11) diagnosis as an
    /// event-derived quasi-identifier.
    pub fn sample(application_id: &str, recipient: &str, seed: Option<u64>) -> ReleaseRequest {
        ReleaseRequest {
            application_id: application_id.to_owned(),
            recipient: recipient.to_owned(),
            k: 5,
            max_suppression: 0.05,
            dates: DatePolicy::Month,
            first_year_of: vec![FirstYear {
                name: "e11".to_owned(),
                system: "icd10".to_owned(),
                prefix: "E11".to_owned(),
            }],
            region: RegionDetail::Municipality,
            bom: false,
            seed,
        }
    }
}

/// A produced release.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseOutcome {
    /// Its id.
    pub release_id: String,
    /// `anonymized` or `pseudonymized`.
    pub kind: String,
    /// Where the package is.
    pub dir: String,
    /// Persons released.
    pub n_persons: usize,
    /// Events released.
    pub n_events: u64,
    /// Persons in the smallest class.
    pub min_class: u64,
    /// Opt-out registry version that filtered it.
    pub optout_version: i64,
    /// SHA-256 of the manifest.
    pub manifest_sha256: String,
    /// Risk and utility (also `report.json` in the package).
    pub report: LifecourseReport,
}

/// Produces a release for an approved application: checks the approval, filters by the
/// current opt-out registry again, anonymizes or pseudonymizes as the approval says,
/// registers the release, writes the statutory provision record and an audit entry.
///
/// # Errors
/// Governance errors (not approved), [`Error::NoLifecourse`], anonymization errors (k not
/// reachable within the suppression limit, nobody to release).
pub async fn create_release(ctx: &Ctx, req: &ReleaseRequest) -> Result<ReleaseOutcome> {
    let approval = tsumugi_govern::approval(&ctx.registry, &req.application_id).await?;
    if !ctx.store.persons_file().exists() {
        return Err(Error::NoLifecourse);
    }
    let now = ctx.clock.now();
    let n_existing = tsumugi_govern::list_releases(&ctx.registry).await?.len();
    let release_id = format!("REL-{}-{:04}", now.format("%Y%m%d"), n_existing + 1);
    let optout_version = ctx.vault.optout_version().await?;
    let excluded = ctx.vault.enforced_persons().await?;
    // The release key exists only for the duration of this call: pseudonyms cannot be
    // recomputed, so two releases cannot be joined.
    let mut key = match req.seed {
        Some(seed) => tsumugi_anon::derive_release_key(seed, &release_id),
        None => {
            let mut k = [0u8; 32];
            ctx.rng().fill_bytes(&mut k);
            k
        }
    };
    let measures = match approval.kind() {
        ApplicationKind::Anonymized => Measures::Anonymized {
            k: req.k,
            suppression_limit: req.max_suppression,
            metric: Metric::default(),
            dates: req.dates,
            first_year_of: req.first_year_of.clone(),
        },
        ApplicationKind::Pseudonymized => Measures::Pseudonymized { region: req.region },
        ApplicationKind::Statistics => {
            key.fill(0);
            return Err(Error::PolicyWrongKind(req.application_id.clone()));
        }
    };
    let cfg = LifecourseConfig {
        release_id: release_id.clone(),
        approval: ApprovalRef {
            application_id: approval.application_id().to_owned(),
            kind: approval.kind().as_str().to_owned(),
            decided_at: approval.decided_at().to_rfc3339(),
            conditions: approval.conditions().to_vec(),
        },
        optout_version,
        reference_date: now.date_naive(),
        measures,
        bom: req.bom,
    };
    let written = tsumugi_anon::write_lifecourse_release(
        &ctx.store,
        &excluded,
        &cfg,
        &key,
        &ctx.dir.releases(),
    );
    key.fill(0);
    let LifecourseRelease {
        dir,
        report,
        manifest_sha256,
    } = written?;
    let path = dir.display().to_string();
    tsumugi_govern::register_release(
        &ctx.registry,
        now,
        &approval,
        ReleaseEntry {
            release_id: release_id.clone(),
            created_at: now,
            optout_version,
            n_persons: report.persons_released,
            n_events: report.events_released,
            manifest_sha256: manifest_sha256.clone(),
            path: path.clone(),
        },
    )
    .await?;
    let provision = Provision {
        release_id: release_id.clone(),
        application_id: req.application_id.clone(),
        recipient: req.recipient.clone(),
        n_persons: report.persons_released,
        optout_version,
        manifest_sha256: manifest_sha256.clone(),
    };
    tsumugi_govern::record_body(
        &ctx.registry,
        now,
        &release_id,
        &RecordBody::Provision(provision),
    )
    .await?;
    audit::record(
        ctx,
        "release.created",
        &release_id,
        serde_json::json!({
            "application": req.application_id, "kind": report.mode,
            "persons": report.persons_released, "events": report.events_released,
            "k": req.k, "min_class": report.min_class, "optout_version": optout_version,
            "manifest_sha256": manifest_sha256,
        }),
    )
    .await?;
    Ok(ReleaseOutcome {
        release_id,
        kind: report.mode.clone(),
        dir: path,
        n_persons: report.persons_released as usize,
        n_events: report.events_released,
        min_class: report.min_class,
        optout_version,
        manifest_sha256,
        report,
    })
}
