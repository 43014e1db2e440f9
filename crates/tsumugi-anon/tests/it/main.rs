//! Integration tests of the release writer over a real (encrypted) research store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rand::SeedableRng;
use tsumugi_anon::{ReleaseConfig, derive_release_key, pseudonym, write_release};
use tsumugi_model::{Code, CodeSystem, Event, EventKind, Sex};
use tsumugi_store::{FileKeyProvider, PersonRow, ResearchStore};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn store(tmp: &std::path::Path) -> ResearchStore {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let keys = FileKeyProvider::create(&tmp.join("keys"), &mut rng).unwrap();
    let store = ResearchStore::open(&tmp.join("research"), &keys).unwrap();
    // 40 persons in one municipality, 3 alone elsewhere, one rare diagnosis.
    let mut persons = Vec::new();
    for i in 0..43i64 {
        persons.push(PersonRow {
            person_key: 1000 + i,
            sex: if i % 2 == 0 { Sex::Female } else { Sex::Male },
            birth_month: d("1960-04-01"),
            municipality_code: Some(if i < 40 { "131016" } else { "472018" }.to_owned()),
            deceased_on: None,
        });
    }
    let mut build = store.begin_lifecourse().unwrap();
    let mut w = build.next_event_writer().unwrap();
    for p in &persons {
        w.push(
            p.person_key,
            &Event {
                kind: EventKind::Diagnosis,
                date: d("2020-05-17"),
                end_date: None,
                code: Some(Code::new(
                    CodeSystem::Icd10,
                    if p.person_key == 1000 {
                        "G12.2"
                    } else {
                        "E11.9"
                    },
                )),
                value: None,
                unit: None,
            },
        )
        .unwrap();
    }
    w.finish().unwrap();
    build.write_persons(&persons).unwrap();
    build.commit().unwrap();
    store
}

fn cfg(id: &str) -> ReleaseConfig {
    ReleaseConfig {
        release_id: id.into(),
        application_id: "APP-1".into(),
        k: 5,
        reference_date: d("2026-11-25"),
        age_band_years: 5,
        top_age: 90,
        max_suppression: 0.2,
        optout_version: 3,
    }
}

