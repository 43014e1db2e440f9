//! Statutory records round-trip and are anchored in the audit chain.

use chrono::NaiveDate;
use serde_json::json;
use tsumugi_govern::{
    Deletion, Receipt, RecordBody, RecordKind, entries, list, record, record_body, verify,
};

use crate::support::{at, migrated};

#[tokio::test]
async fn records_round_trip_by_kind_and_are_audited() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, db) in migrated(tmp.path()).await {
        let receipt = RecordBody::Receipt(Receipt {
            provider_id: "1310000001".into(),
            submission_id: 7,
            received_on: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            n_persons: 120,
            n_records: 480,
            data_items: vec!["diagnosis".into(), "lab_result".into()],
            notice_confirmed: 110,
            n_held: 10,
            n_rejected: 2,
        });
        let id1 = record_body(&db, at(1), "1310000001", &receipt)
            .await
            .unwrap();
        let deletion = RecordBody::Deletion(Deletion {
            person_key: 42,
            reason: "stop_request".into(),
            request_id: "SR-1".into(),
            n_vault_records: 3,
            n_research_rows: 57,
        });
        let id2 = record_body(&db, at(2), "42", &deletion).await.unwrap();
        let id3 = record(
            &db,
            at(3),
            RecordKind::Statistics,
            "R-1",
            &json!({"n_cells": 4}),
        )
        .await
        .unwrap();
        assert!(id1 < id2 && id2 < id3, "{name}");

        let all = list(&db, None).await.unwrap();
        assert_eq!(all.len(), 3, "{name}");
        assert_eq!(all[0].kind, RecordKind::Receipt);
        assert_eq!(all[0].recorded_at, at(1));
        assert_eq!(RecordBody::from_record(&all[0]).unwrap(), receipt);
        let deletions = list(&db, Some(RecordKind::Deletion)).await.unwrap();
        assert_eq!(deletions.len(), 1, "{name}");
        assert_eq!(deletions[0].subject, "42");
        assert_eq!(RecordBody::from_record(&deletions[0]).unwrap(), deletion);
        assert!(
            list(&db, Some(RecordKind::Provision))
                .await
                .unwrap()
                .is_empty()
        );

        // One audit entry per record, holding the record id and body hash, not the body.
        let audit = entries(&db, 0, 10).await.unwrap();
        assert_eq!(audit.len(), 3, "{name}");
        assert_eq!(audit[1].action, "statutory_record.created");
        assert_eq!(audit[1].details["record_id"], id2);
        assert_eq!(audit[1].details["kind"], "deletion");
        assert_eq!(audit[1].details["body_sha256"].as_str().unwrap().len(), 64);
        assert!(!audit[1].details.to_string().contains("SR-1"));
        assert_eq!(verify(&db, None).await.unwrap().first_bad, None);

        let err = record(&db, at(4), RecordKind::Receipt, "x", &json!([1]))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("GOV0004InvalidInput: body"), "{err}");
        db.close().await;
    }
}
