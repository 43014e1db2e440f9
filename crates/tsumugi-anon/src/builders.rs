//! Hierarchies built from a column's values instead of read from a file.
//!
//! - **intervals**: numbers into nested intervals (`[40, 45)`, `[40, 50)`), with top and
//!   bottom coding (`≥90`, `<20`);
//! - **age**: the Japanese convention — 5-year bands, 10-year bands, `90+`;
//! - **dates**: ISO dates to month, quarter, year and decade;
//! - **mask**: characters replaced by `*` from the right, one step per level (郵便番号: the
//!   hyphen is dropped first, so `100-0001` and `1000001` are one value);
//! - **municipality**: 6-digit 全国地方公共団体コード → 都道府県 → 地方 (`data/regions.csv`);
//!   二次医療圏 is not included: no public table of it could be obtained here (see
//!   `data/README.md`);
//! - **icd10**: a code → its 3 characters → its block → its chapter (`data/icd10_blocks.csv`,
//!   WHO ICD-10 2019);
//! - **yj**: a 12-character YJ code (個別医薬品コード) → its first 7 characters (成分: the
//!   薬効分類 and the route and ingredient) → 4 (薬効分類番号) → 3 → 1 (大分類: 1 神経系及び
//!   感覚器官用, 2 個々の器官系用, 3 代謝性, …); the structure is the code's own, so no table
//!   is needed (the class *names* are not shipped: see `data/README.md`);
//! - **jlac10**: a 17-character JLAC10 code (also 特定健診 item codes) → its 5-character
//!   analyte (分析物) → 2 → 1 (大分類: 1 一般, 2 血液学, 3 生化学, 4 内分泌, 5 免疫, …);
//! - **facility**: a 10-digit 医療機関コード (都道府県 2, 点数表 1, 郡市区 2, 番号 4, check 1)
//!   → its prefecture and 点数表 → its type (医科, 歯科, 調剤, 訪問看護);
//! - **ordering**: values in an order — a list given, or their natural order (numeric when
//!   every value is a number, else by text) — grouped into consecutive runs, `sizes[0]` values
//!   at level 1 and `sizes[i]` groups of level `i` at level `i + 1`, labelled `[first, last]`
//!   or `{a, b, c}` (ARX's `HierarchyBuilderOrderBased`; a level with one group left is `*`).
//!
//! Every builder ends at `*` and produces a tree (checked by [`Hierarchy::from_rows`]).

use serde::{Deserialize, Serialize};

use crate::hierarchy::{Hierarchy, HierarchyError};

const REGIONS_CSV: &str = include_str!("../../../data/regions.csv");
const ICD10_BLOCKS_CSV: &str = include_str!("../../../data/icd10_blocks.csv");

/// A hierarchy builder, as named in `anon.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "builder", rename_all = "snake_case", deny_unknown_fields)]
pub enum Builder {
    /// Nested intervals of the given widths (each a multiple of the one before), with
    /// optional top and bottom coding.
    Intervals {
        /// Interval widths, finest first.
        widths: Vec<f64>,
        /// Values at or above this become `≥top`.
        #[serde(default)]
        top: Option<f64>,
        /// Values below this become `<bottom`.
        #[serde(default)]
        bottom: Option<f64>,
    },
    /// Ages in 5- and 10-year bands, 90 and over as `90+`.
    Age,
    /// ISO dates (`YYYY-MM-DD`) to month, quarter, year and decade.
    Dates,
    /// Characters masked from the right, `steps` more at each level.
    Mask {
        /// Characters masked per level.
        #[serde(default = "one")]
        steps: usize,
    },
    /// Municipality codes to prefecture to region.
    Municipality,
    /// ICD-10 codes to 3 characters, block and chapter.
    Icd10,
    /// YJ drug codes to ingredient, 薬効分類 (4 and 3 digits) and 大分類.
    Yj,
    /// JLAC10 codes to analyte and its groups.
    Jlac10,
    /// 医療機関コード to prefecture and type, then type.
    Facility,
    /// Values in an order grouped into consecutive runs, `sizes[0]` values at level 1 and
    /// `sizes[i]` groups of level `i` at level `i + 1`, until one group is left (`*`).
    Ordering {
        /// Run length per level, lowest first (each at least 1).
        sizes: Vec<usize>,
        /// The order, which is also the domain: every value of the column must be in it.
        /// Without it, the column's values in natural order (numeric when every value is a
        /// number, else by text).
        #[serde(default)]
        order: Option<Vec<String>>,
        /// How a group is named (default: `[first, last]`).
        #[serde(default)]
        label: OrderLabel,
    },
}

