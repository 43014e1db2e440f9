//! Checks on generated populations.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use tsumugi_synth::{
    SynthConfig, SynthSummary, generate, insurer_check_digit, insurer_number_is_valid,
    municipality_check_digit,
};

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 4, 1).unwrap_or_default()
}

struct Run {
    _dir: tempfile::TempDir,
    root: PathBuf,
    summary: SynthSummary,
}

fn run(seed: u64, persons: u64) -> Run {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let root = dir.path().join("out");
    let cfg = SynthConfig {
        seed,
        persons,
        as_of: as_of(),
    };
    let mut calls = Vec::new();
    let summary =
        generate(&cfg, &root, &mut |n| calls.push(n)).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(calls.last(), Some(&persons));
    Run {
        _dir: dir,
        root,
        summary,
    }
}

fn shared() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| run(20250401, 4000))
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r =
        csv::Reader::from_path(path).unwrap_or_else(|e| unreachable!("{}: {e}", path.display()));
    let headers = r.headers().cloned().unwrap_or_default();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap_or_default();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn get<'a>(row: &'a BTreeMap<String, String>, k: &str) -> &'a str {
    row.get(k).map(String::as_str).unwrap_or("")
}

fn all_files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                out.insert(rel, fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_different_seed_different() {
    let a = run(11, 500);
    let b = run(11, 500);
    let c = run(12, 500);
    let (fa, fb, fc) = (all_files(&a.root), all_files(&b.root), all_files(&c.root));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (k, v) in &fa {
        assert!(
            fb.get(k) == Some(v),
            "{} differs between identical runs",
            k.display()
        );
    }
    assert_ne!(
        fa.get(Path::new("truth/persons.csv")),
        fc.get(Path::new("truth/persons.csv"))
    );
    let strip = |s: &SynthSummary| SynthSummary {
        files: Vec::new(),
        ..s.clone()
    };
    assert_eq!(strip(&a.summary), strip(&b.summary));
    assert_eq!(a.summary.persons, 500);
}

#[test]
fn layout_and_summary_agree() {
    let r = shared();
    let s = &r.summary;
    assert_eq!(s.persons, 4000);
    for f in [
        "providers.csv",
        "stop_requests.csv",
        "truth/records.csv",
        "truth/persons.csv",
        "truth/stop_requests.csv",
        "truth/identifiers.csv",
    ] {
        assert!(s.files.contains(&r.root.join(f)), "{f}");
    }
    let mut bundles = 0u64;
    let mut exts = BTreeSet::new();
    for f in &s.files {
        let rel = f.strip_prefix(&r.root).unwrap_or(f);
        let parts: Vec<String> = rel
            .iter()
            .map(|x| x.to_string_lossy().into_owned())
            .collect();
        if parts.first().map(String::as_str) == Some("submissions") {
            let (pid, name) = (&parts[1], &parts[2]);
            let ext = [
                "ndjson",
                "UKE",
                "ssmix2",
                "zip",
                "kaigo.csv",
                "juminhyo_shibou.csv",
                "ninpu_kenshin.csv",
                "nyuyouji_kenshin.csv",
                "yobou_sesshu.csv",
            ]
            .into_iter()
            .find(|e| name == &format!("{pid}-1.{e}") || name == &format!("{pid}-2.{e}"));
            assert!(ext.is_some(), "{name}");
            if let Some(e) = ext {
                exts.insert(e);
            }
            if ext != Some("ndjson") {
                continue;
            }
            for line in fs::read_to_string(f).unwrap_or_default().lines() {
                let v: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| unreachable!("{e}"));
                assert_eq!(v["resourceType"], "Bundle");
                bundles += 1;
            }
        }
    }
    // Every record is written in its provider's format; FHIR bundles hold the records of FHIR
    // providers and the events other formats cannot carry.
    assert_eq!(exts.len(), 9, "{exts:?}");
    assert!(
        bundles > 0 && bundles <= s.records,
        "{bundles} / {}",
        s.records
    );
    let persons = csv_rows(&r.root.join("truth/persons.csv"));
    assert_eq!(persons.len() as u64, s.persons);
    let events_per_person = s.events as f64 / s.persons as f64;
    assert!(
        (10.0..40.0).contains(&events_per_person),
        "{events_per_person}"
    );
}

fn age(birth: &str, on: NaiveDate) -> i32 {
    let b = NaiveDate::parse_from_str(birth, "%Y-%m-%d").unwrap_or_default();
    let mut a = on.year() - b.year();
    if (on.month(), on.day()) < (b.month(), b.day()) {
        a -= 1;
    }
    a
}

