//! Population uniqueness: the share of the population that is unique on the quasi-identifiers,
//! estimated from a sample's class sizes and the sampling fraction (sample rows / population).
//!
//! Three models, as ARX implements them (`RiskModelPopulationUniqueness`):
//!
//! - **Pitman** (Hoshino 2001): the Pitman sampling formula; θ and α are the maximum-likelihood
//!   solution of `Σ_{i<u} 1/(θ+iα) = Σ_{i<n} 1/(θ+i)` and
//!   `Σ_{i<u} i/(θ+iα) = Σ_{j≥2} c_j Σ_{i<j} 1/(i−α)`, solved first with the closed forms in
//!   digamma/trigamma and, when that fails or does not satisfy the sums, with the sums
//!   themselves; uniques = `Γ(θ+1)/Γ(θ+α) · N^α`.
//! - **Zayatz** (1991): the share of sample uniques that are population uniques, from the
//!   hypergeometric chance of drawing exactly one record of a class of each size;
//!   uniques = `c₁ · P(unique | sample unique) / f`.
//! - **SNB** (Chen & Keller-McNulty 1998): population class sizes are shifted negative
//!   binomial (α, β) over `K` non-empty classes (Haas–Stokes' Shlosser estimate); α and β
//!   make the expected numbers of sample classes of size 1 and 2 equal `c₁` and `c₂`;
//!   uniques = `K · β^α`.
//!
//! Dankar et al.'s rule picks one: Pitman when `f ≤ 0.1` (Zayatz if Pitman has no valid
//! solution), else Zayatz when it is below SNB and SNB otherwise (Zayatz if SNB has none).
//! An estimate is "valid" as in ARX: a number other than 0. Where ARX reports 0 for a model
//! without one, the report says `null`.
//!
//! The solver is ARX's (its `NewtonRaphson2D` with `ARXSolverConfiguration`'s defaults):
//! Newton–Raphson in two unknowns from ARX's start values, converged when both equations are
//! within 10⁻⁶, at most 1,000 iterations a try and 10,000 in all, each new try from a random
//! point between 0 and the start; Pitman's θ must stay ≥ 0. Unlike ARX the restarts draw from
//! a fixed-seed generator (the same input always gives the same figures) and there are no
//! wall-clock limits (ARX also stops a try after 100 ms and the whole solve after 1 s); in
//! their place the plain-sum Pitman solver, whose iterations cost O(rows), gets at most about
//! 2·10⁸ terms of work. Pitman's estimate is taken in its log-gamma form only (ARX also
//! evaluates the gamma ratio directly and keeps the larger where both are finite: the same
//! number up to rounding). The trigamma function is exact to double precision; ARX's omits
//! the asymptotic tail between 8 and 12, which only changes the Jacobian, not the root.
//!
//! Two places follow the published formulas where ARX's code (3.x) departs from them:
//!
//! - Shlosser's estimate of `K` (Haas et al. 1995): its second sum is
//!   `Σ_j (1−f)^j ((1+f)^j − 1) c_j`; ARX adds `(1−f)^j (1+f)^j c_j − 1` per size instead,
//!   which leaves `K` near the number of sample classes whatever the sampling fraction.
//! - The SNB equation for `c₂` divides by `(1 − (1−f)(1−β))^{α+2}` (the second derivative of the
//!   sample-count generating function at 0, and what ARX's derivatives and its earlier
//!   `AlgorithmNewtonSNB` use); ARX's `ModelSNB` multiplies by it. The unit test checks the
//!   solved equations against the model's probabilities summed term by term.
//!
//! So the SNB figures (and Dankar's pick where SNB decides) can differ from ARX's; Pitman and
//! Zayatz solve the same equations as ARX.
//!
//! Zayatz's hypergeometric probabilities are computed as exact ratios (products of
//! `1 − (n−1)/(N−i)`), so population sizes beyond 2³¹ need no clamping (ARX clamps them).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Error, Result};

/// A model of population uniqueness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UniquenessModel {
    /// Hoshino's Pitman model.
    Pitman,
    /// Zayatz's model.
    Zayatz,
    /// Chen and Keller-McNulty's shifted negative binomial model.
    Snb,
}

