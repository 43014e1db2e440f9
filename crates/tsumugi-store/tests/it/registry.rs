//! The registry schema migrates and round-trips on every backend.

use sqlx::Row;
use tsumugi_store::{REGISTRY_POSTGRES, REGISTRY_SQLITE};

use crate::support::databases;

#[tokio::test]
async fn registry_migrates_and_round_trips_on_every_backend() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, db) in databases(tmp.path()).await {
        db.migrate(&REGISTRY_SQLITE, &REGISTRY_POSTGRES)
            .await
            .unwrap();
        // Migrating twice is a no-op.
        db.migrate(&REGISTRY_SQLITE, &REGISTRY_POSTGRES)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO providers (provider_id, kind, name, waiting_days, registered_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind("1310000001")
        .bind("hospital")
        .bind("テスト病院")
        .bind(30i64)
        .bind("2026-01-01T00:00:00Z")
        .execute(db.pool())
        .await
        .unwrap();
        let row = sqlx::query(
            "INSERT INTO submissions (provider_id, content_sha256, file_name, n_bytes, received_at, status) \
             VALUES ($1, $2, $3, $4, $5, 'staged') RETURNING submission_id",
        )
        .bind("1310000001")
        .bind("ab".repeat(32))
        .bind("a.ndjson")
        .bind(10i64)
        .bind("2026-01-01T00:00:00Z")
        .fetch_one(db.pool())
        .await
        .unwrap();
        let id: i64 = row.get(0);
        assert_eq!(id, 1, "{name}");
        // The content hash is unique: the same bytes cannot be staged twice.
        let dup = sqlx::query(
            "INSERT INTO submissions (provider_id, content_sha256, file_name, n_bytes, received_at, status) \
             VALUES ($1, $2, $3, $4, $5, 'staged')",
        )
        .bind("1310000001")
        .bind("ab".repeat(32))
        .bind("b.ndjson")
        .bind(10i64)
        .bind("2026-01-02T00:00:00Z")
        .execute(db.pool())
        .await;
        assert!(dup.is_err(), "{name}: duplicate content hash accepted");
        let name_back: String = sqlx::query("SELECT name FROM providers WHERE provider_id = $1")
            .bind("1310000001")
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(name_back, "テスト病院", "{name}");
        db.close().await;
    }
}