#[test]
fn age_structure_is_close_to_japan() {
    let r = shared();
    let persons = csv_rows(&r.root.join("truth/persons.csv"));
    let living: Vec<_> = persons
        .iter()
        .filter(|p| get(p, "deceased_on").is_empty())
        .collect();
    let n = living.len() as f64;
    let share = |f: &dyn Fn(i32) -> bool| {
        living
            .iter()
            .filter(|p| f(age(get(p, "birth_date"), as_of())))
            .count() as f64
            / n
    };
    let u15 = share(&|a| a < 15);
    let o65 = share(&|a| a >= 65);
    assert!((0.09..0.15).contains(&u15), "under 15: {u15}");
    assert!((0.25..0.32).contains(&o65), "65+: {o65}");
    assert!(
        living
            .iter()
            .all(|p| age(get(p, "birth_date"), as_of()) >= 0),
        "no one born after as_of"
    );
    let old: Vec<_> = living
        .iter()
        .filter(|p| age(get(p, "birth_date"), as_of()) >= 80)
        .collect();
    let fem = old.iter().filter(|p| get(p, "sex") == "F").count() as f64 / old.len() as f64;
    assert!(fem > 0.55, "women among 80+: {fem}");
    let dead = persons.len() as f64 - n;
    assert!(dead > 0.0 && dead / (persons.len() as f64) < 0.08);
}

#[test]
fn twins_share_dob_and_differ_in_given_name() {
    let r = shared();
    let persons = csv_rows(&r.root.join("truth/persons.csv"));
    let by_id: BTreeMap<&str, &BTreeMap<String, String>> =
        persons.iter().map(|p| (get(p, "person_id"), p)).collect();
    let ids = csv_rows(&r.root.join("truth/identifiers.csv"));
    let mut given: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for row in &ids {
        if get(row, "field") == "given_kanji" {
            given
                .entry(get(row, "person_id"))
                .or_default()
                .insert(get(row, "value"));
        }
    }
    let twins: Vec<_> = persons
        .iter()
        .filter(|p| !get(p, "twin_of").is_empty())
        .collect();
    assert!(!twins.is_empty(), "no twins");
    for t in twins {
        let other = by_id
            .get(get(t, "twin_of"))
            .unwrap_or_else(|| unreachable!("twin exists"));
        assert_eq!(get(t, "birth_date"), get(other, "birth_date"));
        let (a, b) = (
            given.get(get(t, "person_id")),
            given.get(get(other, "person_id")),
        );
        if let (Some(a), Some(b)) = (a, b) {
            assert!(a.is_disjoint(b), "twins share a given name");
        }
    }
}

#[test]
fn stop_requests_are_about_one_percent_and_point_at_real_persons() {
    let r = shared();
    let persons = csv_rows(&r.root.join("truth/persons.csv"));
    let ids: BTreeSet<&str> = persons.iter().map(|p| get(p, "person_id")).collect();
    let reqs = csv_rows(&r.root.join("stop_requests.csv"));
    let truth = csv_rows(&r.root.join("truth/stop_requests.csv"));
    assert_eq!(reqs.len(), truth.len());
    assert_eq!(reqs.len() as u64, r.summary.stop_requests);
    let share = reqs.len() as f64 / persons.len() as f64;
    assert!((0.004..0.02).contains(&share), "{share}");
    let req_ids: BTreeSet<&str> = reqs.iter().map(|q| get(q, "request_id")).collect();
    let mut opted: BTreeSet<&str> = BTreeSet::new();
    for t in &truth {
        assert!(ids.contains(get(t, "person_id")));
        assert!(req_ids.contains(get(t, "request_id")));
        opted.insert(get(t, "person_id"));
    }
    for p in &persons {
        assert_eq!(
            get(p, "opted_out") == "true",
            opted.contains(get(p, "person_id"))
        );
    }
    let after = reqs
        .iter()
        .filter(|q| {
            NaiveDate::parse_from_str(get(q, "received_on"), "%Y-%m-%d").unwrap_or_default()
                > as_of()
        })
        .count();
    assert!(after > 0 && after < reqs.len(), "after as_of: {after}");
    for q in &reqs {
        match get(q, "channel") {
            "provider" => {
                assert!(!get(q, "provider_id").is_empty() && !get(q, "patient_id").is_empty())
            }
            "centre" => {
                assert!(!get(q, "family_kana").is_empty() || !get(q, "family_kanji").is_empty())
            }
            other => unreachable!("channel {other}"),
        }
        assert!(["person", "guardian", "bereaved"].contains(&get(q, "requester")));
        let ins = get(q, "insurer_number");
        assert!(ins.is_empty() || insurer_number_is_valid(ins), "{ins}");
    }
}

