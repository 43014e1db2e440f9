//! The current municipality of an address, across municipal mergers (市町村合併).
//!
//! Linkage compares municipalities by their 全国地方公共団体コード. A record written before a
//! merger names the former municipality — by its code, or in the text (`北海道網走郡女満別町…`,
//! since 2006 大空町) — and a later record the current one. [`municipality`] brings both to the
//! current code:
//!
//! - A stated code (6 digits, or its first 5 without the check digit) of a current municipality
//!   (`data/municipalities.csv`) is that municipality; a former code
//!   (`data/municipality_mergers.csv`) is the municipality that absorbed it; any other code is
//!   kept as stated.
//! - With no code, the municipality named at the start of the text, after the prefecture and a
//!   county (`○○郡`), current or former, the longest name first. A name is read only when it
//!   points to one current municipality: among those of the prefecture the text names, or
//!   nationwide when it names none. 大野町 is a current town of 岐阜県 and a former one in
//!   several other prefectures, so `大野町…` alone gives no code; a ward written without its city
//!   (`北区…`) is one of the wards of that name; nothing is guessed.
//! - A former municipality now inside a designated city (政令指定都市) maps to the city, not to a
//!   ward: its area may span several wards (大宮市 → さいたま市), and the table's ward is only the
//!   one where its office stood. The ward is taken only when it continues the old municipality
//!   by name (the table's `successor` rule: 岩槻市 → さいたま市岩槻区). [`designated_city`]
//!   gives a ward's city, so that a city-level code can agree with any of its wards.
//!
//! Both tables are compiled in, so a running system cannot drift from them; a change to either
//! changes normalized codes and bumps the normalization version.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

use super::address::{PREFECTURES_CSV, fold_ga};

/// `code,prefecture_code,prefecture_name,name,kana,kind,weight`: the current municipalities.
const MUNICIPALITIES_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/municipalities.csv"
));

/// `old_code,old_name,date,new_code,new_name,new_city_code,rule`: one row per former code.
const MERGERS_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/municipality_mergers.csv"
));

/// How far into the text (after the prefecture) a county's `郡` is looked for: the longest
/// county names have four characters before it (東津軽郡, 南会津郡).
const COUNTY_WITHIN: usize = 6;

struct Tables {
    /// First five digits of a current code → the 6-digit code.
    current: HashMap<&'static str, &'static str>,
    /// First five digits of a former code → the current 6-digit code it maps to.
    former: HashMap<&'static str, &'static str>,
    /// Ward of a designated city (first five digits) → the city's 6-digit code.
    city_of: HashMap<&'static str, &'static str>,
    /// Folded name → every (prefecture code, current code) it can mean, current and former
    /// municipalities alike; a designated city's ward also under its bare name (`北区`).
    names: HashMap<String, Vec<(&'static str, &'static str)>>,
    /// The longest key of `names`, in characters.
    longest: usize,
}

/// The columns of a table row after its header; rows with fewer columns are skipped (the unit
/// tests check that there are none).
fn rows(csv: &'static str, n: usize) -> impl Iterator<Item = Vec<&'static str>> {
    csv.lines()
        .skip(1)
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(move |cols| cols.len() >= n)
}

/// NFKC, no spaces, ヶ/ケ/が between kanji folded (as in the address text).
fn fold(s: &str) -> Vec<char> {
    let chars: Vec<char> = s
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect();
    fold_ga(&chars)
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let mut t = Tables {
        current: HashMap::new(),
        former: HashMap::new(),
        city_of: HashMap::new(),
        names: HashMap::new(),
        longest: 0,
    };
    let current: Vec<Vec<&'static str>> = rows(MUNICIPALITIES_CSV, 6)
        .filter(|c| c[0].len() == 6)
        .collect();
    // (prefecture, name, code) of the designated cities.
    let cities: Vec<(&str, &str, &str)> = current
        .iter()
        .filter(|c| c[5] == "designated_city")
        .map(|c| (c[1], c[3], c[0]))
        .collect();
    let city_body = |pref: &str, name: &'static str| {
        cities.iter().find_map(|(p, city, code)| {
            let body = name.strip_prefix(city).filter(|b| !b.is_empty())?;
            (*p == pref).then_some((body, *code))
        })
    };
    let mut add = |name: &str, pref: &'static str, code: &'static str| {
        let key: String = fold(name).into_iter().collect();
        let entries = t.names.entry(key).or_default();
        if !entries.contains(&(pref, code)) {
            entries.push((pref, code));
        }
    };
    for c in &current {
        let (code, pref, name) = (c[0], c[1], c[3]);
        t.current.insert(&code[..5], code);
        add(name, pref, code);
        if let Some((body, city)) = city_body(pref, name) {
            if c[5] == "ward" {
                t.city_of.insert(&code[..5], city);
            }
            add(body, pref, code);
        }
    }
    for c in rows(MERGERS_CSV, 7) {
        let (old, name, new, new_city, rule) = (c[0], c[1], c[3], c[5], c[6]);
        let known = |code: &str| code.get(..5).is_some_and(|k| t.current.contains_key(k));
        if old.len() != 6 || !known(new) || !known(new_city) {
            continue;
        }
        let to = if rule.starts_with("successor") {
            new
        } else {
            new_city
        };
        let pref = &old[..2];
        t.former.insert(&old[..5], to);
        add(name, pref, to);
        if let Some((body, _)) = city_body(pref, name) {
            add(body, pref, to);
        }
    }
    t.longest = t.names.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    t
});

