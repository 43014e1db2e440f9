//! Governance of tsumugi: the tamper-evident audit log, statutory records, the review committee's
//! applications and approvals, and the release register.
//!
//! Everything lives in the SQL registry (`tsumugi_store::Database`, SQLite or PostgreSQL) and
//! every function takes the time it acts at as a parameter.
//!
//! - **Audit chain** ([`append`], [`checkpoint`], [`verify`]): an append-only log in which every
//!   entry is canonical JSON holding the previous entry's SHA-256, so changing, inserting or
//!   removing an entry breaks the chain from that entry on; Ed25519-signed checkpoints of the head
//!   make rewriting the whole chain, and truncating it below a checkpoint, detectable too. A broken
//!   chain is a finding in a [`VerifyReport`], not an error.
//! - **Statutory records** ([`record`], [`list`]; typed bodies in [`RecordBody`]): 記録の作成・保存
//!   of receipts, provisions, statistics results and deletions. Each record's body hash is also
//!   written to the audit chain.
//! - **Applications** ([`submit_application`], [`decide`], [`approval`]): the committee's
//!   decision is the only way to obtain an [`Approval`], which [`register_release`] (and the
//!   release writer upstream) require — typestate instead of a status check someone might forget.
//!
//! Every write runs in one transaction that also appends its audit entry, so the registry and the
//! chain never disagree. Writers are serialized by a lock on the audit log, and the chain's primary
//! key on `seq` makes a lost race retry rather than fork.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use chrono::{TimeZone, Utc};
//! use tsumugi_govern::{
//!     ApplicationKind, AuditEvent, Decision, NewApplication, approval, append, decide,
//!     submit_application, verify,
//! };
//! use tsumugi_store::{Database, REGISTRY_POSTGRES, REGISTRY_SQLITE};
//!
//! let tmp = tempfile::tempdir()?;
//! let db = Database::connect(&format!("sqlite://{}/registry.db", tmp.path().display())).await?;
//! db.migrate(&REGISTRY_SQLITE, &REGISTRY_POSTGRES).await?;
//! let at = Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap();
//!
//! let event = AuditEvent {
//!     actor: "operator".into(),
//!     action: "submission.accepted".into(),
//!     subject: "submission/1".into(),
//!     details: serde_json::json!({ "n_records": 120 }),
//! };
//! append(&db, at, &event).await?;
//!
//! submit_application(&db, at, NewApplication {
//!     application_id: "A2026-001".into(),
//!     title: "糖尿病の地域差".into(),
//!     applicant: "Example University".into(),
//!     purpose: "regional variation of diabetes care".into(),
//!     kind: ApplicationKind::Statistics,
//! }).await?;
//! decide(&db, at, "A2026-001", Decision::Approve { conditions: vec![] }).await?;
//! let ok = approval(&db, "A2026-001").await?;
//! assert_eq!(ok.kind(), ApplicationKind::Statistics);
//!
//! let report = verify(&db, None).await?;
//! assert_eq!(report.n_entries, 3);
//! assert!(report.first_bad.is_none());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod applications;
mod audit;
mod canonical;
mod error;
mod records;
mod tx;

pub use crate::applications::{
    Application, ApplicationKind, ApplicationStatus, Approval, Decision, NewApplication, Release,
    ReleaseEntry, application, approval, decide, list_applications, list_releases,
    register_release, submit_application,
};
pub use crate::audit::{
    AuditEntry, AuditEvent, AuditHead, BadEntry, GENESIS_PREV, VerifyReport, append, checkpoint,
    checkpoint_message, checkpoint_public_key, entries, verify,
};
pub use crate::error::{Error, Result};
pub use crate::records::{
    Deletion, Provision, Receipt, RecordBody, RecordKind, StatisticsRecord, StatutoryRecord, list,
    record, record_body, record_once,
};
