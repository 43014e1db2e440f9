//! The registry's intake tables: providers, submissions and their rejections.
//!
//! Governance tables (audit log, statutory records, applications, releases) are read and written
//! by `tsumugi-govern`; these are the ones the submission path needs.

use std::collections::BTreeMap;

use sqlx::Row;
use tsumugi_model::{Diagnostic, Severity};

use crate::{Database, Error, Result};

/// A registered data provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEntry {
    /// Its code.
    pub provider_id: String,
    /// `ProviderKind::as_str`.
    pub kind: String,
    /// The organisation's name.
    pub name: String,
    /// Notice waiting period in days.
    pub waiting_days: i64,
}

/// One submission's registry row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRow {
    /// Its id.
    pub submission_id: i64,
    /// Who sent it.
    pub provider_id: String,
    /// Hex SHA-256 of the content.
    pub content_sha256: String,
    /// The file name as sent.
    pub file_name: String,
    /// `staged` (acknowledged) or `processed`.
    pub status: String,
    /// The format it is read as (`tsumugi_formats::Format::as_str`).
    pub format: String,
    /// The TOML mapping of a mapped-CSV submission.
    pub mapping: Option<String>,
}

/// What processing a submission found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionCounts {
    /// Records read.
    pub n_records: u64,
    /// Records stored.
    pub n_accepted: u64,
    /// Records rejected.
    pub n_rejected: u64,
    /// Events stored.
    pub n_events: u64,
}

/// Registers a provider, or updates its kind, name and waiting period.
///
/// # Errors
/// [`Error::Database`].
pub async fn upsert_provider(db: &Database, p: &ProviderEntry, registered_at: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO providers (provider_id, kind, name, waiting_days, registered_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (provider_id) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
         waiting_days = excluded.waiting_days",
    )
    .bind(p.provider_id.clone())
    .bind(p.kind.clone())
    .bind(p.name.clone())
    .bind(p.waiting_days)
    .bind(registered_at.to_owned())
    .execute(db.pool())
    .await
    .map_err(Error::db("register provider"))?;
    Ok(())
}

/// Whether a provider is registered.
///
/// # Errors
/// [`Error::Database`].
pub async fn provider_exists(db: &Database, provider_id: &str) -> Result<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM providers WHERE provider_id = $1")
            .bind(provider_id.to_owned())
            .fetch_optional(db.pool())
            .await
            .map_err(Error::db("read provider"))?
            .is_some(),
    )
}

/// Every provider's notice waiting period in days.
///
/// # Errors
/// [`Error::Database`].
pub async fn waiting_days(db: &Database) -> Result<BTreeMap<String, i64>> {
    let rows = sqlx::query("SELECT provider_id, waiting_days FROM providers")
        .fetch_all(db.pool())
        .await
        .map_err(Error::db("read providers"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Every provider's kind ([`tsumugi_model::ProviderKind`] as text), by provider id.
///
/// # Errors
/// [`Error::Database`].
pub async fn provider_kinds(db: &Database) -> Result<BTreeMap<String, String>> {
    let rows = sqlx::query("SELECT provider_id, kind FROM providers")
        .fetch_all(db.pool())
        .await
        .map_err(Error::db("read providers"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

fn submission_row(r: &sqlx::any::AnyRow) -> Result<SubmissionRow> {
    let err = Error::db("read submission row");
    (|| {
        Ok(SubmissionRow {
            submission_id: r.try_get(0)?,
            provider_id: r.try_get(1)?,
            content_sha256: r.try_get(2)?,
            file_name: r.try_get(3)?,
            status: r.try_get(4)?,
            format: r.try_get(5)?,
            mapping: r.try_get(6)?,
        })
    })()
    .map_err(err)
}

const SUBMISSION_COLUMNS: &str = "SELECT submission_id, provider_id, content_sha256, file_name, status, format, mapping FROM submissions";

/// The submission with this content hash, if any.
///
/// # Errors
/// [`Error::Database`].
pub async fn submission_by_hash(db: &Database, sha256: &str) -> Result<Option<SubmissionRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SUBMISSION_COLUMNS} WHERE content_sha256 = $1"
    )))
    .bind(sha256.to_owned())
    .fetch_optional(db.pool())
    .await
    .map_err(Error::db("look up submission"))?;
    row.as_ref().map(submission_row).transpose()
}

/// One submission by id.
///
/// # Errors
/// [`Error::Database`], also when there is no such submission.
pub async fn submission(db: &Database, submission_id: i64) -> Result<SubmissionRow> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SUBMISSION_COLUMNS} WHERE submission_id = $1"
    )))
    .bind(submission_id)
    .fetch_one(db.pool())
    .await
    .map_err(Error::db("read submission"))?;
    submission_row(&row)
}

/// A submission being acknowledged.
#[derive(Debug, Clone, Copy)]
pub struct NewSubmission<'a> {
    /// Who sent it.
    pub provider_id: &'a str,
    /// Hex SHA-256 of the content.
    pub sha256: &'a str,
    /// The file (or folder) name as sent.
    pub file_name: &'a str,
    /// The format it is read as.
    pub format: &'a str,
    /// The TOML mapping of a mapped CSV.
    pub mapping: Option<&'a str>,
    /// Size in bytes.
    pub n_bytes: u64,
    /// When it was received (RFC 3339).
    pub received_at: &'a str,
}

