//! Linking any CSV file: `link.toml` maps columns to roles, and rows become [`LinkRecord`]s.
//!
//! ```toml
//! [columns]                      # every role is optional; name the columns you have
//! id = "record_id"               # else the row number
//! source = "source"              # else the input's name
//! source_id = "patient_id"
//! source_unique = "id_is_unique"  # per row 1/0: whether its source gives a person one id
//! family_kanji = "氏"
//! given_kanji = "名"
//! family_kana = "氏カナ"
//! given_kana = "名カナ"
//! birth_date = "生年月日"         # ISO, YYYYMMDD, 和暦 (昭和55年2月3日, S55.02.03, 3550203)
//! sex = "性別"                    # M/F, 1/2, 男/女
//! address = "住所"
//! postcode = "郵便番号"
//! municipality = "市区町村コード"
//! insurer = "保険者番号"
//! insured_symbol = "記号"
//! insured_number = "番号"
//! insured_branch = "枝番"
//!
//! [[extras]]                     # free-form fields
//! column = "電話番号"
//! compare = "exact"              # or "fuzzy"
//!
//! [settings]                     # all optional; the defaults work without tuning
//! link_probability = 0.8
//! review_probability = 0.3
//! history_separator = "|"        # several values in one cell: a history (earlier names …)
//! unique_sources = "all"         # "none", or a list of source names
//! term_frequencies = "names.csv" # field,value,share: name frequencies of the population
//! ```
//!
//! A term-frequency table weighs agreement on a name by how common it is in the population
//! (佐藤 is weak evidence, a rare surname strong) instead of in the input: one row per name,
//! `field` one of `family_kanji`, `given_kanji`, `family_kana`, `given_kana`, `share` the
//! fraction of people holding it. Values are normalized like the input's.
//!
//! A name written whole goes in the family column with the given column empty or absent.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;
use tsumugi_model::{Address, IdentityAttributes, Insurance, PersonName, Sex, wareki};

use crate::linkage::{ExtraKind, LinkConfig, LinkRecord, UniqueSources};

