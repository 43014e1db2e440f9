//! Applications, committee decisions, and anonymized releases.

use rand::RngCore;
use serde::Serialize;
use tsumugi_anon::{ReleaseConfig, ReleaseSummary};
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

/// What to release.
#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    /// The approved application.
    pub application_id: String,
    /// Who receives the package.
    pub recipient: String,
    /// Minimum persons per equivalence class.
    pub k: u32,
    /// Largest share of persons that may be suppressed.
    pub max_suppression: f64,
    /// Derive the pseudonym key from this seed (reproducible packages); `None` draws a random
    /// key that is discarded after the release, so pseudonyms can never be recomputed.
    pub seed: Option<u64>,
}

/// A produced release.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseOutcome {
    /// Its id.
    pub release_id: String,
    /// Where the package is.
    pub dir: String,
    /// Persons released.
    pub n_persons: usize,
    /// Persons suppressed.
    pub n_suppressed: usize,
    /// Persons coarsened to prefecture.
    pub n_coarsened: usize,
    /// Events released.
    pub n_events: u64,
    /// Smallest class.
    pub min_class: usize,
    /// Opt-out registry version that filtered it.
    pub optout_version: i64,
    /// SHA-256 of the manifest.
    pub manifest_sha256: String,
}

/// Produces an anonymized release for an approved application: checks the approval, filters
/// by the current opt-out registry again, anonymizes, registers the release, writes the
/// statutory provision record and an audit entry.
///
/// # Errors
/// Governance errors (not approved), [`Error::NoLifecourse`], anonymization errors (k not
/// reachable within the suppression limit).
pub async fn create_release(ctx: &Ctx, req: &ReleaseRequest) -> Result<ReleaseOutcome> {
    let approval = tsumugi_govern::approval(&ctx.registry, &req.application_id).await?;
    if approval.kind() != ApplicationKind::Anonymized {
        return Err(Error::Internal(
            "only anonymized releases are produced here".to_owned(),
        ));
    }
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
    let cfg = ReleaseConfig {
        release_id: release_id.clone(),
        application_id: req.application_id.clone(),
        k: req.k,
        reference_date: now.date_naive(),
        age_band_years: 5,
        top_age: 90,
        max_suppression: req.max_suppression,
        optout_version,
    };
    let summary: ReleaseSummary =
        tsumugi_anon::write_release(&ctx.store, &excluded, &cfg, &key, &ctx.dir.releases())?;
    key.fill(0);
    let path = summary.dir.display().to_string();
    tsumugi_govern::register_release(
        &ctx.registry,
        now,
        &approval,
        ReleaseEntry {
            release_id: release_id.clone(),
            created_at: now,
            optout_version,
            n_persons: summary.n_persons as u64,
            n_events: summary.n_events,
            manifest_sha256: summary.manifest_sha256.clone(),
            path: path.clone(),
        },
    )
    .await?;
    let provision = Provision {
        release_id: release_id.clone(),
        application_id: req.application_id.clone(),
        recipient: req.recipient.clone(),
        n_persons: summary.n_persons as u64,
        optout_version,
        manifest_sha256: summary.manifest_sha256.clone(),
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
            "application": req.application_id, "persons": summary.n_persons, "events": summary.n_events,
            "k": req.k, "min_class": summary.min_class, "optout_version": optout_version,
            "manifest_sha256": summary.manifest_sha256,
        }),
    )
    .await?;
    Ok(ReleaseOutcome {
        release_id,
        dir: path,
        n_persons: summary.n_persons,
        n_suppressed: summary.n_suppressed,
        n_coarsened: summary.n_coarsened,
        n_events: summary.n_events,
        min_class: summary.min_class,
        optout_version,
        manifest_sha256: summary.manifest_sha256,
    })
}