#[test]
fn notices_have_recent_and_missing_cases() {
    let r = shared();
    let records = csv_rows(&r.root.join("truth/records.csv"));
    let mut notified: BTreeSet<(String, String)> = BTreeSet::new();
    let mut recent = 0;
    for f in &r.summary.files {
        if f.parent()
            .and_then(Path::file_name)
            .map(|n| n == "notices")
            .unwrap_or(false)
        {
            let provider = f
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            for row in csv_rows(f) {
                let on = NaiveDate::parse_from_str(get(&row, "notified_on"), "%Y-%m-%d")
                    .unwrap_or_default();
                assert!(on <= as_of());
                if (as_of() - on).num_days() < 30 {
                    recent += 1;
                }
                assert!(["person", "guardian", "bereaved"].contains(&get(&row, "notified_to")));
                notified.insert((provider.clone(), get(&row, "patient_id").to_owned()));
            }
        }
    }
    let missing = records
        .iter()
        .filter(|r| {
            !notified.contains(&(
                get(r, "provider_id").to_owned(),
                get(r, "patient_id").to_owned(),
            ))
        })
        .count();
    let n = records.len() as f64;
    assert!(
        (0.005..0.05).contains(&(missing as f64 / n)),
        "missing {missing}"
    );
    assert!(
        (0.01..0.06).contains(&(f64::from(recent) / n)),
        "recent {recent}"
    );
}

#[test]
fn municipality_codes_are_real() {
    let r = shared();
    let table = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/municipalities.csv"
    ));
    let codes: BTreeSet<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    for p in csv_rows(&r.root.join("truth/persons.csv")) {
        let c = get(&p, "municipality_code");
        assert!(codes.contains(c), "{c}");
        assert_eq!(municipality_check_digit(&c[..5]), c[5..].parse().ok());
        assert_eq!(&c[..2], get(&p, "prefecture_code"));
    }
    let mut kinds = BTreeSet::new();
    for p in csv_rows(&r.root.join("providers.csv")) {
        let c = get(&p, "municipality_code");
        assert!(codes.contains(c), "{c}");
        let id = get(&p, "provider_id");
        assert_eq!(id.len(), 10, "{id}");
        if get(&p, "kind") == "municipality" {
            assert_eq!(id, format!("0000{c}"));
        } else {
            assert_eq!(insurer_check_digit(&id[3..9]), id[9..].parse().ok(), "{id}");
        }
        kinds.insert(get(&p, "kind").to_owned());
    }
    for k in [
        "hospital",
        "clinic",
        "pharmacy",
        "checkup_centre",
        "care_provider",
        "municipality",
    ] {
        assert!(kinds.contains(k), "{k}");
    }
}

