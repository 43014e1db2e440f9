//! Linking the vault's records to persons with the probabilistic engine, person keys stable
//! across runs (merges and splits reported), and linkage quality against ground truth.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rand::RngCore;
use sqlx::Row;
use tsumugi_store::values_placeholders;

use crate::linkage::{self, Decision, LinkConfig, LinkIndex, LinkRecord};
use crate::review::store_review_queue;
use crate::{Error, Result, Vault};

/// What a linkage run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkSummary {
    /// Records considered.
    pub n_records: u64,
    /// Distinct persons after the run.
    pub n_persons: u64,
    /// Persons created by this run.
    pub n_new_persons: u64,
    /// Records whose person key changed or was first set.
    pub n_relinked: u64,
    /// Merges of previously distinct persons: (kept key, absorbed key).
    pub merges: Vec<(i64, i64)>,
    /// Splits of a previous person: (kept key, key of the part that left).
    pub splits: Vec<(i64, i64)>,
    /// Pairs scored in the uncertain band (clerical review).
    pub n_review: u64,
    /// Candidate pairs compared.
    pub n_candidate_pairs: u64,
    /// The model's prior and the weights it learnt, for the audit trail.
    pub model: Option<crate::linkage::Model>,
}

/// How [`Vault::link`] treats sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkOptions {
    /// Providers whose patient ids are derived from the insurance card (特定健診), so one
    /// person may have several there: the one-to-one constraint does not apply to them.
    pub card_derived_ids: BTreeSet<String>,
}

/// The person keys of a run's clusters, and what changed.
struct Keys {
    /// Cluster label → person key.
    person_of: BTreeMap<u32, i64>,
    /// (kept key, absorbed key).
    merges: Vec<(i64, i64)>,
    /// (key split, key of the part that left).
    splits: Vec<(i64, i64)>,
    /// Keys created.
    new_persons: Vec<i64>,
}

/// A record's current person and its cluster label in a run.
struct Assigned {
    record_key: i64,
    current: Option<i64>,
    cluster: u32,
}

/// Stable person keys for the run's clusters: each existing key stays with the cluster that
/// holds most of its records (ties: the smaller label); a cluster holding several keys keeps
/// the smallest and absorbs the rest (a merge); a cluster holding only keys that stay
/// elsewhere, or none, gets a new random key (a split, or a new person).
fn assign_keys(records: &[Assigned], rng: &mut (dyn RngCore + Send)) -> Keys {
    let mut count: BTreeMap<(i64, u32), u64> = BTreeMap::new();
    for r in records {
        if let Some(k) = r.current {
            *count.entry((k, r.cluster)).or_default() += 1;
        }
    }
    // Owner cluster of each existing key.
    let mut owner: BTreeMap<i64, (u64, u32)> = BTreeMap::new();
    for ((k, c), n) in &count {
        let e = owner.entry(*k).or_insert((*n, *c));
        if *n > e.0 || (*n == e.0 && *c < e.1) {
            *e = (*n, *c);
        }
    }
    let mut owned: BTreeMap<u32, BTreeSet<i64>> = BTreeMap::new();
    for (k, (_, c)) in &owner {
        owned.entry(*c).or_default().insert(*k);
    }
    let clusters: BTreeSet<u32> = records.iter().map(|r| r.cluster).collect();
    let mut person_of = BTreeMap::new();
    let (mut merges, mut splits, mut new_persons) = (Vec::new(), Vec::new(), Vec::new());
    for c in clusters {
        let person = match owned.get(&c).and_then(|ks| ks.first()) {
            Some(&k) => {
                for &other in owned.get(&c).into_iter().flatten().skip(1) {
                    merges.push((k, other));
                }
                k
            }
            None => {
                let k = (rng.next_u64() >> 1) as i64;
                new_persons.push(k);
                k
            }
        };
        person_of.insert(c, person);
    }
    // A key whose records are in several clusters was split: every cluster but its owner
    // took a part away.
    for (k, c) in count.keys() {
        if owner.get(k).is_some_and(|(_, o)| o != c)
            && let Some(&p) = person_of.get(c)
            && p != *k
            && !merges.contains(&(p, *k))
        {
            splits.push((*k, p));
        }
    }
    splits.sort_unstable();
    splits.dedup();
    Keys {
        person_of,
        merges,
        splits,
        new_persons,
    }
}

/// The vault's records opened for linkage.
pub(crate) struct Loaded {
    /// Record keys, in order.
    pub keys: Vec<i64>,
    /// Each record's person, if linked.
    pub current: Vec<Option<i64>>,
    /// The records.
    pub records: Vec<LinkRecord>,
}

