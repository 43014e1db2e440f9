//! Demographic rates: the age pyramid, age at death, fertility, disease prevalence.
//!
//! The pyramid is Japan's 2020 census by 5-year band (thousands, both sexes; hand-transcribed,
//! rounded) with the female share per band; age at death follows the 2020s vital statistics
//! shape (most deaths at 80–94). Values are approximate and documented in `data/README.md`.

/// `(lower age, thousands, female share)` per 5-year band; the last band is 100–104.
pub(crate) const PYRAMID: [(i32, f64, f64); 21] = [
    (0, 4541.0, 0.488),
    (5, 5114.0, 0.488),
    (10, 5376.0, 0.488),
    (15, 5620.0, 0.487),
    (20, 6320.0, 0.487),
    (25, 6264.0, 0.488),
    (30, 6758.0, 0.491),
    (35, 7637.0, 0.493),
    (40, 8476.0, 0.494),
    (45, 9740.0, 0.495),
    (50, 8664.0, 0.498),
    (55, 7993.0, 0.501),
    (60, 7421.0, 0.507),
    (65, 8193.0, 0.515),
    (70, 9025.0, 0.530),
    (75, 6938.0, 0.555),
    (80, 5368.0, 0.590),
    (85, 3634.0, 0.660),
    (90, 1661.0, 0.740),
    (95, 431.0, 0.820),
    (100, 80.0, 0.880),
];

/// `(lower age, share of deaths, female share)` per band of age at death.
pub(crate) const DEATH_AGE: [(i32, f64, f64); 9] = [
    (40, 0.03, 0.35),
    (50, 0.04, 0.33),
    (60, 0.08, 0.33),
    (70, 0.17, 0.38),
    (80, 0.25, 0.46),
    (85, 0.20, 0.55),
    (90, 0.15, 0.66),
    (95, 0.06, 0.78),
    (100, 0.02, 0.85),
];

/// Share of extra persons who died within the death window (≈1.25 % a year over 3 years).
pub(crate) const DECEDENT_SHARE: f64 = 0.037;

/// Years before `as_of` in which deaths are placed.
pub(crate) const DEATH_WINDOW_YEARS: i32 = 3;

/// Age-specific fertility per woman-year (Japan, 2020, 5-year bands from 20), scaled so that
/// births in the 15-year window yield ≈12 % under-15s.
pub(crate) fn fertility(age: i32) -> f64 {
    let base = match age {
        20..=24 => 0.025,
        25..=29 => 0.075,
        30..=34 => 0.095,
        35..=39 => 0.055,
        40..=45 => 0.012,
        _ => 0.0,
    };
    base * FERTILITY_SCALE
}

/// Calibration factor of [`fertility`] (see the age-structure test).
pub(crate) const FERTILITY_SCALE: f64 = 0.92;

/// Share of births that are twins.
pub(crate) const TWIN_SHARE: f64 = 0.01;

fn band(age: i32, table: &[(i32, f64)]) -> f64 {
    let mut v = 0.0;
    for (lo, p) in table {
        if age >= *lo {
            v = *p;
        }
    }
    v
}

/// Prevalence of hypertension at `age`.
pub(crate) fn p_hypertension(age: i32) -> f64 {
    band(
        age,
        &[
            (20, 0.01),
            (30, 0.05),
            (40, 0.15),
            (50, 0.30),
            (60, 0.45),
            (70, 0.60),
            (80, 0.68),
        ],
    )
}

/// Prevalence of type 2 diabetes at `age` for a man (women × 0.6).
pub(crate) fn p_diabetes(age: i32, male: bool) -> f64 {
    let p = band(
        age,
        &[
            (20, 0.003),
            (30, 0.01),
            (40, 0.04),
            (50, 0.10),
            (60, 0.16),
            (70, 0.19),
            (80, 0.17),
        ],
    );
    if male { p * 1.3 } else { p * 0.7 }
}

/// Prevalence of dyslipidaemia at `age`.
pub(crate) fn p_dyslipidaemia(age: i32) -> f64 {
    band(
        age,
        &[
            (20, 0.02),
            (30, 0.05),
            (40, 0.12),
            (50, 0.22),
            (60, 0.30),
            (70, 0.30),
        ],
    )
}

/// Prevalence of a cancer diagnosed within the last five years at `age`.
pub(crate) fn p_cancer(age: i32) -> f64 {
    band(
        age,
        &[
            (30, 0.002),
            (40, 0.006),
            (50, 0.015),
            (60, 0.03),
            (70, 0.05),
            (80, 0.06),
        ],
    )
}

/// Prevalence of dementia at `age`.
pub(crate) fn p_dementia(age: i32) -> f64 {
    band(age, &[(65, 0.03), (75, 0.12), (85, 0.35)])
}

/// Probability of a long-term-care certification at `age`.
pub(crate) fn p_care(age: i32) -> f64 {
    band(
        age,
        &[(65, 0.03), (75, 0.12), (80, 0.25), (85, 0.45), (90, 0.65)],
    )
}
