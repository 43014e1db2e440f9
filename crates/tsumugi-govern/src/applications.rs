//! Applications to the review committee (提供審査委員会), its decisions, and the release register.
//!
//! An application is `submitted`, then decided once: `approved` (with conditions) or `rejected`
//! (with a reason). Only this module can construct an [`Approval`], and it does so only for an
//! approved application, so code that takes `&Approval` cannot run without the committee's
//! decision.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tsumugi_store::Database;
use tsumugi_store::sqlx::{self, AnyConnection, Row, any::AnyRow};

use crate::audit::{AuditEvent, append_in};
use crate::tx::{check_name, parse_timestamp, timestamp, with_write_tx};
use crate::{Error, Result};

/// What an application asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    /// An anonymized dataset (匿名加工医療情報).
    Anonymized,
    /// A pseudonymized dataset for a certified user (仮名加工医療情報).
    Pseudonymized,
    /// Aggregate statistics computed by the processor.
    Statistics,
}

impl ApplicationKind {
    /// The stored name: `anonymized`, `pseudonymized` or `statistics`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationKind::Anonymized => "anonymized",
            ApplicationKind::Pseudonymized => "pseudonymized",
            ApplicationKind::Statistics => "statistics",
        }
    }

    /// The inverse of [`ApplicationKind::as_str`].
    pub fn parse(s: &str) -> Option<ApplicationKind> {
        [
            ApplicationKind::Anonymized,
            ApplicationKind::Pseudonymized,
            ApplicationKind::Statistics,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Waiting for the committee.
    Submitted,
    /// Approved (with conditions).
    Approved,
    /// Rejected (with a reason).
    Rejected,
}

impl ApplicationStatus {
    /// The stored name: `submitted`, `approved` or `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
        }
    }

    /// The inverse of [`ApplicationStatus::as_str`].
    pub fn parse(s: &str) -> Option<ApplicationStatus> {
        [
            ApplicationStatus::Submitted,
            ApplicationStatus::Approved,
            ApplicationStatus::Rejected,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A new application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    /// Its id (chosen by the operator, e.g. `A2026-001`).
    pub application_id: String,
    /// Title of the research.
    pub title: String,
    /// Who applies (organisation and responsible person).
    pub applicant: String,
    /// The purpose, as the committee will read it.
    pub purpose: String,
    /// What is asked for.
    pub kind: ApplicationKind,
}

/// The committee's decision on an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approved, subject to these conditions (may be empty).
    Approve {
        /// Conditions attached to the approval (publication review, erasure date…).
        conditions: Vec<String>,
    },
    /// Rejected.
    Reject {
        /// Why.
        reason: String,
    },
}

/// A stored application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Its id.
    pub application_id: String,
    /// Title.
    pub title: String,
    /// Applicant.
    pub applicant: String,
    /// Purpose.
    pub purpose: String,
    /// What is asked for.
    pub kind: ApplicationKind,
    /// Where it stands.
    pub status: ApplicationStatus,
    /// Conditions of the approval (empty unless approved).
    pub conditions: Vec<String>,
    /// Reason of the rejection (empty unless rejected).
    pub decision_reason: String,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
}

/// Proof that the committee approved an application. Only [`approval`] constructs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    application_id: String,
    kind: ApplicationKind,
    decided_at: DateTime<Utc>,
    conditions: Vec<String>,
}

impl Approval {
    /// The approved application's id.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// What was approved.
    pub fn kind(&self) -> ApplicationKind {
        self.kind
    }

    /// When the committee decided.
    pub fn decided_at(&self) -> DateTime<Utc> {
        self.decided_at
    }

    /// The conditions attached to the approval.
    pub fn conditions(&self) -> &[String] {
        &self.conditions
    }
}

/// A release to register against an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseEntry {
    /// The release's id.
    pub release_id: String,
    /// When the package was built.
    pub created_at: DateTime<Utc>,
    /// The opt-out registry version that filtered it.
    pub optout_version: i64,
    /// Persons in it.
    pub n_persons: u64,
    /// Events (rows) in it.
    pub n_events: u64,
    /// SHA-256 of its manifest, 64 lowercase hex digits.
    pub manifest_sha256: String,
    /// Where the package is (a path in the release zone).
    pub path: String,
}

/// A registered release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The approved application it rests on.
    pub application_id: String,
    /// The release as registered.
    pub entry: ReleaseEntry,
}