impl Vault {
    /// Opens every record for the engine: source = provider, source id = the patient's blind
    /// index (one-to-one unless the provider's ids are card-derived).
    pub(crate) async fn load_link_records(&self, opts: &LinkOptions) -> Result<Loaded> {
        let rows = sqlx::query(
            "SELECT record_key, provider_id, patient_ref, names, birth_date, sex, addresses, insurances, person_key \
             FROM source_records ORDER BY record_key",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read records"))?;
        let mut keys = Vec::with_capacity(rows.len());
        let mut current = Vec::with_capacity(rows.len());
        let mut records = Vec::with_capacity(rows.len());
        for r in &rows {
            let provider: String = r.get(1);
            let patient_ref: Option<Vec<u8>> = r.get(2);
            let sex: String = r.get(5);
            let identity = crate::sealed::attributes(
                None,
                self.open_json("source_records.names", &r.get::<Vec<u8>, _>(3))?,
                self.open_json("source_records.birth_date", &r.get::<Vec<u8>, _>(4))?,
                tsumugi_model::Sex::from_code(&sex),
                self.open_json("source_records.addresses", &r.get::<Vec<u8>, _>(6))?,
                self.open_json("source_records.insurances", &r.get::<Vec<u8>, _>(7))?,
                None,
            );
            keys.push(r.get::<i64, _>(0));
            current.push(r.get::<Option<i64>, _>(8));
            records.push(LinkRecord {
                source_unique: Some(!opts.card_derived_ids.contains(&provider)),
                source: provider,
                source_id: patient_ref.map(hex::encode),
                identity,
                extras: Vec::new(),
                dataset: 0,
            });
        }
        Ok(Loaded {
            keys,
            current,
            records,
        })
    }

    /// Links every record to a person with the probabilistic engine
    /// ([`crate::linkage::link`]): the vault's records are opened, prepared and linked, and the
    /// clusters become persons. Person keys are stable ([`assign_keys`]): merges and splits
    /// are reported. Records of one provider sharing a patient id are one person, except at
    /// providers in `opts.card_derived_ids`. Pairs in the uncertain band are kept for
    /// clerical review ([`Vault::review_queue`]).
    ///
    /// # Errors
    /// Vault errors; a stored value that does not decrypt.
    pub async fn link(
        &self,
        at: DateTime<Utc>,
        opts: &LinkOptions,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<LinkSummary> {
        let Loaded {
            keys,
            current,
            records,
        } = self.load_link_records(opts).await?;
        let decisions = self.review_decisions(&keys).await?;
        let prepared = linkage::prepare(&records);
        drop(records);
        let cfg = LinkConfig::recommended();
        let run = linkage::link_with_decisions(&prepared, &cfg, None, &decisions, rng)
            .map_err(|_| Error::Internal("the recommended linkage configuration is invalid"))?;
        let assigned: Vec<Assigned> = keys
            .iter()
            .zip(&current)
            .zip(&run.cluster_of)
            .map(|((k, c), cl)| Assigned {
                record_key: *k,
                current: *c,
                cluster: *cl,
            })
            .collect();
        let Keys {
            person_of,
            merges,
            splits,
            new_persons,
        } = assign_keys(&assigned, rng);
        let updates: Vec<(i64, i64)> = assigned
            .iter()
            .filter_map(|a| {
                let p = *person_of.get(&a.cluster)?;
                (a.current != Some(p)).then_some((a.record_key, p))
            })
            .collect();
        let live: BTreeSet<i64> = person_of.values().copied().collect();
        let retired: BTreeSet<i64> = current
            .iter()
            .flatten()
            .copied()
            .filter(|k| !live.contains(k))
            .collect();
        let review: Vec<(i64, i64, f64)> = run
            .pairs
            .iter()
            .filter(|p| p.decision == Decision::Review)
            .filter_map(|p| {
                Some((
                    *keys.get(p.a as usize)?,
                    *keys.get(p.b as usize)?,
                    p.probability,
                ))
            })
            .collect();
        let summary = LinkSummary {
            n_records: keys.len() as u64,
            n_persons: live.len() as u64,
            n_new_persons: new_persons.len() as u64,
            n_relinked: updates.len() as u64,
            merges,
            splits,
            n_review: review.len() as u64,
            n_candidate_pairs: run.candidate_pairs,
            model: Some(run.model),
        };
        self.store_run(
            at,
            &Changes {
                new_persons: &new_persons,
                updates: &updates,
                retired: &retired,
                merges: &summary.merges,
                review: &review,
            },
            true,
            summary.model.as_ref(),
        )
        .await?;
        Ok(summary)
    }

    /// Writes what a run changed in one transaction: new persons, records' persons, retired
    /// persons (their stop requests carried to the key that absorbed them), the review queue
    /// (replacing the pending pairs on a full run, adding to them on an incremental one), and
    /// the model a full run trained.
    async fn store_run(
        &self,
        at: DateTime<Utc>,
        c: &Changes<'_>,
        full: bool,
        model: Option<&linkage::Model>,
    ) -> Result<()> {
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(Error::vault("begin"))?;
        for chunk in c.new_persons.chunks(500) {
            let sql = format!(
                "INSERT INTO persons (person_key, created_at) VALUES {}",
                values_placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(*k).bind(at.to_rfc3339());
            }
            q.execute(&mut *tx)
                .await
                .map_err(Error::vault("store persons"))?;
        }
        for (record_key, person_key) in c.updates {
            sqlx::query("UPDATE source_records SET person_key = $1 WHERE record_key = $2")
                .bind(*person_key)
                .bind(*record_key)
                .execute(&mut *tx)
                .await
                .map_err(Error::vault("link record"))?;
        }
        for k in c.retired {
            let kept = c
                .merges
                .iter()
                .find(|(_, absorbed)| absorbed == k)
                .map_or(*k, |(kept, _)| *kept);
            sqlx::query("UPDATE stop_requests SET person_key = $1 WHERE person_key = $2")
                .bind(kept)
                .bind(*k)
                .execute(&mut *tx)
                .await
                .map_err(Error::vault("carry stop requests across merge"))?;
            sqlx::query("DELETE FROM persons WHERE person_key = $1")
                .bind(*k)
                .execute(&mut *tx)
                .await
                .map_err(Error::vault("retire merged person"))?;
        }
        store_review_queue(&mut tx, c.review, at, full).await?;
        if full && let Some(model) = model {
            let model = serde_json::to_string(model)
                .map_err(|_| Error::Internal("the linkage model is not serializable"))?;
            sqlx::query("INSERT INTO link_models (trained_at, model) VALUES ($1, $2)")
                .bind(at.to_rfc3339())
                .bind(model)
                .execute(&mut *tx)
                .await
                .map_err(Error::vault("store linkage model"))?;
        }
        tx.commit().await.map_err(Error::vault("commit links"))?;
        Ok(())
    }

    /// The model of the last full linkage run, if any.
    pub(crate) async fn latest_model(&self) -> Result<Option<linkage::Model>> {
        let row = sqlx::query("SELECT model FROM link_models ORDER BY trained_at DESC LIMIT 1")
            .fetch_optional(self.db.pool())
            .await
            .map_err(Error::vault("read linkage model"))?;
        match row {
            None => Ok(None),
            Some(r) => serde_json::from_str::<linkage::Model>(&r.get::<String, _>(0))
                .map(Some)
                .map_err(|_| Error::Internal("a stored linkage model does not parse")),
        }
    }

    /// Links only the records not linked yet, against the persons already stored, with the
    /// last full run's model ([`LinkIndex::add`]): existing persons are never split; a new
    /// record that links two of them merges them (reported). Review decisions bind it as they
    /// bind a full run. Without a stored model it is a full run ([`Vault::link`]); weak bridges
    /// are looked at by full runs only.
    ///
    /// # Errors
    /// Vault errors; a stored value that does not decrypt.
    pub async fn link_new_records(
        &self,
        at: DateTime<Utc>,
        opts: &LinkOptions,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<LinkSummary> {
        let Some(model) = self.latest_model().await? else {
            return self.link(at, opts, rng).await;
        };
        let Loaded {
            keys,
            current,
            records,
        } = self.load_link_records(opts).await?;
        let mut existing = Vec::new();
        let mut fresh = Vec::new();
        let mut existing_keys = Vec::new();
        let mut fresh_keys = Vec::new();
        let mut persons: Vec<i64> = Vec::new();
        let mut label: BTreeMap<i64, u32> = BTreeMap::new();
        let mut labels = Vec::new();
        for ((k, c), r) in keys.iter().zip(&current).zip(records) {
            match c {
                Some(p) => {
                    let l = *label.entry(*p).or_insert_with(|| {
                        persons.push(*p);
                        persons.len() as u32 - 1
                    });
                    labels.push(l);
                    existing.push(r);
                    existing_keys.push(*k);
                }
                None => {
                    fresh.push(r);
                    fresh_keys.push(*k);
                }
            }
        }
        // Decisions in the index's numbering: stored records first, new ones after.
        let order: Vec<i64> = existing_keys.iter().chain(&fresh_keys).copied().collect();
        let decisions = self.review_decisions(&order).await?;
        let cfg = LinkConfig::recommended();
        let mut index =
            LinkIndex::with_model(linkage::prepare(&existing), &cfg, model.clone(), labels)
                .map_err(|_| Error::Internal("the recommended linkage configuration is invalid"))?
                .with_decisions(&decisions);
        drop(existing);
        let run = index.add(&fresh);
        // Labels past the existing persons are new persons.
        let mut person_of: BTreeMap<u32, i64> = persons
            .iter()
            .enumerate()
            .map(|(l, p)| (l as u32, *p))
            .collect();
        let mut new_persons = Vec::new();
        for l in &run.cluster_of {
            person_of.entry(*l).or_insert_with(|| {
                let k = (rng.next_u64() >> 1) as i64;
                new_persons.push(k);
                k
            });
        }
        let merges: Vec<(i64, i64)> = run
            .merges
            .iter()
            .filter_map(|(kept, gone)| Some((*person_of.get(kept)?, *person_of.get(gone)?)))
            .collect();
        let absorbed: BTreeMap<i64, i64> = merges.iter().map(|(k, g)| (*g, *k)).collect();
        let mut updates: Vec<(i64, i64)> = fresh_keys
            .iter()
            .zip(&run.cluster_of)
            .filter_map(|(k, l)| Some((*k, *person_of.get(l)?)))
            .collect();
        // The records of an absorbed person move to the one that absorbed it.
        updates.extend(
            keys.iter()
                .zip(&current)
                .filter_map(|(k, p)| absorbed.get(p.as_ref()?).map(|kept| (*k, *kept))),
        );
        let retired: BTreeSet<i64> = absorbed.keys().copied().collect();
        let key_of = |i: u32| -> Option<i64> {
            let i = i as usize;
            existing_keys
                .get(i)
                .or_else(|| fresh_keys.get(i.checked_sub(existing_keys.len())?))
                .copied()
        };
        let review: Vec<(i64, i64, f64)> = run
            .pairs
            .iter()
            .filter(|p| p.decision == Decision::Review)
            .filter_map(|p| Some((key_of(p.a)?, key_of(p.b)?, p.probability)))
            .collect();
        let live: BTreeSet<i64> = person_of
            .values()
            .copied()
            .filter(|p| !retired.contains(p))
            .collect();
        let summary = LinkSummary {
            n_records: keys.len() as u64,
            n_persons: live.len() as u64,
            n_new_persons: new_persons.len() as u64,
            n_relinked: updates.len() as u64,
            merges,
            splits: Vec::new(),
            n_review: review.len() as u64,
            n_candidate_pairs: run.candidate_pairs,
            model: Some(model),
        };
        self.store_run(
            at,
            &Changes {
                new_persons: &new_persons,
                updates: &updates,
                retired: &retired,
                merges: &summary.merges,
                review: &review,
            },
            false,
            None,
        )
        .await?;
        Ok(summary)
    }
}

/// What a run changed, for [`Vault::store_run`].
struct Changes<'a> {
    new_persons: &'a [i64],
    updates: &'a [(i64, i64)],
    retired: &'a BTreeSet<i64>,
    merges: &'a [(i64, i64)],
    review: &'a [(i64, i64, f64)],
}

/// Linkage quality against ground truth (synthetic data only).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkQuality {
    /// Records evaluated (those the truth names).
    pub n_records: u64,
    /// True persons among them.
    pub n_true_persons: u64,
    /// Persons found among them.
    pub n_found_persons: u64,
    /// Pairwise precision: linked pairs that are true pairs.
    pub precision: f64,
    /// Pairwise recall: true pairs that are linked.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

impl Vault {
    /// Compares the current links with ground truth given as (provider, patient id, true person
    /// id) triples, pairwise over records.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn evaluate_links(
        &self,
        truth: &[(tsumugi_model::ProviderId, String, String)],
    ) -> Result<LinkQuality> {
        let truth: BTreeMap<(String, Vec<u8>), &str> = truth
            .iter()
            .map(|(p, pid, person)| {
                (
                    (p.as_str().to_owned(), self.patient_ref(p, pid)),
                    person.as_str(),
                )
            })
            .collect();
        let rows = sqlx::query(
            "SELECT provider_id, patient_ref, person_key FROM source_records \
             WHERE person_key IS NOT NULL AND patient_ref IS NOT NULL",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read links"))?;
        let mut cells: BTreeMap<(i64, &str), u64> = BTreeMap::new();
        for r in &rows {
            let key = (r.get::<String, _>(0), r.get::<Vec<u8>, _>(1));
            if let Some(person) = truth.get(&key) {
                *cells.entry((r.get(2), person)).or_default() += 1;
            }
        }
        let mut by_found: BTreeMap<i64, u64> = BTreeMap::new();
        let mut by_true: BTreeMap<&str, u64> = BTreeMap::new();
        for ((found, t), n) in &cells {
            *by_found.entry(*found).or_default() += n;
            *by_true.entry(t).or_default() += n;
        }
        let tp: u64 = cells.values().map(|n| pairs(*n)).sum();
        let found_pairs: u64 = by_found.values().map(|n| pairs(*n)).sum();
        let true_pairs: u64 = by_true.values().map(|n| pairs(*n)).sum();
        let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, found_pairs);
        let recall = ratio(tp, true_pairs);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Ok(LinkQuality {
            n_records: cells.values().sum(),
            n_true_persons: by_true.len() as u64,
            n_found_persons: by_found.len() as u64,
            precision,
            recall,
            f1,
        })
    }
}

impl Vault {
    /// The match-weight breakdown of two stored records under the model of the last linkage
    /// run (levels, weights and probability: no identifier). Every record is prepared, so that
    /// name frequencies are those the run used.
    ///
    /// # Errors
    /// [`Error::InvalidReview`] when no linkage run has been made or a record is unknown;
    /// vault errors.
    pub async fn explain_records(
        &self,
        a: i64,
        b: i64,
        opts: &LinkOptions,
    ) -> Result<linkage::Explanation> {
        let model = self.latest_model().await?.ok_or(Error::InvalidReview {
            reason: "no linkage run yet: run `tsumugi link` first",
        })?;
        let loaded = self.load_link_records(opts).await?;
        let index = |k: i64| {
            loaded
                .keys
                .iter()
                .position(|x| *x == k)
                .ok_or(Error::InvalidReview {
                    reason: "both records must exist and differ",
                })
        };
        let (ia, ib) = (index(a)?, index(b)?);
        if ia == ib {
            return Err(Error::InvalidReview {
                reason: "both records must exist and differ",
            });
        }
        let prepared = linkage::prepare(&loaded.records);
        Ok(linkage::explain(&prepared, &model, None, ia, ib))
    }
}

/// How well stop requests reached their persons (synthetic data only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptOutReach {
    /// Requests whose true person had records (in the truth).
    pub n_requests: u64,
    /// Of those, requests whose person has no record left in the vault (every record purged
    /// or refused at ingest).
    pub n_reached: u64,
    /// `n_reached / n_requests`.
    pub recall: f64,
    /// The true persons not reached.
    pub missed: Vec<String>,
    /// Persons who asked nothing but lost records to a stop request (or to anything else that
    /// removes records: a rejected record counts too).
    pub n_collateral: u64,
}

