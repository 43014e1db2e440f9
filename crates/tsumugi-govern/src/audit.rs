//! The audit log: append-only, hash-chained, with Ed25519-signed checkpoints.
//!
//! Each row of `audit_log` holds `seq`, the canonical JSON `entry` and `hash` =
//! lowercase hex SHA-256 of the entry's bytes. The entry's keys are, in this order,
//! `seq`, `at`, `actor`, `action`, `subject`, `details`, `prev`, where `prev` is the previous
//! entry's hash (64 zeros for entry 1). A checkpoint signs the head `(seq, hash)`; see
//! [`checkpoint_message`] for the signed bytes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tsumugi_store::sqlx::{self, AnyConnection, Row};
use tsumugi_store::{Database, SecretKey};

use crate::canonical;
use crate::tx::{check_name, parse_timestamp, timestamp, with_write_tx};
use crate::{Error, Result};

/// The `prev` of the first entry.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows read per query while verifying, so memory stays flat however long the log is.
const VERIFY_PAGE: i64 = 1000;

/// Domain-separation prefix of the bytes a checkpoint signs.
const CHECKPOINT_DOMAIN: &[u8] = b"tsumugi-audit-checkpoint-v1\0";

/// One thing that happened, as the audit log records it: who did what to which subject.
///
/// `details` holds counts, opaque ids, hashes and rule names — **never** an identifier of a
/// person (no name, birth date, address, insurer number or provider patient id), because the audit
/// log is read by auditors outside the identity zone and can never be edited.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Who acted: a user name, a role, or `system`.
    pub actor: String,
    /// What was done, as `noun.verb`, e.g. `submission.accepted`.
    pub action: String,
    /// What it was done to: a submission id, release id, application id…
    pub subject: String,
    /// Counts, ids and hashes describing the action (never identifiers).
    pub details: Value,
}

/// The newest entry of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Its sequence number (1 for the first entry).
    pub seq: i64,
    /// Its hash, 64 lowercase hex digits.
    pub hash: String,
}

/// A stored audit entry, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Sequence number.
    pub seq: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who acted.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// To what.
    pub subject: String,
    /// Counts, ids and hashes.
    pub details: Value,
    /// The previous entry's hash.
    pub prev: String,
    /// This entry's hash.
    pub hash: String,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries read.
    pub n_entries: u64,
    /// Checkpoints read.
    pub n_checkpoints: u64,
    /// The last stored entry, if any.
    pub head: Option<AuditHead>,
    /// The first entry at which the chain is broken; `None` when the whole log verified.
    pub first_bad: Option<BadEntry>,
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEntry {
    /// The sequence number of the first entry that fails (for a missing entry, its number).
    pub seq: i64,
    /// Why, in English, naming no stored value.
    pub reason: String,
}

/// Appends `event` at time `at` and returns the new head.
///
/// In one transaction: reads the head, builds the canonical entry with `prev` = the head's hash,
/// hashes it and inserts it at `seq` = head + 1. Concurrent appenders are serialized by the
/// transaction's lock, and the primary key on `seq` makes a lost race fail and retry rather than
/// fork the chain.
///
/// # Errors
/// [`Error::InvalidInput`] for an empty or over-long actor, action or subject;
/// [`Error::Database`] on I/O; [`Error::AppendContention`] when retries ran out.
pub async fn append(db: &Database, at: DateTime<Utc>, event: &AuditEvent) -> Result<AuditHead> {
    with_write_tx!(db, |conn| append_in(conn, at, event).await)
}

/// Appends inside a caller's write transaction (see [`crate::tx::with_write_tx`]).
pub(crate) async fn append_in(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    event: &AuditEvent,
) -> Result<AuditHead> {
    check_name("actor", &event.actor)?;
    check_name("action", &event.action)?;
    check_name("subject", &event.subject)?;
    let head = read_head(conn).await?;
    let (seq, prev) = match head {
        Some(h) => (h.seq + 1, h.hash),
        None => (1, GENESIS_PREV.to_owned()),
    };
    let entry = entry_text(seq, at, event, &prev);
    let hash = sha256_hex(entry.as_bytes());
    let res = sqlx::query("INSERT INTO audit_log (seq, entry, hash) VALUES ($1, $2, $3)")
        .bind(seq)
        .bind(entry)
        .bind(hash.clone())
        .execute(&mut *conn)
        .await;
    match res {
        Ok(_) => Ok(AuditHead { seq, hash }),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(Error::AppendContention { attempts: 1 })
        }
        Err(e) => Err(Error::db("insert audit entry")(e)),
    }
}