/// Records a new application as `submitted`, and appends `application.submitted` (actor: the
/// applicant) to the audit log in the same transaction.
///
/// # Errors
/// [`Error::InvalidInput`] for an empty or over-long id, title or applicant, or an empty purpose;
/// [`Error::InvalidApplicationExists`] when the id is taken; [`Error::Database`] on I/O.
pub async fn submit_application(
    db: &Database,
    at: DateTime<Utc>,
    application: NewApplication,
) -> Result<()> {
    check_name("application_id", &application.application_id)?;
    check_name("title", &application.title)?;
    check_name("applicant", &application.applicant)?;
    if application.purpose.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "purpose",
            reason: "must not be empty",
        });
    }
    let a = &application;
    with_write_tx!(db, |conn| {
        if read_status(conn, &a.application_id).await?.is_some() {
            return Err(Error::InvalidApplicationExists {
                application_id: a.application_id.clone(),
            });
        }
        sqlx::query(
            "INSERT INTO applications (application_id, title, applicant, purpose, kind, status, \
             conditions, submitted_at) VALUES ($1, $2, $3, $4, $5, 'submitted', '[]', $6)",
        )
        .bind(a.application_id.as_str())
        .bind(a.title.as_str())
        .bind(a.applicant.as_str())
        .bind(a.purpose.as_str())
        .bind(a.kind.as_str())
        .bind(timestamp(at))
        .execute(&mut *conn)
        .await
        .map_err(Error::db("insert application"))?;
        let event = AuditEvent {
            actor: a.applicant.clone(),
            action: "application.submitted".to_owned(),
            subject: a.application_id.clone(),
            details: json!({ "kind": a.kind.as_str() }),
        };
        append_in(conn, at, &event).await?;
        Ok(())
    })
}

/// Records the committee's decision on a `submitted` application, and appends
/// `application.approved` or `application.rejected` (actor `committee`) to the audit log in the
/// same transaction. A decision is final.
///
/// # Errors
/// [`Error::InvalidApplicationNotFound`]; [`Error::PolicyAlreadyDecided`] when the application is
/// not `submitted`; [`Error::InvalidInput`] for a rejection without a reason or an empty
/// condition; [`Error::Database`] on I/O.
pub async fn decide(
    db: &Database,
    at: DateTime<Utc>,
    application_id: &str,
    decision: Decision,
) -> Result<()> {
    let (status, conditions, reason) = match &decision {
        Decision::Approve { conditions } => {
            if conditions.iter().any(|c| c.trim().is_empty()) {
                return Err(Error::InvalidInput {
                    field: "conditions",
                    reason: "a condition is empty",
                });
            }
            (
                ApplicationStatus::Approved,
                conditions.clone(),
                String::new(),
            )
        }
        Decision::Reject { reason } => {
            if reason.trim().is_empty() {
                return Err(Error::InvalidInput {
                    field: "reason",
                    reason: "must not be empty",
                });
            }
            (ApplicationStatus::Rejected, Vec::new(), reason.clone())
        }
    };
    let conditions_json = serde_json::to_string(&conditions)
        .map_err(|_| Error::Internal("conditions do not serialize"))?;
    with_write_tx!(db, |conn| {
        match read_status(conn, application_id).await? {
            None => {
                return Err(Error::InvalidApplicationNotFound {
                    application_id: application_id.to_owned(),
                });
            }
            Some(ApplicationStatus::Submitted) => {}
            Some(other) => {
                return Err(Error::PolicyAlreadyDecided {
                    application_id: application_id.to_owned(),
                    status: other.as_str(),
                });
            }
        }
        sqlx::query(
            "UPDATE applications SET status = $1, conditions = $2, decision_reason = $3, \
             decided_at = $4 WHERE application_id = $5 AND status = 'submitted'",
        )
        .bind(status.as_str())
        .bind(conditions_json.as_str())
        .bind(reason.as_str())
        .bind(timestamp(at))
        .bind(application_id)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("update application"))?;
        let event = AuditEvent {
            actor: "committee".to_owned(),
            action: format!("application.{}", status.as_str()),
            subject: application_id.to_owned(),
            details: json!({ "n_conditions": conditions.len() }),
        };
        append_in(conn, at, &event).await?;
        Ok(())
    })
}