/// The current municipality code (6 digits) of an address: its stated code brought to the
/// current municipality, or, when it states none, the municipality its text names (see the
/// module docs). `None` when there is no code and the text names no municipality for certain.
pub fn municipality(code: Option<&str>, text: Option<&str>) -> Option<String> {
    let stated = code.map(super::digits).filter(|d| d.len() >= 5);
    match stated {
        Some(d) => Some(current_code(&d).map_or(d, str::to_owned)),
        None => text.and_then(from_text).map(str::to_owned),
    }
}

/// For a ward of a designated city (`111031` さいたま市大宮区), the city's code (`111007`);
/// `None` for any other code.
pub fn designated_city(code: &str) -> Option<&'static str> {
    TABLES.city_of.get(code.get(..5)?).copied()
}

/// The current code of a 5- or 6-digit code of a current or former municipality.
fn current_code(digits: &str) -> Option<&'static str> {
    if digits.len() > 6 {
        return None;
    }
    let key = digits.get(..5)?;
    TABLES
        .current
        .get(key)
        .or_else(|| TABLES.former.get(key))
        .copied()
}

/// The prefecture a text starts with (its code) and the rest of the text.
fn prefecture(s: &str) -> Option<(&'static str, &str)> {
    PREFECTURES_CSV.lines().skip(1).find_map(|line| {
        let mut cols = line.split(',');
        let (code, name) = (cols.next()?, cols.next()?);
        Some((code, s.strip_prefix(name)?))
    })
}

/// The longest name of a municipality at `chars[at..]`: its end and the name.
fn longest_name(chars: &[char], at: usize) -> Option<(usize, String)> {
    let rest = chars.get(at..)?;
    (1..=rest.len().min(TABLES.longest))
        .rev()
        .filter(|n| matches!(rest[n - 1], '市' | '町' | '村' | '区'))
        .map(|n| (at + n, rest[..n].iter().collect::<String>()))
        .find(|(_, name)| TABLES.names.contains_key(name))
}

