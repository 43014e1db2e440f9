//! Counting persons with a diagnosis over a small encrypted research store.

use chrono::NaiveDate;
use rand::SeedableRng;
use tsumugi_model::{Code, CodeSystem, Event, EventKind, Sex};
use tsumugi_stats::{
    DiagnosisCountSpec, SuppressionRules, count_persons_by_prefecture_and_age, suppress,
};
use tsumugi_store::{FileKeyProvider, PersonRow, ResearchStore};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn person(key: i64, birth: NaiveDate, muni: Option<&str>, died: Option<NaiveDate>) -> PersonRow {
    PersonRow {
        person_key: key,
        sex: if key % 2 == 0 { Sex::Male } else { Sex::Female },
        birth_month: birth,
        municipality_code: muni.map(str::to_owned),
        deceased_on: died,
    }
}

fn dx(system: CodeSystem, code: &str, on: NaiveDate) -> Event {
    Event {
        kind: EventKind::Diagnosis,
        date: on,
        end_date: None,
        code: Some(Code::new(system, code)),
        value: None,
        unit: None,
    }
}

fn write_events(store: &ResearchStore, name: &str, events: &[(i64, Event)]) {
    let mut w = store
        .event_writer(&store.lifecourse_dir().join(name))
        .unwrap();
    for (key, e) in events {
        w.push(*key, e).unwrap();
    }
    w.finish().unwrap();
}

fn spec(prefix: &str) -> DiagnosisCountSpec {
    DiagnosisCountSpec {
        icd10_prefix: prefix.into(),
        reference_date: date(2026, 4, 1),
        age_band_years: 10,
        top_age: 90,
    }
}

#[test]
fn counts_distinct_living_persons_by_prefecture_and_age() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let keys = FileKeyProvider::create(&tmp.path().join("keys"), &mut rng).unwrap();
    let store = ResearchStore::open(&tmp.path().join("research"), &keys).unwrap();
    let persons = vec![
        person(1, date(1950, 5, 1), Some("131016"), None), // 75, 東京
        person(2, date(1930, 1, 1), Some("271004"), None), // 96, 大阪
        person(3, date(2020, 6, 1), Some("131016"), None), // 5
        person(4, date(1960, 4, 1), None, None),           // 66, unknown
        person(
            5,
            date(1970, 1, 1),
            Some("131016"),
            Some(date(2025, 12, 31)),
        ), // died before
        person(6, date(1980, 1, 1), Some("271004"), Some(date(2026, 4, 1))), // died on the day: 46
        person(7, date(2027, 1, 1), Some("131016"), None), // not born yet
        person(8, date(1960, 5, 1), Some("991234"), None), // 65, not a prefecture
        person(9, date(1990, 1, 1), Some("011002"), None), // 北海道, no diagnosis
    ];
    store
        .write_persons(&store.persons_file(), &persons)
        .unwrap();
    let icd = || CodeSystem::Icd10;
    write_events(
        &store,
        "events-00000.parquet",
        &[
            (1, dx(icd(), "E11.9", date(2020, 1, 1))),
            (1, dx(icd(), "E119", date(2021, 1, 1))), // same person again
            (2, dx(icd(), "e11", date(2010, 1, 1))),  // case and dots ignored
            (3, dx(icd(), "E10", date(2024, 1, 1))),  // other code
            (4, dx(icd(), "E11", date(2026, 5, 1))),  // after the reference date
            (5, dx(icd(), "E11", date(2020, 1, 1))),  // died before
        ],
    );
    let mut lab = dx(icd(), "E11", date(2020, 1, 1));
    lab.kind = EventKind::LabResult;
    write_events(
        &store,
        "events-00001.parquet",
        &[
            (6, dx(icd(), "E11.2", date(2025, 1, 1))),
            (7, dx(icd(), "E11", date(2026, 1, 1))),
            (8, dx(CodeSystem::MedisDisease, "E11", date(2020, 1, 1))), // not ICD-10
            (8, lab),                                                   // not a diagnosis
            (8, dx(icd(), "E11", date(2026, 4, 1))),                    // on the reference date
            (100, dx(icd(), "E11", date(2020, 1, 1))),                  // not in persons
        ],
    );

    let res = count_persons_by_prefecture_and_age(&store, &spec("E1.1")).unwrap();
    let t = &res.table;
    assert_eq!(res.n_population, 7);
    assert_eq!(t.row_labels(), ["01", "13", "27", "不明 unknown"]);
    assert_eq!(
        t.col_labels(),
        [
            "0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90+"
        ]
    );
    assert_eq!(
        t.counts(),
        [
            vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
            vec![0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
            vec![0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
        ]
    );
    // Published, every nonzero count here is hidden.
    let published = suppress(t, &SuppressionRules::ndb());
    assert_eq!(
        published.grand_total(),
        tsumugi_stats::Cell::Suppressed(tsumugi_stats::Reason::Primary)
    );

    // Narrower prefix, five-year bands with 85+.
    let mut narrow = spec("E112");
    narrow.age_band_years = 5;
    narrow.top_age = 85;
    let res = count_persons_by_prefecture_and_age(&store, &narrow).unwrap();
    assert_eq!(res.table.grand_total(), 1);
    assert_eq!(res.table.col_labels().len(), 18);
    assert_eq!(res.table.counts()[2][9], 1, "person 6, 46, in 45-49");

    let bad = count_persons_by_prefecture_and_age(&store, &spec("..")).unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("STA0002InvalidSpec: icd10_prefix"),
        "{bad}"
    );
    let mut bad = spec("E11");
    bad.top_age = 95;
    assert!(count_persons_by_prefecture_and_age(&store, &bad).is_err());
}
