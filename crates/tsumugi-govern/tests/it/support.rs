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

/// Every database the registry must work on in this environment.
///
/// PostgreSQL is used when `TSUMUGI_TEST_POSTGRES_URL` names a server (`scripts/test.sh` starts
/// one); with `TSUMUGI_REQUIRE_POSTGRES=1` its absence is a failure rather than a skip.
pub async fn databases(tmp: &std::path::Path) -> Vec<(&'static str, Database)> {
    let mut out = vec![(
        "sqlite",
        Database::connect(&format!("sqlite://{}/registry.db", tmp.display()))
            .await
            .unwrap(),
    )];
    match std::env::var("TSUMUGI_TEST_POSTGRES_URL") {
        Ok(url) => out.push(("postgres", fresh_postgres(&url).await)),
        Err(_) => assert!(
            std::env::var("TSUMUGI_REQUIRE_POSTGRES").is_err(),
            "TSUMUGI_REQUIRE_POSTGRES is set but TSUMUGI_TEST_POSTGRES_URL is not"
        ),
    }
    out
}

/// A new, empty database on the server at `url`, so tests never see each other's rows.
async fn fresh_postgres(url: &str) -> Database {
    use sqlx::Executor;
    let admin = Database::connect(url).await.unwrap();
    let name = format!(
        "tsumugi_gov_it_{}",
        std::process::id() as u64 * 1000 + next_id()
    );
    // The name is built from a process id and a counter, never from input.
    let drop = format!("DROP DATABASE IF EXISTS {name}");
    admin
        .pool()
        .execute(sqlx::AssertSqlSafe(drop))
        .await
        .unwrap();
    let create = format!("CREATE DATABASE {name}");
    admin
        .pool()
        .execute(sqlx::AssertSqlSafe(create))
        .await
        .unwrap();
    admin.close().await;
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    Database::connect(&format!("{base}/{name}")).await.unwrap()
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