/// The current code of the municipality a text names, when it names one for certain.
fn from_text(text: &str) -> Option<&'static str> {
    let cleaned: String = text
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect();
    let (pref, rest) = match prefecture(&cleaned) {
        Some((code, rest)) => (Some(code), rest),
        None => (None, cleaned.as_str()),
    };
    let chars = fold(rest);
    let first = longest_name(&chars, 0);
    let county = chars.iter().take(COUNTY_WITHIN).position(|c| *c == '郡');
    let (_, name) = match (first, county) {
        // The 郡 is part of the name (郡山市, 蒲郡市) or follows it (…市郡家町).
        (Some((end, name)), Some(g)) if end > g => (end, name),
        (Some((end, name)), Some(g)) if end == g => (end, name),
        // A county, or a name that is only the start of the county's (東村 in 東村山郡).
        (_, Some(g)) => longest_name(&chars, g + 1)?,
        (first, None) => first?,
    };
    let mut codes = TABLES.names[&name]
        .iter()
        .filter(|(p, _)| pref.is_none_or(|pref| pref == *p))
        .map(|(_, code)| *code);
    let code = codes.next()?;
    codes.all(|c| c == code).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Option<String> {
        municipality(None, Some(t))
    }

    #[test]
    fn tables_parse_whole() {
        let current = MUNICIPALITIES_CSV.lines().count() - 1;
        let former = MERGERS_CSV.lines().count() - 1;
        assert_eq!(TABLES.current.len(), current);
        assert_eq!(rows(MUNICIPALITIES_CSV, 7).count(), current);
        assert_eq!(rows(MERGERS_CSV, 7).count(), former);
        // Every former code maps to a current one, and no former code is a current one.
        assert_eq!(TABLES.former.len(), former);
        for (old, new) in &TABLES.former {
            assert!(!TABLES.current.contains_key(old), "{old}");
            assert_eq!(TABLES.current.get(&new[..5]), Some(new), "{old} → {new}");
        }
        // Every ward of a designated city (175) knows its city; Tokyo's special wards are not
        // wards of a city.
        assert_eq!(TABLES.city_of.len(), 175);
        assert_eq!(designated_city("111031"), Some("111007"));
        assert_eq!(designated_city("131016"), None);
        assert_eq!(designated_city("111007"), None);
    }

    #[test]
    fn former_name_maps_to_the_current_code() {
        // 女満別町 and 東藻琴村 became 大空町 (015644) in 2006.
        for t in [
            "北海道網走郡女満別町本通1丁目2番3号",
            "網走郡女満別町本通1-2-3",
            "女満別町本通1-2-3",
            "北海道 網走郡 東藻琴村 末広",
            "北海道網走郡大空町女満別本通1-2-3",
        ] {
            assert_eq!(text(t).as_deref(), Some("015644"), "{t}");
        }
        // 御前山村 → 常陸大宮市.
        assert_eq!(text("茨城県那珂郡御前山村野口").as_deref(), Some("082252"));
    }

    #[test]
    fn former_code_maps_to_the_current_code() {
        let code = |c: &str| municipality(Some(c), None);
        assert_eq!(code("015423").as_deref(), Some("015644"));
        assert_eq!(
            code("01542").as_deref(),
            Some("015644"),
            "without check digit"
        );
        assert_eq!(code("01542-3").as_deref(), Some("015644"));
        // The stated code wins over the text.
        assert_eq!(
            municipality(Some("015423"), Some("東京都千代田区千代田1-1-1")).as_deref(),
            Some("015644")
        );
        // Into a designated city: the city, unless the ward continues the old one by name.
        assert_eq!(
            code("112054").as_deref(),
            Some("111007"),
            "大宮市 → さいたま市"
        );
        assert_eq!(code("112135").as_deref(), Some("111104"), "岩槻市 → 岩槻区");
        // Current codes stay (the check digit restored); unknown codes are kept as stated.
        assert_eq!(code("015644").as_deref(), Some("015644"));
        assert_eq!(code("13101").as_deref(), Some("131016"));
        assert_eq!(code("999999").as_deref(), Some("999999"));
        assert_eq!(code("1234"), None);
    }

    #[test]
    fn ambiguous_names_map_only_with_their_prefecture() {
        // 大野町: a current town of 岐阜県 and a former one in several prefectures.
        assert_eq!(text("大野町1-2-3"), None);
        assert_eq!(text("揖斐郡大野町1-2-3"), None);
        assert_eq!(text("岐阜県揖斐郡大野町1-2-3").as_deref(), Some("214035"));
        assert_eq!(
            text("北海道亀田郡大野町1-2-3").as_deref(),
            Some("012360"),
            "→ 北斗市"
        );
        // Two current 泊村 in 北海道: no code even with the prefecture.
        assert_eq!(text("北海道古宇郡泊村"), None);
        // Wards written without their city.
        assert_eq!(text("北区梅田1-1-1"), None);
        assert_eq!(text("大阪府北区梅田1-1-1"), None, "大阪市北区 or 堺市北区");
        assert_eq!(text("東京都北区王子1-1-1").as_deref(), Some("131172"));
        assert_eq!(text("所在不明"), None);
    }

    #[test]
    fn names_read_longest_and_past_the_county() {
        assert_eq!(text("東京都東村山市本町1-1").as_deref(), Some("132136"));
        assert_eq!(text("山形県東村山郡山辺町1-1").as_deref(), Some("063011"));
        assert_eq!(text("福島県郡山市1-1").as_deref(), Some("072036"));
        assert_eq!(text("愛知県蒲郡市1-1").as_deref(), Some("232149"));
        assert_eq!(text("兵庫県赤穂郡上郡町1-1").as_deref(), Some("284815"));
        assert_eq!(text("埼玉県さいたま市大宮区1-1").as_deref(), Some("111031"));
        assert_eq!(text("埼玉県さいたま市").as_deref(), Some("111007"));
        assert_eq!(text("埼玉県大宮市1-1").as_deref(), Some("111007"));
        assert_eq!(text("千代田区千代田1-1-1").as_deref(), Some("131016"));
        // ケ/ヶ/が spelled either way.
        assert_eq!(
            text("埼玉県鶴ケ島市").as_deref(),
            text("埼玉県鶴ヶ島市").as_deref()
        );
        assert!(text("埼玉県鶴ヶ島市").is_some());
    }
}
