//! Stop requests (提供停止請求): registering them, finding their person, keeping the evidence.
//!
//! A request is matched against the vault with the link rules plus looser opt-out rules
//! (kana name and birth date without sex), because a miss is a legal failure. Exactly one
//! candidate person → the request is enforced; several → it waits for a person to decide;
//! none → it stays open and is matched again after every ingest. Enforcement copies the
//! person's blind-index digests into `optout_keys`, so records of that person are refused at
//! ingest from then on, even after their identifiable data has been purged.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use sqlx::Row;
use tsumugi_model::{Date, IdentityAttributes, ProviderId};

use crate::link::LinkOptions;
use crate::linkage::{self, LinkConfig, LinkIndex, LinkRecord};
use crate::rules::{self, LINK_RULES, RULE_VERSION};
use crate::sealed::RequestIdentityJ;
use crate::{Error, Result, Vault};

/// Rules a stop request may match by.
const OPTOUT_RULES: &[&str] = &[
    "kanji_dob_sex",
    "kana_dob_sex",
    "insurance_dob",
    "given_dob_sex_muni",
    "name_year_sex_muni",
    "kana_dob",
];

/// Through whom a request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Through the data provider (names its own patient id).
    Provider,
    /// Through the processor's consultation centre (相談センター), with identifying details.
    Centre,
}

impl Channel {
    /// `provider` or `centre`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Provider => "provider",
            Channel::Centre => "centre",
        }
    }
}

/// Who asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// The person.
    Person,
    /// A guardian (minors under 16, persons who cannot judge).
    Guardian,
    /// Bereaved family (遺族).
    Bereaved,
}

impl Requester {
    /// `person`, `guardian` or `bereaved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Requester::Person => "person",
            Requester::Guardian => "guardian",
            Requester::Bereaved => "bereaved",
        }
    }
}

/// A stop request as received.
#[derive(Debug, Clone)]
pub struct StopRequest {
    /// The receiving desk's own id for it.
    pub request_id: String,
    /// When it was received.
    pub received_on: Date,
    /// Through whom.
    pub channel: Channel,
    /// Who asked.
    pub requester: Requester,
    /// The provider it came through (provider channel).
    pub provider_id: Option<ProviderId>,
    /// Who it is about, as the request states it.
    pub identity: IdentityAttributes,
}

/// Where a request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopStatus {
    /// Matched to one person; their data must go.
    Enforced {
        /// The person.
        person_key: i64,
    },
    /// Matched several persons; a person must decide.
    Review {
        /// The candidates.
        candidates: Vec<i64>,
    },
    /// No person matched yet; matched again after every ingest.
    Unmatched,
}

impl StopStatus {
    fn as_str(&self) -> &'static str {
        match self {
            StopStatus::Enforced { .. } => "enforced",
            StopStatus::Review { .. } => "review",
            StopStatus::Unmatched => "unmatched",
        }
    }
}

/// The result of registering or re-matching a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopOutcome {
    /// The request.
    pub request_id: String,
    /// Its status now.
    pub status: StopStatus,
    /// The opt-out registry version that includes it.
    pub registry_version: i64,
}

#[derive(Serialize)]
struct Evidence<'a> {
    rule_version: &'a str,
    /// The probabilistic engine's version.
    engine: &'a str,
    rules: BTreeSet<&'a str>,
    n_records: usize,
    candidates: &'a [i64],
    /// The engine's scores: which records of which person, with what probability.
    scores: Vec<EngineScore<'a>>,
}

#[derive(Serialize)]
struct EngineScore<'a> {
    person_key: i64,
    probability: f64,
    records: &'a [i64],
}

/// The engine's name in the evidence (its level definitions and training are versioned with
/// the crate).
const ENGINE_RULE: &str = "fs-v1";

/// A request reaching a person at or above this probability is enforced (lower than the link
/// threshold: a miss is a legal failure).
pub const OPTOUT_AUTO_PROBABILITY: f64 = 0.5;