/// Signs the current head with the Ed25519 key whose 32-byte seed is `signing_seed` (the
/// `KeyName::AuditSigning` key) and stores the checkpoint.
///
/// Returns the head that was signed, or `None` when the log is empty or its head already has a
/// checkpoint.
///
/// # Errors
/// [`Error::Database`] on I/O; [`Error::AppendContention`] when retries ran out.
pub async fn checkpoint(
    db: &Database,
    at: DateTime<Utc>,
    signing_seed: &SecretKey,
) -> Result<Option<AuditHead>> {
    let key = SigningKey::from_bytes(signing_seed);
    with_write_tx!(db, |conn| {
        let Some(head) = read_head(conn).await? else {
            return Ok(None);
        };
        let existing = sqlx::query("SELECT seq FROM audit_checkpoints WHERE seq = $1")
            .bind(head.seq)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read audit checkpoint"))?;
        if existing.is_some() {
            return Ok(None);
        }
        let message = checkpoint_message(head.seq, &head.hash).ok_or(Error::MalformedRow {
            table: "audit_log",
            key: head.seq.to_string(),
            reason: "hash is not 64 hex digits",
        })?;
        let signature = key.sign(&message);
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, public_key, signature, signed_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(head.seq)
        .bind(head.hash.clone())
        .bind(hex::encode(key.verifying_key().as_bytes()))
        .bind(hex::encode(signature.to_bytes()))
        .bind(timestamp(at))
        .execute(&mut *conn)
        .await
        .map_err(Error::db("insert audit checkpoint"))?;
        Ok(Some(head))
    })
}

/// The public key that verifies checkpoints made with `signing_seed`, for handing to auditors.
pub fn checkpoint_public_key(signing_seed: &SecretKey) -> [u8; 32] {
    SigningKey::from_bytes(signing_seed)
        .verifying_key()
        .to_bytes()
}

/// The bytes a checkpoint signs: `"tsumugi-audit-checkpoint-v1\0"`, then `seq` as 8 bytes
/// big-endian, then the 32 raw bytes of the hash. `None` when `hash` is not 64 hex digits.
pub fn checkpoint_message(seq: i64, hash: &str) -> Option<Vec<u8>> {
    let mut digest = [0u8; 32];
    if hash.len() != 64 || hex::decode_to_slice(hash, &mut digest).is_err() {
        return None;
    }
    let mut out = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 8 + 32);
    out.extend_from_slice(CHECKPOINT_DOMAIN);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&digest);
    Some(out)
}

