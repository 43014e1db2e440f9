//! Deterministic randomness helpers: per-person RNG derivation, weighted choice, normal draws,
//! and total (never panicking) date arithmetic.

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// SplitMix64 finalizer: a bijective 64-bit mixer.
pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes a seed with a list of integers (person index, stream number …).
pub(crate) fn mix(seed: u64, parts: &[u64]) -> u64 {
    let mut h = splitmix(seed);
    for p in parts {
        h = splitmix(h ^ splitmix(*p));
    }
    h
}

/// A fresh RNG for one stream, e.g. one person: `rng_for(seed, &[stream, idx])`.
pub(crate) fn rng_for(seed: u64, parts: &[u64]) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(seed, parts))
}

/// Cumulative weights for O(log n) weighted choice.
#[derive(Debug, Clone)]
pub(crate) struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    /// Builds the table; non-finite or negative weights count as zero.
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut acc = 0.0;
        let cum = weights
            .into_iter()
            .map(|w| {
                if w.is_finite() && w > 0.0 {
                    acc += w;
                }
                acc
            })
            .collect();
        Weighted { cum }
    }

    /// The weight of entry `i` (0 when out of range).
    pub(crate) fn weight(&self, i: usize) -> f64 {
        let hi = self.cum.get(i).copied().unwrap_or(0.0);
        let lo = i
            .checked_sub(1)
            .and_then(|j| self.cum.get(j))
            .copied()
            .unwrap_or(0.0);
        (hi - lo).max(0.0)
    }

    /// Picks an index with probability proportional to its weight (0 for an empty or all-zero table).
    pub(crate) fn pick(&self, rng: &mut impl Rng) -> usize {
        let total = self.cum.last().copied().unwrap_or(0.0);
        if total <= 0.0 {
            return 0;
        }
        let x = rng.random::<f64>() * total;
        let i = self.cum.partition_point(|c| *c <= x);
        i.min(self.cum.len().saturating_sub(1))
    }
}

/// True with probability `p`.
pub(crate) fn chance(rng: &mut impl Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// A standard normal draw (Box–Muller).
pub(crate) fn std_normal(rng: &mut impl Rng) -> f64 {
    let u1 = rng.random::<f64>().max(1e-12);
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A normal draw with mean and standard deviation.
pub(crate) fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    mean + sd * std_normal(rng)
}

/// Rounds to `digits` decimals.
pub(crate) fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// `d + n` days; saturates at the input on overflow (dates here stay within 1900–2100).
pub(crate) fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(chrono::TimeDelta::days(n))
        .unwrap_or(d)
}

/// Whole days from `a` to `b` (negative when `b` is earlier).
pub(crate) fn days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days()
}

/// A uniform date in `[from, to]` (returns `from` when the range is empty).
pub(crate) fn date_between(rng: &mut impl Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = days_between(from, to);
    if span <= 0 {
        return from;
    }
    add_days(from, rng.random_range(0..=span))
}

/// Completed years of age at `on`.
pub(crate) fn age_at(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// The date `years` years after `d` (29 Feb falls back to 28 Feb).
pub(crate) fn add_years(d: NaiveDate, years: i32) -> NaiveDate {
    let y = d.year() + years;
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), 28))
        .unwrap_or(d)
}

/// The date `months` months after `d` (day clamped to 28).
pub(crate) fn add_months(d: NaiveDate, months: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + months;
    let (y, m0) = (total.div_euclid(12), total.rem_euclid(12));
    NaiveDate::from_ymd_opt(y, m0 as u32 + 1, d.day().min(28)).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_pick_respects_zero_weights() {
        let w = Weighted::new([0.0, 1.0, 0.0]);
        let mut rng = rng_for(1, &[2]);
        for _ in 0..100 {
            assert_eq!(w.pick(&mut rng), 1);
        }
    }

    #[test]
    fn date_helpers_are_total() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        assert_eq!(add_years(d, 1).to_string(), "2025-02-28");
        assert_eq!(add_months(d, -3).to_string(), "2023-11-28");
        assert_eq!(
            age_at(d, NaiveDate::from_ymd_opt(2025, 2, 28).unwrap_or_default()),
            0
        );
    }

    #[test]
    fn mix_differs_by_part() {
        assert_ne!(mix(1, &[1, 2]), mix(1, &[2, 1]));
        assert_ne!(mix(1, &[0]), mix(2, &[0]));
    }
}
