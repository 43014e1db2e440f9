//! `tsumugi anonymize`: any table, an `anon.toml`, a release folder out — the engine used the
//! way an analyst uses ARX.
//!
//! ```toml
//! suppression_limit = 0.02
//! models = [{ model = "k_anonymity", k = 5 }]
//! metric = { metric = "loss", gs_factor = 0.5, aggregate = "geometric_mean" }
//! strategy = "optimal"             # or "exhaustive", { heuristic = { max_nodes = N } },
//!                                   # "local" (Mondrian local recoding: levels per class)
//!
//! [[column]]
//! name = "age"
//! role = "quasi_identifying"
//! hierarchy = "hierarchy_age.csv"   # ARX format, relative to this file
//!
//! [[column]]
//! name = "municipality"
//! role = "quasi_identifying"
//! hierarchy = { builder = "municipality" }   # or age, intervals, dates, mask, icd10, ordering
//!
//! [[column]]
//! name = "name"
//! role = "identifying"              # dropped
//! ```
//!
//! Every column of the input must have a role: a column nobody classified is an error, not a
//! silent release.
//!
//! Risk against a population (ARX's population model and δ-presence):
//!
//! ```toml
//! # The population the input was drawn from, for population uniqueness (Pitman, Zayatz,
//! # SNB, Dankar's rule); e.g. Japan's 2020 census total. Optional.
//! population_size = 126146099
//!
//! # δ-presence: the input is the population; the rows whose `in_study` is true (or 1) are
//! # the research subset, the only rows released; every released class must have
//! # delta_min ≤ subset rows / population rows ≤ delta_max. The column needs no [[column]]
//! # entry and is never released. Without population_size, the input's rows are the
//! # population size.
//! subset_column = "in_study"
//! models = [{ model = "k_anonymity", k = 5 }, { model = "d_presence", delta_min = 0.0, delta_max = 0.5 }]
//! ```
//!
//! `report.json` then carries, before and after, the journalist risk (against the population
//! table's classes, with a subset) and the population-uniqueness estimates (with a population
//! size or a subset). The input is CSV or Parquet. The folder gets `data.csv` and
//! `data.parquet` (identifying columns dropped, quasi-identifiers generalized, suppressed rows
//! left out), `report.json` (the node, its loss per attribute, risk, suppression, classes,
//! search figures), `report.html` (the same for people, with charts) and `manifest.json`
//! (SHA-256 of every file and of the configuration). The same input and configuration give the same bytes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::builders::Builder;
use crate::hierarchy::Hierarchy;
use crate::local::LocalSummary;
use crate::manifest::FileEntry;
use crate::metric::{InfoLoss, Metric};
use crate::privacy::Criterion;
use crate::quasi::{Policy, QuasiTable, Sensitive, Strategy};
use crate::risk::Risk;
use crate::search::SearchStats;
use crate::table::{Column, Table};
use crate::{Error, Result};

/// What a column is, for the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Names a person directly: dropped.
    Identifying,
    /// Could single a person out with outside knowledge: generalized by its hierarchy.
    QuasiIdentifying,
    /// What is learned about persons: released as is, protected by l-diversity or
    /// t-closeness.
    Sensitive,
    /// Released as is.
    Insensitive,
}

/// Where a column's hierarchy comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HierarchySpec {
    /// An ARX-format CSV file, relative to the configuration.
    File(PathBuf),
    /// Built from the column's values (`{ builder = "age" }`, see [`Builder`]).
    Built(Builder),
}

