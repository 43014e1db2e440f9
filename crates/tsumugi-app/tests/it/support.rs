//! Shared helpers: a fixed clock, database URLs, reading CSV files and the ground truth.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use tsumugi_app::DatabaseUrls;

/// The scenario's "today".
pub fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z")
        .unwrap()
        .to_utc()
}

/// Embedded SQLite, and PostgreSQL when a server is given (fresh databases each call).
pub async fn backends() -> Vec<(&'static str, DatabaseUrls)> {
    let mut out = vec![("sqlite", DatabaseUrls::default())];
    if let Some(registry) = tsumugi_store::testing::postgres_url().await {
        let vault = tsumugi_store::testing::postgres_url().await;
        out.push((
            "postgres",
            DatabaseUrls {
                registry: Some(registry),
                vault,
            },
        ));
    }
    out
}

/// Rows of a CSV file as column → value maps.
pub fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .map(str::to_owned)
                .zip(rec.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p)
            } else {
                out.push(p)
            }
        }
    }
    out.sort();
    out
}

/// Truth: person id → opted out?
pub fn opted_out_persons(synth: &Path) -> BTreeSet<String> {
    csv_rows(&synth.join("truth/persons.csv"))
        .into_iter()
        .filter(|r| r["opted_out"] == "true")
        .map(|r| r["person_id"].clone())
        .collect()
}

/// Truth: (provider, patient id) records of each person.
pub fn records_by_person(synth: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in csv_rows(&synth.join("truth/records.csv")) {
        out.entry(r["person_id"].clone())
            .or_default()
            .push((r["provider_id"].clone(), r["patient_id"].clone()));
    }
    out
}
