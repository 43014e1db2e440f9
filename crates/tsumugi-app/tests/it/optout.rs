//! A stop request that arrives after ingestion takes the person out of the next release and
//! statistics, purges their vault entries and research rows, and leaves a deletion record.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use tsumugi_app::optout::ReceivedWindow;
use tsumugi_app::release::{ReleaseRequest, SAMPLE_APPLICATION_ID};
use tsumugi_app::{ManualClock, OpenOptions};
use tsumugi_model::ProviderId;

use crate::support::{
    backends, csv_rows, files_under, opted_out_persons, records_by_person, start,
};

#[tokio::test]
async fn late_stop_request_purges_and_excludes() {
    for (backend, urls) in backends().await {
        let tmp = tempfile::tempdir().unwrap();
        let synth = tmp.path().join("synthetic");
        let as_of = start().date_naive();
        tsumugi_synth::generate(
            &tsumugi_synth::SynthConfig {
                seed: 11,
                persons: 1200,
                as_of,
            },
            &synth,
            &mut |_| {},
        )
        .unwrap();
        let clock = Arc::new(ManualClock::new(start()));
        let ctx = tsumugi_app::init(
            &tmp.path().join("data"),
            false,
            OpenOptions {
                urls: urls.clone(),
                clock: clock.clone(),
                seed: Some(5),
                actor: "test".into(),
            },
        )
        .await
        .unwrap();
        tsumugi_app::ingest::register_providers_csv(&ctx, &synth.join("providers.csv"))
            .await
            .unwrap();
        for f in files_under(&synth.join("notices")) {
            let p = ProviderId(f.file_stem().unwrap().to_string_lossy().into_owned());
            tsumugi_app::ingest::import_notices(&ctx, &p, &f)
                .await
                .unwrap();
        }
        // Everything is ingested before any stop request arrives.
        for sub in tsumugi_app::demo::submissions(&synth).unwrap() {
            tsumugi_app::ingest::submit(&ctx, &sub.provider, &sub.path, &sub.read_as)
                .await
                .unwrap();
        }
        tsumugi_app::research::link(&ctx).await.unwrap();
        clock.set(start() + Duration::days(90)); // every notice has matured
        tsumugi_app::research::build(&ctx).await.unwrap();
        tsumugi_app::release::ensure_sample_application(&ctx)
            .await
            .unwrap();
        let req = ReleaseRequest {
            max_suppression: 0.3,
            ..ReleaseRequest::sample(SAMPLE_APPLICATION_ID, "r", Some(99))
        };
        let before = tsumugi_app::release::create_release(&ctx, &req)
            .await
            .unwrap();

        // The person keys of opted-out persons, found through their records (truth).
        let opted = opted_out_persons(&synth);
        let records = records_by_person(&synth);
        let mut keys: BTreeSet<i64> = BTreeSet::new();
        for person in &opted {
            for (provider, patient) in records.get(person).into_iter().flatten() {
                keys.extend(
                    tsumugi_app::optout::persons_of_patient(
                        &ctx,
                        &ProviderId(provider.clone()),
                        patient,
                    )
                    .await
                    .unwrap(),
                );
            }
        }
        assert!(
            keys.len() >= 5,
            "{backend}: too few opted-out persons in data: {}",
            keys.len()
        );
        let key_before = tsumugi_anon::derive_release_key(99, &before.release_id);
        let released_before: BTreeSet<String> =
            csv_rows(&std::path::Path::new(&before.dir).join("persons.csv"))
                .into_iter()
                .map(|r| r["person_id"].clone())
                .collect();
        let present_before = keys
            .iter()
            .filter(|k| released_before.contains(&tsumugi_anon::pseudonym(&key_before, **k)))
            .count();
        assert!(
            present_before > 0,
            "{backend}: the test cannot fail: no opted-out person was in the first release"
        );

        // All stop requests arrive now, after ingestion.
        let requests = tsumugi_app::optout::read_stop_requests(
            &synth.join("stop_requests.csv"),
            ReceivedWindow {
                after: None,
                until: None,
            },
        )
        .unwrap();
        let r = tsumugi_app::optout::register_stop_requests(&ctx, &requests)
            .await
            .unwrap();
        assert!(
            r.n_persons_purged as usize >= keys.len() * 9 / 10,
            "{backend}: purged {} of {}",
            r.n_persons_purged,
            keys.len()
        );
        assert!(r.n_rows_purged > 0 && r.n_records_purged > 0);
        // Vault entries are gone.
        for person in &opted {
            for (provider, patient) in records.get(person).into_iter().flatten() {
                let left = tsumugi_app::optout::persons_of_patient(
                    &ctx,
                    &ProviderId(provider.clone()),
                    patient,
                )
                .await
                .unwrap();
                let review_only = left.is_empty();
                assert!(
                    review_only || r.n_review > 0,
                    "{backend}: vault still holds an opted-out person's record"
                );
            }
        }
        // Deletion records were written.
        let deletions =
            tsumugi_govern::list(ctx.registry(), Some(tsumugi_govern::RecordKind::Deletion))
                .await
                .unwrap();
        assert_eq!(deletions.len() as u64, r.n_persons_purged, "{backend}");
        // Research rows are gone: no lifecourse row or persons row carries their keys.
        for f in ctx.store().lifecourse_event_files().unwrap() {
            for batch in ctx.store().read_events(&f).unwrap() {
                assert!(
                    batch.unwrap().iter().all(|row| !keys.contains(&row.key)),
                    "{backend}: research row of an opted-out person"
                );
            }
        }
        let persons = ctx
            .store()
            .read_persons(&ctx.store().persons_file())
            .unwrap();
        assert!(persons.iter().all(|p| !keys.contains(&p.person_key)));

        // The next release and statistics exclude them.
        tsumugi_app::research::build(&ctx).await.unwrap();
        let after = tsumugi_app::release::create_release(&ctx, &req)
            .await
            .unwrap();
        assert!(after.optout_version > before.optout_version);
        let key_after = tsumugi_anon::derive_release_key(99, &after.release_id);
        let released_after: BTreeSet<String> =
            csv_rows(&std::path::Path::new(&after.dir).join("persons.csv"))
                .into_iter()
                .map(|r| r["person_id"].clone())
                .collect();
        for k in &keys {
            assert!(
                !released_after.contains(&tsumugi_anon::pseudonym(&key_after, *k)),
                "{backend}: opted-out person released"
            );
        }
        let events_after =
            std::fs::read_to_string(std::path::Path::new(&after.dir).join("events.csv")).unwrap();
        for k in &keys {
            assert!(
                !events_after.contains(&tsumugi_anon::pseudonym(&key_after, *k)),
                "{backend}: opted-out person's events released"
            );
        }
        let stats = tsumugi_app::statistics::diagnosis_by_prefecture_and_age(
            &ctx,
            SAMPLE_APPLICATION_ID,
            "I10",
        )
        .await
        .unwrap();
        let today = (start() + Duration::days(90)).date_naive();
        let alive = persons
            .iter()
            .filter(|p| p.birth_month <= today && p.deceased_on.is_none_or(|d| d >= today))
            .count();
        assert_eq!(
            stats.n_population as usize, alive,
            "{backend}: statistics population is the purged lifecourse"
        );
        ctx.close().await;
    }
}
