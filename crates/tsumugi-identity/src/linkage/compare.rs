//! Comparison levels: how alike two prepared records are, field by field.
//!
//! Each field yields a level, `0` for "disagrees" and higher for closer agreement, or
//! [`NULL`] when either record lacks the field (no evidence either way). Histories are
//! compared pairwise and the best level counts: a record naming an earlier surname agrees with
//! a record written before the marriage. The levels of a pair are packed into one `u64`
//! ([`Levels`], four bits a field) so that the training step can count identical patterns.

use tsumugi_model::Sex;

use crate::linkage::features::{NONE, NameIds, Pool, Prepared};
use crate::linkage::jaro::jaro_winkler;

/// A field without evidence for this pair.
pub(crate) const NULL: u8 = 15;

/// The compared fields, in packing order; extras follow at [`N_FIXED`].
pub(crate) const FIELDS: [&str; 6] = [
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "address",
    "insurance",
];

/// Number of fixed fields.
pub(crate) const N_FIXED: usize = FIELDS.len();

/// Most free-form fields a configuration may add.
pub const MAX_EXTRAS: usize = 16 - N_FIXED;

/// Levels of a name part (family or given). Kanji and kana are compared separately and the
/// two results make one level, so that one name is not counted twice as independent evidence.
const NAME_LEVELS: &[&str] = &[
    "different",
    "similar (kanji JW ≥ 0.75 or kana JW ≥ 0.85)",
    "kana equal after long-vowel folding, or kanji equal with other kana",
    "kana equal, kanji different or missing",
    "kanji equal, kana missing",
    "kanji and kana equal",
];

/// The name level at which kanji are equal: term frequencies use the kanji value from here up,
/// the kana value at [`KANA_EXACT`].
pub(crate) const KANJI_EXACT: u8 = 4;
/// The name level "kana equal, kanji different or missing".
pub(crate) const KANA_EXACT: u8 = 3;

/// Names of the levels of each fixed field, lowest (disagree) first.
pub(crate) const LEVELS: [&[&str]; N_FIXED] = [
    NAME_LEVELS,
    NAME_LEVELS,
    &[
        "different",
        "other era, same year number",
        "±1 year",
        "day/month swapped",
        "±1 day",
        "exact",
    ],
    &["different", "same"],
    &["different", "same municipality", "same postcode", "exact"],
    &[
        "different",
        "same insurer",
        "same household card, other 枝番",
        "same card",
    ],
];

/// Levels of an exact-or-similar free-form field and of an exact-only one.
pub(crate) const EXTRA_LEVELS_FUZZY: &[&str] = &["different", "similar (JW ≥ 0.9)", "exact"];
/// Levels of an exact-only free-form field.
pub(crate) const EXTRA_LEVELS_EXACT: &[&str] = &["different", "exact"];

/// Fields whose exact levels are adjusted by the frequency of the agreed value.
pub(crate) const TF_FIELDS: [usize; 2] = [0, 1];

/// The packed levels of a pair: field `f` in bits `4f..4f+4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Levels(pub u64);

impl Levels {
    /// The level of field `f`.
    pub(crate) fn get(self, f: usize) -> u8 {
        ((self.0 >> (4 * f)) & 0xF) as u8
    }

    fn with(self, f: usize, level: u8) -> Levels {
        Levels(self.0 & !(0xF << (4 * f)) | (u64::from(level & 0xF) << (4 * f)))
    }

    /// Every field null.
    fn all_null() -> Levels {
        Levels(u64::MAX)
    }
}

/// How a free-form field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraKind {
    /// Equal or not.
    Exact,
    /// Equal, similar (Jaro–Winkler ≥ 0.9) or not.
    Fuzzy,
}

/// Era start years (明治 大正 昭和 平成 令和): a year number written under the wrong era moves
/// the year by the difference of two of them.
const ERA_STARTS: [i32; 5] = [1868, 1912, 1926, 1989, 2019];

fn era_slip(dy: i32) -> bool {
    ERA_STARTS
        .iter()
        .any(|a| ERA_STARTS.iter().any(|b| a != b && a - b == dy))
}

