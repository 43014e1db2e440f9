//! Test databases: SQLite in a temp folder, and PostgreSQL when `TSUMUGI_TEST_POSTGRES_URL` is set.
//! Each comes back migrated, fresh for the calling test.

use chrono::{DateTime, TimeZone, Utc};
use tsumugi_store::{Database, REGISTRY_POSTGRES, REGISTRY_SQLITE};

/// A fixed instant, `minutes` after 2026-04-01 09:00 UTC.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

/// Every database the registry must work on here, migrated.
pub async fn migrated(tmp: &std::path::Path) -> Vec<(&'static str, Database)> {
    let dbs = databases(tmp).await;
    for (_, db) in &dbs {
        db.migrate(&REGISTRY_SQLITE, &REGISTRY_POSTGRES)
            .await
            .unwrap();
    }
    dbs
}

/// Every database the registry must work on here, fresh: see [`tsumugi_store::testing`].
pub async fn databases(tmp: &std::path::Path) -> Vec<(&'static str, Database)> {
    tsumugi_store::testing::databases(tmp, "registry.db").await
}
