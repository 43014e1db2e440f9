//! Write transactions that serialize governance writers, with retry of transient failures.

use chrono::{DateTime, SecondsFormat, Utc};
use tsumugi_store::sqlx::{self, Any, Transaction};
use tsumugi_store::{Backend, Database};

use crate::{Error, Result};

/// How many times a write transaction is tried before giving up.
pub(crate) const MAX_ATTEMPTS: u32 = 8;

/// Runs `$body` (an expression of type `Result<T>` that may `.await` and use `$conn`, a
/// `&mut AnyConnection`) in a write transaction and commits it, retrying the whole transaction when
/// it failed for a transient reason (a lost race for the next audit sequence number, a busy
/// database). Inside the body, `return` and `?` leave the body with its error.
///
/// Every governance write goes through here. The transaction first takes the audit log's write
/// lock (`BEGIN IMMEDIATE` on SQLite, `LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE` on
/// PostgreSQL, which readers do not wait for), so writers append one after another and the chain
/// cannot fork; the primary key on `seq` is the second line of defence.
///
/// A macro rather than a function taking an async closure: the futures it produces stay `Send`,
/// which an `AsyncFnMut` bound over a borrowed connection cannot yet promise.
macro_rules! with_write_tx {
    ($db:expr, |$conn:ident| $body:expr) => {{
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let res: $crate::Result<_> = async {
                let mut tx = $crate::tx::begin_write($db).await?;
                let out = {
                    let $conn: &mut ::tsumugi_store::sqlx::AnyConnection = &mut tx;
                    let body: $crate::Result<_> = async { $body }.await;
                    body?
                };
                tx.commit()
                    .await
                    .map_err($crate::Error::db("commit transaction"))?;
                Ok(out)
            }
            .await;
            match res {
                Err(e) if e.is_transient() && attempt < $crate::tx::MAX_ATTEMPTS => continue,
                Err(e) if e.is_transient() => {
                    break Err($crate::Error::AppendContention { attempts: attempt });
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use with_write_tx;

pub(crate) async fn begin_write(db: &Database) -> Result<Transaction<'static, Any>> {
    match db.backend() {
        Backend::Sqlite => db
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Error::db("begin transaction")),
        Backend::Postgres => {
            let mut tx = db
                .pool()
                .begin()
                .await
                .map_err(Error::db("begin transaction"))?;
            sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .map_err(Error::db("lock audit_log"))?;
            Ok(tx)
        }
    }
}

/// The stored form of a timestamp: RFC 3339, UTC, microseconds, `Z` (fixed width, so text order
/// is time order).
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a stored timestamp.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Checks a short identifier-like input (application id, release id, actor…): non-empty, at most
/// 200 characters, no control characters.
pub(crate) fn check_name(field: &'static str, value: &str) -> Result<()> {
    let reason = if value.trim().is_empty() {
        "must not be empty"
    } else if value.chars().count() > 200 {
        "longer than 200 characters"
    } else if value.chars().any(char::is_control) {
        "contains control characters"
    } else {
        return Ok(());
    };
    Err(Error::InvalidInput { field, reason })
}
