//! The demo path end to end: nothing identifying leaves the identity zone, classes hold k
//! persons, re-ingest adds nothing, bad input is reported, the audit chain verifies and
//! tampering is caught.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tsumugi_app::demo::{DemoConfig, NoProgress};
use tsumugi_app::{ManualClock, OpenOptions};

use crate::support::{backends, csv_rows, files_under, start};

#[tokio::test]
async fn demo_end_to_end() {
    for (backend, urls) in backends().await {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = DemoConfig {
            data_dir: tmp.path().join("data"),
            synth_dir: tmp.path().join("synthetic"),
            persons: 1200,
            seed: 7,
            urls: urls.clone(),
            start: start(),
        };
        let report = tsumugi_app::demo::run(&cfg, &NoProgress).await.unwrap();
        assert!(
            report.audit.first_bad.is_none(),
            "{backend}: audit chain broken"
        );
        assert!(
            report.duplicate_ignored,
            "{backend}: duplicate submission not recognised"
        );
        assert!(
            report.release.n_persons > 1000,
            "{backend}: release too small: {}",
            report.release.n_persons
        );
        assert!(
            report.optout_early.n_registered + report.optout_late.n_registered > 0,
            "{backend}: no stop requests exercised"
        );
        assert!(
            report.link_quality.f1 > 0.98,
            "{backend}: linkage F1 {}",
            report.link_quality.f1
        );
        // Every requesting person's records are gone (kana-only, old-address, maiden-name and
        // patient-id-only requests included), and nobody else lost any.
        assert!(
            report.optout_recall >= 0.995,
            "{backend}: stop requests missed {:?}",
            report.optout_missed
        );
        assert_eq!(report.optout_collateral, 0, "{backend}");
        // Every reader was exercised, and only the deliberately corrupt copy has rejections.
        let labels: BTreeSet<&str> = report
            .per_format
            .iter()
            .map(|f| f.format.as_str())
            .collect();
        for f in [
            "fhir",
            "ssmix2",
            "uke",
            "kenshin-zip",
            "kaigo",
            "csv:juminhyo_shibou",
            "csv:ninpu_kenshin",
            "csv:nyuyouji_kenshin",
            "csv:yobou_sesshu",
            "fhir (corrupt copy)",
        ] {
            assert!(labels.contains(f), "{backend}: no {f} among {labels:?}");
        }
        for f in &report.per_format {
            assert!(f.n_records > 0, "{backend}: {}: no records", f.format);
            if f.format != "fhir (corrupt copy)" {
                assert_eq!(f.n_rejected, 0, "{backend}: {} rejected records", f.format);
            }
        }
        assert_eq!(
            report.per_format.iter().map(|f| f.n_records).sum::<u64>(),
            report.n_records
        );

        // 1. No identifier of any synthetic person appears in any file of the research store,
        //    the releases or the statistics: searched in the bytes as stored, and — for the
        //    encrypted research store — field by field after decryption.
        // The scenario's own dates (today, and two months later) are written as release and
        // reference dates; a baby born on such a day shares that string without any leak.
        let scenario_dates: BTreeSet<String> = [start(), start() + chrono::Duration::days(61)]
            .iter()
            .flat_map(|d| {
                [
                    d.format("%Y-%m-%d").to_string(),
                    d.format("%Y%m%d").to_string(),
                ]
            })
            .collect();
        let identifiers: BTreeSet<String> = csv_rows(&cfg.synth_dir.join("truth/identifiers.csv"))
            .into_iter()
            .map(|r| r["value"].clone())
            .filter(|v| !v.is_empty() && !scenario_dates.contains(v))
            .collect();
        assert!(
            identifiers.len() > 1000,
            "{backend}: truth has too few identifiers"
        );
        // Raw bytes of every file: identifiers that cannot occur by chance (not all digits, at
        // least 6 bytes: names, kana, addresses, written dates). Text files (CSV, JSON,
        // Markdown) also field by field against every identifier of 6 or more characters, so
        // numeric ones (patient ids, insurer numbers) are caught as values without matching
        // digits inside hex pseudonyms or 17-digit item codes. Shorter numeric values (記号,
        // 枝番) identify no one alone.
        let distinctive: Vec<&String> = identifiers
            .iter()
            .filter(|v| !v.chars().all(|c| c.is_ascii_digit()) && v.len() >= 6)
            .collect();
        let matcher = aho_corasick::AhoCorasick::new(&distinctive).unwrap();
        let mut files = files_under(&cfg.data_dir.join("research"));
        files.extend(files_under(&cfg.data_dir.join("releases")));
        files.extend(files_under(&cfg.data_dir.join("statistics")));
        assert!(
            files.len() >= 8,
            "{backend}: expected research and release files"
        );
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            if let Some(m) = matcher.find(&bytes) {
                panic!(
                    "{backend}: identifier {:?} found in {}",
                    distinctive[m.pattern().as_usize()],
                    f.display()
                );
            }
            if f.extension()
                .is_some_and(|e| e == "csv" || e == "json" || e == "md")
            {
                let text = String::from_utf8(bytes).unwrap();
                for token in text.split(|c: char| ",\n\r\"|: \t[]{}".contains(c)) {
                    assert!(
                        token.len() < 6 || !identifiers.contains(token),
                        "{backend}: identifier {token:?} is a field of {}",
                        f.display()
                    );
                }
            }
        }
        let ctx = tsumugi_app::open(
            &cfg.data_dir,
            OpenOptions {
                urls: urls.clone(),
                clock: Arc::new(ManualClock::new(start())),
                seed: Some(1),
                actor: "test".into(),
            },
        )
        .await
        .unwrap();
        let store = ctx.store();
        let mut n_fields = 0;
        for path in store
            .ingest_files()
            .unwrap()
            .into_iter()
            .chain(store.lifecourse_event_files().unwrap())
        {
            for batch in store.read_events(&path).unwrap() {
                for row in batch.unwrap() {
                    let e = &row.event;
                    for field in [
                        e.code.as_ref().map(|c| c.value.clone()),
                        e.unit.clone(),
                        e.value.map(|v| v.to_string()),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        n_fields += 1;
                        assert!(
                            field.len() < 6 || !identifiers.contains(&field),
                            "{backend}: identifier {field:?} is an event field in {}",
                            path.display()
                        );
                    }
                }
            }
        }
        assert!(
            n_fields > 10_000,
            "{backend}: too few fields checked: {n_fields}"
        );
        for p in store.read_persons(&store.persons_file()).unwrap() {
            assert!(
                p.birth_month.format("%d").to_string() == "01",
                "{backend}: a full birth date reached the research store"
            );
            // The municipality code is kept on purpose (DESIGN §7: address → municipality); it
            // may equal a 国保 insurer number, which is numbered after the municipality.
            assert!(p.municipality_code.as_ref().is_none_or(|m| m.len() == 6));
        }

        // 2. Every released equivalence class holds at least k = 5 persons, counted over every
        //    column of the person table (one row per person).
        for release in [&report.release, &report.release_after_optout] {
            let rows = csv_rows(&std::path::Path::new(&release.dir).join("persons.csv"));
            let mut classes: BTreeMap<Vec<String>, usize> = BTreeMap::new();
            for r in &rows {
                let key = ["sex", "age", "region", "death", "first_year_e11"]
                    .iter()
                    .map(|c| r[*c].clone())
                    .collect();
                *classes.entry(key).or_default() += 1;
            }
            assert_eq!(rows.len(), release.n_persons);
            assert!(
                classes.values().all(|&n| n >= 5),
                "{backend}: a class under k: {:?}",
                classes.iter().find(|(_, n)| **n < 5)
            );
            // Ages are capped at 90+, dates are months, and the report shows risk falling.
            assert!(
                rows.iter()
                    .all(|r| r["age"].parse::<u32>().is_ok_and(|a| a < 90)
                        || !r["age"].chars().all(|c| c.is_ascii_digit()))
            );
            let events = csv_rows(&std::path::Path::new(&release.dir).join("events.csv"));
            assert!(
                events.iter().all(|e| e["date"].len() == 7),
                "{backend}: dates are months"
            );
            let rep = &release.report;
            assert!(rep.risk_after.highest_prosecutor_risk <= 0.2 + 1e-12);
            assert!(
                rep.risk_before.highest_prosecutor_risk > rep.risk_after.highest_prosecutor_risk
            );
            assert!(
                std::path::Path::new(&release.dir)
                    .join("report.html")
                    .exists()
            );
            let manifest: serde_json::Value = serde_json::from_slice(
                &std::fs::read(std::path::Path::new(&release.dir).join("manifest.json")).unwrap(),
            )
            .unwrap();
            assert_eq!(manifest["optout_registry_version"], release.optout_version);
            for f in manifest["files"].as_array().unwrap() {
                let bytes = std::fs::read(
                    std::path::Path::new(&release.dir).join(f["name"].as_str().unwrap()),
                )
                .unwrap();
                use sha2::Digest;
                assert_eq!(
                    f["sha256"].as_str().unwrap(),
                    hex::encode(sha2::Sha256::digest(&bytes))
                );
            }
        }

        // 3. The corrupt submission's rejection report names file, record and reason; the good
        //    records of that file were kept.
        let report_path = report.rejection_report.clone().expect("rejection report");
        let rejections = csv_rows(std::path::Path::new(&report_path));
        assert!(!rejections.is_empty());
        for r in &rejections {
            assert!(
                r["file"].ends_with("-corrupt.ndjson")
                    && !r["record"].is_empty()
                    && !r["reason_en"].is_empty()
                    && !r["reason_ja"].is_empty()
            );
        }

        // 4. Re-ingesting every file adds nothing.
        let before = tsumugi_app::ingest::counts(&ctx).await.unwrap();
        for sub in tsumugi_app::demo::submissions(&cfg.synth_dir).unwrap() {
            let r = tsumugi_app::ingest::submit(&ctx, &sub.provider, &sub.path, &sub.read_as)
                .await
                .unwrap();
            let sub = &sub.path;
            assert!(r.duplicate, "{backend}: {} ingested twice", sub.display());
        }
        assert_eq!(
            tsumugi_app::ingest::counts(&ctx).await.unwrap(),
            before,
            "{backend}: re-ingest changed the stores"
        );

        // 5. Tampering with one byte of a stored audit entry is detected at that entry.
        let status = tsumugi_app::audit::verify(&ctx).await.unwrap();
        assert!(status.first_bad.is_none());
        let target = status.n_entries as i64 / 2;
        sqlx::query(
            "UPDATE audit_log SET entry = REPLACE(entry, '\"actor\"', '\"actoR\"') WHERE seq = $1",
        )
        .bind(target)
        .execute(ctx.registry().pool())
        .await
        .unwrap();
        let status = tsumugi_app::audit::verify(&ctx).await.unwrap();
        assert_eq!(
            status.first_bad.map(|(seq, _)| seq),
            Some(target),
            "{backend}: tampering not detected"
        );
        ctx.close().await;
    }
}
