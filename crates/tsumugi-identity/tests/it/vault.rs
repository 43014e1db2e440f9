//! Storing, linking, notices, stop requests and purges, end to end through the vault.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sqlx::Row;
use tsumugi_identity::{
    Admission, Channel, Eligibility, NoticeEntry, Requester, ReviewDecision, StopRequest,
    StopStatus, Vault,
};
use tsumugi_model::{Address, IdentityAttributes, Insurance, PersonName, ProviderId, Sex};
use tsumugi_store::FileKeyProvider;

use crate::support::databases;

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn person(
    pid: &str,
    fk: &str,
    gk: &str,
    fr: &str,
    gr: &str,
    dob: &str,
    branch: &str,
) -> IdentityAttributes {
    IdentityAttributes {
        patient_id: Some(pid.into()),
        names: vec![PersonName {
            family_kanji: Some(fk.into()),
            given_kanji: Some(gk.into()),
            family_kana: Some(fr.into()),
            given_kana: Some(gr.into()),
        }],
        birth_date: Some(d(dob)),
        sex: Sex::Female,
        addresses: vec![Address {
            postal_code: Some("100-0001".into()),
            text: Some("東京都千代田区千代田1-1 CANARY-ADDRESS".into()),
            municipality_code: Some("131016".into()),
        }],
        insurances: vec![Insurance {
            insurer_number: Some("06139979".into()),
            symbol: Some("12".into()),
            number: Some("345".into()),
            branch: Some(branch.into()),
        }],
        deceased_on: None,
    }
}

fn stored(a: &[Admission]) -> Vec<i64> {
    a.iter()
        .map(|x| match x {
            Admission::Stored(k) => *k,
            Admission::OptedOut(r) => panic!("unexpectedly opted out by {r}"),
        })
        .collect()
}

