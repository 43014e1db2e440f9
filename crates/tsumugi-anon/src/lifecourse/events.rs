//! The passes over the research store's events: event-derived quasi-identifiers and index
//! dates, code holders and value ranges, and the released rows.

use std::collections::HashMap;
use std::path::Path;

use chrono::Datelike;
use tsumugi_model::{Code, Date, EventKind};
use tsumugi_store::ResearchStore;

use super::codes::{CodeDecisions, Cuts, Holders, ValueRanges};
use super::{DatePolicy, FirstYear, date_shift, month};
use crate::Result;
use crate::package::{SortedRows, TableOut};

/// Bytes of event rows sorted in memory before runs are spilled to the staging folder.
const SORT_BUDGET: usize = 256 << 20;

/// Event kinds an anonymized release leaves out: the person table holds age and death month.
pub(super) fn removed_kind(kind: EventKind, anonymized: bool) -> bool {
    anonymized && matches!(kind, EventKind::Birth | EventKind::Death)
}

/// Per considered person, what the first pass over the events learns.
pub(super) struct FirstPass {
    /// Per [`FirstYear`], per person, the first year.
    pub first_years: Vec<(String, Vec<Option<i32>>)>,
    /// Per person, the first released event's date.
    pub index_date: Vec<Option<Date>>,
}

pub(super) fn first_pass(
    store: &ResearchStore,
    persons: &HashMap<i64, usize>,
    n: usize,
    first_year_of: &[FirstYear],
    anonymized: bool,
) -> Result<FirstPass> {
    let mut first_years: Vec<(String, Vec<Option<i32>>)> = first_year_of
        .iter()
        .map(|f| (format!("first_year_{}", f.name), vec![None; n]))
        .collect();
    let mut index_date: Vec<Option<Date>> = vec![None; n];
    for path in store.lifecourse_event_files()? {
        for batch in store.read_events(&path)? {
            for row in batch? {
                let Some(&i) = persons.get(&row.key) else {
                    continue;
                };
                let e = &row.event;
                if removed_kind(e.kind, anonymized) {
                    continue;
                }
                if index_date[i].is_none_or(|d| e.date < d) {
                    index_date[i] = Some(e.date);
                }
                let Some(code) = &e.code else { continue };
                for (f, (_, years)) in first_year_of.iter().zip(&mut first_years) {
                    if code.system.as_str() == f.system && code.value.starts_with(&f.prefix) {
                        let y = e.date.year();
                        if years[i].is_none_or(|old| y < old) {
                            years[i] = Some(y);
                        }
                    }
                }
            }
        }
    }
    Ok(FirstPass {
        first_years,
        index_date,
    })
}

/// The second pass: who holds which code among the released persons, and each person's value
/// range per code, decided into released labels and value cuts (none for 仮名加工).
pub(super) fn code_decisions(
    store: &ResearchStore,
    released: &HashMap<i64, (usize, String)>,
    anonymized: bool,
    k: u32,
) -> Result<(CodeDecisions, Option<Cuts>)> {
    // Codes interned once; per distinct (code, person) the value range, so the hierarchy
    // counting below sees each holder once however many events they have.
    let mut ids: HashMap<Code, u32> = HashMap::new();
    let mut codes: Vec<Code> = Vec::new();
    let mut pairs: HashMap<(u32, i64), Option<(f64, f64)>> = HashMap::new();
    for path in store.lifecourse_event_files()? {
        for batch in store.read_events(&path)? {
            for row in batch? {
                if !released.contains_key(&row.key) || removed_kind(row.event.kind, anonymized) {
                    continue;
                }
                let Some(code) = row.event.code else {
                    continue;
                };
                let id = match ids.get(&code) {
                    Some(&id) => id,
                    None => {
                        let id = codes.len() as u32;
                        ids.insert(code.clone(), id);
                        codes.push(code);
                        id
                    }
                };
                let range = pairs.entry((id, row.key)).or_insert(None);
                if let Some(v) = row.event.value.filter(|v| v.is_finite()) {
                    let (lo, hi) = range.get_or_insert((v, v));
                    *lo = lo.min(v);
                    *hi = hi.max(v);
                }
            }
        }
    }
    drop(ids);
    let mut holders = Holders::default();
    for &(id, person) in pairs.keys() {
        holders.add(&codes[id as usize], person);
    }
    let decisions = if anonymized {
        holders.decide(k)
    } else {
        CodeDecisions::keep_all(holders)
    };
    let cuts = if anonymized {
        let mut ranges = ValueRanges::default();
        for (&(id, person), range) in &pairs {
            let code = &codes[id as usize];
            if let (Some((lo, hi)), Some(r)) = (range, decisions.get(code)) {
                ranges.add(&code.system, &r.label, person, *lo);
                ranges.add(&code.system, &r.label, person, *hi);
            }
        }
        Some(ranges.cuts(k))
    } else {
        None
    };
    Ok((decisions, cuts))
}