/// Family and given levels of two records: every pair of their names compared, per script
/// (kanji: exact 2, similar 1, different 0; kana: exact 3, long-vowel fold 2, similar 1,
/// different 0; each [`NULL`] when missing), the scripts combined ([`combine`]), the best pair
/// kept.
fn name_levels(p: &Prepared, a: &[NameIds], b: &[NameIds]) -> (u8, u8) {
    let (mut fam, mut giv) = (NULL, NULL);
    for x in a {
        for y in b {
            let (fk, gk) = if x.given_kanji == NONE || y.given_kanji == NONE {
                whole(
                    &p.family_kanji,
                    &p.given_kanji,
                    (x.family_kanji, x.given_kanji),
                    (y.family_kanji, y.given_kanji),
                    (0.75, 2),
                )
            } else {
                (
                    kanji_level(&p.family_kanji, x.family_kanji, y.family_kanji),
                    kanji_level(&p.given_kanji, x.given_kanji, y.given_kanji),
                )
            };
            let (fr, gr) = if x.given_kana == NONE || y.given_kana == NONE {
                whole(
                    &p.family_kana,
                    &p.given_kana,
                    (x.family_kana, x.given_kana),
                    (y.family_kana, y.given_kana),
                    (0.85, 3),
                )
            } else {
                (
                    kana_level(
                        (x.family_kana, x.family_fuzzy),
                        (y.family_kana, y.family_fuzzy),
                        &p.family_kana,
                    ),
                    kana_level(
                        (x.given_kana, x.given_fuzzy),
                        (y.given_kana, y.given_fuzzy),
                        &p.given_kana,
                    ),
                )
            };
            fam = best(fam, combine(fk, fr));
            giv = best(giv, combine(gk, gr));
        }
    }
    (fam, giv)
}

/// One name part's level from its kanji level (0–2) and kana level (0–3), see [`NAME_LEVELS`].
fn combine(kanji: u8, kana: u8) -> u8 {
    match (kanji, kana) {
        (NULL, NULL) => NULL,
        (2, 3) => 5,
        (2, NULL) => KANJI_EXACT,
        (_, 3) => KANA_EXACT,
        (2, _) | (_, 2) => 2,
        (1, _) | (_, 1) => 1,
        _ => 0,
    }
}

fn best(a: u8, b: u8) -> u8 {
    match (a, b) {
        (NULL, b) => b,
        (a, NULL) => a,
        (a, b) => a.max(b),
    }
}

fn kanji_level(pool: &Pool, ia: u32, ib: u32) -> u8 {
    if ia == NONE || ib == NONE {
        NULL
    } else if ia == ib {
        2
    } else if jaro_winkler(pool.chars(ia), pool.chars(ib)) >= 0.75 {
        1
    } else {
        0
    }
}

/// Compares names when at least one side was written whole (given part missing). Equal whole
/// names agree on both parts. A whole name that starts with the other record's family name is
/// split there, and the rest compared as the given name (so twins written whole still differ
/// in their given names). Otherwise only the family level is set, from the whole names.
fn whole(
    fam_pool: &Pool,
    giv_pool: &Pool,
    (fa, ga): (u32, u32),
    (fb, gb): (u32, u32),
    (similar, exact): (f64, u8),
) -> (u8, u8) {
    if fa == NONE || fb == NONE {
        return (NULL, NULL);
    }
    let full = |f: u32, g: u32| -> Vec<char> {
        let mut v = fam_pool.chars(f).to_vec();
        if g != NONE {
            v.extend_from_slice(giv_pool.chars(g));
        }
        v
    };
    let (a, b) = (full(fa, ga), full(fb, gb));
    if a == b {
        return (exact, exact);
    }
    let split = |fam: u32, giv: u32, other: &[char]| -> Option<(u8, u8)> {
        let fam = fam_pool.chars(fam);
        let rest = other.strip_prefix(fam).filter(|r| !r.is_empty())?;
        Some((exact, text_level(giv_pool.chars(giv), rest, similar, exact)))
    };
    let by_split = match (ga != NONE, gb != NONE) {
        (true, false) => split(fa, ga, &b),
        (false, true) => split(fb, gb, &a),
        _ => None,
    };
    by_split.unwrap_or_else(|| (text_level(&a, &b, similar, exact).min(1), NULL))
}

/// `exact` for equal text, 1 for similar text, 0 otherwise.
fn text_level(a: &[char], b: &[char], similar: f64, exact: u8) -> u8 {
    if a == b {
        exact
    } else if jaro_winkler(a, b) >= similar {
        1
    } else {
        0
    }
}

fn kana_level((a, af): (u32, u32), (b, bf): (u32, u32), pool: &Pool) -> u8 {
    if a == NONE || b == NONE {
        NULL
    } else if a == b {
        3
    } else if af == bf && af != NONE {
        2
    } else if jaro_winkler(pool.chars(a), pool.chars(b)) >= 0.85 {
        1
    } else {
        0
    }
}

fn dob_level(p: &Prepared, a: usize, b: usize) -> u8 {
    let (Some(Some(x)), Some(Some(y))) = (p.dob.get(a), p.dob.get(b)) else {
        return NULL;
    };
    let dy = x.year - y.year;
    if x == y {
        5
    } else if (x.ordinal - y.ordinal).abs() <= 1 {
        4
    } else if dy == 0 && x.month == y.day && x.day == y.month {
        3
    } else if dy.abs() == 1 && x.month == y.month && (x.day == y.day || x.day.min(y.day) == 28) {
        2
    } else if x.month == y.month && x.day == y.day && era_slip(dy) {
        1
    } else {
        0
    }
}

