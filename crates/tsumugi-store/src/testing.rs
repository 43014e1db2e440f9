//! Test databases for every crate's SQL tests (used from `tests/`, never by production code).
//!
//! SQLite always; PostgreSQL too when `TSUMUGI_TEST_POSTGRES_URL` names a server
//! (`scripts/test.sh` starts one). With `TSUMUGI_REQUIRE_POSTGRES=1` a missing server is a
//! failure rather than a skip, so CI cannot silently test one backend only.
#![allow(clippy::expect_used, clippy::panic)] // test support: failing loudly is the point

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Executor;

use crate::Database;

/// A fresh, empty database on the PostgreSQL server of `TSUMUGI_TEST_POSTGRES_URL`, if set.
///
/// # Panics
/// When `TSUMUGI_REQUIRE_POSTGRES` is set without a server, or the server refuses.
pub async fn postgres_url() -> Option<String> {
    let Ok(url) = std::env::var("TSUMUGI_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TSUMUGI_REQUIRE_POSTGRES").is_err(),
            "TSUMUGI_REQUIRE_POSTGRES is set but TSUMUGI_TEST_POSTGRES_URL is not"
        );
        return None;
    };
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "tsumugi_test_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let admin = Database::connect(&url)
        .await
        .expect("connect to the test PostgreSQL server");
    // The name is built from a process id and a counter, never from input.
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin
            .pool()
            .execute(sqlx::AssertSqlSafe(sql))
            .await
            .expect("create a test database");
    }
    admin.close().await;
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

/// Every database the code must work on here: `(backend name, database)`, each fresh and not
/// migrated; the SQLite one is the file `file` in `dir`.
///
/// # Panics
/// As [`postgres_url`], or when a database cannot be opened.
pub async fn databases(dir: &Path, file: &str) -> Vec<(&'static str, Database)> {
    let sqlite = Database::connect(&format!("sqlite://{}", dir.join(file).display()))
        .await
        .expect("open a test SQLite database");
    let mut out = vec![("sqlite", sqlite)];
    if let Some(url) = postgres_url().await {
        out.push((
            "postgres",
            Database::connect(&url)
                .await
                .expect("open the test database"),
        ));
    }
    out
}
