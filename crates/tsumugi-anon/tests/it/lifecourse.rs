//! Lifecourse releases over a real (encrypted) research store: privacy counted in persons,
//! opt-outs, peculiar codes, values, dates, 仮名加工, and the package.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use rand::SeedableRng;
use tsumugi_anon::{
    ApprovalRef, DatePolicy, Error, FirstYear, LifecourseConfig, Measures, Metric, RegionDetail,
    derive_release_key, pseudonym, write_lifecourse_release,
};
use tsumugi_model::{Code, CodeSystem, Event, EventKind, Sex};
use tsumugi_store::{FileKeyProvider, PersonRow, ResearchStore};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn event(
    kind: EventKind,
    date: &str,
    code: Option<(CodeSystem, &str)>,
    value: Option<f64>,
) -> Event {
    Event {
        kind,
        date: d(date),
        end_date: None,
        code: code.map(|(s, v)| Code::new(s, v)),
        value,
        unit: value.map(|_| "mg/dL".to_owned()),
    }
}

fn store_with(tmp: &Path, persons: &[PersonRow], events: &[(i64, Event)]) -> ResearchStore {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let keys = FileKeyProvider::create(&tmp.join("keys"), &mut rng).unwrap();
    let store = ResearchStore::open(&tmp.join("research"), &keys).unwrap();
    let mut build = store.begin_lifecourse().unwrap();
    let mut w = build.next_event_writer().unwrap();
    for (key, e) in events {
        w.push(*key, e).unwrap();
    }
    w.finish().unwrap();
    build.write_persons(persons).unwrap();
    build.commit().unwrap();
    store
}

/// 40 persons in one municipality, 3 alone in 沖縄, one rare diagnosis, one extreme value,
/// a birth and a death.
fn store(tmp: &Path) -> ResearchStore {
    let mut persons = Vec::new();
    let mut events = Vec::new();
    for i in 0..43i64 {
        let key = 1000 + i;
        persons.push(PersonRow {
            person_key: key,
            sex: if i % 2 == 0 { Sex::Female } else { Sex::Male },
            birth_month: d("1960-04-01"),
            municipality_code: Some(if i < 40 { "131016" } else { "472018" }.to_owned()),
            deceased_on: None,
        });
        let dx = match i {
            0 => "G12.2",
            1..=3 => "E11.2",
            4..=6 => "E11.8",
            _ => "E11.9",
        };
        events.push((
            key,
            event(
                EventKind::Diagnosis,
                "2020-05-17",
                Some((CodeSystem::Icd10, dx)),
                None,
            ),
        ));
        let hba1c = if i == 3 {
            19.5
        } else {
            6.0 + (i % 10) as f64 / 10.0
        };
        events.push((
            key,
            event(
                EventKind::LabResult,
                "2021-02-03",
                Some((CodeSystem::Jlac10, "3D046000001906202")),
                Some(hba1c),
            ),
        ));
    }
    events.push((1005, event(EventKind::Birth, "1960-04-12", None, None)));
    store_with(tmp, &persons, &events)
}

fn approval() -> ApprovalRef {
    ApprovalRef {
        application_id: "APP-1".into(),
        kind: "anonymized".into(),
        decided_at: "2026-11-01T00:00:00Z".into(),
        conditions: vec!["k=5".into()],
    }
}

fn anonymized(id: &str, k: u32, dates: DatePolicy) -> LifecourseConfig {
    LifecourseConfig {
        release_id: id.into(),
        approval: approval(),
        optout_version: 3,
        reference_date: d("2026-11-25"),
        measures: Measures::Anonymized {
            k,
            suppression_limit: 0.2,
            metric: Metric::default(),
            dates,
            first_year_of: vec![FirstYear {
                name: "e11".into(),
                system: "icd10".into(),
                prefix: "E11".into(),
            }],
        },
        bom: false,
    }
}

/// A CSV file's rows by column name (a leading BOM skipped).
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let bytes = std::fs::read(path).unwrap();
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut r = csv::Reader::from_reader(text);
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

/// Persons per class over every column but the pseudonym.
fn classes(persons: &[BTreeMap<String, String>]) -> BTreeMap<Vec<String>, usize> {
    let mut out: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for r in persons {
        let key = r
            .iter()
            .filter(|(c, _)| *c != "person_id")
            .map(|(_, v)| v.clone())
            .collect();
        *out.entry(key).or_default() += 1;
    }
    out
}

