//! The person table: its quasi-identifiers and their hierarchies (sex, age with 90+, region,
//! death and event-derived years, one row per person, so classes are counted in persons),
//! searched for 匿名加工 or laid out for 仮名加工.

use std::collections::BTreeMap;

use chrono::Datelike;
use tsumugi_model::Date;
use tsumugi_store::PersonRow;

use super::{LifecourseConfig, QuasiLevel, RegionDetail, month};
use crate::builders::Builder;
use crate::hierarchy::{Hierarchy, HierarchyError};
use crate::metric::{InfoLoss, Metric};
use crate::population::japan_population_2020;
use crate::privacy::Criterion;
use crate::quasi::{Policy, QuasiTable, Strategy};
use crate::risk::Risk;
use crate::search::SearchStats;
use crate::table::Column;
use crate::{Error, Result};

/// Ages at or above this are one value, `90+`, at every level.
pub(crate) const TOP_AGE: u32 = 90;

/// A column of per-person values with its hierarchy.
pub(crate) struct QuasiColumn {
    pub column: Column,
    pub hierarchy: Hierarchy,
    /// What each level means, finest first (for the codebook and the report).
    pub level_names: &'static [&'static str],
}

/// Dictionary-encodes one value per person.
fn encode(name: &str, values: Vec<String>) -> Column {
    let mut dict: BTreeMap<String, u32> = BTreeMap::new();
    for v in &values {
        let n = dict.len() as u32;
        dict.entry(v.clone()).or_insert(n);
    }
    let mut distinct = vec![String::new(); dict.len()];
    for (v, &i) in &dict {
        distinct[i as usize] = v.clone();
    }
    let codes = values.iter().map(|v| dict[v]).collect();
    Column {
        name: name.to_owned(),
        values: distinct,
        codes,
    }
}

/// Builds the hierarchy of a column from each distinct value's path (`*` appended).
fn tree(column: &Column, path: impl Fn(&str) -> Vec<String>) -> Result<Hierarchy, HierarchyError> {
    let rows: Vec<Vec<String>> = column
        .values
        .iter()
        .map(|v| {
            let mut row = vec![v.clone()];
            row.extend(path(v));
            row.push("*".to_owned());
            row
        })
        .collect();
    Hierarchy::from_rows(&rows)
}

/// Age in whole years on `on` of a person born in `birth_month` (the birthday taken as the
/// 1st of the month, so the age is never overstated by more than a month's days), as released
/// at the finest level: the number, or `90+`.
pub(crate) fn age_value(birth_month: Date, on: Date) -> String {
    let mut age = on.year() - birth_month.year();
    if (on.month(), on.day()) < (birth_month.month(), 1) {
        age -= 1;
    }
    let age = age.max(0) as u32;
    if age >= TOP_AGE {
        format!("{TOP_AGE}+")
    } else {
        age.to_string()
    }
}