/// Walks the whole log and every checkpoint and reports the first place the chain is broken.
///
/// Checks, entry by entry in `seq` order (reading pages of rows, never the whole log at once):
/// the entry is a JSON object with the expected fields; sequence numbers run 1, 2, 3… without a
/// gap; the entry's own `seq` equals its row's; its `prev` equals the previous row's stored hash;
/// and SHA-256 of the entry text equals its stored hash. Then, for every checkpoint: its hash
/// equals the stored hash of the entry at its `seq`, its signature verifies under its stored
/// public key — and under `trusted_public_key` when one is given (otherwise whoever can write
/// the database could re-sign a rewritten log) — and it points at an entry that exists, so
/// removing entries up to and past a checkpoint is detected.
///
/// Limits: entries appended after the last checkpoint can be removed from the tail without
/// detection; checkpoint often, and keep the latest checkpointed head outside the database to
/// close that gap.
///
/// A broken chain is a finding in [`VerifyReport::first_bad`], not an error.
///
/// # Errors
/// [`Error::Database`] when the log cannot be read.
pub async fn verify(db: &Database, trusted_public_key: Option<&[u8; 32]>) -> Result<VerifyReport> {
    // Checkpoints first: the log only grows, so every checkpoint read now points at an entry the
    // walk below will read.
    let rows =
        sqlx::query("SELECT seq, hash, public_key, signature FROM audit_checkpoints ORDER BY seq")
            .fetch_all(db.pool())
            .await
            .map_err(Error::db("read audit checkpoints"))?;
    let mut checkpoints = BTreeMap::new();
    for row in rows {
        let seq: i64 = row
            .try_get(0)
            .map_err(Error::db("read audit checkpoints"))?;
        let cp = Checkpoint {
            hash: row
                .try_get(1)
                .map_err(Error::db("read audit checkpoints"))?,
            public_key: row
                .try_get(2)
                .map_err(Error::db("read audit checkpoints"))?,
            signature: row
                .try_get(3)
                .map_err(Error::db("read audit checkpoints"))?,
        };
        checkpoints.insert(seq, cp);
    }
    let n_checkpoints = checkpoints.len() as u64;
    let trusted = match trusted_public_key {
        Some(bytes) => Some(
            VerifyingKey::from_bytes(bytes).map_err(|_| Error::InvalidInput {
                field: "trusted_public_key",
                reason: "not an Ed25519 public key",
            })?,
        ),
        None => None,
    };

    let mut first_bad: Option<BadEntry> = None;
    let mut flag = |seq: i64, reason: String| {
        if first_bad.is_none() {
            first_bad = Some(BadEntry { seq, reason });
        }
    };
    let mut n_entries = 0u64;
    let mut last: Option<AuditHead> = None;
    let mut prev_hash = GENESIS_PREV.to_owned();
    let mut after = i64::MIN;
    loop {
        let page = sqlx::query(
            "SELECT seq, entry, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(VERIFY_PAGE)
        .fetch_all(db.pool())
        .await
        .map_err(Error::db("read audit log"))?;
        let Some(last_row) = page.last() else { break };
        after = last_row.try_get(0).map_err(Error::db("read audit log"))?;
        for row in page {
            let seq: i64 = row.try_get(0).map_err(Error::db("read audit log"))?;
            let entry: String = row.try_get(1).map_err(Error::db("read audit log"))?;
            let hash: String = row.try_get(2).map_err(Error::db("read audit log"))?;
            n_entries += 1;
            let expected = last.as_ref().map_or(1, |h| h.seq + 1);
            if seq != expected {
                if seq > expected {
                    flag(
                        expected,
                        format!("entry missing (the next stored entry is {seq})"),
                    );
                } else {
                    flag(seq, "sequence number out of range".to_owned());
                }
            }
            if let Err(reason) = check_entry(seq, &entry, &hash, &prev_hash) {
                flag(seq, reason.to_owned());
            }
            if let Some(cp) = checkpoints.remove(&seq)
                && let Err(reason) = check_checkpoint(seq, &cp, &hash, trusted.as_ref())
            {
                flag(seq, reason.to_owned());
            }
            prev_hash.clone_from(&hash);
            last = Some(AuditHead { seq, hash });
        }
    }
    // Checkpoints never reached point at entries that are gone.
    let last_seq = last.as_ref().map_or(0, |h| h.seq);
    if let Some((&cp_seq, _)) = checkpoints.iter().next() {
        if cp_seq > last_seq {
            flag(
                last_seq + 1,
                format!(
                    "checkpoint at entry {cp_seq} points past the last entry {last_seq}: \
                     the log was truncated"
                ),
            );
        } else {
            flag(cp_seq, "checkpoint refers to a missing entry".to_owned());
        }
    }
    Ok(VerifyReport {
        n_entries,
        n_checkpoints,
        head: last,
        first_bad,
    })
}

/// Reads up to `limit` entries with `seq > after_seq`, in order (for display and export).
///
/// # Errors
/// [`Error::Database`] on I/O; [`Error::MalformedRow`] when a stored entry does not parse (run
/// [`verify`] to locate tampering).
pub async fn entries(db: &Database, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>> {
    let rows =
        sqlx::query("SELECT seq, entry, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(db.pool())
            .await
            .map_err(Error::db("read audit log"))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.try_get(0).map_err(Error::db("read audit log"))?;
        let entry: String = row.try_get(1).map_err(Error::db("read audit log"))?;
        let hash: String = row.try_get(2).map_err(Error::db("read audit log"))?;
        let malformed = |reason| Error::MalformedRow {
            table: "audit_log",
            key: seq.to_string(),
            reason,
        };
        let parsed = parse_entry(&entry).map_err(malformed)?;
        out.push(AuditEntry {
            seq,
            at: parse_timestamp(&parsed.at).ok_or_else(|| malformed("bad timestamp"))?,
            actor: parsed.actor,
            action: parsed.action,
            subject: parsed.subject,
            details: parsed.details,
            prev: parsed.prev,
            hash,
        });
    }
    Ok(out)
}

struct Checkpoint {
    hash: String,
    public_key: String,
    signature: String,
}

struct ParsedEntry {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    subject: String,
    details: Value,
    prev: String,
}

async fn read_head(conn: &mut AnyConnection) -> Result<Option<AuditHead>> {
    let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("read audit head"))?;
    match row {
        Some(row) => Ok(Some(AuditHead {
            seq: row.try_get(0).map_err(Error::db("read audit head"))?,
            hash: row.try_get(1).map_err(Error::db("read audit head"))?,
        })),
        None => Ok(None),
    }
}

fn entry_text(seq: i64, at: DateTime<Utc>, event: &AuditEvent, prev: &str) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"seq\":");
    out.push_str(&seq.to_string());
    out.push_str(",\"at\":");
    canonical::write_str(&mut out, &timestamp(at));
    out.push_str(",\"actor\":");
    canonical::write_str(&mut out, &event.actor);
    out.push_str(",\"action\":");
    canonical::write_str(&mut out, &event.action);
    out.push_str(",\"subject\":");
    canonical::write_str(&mut out, &event.subject);
    out.push_str(",\"details\":");
    canonical::write_value(&mut out, &event.details);
    out.push_str(",\"prev\":");
    canonical::write_str(&mut out, prev);
    out.push('}');
    out
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn parse_entry(entry: &str) -> Result<ParsedEntry, &'static str> {
    let value: Value = serde_json::from_str(entry).map_err(|_| "entry is not valid JSON")?;
    let Value::Object(mut map) = value else {
        return Err("entry is not a JSON object");
    };
    if map.len() != 7 {
        return Err("entry does not have exactly the seven fields");
    }
    let mut text = |key: &str| match map.remove(key) {
        Some(Value::String(s)) => Ok(s),
        _ => Err("entry lacks a text field"),
    };
    let at = text("at")?;
    let actor = text("actor")?;
    let action = text("action")?;
    let subject = text("subject")?;
    let prev = text("prev")?;
    let seq = map
        .get("seq")
        .and_then(Value::as_i64)
        .ok_or("entry lacks an integer seq")?;
    let details = map.remove("details").ok_or("entry lacks details")?;
    Ok(ParsedEntry {
        seq,
        at,
        actor,
        action,
        subject,
        details,
        prev,
    })
}