fn rows(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|x| {
            h.iter()
                .map(str::to_owned)
                .zip(x.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn release_is_k_anonymous_excludes_opt_outs_and_hides_peculiar_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path());
    let excluded = BTreeSet::from([1001i64]);
    let key = derive_release_key(7, "REL-1");
    let s = write_release(
        &store,
        &excluded,
        &cfg("REL-1"),
        &key,
        &tmp.path().join("releases"),
    )
    .unwrap();
    assert_eq!(s.n_opted_out, 1);
    assert_eq!(
        s.n_suppressed, 3,
        "the three persons alone in 沖縄 cannot be hidden in any class"
    );
    let persons = rows(&s.dir.join("persons.csv"));
    assert_eq!(persons.len(), 39);
    assert!(
        persons
            .iter()
            .all(|r| r["person_id"] != pseudonym(&key, 1001))
    );
    let mut classes: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for r in &persons {
        *classes
            .entry((r["sex"].clone(), r["age_band"].clone(), r["region"].clone()))
            .or_default() += 1;
    }
    assert!(classes.values().all(|&n| n >= 5), "{classes:?}");
    let events = rows(&s.dir.join("events.csv"));
    assert!(
        events.iter().all(|r| r["month"] == "2020-05"),
        "dates are months"
    );
    assert!(
        events
            .iter()
            .all(|r| r["code"] != "G12.2" && r["code"] != "G12"),
        "a code held by one person is peculiar"
    );
    assert_eq!(s.n_events_dropped, 1);
    // A release is never overwritten, and the same inputs give the same bytes.
    assert!(
        write_release(
            &store,
            &excluded,
            &cfg("REL-1"),
            &key,
            &tmp.path().join("releases")
        )
        .is_err()
    );
    let again = write_release(
        &store,
        &excluded,
        &cfg("REL-1"),
        &key,
        &tmp.path().join("other"),
    )
    .unwrap();
    for f in ["persons.csv", "events.csv", "codebook.md", "manifest.json"] {
        assert_eq!(
            std::fs::read(s.dir.join(f)).unwrap(),
            std::fs::read(again.dir.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn unreachable_k_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path());
    let mut c = cfg("REL-2");
    c.k = 30;
    c.max_suppression = 0.05;
    let err = write_release(
        &store,
        &BTreeSet::new(),
        &c,
        &[0; 32],
        &tmp.path().join("releases"),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("ANON0003KUnreachable"), "{err}");
    assert!(
        !tmp.path().join("releases/REL-2").exists(),
        "a refused release leaves no package"
    );
}

mod properties {
    //! Invariants over random populations: k persons per class, nothing opted out released.

    use super::*;
    use proptest::prelude::*;

    const MUNIS: [&str; 5] = ["131016", "131024", "141003", "011002", "472018"];

    fn population() -> impl Strategy<Value = (Vec<(bool, u8, usize)>, Vec<bool>)> {
        prop::collection::vec((any::<bool>(), 0u8..3, 0usize..MUNIS.len()), 1..120).prop_flat_map(
            |people| {
                let n = people.len();
                (Just(people), prop::collection::vec(any::<bool>(), n))
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn releases_are_k_anonymous_and_never_hold_opted_out_persons((people, opted) in population(), k in 2u32..6) {
            let tmp = tempfile::tempdir().unwrap();
            let mut rng = rand::rngs::StdRng::seed_from_u64(1);
            let keys = FileKeyProvider::create(&tmp.path().join("keys"), &mut rng).unwrap();
            let store = ResearchStore::open(&tmp.path().join("research"), &keys).unwrap();
            let persons: Vec<PersonRow> = people.iter().enumerate().map(|(i, (female, age, muni))| PersonRow {
                person_key: i as i64 + 1,
                sex: if *female { Sex::Female } else { Sex::Male },
                birth_month: d(["1950-01-01", "1980-06-01", "2010-03-01"][*age as usize]),
                municipality_code: Some(MUNIS[*muni].to_owned()),
                deceased_on: None,
            }).collect();
            let mut build = store.begin_lifecourse().unwrap();
            let mut w = build.next_event_writer().unwrap();
            for p in &persons {
                w.push(p.person_key, &Event { kind: EventKind::Vital, date: d("2024-01-15"), end_date: None, code: None, value: Some(1.0), unit: None }).unwrap();
            }
            w.finish().unwrap();
            build.write_persons(&persons).unwrap();
            build.commit().unwrap();
            let excluded: BTreeSet<i64> = opted.iter().enumerate().filter(|(_, o)| **o).map(|(i, _)| i as i64 + 1).collect();
            let mut c = cfg("REL-P");
            c.k = k;
            c.max_suppression = 1.0;
            let key = derive_release_key(3, "REL-P");
            let s = write_release(&store, &excluded, &c, &key, &tmp.path().join("releases")).unwrap();
            let released = rows(&s.dir.join("persons.csv"));
            let events = std::fs::read_to_string(s.dir.join("events.csv")).unwrap();
            for x in &excluded {
                let pid = pseudonym(&key, *x);
                prop_assert!(released.iter().all(|r| r["person_id"] != pid));
                prop_assert!(!events.contains(&pid));
            }
            let mut classes: BTreeMap<(String, String, String), usize> = BTreeMap::new();
            for r in &released {
                *classes.entry((r["sex"].clone(), r["age_band"].clone(), r["region"].clone())).or_default() += 1;
            }
            prop_assert!(classes.values().all(|&n| n >= k as usize), "{classes:?}");
            prop_assert_eq!(released.len() + s.n_suppressed + excluded.len(), persons.len());
        }
    }
}

mod anonymize;
mod arx;
mod search;
