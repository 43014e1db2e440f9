//! Statutory records (記録の作成・保存): what the law requires the processor to record and keep.
//!
//! One row per receipt of a submission, provision of a dataset, statistics result, and deletion
//! after a stop request. The body is canonical JSON; its SHA-256 is written to the audit chain in
//! the same transaction, so a record edited later no longer matches the chain.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tsumugi_store::Database;
use tsumugi_store::sqlx::{self, Row};

use crate::audit::{AuditEvent, append_in, sha256_hex};
use crate::canonical;
use crate::tx::{check_name, parse_timestamp, timestamp, with_write_tx};
use crate::{Error, Result};

/// The kinds of statutory record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// Receipt of medical information from a provider (受領の記録).
    Receipt,
    /// Provision of an anonymized or pseudonymized dataset (提供の記録).
    Provision,
    /// Provision of a statistics result.
    Statistics,
    /// Deletion of a person's data after a stop request (削除の記録).
    Deletion,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 4] = [
        RecordKind::Receipt,
        RecordKind::Provision,
        RecordKind::Statistics,
        RecordKind::Deletion,
    ];

    /// The stored name: `receipt`, `provision`, `statistics` or `deletion`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Receipt => "receipt",
            RecordKind::Provision => "provision",
            RecordKind::Statistics => "statistics",
            RecordKind::Deletion => "deletion",
        }
    }

    /// The inverse of [`RecordKind::as_str`].
    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A stored statutory record.
#[derive(Debug, Clone, PartialEq)]
pub struct StatutoryRecord {
    /// The record's number.
    pub record_id: i64,
    /// Its kind.
    pub kind: RecordKind,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// What it is about: a provider id, release id, result id or person key.
    pub subject: String,
    /// The body (see [`RecordBody`] for the typed forms).
    pub body: Value,
}

/// Body of a [`RecordKind::Receipt`]: one submission received from a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The provider (医療情報取扱事業者) id.
    pub provider_id: String,
    /// The registry's submission id.
    pub submission_id: i64,
    /// The day it was received.
    pub received_on: NaiveDate,
    /// Persons in the submission.
    pub n_persons: u64,
    /// Records in the submission.
    pub n_records: u64,
    /// The data items received (e.g. `diagnosis`, `lab_result`), sorted.
    pub data_items: Vec<String>,
    /// Persons whose notice (通知) was confirmed and waiting period passed.
    pub notice_confirmed: u64,
    /// Persons held because their notice is missing or too recent.
    pub n_held: u64,
    /// Records rejected as unreadable.
    pub n_rejected: u64,
}

/// Body of a [`RecordKind::Provision`]: one dataset handed to a data user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provision {
    /// The release id.
    pub release_id: String,
    /// The approved application it rests on.
    pub application_id: String,
    /// Who received it.
    pub recipient: String,
    /// Persons in the dataset.
    pub n_persons: u64,
    /// The opt-out registry version that filtered it.
    pub optout_version: i64,
    /// SHA-256 of the release manifest, 64 hex digits.
    pub manifest_sha256: String,
}

/// Body of a [`RecordKind::Statistics`]: one aggregate result handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatisticsRecord {
    /// The result's id.
    pub result_id: String,
    /// The approved application it rests on.
    pub application_id: String,
    /// Who received it.
    pub recipient: String,
    /// Which statistic (e.g. `persons_by_prefecture_and_age`).
    pub statistic: String,
    /// The disclosure rules applied, as the statistic reports them (e.g. `min_cell=10,allow_zero`).
    pub rules: String,
    /// Published cells, margins included.
    pub n_cells: u64,
    /// Cells suppressed.
    pub n_suppressed: u64,
    /// The opt-out registry version that filtered the input.
    pub optout_version: i64,
    /// SHA-256 of the published output, 64 hex digits.
    pub output_sha256: String,
}

/// Body of a [`RecordKind::Deletion`]: a person's data purged after a stop request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    /// The internal person key (opaque; never an identifier).
    pub person_key: i64,
    /// Why (e.g. `stop_request`).
    pub reason: String,
    /// The stop request's id.
    pub request_id: String,
    /// Vault records purged.
    pub n_vault_records: u64,
    /// Research-store rows purged.
    pub n_research_rows: u64,
}

/// A typed record body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordBody {
    /// A receipt.
    Receipt(Receipt),
    /// A provision.
    Provision(Provision),
    /// A statistics result.
    Statistics(StatisticsRecord),
    /// A deletion.
    Deletion(Deletion),
}

impl RecordBody {
    /// The record kind this body belongs to.
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordBody::Receipt(_) => RecordKind::Receipt,
            RecordBody::Provision(_) => RecordKind::Provision,
            RecordBody::Statistics(_) => RecordKind::Statistics,
            RecordBody::Deletion(_) => RecordKind::Deletion,
        }
    }

    /// The body as JSON.
    ///
    /// # Errors
    /// [`Error::Internal`] if serialization fails (it cannot for these types).
    pub fn to_json(&self) -> Result<Value> {
        let res = match self {
            RecordBody::Receipt(b) => serde_json::to_value(b),
            RecordBody::Provision(b) => serde_json::to_value(b),
            RecordBody::Statistics(b) => serde_json::to_value(b),
            RecordBody::Deletion(b) => serde_json::to_value(b),
        };
        res.map_err(|_| Error::Internal("record body does not serialize"))
    }

    /// Reads a stored record's body back into its typed form.
    ///
    /// # Errors
    /// [`Error::MalformedRow`] when the body does not have the kind's fields.
    pub fn from_record(record: &StatutoryRecord) -> Result<RecordBody> {
        let malformed = |_| Error::MalformedRow {
            table: "statutory_records",
            key: record.record_id.to_string(),
            reason: "body does not match its kind",
        };
        let body = record.body.clone();
        Ok(match record.kind {
            RecordKind::Receipt => {
                RecordBody::Receipt(serde_json::from_value(body).map_err(malformed)?)
            }
            RecordKind::Provision => {
                RecordBody::Provision(serde_json::from_value(body).map_err(malformed)?)
            }
            RecordKind::Statistics => {
                RecordBody::Statistics(serde_json::from_value(body).map_err(malformed)?)
            }
            RecordKind::Deletion => {
                RecordBody::Deletion(serde_json::from_value(body).map_err(malformed)?)
            }
        })
    }
}

