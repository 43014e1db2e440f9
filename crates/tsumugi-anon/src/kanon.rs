//! k-anonymity over persons on sex × age band × region, by municipality → prefecture
//! coarsening and then suppression.

use std::collections::BTreeMap;

use chrono::Datelike;
use tsumugi_model::Date;

/// One person's quasi-identifiers before generalization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuasiRow {
    /// `M`, `F` or `U`.
    pub sex: String,
    /// Age band label, e.g. `40-44` or `90+` (see [`age_band`]).
    pub age_band: String,
    /// 6-digit municipality code, or empty when unknown.
    pub municipality: String,
}

/// What happens to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generalized {
    /// Released with this region: the municipality code, or the 2-digit prefecture code when
    /// coarsened.
    Region(String),
    /// Not released.
    Suppressed,
}

/// The outcome of [`k_anonymize`], aligned with its input rows.
#[derive(Debug, Clone)]
pub struct KAnonymity {
    /// Per input row.
    pub rows: Vec<Generalized>,
    /// Rows whose municipality was coarsened to its prefecture.
    pub n_coarsened: usize,
    /// Rows suppressed.
    pub n_suppressed: usize,
    class_sizes: BTreeMap<String, usize>,
}

impl KAnonymity {
    /// Released equivalence classes (sex, age band, region) with their sizes in persons.
    pub fn classes_of<'a>(
        &self,
        input: &'a [QuasiRow],
    ) -> BTreeMap<(&'a str, &'a str, String), usize> {
        let mut out = BTreeMap::new();
        for (q, g) in input.iter().zip(&self.rows) {
            if let Generalized::Region(r) = g {
                *out.entry((q.sex.as_str(), q.age_band.as_str(), r.clone()))
                    .or_insert(0) += 1;
            }
        }
        out
    }

    /// Class sizes keyed by `sex|age band|region` (for reports and doc examples).
    pub fn classes(&self) -> BTreeMap<String, usize> {
        self.class_sizes.clone()
    }
}

/// The age band of a person born in `birth_month` on `on`: `width`-year bands, top-coded at
/// `top` (`90+`).
pub fn age_band(birth_month: Date, on: Date, width: u32, top: u32) -> String {
    // Born in month m of year y: the birthday is taken as the 1st of that month, so the age is
    // never overstated by more than the days of one month.
    let mut age = on.year() - birth_month.year();
    if (on.month(), on.day()) < (birth_month.month(), 1) {
        age -= 1;
    }
    let age = age.max(0) as u32;
    if age >= top {
        return format!("{top}+");
    }
    let lo = age / width * width;
    format!("{lo}-{}", lo + width - 1)
}

/// The 8 地方 (regional blocks) by prefecture code, as used by government statistics:
/// 北海道 01; 東北 02–07; 関東 08–14; 中部 15–23; 近畿 24–30; 中国 31–35; 四国 36–39;
/// 九州・沖縄 40–47.
fn block(prefecture: &str) -> Option<&'static str> {
    let p: u32 = prefecture.parse().ok()?;
    Some(match p {
        1 => "R1",
        2..=7 => "R2",
        8..=14 => "R3",
        15..=23 => "R4",
        24..=30 => "R5",
        31..=35 => "R6",
        36..=39 => "R7",
        40..=47 => "R8",
        _ => return None,
    })
}

/// The region hierarchy of a municipality, finest first: 市区町村 (6 digits) → 都道府県
/// (2 digits) → 地方 (`R1`–`R8`) → 全国 (`JP`). Codes of different levels never coincide.
/// An unknown municipality starts at `JP`.
pub fn region_levels(municipality: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(4);
    let valid = municipality.len() == 6 && municipality.chars().all(|c| c.is_ascii_digit());
    if valid {
        let pref = &municipality[..2];
        if let Some(b) = block(pref) {
            out.push(municipality.to_owned());
            out.push(pref.to_owned());
            out.push(b.to_owned());
        }
    }
    out.push("JP".to_owned());
    out
}