impl Vault {
    /// Checks, for each requesting person, that none of their records is left in the vault.
    /// `requests` names the true person of each stop request; `truth` gives every record's
    /// (provider, patient id, true person).
    ///
    /// # Errors
    /// Vault errors.
    pub async fn evaluate_stop_requests(
        &self,
        requests: &[String],
        truth: &[(tsumugi_model::ProviderId, String, String)],
    ) -> Result<OptOutReach> {
        let wanted: BTreeSet<&str> = requests.iter().map(String::as_str).collect();
        let rows = sqlx::query("SELECT DISTINCT provider_id, patient_ref FROM source_records WHERE patient_ref IS NOT NULL")
            .fetch_all(self.db.pool())
            .await
            .map_err(Error::vault("read records"))?;
        let present: BTreeSet<(String, Vec<u8>)> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let mut with_records: BTreeSet<&str> = BTreeSet::new();
        let mut left: BTreeSet<&str> = BTreeSet::new();
        let mut collateral: BTreeSet<&str> = BTreeSet::new();
        for (provider, patient, person) in truth {
            let key = (
                provider.as_str().to_owned(),
                self.patient_ref(provider, patient),
            );
            let here = present.contains(&key);
            if !wanted.contains(person.as_str()) {
                if !here {
                    collateral.insert(person);
                }
                continue;
            }
            with_records.insert(person);
            if here {
                left.insert(person);
            }
        }
        let n_requests = with_records.len() as u64;
        let n_reached = n_requests - left.len() as u64;
        Ok(OptOutReach {
            missed: left.iter().map(|p| (*p).to_owned()).collect(),
            n_collateral: collateral.len() as u64,
            n_requests,
            n_reached,
            recall: if n_requests == 0 {
                1.0
            } else {
                n_reached as f64 / n_requests as f64
            },
        })
    }
}