fn check_entry(seq: i64, entry: &str, hash: &str, prev_hash: &str) -> Result<(), &'static str> {
    let parsed = parse_entry(entry)?;
    if parsed.seq != seq {
        return Err("entry's seq differs from its row");
    }
    if parsed.prev != prev_hash {
        return Err("entry's prev differs from the previous entry's hash");
    }
    if parse_timestamp(&parsed.at).is_none() {
        return Err("entry's time is not an RFC 3339 timestamp");
    }
    if sha256_hex(entry.as_bytes()) != hash {
        return Err("stored hash differs from the SHA-256 of the entry");
    }
    Ok(())
}

fn check_checkpoint(
    seq: i64,
    cp: &Checkpoint,
    entry_hash: &str,
    trusted: Option<&VerifyingKey>,
) -> Result<(), &'static str> {
    if cp.hash != entry_hash {
        return Err("checkpoint hash differs from the entry's hash");
    }
    let message = checkpoint_message(seq, &cp.hash).ok_or("checkpoint hash is malformed")?;
    let mut key_bytes = [0u8; 32];
    hex::decode_to_slice(&cp.public_key, &mut key_bytes)
        .map_err(|_| "checkpoint public key is malformed")?;
    let key =
        VerifyingKey::from_bytes(&key_bytes).map_err(|_| "checkpoint public key is malformed")?;
    let mut sig_bytes = [0u8; 64];
    hex::decode_to_slice(&cp.signature, &mut sig_bytes)
        .map_err(|_| "checkpoint signature is malformed")?;
    let signature = Signature::from_bytes(&sig_bytes);
    if trusted.is_some_and(|trusted| trusted != &key) {
        return Err("checkpoint was signed by an untrusted key");
    }
    key.verify_strict(&message, &signature)
        .map_err(|_| "checkpoint signature does not verify")?;
    // Stored hex must be canonical too, so the stored text is exactly what was signed.
    if hex::encode(key_bytes) != cp.public_key || hex::encode(sig_bytes) != cp.signature {
        return Err("checkpoint key or signature is not lowercase hex");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_text_has_fixed_key_order() {
        let at = DateTime::parse_from_rfc3339("2026-04-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let event = AuditEvent {
            actor: "operator".into(),
            action: "submission.accepted".into(),
            subject: "42".into(),
            details: serde_json::json!({"n_records": 3, "content_sha256": "ab"}),
        };
        let text = entry_text(1, at, &event, GENESIS_PREV);
        assert_eq!(
            text,
            format!(
                "{{\"seq\":1,\"at\":\"2026-04-01T09:00:00.000000Z\",\"actor\":\"operator\",\
                 \"action\":\"submission.accepted\",\"subject\":\"42\",\
                 \"details\":{{\"content_sha256\":\"ab\",\"n_records\":3}},\"prev\":\"{GENESIS_PREV}\"}}"
            )
        );
        assert!(check_entry(1, &text, &sha256_hex(text.as_bytes()), GENESIS_PREV).is_ok());
    }
}
