//! Audit use cases: append (used by every transfer), checkpoint, verify.

use serde::Serialize;
use tsumugi_govern::{AuditEvent, VerifyReport};
use tsumugi_store::KeyName;

use crate::{Ctx, Result};

/// Appends an audit entry for an action of the context's actor. `details` hold ids, counts and
/// hashes only.
pub(crate) async fn record(
    ctx: &Ctx,
    action: &str,
    subject: &str,
    details: serde_json::Value,
) -> Result<()> {
    tsumugi_govern::append(
        &ctx.registry,
        ctx.clock.now(),
        &AuditEvent {
            actor: ctx.actor.clone(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            details,
        },
    )
    .await?;
    Ok(())
}

/// The outcome of `tsumugi audit verify`.
#[derive(Debug, Clone, Serialize)]
pub struct AuditStatus {
    /// Entries checked.
    pub n_entries: u64,
    /// Signed checkpoints checked.
    pub n_checkpoints: u64,
    /// The head's sequence number.
    pub head_seq: Option<i64>,
    /// The first bad entry and why, when the chain is broken.
    pub first_bad: Option<(i64, String)>,
}

/// Signs a checkpoint of the chain head with the data directory's audit key.
///
/// # Errors
/// Key or database errors.
pub async fn checkpoint(ctx: &Ctx) -> Result<Option<i64>> {
    let seed = ctx.keys.key(KeyName::AuditSigning)?;
    let head = tsumugi_govern::checkpoint(&ctx.registry, ctx.clock.now(), &seed).await?;
    Ok(head.map(|h| h.seq))
}

/// Verifies the whole chain and every checkpoint against this data directory's signing key.
///
/// # Errors
/// Key or database errors; a broken chain is reported in [`AuditStatus::first_bad`], not as an
/// error.
pub async fn verify(ctx: &Ctx) -> Result<AuditStatus> {
    let seed = ctx.keys.key(KeyName::AuditSigning)?;
    let public = tsumugi_govern::checkpoint_public_key(&seed);
    let VerifyReport {
        n_entries,
        n_checkpoints,
        head,
        first_bad,
    } = tsumugi_govern::verify(&ctx.registry, Some(&public)).await?;
    Ok(AuditStatus {
        n_entries,
        n_checkpoints,
        head_seq: head.map(|h| h.seq),
        first_bad: first_bad.map(|b| (b.seq, b.reason)),
    })
}