/// What happens to a column's values besides its role's default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// An identifying column kept as a keyed pseudonym (HMAC-SHA-256 under the key in
    /// `pseudonym_key_file`, 128 bits in hex) instead of dropped: rows of one person stay
    /// joinable within the release, not beyond it.
    Pseudonym,
    /// Numbers at or above `top` become `≥top`, below `bottom` become `<bottom`.
    TopBottom {
        /// The top code.
        #[serde(default)]
        top: Option<f64>,
        /// The bottom code.
        #[serde(default)]
        bottom: Option<f64>,
    },
    /// Numbers replaced by the mean of their equivalence class.
    Microaggregate,
    /// Dates (`YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD`) moved by a per-person offset of at
    /// most `max_days` days either way, keyed (HMAC under `pseudonym_key_file`) by the row's
    /// value in `person_column`: one person's dates move together, so intervals stay exact.
    DateShift {
        /// The largest offset, in days.
        max_days: u32,
    },
}

/// One column's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    /// The header name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The hierarchy of a quasi-identifier (or of a sensitive attribute under hierarchical
    /// t-closeness): an ARX-format file or a builder.
    #[serde(default)]
    pub hierarchy: Option<HierarchySpec>,
    /// A transformation of its values (identifying: pseudonym; insensitive: top/bottom
    /// coding or microaggregation).
    #[serde(default)]
    pub transform: Option<Transform>,
}

/// `anon.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnonConfig {
    /// Largest share of rows that may be suppressed, 0–1.
    pub suppression_limit: f64,
    /// Privacy models.
    pub models: Vec<Criterion>,
    /// The utility metric (default: Loss, geometric mean, gs 0.5).
    #[serde(default)]
    pub metric: Metric,
    /// The search (default: optimal).
    #[serde(default)]
    pub strategy: Strategy,
    /// CSV delimiter (default: detected).
    #[serde(default)]
    pub delimiter: Option<char>,
    /// `utf-8` or `cp932` (default: detected).
    #[serde(default)]
    pub encoding: Option<String>,
    /// Start `data.csv` with a byte-order mark (for spreadsheet programs).
    #[serde(default)]
    pub bom: bool,
    /// A file of at least 32 random bytes: the key of pseudonym columns (relative to this
    /// configuration; keep it out of the release).
    #[serde(default)]
    pub pseudonym_key_file: Option<PathBuf>,
    /// Rows of the population the input was drawn from: population uniqueness is estimated
    /// against it (default: the input's rows when there is a research subset, else none).
    #[serde(default)]
    pub population_size: Option<u64>,
    /// A column of `true`/`false` (or `1`/`0`) marking the research subset for δ-presence:
    /// the input is then the population and only subset rows are released. It needs no
    /// `[[column]]` entry and is never released.
    #[serde(default)]
    pub subset_column: Option<String>,
    /// The column naming the person a row belongs to (for `date_shift`: one offset per
    /// person).
    #[serde(default)]
    pub person_column: Option<String>,
    /// Every input column.
    #[serde(rename = "column")]
    pub columns: Vec<ColumnConfig>,
}

impl AnonConfig {
    /// Reads `anon.toml`.
    ///
    /// # Errors
    /// [`Error::Io`], and [`Error::InvalidConfig`] naming what does not parse.
    pub fn read(path: &Path) -> Result<AnonConfig> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        toml::from_str(&text).map_err(|e| Error::InvalidConfig(format!("{}: {e}", path.display())))
    }
}

/// What `anonymize` wrote and found (`report.json`).
#[derive(Debug, Clone, Serialize)]
pub struct AnonymizeReport {
    /// Input rows.
    pub rows: u64,
    /// Rows of the research subset (δ-presence), if one was marked.
    pub subset_rows: Option<u64>,
    /// The population size the risk was estimated against, if any.
    pub population_size: Option<u64>,
    /// Rows released.
    pub released_rows: u64,
    /// Rows suppressed.
    pub suppressed_rows: u64,
    /// Equivalence classes released.
    pub classes: u64,
    /// The smallest released class, in rows.
    pub min_class: u64,
    /// The quasi-identifiers, in lattice order, with the level chosen and its height (under
    /// local recoding: the highest level any released row has).
    pub generalization: Vec<(String, u8, u8)>,
    /// The loss of the chosen node (of the local recoding, cell by cell).
    pub loss: InfoLoss,
    /// Re-identification risk of the input's quasi-identifiers as they were (of the research
    /// subset's rows, if there is one).
    pub risk_before: Risk,
    /// Re-identification risk of the release.
    pub risk_after: Risk,
    /// Input rows (1-based data rows, at most 20) in the smallest released classes: where
    /// to look first. Row numbers only, never values.
    pub highest_risk_rows: Vec<u64>,
    /// The policy applied.
    pub policy: Policy,
    /// What the search did (under local recoding: no lattice node counted).
    pub search: SearchStats,
    /// Under `strategy = "local"`: the classes, splits and released rows per level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalSummary>,
    /// Hex SHA-256 of the configuration file.
    pub config_sha256: String,
}