/// How the ordering builder names a group of two or more values (one value keeps its own
/// text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderLabel {
    /// `[first, last]`: the run's first and last values.
    #[default]
    Range,
    /// `{a, b, c}`: every value of the run, in order (ARX's default).
    Set,
}

fn one() -> usize {
    1
}

/// Why a value cannot be placed by a builder.
fn bad(value: &str, why: &str) -> HierarchyError {
    HierarchyError::Read {
        path: format!("value {value:?}"),
        reason: why.to_owned(),
    }
}

impl Builder {
    /// Builds a hierarchy over `values` (the distinct values of a column).
    ///
    /// # Errors
    /// A value the builder cannot place (not a number, not a date, an unknown code), naming
    /// it.
    pub fn build<'a>(
        &self,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<Hierarchy, HierarchyError> {
        let values: Vec<&str> = values.into_iter().collect();
        if let Builder::Ordering {
            sizes,
            order,
            label,
        } = self
        {
            return ordering(&values, sizes, order.as_deref(), *label);
        }
        let mut rows = Vec::new();
        if let Builder::Mask { steps } = self {
            // One level per `steps` characters of the longest value (hyphens dropped).
            let steps = (*steps).max(1);
            let digits = |v: &str| -> Vec<char> { v.chars().filter(|c| *c != '-').collect() };
            let longest = values.iter().map(|v| digits(v).len()).max().unwrap_or(0);
            let levels = longest.saturating_sub(1).div_ceil(steps);
            for v in &values {
                let chars = digits(v);
                let mut row = vec![(*v).to_owned()];
                for k in 1..=levels {
                    let keep = chars.len().saturating_sub(k * steps);
                    let mut masked: String = chars[..keep].iter().collect();
                    masked.extend(std::iter::repeat_n('*', chars.len() - keep));
                    row.push(masked);
                }
                row.push("*".to_owned());
                rows.push(row);
            }
            return Hierarchy::from_rows(&rows);
        }
        for v in values {
            let mut row = vec![v.to_owned()];
            row.extend(self.levels(v)?);
            row.push("*".to_owned());
            rows.push(row);
        }
        Hierarchy::from_rows(&rows)
    }