fn sex_level(p: &Prepared, a: usize, b: usize) -> u8 {
    match (p.sex.get(a), p.sex.get(b)) {
        (Some(Sex::Unknown) | None, _) | (_, Some(Sex::Unknown) | None) => NULL,
        (x, y) if x == y => 1,
        _ => 0,
    }
}

/// The best level over every pair of the two records' addresses. Municipalities are the
/// current ones ([`crate::normalize::municipality`]), so an address from before a merger agrees
/// with one after it.
fn address_level(p: &Prepared, a: usize, b: usize) -> u8 {
    let mut level = NULL;
    for x in p.addresses.of(a) {
        for y in p.addresses.of(b) {
            let l = if x.text != NONE && x.text == y.text {
                3
            } else if x.postcode != 0 && x.postcode == y.postcode {
                2
            } else if x.municipality != 0
                && (x.municipality == y.municipality
                    // A designated city known only as the city agrees with any of its wards.
                    || x.municipality == y.city
                    || x.city == y.municipality)
            {
                1
            } else if (x.text == NONE || y.text == NONE)
                && (x.postcode == 0 || y.postcode == 0)
                && (x.municipality == 0 || y.municipality == 0)
            {
                NULL
            } else {
                0
            };
            level = best(level, l);
        }
    }
    level
}

fn insurance_level(p: &Prepared, a: usize, b: usize) -> u8 {
    let mut level = NULL;
    for x in p.cards.of(a) {
        for y in p.cards.of(b) {
            let l = if x.card != 0 && x.card == y.card {
                3
            } else if x.household != 0 && x.household == y.household {
                2
            } else if x.insurer != 0 && x.insurer == y.insurer {
                1
            } else if x.insurer == 0 || y.insurer == 0 {
                NULL
            } else {
                0
            };
            level = best(level, l);
        }
    }
    level
}

fn extra_level(p: &Prepared, k: usize, kind: ExtraKind, a: usize, b: usize) -> u8 {
    let (Some(col), Some(pool)) = (p.extras.get(k), p.extra_pools.get(k)) else {
        return NULL;
    };
    let (x, y) = (
        col.get(a).copied().unwrap_or(NONE),
        col.get(b).copied().unwrap_or(NONE),
    );
    let top = match kind {
        ExtraKind::Exact => 1,
        ExtraKind::Fuzzy => 2,
    };
    if x == NONE || y == NONE {
        NULL
    } else if x == y {
        top
    } else if kind == ExtraKind::Fuzzy && jaro_winkler(pool.chars(x), pool.chars(y)) >= 0.9 {
        1
    } else {
        0
    }
}

/// The comparison levels of records `a` and `b`.
pub(crate) fn compare(p: &Prepared, extras: &[ExtraKind], a: usize, b: usize) -> Levels {
    let (family, given) = name_levels(p, p.names.of(a), p.names.of(b));
    let mut l = Levels::all_null()
        .with(0, family)
        .with(1, given)
        .with(2, dob_level(p, a, b))
        .with(3, sex_level(p, a, b))
        .with(4, address_level(p, a, b))
        .with(5, insurance_level(p, a, b));
    for (k, kind) in extras.iter().enumerate().take(MAX_EXTRAS) {
        l = l.with(N_FIXED + k, extra_level(p, k, *kind, a, b));
    }
    l
}

/// Which value's frequency adjusts an exact name level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agreed {
    /// A kanji value (the family or given kanji pool).
    Kanji(u32),
    /// A kana value.
    Kana(u32),
}

/// The value two records agree on in name field `f` (family 0, given 1) at `level`: the kanji
/// value from [`KANJI_EXACT`] up, the kana value at [`KANA_EXACT`], else none.
pub(crate) fn agreed_value(
    p: &Prepared,
    f: usize,
    level: u8,
    a: usize,
    b: usize,
) -> Option<Agreed> {
    let kanji = level >= KANJI_EXACT && level != NULL;
    if !kanji && level != KANA_EXACT {
        return None;
    }
    let pick = |n: &NameIds| match (f, kanji) {
        (0, true) => n.family_kanji,
        (0, false) => n.family_kana,
        (_, true) => n.given_kanji,
        (_, false) => n.given_kana,
    };
    for x in p.names.of(a) {
        let v = pick(x);
        if v != NONE && p.names.of(b).iter().any(|y| pick(y) == v) {
            return Some(if kanji {
                Agreed::Kanji(v)
            } else {
                Agreed::Kana(v)
            });
        }
    }
    None
}

/// Whether the twin guard forbids linking a pair with these levels: the given names were
/// compared and differ in every script (not even similar). Siblings and twins share
/// everything else — family name, birth date, address, household card — so no weight of other
/// evidence may override a given name that differs.
pub(crate) fn twin_guard(l: Levels) -> bool {
    l.get(1) == 0
}