/// The quasi-identifiers of `persons`: sex, age on `on`, region, death month, and per
/// event-derived attribute its value per person (`first_years[j][i]`, a year or empty).
pub(crate) fn person_quasi(
    persons: &[PersonRow],
    on: Date,
    first_years: &[(String, Vec<Option<i32>>)],
) -> Result<Vec<QuasiColumn>, HierarchyError> {
    let mut out = Vec::new();
    let sex = encode(
        "sex",
        persons.iter().map(|p| p.sex.code().to_owned()).collect(),
    );
    let hierarchy = tree(&sex, |_| Vec::new())?;
    out.push(QuasiColumn {
        column: sex,
        hierarchy,
        level_names: &["sex 性別", "suppressed 非表示"],
    });

    let age = encode(
        "age",
        persons
            .iter()
            .map(|p| age_value(p.birth_month, on))
            .collect(),
    );
    let hierarchy = tree(&age, |v| match v.parse::<u32>() {
        Ok(a) => {
            let (five, ten) = (a / 5 * 5, a / 10 * 10);
            vec![format!("{five}-{}", five + 4), format!("{ten}-{}", ten + 9)]
        }
        Err(_) => vec![v.to_owned(), v.to_owned()],
    })?;
    out.push(QuasiColumn {
        column: age,
        hierarchy,
        level_names: &[
            "years, 90+ top-coded 歳",
            "5-year band 5歳階級",
            "10-year band 10歳階級",
            "suppressed 非表示",
        ],
    });

    let region = encode(
        "region",
        persons
            .iter()
            .map(|p| p.municipality_code.clone().unwrap_or_default())
            .collect(),
    );
    let hierarchy = tree(&region, |v| {
        Builder::Municipality
            .levels(v)
            .unwrap_or_else(|_| vec!["unknown".to_owned(), "unknown".to_owned()])
    })?;
    out.push(QuasiColumn {
        column: region,
        hierarchy,
        level_names: &[
            "municipality 市区町村",
            "prefecture 都道府県",
            "region 地方",
            "suppressed 非表示",
        ],
    });

    let death = encode(
        "death",
        persons
            .iter()
            .map(|p| p.deceased_on.map(month).unwrap_or_default())
            .collect(),
    );
    let hierarchy = tree(&death, |v| {
        if v.is_empty() {
            vec!["".to_owned(), "".to_owned()]
        } else {
            vec![v[..4].to_owned(), "deceased".to_owned()]
        }
    })?;
    out.push(QuasiColumn {
        column: death,
        hierarchy,
        level_names: &[
            "month of death 死亡年月",
            "year of death 死亡年",
            "deceased or not 死亡の有無",
            "suppressed 非表示",
        ],
    });

    for (name, years) in first_years {
        let col = encode(
            name,
            years
                .iter()
                .map(|y| y.map(|y| y.to_string()).unwrap_or_default())
                .collect(),
        );
        let hierarchy = tree(&col, |v| match v.parse::<i32>() {
            Ok(y) => {
                let lo = y.div_euclid(5) * 5;
                vec![format!("{lo}-{}", lo + 4), "yes".to_owned()]
            }
            Err(_) => vec!["".to_owned(), "no".to_owned()],
        })?;
        out.push(QuasiColumn {
            column: col,
            hierarchy,
            level_names: &[
                "year 年",
                "5-year period 5年区間",
                "yes or no 有無",
                "suppressed 非表示",
            ],
        });
    }
    Ok(out)
}

/// The person table's released values: per considered person, `None` when suppressed.
pub(super) struct PersonsOut {
    pub header: Vec<String>,
    pub rows: Vec<Option<Vec<String>>>,
    pub levels: Vec<QuasiLevel>,
    pub loss: Option<InfoLoss>,
    pub search: Option<SearchStats>,
    pub suppressed: u64,
    pub risk_before: Risk,
}

pub(super) fn anonymize_persons(
    persons: &[PersonRow],
    cfg: &LifecourseConfig,
    k: u32,
    suppression_limit: f64,
    metric: Metric,
    first_years: &[(String, Vec<Option<i32>>)],
) -> Result<PersonsOut> {
    let quasi: Vec<QuasiColumn> =
        person_quasi(persons, cfg.reference_date, first_years).map_err(|source| {
            Error::Hierarchy {
                context: "person quasi-identifiers".into(),
                source,
            }
        })?;
    let bound: Vec<_> = quasi.iter().map(|q| (&q.column, &q.hierarchy)).collect();
    let qt = QuasiTable::new(&bound, None)?;
    let policy = Policy {
        criteria: vec![Criterion::KAnonymity { k }],
        suppression_limit,
        metric,
        strategy: Strategy::Optimal,
    };
    let result = qt.search(&policy)?;
    let Some(best) = result.optimum else {
        return Err(Error::NoSolution {
            checked: result.stats.nodes_checked,
        });
    };
    let rows = qt
        .apply(&policy, &best.levels)?
        .into_iter()
        .map(|r| r.map(|v| v.into_iter().map(str::to_owned).collect()))
        .collect();
    let levels = quasi
        .iter()
        .zip(&best.levels)
        .map(|(q, &l)| QuasiLevel {
            name: q.column.name.clone(),
            level: l,
            max_level: (q.hierarchy.height() - 1) as u8,
            meaning: q
                .level_names
                .get(usize::from(l))
                .copied()
                .unwrap_or("")
                .to_owned(),
        })
        .collect();
    Ok(PersonsOut {
        header: quasi.iter().map(|q| q.column.name.clone()).collect(),
        rows,
        levels,
        loss: Some(best.loss),
        suppressed: best.suppressed_rows,
        search: Some(result.stats),
        risk_before: Risk::against_population(
            &qt.tuple_sizes().collect::<Vec<_>>(),
            None,
            Some(japan_population_2020()),
        )?,
    })
}