/// A request reaching a person at or above this probability (and below the auto threshold)
/// waits for a person to decide.
pub const OPTOUT_REVIEW_PROBABILITY: f64 = 0.05;

/// A person the engine finds for a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct EngineHit {
    pub person_key: i64,
    /// The best pair probability among the person's records.
    pub probability: f64,
    /// The person's records the request reached.
    pub records: Vec<i64>,
}

impl Vault {
    /// The engine's candidates for every request not yet enforced: the vault's linked records
    /// are prepared and indexed (the model trained on them), and each request scored against
    /// them (no request is linked or indexed).
    async fn engine_hits(
        &self,
        opts: &LinkOptions,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<BTreeMap<String, Vec<EngineHit>>> {
        let rows = sqlx::query(
            "SELECT request_id, identity FROM stop_requests WHERE status <> 'enforced' ORDER BY registry_version",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read stop requests"))?;
        if rows.is_empty() {
            return Ok(BTreeMap::new());
        }
        let loaded = self.load_link_records(opts).await?;
        if loaded.records.is_empty() {
            return Ok(BTreeMap::new());
        }
        let mut ids = Vec::new();
        let mut requests = Vec::new();
        for r in &rows {
            let ident: RequestIdentityJ =
                self.open_json("stop_requests.identity", &r.get::<Vec<u8>, _>(1))?;
            ids.push(r.get::<String, _>(0));
            requests.push(LinkRecord {
                source: "stop_request".to_owned(),
                source_id: None,
                source_unique: Some(false),
                identity: ident.into_attributes(),
                extras: Vec::new(),
                dataset: 0,
            });
        }
        let cfg = LinkConfig::recommended();
        let prepared = linkage::prepare(&loaded.records);
        let invalid = |_| Error::Internal("the recommended linkage configuration is invalid");
        // The last linkage run's model when there is one; else one trained now.
        let mut index = match self.latest_model().await? {
            Some(model) => {
                // Requests are scored, never clustered: one label per record is enough.
                let labels = (0..prepared.len() as u32).collect();
                LinkIndex::with_model(prepared, &cfg, model, labels).map_err(invalid)?
            }
            None => {
                let run = linkage::link(&prepared, &cfg, None, rng).map_err(invalid)?;
                LinkIndex::build(prepared, &cfg, &run).map_err(invalid)?
            }
        };
        let mut out: BTreeMap<String, BTreeMap<i64, EngineHit>> = BTreeMap::new();
        for (record, request, probability) in index.score(&requests, OPTOUT_REVIEW_PROBABILITY) {
            let (Some(id), Some(&key), Some(Some(person))) = (
                ids.get(request as usize),
                loaded.keys.get(record as usize),
                loaded.current.get(record as usize),
            ) else {
                continue;
            };
            let hit = out
                .entry(id.clone())
                .or_default()
                .entry(*person)
                .or_insert(EngineHit {
                    person_key: *person,
                    ..EngineHit::default()
                });
            hit.probability = hit.probability.max(probability);
            hit.records.push(key);
        }
        Ok(out
            .into_iter()
            .map(|(id, persons)| (id, persons.into_values().collect()))
            .collect())
    }
}

impl Vault {
    /// Registers a stop request and matches it. Registering the same request id again returns
    /// its stored outcome.
    ///
    /// # Errors
    /// [`Error::InvalidStopRequest`] when it carries too little to find anyone; vault errors.
    pub async fn register_stop_request(
        &self,
        req: &StopRequest,
        at: DateTime<Utc>,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<StopOutcome> {
        if let Some(existing) = self.stored_outcome(&req.request_id).await? {
            return Ok(existing);
        }
        let has_patient = req.provider_id.is_some() && req.identity.patient_id.is_some();
        let has_person = !req.identity.names.is_empty() && req.identity.birth_date.is_some();
        if !has_patient && !has_person {
            return Err(Error::InvalidStopRequest {
                request_id: req.request_id.clone(),
                reason: "needs a provider and patient id, or a name and a birth date",
            });
        }
        let version: i64 =
            sqlx::query("SELECT COALESCE(MAX(registry_version), 0) FROM stop_requests")
                .fetch_one(self.db.pool())
                .await
                .map_err(Error::vault("read registry version"))?
                .get(0);
        let identity = self.cipher.seal(
            "stop_requests.identity",
            &serde_json::to_vec(&RequestIdentityJ::from_attributes(&req.identity))
                .map_err(|_| Error::Internal("request identity not serializable"))?,
            rng,
        )?;
        let patient_ref = match (&req.provider_id, &req.identity.patient_id) {
            (Some(p), Some(id)) => Some(self.patient_ref(p, id)),
            _ => None,
        };
        sqlx::query(
            "INSERT INTO stop_requests (request_id, received_on, channel, requester, provider_id, \
             patient_ref, identity, status, person_key, rule_version, evidence, registry_version, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'unmatched', NULL, $8, '{}', $9, NULL)",
        )
        .bind(req.request_id.clone())
        .bind(req.received_on.to_string())
        .bind(req.channel.as_str())
        .bind(req.requester.as_str())
        .bind(req.provider_id.as_ref().map(|p| p.as_str().to_owned()))
        .bind(patient_ref)
        .bind(identity)
        .bind(RULE_VERSION)
        .bind(version + 1)
        .execute(self.db.pool())
        .await
        .map_err(Error::vault("store stop request"))?;
        // The request's own keys block future records even before any match.
        self.block_digests(&req.request_id, &self.request_digests(req))
            .await?;
        self.rematch(&req.request_id, at, &[]).await
    }

    /// Matches every request not yet decided again (after new records were linked), by the
    /// match keys and by the probabilistic engine (a request against every record, with a
    /// lower threshold than linkage: [`OPTOUT_AUTO_PROBABILITY`]). Returns the outcomes of
    /// requests whose status is enforced, so the caller can purge those persons.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn rematch_open_requests(
        &self,
        at: DateTime<Utc>,
        opts: &LinkOptions,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<Vec<StopOutcome>> {
        let ids: Vec<String> =
            sqlx::query("SELECT request_id FROM stop_requests ORDER BY registry_version")
                .fetch_all(self.db.pool())
                .await
                .map_err(Error::vault("read stop requests"))?
                .iter()
                .map(|r| r.get(0))
                .collect();
        let mut hits = self.engine_hits(opts, rng).await?;
        let mut out = Vec::new();
        for id in ids {
            let engine = hits.remove(&id).unwrap_or_default();
            let outcome = self.rematch(&id, at, &engine).await?;
            if matches!(outcome.status, StopStatus::Enforced { .. }) {
                out.push(outcome);
            }
        }
        Ok(out)
    }

    /// The current opt-out registry version (the number of requests registered).
    ///
    /// # Errors
    /// Vault errors.
    pub async fn optout_version(&self) -> Result<i64> {
        sqlx::query("SELECT COALESCE(MAX(registry_version), 0) FROM stop_requests")
            .fetch_one(self.db.pool())
            .await
            .map(|r| r.get(0))
            .map_err(Error::vault("read registry version"))
    }

    /// Persons with a stop request in force: excluded from every release and statistic.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn enforced_persons(&self) -> Result<BTreeSet<i64>> {
        let rows = sqlx::query(
            "SELECT person_key FROM stop_requests WHERE status = 'enforced' AND person_key IS NOT NULL",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read enforced requests"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Requests by status (`enforced`, `review`, `unmatched`).
    ///
    /// # Errors
    /// Vault errors.
    pub async fn stop_request_counts(&self) -> Result<BTreeMap<String, i64>> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM stop_requests GROUP BY status")
            .fetch_all(self.db.pool())
            .await
            .map_err(Error::vault("count stop requests"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn stored_outcome(&self, request_id: &str) -> Result<Option<StopOutcome>> {
        let row = sqlx::query(
            "SELECT status, person_key, evidence, registry_version FROM stop_requests WHERE request_id = $1",
        )
        .bind(request_id.to_owned())
        .fetch_optional(self.db.pool())
        .await
        .map_err(Error::vault("read stop request"))?;
        Ok(row.map(|row| {
            let status: String = row.get(0);
            let person_key: Option<i64> = row.get(1);
            let evidence: String = row.get(2);
            let status = match (status.as_str(), person_key) {
                ("enforced", Some(person_key)) => StopStatus::Enforced { person_key },
                ("review", _) => StopStatus::Review {
                    candidates: serde_json::from_str::<serde_json::Value>(&evidence)
                        .ok()
                        .and_then(|v| serde_json::from_value(v["candidates"].clone()).ok())
                        .unwrap_or_default(),
                },
                _ => StopStatus::Unmatched,
            };
            StopOutcome {
                request_id: request_id.to_owned(),
                status,
                registry_version: row.get(3),
            }
        }))
    }

    /// The request's own digests: its patient reference and its match keys under opt-out rules.
    fn request_digests(&self, req: &StopRequest) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        if let (Some(p), Some(id)) = (&req.provider_id, &req.identity.patient_id) {
            out.push(("patient".to_owned(), self.patient_ref(p, id)));
        }
        for k in rules::match_keys(&req.identity) {
            if OPTOUT_RULES.contains(&k.rule) {
                out.push((k.rule.to_owned(), self.key_digest(&k)));
            }
        }
        out
    }

    async fn block_digests(&self, request_id: &str, digests: &[(String, Vec<u8>)]) -> Result<()> {
        for (rule, digest) in digests {
            // Only link rules and patient refs block ingest; looser keys would refuse strangers.
            if rule != "patient" && !LINK_RULES.contains(&rule.as_str()) {
                continue;
            }
            sqlx::query(
                "INSERT INTO optout_keys (rule, digest, request_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(rule.clone())
            .bind(digest.clone())
            .bind(request_id.to_owned())
            .execute(self.db.pool())
            .await
            .map_err(Error::vault("store opt-out key"))?;
        }
        Ok(())
    }

    /// Copies the person's digests into `optout_keys`, so their records are refused at ingest.
    async fn block_person(&self, request_id: &str, person_key: i64) -> Result<()> {
        let rows = sqlx::query(
            "SELECT k.rule, k.digest FROM link_keys k JOIN source_records s ON s.record_key = k.record_key \
             WHERE s.person_key = $1 \
             UNION SELECT 'patient', patient_ref FROM source_records WHERE person_key = $1 AND patient_ref IS NOT NULL",
        )
        .bind(person_key)
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read person keys"))?;
        let digests: Vec<(String, Vec<u8>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        self.block_digests(request_id, &digests).await
    }

    /// The requests waiting for a person's decision, with their candidate persons.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn stop_requests_in_review(&self) -> Result<Vec<(String, Vec<i64>)>> {
        let rows = sqlx::query(
            "SELECT request_id, evidence FROM stop_requests WHERE status = 'review' ORDER BY registry_version",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read stop requests"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let evidence: serde_json::Value =
                    serde_json::from_str(&r.get::<String, _>(1)).unwrap_or_default();
                let candidates = evidence["candidates"]
                    .as_array()
                    .map(|c| c.iter().filter_map(serde_json::Value::as_i64).collect())
                    .unwrap_or_default();
                (r.get(0), candidates)
            })
            .collect())
    }

    /// A person's decision on a request waiting for review: it is enforced on `person_key`,
    /// one of its candidates. The decision holds: later matching does not undo it.
    ///
    /// # Errors
    /// [`Error::InvalidStopRequest`] when the request is not waiting for review or the person
    /// is not among its candidates; vault errors.
    pub async fn decide_stop_request(
        &self,
        request_id: &str,
        person_key: i64,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<StopOutcome> {
        let invalid = |reason: &'static str| Error::InvalidStopRequest {
            request_id: request_id.to_owned(),
            reason,
        };
        let row = sqlx::query(
            "SELECT status, evidence, registry_version FROM stop_requests WHERE request_id = $1",
        )
        .bind(request_id.to_owned())
        .fetch_optional(self.db.pool())
        .await
        .map_err(Error::vault("read stop request"))?
        .ok_or_else(|| invalid("no such request"))?;
        let (status, evidence, registry_version): (String, String, i64) =
            (row.get(0), row.get(1), row.get(2));
        if status != "review" {
            return Err(invalid("only a request waiting for review can be decided"));
        }
        let mut evidence: serde_json::Value = serde_json::from_str(&evidence)
            .map_err(|_| Error::Internal("stored evidence is not JSON"))?;
        let candidate = evidence["candidates"]
            .as_array()
            .is_some_and(|c| c.iter().any(|p| p.as_i64() == Some(person_key)));
        if !candidate {
            return Err(invalid("the person is not among the request's candidates"));
        }
        evidence["decided_by"] = serde_json::Value::from(actor);
        sqlx::query(
            "UPDATE stop_requests SET status = 'enforced', person_key = $1, evidence = $2, decided_at = $3 \
             WHERE request_id = $4",
        )
        .bind(person_key)
        .bind(evidence.to_string())
        .bind(at.to_rfc3339())
        .bind(request_id.to_owned())
        .execute(self.db.pool())
        .await
        .map_err(Error::vault("store decision"))?;
        self.block_person(request_id, person_key).await?;
        Ok(StopOutcome {
            request_id: request_id.to_owned(),
            status: StopStatus::Enforced { person_key },
            registry_version,
        })
    }

    /// Finds the request's candidate persons now and stores the new status and evidence.
    async fn rematch(
        &self,
        request_id: &str,
        at: DateTime<Utc>,
        engine: &[EngineHit],
    ) -> Result<StopOutcome> {
        let row = sqlx::query(
            "SELECT provider_id, patient_ref, identity, status, person_key, evidence, registry_version \
             FROM stop_requests WHERE request_id = $1",
        )
        .bind(request_id.to_owned())
        .fetch_one(self.db.pool())
        .await
        .map_err(Error::vault("read stop request"))?;
        let provider: Option<String> = row.get(0);
        let patient_ref: Option<Vec<u8>> = row.get(1);
        let identity: Vec<u8> = row.get(2);
        let old_status: String = row.get(3);
        let old_person: Option<i64> = row.get(4);
        // A person decided it: matching again does not undo that.
        if old_status == "enforced"
            && let Some(person_key) = old_person
            && serde_json::from_str::<serde_json::Value>(&row.get::<String, _>(5))
                .is_ok_and(|e| e.get("decided_by").is_some())
        {
            let registry_version: i64 = row.get(6);
            return Ok(StopOutcome {
                request_id: request_id.to_owned(),
                status: StopStatus::Enforced { person_key },
                registry_version,
            });
        }
        let ident: RequestIdentityJ = self.open_json("stop_requests.identity", &identity)?;
        let attrs = ident.into_attributes();
        let mut digests: Vec<(String, Vec<u8>)> = rules::match_keys(&attrs)
            .into_iter()
            .filter(|k| OPTOUT_RULES.contains(&k.rule))
            .map(|k| (k.rule.to_owned(), self.key_digest(&k)))
            .collect();
        let mut hits: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
        let mut n_records = 0usize;
        if let (Some(provider), Some(pref)) = (provider, patient_ref) {
            let rows = sqlx::query(
                "SELECT person_key FROM source_records WHERE provider_id = $1 AND patient_ref = $2 \
                 AND person_key IS NOT NULL",
            )
            .bind(provider)
            .bind(pref.clone())
            .fetch_all(self.db.pool())
            .await
            .map_err(Error::vault("match by patient"))?;
            n_records += rows.len();
            for r in rows {
                hits.entry(r.get(0))
                    .or_default()
                    .insert("patient".to_owned());
            }
            digests.retain(|(rule, _)| rule != "patient");
        }
        for (rule, digest) in &digests {
            let rows = sqlx::query(
                "SELECT s.person_key FROM link_keys k JOIN source_records s ON s.record_key = k.record_key \
                 WHERE k.rule = $1 AND k.digest = $2 AND s.person_key IS NOT NULL",
            )
            .bind(rule.clone())
            .bind(digest.clone())
            .fetch_all(self.db.pool())
            .await
            .map_err(Error::vault("match by keys"))?;
            n_records += rows.len();
            for r in rows {
                hits.entry(r.get(0)).or_default().insert(rule.clone());
            }
        }
        // The engine: a person the request reaches above the auto threshold counts like a
        // key match; one in the band makes the request wait for a person to decide.
        let mut band: BTreeSet<i64> = BTreeSet::new();
        for h in engine {
            n_records += h.records.len();
            if h.probability >= OPTOUT_AUTO_PROBABILITY {
                hits.entry(h.person_key)
                    .or_default()
                    .insert(ENGINE_RULE.to_owned());
            } else {
                band.insert(h.person_key);
            }
        }
        let candidates: Vec<i64> = hits.keys().copied().collect();
        let candidates: Vec<i64> = if candidates.is_empty() {
            band.into_iter().collect()
        } else {
            candidates
        };
        let sure = !hits.is_empty();
        let status = match candidates.as_slice() {
            [] if old_status == "enforced" => StopStatus::Enforced {
                person_key: old_person.unwrap_or_default(),
            },
            [] => StopStatus::Unmatched,
            [one] if sure => StopStatus::Enforced { person_key: *one },
            many => StopStatus::Review {
                candidates: many.to_vec(),
            },
        };
        let rules_hit: BTreeSet<&str> = hits.values().flatten().map(String::as_str).collect();
        let scores: Vec<EngineScore> = engine
            .iter()
            .map(|h| EngineScore {
                person_key: h.person_key,
                probability: h.probability,
                records: &h.records,
            })
            .collect();
        let evidence = serde_json::to_string(&Evidence {
            rule_version: RULE_VERSION,
            engine: ENGINE_RULE,
            rules: rules_hit,
            n_records,
            candidates: &candidates,
            scores,
        })
        .map_err(|_| Error::Internal("evidence not serializable"))?;
        let person_key = match &status {
            StopStatus::Enforced { person_key } => Some(*person_key),
            _ => None,
        };
        if !candidates.is_empty() || old_status != status.as_str() {
            sqlx::query(
                "UPDATE stop_requests SET status = $1, person_key = $2, evidence = $3, decided_at = $4 \
                 WHERE request_id = $5",
            )
            .bind(status.as_str())
            .bind(person_key)
            .bind(evidence)
            .bind(at.to_rfc3339())
            .bind(request_id.to_owned())
            .execute(self.db.pool())
            .await
            .map_err(Error::vault("store match"))?;
        }
        if let (StopStatus::Enforced { person_key }, false) = (&status, candidates.is_empty()) {
            self.block_person(request_id, *person_key).await?;
        }
        let registry_version =
            sqlx::query("SELECT registry_version FROM stop_requests WHERE request_id = $1")
                .bind(request_id.to_owned())
                .fetch_one(self.db.pool())
                .await
                .map_err(Error::vault("read registry version"))?
                .get(0);
        Ok(StopOutcome {
            request_id: request_id.to_owned(),
            status,
            registry_version,
        })
    }
}