    /// The generalized values of `v`, lowest level first, `*` excluded.
    pub(crate) fn levels(&self, v: &str) -> Result<Vec<String>, HierarchyError> {
        match self {
            Builder::Intervals {
                widths,
                top,
                bottom,
            } => {
                let x: f64 = v.trim().parse().map_err(|_| bad(v, "not a number"))?;
                if widths
                    .windows(2)
                    .any(|w| w[0] <= 0.0 || (w[1] / w[0]).fract() != 0.0)
                    || widths.first().is_some_and(|w| *w <= 0.0)
                {
                    return Err(bad(v, "interval widths must grow by whole multiples"));
                }
                Ok(widths
                    .iter()
                    .map(|w| match (top, bottom) {
                        (Some(t), _) if x >= *t => format!("≥{t}"),
                        (_, Some(b)) if x < *b => format!("<{b}"),
                        _ => {
                            let lo = (x / w).floor() * w;
                            format!("[{lo}, {})", lo + w)
                        }
                    })
                    .collect())
            }
            Builder::Age => {
                let a: u32 = v
                    .trim()
                    .parse()
                    .map_err(|_| bad(v, "not an age in years"))?;
                if a >= 90 {
                    return Ok(vec!["90+".into(), "90+".into()]);
                }
                let five = a / 5 * 5;
                let ten = a / 10 * 10;
                Ok(vec![
                    format!("{five}-{}", five + 4),
                    format!("{ten}-{}", ten + 9),
                ])
            }
            Builder::Dates => {
                let d = chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                    .map_err(|_| bad(v, "not a date (YYYY-MM-DD)"))?;
                use chrono::Datelike;
                let (y, m) = (d.year(), d.month());
                Ok(vec![
                    format!("{y}-{m:02}"),
                    format!("{y}-Q{}", (m - 1) / 3 + 1),
                    format!("{y}"),
                    format!("{}s", y.div_euclid(10) * 10),
                ])
            }
            Builder::Mask { .. } | Builder::Ordering { .. } => Ok(Vec::new()),
            Builder::Municipality => {
                let code = v.trim();
                if code.len() < 5 || !code.is_ascii() || !code.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(v, "not a 5- or 6-digit municipality code"));
                }
                let pref = &code[..2];
                let region = region_of(pref).ok_or_else(|| bad(v, "no such prefecture code"))?;
                Ok(vec![pref.to_owned(), region])
            }
            Builder::Icd10 => {
                let code: String = v
                    .trim()
                    .chars()
                    .filter(|c| *c != '.')
                    .collect::<String>()
                    .to_ascii_uppercase();
                let three: String = code.chars().take(3).collect();
                let (block, chapter) =
                    icd10_block(&three).ok_or_else(|| bad(v, "not an ICD-10 code in any block"))?;
                Ok(vec![three, block, format!("chapter {chapter}")])
            }
            Builder::Yj => prefixes(v, 12, &[7, 4, 3, 1], "not a 12-character YJ code"),
            Builder::Jlac10 => prefixes(v, 17, &[5, 2, 1], "not a 17-character JLAC10 code"),
            Builder::Facility => {
                let code = v.trim();
                if code.len() != 10 || !code.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(v, "not a 10-digit 医療機関コード"));
                }
                let kind = match &code[2..3] {
                    "1" => "医科",
                    "3" => "歯科",
                    "4" => "調剤",
                    "6" => "訪問看護",
                    _ => return Err(bad(v, "点数表 digit is not 1, 3, 4 or 6")),
                };
                Ok(vec![format!("{} {kind}", &code[..2]), kind.to_owned()])
            }
        }
    }
}

/// The leading `keep` characters of a code of `len` ASCII alphanumerics, one level per entry.
fn prefixes(v: &str, len: usize, keep: &[usize], why: &str) -> Result<Vec<String>, HierarchyError> {
    let code = v.trim();
    if code.len() != len || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad(v, why));
    }
    Ok(keep.iter().map(|&n| code[..n].to_owned()).collect())
}