#[tokio::test]
async fn link_notice_optout_and_purge_on_every_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(9);
    let keys = FileKeyProvider::create(&tmp.path().join("keys"), &mut rng).unwrap();
    for (backend, db) in databases(tmp.path()).await {
        let vault = Vault::open(db.clone(), &keys, at(), &mut rng)
            .await
            .unwrap();
        let hospital = ProviderId("1310000001".into());
        let clinic = ProviderId("1310000002".into());
        let a1 = person(
            "H-1",
            "髙橋",
            "花子",
            "タカハシ",
            "ハナコ",
            "1980-02-03",
            "01",
        );
        let twin = person(
            "H-2",
            "髙橋",
            "桃子",
            "タカハシ",
            "モモコ",
            "1980-02-03",
            "02",
        );
        let a2 = person(
            "C-9",
            "高橋",
            "花子",
            "たかはし",
            "はなこ",
            "1980-02-03",
            "01",
        );
        let other = person(
            "C-7",
            "佐藤",
            "一郎",
            "サトウ",
            "イチロウ",
            "1950-10-10",
            "01",
        );
        let k1 = stored(
            &vault
                .insert_submission(1, &hospital, &[(1, &a1), (2, &twin)], &mut rng)
                .await
                .unwrap(),
        );
        let k2 = stored(
            &vault
                .insert_submission(2, &clinic, &[(1, &a2), (2, &other)], &mut rng)
                .await
                .unwrap(),
        );
        // Idempotent per (submission, record).
        let again = stored(
            &vault
                .insert_submission(1, &hospital, &[(1, &a1), (2, &twin)], &mut rng)
                .await
                .unwrap(),
        );
        assert_eq!(again, k1, "{backend}");

        let s = vault
            .link(at(), &tsumugi_identity::LinkOptions::default(), &mut rng)
            .await
            .unwrap();
        assert_eq!((s.n_records, s.n_persons), (4, 3), "{backend}: {s:?}");
        let map = vault.record_persons().await.unwrap();
        assert_eq!(
            map[&k1[0]], map[&k2[0]],
            "{backend}: variant spellings must link"
        );
        assert_ne!(map[&k1[0]], map[&k1[1]], "{backend}: twins must not link");
        // Person keys are stable across runs.
        let s2 = vault
            .link(at(), &tsumugi_identity::LinkOptions::default(), &mut rng)
            .await
            .unwrap();
        assert_eq!((s2.n_new_persons, s2.n_relinked), (0, 0), "{backend}");
        assert_eq!(vault.record_persons().await.unwrap(), map, "{backend}");

        // New records link incrementally against the stored persons (at a third provider: the
        // hospital that holds this person under H-1 gives nobody a second id).
        let a4 = person(
            "H-7",
            "高橋",
            "花子",
            "タカハシ",
            "ハナコ",
            "1980-02-03",
            "01",
        );
        let stranger = person(
            "H-8",
            "中村",
            "誠",
            "ナカムラ",
            "マコト",
            "1961-07-07",
            "01",
        );
        let k5 = stored(
            &vault
                .insert_submission(
                    5,
                    &ProviderId("1310000009".into()),
                    &[(1, &a4), (2, &stranger)],
                    &mut rng,
                )
                .await
                .unwrap(),
        );
        let inc = vault
            .link_new_records(at(), &tsumugi_identity::LinkOptions::default(), &mut rng)
            .await
            .unwrap();
        assert_eq!(
            (inc.n_new_persons, inc.n_relinked),
            (1, 2),
            "{backend}: {inc:?}"
        );
        let after_inc = vault.record_persons().await.unwrap();
        assert_eq!(
            after_inc[&k5[0]], map[&k1[0]],
            "{backend}: joins the stored person"
        );
        assert!(!map.values().any(|p| *p == after_inc[&k5[1]]), "{backend}");
        for (k, p) in &map {
            assert_eq!(after_inc[k], *p, "{backend}: stored persons untouched");
        }
        vault.forget_submission(5).await.unwrap();

        // Any stored pair can be explained with the last run's model: levels and weights only.
        let opts = tsumugi_identity::LinkOptions::default();
        let why = vault.explain_records(k1[0], k2[0], &opts).await.unwrap();
        assert!(
            why.match_weight > 0.0 && !why.twin_guard,
            "{backend}: {why:?}"
        );
        let twins = vault.explain_records(k1[0], k1[1], &opts).await.unwrap();
        assert!(twins.twin_guard, "{backend}: {twins:?}");
        assert!(matches!(
            vault.explain_records(k1[0], -5, &opts).await,
            Err(tsumugi_identity::Error::InvalidReview { .. })
        ));

        // Clerical review: decisions bind later runs, and the keys stay stable through them.
        assert!(vault.review_queue().await.unwrap().is_empty(), "{backend}");
        let queued = vault
            .decide_review(k1[0], k2[0], ReviewDecision::NoMatch, "reviewer:test", at())
            .await
            .unwrap();
        assert!(!queued, "{backend}: the pair was linked, not queued");
        let s3 = vault.link(at(), &opts, &mut rng).await.unwrap();
        let after = vault.record_persons().await.unwrap();
        assert_ne!(
            after[&k1[0]], after[&k2[0]],
            "{backend}: a no-match decision splits"
        );
        assert_eq!(s3.splits.len(), 1, "{backend}: {:?}", s3.splits);
        assert_eq!(
            after[&k1[0]], map[&k1[0]],
            "{backend}: the older part keeps its key"
        );
        vault
            .decide_review(k1[0], k2[0], ReviewDecision::Match, "reviewer:test", at())
            .await
            .unwrap();
        let s4 = vault.link(at(), &opts, &mut rng).await.unwrap();
        let merged = vault.record_persons().await.unwrap();
        assert_eq!(
            merged[&k1[0]], merged[&k2[0]],
            "{backend}: a match decision links"
        );
        let (kept, absorbed) = (
            after[&k1[0]].min(after[&k2[0]]),
            after[&k1[0]].max(after[&k2[0]]),
        );
        assert_eq!(
            s4.merges,
            vec![(kept, absorbed)],
            "{backend}: the smaller key is kept"
        );
        let map = merged;
        assert!(matches!(
            vault
                .decide_review(k1[0], k1[0], ReviewDecision::Match, "reviewer:test", at())
                .await,
            Err(tsumugi_identity::Error::InvalidReview { .. })
        ));

        // Notices: one old enough, one too recent, one missing.
        vault
            .import_notices(
                &hospital,
                &[
                    NoticeEntry {
                        patient_id: "H-1".into(),
                        notified_on: d("2026-01-01"),
                        notified_to: "person".into(),
                    },
                    NoticeEntry {
                        patient_id: "H-2".into(),
                        notified_on: d("2026-03-20"),
                        notified_to: "person".into(),
                    },
                ],
            )
            .await
            .unwrap();
        let e = vault
            .eligibility(d("2026-04-01"), None, &BTreeMap::new(), 30)
            .await
            .unwrap();
        assert_eq!(e[&k1[0]], Eligibility::Usable, "{backend}");
        assert_eq!(e[&k1[1]], Eligibility::HeldWaiting, "{backend}");
        assert_eq!(e[&k2[0]], Eligibility::HeldNoNotice, "{backend}");
        // Counted per submission in the database, the same states.
        for (submission, keys) in [(1, &k1), (2, &k2)] {
            let counts = vault
                .eligibility_counts(d("2026-04-01"), submission, &BTreeMap::new(), 30)
                .await
                .unwrap();
            let mut expected: BTreeMap<Eligibility, u64> = BTreeMap::new();
            for k in keys.iter() {
                *expected.entry(e[k]).or_insert(0) += 1;
            }
            assert_eq!(counts, expected, "{backend}: submission {submission}");
        }

        // Profiles: only the month of birth leaves the vault.
        let usable: BTreeSet<i64> = map.keys().copied().collect();
        let profiles = vault.person_profiles(&usable).await.unwrap();
        assert_eq!(profiles.len(), 3, "{backend}");
        assert!(
            profiles
                .iter()
                .all(|p| p.birth_month.format("%d").to_string() == "01")
        );

        // A stop request through the centre, kana only, 和暦-parsed birth date: finds the person.
        let mut req_attrs = IdentityAttributes {
            names: vec![PersonName {
                family_kana: Some("ﾀｶﾊｼ".into()),
                given_kana: Some("ﾊﾅｺ".into()),
                ..PersonName::default()
            }],
            birth_date: tsumugi_model::wareki::parse_date("昭和55年2月3日").ok(),
            sex: Sex::Female,
            ..IdentityAttributes::default()
        };
        let req = StopRequest {
            request_id: "REQ-1".into(),
            received_on: d("2026-03-30"),
            channel: Channel::Centre,
            requester: Requester::Person,
            provider_id: None,
            identity: req_attrs.clone(),
        };
        let out = vault
            .register_stop_request(&req, at(), &mut rng)
            .await
            .unwrap();
        let target = map[&k1[0]];
        assert_eq!(
            out.status,
            StopStatus::Enforced { person_key: target },
            "{backend}"
        );
        assert_eq!(out.registry_version, 1, "{backend}");
        // Registering it again changes nothing.
        let out2 = vault
            .register_stop_request(&req, at(), &mut rng)
            .await
            .unwrap();
        assert_eq!(out2, out, "{backend}");
        // Evidence is kept and names rules, never values.
        let ev: String =
            sqlx::query("SELECT evidence FROM stop_requests WHERE request_id = 'REQ-1'")
                .fetch_one(db.pool())
                .await
                .unwrap()
                .get(0);
        assert!(
            ev.contains("kana_dob") && !ev.contains("ハナコ"),
            "{backend}: {ev}"
        );

        let purged = vault.purge_person(target).await.unwrap();
        assert_eq!(purged, BTreeSet::from([k1[0], k2[0]]), "{backend}");
        // The person's later records are refused at ingest, by any provider.
        let a3 = person(
            "X-5",
            "髙橋",
            "花子",
            "タカハシ",
            "ハナコ",
            "1980-02-03",
            "01",
        );
        let adm = vault
            .insert_submission(3, &ProviderId("1310000003".into()), &[(1, &a3)], &mut rng)
            .await
            .unwrap();
        assert_eq!(adm, vec![Admission::OptedOut("REQ-1".into())], "{backend}");
        assert_eq!(vault.optout_version().await.unwrap(), 1);

        // A request that matches nobody stays open (never dropped) and matches later.
        req_attrs.names[0].family_kana = Some("ヤマモト".into());
        req_attrs.names[0].given_kana = Some("ジロウ".into());
        req_attrs.sex = Sex::Male;
        req_attrs.birth_date = Some(d("1990-01-01"));
        let req2 = StopRequest {
            request_id: "REQ-2".into(),
            identity: req_attrs,
            ..req.clone()
        };
        let out = vault
            .register_stop_request(&req2, at(), &mut rng)
            .await
            .unwrap();
        assert_eq!(out.status, StopStatus::Unmatched, "{backend}");
        let yamamoto = IdentityAttributes {
            names: vec![PersonName {
                family_kanji: Some("山本".into()),
                given_kanji: Some("次郎".into()),
                family_kana: Some("ヤマモト".into()),
                given_kana: Some("ジロウ".into()),
            }],
            sex: Sex::Male,
            birth_date: Some(d("1990-01-01")),
            patient_id: Some("C-100".into()),
            ..IdentityAttributes::default()
        };
        // It is refused at ingest already, through the request's own keys.
        let adm = vault
            .insert_submission(4, &clinic, &[(1, &yamamoto)], &mut rng)
            .await
            .unwrap();
        assert_eq!(adm, vec![Admission::OptedOut("REQ-2".into())], "{backend}");
        let counts = vault.stop_request_counts().await.unwrap();
        assert_eq!(counts.values().sum::<i64>(), 2, "{backend}");

        // A request waiting for review is decided by a person, and the decision holds.
        let (x, y) = (map[&k2[1]], map[&k1[1]]);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE stop_requests SET status = 'review', evidence = '{{\"candidates\":[{x},{y}]}}' \
             WHERE request_id = 'REQ-2'"
        )))
        .execute(db.pool())
        .await
        .unwrap();
        assert_eq!(
            vault.stop_requests_in_review().await.unwrap(),
            vec![("REQ-2".to_owned(), vec![x, y])],
            "{backend}"
        );
        for (request, person) in [("REQ-2", target), ("REQ-1", x), ("REQ-9", x)] {
            assert!(
                matches!(
                    vault
                        .decide_stop_request(request, person, "centre:test", at())
                        .await,
                    Err(tsumugi_identity::Error::InvalidStopRequest { .. })
                ),
                "{backend}: {request} {person}"
            );
        }
        let decided = vault
            .decide_stop_request("REQ-2", x, "centre:test", at())
            .await
            .unwrap();
        assert_eq!(decided.status, StopStatus::Enforced { person_key: x });
        let again = vault
            .rematch_open_requests(at(), &tsumugi_identity::LinkOptions::default(), &mut rng)
            .await
            .unwrap();
        assert!(
            again
                .iter()
                .any(|o| o.request_id == "REQ-2"
                    && o.status == StopStatus::Enforced { person_key: x }),
            "{backend}: {again:?}"
        );

        // Identifiers are not stored in plaintext anywhere in the vault.
        if backend == "sqlite" {
            db.close().await;
            let bytes = std::fs::read(tmp.path().join("vault.db")).unwrap();
            let wal = std::fs::read(tmp.path().join("vault.db-wal")).unwrap_or_default();
            for needle in [
                "髙橋",
                "ハナコ",
                "CANARY-ADDRESS",
                "06139979",
                "1980-02-03",
                "H-1",
            ] {
                let n = needle.as_bytes();
                assert!(
                    !bytes.windows(n.len()).any(|w| w == n),
                    "plaintext {needle} in vault"
                );
                assert!(
                    !wal.windows(n.len()).any(|w| w == n),
                    "plaintext {needle} in vault WAL"
                );
            }
        }
    }
}