/// The released persons and what was decided about their events.
pub(super) struct Released<'a> {
    /// Person key → (index among the considered persons, pseudonym).
    pub persons: &'a HashMap<i64, (usize, String)>,
    /// Per considered person, the first released event's date.
    pub index_date: &'a [Option<Date>],
    /// Released code labels.
    pub decisions: &'a CodeDecisions,
    /// Value cuts per released code (anonymized releases).
    pub cuts: Option<&'a Cuts>,
}

/// What the third pass did.
#[derive(Debug, Default)]
pub(super) struct EventCounts {
    pub released: u64,
    pub removed_peculiar: u64,
    pub removed_kind: u64,
    pub top: u64,
    pub bottom: u64,
    pub withheld: u64,
}

/// The third pass: the released event rows into `events.csv` and `events.parquet`, sorted
/// (by pseudonym first) so that row order reveals nothing.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_events(
    store: &ResearchStore,
    released: &Released<'_>,
    dates: DatePolicy,
    key: &[u8; 32],
    anonymized: bool,
    staging: &Path,
    bom: bool,
) -> Result<EventCounts> {
    let mut rows = SortedRows::new(&staging.join(".sort"), SORT_BUDGET);
    let mut events_released = 0u64;
    let (mut removed_peculiar, mut removed_kind_n) = (0u64, 0u64);
    let (mut top, mut bottom, mut withheld) = (0u64, 0u64, 0u64);
    for path in store.lifecourse_event_files()? {
        for batch in store.read_events(&path)? {
            for row in batch? {
                let Some((i, pid)) = released.persons.get(&row.key) else {
                    continue;
                };
                let e = &row.event;
                if removed_kind(e.kind, anonymized) {
                    removed_kind_n += 1;
                    continue;
                }
                let (system, label, level) = match &e.code {
                    None => (String::new(), String::new(), ""),
                    Some(c) => match released.decisions.get(c) {
                        Some(r) => (c.system.as_str().to_owned(), r.label.clone(), r.level_name),
                        None => {
                            removed_peculiar += 1;
                            continue;
                        }
                    },
                };
                let (value, coded) = match (e.value.filter(|v| v.is_finite()), released.cuts) {
                    (None, _) => (String::new(), ""),
                    (Some(v), None) => (format!("{v}"), ""),
                    (Some(v), Some(cuts)) => {
                        let cut = e
                            .code
                            .as_ref()
                            .and_then(|c| cuts.get(&(c.system.clone(), label.clone())).copied());
                        match cut {
                            // A value without a code: nothing to compare it with; withheld.
                            None | Some(None) => {
                                withheld += 1;
                                (String::new(), "withheld")
                            }
                            Some(Some((lo, _))) if v < lo => {
                                bottom += 1;
                                (format!("{lo}"), "bottom")
                            }
                            Some(Some((_, hi))) if v > hi => {
                                top += 1;
                                (format!("{hi}"), "top")
                            }
                            Some(Some(_)) => (format!("{v}"), ""),
                        }
                    }
                };
                let shift = match dates {
                    DatePolicy::Shift { max_days } => date_shift(key, row.key, max_days),
                    _ => 0,
                };
                let index = released.index_date[*i];
                let date = |d: Date| -> String {
                    match dates {
                        DatePolicy::Month => month(d),
                        DatePolicy::Shift { .. } => d
                            .checked_add_signed(chrono::TimeDelta::days(shift))
                            .map(|d| d.to_string())
                            .unwrap_or_default(),
                        DatePolicy::DaysFromIndex => index
                            .map(|ix| (d - ix).num_days().to_string())
                            .unwrap_or_default(),
                        DatePolicy::Exact => d.to_string(),
                    }
                };
                let (start, end) = (date(e.date), e.end_date.map(date).unwrap_or_default());
                rows.push(&[
                    pid,
                    &start,
                    &end,
                    e.kind.as_str(),
                    &system,
                    &label,
                    level,
                    &value,
                    coded,
                    e.unit.as_deref().unwrap_or_default(),
                ])?;
                events_released += 1;
            }
        }
    }
    let mut events = TableOut::create(
        staging,
        "events",
        &[
            "person_id",
            "date",
            "end_date",
            "kind",
            "code_system",
            "code",
            "code_level",
            "value",
            "value_coded",
            "unit",
        ],
        bom,
    )?;
    rows.finish(&mut |r| events.write(r))?;
    events.finish()?;
    Ok(EventCounts {
        released: events_released,
        removed_peculiar,
        removed_kind: removed_kind_n,
        top,
        bottom,
        withheld,
    })
}