/// Estimated population uniqueness of one sample (fractions of the population).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationUniqueness {
    /// Rows of the population the sample was drawn from.
    pub population_size: u64,
    /// Sample rows over population rows.
    pub sampling_fraction: f64,
    /// Share of the population unique on the quasi-identifiers, by Pitman's model (`None`
    /// when the solver found no valid solution).
    pub pitman: Option<f64>,
    /// The same by Zayatz's model.
    pub zayatz: Option<f64>,
    /// The same by the SNB model (`None` when the solver found no valid solution).
    pub snb: Option<f64>,
    /// The estimate Dankar et al.'s rule picks (0 when the sample has no uniques or no
    /// model has a valid estimate).
    pub dankar: f64,
    /// The model the rule picked (`None` when the sample has no uniques: every estimate is 0).
    pub dankar_model: Option<UniquenessModel>,
}

const PREFECTURES_CSV: &str = include_str!("../../../data/prefectures.csv");

/// Japan's population at the 2020 census (令和2年国勢調査): the sum of `data/prefectures.csv`
/// (126,146,099), the population a lifecourse release's persons are a sample of.
pub fn japan_population_2020() -> u64 {
    PREFECTURES_CSV
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next()?.trim().parse::<u64>().ok())
        .sum()
}

/// Convergence limits of ARX's solver (`ARXSolverConfiguration`).
const ACCURACY: f64 = 1e-6;
const ITERATIONS_PER_TRY: u32 = 1_000;
const ITERATIONS_TOTAL: u32 = 10_000;

/// Estimates population uniqueness from the sizes of the sample's equivalence classes (in
/// rows; empty classes are ignored) and the population's size.
///
/// # Errors
/// [`Error::InvalidConfig`] when the population is smaller than the sample or empty.
pub fn population_uniqueness(
    class_sizes: impl IntoIterator<Item = u64>,
    population_size: u64,
) -> Result<PopulationUniqueness> {
    let mut by_size: BTreeMap<u64, u64> = BTreeMap::new();
    for s in class_sizes.into_iter().filter(|&s| s > 0) {
        *by_size.entry(s).or_default() += 1;
    }
    let sample: u64 = by_size.iter().map(|(s, c)| s * c).sum();
    if population_size == 0 || population_size < sample {
        return Err(Error::InvalidConfig(format!(
            "population_size {population_size} is smaller than the sample ({sample} rows); give the size of the population the rows were drawn from"
        )));
    }
    let h = Histogram::new(&by_size, population_size as f64);
    let fraction = h.n / h.p;
    let mut out = PopulationUniqueness {
        population_size,
        sampling_fraction: fraction,
        pitman: Some(0.0),
        zayatz: Some(0.0),
        snb: Some(0.0),
        dankar: 0.0,
        dankar_model: None,
    };
    if h.c1 == 0.0 {
        return Ok(out);
    }
    let share = |uniques: f64| uniques / h.p;
    out.zayatz = valid(h.zayatz()).map(share);
    out.pitman = valid(h.pitman()).map(share);
    out.snb = valid(h.snb()).map(share);
    let (dankar, model) = dankar_rule(fraction, out.pitman, out.snb, out.zayatz);
    (out.dankar, out.dankar_model) = (dankar, Some(model));
    Ok(out)
}

/// Dankar et al.'s rule as ARX applies it: Pitman for samples of at most 10 % (Zayatz when
/// Pitman has no estimate); for larger samples Zayatz when it is below SNB, else SNB
/// (Zayatz when SNB has no estimate).
fn dankar_rule(
    fraction: f64,
    pitman: Option<f64>,
    snb: Option<f64>,
    zayatz: Option<f64>,
) -> (f64, UniquenessModel) {
    match (fraction <= 0.1, pitman, snb, zayatz) {
        (true, Some(p), _, _) => (p, UniquenessModel::Pitman),
        (false, _, Some(s), Some(z)) if z < s => (z, UniquenessModel::Zayatz),
        (false, _, Some(s), _) => (s, UniquenessModel::Snb),
        (_, _, _, z) => (z.unwrap_or(0.0), UniquenessModel::Zayatz),
    }
}

