//! The clerical-review queue of linkage (名寄せの目視確認): pairs scored in the uncertain band
//! wait for a person; the decision (`match` / `no_match`) binds every later run.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::{Error, Result, Vault};

/// A pair waiting for a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    /// First record (the smaller key).
    pub record_a: i64,
    /// Second record.
    pub record_b: i64,
    /// The match probability the last run gave.
    pub probability: f64,
    /// When the pair was queued.
    pub queued_at: String,
}

/// A person's decision on a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecision {
    /// The two records are the same person.
    Match,
    /// They are not.
    NoMatch,
}

impl ReviewDecision {
    fn as_str(self) -> &'static str {
        match self {
            ReviewDecision::Match => "match",
            ReviewDecision::NoMatch => "no_match",
        }
    }
}

fn ordered(a: i64, b: i64) -> (i64, i64) {
    (a.min(b), a.max(b))
}

/// Queues this run's pairs (decided pairs stay as decided); a full run (`replace`) first
/// clears the pending pairs of the runs before.
pub(crate) async fn store_review_queue(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pairs: &[(i64, i64, f64)],
    at: DateTime<Utc>,
    replace: bool,
) -> Result<()> {
    if replace {
        sqlx::query("DELETE FROM link_reviews WHERE status = 'pending'")
            .execute(&mut **tx)
            .await
            .map_err(Error::vault("clear review queue"))?;
    }
    for chunk in pairs.chunks(100) {
        let sql = format!(
            "INSERT INTO link_reviews (record_a, record_b, probability, status, queued_at) VALUES {} \
             ON CONFLICT (record_a, record_b) DO NOTHING",
            tsumugi_store::values_placeholders(chunk.len(), 5)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (a, b, p) in chunk {
            let (a, b) = ordered(*a, *b);
            q = q
                .bind(a)
                .bind(b)
                .bind(*p)
                .bind("pending")
                .bind(at.to_rfc3339());
        }
        q.execute(&mut **tx)
            .await
            .map_err(Error::vault("queue review pairs"))?;
    }
    Ok(())
}

impl Vault {
    /// The pairs waiting for a decision, most probable first.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn review_queue(&self) -> Result<Vec<ReviewItem>> {
        let rows = sqlx::query(
            "SELECT record_a, record_b, probability, queued_at FROM link_reviews \
             WHERE status = 'pending' ORDER BY probability DESC, record_a, record_b",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read review queue"))?;
        Ok(rows
            .iter()
            .map(|r| ReviewItem {
                record_a: r.get(0),
                record_b: r.get(1),
                probability: r.get(2),
                queued_at: r.get(3),
            })
            .collect())
    }

    /// Records a person's decision on records `a` and `b` (queued or not); it binds the next
    /// linkage runs. Returns whether the pair was in the queue.
    ///
    /// # Errors
    /// Vault errors; [`Error::InvalidReview`] when either record is unknown.
    pub async fn decide_review(
        &self,
        a: i64,
        b: i64,
        decision: ReviewDecision,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let (a, b) = ordered(a, b);
        let known: i64 = sqlx::query(
            "SELECT COUNT(*) FROM source_records WHERE record_key = $1 OR record_key = $2",
        )
        .bind(a)
        .bind(b)
        .fetch_one(self.db.pool())
        .await
        .map_err(Error::vault("check review records"))?
        .get(0);
        if a == b || known != 2 {
            return Err(Error::InvalidReview {
                reason: "both records must exist and differ",
            });
        }
        let updated = sqlx::query(
            "UPDATE link_reviews SET status = $1, decided_by = $2, decided_at = $3 \
             WHERE record_a = $4 AND record_b = $5",
        )
        .bind(decision.as_str())
        .bind(actor.to_owned())
        .bind(at.to_rfc3339())
        .bind(a)
        .bind(b)
        .execute(self.db.pool())
        .await
        .map_err(Error::vault("store review decision"))?
        .rows_affected();
        if updated == 0 {
            sqlx::query(
                "INSERT INTO link_reviews (record_a, record_b, probability, status, queued_at, decided_by, decided_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(a)
            .bind(b)
            .bind(-1.0f64)
            .bind(decision.as_str())
            .bind(at.to_rfc3339())
            .bind(actor.to_owned())
            .bind(at.to_rfc3339())
            .execute(self.db.pool())
            .await
            .map_err(Error::vault("store review decision"))?;
        }
        Ok(updated > 0)
    }

    /// The decided pairs, as indices into `keys` (the records of a run, by record key):
    /// `(a, b, true)` for a match, `false` for no match.
    pub(crate) async fn review_decisions(&self, keys: &[i64]) -> Result<Vec<(u32, u32, bool)>> {
        let rows = sqlx::query(
            "SELECT record_a, record_b, status FROM link_reviews WHERE status <> 'pending'",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read review decisions"))?;
        let index: HashMap<i64, u32> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i as u32))
            .collect();
        Ok(rows
            .iter()
            .filter_map(|r| {
                let (a, b): (i64, i64) = (r.get(0), r.get(1));
                let status: String = r.get(2);
                Some((*index.get(&a)?, *index.get(&b)?, status == "match"))
            })
            .collect())
    }
}
