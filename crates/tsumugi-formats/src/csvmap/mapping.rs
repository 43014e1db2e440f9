//! The TOML mapping of a municipal CSV export.

use serde::Deserialize;
use tsumugi_model::{CodeSystem, Date, EventKind, wareki};

use crate::csvmap::error::MappingError;

/// The text encoding of the CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum CsvEncoding {
    /// UTF-8 (a leading BOM is skipped).
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// CP932 (Windows Shift_JIS).
    #[serde(rename = "cp932", alias = "shift_jis", alias = "sjis")]
    Cp932,
}

/// Which columns hold identity attributes (all optional).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityColumns {
    /// The municipality's person number (宛名番号 …).
    pub patient_id: Option<String>,
    /// 氏 in kanji.
    pub family_kanji: Option<String>,
    /// 名 in kanji.
    pub given_kanji: Option<String>,
    /// 氏 in kana.
    pub family_kana: Option<String>,
    /// 名 in kana.
    pub given_kana: Option<String>,
    /// 生年月日.
    pub birth_date: Option<String>,
    /// 性別 (mapped by [`Mapping::sex_codes`]).
    pub sex: Option<String>,
    /// 住所.
    pub address: Option<String>,
    /// 郵便番号.
    pub postal_code: Option<String>,
    /// 全国地方公共団体コード.
    pub municipality_code: Option<String>,
}

/// One event made from each row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventColumns {
    /// The event kind by its stable name (`pregnancy_checkup`, `infant_checkup`, `immunization`,
    /// `death` …).
    pub kind: String,
    /// The date column; a row whose cell is empty makes no event of this entry.
    pub date: String,
    /// The code column.
    pub code: Option<String>,
    /// A fixed code for every event of this entry (instead of a code column).
    pub fixed_code: Option<String>,
    /// The code system by its stable name (`vaccine`, `jlac10` …; other names are kept as is).
    pub code_system: Option<String>,
    /// The numeric value column.
    pub value: Option<String>,
    /// A fixed unit of the value.
    pub unit: Option<String>,
    /// The unit column (wins over `unit` when its cell is not empty).
    pub unit_column: Option<String>,
}

/// How sex cells map to sex; compared after trimming.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SexCodes {
    /// Cells meaning male.
    pub male: Vec<String>,
    /// Cells meaning female.
    pub female: Vec<String>,
}

/// A mapping from a municipal CSV export to identity attributes and events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The text encoding.
    pub encoding: CsvEncoding,
    /// The field delimiter, one ASCII character (`","` when absent).
    #[serde(default = "comma")]
    pub delimiter: String,
    /// Whether the first line is a header (column names refer to it).
    pub header: bool,
    /// Accepted date formats, tried in order: chrono patterns or `wareki`.
    pub date_formats: Vec<String>,
    /// Sex codes (`1`/`M`/`男`/`男性` and `2`/`F`/`女`/`女性` when absent).
    pub sex_codes: Option<SexCodes>,
    /// Identity columns.
    pub identity: IdentityColumns,
    /// Event columns.
    #[serde(default)]
    pub events: Vec<EventColumns>,
}

fn comma() -> String {
    ",".to_owned()
}

impl Mapping {
    /// Parses and checks a TOML mapping.
    ///
    /// # Errors
    /// [`MappingError`] naming the setting at fault.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingError> {
        let m: Mapping =
            toml::from_str(text).map_err(|e| MappingError::InvalidToml(e.message().to_owned()))?;
        m.delimiter_byte()?;
        if m.date_formats.is_empty() {
            return Err(MappingError::NoDateFormat);
        }
        for (i, e) in m.events.iter().enumerate() {
            if EventKind::parse(&e.kind).is_none() {
                return Err(MappingError::InvalidKind(i));
            }
            let has_code = e.code.is_some() || e.fixed_code.is_some();
            if has_code != e.code_system.is_some() {
                return Err(MappingError::CodeSystem(i));
            }
        }
        for c in m.columns() {
            if let Some(n) = c.strip_prefix('#')
                && n.parse::<usize>().ok().filter(|n| *n >= 1).is_none()
            {
                return Err(MappingError::InvalidColumn);
            }
        }
        Ok(m)
    }

    /// The delimiter as a byte.
    pub(crate) fn delimiter_byte(&self) -> Result<u8, MappingError> {
        match self.delimiter.as_bytes() {
            [b] if b.is_ascii() && !b"\"\r\n".contains(b) => Ok(*b),
            _ => Err(MappingError::InvalidDelimiter),
        }
    }

    /// Every column the mapping names.
    pub(crate) fn columns(&self) -> Vec<&str> {
        let i = &self.identity;
        let mut out: Vec<&str> = [
            &i.patient_id,
            &i.family_kanji,
            &i.given_kanji,
            &i.family_kana,
            &i.given_kana,
            &i.birth_date,
            &i.sex,
            &i.address,
            &i.postal_code,
            &i.municipality_code,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
        for e in &self.events {
            out.push(&e.date);
            out.extend(
                [&e.code, &e.value, &e.unit_column]
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            );
        }
        out
    }

    /// Parses `s` with the first date format that accepts it.
    pub(crate) fn parse_date(&self, s: &str) -> Option<Date> {
        let s = s.trim();
        self.date_formats.iter().find_map(|f| {
            if f == "wareki" {
                wareki::parse_date(s).ok()
            } else {
                Date::parse_from_str(s, f).ok()
            }
        })
    }

    /// The code system of event entry `e`.
    pub(crate) fn code_system(e: &EventColumns) -> Option<CodeSystem> {
        e.code_system.as_deref().map(CodeSystem::parse)
    }
}