/// Seconds spent per step of [`anonymize_file`] (not written to the release: the release's
/// bytes depend on its inputs only).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StepSeconds {
    /// Reading and encoding the input and hierarchies.
    pub read: f64,
    /// The lattice search.
    pub search: f64,
    /// Applying the node and writing the folder.
    pub write: f64,
}

/// Anonymizes the CSV `input` under the configuration at `config` into the new folder `out`.
///
/// # Errors
/// [`Error::ReleaseExists`] when `out` exists; [`Error::NoSolution`] when no node meets the
/// models within the limit; input, hierarchy and configuration errors naming file, row and
/// column.
pub fn anonymize_file(
    input: &Path,
    config: &Path,
    out: &Path,
) -> Result<(AnonymizeReport, StepSeconds)> {
    let clock = std::time::Instant::now();
    let mut steps = StepSeconds::default();
    if out.exists() {
        return Err(Error::ReleaseExists(out.to_path_buf()));
    }
    let cfg = AnonConfig::read(config)?;
    let base = config.parent().unwrap_or(Path::new("."));
    let cp932 = match cfg.encoding.as_deref() {
        None => None,
        Some("utf-8" | "utf8") => Some(false),
        Some("cp932" | "shift_jis" | "sjis") => Some(true),
        Some(other) => {
            return Err(Error::InvalidConfig(format!(
                "encoding {other:?}: use \"utf-8\" or \"cp932\""
            )));
        }
    };
    let delimiter = cfg.delimiter.map(|c| c as u8);
    let table = Table::read(input, delimiter, cp932)?;
    let role_of = |name: &str| cfg.columns.iter().find(|c| c.name == name);
    let is_subset_column = |name: &str| cfg.subset_column.as_deref() == Some(name);
    if let Some(name) = &cfg.subset_column {
        if role_of(name).is_some() {
            return Err(Error::InvalidConfig(format!(
                "column {name:?} is the subset_column; remove its [[column]] entry (it is never released)"
            )));
        }
        if table.column(name).is_none() {
            return Err(Error::InvalidConfig(format!(
                "subset_column {name:?} is not a column of {}",
                input.display()
            )));
        }
    }
    if let Some(c) = table
        .columns
        .iter()
        .find(|c| role_of(&c.name).is_none() && !is_subset_column(&c.name))
    {
        return Err(Error::InvalidConfig(format!(
            "column {:?} of {} has no role in {}; give every column one",
            c.name,
            input.display(),
            config.display()
        )));
    }
    if let Some(c) = cfg.columns.iter().find(|c| table.column(&c.name).is_none()) {
        return Err(Error::InvalidConfig(format!(
            "{} names column {:?}, which {} does not have",
            config.display(),
            c.name,
            input.display()
        )));
    }
    for c in &cfg.columns {
        let allowed = matches!(
            (c.transform, c.role),
            (None, _)
                | (Some(Transform::Pseudonym), Role::Identifying)
                | (
                    Some(
                        Transform::TopBottom { .. }
                            | Transform::Microaggregate
                            | Transform::DateShift { .. }
                    ),
                    Role::Insensitive
                )
        );
        if !allowed {
            return Err(Error::InvalidConfig(format!(
                "column {:?}: transform {:?} does not apply to role {:?} (pseudonym: identifying; top_bottom, microaggregate, date_shift: insensitive)",
                c.name, c.transform, c.role
            )));
        }
    }
    let shifts_dates = cfg
        .columns
        .iter()
        .any(|c| matches!(c.transform, Some(Transform::DateShift { .. })));
    let person_column: Option<&Column> = match (&cfg.person_column, shifts_dates) {
        (Some(name), _) => Some(table.column(name).ok_or_else(|| {
            Error::InvalidConfig(format!(
                "person_column {name:?} is not a column of {}",
                input.display()
            ))
        })?),
        (None, true) => {
            return Err(Error::InvalidConfig(
                "date_shift needs person_column: the column naming each row's person".into(),
            ));
        }
        (None, false) => None,
    };
    let pseudonym_key: Option<Vec<u8>> = if shifts_dates
        || cfg
            .columns
            .iter()
            .any(|c| c.transform == Some(Transform::Pseudonym))
    {
        let path = cfg
            .pseudonym_key_file
            .as_ref()
            .map(|p| base.join(p))
            .ok_or_else(|| {
                Error::InvalidConfig(
                    "a pseudonym or date_shift column needs pseudonym_key_file".into(),
                )
            })?;
        let key = std::fs::read(&path).map_err(Error::io(&path))?;
        if key.len() < 32 {
            return Err(Error::InvalidConfig(format!(
                "{}: a pseudonym key has at least 32 bytes",
                path.display()
            )));
        }
        Some(key)
    } else {
        None
    };
    let load = |c: &ColumnConfig| -> Result<Option<Hierarchy>> {
        let built = match &c.hierarchy {
            None => return Ok(None),
            Some(HierarchySpec::File(p)) => Hierarchy::read_arx(&base.join(p), b';'),
            Some(HierarchySpec::Built(b)) => {
                let values = table
                    .column(&c.name)
                    .map(|col| col.values.iter().map(String::as_str));
                b.build(values.into_iter().flatten())
            }
        };
        built.map(Some).map_err(|source| Error::Hierarchy {
            context: format!("column {:?}", c.name),
            source,
        })
    };
    let mut quasi_cols: Vec<(&Column, Hierarchy)> = Vec::new();
    let mut sensitive: Option<(&Column, Option<Hierarchy>)> = None;
    for c in &cfg.columns {
        let Some(col) = table.column(&c.name) else {
            continue;
        };
        match c.role {
            Role::QuasiIdentifying => {
                let h = load(c)?.ok_or_else(|| {
                    Error::InvalidConfig(format!(
                        "quasi-identifier {:?} needs a hierarchy file",
                        c.name
                    ))
                })?;
                quasi_cols.push((col, h));
            }
            Role::Sensitive if sensitive.is_some() => {
                return Err(Error::InvalidConfig(
                    "more than one sensitive column: give one the role \"sensitive\"".into(),
                ));
            }
            Role::Sensitive => sensitive = Some((col, load(c)?)),
            Role::Identifying | Role::Insensitive => {}
        }
    }
    if quasi_cols.is_empty() {
        return Err(Error::InvalidConfig(
            "no quasi-identifying column: nothing to generalize".into(),
        ));
    }
    let quasi: Vec<(&Column, &Hierarchy)> = quasi_cols.iter().map(|(c, h)| (*c, h)).collect();
    let sensitive_spec = sensitive.as_ref().map(|(column, h)| Sensitive {
        column,
        hierarchy: h.as_ref(),
    });
    let subset = match cfg.subset_column.as_deref().and_then(|n| table.column(n)) {
        Some(col) => Some(subset_flags(col, input)?),
        None => None,
    };
    let has_subset = subset.is_some();
    let qt = match subset {
        Some(flags) => QuasiTable::with_subset(&quasi, sensitive_spec, flags)?,
        None => QuasiTable::new(&quasi, sensitive_spec)?,
    };
    let population_size = cfg
        .population_size
        .or(has_subset.then_some(table.rows as u64));
    // Before the search: a population smaller than the sample is a configuration error.
    let before: Vec<u64> = qt.tuple_sizes().collect();
    let risk_before = Risk::against_population(
        &before,
        qt.tuple_population_sizes().as_deref(),
        population_size,
    )?;
    let policy = Policy {
        criteria: cfg.models.clone(),
        suppression_limit: cfg.suppression_limit,
        metric: cfg.metric,
        strategy: cfg.strategy,
    };
    steps.read = clock.elapsed().as_secs_f64();
    let chosen = choose(&qt, &policy)?;
    steps.search = clock.elapsed().as_secs_f64() - steps.read;
    let applied = chosen.applied;
    let after_sizes: Vec<u64> = chosen.released.iter().map(|c| c.0).collect();
    let after_population: Vec<u64> = chosen.released.iter().map(|c| c.1).collect();
    let risk_after = Risk::against_population(
        &after_sizes,
        has_subset.then_some(after_population.as_slice()),
        population_size,
    )?;

    // Write into a staging folder, then rename: a release appears whole or not at all.
    let staging = out.with_extension("partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(Error::io(&staging))?;
    let released: Vec<(usize, &Column)> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            role_of(&c.name).is_some_and(|r| {
                r.role != Role::Identifying || r.transform == Some(Transform::Pseudonym)
            })
        })
        .collect();
    let transform_of = |c: &Column| role_of(&c.name).and_then(|r| r.transform);
    let number = |c: &Column, r: usize| -> Result<f64> {
        c.get(r).trim().parse().map_err(|_| Error::Input {
            path: input.to_path_buf(),
            line: r + 2,
            reason: format!("column {:?}: {:?} is not a number", c.name, c.get(r)),
        })
    };
    // Class means of microaggregated columns.
    let mut means: rustc_hash::FxHashMap<(usize, &[&str]), (f64, u64)> = Default::default();
    for (k, c) in &released {
        if transform_of(c) == Some(Transform::Microaggregate) {
            for (r, row) in applied.iter().enumerate() {
                if let Some(values) = row {
                    let e = means.entry((*k, values.as_slice())).or_default();
                    e.0 += number(c, r)?;
                    e.1 += 1;
                }
            }
        }
    }
    // Per released column, once: its quasi-identifier position and its transform.
    let plan: Vec<(Option<usize>, Option<Transform>)> = released
        .iter()
        .map(|(_, c)| {
            (
                quasi_cols.iter().position(|(q, _)| q.name == c.name),
                transform_of(c),
            )
        })
        .collect();
    let data = staging.join("data.csv");
    let mut file = std::fs::File::create(&data).map_err(Error::io(&data))?;
    if cfg.bom {
        std::io::Write::write_all(&mut file, b"\xEF\xBB\xBF").map_err(Error::io(&data))?;
    }
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    w.write_record(released.iter().map(|(_, c)| c.name.as_str()))
        .map_err(|e| csv_error(&data, e))?;
    let header: Vec<(&str, tsumugi_store::ColumnKind)> = released
        .iter()
        .map(|(_, c)| (c.name.as_str(), tsumugi_store::ColumnKind::Text))
        .collect();
    let mut parquet =
        tsumugi_store::TextTableWriter::create(&staging.join("data.parquet"), &header)?;
    let mut class_sizes: rustc_hash::FxHashMap<&[&str], u64> = Default::default();
    for (r, row) in applied.iter().enumerate() {
        let Some(values) = row else { continue };
        *class_sizes.entry(values.as_slice()).or_default() += 1;
        let mut record: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(released.len());
        for ((k, c), &(qi, transform)) in released.iter().zip(&plan) {
            record.push(match (qi, transform) {
                (Some(j), _) => values[j].into(),
                (None, None) => c.get(r).into(),
                (None, Some(Transform::Pseudonym)) => {
                    pseudonym(pseudonym_key.as_deref().unwrap_or_default(), c.get(r)).into()
                }
                (None, Some(Transform::TopBottom { top, bottom })) => {
                    let x = number(c, r)?;
                    match (top, bottom) {
                        (Some(t), _) if x >= t => format!("≥{t}").into(),
                        (_, Some(b)) if x < b => format!("<{b}").into(),
                        _ => c.get(r).into(),
                    }
                }
                (None, Some(Transform::Microaggregate)) => {
                    let (sum, n) = means
                        .get(&(*k, values.as_slice()))
                        .copied()
                        .unwrap_or_default();
                    format!("{:.3}", sum / n.max(1) as f64).into()
                }
                (None, Some(Transform::DateShift { max_days })) => {
                    let person = person_column.map_or("", |p| p.get(r));
                    let key = pseudonym_key.as_deref().unwrap_or_default();
                    shift_date(c.get(r), key, person, max_days)
                        .map_err(|reason| Error::Input {
                            path: input.to_path_buf(),
                            line: r + 2,
                            reason: format!("column {:?}: {reason}", c.name),
                        })?
                        .into()
                }
            });
        }
        w.write_record(record.iter().map(|v| v.as_ref()))
            .map_err(|e| csv_error(&data, e))?;
        let cells: Vec<tsumugi_store::Cell<'_>> = record
            .iter()
            .map(|v| tsumugi_store::Cell::Text(v.as_ref()))
            .collect();
        parquet.write(&cells)?;
    }
    w.flush().map_err(Error::io(&data))?;
    drop(w);
    parquet.finish()?;
    let config_bytes = std::fs::read(config).map_err(Error::io(config))?;
    let released_rows = applied.iter().filter(|r| r.is_some()).count() as u64;
    let min_class = class_sizes.values().copied().min().unwrap_or(0);
    let highest_risk_rows: Vec<u64> = applied
        .iter()
        .enumerate()
        .filter(|(_, row)| {
            row.as_ref()
                .is_some_and(|v| class_sizes.get(v.as_slice()) == Some(&min_class))
        })
        .map(|(r, _)| r as u64 + 1)
        .take(20)
        .collect();
    let report = AnonymizeReport {
        rows: table.rows as u64,
        subset_rows: has_subset.then(|| qt.subset_rows()),
        population_size,
        released_rows,
        suppressed_rows: chosen.suppressed_rows,
        classes: class_sizes.len() as u64,
        min_class,
        generalization: quasi_cols
            .iter()
            .zip(&chosen.levels)
            .map(|((c, h), &l)| (c.name.clone(), l, (h.height() - 1) as u8))
            .collect(),
        loss: chosen.loss,
        risk_before,
        risk_after,
        highest_risk_rows,
        policy,
        search: chosen.stats,
        local: chosen.local,
        config_sha256: hex::encode(Sha256::digest(&config_bytes)),
    };
    let json = |v: &serde_json::Value| -> Result<Vec<u8>> {
        serde_json::to_vec_pretty(v)
            .map_err(|e| Error::InvalidConfig(format!("report not serializable: {e}")))
    };
    let report_value = serde_json::to_value(&report)
        .map_err(|e| Error::InvalidConfig(format!("report not serializable: {e}")))?;
    let report_path = staging.join("report.json");
    std::fs::write(&report_path, json(&report_value)?).map_err(Error::io(&report_path))?;
    let page_path = staging.join("report.html");
    std::fs::write(&page_path, crate::table_report::page(&report))
        .map_err(Error::io(&page_path))?;
    let manifest = serde_json::json!({
        "manifest_version": 1,
        "kind": "anonymized table",
        "config_sha256": report.config_sha256,
        "config": serde_json::to_value(&cfg).unwrap_or_default(),
        "files": [
            FileEntry::of(&staging, "data.csv")?,
            FileEntry::of(&staging, "data.parquet")?,
            FileEntry::of(&staging, "report.json")?,
            FileEntry::of(&staging, "report.html")?,
        ],
    });
    let manifest_path = staging.join("manifest.json");
    std::fs::write(&manifest_path, json(&manifest)?).map_err(Error::io(&manifest_path))?;
    std::fs::rename(&staging, out).map_err(Error::io(out))?;
    steps.write = clock.elapsed().as_secs_f64() - steps.read - steps.search;
    Ok((report, steps))
}

