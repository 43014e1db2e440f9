//! The vault: opening it, storing source records, notices and eligibility.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rand::RngCore;
use sqlx::Row;
use tsumugi_model::{Date, IdentityAttributes, ProviderId};
use tsumugi_store::{Database, KeyName, KeyProvider, values_placeholders};
use zeroize::Zeroizing;

use crate::crypto::{BlindIndex, FieldCipher};
use crate::rules::{self, MatchKey};
use crate::{Error, Result, sealed};

static VAULT_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/vault/sqlite");
static VAULT_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/vault/postgres");

/// Rows per multi-row INSERT (well under both engines' bound-parameter limits).
const INSERT_CHUNK: usize = 500;

/// Bound parameters per multi-row INSERT on the submission path. Binding costs grow with the
/// square of a statement's parameters on SQLite (sqlx maps each `$n` through
/// `sqlite3_bind_parameter_name`, a linear scan): 5,500 parameters per statement spent a quarter
/// of an end-to-end FHIR ingest there, about a hundred cost a few per cent of that.
const PARAMS_PER_INSERT: usize = 120;

/// The identity vault: encrypted identifiers of every source record, their links to persons,
/// notices and stop requests. Only this crate can open it.
pub struct Vault {
    pub(crate) db: Database,
    pub(crate) cipher: FieldCipher,
    pub(crate) index: BlindIndex,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { .. }")
    }
}

/// What became of one record offered to [`Vault::insert_submission`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Stored under this record key.
    Stored(i64),
    /// Not stored: it matches a stop request in force (the request id is the evidence).
    OptedOut(String),
}

/// A notice-log entry as a provider sends it.
pub struct NoticeEntry {
    /// The provider's patient id (an identifier: only its blind index is stored).
    pub patient_id: String,
    /// When the person was notified.
    pub notified_on: Date,
    /// Who received the notice: `person`, `guardian` or `bereaved`.
    pub notified_to: String,
}

impl std::fmt::Debug for NoticeEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoticeEntry { .. }")
    }
}

/// A record's state on `as_of`, notified on `notified` (an ISO date), with `wait` days to wait.
fn eligibility_of(as_of: Date, notified: Option<&str>, wait: i64) -> Eligibility {
    match notified.and_then(|d| d.parse::<Date>().ok()) {
        None => Eligibility::HeldNoNotice,
        Some(d) if (as_of - d).num_days() < wait => Eligibility::HeldWaiting,
        Some(_) => Eligibility::Usable,
    }
}

/// One source record's columns, sealed, waiting for the chunk's multi-row INSERT.
struct NewRecord {
    record_no: i64,
    patient_ref: Option<Vec<u8>>,
    patient_id: Option<Vec<u8>>,
    names: Vec<u8>,
    birth_date: Vec<u8>,
    sex: &'static str,
    addresses: Vec<u8>,
    insurances: Vec<u8>,
    deceased_on: Vec<u8>,
    /// Its match-key digests, for `link_keys`.
    digests: Vec<(&'static str, Vec<u8>)>,
}

/// Whether a record's data may be used on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Eligibility {
    /// Notified at least the waiting period ago.
    Usable,
    /// The provider's notice log has no entry for this patient.
    HeldNoNotice,
    /// Notified, but the waiting period has not passed.
    HeldWaiting,
}