/// ARX's validity test: a number, and not 0.
fn valid(x: f64) -> Option<f64> {
    (!x.is_nan() && x != 0.0).then_some(x)
}

/// The sample as `(class size, classes of that size)`, ascending.
struct Histogram {
    sizes: Vec<(f64, f64)>,
    /// Classes.
    u: f64,
    /// Sample rows.
    n: f64,
    /// Population rows.
    p: f64,
    c1: f64,
    c2: f64,
}

impl Histogram {
    fn new(by_size: &BTreeMap<u64, u64>, p: f64) -> Histogram {
        let sizes: Vec<(f64, f64)> = by_size
            .iter()
            .map(|(&s, &c)| (s as f64, c as f64))
            .collect();
        let of = |size: u64| by_size.get(&size).copied().unwrap_or(0) as f64;
        Histogram {
            u: sizes.iter().map(|e| e.1).sum(),
            n: sizes.iter().map(|e| e.0 * e.1).sum(),
            p,
            c1: of(1),
            c2: of(2),
            sizes,
        }
    }

    /// Zayatz: `c₁ · P(population unique | sample unique) / f`, where the chance that a class
    /// of `K` population rows shows exactly one row in a sample of `n` drawn from `N` is, up
    /// to the factor `n/N` common to every `K`, `K · Π_{i=1}^{K−1} (1 − (n−1)/(N−i))`.
    fn zayatz(&self) -> f64 {
        let (n, big_n) = (self.n, self.p);
        let mut weighted = 0.0;
        let mut product = 1.0;
        let mut k = 1.0;
        for &(size, count) in &self.sizes {
            while k < size {
                product *= (1.0 - (n - 1.0) / (big_n - k)).max(0.0);
                k += 1.0;
            }
            weighted += count * size * product;
        }
        let conditional = self.c1 / weighted;
        self.c1 * conditional / (n / big_n)
    }

    /// Pitman's estimate of population uniques (NaN when there is no valid solution).
    fn pitman(&self) -> f64 {
        let (c1, u, n) = (self.c1, self.u, self.n);
        let c2 = if self.c2 == 0.0 { 1.0 } else { self.c2 };
        let c = c1 * (c1 - 1.0) / c2;
        let t = (n * u * c - c1 * (n - 1.0) * (2.0 * u + c)) / (2.0 * c1 * u + c1 * c - n * c);
        let a = (t * (c1 - n) + (n - 1.0) * c1) / (n * u);
        let theta_non_negative = |t: f64, _: f64| t >= 0.0;
        let mut solution = solve(
            |t, a| self.pitman_closed(t, a),
            (t, a),
            theta_non_negative,
            ITERATIONS_TOTAL,
        );
        let check = solution.map(|(t, a)| self.pitman_sums(t, a).0);
        let converged = check.is_some_and(|f| f[0].abs() <= ACCURACY && f[1].abs() <= ACCURACY);
        if !converged {
            solution = solve(
                |t, a| self.pitman_sums(t, a),
                (t, a),
                theta_non_negative,
                self.sums_budget(),
            );
        }
        let Some((t, a)) = solution else {
            return f64::NAN;
        };
        if t.is_nan() || a.is_nan() || a == 0.0 {
            return f64::NAN;
        }
        let uniques = (ln_gamma(t + 1.0) - ln_gamma(t + a)).exp() * self.p.powf(a);
        if (0.0..=self.p).contains(&uniques) {
            uniques
        } else {
            f64::NAN
        }
    }

