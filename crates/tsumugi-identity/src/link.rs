//! Deterministic record linkage: union of match-key rules, stable person keys.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rand::RngCore;
use sqlx::Row;
use tsumugi_store::values_placeholders;

use crate::rules::LINK_RULES;
use crate::{Error, Result, Vault};

/// What a linkage run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}

/// Union–find over dense indices, with path halving.
struct DisjointSets {
    parent: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> DisjointSets {
        DisjointSets {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }
}

impl Vault {
    /// Links every record to a person: records sharing a key under any link rule are one
    /// person (connected components). Person keys are stable: a cluster keeps the key its
    /// records already had; when clusters merge, the smallest existing key is kept and the merge
    /// is reported; only clusters with no key get a new random one.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn link(
        &self,
        at: DateTime<Utc>,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<LinkSummary> {
        let records =
            sqlx::query("SELECT record_key, person_key FROM source_records ORDER BY record_key")
                .fetch_all(self.db.pool())
                .await
                .map_err(Error::vault("read records"))?;
        let keys: Vec<i64> = records.iter().map(|r| r.get(0)).collect();
        let current: Vec<Option<i64>> = records.iter().map(|r| r.get(1)).collect();
        let index: BTreeMap<i64, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        let mut sets = DisjointSets::new(keys.len());
        let edges =
            sqlx::query("SELECT rule, digest, record_key FROM link_keys ORDER BY rule, digest")
                .fetch_all(self.db.pool())
                .await
                .map_err(Error::vault("read match keys"))?;
        let mut prev: Option<(String, Vec<u8>, usize)> = None;
        for row in edges {
            let rule: String = row.get(0);
            if !LINK_RULES.contains(&rule.as_str()) {
                continue;
            }
            let digest: Vec<u8> = row.get(1);
            let Some(&i) = index.get(&row.get::<i64, _>(2)) else {
                continue;
            };
            match &prev {
                Some((r, d, first)) if *r == rule && *d == digest => sets.union(*first, i),
                _ => prev = Some((rule, digest, i)),
            }
        }
        let mut clusters: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..keys.len() {
            clusters.entry(sets.find(i)).or_default().push(i);
        }
        let mut summary = LinkSummary {
            n_records: keys.len() as u64,
            n_persons: clusters.len() as u64,
            ..LinkSummary::default()
        };
        let mut updates: Vec<(i64, i64)> = Vec::new();
        let mut new_persons: Vec<i64> = Vec::new();
        let mut absorbed: BTreeSet<i64> = BTreeSet::new();
        for members in clusters.values() {
            let existing: BTreeSet<i64> = members.iter().filter_map(|&i| current[i]).collect();
            let person = match existing.first() {
                Some(&k) => k,
                None => {
                    let k = (rng.next_u64() >> 1) as i64;
                    new_persons.push(k);
                    k
                }
            };
            for &other in existing.iter().skip(1) {
                summary.merges.push((person, other));
                absorbed.insert(other);
            }
            for &i in members {
                if current[i] != Some(person) {
                    updates.push((keys[i], person));
                }
            }
        }
        summary.n_new_persons = new_persons.len() as u64;
        summary.n_relinked = updates.len() as u64;
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(Error::vault("begin"))?;
        for chunk in new_persons.chunks(500) {
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
        for (record_key, person_key) in &updates {
            sqlx::query("UPDATE source_records SET person_key = $1 WHERE record_key = $2")
                .bind(*person_key)
                .bind(*record_key)
                .execute(&mut *tx)
                .await
                .map_err(Error::vault("link record"))?;
        }
        for k in &absorbed {
            sqlx::query("UPDATE stop_requests SET person_key = $1 WHERE person_key = $2")
                .bind(
                    summary
                        .merges
                        .iter()
                        .find(|(_, a)| a == k)
                        .map_or(*k, |(kept, _)| *kept),
                )
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
        tx.commit().await.map_err(Error::vault("commit links"))?;
        Ok(summary)
    }
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