impl Vault {
    /// Opens the vault in `db`: applies its migrations and unwraps its data key with the KEK
    /// (creating the data key on first open).
    ///
    /// # Errors
    /// [`Error::Decrypt`] when the KEK does not unwrap the stored data key; store errors.
    pub async fn open(
        db: Database,
        keys: &dyn KeyProvider,
        at: DateTime<Utc>,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<Vault> {
        db.migrate(&VAULT_SQLITE, &VAULT_POSTGRES).await?;
        let kek = FieldCipher::new(&*keys.key(KeyName::VaultKek)?);
        let row = sqlx::query("SELECT wrapped_dek FROM vault_keys WHERE key_id = 1")
            .fetch_optional(db.pool())
            .await
            .map_err(Error::vault("read data key"))?;
        let dek = match row {
            Some(row) => {
                let wrapped: Vec<u8> = row.get(0);
                let plain = kek.open("vault_keys.wrapped_dek", &wrapped)?;
                let mut dek = Zeroizing::new([0u8; 32]);
                if plain.len() != 32 {
                    return Err(Error::Decrypt {
                        column: "vault_keys.wrapped_dek",
                    });
                }
                dek.copy_from_slice(&plain);
                dek
            }
            None => {
                let mut dek = Zeroizing::new([0u8; 32]);
                rng.fill_bytes(dek.as_mut());
                let wrapped = kek.seal("vault_keys.wrapped_dek", dek.as_ref(), rng)?;
                sqlx::query(
                    "INSERT INTO vault_keys (key_id, wrapped_dek, created_at) VALUES (1, $1, $2)",
                )
                .bind(wrapped)
                .bind(at.to_rfc3339())
                .execute(db.pool())
                .await
                .map_err(Error::vault("store data key"))?;
                dek
            }
        };
        Ok(Vault {
            db,
            cipher: FieldCipher::new(&dek),
            index: BlindIndex::new(keys.key(KeyName::VaultIndex)?),
        })
    }

    /// The database the vault lives in.
    pub fn database(&self) -> &Database {
        &self.db
    }

    pub(crate) fn patient_ref(&self, provider: &ProviderId, patient_id: &str) -> Vec<u8> {
        self.index
            .digest("patient", &[provider.as_str(), patient_id.trim()])
    }

    pub(crate) fn key_digest(&self, key: &MatchKey) -> Vec<u8> {
        let parts: Vec<&str> = key.parts.iter().map(String::as_str).collect();
        self.index.digest(key.rule, &parts)
    }

    fn seal_json<T: serde::Serialize>(
        &self,
        column: &'static str,
        value: &T,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<Vec<u8>> {
        let plain = Zeroizing::new(
            serde_json::to_vec(value)
                .map_err(|_| Error::Internal("sealed value not serializable"))?,
        );
        self.cipher.seal(column, &plain, rng)
    }

    pub(crate) fn open_json<T: serde::de::DeserializeOwned>(
        &self,
        column: &'static str,
        sealed: &[u8],
    ) -> Result<T> {
        let plain = self.cipher.open(column, sealed)?;
        serde_json::from_slice(&plain).map_err(|_| Error::Decrypt { column })
    }

    /// Stores the identity part of a submission's records in one transaction, unless a record
    /// matches a stop request in force, in which case it is not stored at all.
    ///
    /// Idempotent per `(submission_id, record_no)`: storing the same submission again after a
    /// crash returns the existing record keys.
    ///
    /// # Errors
    /// Vault or encryption errors; nothing is stored then.
    pub async fn insert_submission(
        &self,
        submission_id: i64,
        provider: &ProviderId,
        records: &[(u64, &IdentityAttributes)],
        rng: &mut (dyn RngCore + Send),
    ) -> Result<Vec<Admission>> {
        let blocked = self.blocked_digests().await?;
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(Error::vault("begin"))?;
        // Records of this chunk an earlier, interrupted run already stored (one query).
        let mut existing: BTreeMap<i64, i64> = BTreeMap::new();
        if let (Some(lo), Some(hi)) = (
            records.iter().map(|(n, _)| *n).min(),
            records.iter().map(|(n, _)| *n).max(),
        ) {
            let rows = sqlx::query(
                "SELECT record_no, record_key FROM source_records \
                 WHERE submission_id = $1 AND record_no BETWEEN $2 AND $3",
            )
            .bind(submission_id)
            .bind(lo as i64)
            .bind(hi as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(Error::vault("look up records"))?;
            for row in rows {
                let no: i64 = row.try_get(0).map_err(Error::vault("look up records"))?;
                let key: i64 = row.try_get(1).map_err(Error::vault("look up records"))?;
                existing.insert(no, key);
            }
        }
        let mut out: Vec<Option<Admission>> = Vec::with_capacity(records.len());
        // Records refused for a request: what they say of the person, for requests that
        // named only a patient id (so the person's records elsewhere can be found).
        let mut learned: Vec<(String, &IdentityAttributes)> = Vec::new();
        // Rows to insert: the sealed columns and the match-key digests.
        let mut fresh: Vec<NewRecord> = Vec::new();
        let mut numbers: BTreeSet<i64> = BTreeSet::new();
        for (record_no, attrs) in records {
            let keys = rules::match_keys(attrs);
            let digests: Vec<(&'static str, Vec<u8>)> =
                keys.iter().map(|k| (k.rule, self.key_digest(k))).collect();
            let patient_ref = attrs
                .patient_id
                .as_deref()
                .map(|p| self.patient_ref(provider, p));
            let hit = patient_ref
                .iter()
                .map(|r| ("patient", r.clone()))
                .chain(
                    digests
                        .iter()
                        .filter(|(rule, _)| rules::LINK_RULES.contains(rule))
                        .cloned(),
                )
                .find_map(|d| blocked.get(&d).cloned());
            if let Some(request_id) = hit {
                learned.push((request_id.clone(), *attrs));
                out.push(Some(Admission::OptedOut(request_id)));
                continue;
            }
            if let Some(key) = existing.get(&(*record_no as i64)) {
                out.push(Some(Admission::Stored(*key)));
                continue;
            }
            out.push(None);
            // A record number seen earlier in this chunk is the same record.
            if !numbers.insert(*record_no as i64) {
                continue;
            }
            let patient_id = match &attrs.patient_id {
                Some(p) => Some(self.cipher.seal(
                    "source_records.patient_id",
                    p.as_bytes(),
                    rng,
                )?),
                None => None,
            };
            let row = NewRecord {
                record_no: *record_no as i64,
                patient_ref,
                patient_id,
                names: self.seal_json("source_records.names", &sealed::names(attrs), rng)?,
                birth_date: self.seal_json("source_records.birth_date", &attrs.birth_date, rng)?,
                sex: attrs.sex.code(),
                addresses: self.seal_json(
                    "source_records.addresses",
                    &sealed::addresses(attrs),
                    rng,
                )?,
                insurances: self.seal_json(
                    "source_records.insurances",
                    &sealed::insurances(attrs),
                    rng,
                )?,
                deceased_on: self.seal_json(
                    "source_records.deceased_on",
                    &attrs.deceased_on,
                    rng,
                )?,
                digests,
            };
            fresh.push(row);
        }
        // One multi-row INSERT per chunk; RETURNING names each row by its record number.
        let mut link_rows: Vec<(&'static str, Vec<u8>, i64)> = Vec::new();
        for chunk in fresh.chunks(PARAMS_PER_INSERT / 11) {
            let sql = format!(
                "INSERT INTO source_records (submission_id, record_no, provider_id, patient_ref, \
                 patient_id, names, birth_date, sex, addresses, insurances, deceased_on) \
                 VALUES {} RETURNING record_no, record_key",
                values_placeholders(chunk.len(), 11)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(submission_id)
                    .bind(r.record_no)
                    .bind(provider.as_str())
                    .bind(r.patient_ref.clone())
                    .bind(r.patient_id.clone())
                    .bind(r.names.clone())
                    .bind(r.birth_date.clone())
                    .bind(r.sex)
                    .bind(r.addresses.clone())
                    .bind(r.insurances.clone())
                    .bind(r.deceased_on.clone());
            }
            let rows = q
                .fetch_all(&mut *tx)
                .await
                .map_err(Error::vault("store records"))?;
            let mut keys: BTreeMap<i64, i64> = BTreeMap::new();
            for row in rows {
                let no: i64 = row.try_get(0).map_err(Error::vault("store records"))?;
                let key: i64 = row.try_get(1).map_err(Error::vault("store records"))?;
                keys.insert(no, key);
            }
            for r in chunk {
                let key = *keys
                    .get(&r.record_no)
                    .ok_or(Error::Internal("a stored record returned no key"))?;
                link_rows.extend(r.digests.iter().map(|(rule, d)| (*rule, d.clone(), key)));
                existing.insert(r.record_no, key);
            }
        }
        let out: Vec<Admission> = out
            .into_iter()
            .zip(records)
            .map(|(a, (record_no, _))| match a {
                Some(a) => Ok(a),
                None => existing
                    .get(&(*record_no as i64))
                    .map(|k| Admission::Stored(*k))
                    .ok_or(Error::Internal("a record was neither stored nor refused")),
            })
            .collect::<Result<_>>()?;
        for chunk in link_rows.chunks(PARAMS_PER_INSERT / 3) {
            let sql = format!(
                "INSERT INTO link_keys (rule, digest, record_key) VALUES {} ON CONFLICT DO NOTHING",
                values_placeholders(chunk.len(), 3)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (rule, digest, key) in chunk {
                q = q.bind(*rule).bind(digest.clone()).bind(*key);
            }
            q.execute(&mut *tx)
                .await
                .map_err(Error::vault("store match keys"))?;
        }
        for (request_id, attrs) in learned {
            self.learn_request_identity(&mut tx, &request_id, attrs, rng)
                .await?;
        }
        tx.commit().await.map_err(Error::vault("commit records"))?;
        Ok(out)
    }

    /// A request that named only a provider's patient id (no name and birth date) learns the
    /// identity of the first record refused for it, sealed like the request's own: the
    /// probabilistic matching then finds the person's records at other providers.
    async fn learn_request_identity(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        request_id: &str,
        attrs: &IdentityAttributes,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<()> {
        let row = sqlx::query("SELECT identity FROM stop_requests WHERE request_id = $1")
            .bind(request_id.to_owned())
            .fetch_one(&mut **tx)
            .await
            .map_err(Error::vault("read stop request"))?;
        let ident: crate::sealed::RequestIdentityJ =
            self.open_json("stop_requests.identity", &row.get::<Vec<u8>, _>(0))?;
        if !ident.names.is_empty() && ident.birth_date.is_some() {
            return Ok(());
        }
        let mut learned = crate::sealed::RequestIdentityJ::from_attributes(attrs);
        learned.patient_id = ident.patient_id;
        let sealed = self.seal_json("stop_requests.identity", &learned, rng)?;
        sqlx::query("UPDATE stop_requests SET identity = $1 WHERE request_id = $2")
            .bind(sealed)
            .bind(request_id.to_owned())
            .execute(&mut **tx)
            .await
            .map_err(Error::vault("store learned identity"))?;
        Ok(())
    }

    /// Digests (rule, digest) of every stop request in force, mapped to the request id.
    async fn blocked_digests(&self) -> Result<BTreeMap<(&'static str, Vec<u8>), String>> {
        let rows = sqlx::query("SELECT rule, digest, request_id FROM optout_keys")
            .fetch_all(self.db.pool())
            .await
            .map_err(Error::vault("read opt-out keys"))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let rule: String = row.get(0);
            let Some(rule) = std::iter::once("patient")
                .chain(rules::LINK_RULES.iter().copied())
                .find(|r| *r == rule)
            else {
                continue;
            };
            out.insert((rule, row.get::<Vec<u8>, _>(1)), row.get::<String, _>(2));
        }
        Ok(out)
    }

    /// Stores (or updates) a provider's notice log entries. Returns how many were stored.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn import_notices(
        &self,
        provider: &ProviderId,
        entries: &[NoticeEntry],
    ) -> Result<u64> {
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(Error::vault("begin"))?;
        for chunk in entries.chunks(INSERT_CHUNK) {
            let sql = format!(
                "INSERT INTO notices (provider_id, patient_ref, notified_on, notified_to) VALUES {} \
                 ON CONFLICT (provider_id, patient_ref) DO UPDATE SET \
                 notified_on = excluded.notified_on, notified_to = excluded.notified_to",
                values_placeholders(chunk.len(), 4)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in chunk {
                q = q
                    .bind(provider.as_str())
                    .bind(self.patient_ref(provider, &e.patient_id))
                    .bind(e.notified_on.to_string())
                    .bind(e.notified_to.clone());
            }
            q.execute(&mut *tx)
                .await
                .map_err(Error::vault("store notices"))?;
        }
        tx.commit().await.map_err(Error::vault("commit notices"))?;
        Ok(entries.len() as u64)
    }

    /// The eligibility of every stored record on `as_of` (or only those of one submission),
    /// given each provider's waiting period in days (providers not listed use
    /// `default_waiting_days`).
    ///
    /// # Errors
    /// Vault errors.
    pub async fn eligibility(
        &self,
        as_of: Date,
        submission: Option<i64>,
        waiting_days: &BTreeMap<ProviderId, i64>,
        default_waiting_days: i64,
    ) -> Result<BTreeMap<i64, Eligibility>> {
        const SQL: &str = "SELECT r.record_key, r.provider_id, n.notified_on FROM source_records r \
             LEFT JOIN notices n ON n.provider_id = r.provider_id AND n.patient_ref = r.patient_ref";
        let rows = match submission {
            None => sqlx::query(SQL).fetch_all(self.db.pool()).await,
            Some(id) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{SQL} WHERE r.submission_id = $1"
                )))
                .bind(id)
                .fetch_all(self.db.pool())
                .await
            }
        }
        .map_err(Error::vault("read eligibility"))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let key: i64 = row.try_get(0).map_err(Error::vault("read eligibility"))?;
            let provider = ProviderId(row.try_get(1).map_err(Error::vault("read eligibility"))?);
            let notified: Option<String> =
                row.try_get(2).map_err(Error::vault("read eligibility"))?;
            let wait = waiting_days
                .get(&provider)
                .copied()
                .unwrap_or(default_waiting_days);
            out.insert(key, eligibility_of(as_of, notified.as_deref(), wait));
        }
        Ok(out)
    }

    /// How many records of one submission are in each [`Eligibility`] state on `as_of`, as
    /// [`Vault::eligibility`] decides it, counted in the database: the answer's size is the
    /// number of distinct notice dates, not of records.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn eligibility_counts(
        &self,
        as_of: Date,
        submission: i64,
        waiting_days: &BTreeMap<ProviderId, i64>,
        default_waiting_days: i64,
    ) -> Result<BTreeMap<Eligibility, u64>> {
        let rows = sqlx::query(
            "SELECT r.provider_id, n.notified_on, COUNT(*) FROM source_records r \
             LEFT JOIN notices n ON n.provider_id = r.provider_id AND n.patient_ref = r.patient_ref \
             WHERE r.submission_id = $1 GROUP BY r.provider_id, n.notified_on",
        )
        .bind(submission)
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("count eligibility"))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let provider = ProviderId(row.try_get(0).map_err(Error::vault("count eligibility"))?);
            let notified: Option<String> =
                row.try_get(1).map_err(Error::vault("count eligibility"))?;
            let n: i64 = row.try_get(2).map_err(Error::vault("count eligibility"))?;
            let wait = waiting_days
                .get(&provider)
                .copied()
                .unwrap_or(default_waiting_days);
            *out.entry(eligibility_of(as_of, notified.as_deref(), wait))
                .or_insert(0) += n as u64;
        }
        Ok(out)
    }

    /// Removes the records of a submission whose processing did not complete, so it can be
    /// processed again from its staged copy. Returns the removed record keys.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn forget_submission(&self, submission_id: i64) -> Result<Vec<i64>> {
        let rows =
            sqlx::query("DELETE FROM source_records WHERE submission_id = $1 RETURNING record_key")
                .bind(submission_id)
                .fetch_all(self.db.pool())
                .await
                .map_err(Error::vault("forget submission"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Record key → person key for every linked record.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn record_persons(&self) -> Result<BTreeMap<i64, i64>> {
        let rows = sqlx::query(
            "SELECT record_key, person_key FROM source_records WHERE person_key IS NOT NULL",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read links"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The person keys of the records a provider holds under `patient_id` (for answering a
    /// provider's or a person's question "is this person's data here, and is the stop in
    /// force?"). Returns only opaque keys.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn persons_of_patient(
        &self,
        provider: &ProviderId,
        patient_id: &str,
    ) -> Result<BTreeSet<i64>> {
        let rows = sqlx::query(
            "SELECT person_key FROM source_records WHERE provider_id = $1 AND patient_ref = $2 \
             AND person_key IS NOT NULL",
        )
        .bind(provider.as_str().to_owned())
        .bind(self.patient_ref(provider, patient_id))
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("look up patient"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Number of records stored.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn n_records(&self) -> Result<i64> {
        sqlx::query("SELECT COUNT(*) FROM source_records")
            .fetch_one(self.db.pool())
            .await
            .map(|r| r.get(0))
            .map_err(Error::vault("count records"))
    }

    /// Deletes every record of `person_key` (identifiers and match keys) and the person row.
    /// Returns the deleted record keys, so the caller can purge their research rows.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn purge_person(&self, person_key: i64) -> Result<BTreeSet<i64>> {
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(Error::vault("begin"))?;
        sqlx::query(
            "DELETE FROM link_keys WHERE record_key IN \
             (SELECT record_key FROM source_records WHERE person_key = $1)",
        )
        .bind(person_key)
        .execute(&mut *tx)
        .await
        .map_err(Error::vault("purge match keys"))?;
        let rows =
            sqlx::query("DELETE FROM source_records WHERE person_key = $1 RETURNING record_key")
                .bind(person_key)
                .fetch_all(&mut *tx)
                .await
                .map_err(Error::vault("purge records"))?;
        sqlx::query("DELETE FROM persons WHERE person_key = $1")
            .bind(person_key)
            .execute(&mut *tx)
            .await
            .map_err(Error::vault("purge person"))?;
        tx.commit().await.map_err(Error::vault("commit purge"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