    /// The likelihood equations of Pitman's model and their Jacobian in closed form
    /// (digamma and trigamma).
    fn pitman_closed(&self, t: f64, a: f64) -> ([f64; 2], [[f64; 2]; 2]) {
        let (u, n) = (self.u, self.n);
        let v0 = u - 1.0;
        let v1 = digamma(v0 + t / a + 1.0);
        let v2 = trigamma((a + t + a * v0) / a);
        let v3 = trigamma(t / a + 1.0);
        let v4 = digamma(t / a + 1.0);
        let a2 = a * a;
        // Σ_{i<u} 1/(θ+iα) and its derivatives.
        let o1 = (v1 - v4) / a;
        let d1 = (v3 - v2) / a2;
        let d5 = (a * v1 + t * v2 - a * v4 - t * v3) / (a2 * a);
        // Σ_{i<u} i/(θ+iα) and its derivative in α.
        let o3 = (-t * v1 + a * v0 + t * v4) / a2;
        let d3 =
            (a2 * v0 - t * t * v2 + t * t * v3 - 2.0 * a * t * v1 + 2.0 * a * t * v4) / (a2 * a2);
        // Σ_{i<n} 1/(θ+i) and its derivative.
        let o2 = digamma(n + t) - digamma(t + 1.0);
        let d2 = trigamma(t + 1.0) - trigamma(n + t);
        // Σ_j c_j Σ_{i<j} 1/(i−α) and its derivative.
        let (v6, v7) = (digamma(1.0 - a), trigamma(1.0 - a));
        let (mut o4, mut d4) = (0.0, 0.0);
        for &(size, count) in self.sizes.iter().filter(|e| e.0 != 1.0) {
            o4 += count * (digamma(size - a) - v6);
            d4 += count * (v7 - trigamma(size - a));
        }
        ([o1 - o2, o3 - o4], [[d2 - d1, -d5], [-d5, -d3 - d4]])
    }

    /// The same equations and Jacobian as plain sums.
    fn pitman_sums(&self, t: f64, a: f64) -> ([f64; 2], [[f64; 2]; 2]) {
        let (mut o1, mut o3, mut d1, mut d3, mut d5) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut i = 1.0;
        while i < self.u {
            let x = 1.0 / (t + i * a);
            o1 += x;
            o3 += i * x;
            d1 += x * x;
            d5 += i * x * x;
            d3 += i * i * x * x;
            i += 1.0;
        }
        let (mut o4, mut d4) = (0.0, 0.0);
        for &(size, count) in self.sizes.iter().filter(|e| e.0 != 1.0) {
            let (mut s, mut s2) = (0.0, 0.0);
            let mut j = 1.0;
            while j < size {
                let x = 1.0 / (j - a);
                s += x;
                s2 += x * x;
                j += 1.0;
            }
            o4 += count * s;
            d4 += count * s2;
        }
        let (mut o2, mut d2) = (0.0, 0.0);
        let mut i = 1.0;
        while i < self.n {
            let x = 1.0 / (t + i);
            o2 += x;
            d2 += x * x;
            i += 1.0;
        }
        ([o1 - o2, o3 - o4], [[d2 - d1, -d5], [-d5, -d3 - d4]])
    }

    /// Iterations allowed to the plain-sum solver: ARX's total, cut so that one solve costs
    /// at most about 2·10⁸ terms (each iteration sums over classes, rows and class sizes; ARX
    /// bounds the same work by wall-clock time, which would make the figures depend on the
    /// machine).
    fn sums_budget(&self) -> u32 {
        let per_iteration = self.u + self.n + self.sizes.iter().map(|e| e.0).sum::<f64>();
        let budget = (2e8 / per_iteration.max(1.0)).floor();
        ITERATIONS_TOTAL.min(budget.max(100.0) as u32)
    }

    /// Haas and Stokes' Shlosser estimate of the population's non-empty classes.
    fn shlosser(&self) -> f64 {
        let f = self.n / self.p;
        let (mut v1, mut v2, mut v3, mut v4) = (0.0, 0.0, 0.0, 0.0);
        for &(j, c) in &self.sizes {
            let thinned = (1.0 - f).powf(j) * c;
            v1 += j * f * f * (1.0 - f * f).powf(j - 1.0) * c;
            v2 += thinned * ((1.0 + f).powf(j) - 1.0);
            v3 += thinned;
            v4 += j * f * (1.0 - f).powf(j - 1.0) * c;
        }
        self.u + self.c1 * (v1 / v2) * (v3 / v4) * (v3 / v4)
    }

    /// The SNB estimate of population uniques (NaN when there is no valid solution).
    fn snb(&self) -> f64 {
        let k = self.shlosser();
        let f = self.n / self.p;
        let (c1, c2) = (self.c1, self.c2);
        let equations = |a, b| snb_equations(k, f, c1, c2, a, b);
        match solve(equations, (1.0, 1.0), |_, _| true, ITERATIONS_TOTAL) {
            Some((a, b)) => k * b.powf(a),
            None => f64::NAN,
        }
    }
}