/// The research subset's flags from a column of `true`/`false` (or `1`/`0`, `yes`/`no`).
fn subset_flags(col: &Column, input: &Path) -> Result<Vec<bool>> {
    let by_value: Vec<Option<bool>> = col
        .values
        .iter()
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        })
        .collect();
    col.codes
        .iter()
        .enumerate()
        .map(|(r, &code)| {
            by_value[code as usize].ok_or_else(|| Error::Input {
                path: input.to_path_buf(),
                line: r + 2,
                reason: format!(
                    "subset_column {:?} must be true or false (or 1/0, yes/no)",
                    col.name
                ),
            })
        })
        .collect()
}

/// The generalization chosen for a table: a lattice node, or a local recoding.
struct Chosen<'a> {
    applied: Vec<Option<Vec<&'a str>>>,
    /// Per released class, `(rows, population rows)`.
    released: Vec<(u64, u64)>,
    suppressed_rows: u64,
    levels: Vec<u8>,
    loss: InfoLoss,
    stats: SearchStats,
    local: Option<LocalSummary>,
}

/// Searches the lattice, or recodes locally under `strategy = "local"`, and applies the
/// result to the rows.
fn choose<'a>(qt: &'a QuasiTable, policy: &Policy) -> Result<Chosen<'a>> {
    if policy.strategy == Strategy::Local {
        let recoding = qt.recode_locally(policy)?;
        let summary = recoding.summary().clone();
        let applied = qt.apply_local(&recoding)?;
        // Local recoding refuses a research subset: a class's population is its rows.
        let mut sizes: rustc_hash::FxHashMap<&[&str], u64> = Default::default();
        for values in applied.iter().flatten() {
            *sizes.entry(values.as_slice()).or_default() += 1;
        }
        let mut released: Vec<(u64, u64)> = sizes.values().map(|&n| (n, n)).collect();
        released.sort_unstable();
        return Ok(Chosen {
            released,
            applied,
            suppressed_rows: summary.suppressed_rows,
            levels: recoding.highest_levels(),
            loss: summary.loss.clone(),
            stats: SearchStats {
                distinct_tuples: summary.distinct_tuples,
                ..SearchStats::default()
            },
            local: Some(summary),
        });
    }
    let result = qt.search(policy)?;
    let Some(best) = result.optimum else {
        return Err(Error::NoSolution {
            checked: result.stats.nodes_checked,
        });
    };
    Ok(Chosen {
        released: qt.released_classes(policy, &best.levels)?,
        applied: qt.apply(policy, &best.levels)?,
        suppressed_rows: best.suppressed_rows,
        levels: best.levels,
        loss: best.loss,
        stats: result.stats,
        local: None,
    })
}

/// The keyed pseudonym of `value`: HMAC-SHA-256 under `key`, 128 bits in hex.
fn pseudonym(key: &[u8], value: &str) -> String {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(value.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// `value` (a date, or empty) moved by `person`'s keyed offset in `-max_days..=max_days`.
fn shift_date(value: &str, key: &[u8], person: &str, max_days: u32) -> Result<String, String> {
    use hmac::{Hmac, Mac};
    let v = value.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    let date = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"]
        .iter()
        .find_map(|f| chrono::NaiveDate::parse_from_str(v, f).ok())
        .ok_or_else(|| "not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)".to_owned())?;
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Err("no key".to_owned());
    };
    mac.update(b"date-shift\0");
    mac.update(person.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes[..8]);
    let span = 2 * u64::from(max_days) + 1;
    let offset = (u64::from_be_bytes(first) % span) as i64 - i64::from(max_days);
    date.checked_add_signed(chrono::TimeDelta::days(offset))
        .map(|d| d.to_string())
        .ok_or_else(|| "the shifted date is out of range".to_owned())
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}