/// Why a table could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The configuration does not parse.
    #[error("IDN0020InvalidLinkConfig: {0}")]
    Config(String),
    /// The configuration names a column the file lacks.
    #[error("IDN0021MissingColumn: {input}: no column named {column} (role {role})")]
    MissingColumn {
        /// The input.
        input: String,
        /// The column name.
        column: String,
        /// Its role.
        role: String,
    },
    /// The CSV is malformed.
    #[error("IDN0022InvalidCsv: {input}: record {record}: {reason}")]
    Csv {
        /// The input.
        input: String,
        /// The record number (1-based, header excluded), 0 for the header.
        record: u64,
        /// What is wrong (never a value).
        reason: String,
    },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Columns {
    id: Option<String>,
    source: Option<String>,
    source_id: Option<String>,
    source_unique: Option<String>,
    family_kanji: Option<String>,
    given_kanji: Option<String>,
    family_kana: Option<String>,
    given_kana: Option<String>,
    birth_date: Option<String>,
    sex: Option<String>,
    address: Option<String>,
    postcode: Option<String>,
    municipality: Option<String>,
    insurer: Option<String>,
    insured_symbol: Option<String>,
    insured_number: Option<String>,
    insured_branch: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Extra {
    column: String,
    compare: ExtraKind,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    link_probability: Option<f64>,
    review_probability: Option<f64>,
    bridge_probability: Option<f64>,
    blocking: Option<Vec<String>>,
    max_block: Option<usize>,
    max_u_pairs: Option<usize>,
    history_separator: Option<String>,
    unique_sources: Option<UniqueSetting>,
    term_frequencies: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum UniqueSetting {
    Word(String),
    Named(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    columns: Columns,
    #[serde(default)]
    extras: Vec<Extra>,
    #[serde(default)]
    settings: Settings,
}

/// A parsed `link.toml`: the column roles and the engine's settings.
#[derive(Debug, Clone)]
pub struct TableConfig {
    columns: Columns,
    extras: Vec<Extra>,
    separator: String,
    /// A population table of name frequencies (`field,value,share`), relative to the
    /// configuration file, when it names one.
    pub term_frequencies: Option<String>,
    /// The engine's settings, defaults filled in.
    pub link: LinkConfig,
}

impl TableConfig {
    /// Parses `link.toml` text.
    ///
    /// # Errors
    /// [`TableError::Config`] naming what does not parse.
    pub fn parse(text: &str) -> Result<TableConfig, TableError> {
        let file: File =
            toml::from_str(text).map_err(|e| TableError::Config(e.message().to_owned()))?;
        let mut link = LinkConfig::recommended();
        let s = &file.settings;
        if let Some(v) = s.link_probability {
            link.link_probability = v;
        }
        if let Some(v) = s.review_probability {
            link.review_probability = v;
        }
        if let Some(v) = s.bridge_probability {
            link.bridge_probability = v;
        }
        if let Some(v) = &s.blocking {
            link.blocking = v.clone();
        }
        if let Some(v) = s.max_block {
            link.max_block = v;
        }
        if let Some(v) = s.max_u_pairs {
            link.max_u_pairs = v;
        }
        link.unique_sources = match &s.unique_sources {
            None => UniqueSources::All,
            Some(UniqueSetting::Word(w)) if w == "all" => UniqueSources::All,
            Some(UniqueSetting::Word(w)) if w == "none" => UniqueSources::None,
            Some(UniqueSetting::Word(w)) => {
                return Err(TableError::Config(format!(
                    "unique_sources is \"all\", \"none\" or a list of sources, not {w:?}"
                )));
            }
            Some(UniqueSetting::Named(v)) => UniqueSources::Named(v.clone()),
        };
        link.extras = file
            .extras
            .iter()
            .map(|e| (e.column.clone(), e.compare))
            .collect();
        Ok(TableConfig {
            term_frequencies: s.term_frequencies.clone(),
            columns: file.columns,
            separator: s
                .history_separator
                .clone()
                .unwrap_or_else(|| "|".to_owned()),
            extras: file.extras,
            link,
        })
    }

    /// The configuration for a CSV whose header is `header`, with the usual column names
    /// (`family_kanji`, `given_kana`, `birth_date`, `postal_code` …) taken as their roles.
    pub fn by_header(header: &[&str]) -> TableConfig {
        let has = |names: &[&str]| {
            names
                .iter()
                .find(|n| header.contains(n))
                .map(|n| (*n).to_owned())
        };
        let columns = Columns {
            id: has(&["record_id", "id"]),
            source: has(&["source", "provider_id"]),
            source_id: has(&["source_id", "patient_id"]),
            source_unique: has(&["source_unique"]),
            family_kanji: has(&["family_kanji"]),
            given_kanji: has(&["given_kanji"]),
            family_kana: has(&["family_kana"]),
            given_kana: has(&["given_kana"]),
            birth_date: has(&["birth_date", "dob"]),
            sex: has(&["sex"]),
            address: has(&["address"]),
            postcode: has(&["postal_code", "postcode"]),
            municipality: has(&["municipality_code", "municipality"]),
            insurer: has(&["insurer_number", "insurer"]),
            insured_symbol: has(&["insured_symbol"]),
            insured_number: has(&["insured_number"]),
            insured_branch: has(&["insured_branch"]),
        };
        TableConfig {
            term_frequencies: None,
            columns,
            extras: Vec::new(),
            separator: "|".to_owned(),
            link: LinkConfig::recommended(),
        }
    }
}

/// Rows read from one or more tables.
#[derive(Debug, Default)]
pub struct Table {
    /// Each row's id (the id column, else `input:row`).
    pub ids: Vec<String>,
    /// Each row as a record.
    pub records: Vec<LinkRecord>,
    /// Inputs read so far (the next input's `LinkRecord::dataset`).
    pub inputs: u32,
}

fn parse_sex(s: &str) -> Sex {
    match s.trim() {
        "M" | "m" | "1" | "男" | "男性" | "male" | "Male" => Sex::Male,
        "F" | "f" | "2" | "女" | "女性" | "female" | "Female" => Sex::Female,
        _ => Sex::Unknown,
    }
}

/// The columns of one input resolved against its header: what each role reads.
pub struct TableRows<'a> {
    cfg: &'a TableConfig,
    input: String,
    id: Option<usize>,
    source: Option<usize>,
    source_id: Option<usize>,
    source_unique: Option<usize>,
    names: [Option<usize>; 4],
    dob: Option<usize>,
    sex: Option<usize>,
    addr: [Option<usize>; 3],
    card: [Option<usize>; 4],
    extras: Vec<Option<usize>>,
    n: u64,
}

impl<'a> TableRows<'a> {
    /// Resolves `cfg`'s columns against the `header` of the input named `input`.
    ///
    /// # Errors
    /// [`TableError::MissingColumn`] for a configured column the header lacks.
    pub fn new(
        cfg: &'a TableConfig,
        input: &str,
        header: &[&str],
    ) -> Result<TableRows<'a>, TableError> {
        let position: BTreeMap<&str, usize> =
            header.iter().enumerate().map(|(i, h)| (*h, i)).collect();
        let col = |role: &str, name: &Option<String>| -> Result<Option<usize>, TableError> {
            match name {
                None => Ok(None),
                Some(n) => position.get(n.as_str()).copied().map(Some).ok_or_else(|| {
                    TableError::MissingColumn {
                        input: input.to_owned(),
                        column: n.clone(),
                        role: role.to_owned(),
                    }
                }),
            }
        };
        let c = &cfg.columns;
        Ok(TableRows {
            id: col("id", &c.id)?,
            source: col("source", &c.source)?,
            source_id: col("source_id", &c.source_id)?,
            source_unique: col("source_unique", &c.source_unique)?,
            names: [
                col("family_kanji", &c.family_kanji)?,
                col("given_kanji", &c.given_kanji)?,
                col("family_kana", &c.family_kana)?,
                col("given_kana", &c.given_kana)?,
            ],
            dob: col("birth_date", &c.birth_date)?,
            sex: col("sex", &c.sex)?,
            addr: [
                col("address", &c.address)?,
                col("postcode", &c.postcode)?,
                col("municipality", &c.municipality)?,
            ],
            card: [
                col("insurer", &c.insurer)?,
                col("insured_symbol", &c.insured_symbol)?,
                col("insured_number", &c.insured_number)?,
                col("insured_branch", &c.insured_branch)?,
            ],
            extras: cfg
                .extras
                .iter()
                .map(|e| col("extra", &Some(e.column.clone())))
                .collect::<Result<_, _>>()?,
            cfg,
            input: input.to_owned(),
            n: 0,
        })
    }

    /// Adds one row to `table`; `field` gives the row's value in a column.
    pub fn push<'r>(&mut self, field: &dyn Fn(usize) -> Option<&'r str>, table: &mut Table) {
        self.n += 1;
        let get = |c: Option<usize>| -> Option<&str> {
            c.and_then(field).map(str::trim).filter(|s| !s.is_empty())
        };
        let sep = self.cfg.separator.as_str();
        let split = |c: Option<usize>| -> Vec<Option<String>> {
            match get(c) {
                None => Vec::new(),
                Some(v) => v
                    .split(sep)
                    .map(|x| Some(x.trim().to_owned()).filter(|x| !x.is_empty()))
                    .collect(),
            }
        };
        let parts: Vec<Vec<Option<String>>> = self.names.iter().map(|c| split(*c)).collect();
        let k = parts.iter().map(Vec::len).max().unwrap_or(0);
        let at = |f: usize, i: usize| parts.get(f).and_then(|v| v.get(i)).cloned().flatten();
        let person_names = (0..k)
            .map(|i| PersonName {
                family_kanji: at(0, i),
                given_kanji: at(1, i),
                family_kana: at(2, i),
                given_kana: at(3, i),
            })
            .collect();
        let address = Address {
            text: get(self.addr[0]).map(str::to_owned),
            postal_code: get(self.addr[1]).map(str::to_owned),
            municipality_code: get(self.addr[2]).map(str::to_owned),
        };
        let insurance = Insurance {
            insurer_number: get(self.card[0]).map(str::to_owned),
            symbol: get(self.card[1]).map(str::to_owned),
            number: get(self.card[2]).map(str::to_owned),
            branch: get(self.card[3]).map(str::to_owned),
        };
        let identity = IdentityAttributes {
            patient_id: None,
            names: person_names,
            birth_date: get(self.dob).and_then(|d| wareki::parse_date(d).ok()),
            sex: get(self.sex).map_or(Sex::Unknown, parse_sex),
            addresses: if address == Address::default() {
                Vec::new()
            } else {
                vec![address]
            },
            insurances: if insurance.insurer_number.is_none() && insurance.number.is_none() {
                Vec::new()
            } else {
                vec![insurance]
            },
            deceased_on: None,
        };
        let n = self.n;
        let input = &self.input;
        table
            .ids
            .push(get(self.id).map_or_else(|| format!("{input}:{n}"), str::to_owned));
        table.records.push(LinkRecord {
            source: get(self.source).map_or_else(|| input.clone(), str::to_owned),
            source_id: get(self.source_id).map(str::to_owned),
            source_unique: get(self.source_unique).and_then(|v| match v {
                "1" | "true" | "yes" | "y" => Some(true),
                "0" | "false" | "no" | "n" => Some(false),
                _ => None,
            }),
            identity,
            extras: self
                .extras
                .iter()
                .map(|c| get(*c).map(str::to_owned))
                .collect(),
            dataset: table.inputs,
        });
    }

    /// Ends the input: the next one is another dataset.
    pub fn finish(self, table: &mut Table) {
        table.inputs += 1;
    }
}