/// The ordering builder: `values` (or `order`, the domain) in order, grouped into runs.
fn ordering(
    values: &[&str],
    sizes: &[usize],
    order: Option<&[String]>,
    label: OrderLabel,
) -> Result<Hierarchy, HierarchyError> {
    if sizes.contains(&0) {
        return Err(HierarchyError::Read {
            path: "builder \"ordering\"".into(),
            reason: format!("sizes {sizes:?}: every run holds at least one group"),
        });
    }
    let domain: Vec<&str> = match order {
        Some(order) => {
            let mut seen = std::collections::HashSet::new();
            if let Some(d) = order.iter().find(|v| !seen.insert(v.as_str())) {
                return Err(bad(d, "is twice in the builder's order"));
            }
            if let Some(v) = values.iter().find(|v| !seen.contains(**v)) {
                return Err(bad(v, "is not in the builder's order; add it"));
            }
            order.iter().map(String::as_str).collect()
        }
        None => {
            let mut d: Vec<&str> = values.to_vec();
            d.sort_unstable();
            d.dedup();
            let numbers: Option<Vec<f64>> = d
                .iter()
                .map(|v| v.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
                .collect();
            if let Some(numbers) = numbers {
                let mut keyed: Vec<(f64, &str)> = numbers.into_iter().zip(d).collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
                keyed.into_iter().map(|(_, v)| v).collect()
            } else {
                d
            }
        }
    };
    let name = |run: &[&str]| -> String {
        match (run, label) {
            ([one], _) => (*one).to_owned(),
            (_, OrderLabel::Range) => format!(
                "[{}, {}]",
                run.first().copied().unwrap_or_default(),
                run.last().copied().unwrap_or_default()
            ),
            (_, OrderLabel::Set) => format!("{{{}}}", run.join(", ")),
        }
    };
    let mut rows: Vec<Vec<String>> = domain.iter().map(|v| vec![(*v).to_owned()]).collect();
    // Values per group at the level being built.
    let mut span = 1usize;
    for &size in sizes {
        span = span.saturating_mul(size);
        if domain.len().div_ceil(span.max(1)) <= 1 {
            break;
        }
        for (i, row) in rows.iter_mut().enumerate() {
            let start = i / span * span;
            let end = (start + span).min(domain.len());
            row.push(name(&domain[start..end]));
        }
    }
    for row in &mut rows {
        row.push("*".to_owned());
    }
    Hierarchy::from_rows(&rows)
}

fn region_of(prefecture: &str) -> Option<String> {
    REGIONS_CSV.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        (f.first() == Some(&prefecture)).then(|| f.get(4).map(|r| (*r).to_owned()))?
    })
}