/// The committee's approval of `application_id`.
///
/// # Errors
/// [`Error::InvalidApplicationNotFound`]; [`Error::PolicyNotApproved`] when the application is
/// submitted or rejected; [`Error::Database`] on I/O.
pub async fn approval(db: &Database, application_id: &str) -> Result<Approval> {
    let Some(app) = application(db, application_id).await? else {
        return Err(Error::InvalidApplicationNotFound {
            application_id: application_id.to_owned(),
        });
    };
    match (app.status, app.decided_at) {
        (ApplicationStatus::Approved, Some(decided_at)) => Ok(Approval {
            application_id: app.application_id,
            kind: app.kind,
            decided_at,
            conditions: app.conditions,
        }),
        (ApplicationStatus::Approved, None) => Err(Error::MalformedRow {
            table: "applications",
            key: app.application_id,
            reason: "approved without a decision time",
        }),
        (status, _) => Err(Error::PolicyNotApproved {
            application_id: app.application_id,
            status: status.as_str(),
        }),
    }
}

/// One application, if it exists.
///
/// # Errors
/// [`Error::Database`] on I/O; [`Error::MalformedRow`] for a row that cannot be read back.
pub async fn application(db: &Database, application_id: &str) -> Result<Option<Application>> {
    let row = sqlx::query(
        "SELECT application_id, title, applicant, purpose, kind, status, conditions, \
         decision_reason, submitted_at, decided_at FROM applications WHERE application_id = $1",
    )
    .bind(application_id)
    .fetch_optional(db.pool())
    .await
    .map_err(Error::db("read application"))?;
    row.map(|r| application_from_row(&r)).transpose()
}

/// Every application, by id.
///
/// # Errors
/// [`Error::Database`] on I/O; [`Error::MalformedRow`] for a row that cannot be read back.
pub async fn list_applications(db: &Database) -> Result<Vec<Application>> {
    let rows = sqlx::query(
        "SELECT application_id, title, applicant, purpose, kind, status, conditions, \
         decision_reason, submitted_at, decided_at FROM applications ORDER BY application_id",
    )
    .fetch_all(db.pool())
    .await
    .map_err(Error::db("read applications"))?;
    rows.iter().map(application_from_row).collect()
}