/// Reads a CSV (UTF-8, header row) named `input` into `table`.
///
/// # Errors
/// [`TableError`] for a missing column or a malformed CSV (naming the record).
pub fn read_csv(
    cfg: &TableConfig,
    input: &str,
    reader: impl Read,
    table: &mut Table,
) -> Result<(), TableError> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(reader);
    let header = csv
        .headers()
        .map_err(|e| TableError::Csv {
            input: input.to_owned(),
            record: 0,
            reason: e.to_string(),
        })?
        .clone();
    let names: Vec<&str> = header.iter().collect();
    let mut rows = TableRows::new(cfg, input, &names)?;
    let mut row = csv::StringRecord::new();
    let mut n = 0u64;
    loop {
        match csv.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(TableError::Csv {
                    input: input.to_owned(),
                    record: n + 1,
                    reason: match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => {
                            format!("{len} fields where the header has {expected_len}")
                        }
                        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
                        _ => "unreadable record".to_owned(),
                    },
                });
            }
        }
        n += 1;
        rows.push(&|c| row.get(c), table);
    }
    rows.finish(table);
    Ok(())
}

/// Reads a term-frequency table (`field,value,share` with a header) named `input`.
///
/// # Errors
/// [`TableError::Csv`] naming the record of a malformed row or an unknown field.
pub fn read_term_frequencies(
    input: &str,
    reader: impl Read,
) -> Result<crate::linkage::TermFrequencies, TableError> {
    let mut out = crate::linkage::TermFrequencies::default();
    let mut csv = csv::Reader::from_reader(reader);
    for (n, row) in csv.records().enumerate() {
        let bad = |reason: String| TableError::Csv {
            input: input.to_owned(),
            record: n as u64 + 1,
            reason,
        };
        let row = row.map_err(|e| bad(e.to_string()))?;
        let (Some(field), Some(value), Some(share)) = (row.get(0), row.get(1), row.get(2)) else {
            return Err(bad("needs field,value,share".to_owned()));
        };
        let share: f64 = share
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| (0.0..=1.0).contains(s))
            .ok_or_else(|| bad("share is not a number in [0, 1]".to_owned()))?;
        let (k, value) = match field.trim() {
            "family_kanji" => (0, crate::normalize::kanji(value)),
            "given_kanji" => (1, crate::normalize::kanji(value)),
            "family_kana" => (2, crate::normalize::kana(value)),
            "given_kana" => (3, crate::normalize::kana(value)),
            _ => {
                return Err(bad(
                    "field is family_kanji, given_kanji, family_kana or given_kana".to_owned(),
                ));
            }
        };
        if let Some(m) = out.shares.get_mut(k) {
            m.insert(value, share);
        }
    }
    Ok(out)
}