/// Registers a staged submission (the acknowledgement) and returns its id. The content hash is
/// unique: the same bytes cannot be registered twice.
///
/// # Errors
/// [`Error::Database`].
pub async fn insert_submission(db: &Database, s: &NewSubmission<'_>) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO submissions (provider_id, content_sha256, file_name, format, mapping, n_bytes, received_at, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'staged') RETURNING submission_id",
    )
    .bind(s.provider_id.to_owned())
    .bind(s.sha256.to_owned())
    .bind(s.file_name.to_owned())
    .bind(s.format.to_owned())
    .bind(s.mapping.map(str::to_owned))
    .bind(s.n_bytes as i64)
    .bind(s.received_at.to_owned())
    .fetch_one(db.pool())
    .await
    .map_err(Error::db("register submission"))?;
    Ok(row.get(0))
}

/// Ids of submissions acknowledged but not processed, oldest first.
///
/// # Errors
/// [`Error::Database`].
pub async fn pending_submissions(db: &Database) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT submission_id FROM submissions WHERE status = 'staged' ORDER BY submission_id",
    )
    .fetch_all(db.pool())
    .await
    .map_err(Error::db("read pending submissions"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Number of submissions registered.
///
/// # Errors
/// [`Error::Database`].
pub async fn count_submissions(db: &Database) -> Result<i64> {
    sqlx::query("SELECT COUNT(*) FROM submissions")
        .fetch_one(db.pool())
        .await
        .map(|r| r.get(0))
        .map_err(Error::db("count submissions"))
}

/// Marks a submission processed with its counts.
///
/// # Errors
/// [`Error::Database`].
pub async fn mark_processed(
    db: &Database,
    submission_id: i64,
    c: &SubmissionCounts,
    processed_at: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE submissions SET status = 'processed', n_records = $1, n_accepted = $2, n_rejected = $3, \
         n_events = $4, processed_at = $5 WHERE submission_id = $6",
    )
    .bind(c.n_records as i64)
    .bind(c.n_accepted as i64)
    .bind(c.n_rejected as i64)
    .bind(c.n_events as i64)
    .bind(processed_at.to_owned())
    .bind(submission_id)
    .execute(db.pool())
    .await
    .map_err(Error::db("mark submission processed"))?;
    Ok(())
}

/// Removes a submission's diagnostics, before they are written again one batch at a time with
/// [`append_rejections`] (so processing it again after a crash leaves one set).
///
/// # Errors
/// [`Error::Database`].
pub async fn clear_rejections(db: &Database, submission_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM rejections WHERE submission_id = $1")
        .bind(submission_id)
        .execute(db.pool())
        .await
        .map_err(Error::db("clear rejections"))?;
    Ok(())
}

/// Rows per multi-row `INSERT` of diagnostics (9 parameters each; about a hundred parameters per
/// statement, as binding costs grow with their square on SQLite).
const REJECTION_ROWS_PER_INSERT: usize = 16;

/// Appends a batch of a submission's diagnostics, in one transaction.
///
/// # Errors
/// [`Error::Database`]; nothing of the batch is stored then.
pub async fn append_rejections(
    db: &Database,
    submission_id: i64,
    diagnostics: &[Diagnostic],
) -> Result<()> {
    if diagnostics.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool().begin().await.map_err(Error::db("begin"))?;
    for chunk in diagnostics.chunks(REJECTION_ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO rejections (submission_id, file, record_no, line_no, field, code, severity, reason_ja, reason_en) \
             VALUES {}",
            crate::values_placeholders(chunk.len(), 9)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for d in chunk {
            q = q
                .bind(submission_id)
                .bind(d.file.clone())
                .bind(d.record as i64)
                .bind(d.line.map(|l| l as i64))
                .bind(d.field.clone())
                .bind(d.code.clone())
                .bind(severity_name(d.severity))
                .bind(d.reason_ja.clone())
                .bind(d.reason_en.clone());
        }
        q.execute(&mut *tx)
            .await
            .map_err(Error::db("store rejections"))?;
    }
    tx.commit().await.map_err(Error::db("commit rejections"))
}

/// How many diagnostics of a submission are stored, by severity: `(errors, warnings)`.
///
/// # Errors
/// [`Error::Database`].
pub async fn count_rejections(db: &Database, submission_id: i64) -> Result<(u64, u64)> {
    let rows = sqlx::query(
        "SELECT severity, COUNT(*) FROM rejections WHERE submission_id = $1 GROUP BY severity",
    )
    .bind(submission_id)
    .fetch_all(db.pool())
    .await
    .map_err(Error::db("count rejections"))?;
    let (mut errors, mut warnings) = (0u64, 0u64);
    for row in rows {
        let severity: String = row.try_get(0).map_err(Error::db("count rejections"))?;
        let n: i64 = row.try_get(1).map_err(Error::db("count rejections"))?;
        if severity == "error" {
            errors += n as u64;
        } else {
            warnings += n as u64;
        }
    }
    Ok((errors, warnings))
}

/// `warning` or `error`.
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}
