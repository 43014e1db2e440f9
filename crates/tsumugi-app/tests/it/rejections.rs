//! A submission with thousands of bad records: its diagnostics are written a batch at a time to
//! the registry and to the CSV and JSON reports, the reports are complete and well-formed, and
//! processing it again (after a crash) leaves one set, not two.

use std::io::Write as _;
use std::sync::Arc;

use tsumugi_app::{ManualClock, OpenOptions};
use tsumugi_model::{ProviderId, ProviderKind};

use crate::support::{backends, start};

const BAD: u64 = 2_345;

#[tokio::test]
async fn diagnostics_stream_to_registry_and_reports_exactly_once() {
    for (backend, urls) in backends().await {
        let tmp = tempfile::tempdir().unwrap();
        let opts = || OpenOptions {
            urls: urls.clone(),
            clock: Arc::new(ManualClock::new(start())),
            seed: Some(5),
            actor: "test".into(),
        };
        let ctx = tsumugi_app::init(&tmp.path().join("data"), false, opts())
            .await
            .unwrap();
        let provider = ProviderId("1310000001".into());
        tsumugi_app::ingest::register_provider(
            &ctx,
            &tsumugi_app::ingest::ProviderRegistration {
                provider_id: provider.clone(),
                kind: ProviderKind::Hospital,
                name: "test hospital".into(),
                waiting_days: 0,
            },
        )
        .await
        .unwrap();
        // Good records from the benchmark's generator, then many lines that are not JSON.
        let good = tsumugi_app::bench::generate(
            tsumugi_app::Format::Fhir,
            50,
            0,
            false,
            &tmp.path().join("in"),
            1,
        )
        .unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&good.path)
            .unwrap();
        for i in 0..BAD {
            writeln!(f, "{{\"resourceType\": \"Bundle\", broken {i}").unwrap();
        }
        drop(f);
        let how = tsumugi_app::ingest::ReadAs {
            format: Some(tsumugi_app::Format::Fhir),
            mapping: None,
        };
        let report = tsumugi_app::ingest::submit(&ctx, &provider, &good.path, &how)
            .await
            .unwrap();
        assert_eq!(report.n_rejected, BAD, "{backend}");
        assert_eq!(report.n_accepted, good.records, "{backend}");
        let csv_path = report.rejection_report.clone().unwrap();
        let check_reports = || {
            let mut r = csv::Reader::from_path(&csv_path).unwrap();
            assert_eq!(
                r.headers().unwrap().iter().collect::<Vec<_>>(),
                [
                    "file",
                    "record",
                    "line",
                    "field",
                    "code",
                    "severity",
                    "reason_ja",
                    "reason_en"
                ]
            );
            let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
            assert_eq!(rows.len() as u64, BAD, "{backend}");
            assert_eq!(&rows[0][1], &(good.records + 1).to_string());
            assert!(rows.iter().all(|r| &r[5] == "error"));
            let json: Vec<serde_json::Value> =
                serde_json::from_slice(&std::fs::read(csv_path.with_extension("json")).unwrap())
                    .unwrap();
            assert_eq!(json.len() as u64, BAD, "{backend}");
            assert_eq!(json[BAD as usize - 1]["record"], good.records + BAD);
            // No temporary file is left beside the reports.
            let dir = csv_path.parent().unwrap();
            for e in std::fs::read_dir(dir).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                assert!(!name.ends_with(".tmp"), "{backend}: {name}");
            }
        };
        check_reports();
        let stored =
            tsumugi_store::registry::count_rejections(ctx.registry(), report.submission_id)
                .await
                .unwrap();
        assert_eq!(stored, (BAD, 0), "{backend}");

        // Processed again after a crash: one set of diagnostics.
        sqlx::query("UPDATE submissions SET status = 'staged' WHERE submission_id = $1")
            .bind(report.submission_id)
            .execute(ctx.registry().pool())
            .await
            .unwrap();
        let resumed = tsumugi_app::ingest::resume_pending(&ctx).await.unwrap();
        assert_eq!(resumed[0].n_rejected, BAD, "{backend}");
        check_reports();
        let stored =
            tsumugi_store::registry::count_rejections(ctx.registry(), report.submission_id)
                .await
                .unwrap();
        assert_eq!(stored, (BAD, 0), "{backend}");
        ctx.close().await;
    }
}