/// Registers a release built under `approval`, and appends `release.registered` (actor
/// `operator`) to the audit log in the same transaction.
///
/// The application's status is checked again inside the transaction. The provision record
/// ([`crate::RecordKind::Provision`]) is written when the package is handed over, by the caller.
///
/// # Errors
/// [`Error::InvalidInput`] for an empty id or path, a malformed manifest hash, or counts beyond
/// `i64`; [`Error::InvalidReleaseExists`] when the id is taken; [`Error::PolicyNotApproved`] if
/// the application is no longer approved; [`Error::Database`] on I/O.
pub async fn register_release(
    db: &Database,
    at: DateTime<Utc>,
    approval: &Approval,
    release: ReleaseEntry,
) -> Result<()> {
    check_name("release_id", &release.release_id)?;
    check_name("path", &release.path)?;
    let is_hex = release.manifest_sha256.len() == 64
        && release
            .manifest_sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !is_hex {
        return Err(Error::InvalidInput {
            field: "manifest_sha256",
            reason: "not 64 lowercase hex digits",
        });
    }
    let too_big = |field| Error::InvalidInput {
        field,
        reason: "too large",
    };
    let n_persons = i64::try_from(release.n_persons).map_err(|_| too_big("n_persons"))?;
    let n_events = i64::try_from(release.n_events).map_err(|_| too_big("n_events"))?;
    let r = &release;
    with_write_tx!(db, |conn| {
        match read_status(conn, approval.application_id()).await? {
            Some(ApplicationStatus::Approved) => {}
            Some(other) => {
                return Err(Error::PolicyNotApproved {
                    application_id: approval.application_id().to_owned(),
                    status: other.as_str(),
                });
            }
            None => {
                return Err(Error::InvalidApplicationNotFound {
                    application_id: approval.application_id().to_owned(),
                });
            }
        }
        let exists = sqlx::query("SELECT release_id FROM releases WHERE release_id = $1")
            .bind(r.release_id.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read release"))?;
        if exists.is_some() {
            return Err(Error::InvalidReleaseExists {
                release_id: r.release_id.clone(),
            });
        }
        sqlx::query(
            "INSERT INTO releases (release_id, application_id, created_at, optout_version, \
             n_persons, n_events, manifest_sha256, path) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(r.release_id.as_str())
        .bind(approval.application_id())
        .bind(timestamp(r.created_at))
        .bind(r.optout_version)
        .bind(n_persons)
        .bind(n_events)
        .bind(r.manifest_sha256.as_str())
        .bind(r.path.as_str())
        .execute(&mut *conn)
        .await
        .map_err(Error::db("insert release"))?;
        let event = AuditEvent {
            actor: "operator".to_owned(),
            action: "release.registered".to_owned(),
            subject: r.release_id.clone(),
            details: json!({
                "application_id": approval.application_id(),
                "optout_version": r.optout_version,
                "n_persons": r.n_persons,
                "n_events": r.n_events,
                "manifest_sha256": r.manifest_sha256,
            }),
        };
        append_in(conn, at, &event).await?;
        Ok(())
    })
}

/// Every registered release, by id.
///
/// # Errors
/// [`Error::Database`] on I/O; [`Error::MalformedRow`] for a row that cannot be read back.
pub async fn list_releases(db: &Database) -> Result<Vec<Release>> {
    let rows = sqlx::query(
        "SELECT release_id, application_id, created_at, optout_version, n_persons, n_events, \
         manifest_sha256, path FROM releases ORDER BY release_id",
    )
    .fetch_all(db.pool())
    .await
    .map_err(Error::db("read releases"))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let get = |i| Error::db("read releases")(i);
        let release_id: String = row.try_get(0).map_err(get)?;
        let malformed = |reason| Error::MalformedRow {
            table: "releases",
            key: release_id.clone(),
            reason,
        };
        let created_at: String = row.try_get(2).map_err(get)?;
        let n_persons: i64 = row.try_get(4).map_err(get)?;
        let n_events: i64 = row.try_get(5).map_err(get)?;
        out.push(Release {
            application_id: row.try_get(1).map_err(get)?,
            entry: ReleaseEntry {
                created_at: parse_timestamp(&created_at)
                    .ok_or_else(|| malformed("bad timestamp"))?,
                optout_version: row.try_get(3).map_err(get)?,
                n_persons: u64::try_from(n_persons).map_err(|_| malformed("negative count"))?,
                n_events: u64::try_from(n_events).map_err(|_| malformed("negative count"))?,
                manifest_sha256: row.try_get(6).map_err(get)?,
                path: row.try_get(7).map_err(get)?,
                release_id,
            },
        });
    }
    Ok(out)
}

async fn read_status(
    conn: &mut AnyConnection,
    application_id: &str,
) -> Result<Option<ApplicationStatus>> {
    let row = sqlx::query("SELECT status FROM applications WHERE application_id = $1")
        .bind(application_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("read application"))?;
    let Some(row) = row else { return Ok(None) };
    let status: String = row.try_get(0).map_err(Error::db("read application"))?;
    ApplicationStatus::parse(&status)
        .map(Some)
        .ok_or_else(|| Error::MalformedRow {
            table: "applications",
            key: application_id.to_owned(),
            reason: "unknown status",
        })
}

fn application_from_row(row: &AnyRow) -> Result<Application> {
    let get = |e| Error::db("read application")(e);
    let application_id: String = row.try_get(0).map_err(get)?;
    let malformed = |reason| Error::MalformedRow {
        table: "applications",
        key: application_id.clone(),
        reason,
    };
    let kind: String = row.try_get(4).map_err(get)?;
    let status: String = row.try_get(5).map_err(get)?;
    let conditions: String = row.try_get(6).map_err(get)?;
    let submitted_at: String = row.try_get(8).map_err(get)?;
    let decided_at: Option<String> = row.try_get(9).map_err(get)?;
    let conditions: Vec<String> = if conditions.is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(&conditions)
            .map_err(|_| malformed("conditions are not a JSON list"))?
    };
    Ok(Application {
        title: row.try_get(1).map_err(get)?,
        applicant: row.try_get(2).map_err(get)?,
        purpose: row.try_get(3).map_err(get)?,
        kind: ApplicationKind::parse(&kind).ok_or_else(|| malformed("unknown kind"))?,
        status: ApplicationStatus::parse(&status).ok_or_else(|| malformed("unknown status"))?,
        conditions,
        decision_reason: row.try_get(7).map_err(get)?,
        submitted_at: parse_timestamp(&submitted_at).ok_or_else(|| malformed("bad timestamp"))?,
        decided_at: match decided_at {
            Some(t) => Some(parse_timestamp(&t).ok_or_else(|| malformed("bad timestamp"))?),
            None => None,
        },
        application_id,
    })
}
