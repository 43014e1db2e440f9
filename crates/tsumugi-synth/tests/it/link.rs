//! Checks on the identity-only link records (`generate_link_records`): `records.csv` and
//! `truth.csv` pair up, stop at a unit boundary past `max_records`, are deterministic, carry
//! the noise, and are exactly the records `generate` writes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use tsumugi_synth::{LinkRecordsSummary, SynthConfig, generate, generate_link_records};

const RECORDS_HEADER: &str = "record_id,source,source_id,source_unique,family_kanji,given_kanji,family_kana,given_kana,birth_date,sex,postal_code,address,municipality_code,insurer_number,insured_symbol,insured_number,insured_branch";
const TRUTH_HEADER: &str = "record_id,person_id,noise,twin_of";

/// The tags a `truth.csv` row may carry.
const TAGS: [&str; 20] = [
    "variant_kanji",
    "kana_missing",
    "kana_hiragana",
    "kana_halfwidth",
    "name_joined_fullwidth_space",
    "name_joined_space",
    "name_joined_nospace",
    "dob_typo_day",
    "dob_swap",
    "dob_typo_year",
    "sex_missing",
    "no_address",
    "address_hyphen",
    "address_no_prefecture",
    "no_postal",
    "postal_nohyphen",
    "no_insurance",
    "symbol_fullwidth",
    "old_surname",
    "old_address",
];

fn cfg(seed: u64, persons: u64) -> SynthConfig {
    SynthConfig {
        seed,
        persons,
        as_of: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap_or_default(),
    }
}

type Row = BTreeMap<String, String>;

struct LinkRun {
    _dir: tempfile::TempDir,
    root: PathBuf,
    summary: LinkRecordsSummary,
    records: Vec<Row>,
    truth: Vec<Row>,
}

impl LinkRun {
    fn bytes(&self) -> (Vec<u8>, Vec<u8>) {
        let read = |f: &str| fs::read(self.root.join(f)).unwrap_or_else(|e| unreachable!("{e}"));
        (read("records.csv"), read("truth.csv"))
    }

    /// The `truth.csv` row of every record id.
    fn truth_of(&self) -> BTreeMap<&str, &Row> {
        self.truth
            .iter()
            .map(|t| (get(t, "record_id"), t))
            .collect()
    }
}

fn link_run(cfg: &SynthConfig, max_records: u64) -> LinkRun {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let root = dir.path().join("link");
    let mut calls = Vec::new();
    let summary = generate_link_records(cfg, max_records, &root, &mut |n| calls.push(n))
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(calls.last(), Some(&summary.records));
    let records = csv_rows(&root.join("records.csv"), RECORDS_HEADER);
    let truth = csv_rows(&root.join("truth.csv"), TRUTH_HEADER);
    LinkRun {
        _dir: dir,
        root,
        summary,
        records,
        truth,
    }
}

/// 12,000+ records of a population of 6,000 (about 3,800 persons written).
fn shared() -> &'static LinkRun {
    static RUN: OnceLock<LinkRun> = OnceLock::new();
    RUN.get_or_init(|| link_run(&cfg(77, 6_000), 12_000))
}