/// Makes `rows` k-anonymous on (sex, age band, region).
///
/// # Guarantee
/// Precondition: one row per person. Postcondition: every class of released rows (same sex,
/// age band and region code) holds at least `k` rows, i.e. at least `k` persons (`k` is taken
/// as at least 1). Each row starts at its municipality; rows whose class at the current level is
/// smaller than `k` (counted among the rows still at that level) move up one level of
/// [`region_levels`]; rows still in a class smaller than `k` at `JP` are suppressed. See
/// `docs/guarantees/k_anonymize.md`.
pub fn k_anonymize(rows: &[QuasiRow], k: u32) -> KAnonymity {
    let k = k.max(1) as usize;
    let paths: Vec<Vec<String>> = rows
        .iter()
        .map(|q| region_levels(&q.municipality))
        .collect();
    let mut level: Vec<usize> = vec![0; rows.len()];
    let mut settled: Vec<Option<Generalized>> = vec![None; rows.len()];
    for depth in 0..4 {
        let mut counts: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
        for (i, q) in rows.iter().enumerate() {
            if settled[i].is_none() && paths[i].len() > depth {
                level[i] = depth;
                *counts
                    .entry((&q.sex, &q.age_band, &paths[i][depth]))
                    .or_insert(0) += 1;
            }
        }
        for (i, q) in rows.iter().enumerate() {
            if settled[i].is_some() || paths[i].len() <= depth {
                continue;
            }
            let key = (
                q.sex.as_str(),
                q.age_band.as_str(),
                paths[i][depth].as_str(),
            );
            if counts.get(&key).copied().unwrap_or(0) >= k {
                settled[i] = Some(Generalized::Region(paths[i][depth].clone()));
            } else if depth + 1 == paths[i].len() {
                settled[i] = Some(Generalized::Suppressed);
            }
        }
    }
    let out: Vec<Generalized> = settled
        .into_iter()
        .map(|g| g.unwrap_or(Generalized::Suppressed))
        .collect();
    let n_suppressed = out
        .iter()
        .filter(|g| **g == Generalized::Suppressed)
        .count();
    let n_coarsened = out
        .iter()
        .zip(&level)
        .filter(|(g, l)| matches!(g, Generalized::Region(_)) && **l > 0)
        .count();
    let mut res = KAnonymity {
        rows: out,
        n_coarsened,
        n_suppressed,
        class_sizes: BTreeMap::new(),
    };
    res.class_sizes = res
        .classes_of(rows)
        .into_iter()
        .map(|((s, a, r), n)| (format!("{s}|{a}|{r}"), n))
        .collect();
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn age_bands() {
        assert_eq!(age_band(d("1980-02-01"), d("2026-01-31"), 5, 90), "45-49");
        assert_eq!(age_band(d("1980-02-01"), d("2026-02-01"), 5, 90), "45-49");
        assert_eq!(age_band(d("1981-02-01"), d("2026-02-01"), 5, 90), "45-49");
        assert_eq!(age_band(d("1981-03-01"), d("2026-02-01"), 5, 90), "40-44");
        assert_eq!(age_band(d("1930-01-01"), d("2026-02-01"), 5, 90), "90+");
        assert_eq!(age_band(d("2026-01-01"), d("2026-02-01"), 5, 90), "0-4");
    }

    fn row(sex: &str, band: &str, muni: &str) -> QuasiRow {
        QuasiRow {
            sex: sex.into(),
            age_band: band.into(),
            municipality: muni.into(),
        }
    }

    #[test]
    fn coarsens_then_suppresses() {
        let mut rows: Vec<QuasiRow> = (0..5).map(|_| row("F", "40-44", "131016")).collect();
        rows.extend((0..3).map(|_| row("F", "40-44", "131024")));
        rows.extend((0..2).map(|_| row("F", "40-44", "131032")));
        rows.extend((0..3).map(|_| row("F", "40-44", "141003")));
        rows.extend((0..2).map(|_| row("F", "40-44", "111007")));
        rows.push(row("M", "90+", "011002"));
        let out = k_anonymize(&rows, 5);
        assert_eq!(out.rows[0], Generalized::Region("131016".into()));
        assert_eq!(
            out.rows[5],
            Generalized::Region("13".into()),
            "3+2 in 東京都"
        );
        assert_eq!(
            out.rows[10],
            Generalized::Region("R3".into()),
            "3 in 神奈川 + 2 in 埼玉 → 関東"
        );
        assert_eq!(out.rows[15], Generalized::Suppressed, "alone even in 全国");
        assert_eq!((out.n_coarsened, out.n_suppressed), (10, 1));
    }

    fn arb_rows() -> impl Strategy<Value = Vec<QuasiRow>> {
        let row = (
            prop::sample::select(vec!["M", "F", "U"]),
            prop::sample::select(vec!["0-4", "40-44", "85-89", "90+"]),
            prop::sample::select(vec!["131016", "131024", "011002", "271004", "272019", ""]),
        )
            .prop_map(|(s, a, m)| row(s, a, m));
        prop::collection::vec(row, 0..300)
    }

    proptest! {
        #[test]
        fn every_released_class_has_at_least_k_persons(rows in arb_rows(), k in 1u32..12) {
            let out = k_anonymize(&rows, k);
            for ((_, _, region), n) in out.classes_of(&rows) {
                prop_assert!(n >= k as usize, "class with region {region} has {n} < {k}");
            }
            let released = out.rows.iter().filter(|g| matches!(g, Generalized::Region(_))).count();
            prop_assert_eq!(released + out.n_suppressed, rows.len());
        }
    }
}
