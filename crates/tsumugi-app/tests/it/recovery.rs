//! A submission acknowledged but not processed (the process died) is finished from its staged
//! copy on the next run, without losing or duplicating anything.

use std::sync::Arc;

use tsumugi_app::{ManualClock, OpenOptions};
use tsumugi_model::ProviderId;

use crate::support::{backends, files_under, start};

#[tokio::test]
async fn interrupted_submission_is_finished_exactly_once() {
    for (backend, urls) in backends().await {
        let tmp = tempfile::tempdir().unwrap();
        let synth = tmp.path().join("synthetic");
        tsumugi_synth::generate(
            &tsumugi_synth::SynthConfig {
                seed: 4,
                persons: 300,
                as_of: start().date_naive(),
            },
            &synth,
            &mut |_| {},
        )
        .unwrap();
        let opts = || OpenOptions {
            urls: urls.clone(),
            clock: Arc::new(ManualClock::new(start())),
            seed: Some(2),
            actor: "test".into(),
        };
        let ctx = tsumugi_app::init(&tmp.path().join("data"), false, opts())
            .await
            .unwrap();
        tsumugi_app::ingest::register_providers_csv(&ctx, &synth.join("providers.csv"))
            .await
            .unwrap();
        let file = files_under(&synth.join("submissions"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "ndjson"))
            .max_by_key(|p| std::fs::metadata(p).unwrap().len())
            .unwrap();
        let provider = ProviderId(
            file.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        );
        let first =
            tsumugi_app::ingest::submit(&ctx, &provider, &file, &tsumugi_app::ingest::ReadAs::AUTO)
                .await
                .unwrap();
        assert!(first.n_accepted > 0);
        let done = tsumugi_app::ingest::counts(&ctx).await.unwrap();

        // Simulate a crash after the acknowledgement: the row is back to `staged` and the
        // events file never appeared.
        sqlx::query("UPDATE submissions SET status = 'staged' WHERE submission_id = $1")
            .bind(first.submission_id)
            .execute(ctx.registry().pool())
            .await
            .unwrap();
        std::fs::remove_file(ctx.store().ingest_file(first.submission_id)).unwrap();
        ctx.close().await;

        let ctx = tsumugi_app::open(&tmp.path().join("data"), opts())
            .await
            .unwrap();
        let resumed = tsumugi_app::ingest::resume_pending(&ctx).await.unwrap();
        assert_eq!(resumed.len(), 1, "{backend}");
        assert_eq!(resumed[0].n_accepted, first.n_accepted, "{backend}");
        assert_eq!(
            tsumugi_app::ingest::counts(&ctx).await.unwrap(),
            done,
            "{backend}: lost or duplicated data"
        );
        assert!(
            tsumugi_app::ingest::resume_pending(&ctx)
                .await
                .unwrap()
                .is_empty(),
            "{backend}"
        );
        let again =
            tsumugi_app::ingest::submit(&ctx, &provider, &file, &tsumugi_app::ingest::ReadAs::AUTO)
                .await
                .unwrap();
        assert!(again.duplicate, "{backend}");
        ctx.close().await;
    }
}