/// The SNB moment equations in (α, β): expected sample classes of size 1 and 2 minus `c₁`,
/// `c₂`, and their Jacobian.
fn snb_equations(k: f64, f: f64, c1: f64, c2: f64, a: f64, b: f64) -> ([f64; 2], [[f64; 2]; 2]) {
    // With d = (1−f)(1−β) and q = 1 − d:
    //   E1 = K f (β/q)^α (1 + α d/q)
    //   E2 = K f² α (1−β) β^α (2 − (1−α) d) / (2 q^{α+2})
    let d = (1.0 - f) * (1.0 - b);
    let q = 1.0 - d;
    let ratio = b / q;
    let e1 = k * f * ratio.powf(a) * (1.0 + a * d / q);
    let g = 2.0 - (1.0 - a) * d;
    let e2 = k * f * f * a * (1.0 - b) * b.powf(a) * g / (2.0 * q.powf(a + 2.0));
    // Derivatives: ∂d/∂β = −(1−f), ∂q/∂β = 1−f.
    let dd = -(1.0 - f);
    let dq = 1.0 - f;
    let ln_ratio = ratio.ln();
    let e1_da = k * f * ratio.powf(a) * (ln_ratio * (1.0 + a * d / q) + d / q);
    let dratio_db = (q - b * dq) / (q * q);
    let dinner_db = a * (dd * q - d * dq) / (q * q);
    let e1_db = k
        * f
        * (a * ratio.powf(a - 1.0) * dratio_db * (1.0 + a * d / q) + ratio.powf(a) * dinner_db);
    // ln E2 = ln(K f²/2) + ln α + ln(1−β) + α ln β + ln g − (α+2) ln q
    let e2_da = e2 * (1.0 / a + b.ln() + d / g - q.ln());
    // Written out rather than as E2 · d(ln E2)/dβ, which is 0 · ∞ at β = 1 (the start).
    let scale = k * f * f * a / (2.0 * q.powf(a + 2.0));
    let e2_db = scale
        * (-b.powf(a) * g
            + (1.0 - b) * a * b.powf(a - 1.0) * g
            + (1.0 - b) * b.powf(a) * (-(1.0 - a) * dd)
            - (1.0 - b) * b.powf(a) * g * (a + 2.0) * dq / q);
    ([e1 - c1, e2 - c2], [[e1_da, e1_db], [e2_da, e2_db]])
}

/// ARX's Newton–Raphson in two unknowns: from `start`, then from random points in the box
/// between 0 and `start`, until both equations are within [`ACCURACY`]; `None` when the
/// iteration budget runs out. A try ends when `allowed` rejects a step or the point is not a
/// number.
fn solve(
    mut equations: impl FnMut(f64, f64) -> ([f64; 2], [[f64; 2]; 2]),
    start: (f64, f64),
    allowed: impl Fn(f64, f64) -> bool,
    total_limit: u32,
) -> Option<(f64, f64)> {
    let mut rng = SplitMix64(0x7473_756d_7567_6921);
    let mut total = 0u32;
    let mut first = true;
    while total <= total_limit {
        let (mut x, mut y) = if first {
            start
        } else {
            (rng.unit() * start.0, rng.unit() * start.1)
        };
        first = false;
        let mut iterations = 0u32;
        loop {
            total += 1;
            let ([f0, f1], [[j00, j01], [j10, j11]]) = equations(x, y);
            if f0.abs() <= ACCURACY && f1.abs() <= ACCURACY {
                return Some((x, y));
            }
            let det = j00 * j11 - j01 * j10;
            x -= (j11 * f0 - j01 * f1) / det;
            y -= (-j10 * f0 + j00 * f1) / det;
            if !allowed(x, y) || x.is_nan() || y.is_nan() || iterations > ITERATIONS_PER_TRY {
                break;
            }
            iterations += 1;
        }
    }
    None
}

/// A small deterministic generator for the solver's restarts.
struct SplitMix64(u64);