/// Writes a statutory record and returns its id.
///
/// In the same transaction it appends the audit event `statutory_record.created` (actor
/// `system`) whose details hold the record id, kind and SHA-256 of the stored body. The body must
/// not hold identifiers of persons.
///
/// # Errors
/// [`Error::InvalidInput`] for an empty subject or a body that is not a JSON object;
/// [`Error::Database`] on I/O.
pub async fn record(
    db: &Database,
    at: DateTime<Utc>,
    kind: RecordKind,
    subject: &str,
    body: &Value,
) -> Result<i64> {
    insert(db, at, kind, subject, body, false).await
}

/// Like [`record`], but writes nothing when a record of this kind about this subject exists
/// already, and returns that record's id: for steps that a crash may make run twice (a
/// receipt of a submission processed again from its staged copy).
///
/// # Errors
/// As [`record`].
pub async fn record_once(
    db: &Database,
    at: DateTime<Utc>,
    kind: RecordKind,
    subject: &str,
    body: &Value,
) -> Result<i64> {
    insert(db, at, kind, subject, body, true).await
}

async fn insert(
    db: &Database,
    at: DateTime<Utc>,
    kind: RecordKind,
    subject: &str,
    body: &Value,
    once: bool,
) -> Result<i64> {
    check_name("subject", subject)?;
    if !body.is_object() {
        return Err(Error::InvalidInput {
            field: "body",
            reason: "must be a JSON object",
        });
    }
    let text = canonical::to_string(body);
    let body_sha256 = sha256_hex(text.as_bytes());
    with_write_tx!(db, |conn| {
        if once {
            let existing = sqlx::query(
                "SELECT record_id FROM statutory_records WHERE kind = $1 AND subject = $2",
            )
            .bind(kind.as_str())
            .bind(subject)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read statutory record"))?;
            if let Some(row) = existing {
                return row.try_get(0).map_err(Error::db("read statutory record"));
            }
        }
        let row = sqlx::query(
            "INSERT INTO statutory_records (kind, recorded_at, subject, body) \
             VALUES ($1, $2, $3, $4) RETURNING record_id",
        )
        .bind(kind.as_str())
        .bind(timestamp(at))
        .bind(subject)
        .bind(text.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::db("insert statutory record"))?;
        let record_id: i64 = row
            .try_get(0)
            .map_err(Error::db("insert statutory record"))?;
        let event = AuditEvent {
            actor: "system".to_owned(),
            action: "statutory_record.created".to_owned(),
            subject: format!("statutory_record/{record_id}"),
            details: json!({
                "record_id": record_id,
                "kind": kind.as_str(),
                "body_sha256": body_sha256,
            }),
        };
        append_in(conn, at, &event).await?;
        Ok(record_id)
    })
}

/// Writes a typed statutory record; see [`record`].
///
/// # Errors
/// As [`record`].
pub async fn record_body(
    db: &Database,
    at: DateTime<Utc>,
    subject: &str,
    body: &RecordBody,
) -> Result<i64> {
    record(db, at, body.kind(), subject, &body.to_json()?).await
}

/// Lists statutory records, of one kind or all, oldest first.
///
/// # Errors
/// [`Error::Database`] on I/O; [`Error::MalformedRow`] for a row that cannot be read back.
pub async fn list(db: &Database, kind: Option<RecordKind>) -> Result<Vec<StatutoryRecord>> {
    let rows = match kind {
        Some(kind) => {
            sqlx::query(
                "SELECT record_id, kind, recorded_at, subject, body FROM statutory_records \
                 WHERE kind = $1 ORDER BY record_id",
            )
            .bind(kind.as_str())
            .fetch_all(db.pool())
            .await
        }
        None => {
            sqlx::query(
                "SELECT record_id, kind, recorded_at, subject, body FROM statutory_records \
                 ORDER BY record_id",
            )
            .fetch_all(db.pool())
            .await
        }
    }
    .map_err(Error::db("read statutory records"))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let get = Error::db("read statutory records");
        let record_id: i64 = row.try_get(0).map_err(get)?;
        let kind: String = row
            .try_get(1)
            .map_err(Error::db("read statutory records"))?;
        let recorded_at: String = row
            .try_get(2)
            .map_err(Error::db("read statutory records"))?;
        let subject: String = row
            .try_get(3)
            .map_err(Error::db("read statutory records"))?;
        let body: String = row
            .try_get(4)
            .map_err(Error::db("read statutory records"))?;
        let malformed = |reason| Error::MalformedRow {
            table: "statutory_records",
            key: record_id.to_string(),
            reason,
        };
        out.push(StatutoryRecord {
            record_id,
            kind: RecordKind::parse(&kind).ok_or_else(|| malformed("unknown kind"))?,
            recorded_at: parse_timestamp(&recorded_at).ok_or_else(|| malformed("bad timestamp"))?,
            subject,
            body: serde_json::from_str(&body).map_err(|_| malformed("body is not JSON"))?,
        });
    }
    Ok(out)
}