#[test]
fn anonymized_release_is_k_anonymous_in_persons_and_treats_peculiar_descriptions() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path());
    let excluded = BTreeSet::from([1001i64]);
    let key = derive_release_key(7, "REL-1");
    let releases = tmp.path().join("releases");
    let cfg = anonymized("REL-1", 5, DatePolicy::Month);
    let rel = write_lifecourse_release(&store, &excluded, &cfg, &key, &releases).unwrap();
    let r = &rel.report;
    assert_eq!((r.persons_in_store, r.opted_out_excluded), (43, 1));
    let persons = rows(&rel.dir.join("persons.csv"));
    assert_eq!(r.persons_released + r.persons_suppressed, 42);
    assert_eq!(persons.len() as u64, r.persons_released);
    assert!(r.persons_suppressed <= 8, "within 20 %");
    assert!(
        persons
            .iter()
            .all(|p| p["person_id"] != pseudonym(&key, 1001))
    );
    assert!(
        classes(&persons).values().all(|&n| n >= 5),
        "{:?}",
        classes(&persons)
    );
    assert!(
        persons[0].contains_key("first_year_e11"),
        "event-derived quasi-identifier"
    );
    let events = rows(&rel.dir.join("events.csv"));
    let released: BTreeSet<&str> = persons.iter().map(|p| p["person_id"].as_str()).collect();
    assert!(
        events
            .iter()
            .all(|e| released.contains(e["person_id"].as_str()))
    );
    assert!(
        events.iter().all(|e| e["date"].len() == 7),
        "dates are months"
    );
    assert!(
        events.iter().all(|e| e["kind"] != "birth"),
        "birth is in the age"
    );
    assert!(
        events.iter().all(|e| !e["code"].starts_with("G12")),
        "G12.2 is held by one person"
    );
    // E11.2 (two persons once 1001 is out) and E11.8 (three) are released as their 3
    // characters, E11 (five); E11.9 keeps its detail.
    let e11: Vec<_> = events.iter().filter(|e| e["code"] == "E11").collect();
    assert_eq!(e11.len(), 5);
    assert!(e11.iter().all(|e| e["code_level"] == "3char"));
    assert!(
        events
            .iter()
            .any(|e| e["code"] == "E11.9" && e["code_level"] == "code")
    );
    assert!(
        events
            .iter()
            .all(|e| e["code"] != "E11.2" && e["code"] != "E11.8")
    );
    // The extreme HbA1c (19.5) is top-coded to the 5th largest person value.
    let values: Vec<f64> = events
        .iter()
        .filter(|e| e["kind"] == "lab_result")
        .map(|e| e["value"].parse().unwrap())
        .collect();
    let top = values.iter().copied().fold(f64::MIN, f64::max);
    assert!(top < 19.5);
    assert!(
        values.iter().filter(|v| **v == top).count() >= 5,
        "{values:?}"
    );
    assert!(r.values_top_coded >= 1);
    // The package: every file hashed in the manifest, with approval and opt-out version.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rel.dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["approval"]["application_id"], "APP-1");
    assert_eq!(manifest["optout_registry_version"], 3);
    for f in manifest["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let bytes = std::fs::read(rel.dir.join(name)).unwrap();
        use sha2::Digest;
        assert_eq!(
            f["sha256"],
            hex::encode(sha2::Sha256::digest(&bytes)),
            "{name}"
        );
    }
    let html = std::fs::read_to_string(rel.dir.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Re-identification risk"));
    let mut parquet_rows = Vec::new();
    tsumugi_store::read_text_rows(&rel.dir.join("persons.parquet"), &mut |r| {
        if let tsumugi_store::TextRow::Row(v) = r {
            parquet_rows.push(
                v.iter()
                    .map(|x| x.clone().unwrap_or_default())
                    .collect::<Vec<_>>(),
            );
        }
    })
    .unwrap();
    let csv_rows: Vec<Vec<String>> = persons
        .iter()
        .map(|p| {
            [
                "person_id",
                "sex",
                "age",
                "region",
                "death",
                "first_year_e11",
            ]
            .iter()
            .map(|c| p[*c].clone())
            .collect()
        })
        .collect();
    assert_eq!(parquet_rows, csv_rows, "Parquet holds the same rows");
    // A release is never overwritten, and the same inputs give the same bytes.
    assert!(matches!(
        write_lifecourse_release(&store, &excluded, &cfg, &key, &releases),
        Err(Error::ReleaseExists(_))
    ));
    let again =
        write_lifecourse_release(&store, &excluded, &cfg, &key, &tmp.path().join("other")).unwrap();
    for f in manifest["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        assert_eq!(
            std::fs::read(rel.dir.join(name)).unwrap(),
            std::fs::read(again.dir.join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn unreachable_k_is_refused_and_leaves_no_package() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path());
    let mut cfg = anonymized("REL-2", 50, DatePolicy::Month);
    if let Measures::Anonymized {
        suppression_limit, ..
    } = &mut cfg.measures
    {
        *suppression_limit = 0.0;
    }
    let err = write_lifecourse_release(
        &store,
        &BTreeSet::new(),
        &cfg,
        &[0; 32],
        &tmp.path().join("releases"),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("ANON0008NoSolution"), "{err}");
    let left: Vec<_> = std::fs::read_dir(tmp.path().join("releases"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "a refused release leaves nothing behind");
}

#[test]
fn shifted_dates_keep_intervals_within_a_person_and_index_dates_count_days() {
    let tmp = tempfile::tempdir().unwrap();
    let persons: Vec<PersonRow> = (0..10)
        .map(|i| PersonRow {
            person_key: i,
            sex: Sex::Female,
            birth_month: d("1970-01-01"),
            municipality_code: Some("131016".into()),
            deceased_on: None,
        })
        .collect();
    let mut events = Vec::new();
    for i in 0..10 {
        events.push((i, event(EventKind::Vital, "2020-01-10", None, None)));
        events.push((i, event(EventKind::Vital, "2020-03-01", None, None)));
    }
    let store = store_with(tmp.path(), &persons, &events);
    let key = derive_release_key(1, "REL-S");
    let cfg = anonymized("REL-S", 5, DatePolicy::Shift { max_days: 30 });
    let rel = write_lifecourse_release(&store, &BTreeSet::new(), &cfg, &key, &tmp.path().join("r"))
        .unwrap();
    let mut by_person: HashMap<String, Vec<NaiveDate>> = HashMap::new();
    for e in rows(&rel.dir.join("events.csv")) {
        by_person
            .entry(e["person_id"].clone())
            .or_default()
            .push(d(&e["date"]));
    }
    assert_eq!(by_person.len(), 10);
    let mut offsets = BTreeSet::new();
    for dates in by_person.values_mut() {
        dates.sort();
        assert_eq!(
            (dates[1] - dates[0]).num_days(),
            51,
            "the interval is exact"
        );
        let offset = (dates[0] - d("2020-01-10")).num_days();
        assert!(offset.abs() <= 30);
        offsets.insert(offset);
    }
    assert!(offsets.len() > 1, "offsets differ between persons");
    let cfg = anonymized("REL-I", 5, DatePolicy::DaysFromIndex);
    let rel = write_lifecourse_release(&store, &BTreeSet::new(), &cfg, &key, &tmp.path().join("r"))
        .unwrap();
    let days: BTreeSet<String> = rows(&rel.dir.join("events.csv"))
        .into_iter()
        .map(|e| e["date"].clone())
        .collect();
    assert_eq!(days, BTreeSet::from(["0".to_owned(), "51".to_owned()]));
}

#[test]
fn pseudonymized_release_keeps_detail_but_replaces_keys_and_coarsens_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path());
    let key = derive_release_key(2, "REL-P");
    let cfg = LifecourseConfig {
        release_id: "REL-P".into(),
        approval: ApprovalRef {
            kind: "pseudonymized".into(),
            ..approval()
        },
        optout_version: 4,
        reference_date: d("2026-11-25"),
        measures: Measures::Pseudonymized {
            region: RegionDetail::Prefecture,
        },
        bom: true,
    };
    let excluded = BTreeSet::from([1002i64]);
    let rel =
        write_lifecourse_release(&store, &excluded, &cfg, &key, &tmp.path().join("r")).unwrap();
    let bytes = std::fs::read(rel.dir.join("persons.csv")).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "BOM for spreadsheet users"
    );
    let persons = rows(&rel.dir.join("persons.csv"));
    assert_eq!(
        persons.len(),
        42,
        "nobody suppressed; the opted-out person left out"
    );
    assert!(
        persons
            .iter()
            .all(|p| p["region"].len() == 2 && p["birth_month"] == "1960-04")
    );
    assert!(
        persons
            .iter()
            .all(|p| p["person_id"] != "1000" && p["person_id"].len() == 32)
    );
    let events = rows(&rel.dir.join("events.csv"));
    assert!(
        events.iter().any(|e| e["code"] == "G12.2"),
        "rare codes are kept"
    );
    assert!(
        events.iter().any(|e| e["value"] == "19.5"),
        "values are kept"
    );
    assert!(
        events.iter().any(|e| e["date"] == "2020-05-17"),
        "dates are kept"
    );
    assert!(
        !events
            .iter()
            .any(|e| e["person_id"] == pseudonym(&key, 1002))
    );
}