#[test]
fn insurer_numbers_in_bundles_pass_the_check_digit() {
    let r = shared();
    let mut n = 0;
    for f in r
        .summary
        .files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "ndjson"))
        .take(200)
    {
        for line in fs::read_to_string(f).unwrap_or_default().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            for e in v["entry"].as_array().into_iter().flatten() {
                if e["resource"]["resourceType"] == "Coverage" {
                    for p in e["resource"]["payor"].as_array().into_iter().flatten() {
                        let num = p["identifier"]["value"].as_str().unwrap_or("");
                        assert!(insurer_number_is_valid(num), "{num}");
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 100, "{n}");
}

#[test]
fn identifiers_cover_patient_ids_and_noise_is_tagged() {
    let r = shared();
    let ids = csv_rows(&r.root.join("truth/identifiers.csv"));
    let pids: BTreeSet<(&str, &str)> = ids
        .iter()
        .filter(|i| get(i, "field") == "patient_id")
        .map(|i| (get(i, "person_id"), get(i, "value")))
        .collect();
    let records = csv_rows(&r.root.join("truth/records.csv"));
    let mut tags: BTreeMap<String, usize> = BTreeMap::new();
    for rec in &records {
        assert!(pids.contains(&(get(rec, "person_id"), get(rec, "patient_id"))));
        for t in get(rec, "noise").split(';').filter(|t| !t.is_empty()) {
            *tags.entry(t.to_owned()).or_default() += 1;
        }
    }
    for t in [
        "variant_kanji",
        "kana_halfwidth",
        "kana_hiragana",
        "kana_missing",
        "name_joined_fullwidth_space",
        "name_joined_nospace",
        "old_address",
        "old_insurance",
        "no_address",
        "no_insurance",
    ] {
        assert!(tags.get(t).copied().unwrap_or(0) > 0, "{t}: {tags:?}");
    }
    let dob_typos = ["dob_typo_day", "dob_swap", "dob_typo_year"]
        .iter()
        .map(|t| tags.get(*t).copied().unwrap_or(0))
        .sum::<usize>();
    assert!(dob_typos > 0 && (dob_typos as f64) < 0.05 * records.len() as f64);
    // Patient ids are unique per provider.
    let mut seen = BTreeSet::new();
    for rec in &records {
        assert!(
            seen.insert((get(rec, "provider_id"), get(rec, "patient_id"))),
            "duplicate patient id"
        );
    }
}

/// Every submission that is not FHIR reads back through its `tsumugi_formats` reader without a
/// rejection or warning, and every record's patient id is one the ground truth knows for that
/// provider: the generator writes exactly the id each reader derives.
#[test]
fn non_fhir_submissions_read_back_under_the_truth_patient_ids() {
    use std::io::BufReader;
    use tsumugi_formats::RecordOutcome;
    use tsumugi_formats::csvmap::{MappedCsvReader, Mapping};
    use tsumugi_formats::kaigo::KaigoReader;
    use tsumugi_formats::kenshin::read_submission_zip;

    let r = shared();
    let truth: BTreeSet<(String, String)> = csv_rows(&r.root.join("truth/records.csv"))
        .iter()
        .map(|t| {
            (
                get(t, "provider_id").to_owned(),
                get(t, "patient_id").to_owned(),
            )
        })
        .collect();
    let mut per_format: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &r.summary.files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let provider = f
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let open = || fs::File::open(f).unwrap_or_else(|e| unreachable!("{e}"));
        let (format, out): (&str, Vec<RecordOutcome>) = if name.ends_with(".zip") {
            ("kenshin", read_submission_zip(&name, open()).collect())
        } else if name.ends_with(".kaigo.csv") {
            (
                "kaigo",
                KaigoReader::new(&name, BufReader::new(open())).collect(),
            )
        } else if let Some(stem) = name
            .strip_suffix(".csv")
            .and_then(|s| s.rsplit_once('.'))
            .map(|(_, m)| m)
            && !provider.is_empty()
            && f.starts_with(r.root.join("submissions"))
        {
            let toml = fs::read_to_string(r.root.join(format!("mappings/{stem}.toml")))
                .unwrap_or_else(|e| unreachable!("{stem}: {e}"));
            let m = Mapping::from_toml(&toml).unwrap_or_else(|e| unreachable!("{e}"));
            let format = match stem {
                "juminhyo_shibou" => "deaths",
                "ninpu_kenshin" => "pregnancy",
                "nyuyouji_kenshin" => "infant",
                _ => "vaccination",
            };
            (format, MappedCsvReader::new(&name, &m, open()).collect())
        } else {
            continue;
        };
        for o in out {
            assert!(o.warnings.is_empty(), "{name}: {:?}", o.warnings);
            let rec = o
                .result
                .unwrap_or_else(|d| unreachable!("{name}: {} {:?}", d.code, d.field));
            assert!(!rec.events.is_empty(), "{name}");
            let pid = rec.identity.patient_id.clone().unwrap_or_default();
            assert!(
                truth.contains(&(provider.clone(), pid)),
                "{name}: patient id not in the truth"
            );
            *per_format.entry(format).or_default() += 1;
        }
    }
    for format in [
        "kenshin",
        "kaigo",
        "deaths",
        "pregnancy",
        "infant",
        "vaccination",
    ] {
        assert!(
            per_format.get(format).copied().unwrap_or(0) > 0,
            "{format}: {per_format:?}"
        );
    }
}

#[test]
fn pharmacies_send_dispensing_claims() {
    let r = shared();
    let providers = csv_rows(&r.root.join("providers.csv"));
    let pharmacies: BTreeSet<&str> = providers
        .iter()
        .filter(|p| get(p, "kind") == "pharmacy")
        .map(|p| get(p, "provider_id"))
        .collect();
    let records = csv_rows(&r.root.join("truth/records.csv"));
    let known: BTreeSet<(&str, &str)> = records
        .iter()
        .map(|t| (get(t, "provider_id"), get(t, "patient_id")))
        .collect();
    let mut claims = 0;
    for f in &r.summary.files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(pid) = name
            .strip_suffix("-1.UKE")
            .or_else(|| name.strip_suffix("-2.UKE"))
        else {
            continue;
        };
        if !pharmacies.contains(pid) {
            continue;
        }
        let bytes = fs::read(f).unwrap_or_default();
        assert!(bytes.starts_with(b"YK,"), "{name}: a 調剤 header");
        let mut reader = tsumugi_formats::uke::UkeReader::new(&name, &bytes[..], None);
        for o in reader.by_ref() {
            assert!(o.warnings.is_empty(), "{name}: {:?}", o.warnings);
            let rec = o.result.unwrap_or_else(|d| unreachable!("{name}: {d:?}"));
            let patient = rec.identity.patient_id.unwrap_or_default();
            assert!(
                known.contains(&(pid, patient.as_str())),
                "{name}: in the truth"
            );
            assert!(
                !rec.events.is_empty()
                    && rec
                        .events
                        .iter()
                        .all(|e| e.kind == tsumugi_model::EventKind::Dispensing),
                "{name}"
            );
            claims += 1;
        }
        assert!(reader.file_diagnostics().is_empty(), "{name}");
    }
    assert!(claims > 0, "pharmacies sent 調剤 claims");
}
