//! The synthetic population is written in the formats providers really send, and every
//! submission the demo would ingest checks clean: no rejection, no warning.

use std::collections::BTreeSet;

use tsumugi_app::ingest::check;

#[test]
fn every_synthetic_submission_checks_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tsumugi_synth::SynthConfig {
        seed: 11,
        persons: 600,
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
    };
    tsumugi_synth::generate(&cfg, tmp.path(), &mut |_| {}).unwrap();
    let subs = tsumugi_app::demo::submissions(tmp.path()).unwrap();
    let mut formats = BTreeSet::new();
    for sub in &subs {
        let report = check(&sub.path, &sub.read_as, false).unwrap();
        assert!(report.n_records > 0, "{}: no records", sub.path.display());
        assert_eq!(
            report.n_rejected,
            0,
            "{}: {:?}",
            sub.path.display(),
            report.diagnostics
        );
        assert!(
            report.diagnostics.is_empty(),
            "{}: {:?}",
            sub.path.display(),
            report.diagnostics
        );
        formats.insert(report.format);
    }
    for f in ["fhir", "ssmix2", "uke", "kenshin-zip", "kaigo", "csv"] {
        assert!(formats.contains(f), "no {f} submission among {formats:?}");
    }
}