/// The top-level block (and its chapter) holding a 3-character code.
fn icd10_block(three: &str) -> Option<(String, String)> {
    let mut r = csv::Reader::from_reader(ICD10_BLOCKS_CSV.as_bytes());
    r.records().filter_map(Result::ok).find_map(|rec| {
        let (block, first, last, chapter, level) = (
            rec.get(0)?,
            rec.get(1)?,
            rec.get(2)?,
            rec.get(3)?,
            rec.get(4)?,
        );
        (level == "1" && first <= three && three <= last)
            .then(|| (block.to_owned(), chapter.to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(h: &Hierarchy, v: &str) -> Vec<String> {
        let leaf = h.leaf(v).unwrap();
        (0..h.height())
            .map(|l| h.label(l, h.generalize(l, leaf)).to_owned())
            .collect()
    }

    #[test]
    fn builds_japanese_hierarchies() {
        let h = Builder::Age.build(["42", "47", "93", "90"]).unwrap();
        assert_eq!(path(&h, "42"), ["42", "40-44", "40-49", "*"]);
        assert_eq!(path(&h, "93"), ["93", "90+", "90+", "*"]);
        let h = Builder::Municipality
            .build(["131016", "011002", "472018"])
            .unwrap();
        assert_eq!(path(&h, "131016"), ["131016", "13", "関東", "*"]);
        assert_eq!(path(&h, "472018"), ["472018", "47", "九州・沖縄", "*"]);
        let h = Builder::Icd10
            .build(["E11.9", "E78.5", "I10", "C16"])
            .unwrap();
        assert_eq!(
            path(&h, "E11.9"),
            ["E11.9", "E11", "E10-E14", "chapter 4", "*"]
        );
        assert_eq!(path(&h, "I10"), ["I10", "I10", "I10-I15", "chapter 9", "*"]);
        assert!(Builder::Icd10.build(["!!"]).is_err());
        let h = Builder::Yj.build(["3969007F1020", "3961007F1022"]).unwrap();
        assert_eq!(
            path(&h, "3969007F1020"),
            ["3969007F1020", "3969007", "3969", "396", "3", "*"]
        );
        let h = Builder::Jlac10.build(["3D010000001926101"]).unwrap();
        assert_eq!(
            path(&h, "3D010000001926101"),
            ["3D010000001926101", "3D010", "3D", "3", "*"]
        );
        assert!(Builder::Jlac10.build(["3D010"]).is_err());
        let h = Builder::Facility
            .build(["1314012345", "1344000017"])
            .unwrap();
        assert_eq!(
            path(&h, "1314012345"),
            ["1314012345", "13 医科", "医科", "*"]
        );
        assert_eq!(path(&h, "1344000017")[2], "調剤");
        assert!(Builder::Facility.build(["1394012345"]).is_err());
    }

    #[test]
    fn builds_intervals_dates_and_masks() {
        let b = Builder::Intervals {
            widths: vec![5.0, 10.0],
            top: Some(90.0),
            bottom: None,
        };
        let h = b.build(["42", "47.5", "95"]).unwrap();
        assert_eq!(path(&h, "47.5"), ["47.5", "[45, 50)", "[40, 50)", "*"]);
        assert_eq!(path(&h, "95"), ["95", "≥90", "≥90", "*"]);
        assert!(b.build(["x"]).is_err());
        let h = Builder::Dates.build(["2020-05-17", "2021-12-01"]).unwrap();
        assert_eq!(
            path(&h, "2020-05-17"),
            ["2020-05-17", "2020-05", "2020-Q2", "2020", "2020s", "*"]
        );
        let h = Builder::Mask { steps: 2 }
            .build(["100-0001", "1540024"])
            .unwrap();
        assert_eq!(path(&h, "100-0001")[1..3], ["10000**", "100****"]);
    }

    #[track_caller]
    fn check_ordering(builder: &str, values: &[&str], expect: &[(&str, &[&str])]) {
        let b: Builder = toml::from_str(builder).unwrap();
        let h = b.build(values.iter().copied()).unwrap();
        for (v, levels) in expect {
            assert_eq!(path(&h, v), *levels, "{v}");
        }
        assert_eq!(h.width(h.height() - 1), 1, "ends at *");
    }

    #[test]
    fn ordering_groups_consecutive_runs() {
        // Natural order is numeric: 9 before 10, though "10" < "9" as text.
        let values = ["10", "9", "1", "2", "3", "4", "5", "6", "7", "8"];
        check_ordering(
            "builder = \"ordering\"\nsizes = [3, 2]",
            &values,
            &[
                ("1", &["1", "[1, 3]", "[1, 6]", "*"]),
                ("9", &["9", "[7, 9]", "[7, 10]", "*"]),
                ("10", &["10", "10", "[7, 10]", "*"]),
            ],
        );
        // A level that would hold one group is the top.
        check_ordering(
            "builder = \"ordering\"\nsizes = [5, 2, 4]",
            &values,
            &[("4", &["4", "[1, 5]", "*"])],
        );
        // An explicit order is the domain, values absent from the column included; set labels.
        check_ordering(
            "builder = \"ordering\"\nsizes = [2]\nlabel = \"set\"\norder = [\"低\", \"中\", \"高\", \"最高\"]",
            &["高", "低"],
            &[
                ("低", &["低", "{低, 中}", "*"]),
                ("高", &["高", "{高, 最高}", "*"]),
            ],
        );
        // Text order when a value is not a number.
        check_ordering(
            "builder = \"ordering\"\nsizes = [2]",
            &["b", "a", "10", "c"],
            &[
                ("10", &["10", "[10, a]", "*"]),
                ("c", &["c", "[b, c]", "*"]),
            ],
        );
    }

    #[test]
    fn ordering_refuses_what_it_cannot_place() {
        let b = |text: &str| -> Builder { toml::from_str(text).unwrap() };
        let e = b("builder = \"ordering\"\nsizes = [2]\norder = [\"a\", \"b\"]")
            .build(["a", "c"])
            .unwrap_err();
        assert!(
            e.to_string().contains("\"c\"") && e.to_string().contains("not in"),
            "{e}"
        );
        let e = b("builder = \"ordering\"\nsizes = [2]\norder = [\"a\", \"a\"]")
            .build(["a"])
            .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        let e = b("builder = \"ordering\"\nsizes = [0]")
            .build(["a"])
            .unwrap_err();
        assert!(e.to_string().contains("at least one"), "{e}");
        assert!(
            toml::from_str::<Builder>("builder = \"ordering\"\nsizes = [2]\nlabels = \"set\"")
                .is_err()
        );
    }
}