/// The rows of a CSV file whose header must be `header`.
fn csv_rows(path: &Path, header: &str) -> Vec<Row> {
    let mut r =
        csv::Reader::from_path(path).unwrap_or_else(|e| unreachable!("{}: {e}", path.display()));
    let headers = r.headers().cloned().unwrap_or_default();
    assert_eq!(headers.iter().collect::<Vec<_>>().join(","), header);
    r.records()
        .map(|rec| {
            let rec = rec.unwrap_or_else(|e| unreachable!("{e}"));
            assert_eq!(rec.len(), headers.len());
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn get<'a>(row: &'a Row, k: &str) -> &'a str {
    row.get(k).map(String::as_str).unwrap_or("")
}

fn tags(t: &Row) -> Vec<&str> {
    get(t, "noise")
        .split(';')
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn link_records_pair_with_truth_rows_and_ids_are_unique() {
    let run = shared();
    assert_eq!(run.records.len() as u64, run.summary.records);
    assert_eq!(run.truth.len(), run.records.len());
    let ids: BTreeSet<&str> = run.records.iter().map(|r| get(r, "record_id")).collect();
    assert_eq!(ids.len(), run.records.len(), "record ids are unique");
    let truth = run.truth_of();
    for r in &run.records {
        let id = get(r, "record_id");
        let t = truth
            .get(id)
            .unwrap_or_else(|| unreachable!("no truth for {id}"));
        let (source, source_id) = (get(r, "source"), get(r, "source_id"));
        assert!(!source.is_empty() && !source_id.is_empty(), "{id}");
        let batch = id
            .strip_prefix(&format!("{source}:{source_id}:"))
            .unwrap_or_else(|| unreachable!("{id}"));
        assert!(batch == "1" || batch == "2", "{id}");
        assert!(get(t, "person_id").starts_with('P'), "{id}");
        // Only card-derived ids (特定健診: 保険者番号:記号:番号:枝番) are not unique per person.
        let card_derived = source_id.matches(':').count() == 3;
        assert_eq!(
            get(r, "source_unique"),
            if card_derived { "0" } else { "1" },
            "{id}"
        );
    }
    let persons: BTreeSet<&str> = run.truth.iter().map(|t| get(t, "person_id")).collect();
    assert!(persons.len() as u64 <= run.summary.persons);
    assert!(persons.len() as u64 * 2 > run.summary.persons);
}

#[test]
fn link_records_stop_after_max_records_at_a_unit_boundary() {
    let c = cfg(5, 4_000);
    let small = link_run(&c, 5_000);
    let large = link_run(&c, 5_600);
    assert!(small.summary.records >= 5_000);
    assert!(small.summary.records < 5_200, "{}", small.summary.records);
    assert!(small.summary.persons < c.persons);
    // The smaller run is the start of the larger one.
    let (small_rec, small_truth) = small.bytes();
    let (large_rec, large_truth) = large.bytes();
    assert!(large_rec.starts_with(&small_rec));
    assert!(large_truth.starts_with(&small_truth));
    // It ends with whole persons, indeed whole units (twins come in pairs).
    let persons: BTreeSet<&str> = small.truth.iter().map(|t| get(t, "person_id")).collect();
    let next = large
        .truth
        .get(small.truth.len())
        .unwrap_or_else(|| unreachable!("the larger run has more rows"));
    assert!(!persons.contains(get(next, "person_id")));
    for t in &small.truth {
        let twin = get(t, "twin_of");
        if !twin.is_empty() {
            assert!(persons.contains(twin), "twin {twin} is written too");
        }
    }
    // The population runs out before a larger count.
    let all = link_run(&cfg(5, 300), 1_000_000);
    assert_eq!(all.summary.persons, 300);
    assert!(all.summary.records < 1_000_000);
}

#[test]
fn link_records_are_deterministic() {
    let a = link_run(&cfg(11, 2_000), 2_000);
    let b = link_run(&cfg(11, 2_000), 2_000);
    let c = link_run(&cfg(12, 2_000), 2_000);
    assert_eq!(a.summary, b.summary);
    assert!(a.bytes() == b.bytes(), "same seed, same bytes");
    assert!(a.bytes().0 != c.bytes().0, "another seed, other records");
}

#[test]
fn link_records_carry_the_noise_histories_and_twins() {
    let run = shared();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &run.truth {
        for tag in tags(t) {
            assert!(
                TAGS.contains(&tag) || ["old_insurance", "name_history"].contains(&tag),
                "unexpected tag {tag}"
            );
            *seen.entry(tag).or_default() += 1;
        }
    }
    for tag in [
        "variant_kanji",
        "kana_hiragana",
        "kana_halfwidth",
        "old_surname",
        "old_address",
        "old_insurance",
        "dob_typo_day",
        "name_history",
    ] {
        assert!(
            seen.get(tag).is_some_and(|n| *n > 0),
            "no {tag} in {seen:?}"
        );
    }
    let histories = run
        .records
        .iter()
        .filter(|r| get(r, "family_kanji").contains('|'))
        .count();
    assert_eq!(Some(&histories), seen.get("name_history"));
    let twins: BTreeSet<&str> = run
        .truth
        .iter()
        .filter(|t| !get(t, "twin_of").is_empty())
        .map(|t| get(t, "person_id"))
        .collect();
    assert!(twins.len() >= 2, "twins appear");
    assert!(run.summary.twins >= twins.len() as u64);
}

#[test]
fn link_records_columns_agree_with_their_tags() {
    let run = shared();
    let truth = run.truth_of();
    let iso = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
    for r in &run.records {
        let id = get(r, "record_id");
        let t = truth.get(id).unwrap_or_else(|| unreachable!("{id}"));
        let tags = tags(t);
        let has = |tag: &str| tags.contains(&tag);
        // Every name column has one value per name.
        let parts = |c: &str| get(r, c).split('|').count();
        let n = parts("family_kanji");
        for c in ["given_kanji", "family_kana", "given_kana"] {
            assert_eq!(parts(c), n, "{id} {c}");
        }
        assert_eq!(n > 1, has("name_history"), "{id}");
        if tags.iter().any(|t| t.starts_with("name_joined_")) {
            assert_eq!(get(r, "given_kanji").replace('|', ""), "", "{id}");
        }
        if has("kana_missing") {
            assert_eq!(get(r, "family_kana").replace('|', ""), "", "{id}");
        }
        if has("no_address") {
            assert_eq!(get(r, "address"), "", "{id}");
            assert_eq!(get(r, "postal_code"), "", "{id}");
        } else if !get(r, "address").is_empty() {
            assert_eq!(get(r, "postal_code").is_empty(), has("no_postal"), "{id}");
            assert_eq!(
                get(r, "address").contains('-'),
                has("address_hyphen"),
                "{id}"
            );
        }
        if has("no_insurance") {
            assert_eq!(get(r, "insurer_number"), "", "{id}");
        }
        assert!(iso(get(r, "birth_date")), "{id}");
        assert!(["M", "F", "U"].contains(&get(r, "sex")), "{id}");
        assert_eq!(get(r, "sex") == "U", has("sex_missing"), "{id}");
    }
}

#[test]
fn link_records_are_the_records_generate_writes() {
    let c = cfg(3, 1_500);
    let link = link_run(&c, u64::MAX);
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let full = generate(&c, dir.path(), &mut |_| {}).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(link.summary.persons, full.persons);
    assert_eq!(link.summary.records, full.records);
    assert_eq!(link.summary.twins, full.twins);
    // The same (provider, patient, person), with the same noise bar the notice tags.
    let truth_records = csv_rows(
        &dir.path().join("truth/records.csv"),
        "provider_id,patient_id,person_id,noise",
    );
    let full_records: BTreeMap<(&str, &str), (&str, BTreeSet<&str>)> = truth_records
        .iter()
        .map(|t| {
            let noise = get(t, "noise")
                .split(';')
                .filter(|s| !s.is_empty() && !s.starts_with("notice_"))
                .collect();
            (
                (get(t, "provider_id"), get(t, "patient_id")),
                (get(t, "person_id"), noise),
            )
        })
        .collect();
    assert_eq!(full_records.len(), truth_records.len());
    let truth = link.truth_of();
    let mut pairs = BTreeSet::new();
    for r in &link.records {
        let id = get(r, "record_id");
        let t = truth.get(id).unwrap_or_else(|| unreachable!("{id}"));
        let key = (get(r, "source"), get(r, "source_id"));
        let (person, noise) = full_records
            .get(&key)
            .unwrap_or_else(|| unreachable!("{id} is not in truth/records.csv"));
        assert_eq!(get(t, "person_id"), *person, "{id}");
        let mine: BTreeSet<&str> = tags(t).into_iter().collect();
        assert_eq!(
            without_old_insurance(&mine),
            without_old_insurance(noise),
            "{id}"
        );
        if mine.contains("old_insurance") {
            assert!(noise.contains("old_insurance"), "{id}");
        }
        pairs.insert(key);
    }
    assert_eq!(pairs.len(), full_records.len(), "every record is written");
    // Every identifier of a row is one generate wrote for that person.
    let identifiers: BTreeSet<(String, String, String)> = csv_rows(
        &dir.path().join("truth/identifiers.csv"),
        "person_id,field,value",
    )
    .into_iter()
    .map(|r| {
        (
            get(&r, "person_id").to_owned(),
            get(&r, "field").to_owned(),
            get(&r, "value").to_owned(),
        )
    })
    .collect();
    for r in &link.records {
        let id = get(r, "record_id");
        let person = truth.get(id).map(|t| get(t, "person_id")).unwrap_or("");
        for (column, field) in [
            ("source_id", "patient_id"),
            ("family_kanji", "family_kanji"),
            ("given_kanji", "given_kanji"),
            ("family_kana", "family_kana"),
            ("given_kana", "given_kana"),
            ("birth_date", "birth_date"),
            ("postal_code", "postal_code"),
            ("address", "address"),
            ("insurer_number", "insurer_number"),
            ("insured_symbol", "insured_symbol"),
            ("insured_number", "insured_number"),
        ] {
            for value in get(r, column).split('|').map(str::trim) {
                if value.is_empty() {
                    continue;
                }
                let key = (person.to_owned(), field.to_owned(), value.to_owned());
                assert!(identifiers.contains(&key), "{id} {column}");
            }
        }
    }
}

fn without_old_insurance<'a>(tags: &BTreeSet<&'a str>) -> BTreeSet<&'a str> {
    tags.iter()
        .copied()
        .filter(|t| *t != "old_insurance")
        .collect()
}