mod properties {
    //! Invariants over random populations and events.

    use super::*;
    use proptest::prelude::*;

    const MUNIS: [&str; 5] = ["131016", "131024", "141003", "011002", "472018"];
    const CODES: [&str; 6] = ["E11.9", "E11.2", "I10", "G12.2", "C16.0", "J45.9"];

    type Person = (bool, u8, usize, Vec<(usize, u8)>, bool);

    fn population() -> impl Strategy<Value = Vec<Person>> {
        prop::collection::vec(
            (
                any::<bool>(),
                0u8..4,
                0usize..MUNIS.len(),
                prop::collection::vec((0usize..CODES.len(), 0u8..60), 0..4),
                any::<bool>(),
            ),
            1..100,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn releases_are_k_anonymous_in_persons_and_never_hold_opted_out_persons(
            people in population(), k in 2u32..6, limit in prop::sample::select(vec![0.0, 0.05, 0.5, 1.0]),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let persons: Vec<PersonRow> = people.iter().enumerate().map(|(i, (female, age, muni, _, _))| PersonRow {
                person_key: i as i64 + 1,
                sex: if *female { Sex::Female } else { Sex::Male },
                birth_month: d(["1930-01-01", "1950-01-01", "1980-06-01", "2010-03-01"][*age as usize]),
                municipality_code: Some(MUNIS[*muni].to_owned()),
                deceased_on: None,
            }).collect();
            let mut events = Vec::new();
            for (i, (_, _, _, codes, _)) in people.iter().enumerate() {
                for (c, v) in codes {
                    events.push((i as i64 + 1, event(EventKind::Diagnosis, "2024-01-15", Some((CodeSystem::Icd10, CODES[*c])), Some(f64::from(*v)))));
                }
            }
            let store = store_with(tmp.path(), &persons, &events);
            let excluded: BTreeSet<i64> = people.iter().enumerate().filter(|(_, p)| p.4).map(|(i, _)| i as i64 + 1).collect();
            let mut cfg = anonymized("REL-P", k, DatePolicy::Month);
            if let Measures::Anonymized { suppression_limit, .. } = &mut cfg.measures {
                *suppression_limit = limit;
            }
            let key = derive_release_key(3, "REL-P");
            let rel = match write_lifecourse_release(&store, &excluded, &cfg, &key, &tmp.path().join("releases")) {
                Ok(rel) => rel,
                // Refused: nothing released, which meets every invariant.
                Err(Error::NoSolution { .. } | Error::NothingToRelease { .. }) => return Ok(()),
                Err(e) => panic!("{e}"),
            };
            let released = rows(&rel.dir.join("persons.csv"));
            let events = rows(&rel.dir.join("events.csv"));
            for x in &excluded {
                let pid = pseudonym(&key, *x);
                prop_assert!(released.iter().all(|r| r["person_id"] != pid));
                prop_assert!(events.iter().all(|e| e["person_id"] != pid));
            }
            // Every class, counted in persons, holds at least k.
            prop_assert!(classes(&released).values().all(|&n| n >= k as usize), "{:?}", classes(&released));
            let eligible = persons.len() - excluded.len();
            prop_assert!(rel.report.persons_suppressed as f64 <= (limit * eligible as f64).floor());
            prop_assert_eq!(released.len() as u64 + rel.report.persons_suppressed, eligible as u64);
            // Every released code is held by at least k released persons.
            let mut holders: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
            for e in &events {
                holders.entry((e["code_system"].as_str(), e["code"].as_str())).or_default().insert(e["person_id"].as_str());
            }
            prop_assert!(holders.values().all(|p| p.len() >= k as usize), "{holders:?}");
        }
    }
}