impl SplitMix64 {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The digamma function ψ(x): recurrence up to 12, then its asymptotic series; reflection
/// below 0.
pub(crate) fn digamma(mut x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x < 0.0 {
        return digamma(1.0 - x) - std::f64::consts::PI / (std::f64::consts::PI * x).tan();
    }
    let mut acc = 0.0;
    while x < 12.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    acc + x.ln()
        - 0.5 / x
        - r * (1.0 / 12.0 - r * (1.0 / 120.0 - r * (1.0 / 252.0 - r * (1.0 / 240.0 - r / 132.0))))
}

/// The trigamma function ψ′(x): recurrence up to 12, then its asymptotic series; reflection
/// below 0.
pub(crate) fn trigamma(mut x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::INFINITY;
    }
    if x < 0.0 {
        let s = std::f64::consts::PI / (std::f64::consts::PI * x).sin();
        return -trigamma(1.0 - x) + s * s;
    }
    let mut acc = 0.0;
    while x < 12.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    acc + 1.0 / x
        + r / 2.0
        + r / x
            * (1.0 / 6.0 - r * (1.0 / 30.0 - r * (1.0 / 42.0 - r * (1.0 / 30.0 - r * 5.0 / 66.0))))
}

/// ln Γ(x) for x > 0 (NaN otherwise): recurrence up to 15, then Stirling's series.
pub(crate) fn ln_gamma(mut x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    let mut shift = 0.0;
    while x < 15.0 {
        shift += x.ln();
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    (x - 0.5) * x.ln() - x
        + 0.5 * (2.0 * std::f64::consts::PI).ln()
        + (1.0 / 12.0
            - r * (1.0 / 360.0
                - r * (1.0 / 1260.0
                    - r * (1.0 / 1680.0 - r * (1.0 / 1188.0 - r * (691.0 / 360_360.0))))))
            / x
        - shift
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japan_population_is_the_published_census_total() {
        assert_eq!(japan_population_2020(), 126_146_099);
    }

    const EULER: f64 = 0.577_215_664_901_532_9;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn special_functions_match_known_values() {
        use std::f64::consts::{LN_2, PI};
        assert!(close(digamma(1.0), -EULER, 1e-14));
        assert!(close(digamma(0.5), -EULER - 2.0 * LN_2, 1e-14));
        // ψ(x+1) = ψ(x) + 1/x, also through the reflection.
        assert!(close(digamma(-0.3) + 1.0 / -0.3, digamma(0.7), 1e-12));
        assert!(close(trigamma(1.0), PI * PI / 6.0, 1e-14));
        assert!(close(trigamma(0.5), PI * PI / 2.0, 1e-14));
        assert!(close(trigamma(-0.3) - 1.0 / 0.09, trigamma(0.7), 1e-12));
        assert!(close(ln_gamma(0.5), 0.5 * PI.ln(), 1e-14));
        assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-14));
        // ln Γ(n+1) = Σ ln i, far out.
        let sum: f64 = (1..=2000).map(|i| f64::from(i).ln()).sum();
        assert!(close(ln_gamma(2001.0), sum, 1e-13));
        assert!(ln_gamma(0.0).is_nan());
    }

    /// A sample with many uniques: 600 classes of 1, 150 of 2, 50 of 3, 20 of 5, 5 of 10.
    fn sample() -> Vec<u64> {
        let mut s = Vec::new();
        for (size, count) in [(1, 600), (2, 150), (3, 50), (5, 20), (10, 5)] {
            s.extend(std::iter::repeat_n(size, count));
        }
        s
    }

    fn h(sizes: &[u64], p: u64) -> Histogram {
        let mut by: BTreeMap<u64, u64> = BTreeMap::new();
        for &s in sizes {
            *by.entry(s).or_default() += 1;
        }
        Histogram::new(&by, p as f64)
    }

    /// Zayatz's product form equals the hypergeometric probabilities written with ln Γ.
    #[test]
    fn zayatz_equals_the_hypergeometric_form() {
        let sizes = sample();
        for p in [2_000u64, 10_000, 1_000_000, 126_146_099] {
            let h = h(&sizes, p);
            let (n, big_n) = (h.n, h.p);
            let ln_choose =
                |a: f64, b: f64| ln_gamma(a + 1.0) - ln_gamma(b + 1.0) - ln_gamma(a - b + 1.0);
            let p1 = |k: f64| {
                if n - 1.0 > big_n - k {
                    0.0
                } else {
                    (k.ln() + ln_choose(big_n - k, n - 1.0) - ln_choose(big_n, n)).exp()
                }
            };
            let denom: f64 = h.sizes.iter().map(|&(k, c)| c / h.u * p1(k)).sum();
            let conditional = h.c1 / h.u * p1(1.0) / denom;
            let expected = h.c1 * conditional / (n / big_n);
            assert!(
                close(h.zayatz(), expected, 1e-6),
                "N={p}: {} vs {expected}",
                h.zayatz()
            );
        }
        // A census (sample = population): every sample unique is a population unique.
        let all = h(&sizes, 1_200);
        assert!(close(all.zayatz(), 600.0, 1e-12));
    }

    /// Pitman's solution satisfies the likelihood equations written as plain sums, and both
    /// solvers agree.
    #[test]
    fn pitman_solves_the_likelihood_equations() {
        let sizes = sample();
        let h = h(&sizes, 100_000);
        let pitman = h.pitman();
        assert!(pitman.is_finite() && pitman > 0.0, "{pitman}");
        let c2 = 150.0;
        let c = 600.0 * 599.0 / c2;
        let (u, n, c1) = (h.u, h.n, h.c1);
        let t0 = (n * u * c - c1 * (n - 1.0) * (2.0 * u + c)) / (2.0 * c1 * u + c1 * c - n * c);
        let a0 = (t0 * (c1 - n) + (n - 1.0) * c1) / (n * u);
        let closed = solve(
            |t, a| h.pitman_closed(t, a),
            (t0, a0),
            |t, _| t >= 0.0,
            10_000,
        )
        .unwrap();
        let sums = solve(
            |t, a| h.pitman_sums(t, a),
            (t0, a0),
            |t, _| t >= 0.0,
            10_000,
        )
        .unwrap();
        assert!(close(closed.0, sums.0, 1e-5) && close(closed.1, sums.1, 1e-5));
        let (t, a) = closed;
        assert!(t >= 0.0 && a > 0.0 && a < 1.0, "{t} {a}");
        // The equations, summed directly.
        let lhs1: f64 = (1..825).map(|i| 1.0 / (t + f64::from(i) * a)).sum();
        let rhs1: f64 = (1..1200).map(|i| 1.0 / (t + f64::from(i))).sum();
        assert!((lhs1 - rhs1).abs() < 1e-5, "{lhs1} {rhs1}");
        let lhs2: f64 = (1..825)
            .map(|i| f64::from(i) / (t + f64::from(i) * a))
            .sum();
        let rhs2: f64 = [(2, 150.0), (3, 50.0), (5, 20.0), (10, 5.0)]
            .iter()
            .map(|&(j, cnt)| cnt * (1..j).map(|i| 1.0 / (f64::from(i) - a)).sum::<f64>())
            .sum();
        assert!((lhs2 - rhs2).abs() < 1e-5, "{lhs2} {rhs2}");
        let expected = (ln_gamma(t + 1.0) - ln_gamma(t + a)).exp() * 100_000f64.powf(a);
        assert!(close(pitman, expected, 1e-6));
    }

    /// The SNB solution reproduces c₁ and c₂ as expectations computed term by term: population
    /// classes of size 1 + NB(α, β), each row sampled with probability f.
    #[test]
    fn snb_matches_its_model_term_by_term() {
        let sizes = sample();
        let h = h(&sizes, 5_000);
        let k = h.shlosser();
        assert!(k > h.u, "K {k} must exceed the sample's classes {}", h.u);
        let f = h.n / h.p;
        let equations = |a, b| snb_equations(k, f, h.c1, h.c2, a, b);
        let (a, b) = solve(equations, (1.0, 1.0), |_, _| true, 10_000).expect("a solution");
        // P(F = j) = Γ(j−1+α)/(Γ(α)(j−1)!) β^α (1−β)^{j−1}, j ≥ 1.
        let (mut e1, mut e2) = (0.0, 0.0);
        for j in 1..20_000 {
            let j = f64::from(j);
            let ln_pf = ln_gamma(j - 1.0 + a) - ln_gamma(a) - ln_gamma(j)
                + a * b.ln()
                + (j - 1.0) * (1.0 - b).ln();
            let pf = ln_pf.exp();
            e1 += pf * j * f * (1.0 - f).powf(j - 1.0);
            e2 += pf * j * (j - 1.0) / 2.0 * f * f * (1.0 - f).powf(j - 2.0);
        }
        assert!(close(k * e1, h.c1, 1e-6), "{} vs {}", k * e1, h.c1);
        assert!(close(k * e2, h.c2, 1e-6), "{} vs {}", k * e2, h.c2);
        // The analytic Jacobian agrees with finite differences.
        let (_, jac) = snb_equations(k, f, h.c1, h.c2, a, b);
        let eps = 1e-6;
        let (fa, _) = snb_equations(k, f, h.c1, h.c2, a + eps, b);
        let (fb, _) = snb_equations(k, f, h.c1, h.c2, a, b + eps);
        let (f0, _) = snb_equations(k, f, h.c1, h.c2, a, b);
        for i in 0..2 {
            assert!(close(jac[i][0], (fa[i] - f0[i]) / eps, 1e-3), "{i} α");
            assert!(close(jac[i][1], (fb[i] - f0[i]) / eps, 1e-3), "{i} β");
        }
        assert!(close(h.snb(), k * b.powf(a), 1e-12));
        // The first try starts at (1, 1), as ARX's: the Jacobian is finite there.
        let (_, start) = snb_equations(k, f, h.c1, h.c2, 1.0, 1.0);
        assert!(start.iter().flatten().all(|x| x.is_finite()), "{start:?}");
    }

    /// Dankar's rule: Pitman for small samples, else the smaller of Zayatz and SNB; no uniques
    /// means no risk.
    #[test]
    fn dankar_rule_and_edge_cases() {
        let sizes = sample();
        let small = population_uniqueness(sizes.iter().copied(), 126_146_099).unwrap();
        assert!(small.sampling_fraction <= 0.1);
        assert_eq!(small.dankar_model, Some(UniquenessModel::Pitman));
        assert_eq!(Some(small.dankar), small.pitman);
        let large = population_uniqueness(sizes.iter().copied(), 2_400).unwrap();
        assert!((large.sampling_fraction - 0.5).abs() < 1e-12);
        let z = large.zayatz.unwrap();
        match large.dankar_model {
            Some(UniquenessModel::Snb) => assert!(large.snb.unwrap() <= z),
            Some(UniquenessModel::Zayatz) => assert!(large.snb.is_none_or(|s| s > z)),
            other => panic!("{other:?}"),
        }
        // Fewer uniques are estimated in the population than there are in the sample
        // (scaled): every estimate is a share of the population at most c₁/f / N.
        for e in [small.pitman, small.zayatz, large.zayatz]
            .into_iter()
            .flatten()
        {
            assert!(e > 0.0 && e <= 1.0, "{e}");
        }
        use UniquenessModel::{Pitman, Snb, Zayatz};
        assert_eq!(
            dankar_rule(0.1, Some(1.0), Some(0.5), Some(0.2)),
            (1.0, Pitman)
        );
        assert_eq!(dankar_rule(0.05, None, Some(0.5), Some(0.2)), (0.2, Zayatz));
        assert_eq!(dankar_rule(0.05, None, None, None), (0.0, Zayatz));
        assert_eq!(
            dankar_rule(0.2, Some(1.0), Some(0.5), Some(0.2)),
            (0.2, Zayatz)
        );
        assert_eq!(
            dankar_rule(0.2, Some(1.0), Some(0.2), Some(0.5)),
            (0.2, Snb)
        );
        assert_eq!(
            dankar_rule(0.2, None, Some(0.3), Some(0.3)),
            (0.3, Snb),
            "ties: SNB"
        );
        assert_eq!(dankar_rule(0.2, Some(1.0), None, Some(0.5)), (0.5, Zayatz));
        let none = population_uniqueness([2, 3, 5], 100).unwrap();
        assert_eq!((none.dankar, none.dankar_model), (0.0, None));
        assert!(population_uniqueness([1, 1, 2], 3).is_err());
    }
}
