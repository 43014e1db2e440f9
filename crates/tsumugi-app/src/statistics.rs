//! Statistics answered in-house ("code to data"): only disclosure-checked aggregates leave.

use serde::Serialize;
use sha2::{Digest, Sha256};
use tsumugi_govern::{RecordBody, StatisticsRecord};
use tsumugi_stats::{DiagnosisCountSpec, SuppressionRules};

use crate::{Ctx, Error, Result, audit};

/// A checked statistics result.
#[derive(Debug, Clone, Serialize)]
pub struct StatsOutcome {
    /// Its id.
    pub result_id: String,
    /// The table (CSV, suppressed cells shown as `-`).
    pub csv_path: String,
    /// Cells published (interior and margins).
    pub n_cells: u64,
    /// Cells suppressed as primary (under the threshold).
    pub n_primary: u64,
    /// Cells suppressed as secondary (so primaries cannot be recovered from totals).
    pub n_secondary: u64,
    /// Persons in the denominator population.
    pub n_population: u64,
}

/// Counts persons with an ICD-10 diagnosis by prefecture × 10-year age band (90+), applies
/// the NDB rules (no cell of 1–9 persons, secondary suppression), writes the result with its
/// statutory record and audit entry.
///
/// # Errors
/// Statistics errors, [`Error::NoLifecourse`].
pub async fn diagnosis_by_prefecture_and_age(
    ctx: &Ctx,
    application_id: &str,
    icd10_prefix: &str,
) -> Result<StatsOutcome> {
    tsumugi_govern::approval(&ctx.registry, application_id).await?;
    if !ctx.store.persons_file().exists() {
        return Err(Error::NoLifecourse);
    }
    let now = ctx.clock.now();
    let spec = DiagnosisCountSpec {
        icd10_prefix: icd10_prefix.to_owned(),
        reference_date: now.date_naive(),
        age_band_years: 10,
        top_age: 90,
    };
    let count = tsumugi_stats::count_persons_by_prefecture_and_age(&ctx.store, &spec)?;
    let rules = SuppressionRules::ndb();
    let table = tsumugi_stats::suppress(&count.table, &rules);
    let n_results =
        tsumugi_govern::list(&ctx.registry, Some(tsumugi_govern::RecordKind::Statistics))
            .await?
            .len();
    let result_id = format!("STAT-{}-{:04}", now.format("%Y%m%d"), n_results + 1);
    let dir = ctx.dir.statistics().join(&result_id);
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    let csv = table.to_csv();
    let csv_path = dir.join("table.csv");
    tsumugi_store::write_atomically(&csv_path, csv.as_bytes())?;
    let optout_version = ctx.vault.optout_version().await?;
    let meta = serde_json::json!({
        "result_id": result_id,
        "statistic": format!("persons with ICD-10 {icd10_prefix}* by prefecture × age band"),
        "reference_date": spec.reference_date.to_string(),
        "rules": rules.describe(),
        "optout_registry_version": optout_version,
        "table_sha256": hex::encode(Sha256::digest(csv.as_bytes())),
    });
    let meta_bytes =
        serde_json::to_vec_pretty(&meta).map_err(|e| Error::Internal(e.to_string()))?;
    tsumugi_store::write_atomically(&dir.join("result.json"), &meta_bytes)?;
    let n_primary = table.n_suppressed(tsumugi_stats::Reason::Primary);
    let n_secondary = table.n_suppressed(tsumugi_stats::Reason::Secondary);
    let record = StatisticsRecord {
        result_id: result_id.clone(),
        application_id: application_id.to_owned(),
        recipient: application_id.to_owned(),
        statistic: format!("diagnosis_by_prefecture_and_age:{icd10_prefix}"),
        rules: rules.describe(),
        n_cells: table.n_entries(),
        n_suppressed: n_primary + n_secondary,
        optout_version,
        output_sha256: hex::encode(Sha256::digest(csv.as_bytes())),
    };
    tsumugi_govern::record_body(
        &ctx.registry,
        now,
        &result_id,
        &RecordBody::Statistics(record),
    )
    .await?;
    audit::record(
        ctx,
        "statistics.released",
        &result_id,
        serde_json::json!({"cells": table.n_entries(), "primary": n_primary, "secondary": n_secondary, "optout_version": optout_version}),
    )
    .await?;
    Ok(StatsOutcome {
        result_id,
        csv_path: csv_path.display().to_string(),
        n_cells: table.n_entries(),
        n_primary,
        n_secondary,
        n_population: count.n_population,
    })
}