pub(super) fn pseudonymize_persons(
    persons: &[PersonRow],
    region: RegionDetail,
) -> Result<PersonsOut> {
    let rows: Vec<Option<Vec<String>>> = persons
        .iter()
        .map(|p| {
            let muni = p.municipality_code.clone().unwrap_or_default();
            let region = match region {
                RegionDetail::Municipality => muni,
                RegionDetail::Prefecture => muni.chars().take(2).collect(),
            };
            Some(vec![
                p.sex.code().to_owned(),
                month(p.birth_month),
                region,
                p.deceased_on.map(|d| d.to_string()).unwrap_or_default(),
            ])
        })
        .collect();
    let sizes: Vec<u64> = class_sizes(&rows).into_values().collect();
    let risk_before = Risk::against_population(&sizes, None, Some(japan_population_2020()))?;
    Ok(PersonsOut {
        header: ["sex", "birth_month", "region", "death_date"]
            .map(str::to_owned)
            .to_vec(),
        rows,
        levels: Vec::new(),
        loss: None,
        search: None,
        suppressed: 0,
        risk_before,
    })
}

pub(super) fn class_sizes(rows: &[Option<Vec<String>>]) -> BTreeMap<&[String], u64> {
    let mut sizes: BTreeMap<&[String], u64> = BTreeMap::new();
    for r in rows.iter().flatten() {
        *sizes.entry(r.as_slice()).or_default() += 1;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsumugi_model::Sex;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn path(q: &QuasiColumn, row: usize) -> Vec<String> {
        let h = &q.hierarchy;
        let leaf = h.leaf(q.column.get(row)).unwrap();
        (0..h.height())
            .map(|l| h.label(l, h.generalize(l, leaf)).to_owned())
            .collect()
    }

    #[test]
    fn quasi_identifiers_generalize_as_documented() {
        let persons = [
            PersonRow {
                person_key: 1,
                sex: Sex::Female,
                birth_month: d("1980-06-01"),
                municipality_code: Some("131016".into()),
                deceased_on: Some(d("2024-03-09")),
            },
            PersonRow {
                person_key: 2,
                sex: Sex::Male,
                birth_month: d("1920-01-01"),
                municipality_code: None,
                deceased_on: None,
            },
        ];
        let years = vec![("first_e11".to_owned(), vec![Some(2019), None])];
        let q = person_quasi(&persons, d("2026-05-31"), &years).unwrap();
        assert_eq!(path(&q[1], 0), ["45", "45-49", "40-49", "*"]);
        assert_eq!(
            path(&q[1], 1),
            ["90+", "90+", "90+", "*"],
            "ages capped at 90+"
        );
        assert_eq!(path(&q[2], 0), ["131016", "13", "関東", "*"]);
        assert_eq!(path(&q[2], 1), ["", "unknown", "unknown", "*"]);
        assert_eq!(path(&q[3], 0), ["2024-03", "2024", "deceased", "*"]);
        assert_eq!(path(&q[3], 1), ["", "", "", "*"]);
        assert_eq!(path(&q[4], 0), ["2019", "2015-2019", "yes", "*"]);
        assert_eq!(path(&q[4], 1), ["", "", "no", "*"]);
        assert_eq!(age_value(d("1981-06-01"), d("2026-05-31")), "44");
    }
}
