//! Research files are encrypted at rest and read back exactly.

use chrono::NaiveDate;
use rand::SeedableRng;
use tsumugi_model::{Code, CodeSystem, Event, EventKind, Sex};
use tsumugi_store::{EventRow, FileKeyProvider, PersonRow, ResearchStore};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn store(tmp: &std::path::Path, seed: u64) -> ResearchStore {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let keys = FileKeyProvider::create(&tmp.join(format!("keys{seed}")), &mut rng).unwrap();
    ResearchStore::open(&tmp.join("research"), &keys).unwrap()
}

#[test]
fn events_round_trip_and_are_encrypted() {
    let tmp = tempfile::tempdir().unwrap();
    let store1 = store(tmp.path(), 1);
    let store = &store1;
    let path = store.ingest_file(1);
    let events: Vec<EventRow> = (0..150_000)
        .map(|i| EventRow {
            key: i / 3,
            event: Event {
                kind: if i % 2 == 0 {
                    EventKind::Diagnosis
                } else {
                    EventKind::LabResult
                },
                date: date(2020, 1, 1) + chrono::Duration::days(i % 1000),
                end_date: (i % 7 == 0).then(|| date(2021, 2, 3)),
                code: (i % 5 != 0).then(|| Code::new(CodeSystem::Icd10, "E11-CANARYCODE")),
                value: (i % 3 == 0).then_some(i as f64 / 10.0),
                unit: (i % 3 == 0).then(|| "mg/dL".to_owned()),
            },
        })
        .collect();
    let mut w = store.event_writer(&path).unwrap();
    for r in &events {
        w.push(r.key, &r.event).unwrap();
    }
    assert_eq!(w.finish().unwrap(), 150_000);
    let back: Vec<EventRow> = store
        .read_events(&path)
        .unwrap()
        .flat_map(|b| b.unwrap())
        .collect();
    assert_eq!(back, events);
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !bytes.windows(10).any(|w| w == b"CANARYCODE"),
        "plaintext code found in encrypted file"
    );
    assert!(
        !bytes.windows(5).any(|w| w == b"mg/dL"),
        "plaintext unit found"
    );
    // A different key cannot read it.
    let other = self::store(tmp.path(), 2);
    assert!(other.read_events(&path).is_err());
}

#[test]
fn persons_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path(), 3);
    let rows = vec![
        PersonRow {
            person_key: 42,
            sex: Sex::Female,
            birth_month: date(1956, 3, 1),
            municipality_code: Some("131016".into()),
            deceased_on: None,
        },
        PersonRow {
            person_key: 43,
            sex: Sex::Male,
            birth_month: date(2001, 12, 1),
            municipality_code: None,
            deceased_on: Some(date(2024, 5, 6)),
        },
    ];
    let path = store.persons_file();
    store.write_persons(&path, &rows).unwrap();
    assert_eq!(store.read_persons(&path).unwrap(), rows);
}
