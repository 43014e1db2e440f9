//! `kill -9` at any point of an ingest, then a restart: nothing lost, nothing duplicated.
//!
//! The same submission is ingested cleanly into one data directory, and into another while the
//! process is killed again and again at spread-out moments (staging, registry, vault, events
//! file, receipt); after a final run, both directories hold exactly the same counts.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{text, tsumugi};

fn status(data: &Path) -> serde_json::Value {
    let o = tsumugi(&["status", "--data", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn prepare(dir: &Path, synth: &Path) {
    let o = tsumugi(&["init", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let providers = synth.join("providers.csv");
    let o = tsumugi(&[
        "providers",
        providers.to_str().unwrap(),
        "--data",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
#[allow(clippy::disallowed_methods)] // waits on a real child process between kills
fn kill_9_during_ingest_loses_and_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let synth = tmp.path().join("synthetic");
    let o = tsumugi(&[
        "synth",
        "--out",
        synth.to_str().unwrap(),
        "--persons",
        "2500",
        "--seed",
        "9",
        "--as-of",
        "2026-11-25",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // One large submission: every FHIR file of every provider, sent by one provider.
    let mut big = String::new();
    let mut provider = String::new();
    for dir in std::fs::read_dir(synth.join("submissions")).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.to_string_lossy().ends_with(".ndjson") {
                big.push_str(&std::fs::read_to_string(&f).unwrap());
                if provider.is_empty() {
                    provider = dir.file_name().unwrap().to_string_lossy().into_owned();
                }
            }
        }
    }
    let file = tmp.path().join("big.ndjson");
    std::fs::write(&file, &big).unwrap();

    let clean = tmp.path().join("clean");
    prepare(&clean, &synth);
    let started = Instant::now();
    let o = tsumugi(&[
        "ingest",
        "--data",
        clean.to_str().unwrap(),
        "--provider",
        &provider,
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let full = started.elapsed();
    let want = status(&clean);
    assert!(want["n_vault_records"].as_i64().unwrap() > 1000, "{want}");

    let crashed = tmp.path().join("crashed");
    prepare(&crashed, &synth);
    let mut kills = 0;
    for step in 1..=12u32 {
        // Spread the kills over the first 60% of a clean run's time (a resumed run is faster,
        // since what was stored before the kill is not stored again).
        let delay =
            full.mul_f64(f64::from(step) / 20.0) + Duration::from_millis(u64::from(step % 3) * 7);
        let mut child = Command::new(env!("CARGO_BIN_EXE_tsumugi"))
            .args([
                "ingest",
                "--data",
                crashed.to_str().unwrap(),
                "--provider",
                &provider,
                file.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + delay;
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(
        kills >= 4,
        "only {kills} runs were killed mid-way; the test would prove little"
    );
    let o = tsumugi(&[
        "ingest",
        "--data",
        crashed.to_str().unwrap(),
        "--provider",
        &provider,
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        status(&crashed),
        want,
        "after {kills} kills the stores differ from a clean ingest"
    );
    let o = tsumugi(&["audit", "verify", "--data", crashed.to_str().unwrap()]);
    assert!(o.status.success(), "audit chain after kills: {}", text(&o));
}
