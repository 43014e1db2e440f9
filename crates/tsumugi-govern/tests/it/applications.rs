//! Applications move submitted → approved/rejected once; only an approval allows a release.

use tsumugi_govern::{
    ApplicationKind, ApplicationStatus, Decision, Error, NewApplication, ReleaseEntry, application,
    approval, decide, entries, list_applications, list_releases, register_release,
    submit_application, verify,
};
use tsumugi_store::Database;

use crate::support::{at, migrated};

fn new(id: &str, kind: ApplicationKind) -> NewApplication {
    NewApplication {
        application_id: id.into(),
        title: "糖尿病患者の受療動向".into(),
        applicant: "Example University".into(),
        purpose: "regional variation of diabetes care".into(),
        kind,
    }
}

fn release(id: &str) -> ReleaseEntry {
    ReleaseEntry {
        release_id: id.into(),
        created_at: at(30),
        optout_version: 12,
        n_persons: 1000,
        n_events: 25_000,
        manifest_sha256: "0f".repeat(32),
        path: format!("releases/{id}"),
    }
}

async fn setup(db: &Database) {
    submit_application(db, at(1), new("A-1", ApplicationKind::Anonymized))
        .await
        .unwrap();
    submit_application(db, at(2), new("A-2", ApplicationKind::Statistics))
        .await
        .unwrap();
}

#[tokio::test]
async fn approval_exists_only_after_the_committee_approves() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, db) in migrated(tmp.path()).await {
        setup(&db).await;
        let err = approval(&db, "A-1").await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::PolicyNotApproved {
                    status: "submitted",
                    ..
                }
            ),
            "{name}: {err}"
        );
        assert!(err.to_string().starts_with("GOV0007PolicyNotApproved"));
        assert!(matches!(
            approval(&db, "nope").await.unwrap_err(),
            Error::InvalidApplicationNotFound { .. }
        ));
        let conditions = vec!["公表前に事務局の確認を受ける".to_owned()];
        decide(
            &db,
            at(10),
            "A-1",
            Decision::Approve {
                conditions: conditions.clone(),
            },
        )
        .await
        .unwrap();
        decide(
            &db,
            at(11),
            "A-2",
            Decision::Reject {
                reason: "目的が不明確".into(),
            },
        )
        .await
        .unwrap();

        let ok = approval(&db, "A-1").await.unwrap();
        assert_eq!(ok.application_id(), "A-1");
        assert_eq!(ok.kind(), ApplicationKind::Anonymized);
        assert_eq!(ok.decided_at(), at(10));
        assert_eq!(ok.conditions(), &conditions[..]);
        assert!(matches!(
            approval(&db, "A-2").await.unwrap_err(),
            Error::PolicyNotApproved {
                status: "rejected",
                ..
            }
        ));
        let rejected = application(&db, "A-2").await.unwrap().unwrap();
        assert_eq!(rejected.status, ApplicationStatus::Rejected);
        assert_eq!(rejected.decision_reason, "目的が不明確");
        assert_eq!(rejected.submitted_at, at(2));
        assert_eq!(list_applications(&db).await.unwrap().len(), 2);

        // Decisions are final.
        let again = decide(&db, at(12), "A-1", Decision::Reject { reason: "x".into() })
            .await
            .unwrap_err();
        assert!(
            matches!(
                again,
                Error::PolicyAlreadyDecided {
                    status: "approved",
                    ..
                }
            ),
            "{name}: {again}"
        );
        assert!(matches!(
            decide(&db, at(12), "zzz", Decision::Approve { conditions: vec![] })
                .await
                .unwrap_err(),
            Error::InvalidApplicationNotFound { .. }
        ));
        // Duplicate ids are refused.
        assert!(matches!(
            submit_application(&db, at(13), new("A-1", ApplicationKind::Statistics))
                .await
                .unwrap_err(),
            Error::InvalidApplicationExists { .. }
        ));

        register_release(&db, at(31), &ok, release("R-1"))
            .await
            .unwrap();
        assert!(matches!(
            register_release(&db, at(32), &ok, release("R-1"))
                .await
                .unwrap_err(),
            Error::InvalidReleaseExists { .. }
        ));
        let mut bad = release("R-2");
        bad.manifest_sha256 = "XYZ".into();
        assert!(matches!(
            register_release(&db, at(32), &ok, bad).await.unwrap_err(),
            Error::InvalidInput {
                field: "manifest_sha256",
                ..
            }
        ));
        let releases = list_releases(&db).await.unwrap();
        assert_eq!(releases.len(), 1, "{name}");
        assert_eq!(releases[0].application_id, "A-1");
        assert_eq!(releases[0].entry, release("R-1"));

        // Every change is in the audit chain, in order.
        let actions: Vec<String> = entries(&db, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "application.submitted",
                "application.submitted",
                "application.approved",
                "application.rejected",
                "release.registered"
            ],
            "{name}"
        );
        assert_eq!(verify(&db, None).await.unwrap().first_bad, None);
        db.close().await;
    }
}
